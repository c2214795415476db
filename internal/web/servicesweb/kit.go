package servicesweb

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/web/page"
)

// The services pages are built on the page kit: templates parsed once per
// language from templates/, texts from messages, the kit's headers, error
// pages and CSRF rule. The public pages (/procedures, /track) need no
// sign-in; the citizen's pages live under /citizen/, where the portal's
// e-ID session cookie is sent, and every form there carries the session's
// CSRF token.

//go:embed templates/*.html
var templateFS embed.FS

// newKit registers the messages and parses the templates.
func newKit(h *Handler) (*page.Kit, error) {
	msgs := page.NewCatalogue()
	if err := msgs.Register("services pages", messages); err != nil {
		return nil, err
	}
	tmpl, err := page.Parse(templateFS, func(l string) template.FuncMap { return pageFuncs(msgs, l) }, "templates/*.html")
	if err != nil {
		return nil, err
	}
	k := &page.Kit{Templates: tmpl, Messages: msgs, Log: h.Log, SignIn: "/citizen/login", SecureCookies: h.SecureCookies}
	k.ErrorPage = func(w http.ResponseWriter, r *http.Request, status int, lang, titleID, text string) {
		v := h.newView(r, nil, titleID)
		v.Lang, v.Title, v.Error = lang, msgs.T(lang, titleID), text
		k.Render(w, r, status, lang, "error.html", v)
	}
	return k, nil
}

// pageFuncs are the services pages' template functions in language l.
func pageFuncs(msgs *page.Catalogue, l string) template.FuncMap {
	tr := func(id string) string { return msgs.T(l, id) }
	return template.FuncMap{
		"t":      tr,
		"home":   func() string { return "/procedures" },
		"in":     func(t services.Text) string { return t.In(l) },
		"status": func(s services.Status) string { return tr("status." + string(s)) },
		"fee": func(v int64) string {
			if v == 0 {
				return tr("fee.none")
			}
			return vnd(v) + " " + tr("fee.vnd")
		},
		"esc": url.PathEscape,
	}
}

// vnd writes an amount with the dot as thousands separator (7.000).
func vnd(v int64) string {
	s := strconv.FormatInt(v, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// view is what every services page template receives.
type view struct {
	Lang, Title, LangURL string
	Nav                  string
	Signed               bool
	CSRF                 string
	Flash, Error         string
	Page                 any
}

func (h *Handler) newView(r *http.Request, s *eid.Session, titleID string) *view {
	l := page.Lang(r)
	v := &view{Lang: l, Title: h.kit.Messages.T(l, titleID)}
	q := url.Values{}
	path := r.URL.Path
	if r.Method == http.MethodGet {
		q = r.URL.Query()
	}
	q.Set("lang", page.Other(l))
	v.LangURL = path + "?" + q.Encode()
	if s != nil {
		v.Signed, v.CSRF = true, s.CSRF
	}
	return v
}

func (h *Handler) renderPage(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	h.kit.Render(w, r, status, v.Lang, name, v)
}

// session is the citizen's e-ID session from the portal's cookie, or an
// unauthenticated fault (the kit sends the browser to sign in).
func (h *Handler) session(r *http.Request) (eid.Session, error) {
	c, err := r.Cookie(citizenCookie)
	if err != nil || c.Value == "" {
		return eid.Session{}, errSignIn
	}
	s, err := h.Citizens.Session(r.Context(), c.Value)
	if err != nil {
		if fault.As(err).Kind == fault.Unauthenticated {
			return eid.Session{}, errSignIn
		}
		return eid.Session{}, fmt.Errorf("services pages: session: %w", err)
	}
	return s, nil
}

// signed serves a citizen's page: the session first (none: to sign-in),
// then, for a POST, the session's CSRF token in the form's csrf field.
func (h *Handler) signed(fn func(w http.ResponseWriter, r *http.Request, s eid.Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := h.session(r)
		if err != nil {
			h.kit.Fail(w, r, err)
			return
		}
		if r.Method == http.MethodPost {
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
				if err := r.ParseMultipartForm(parseMemory); err != nil {
					h.kit.Fail(w, r, errForm.Wrap(err))
					return
				}
			}
			if !page.SameToken(r.PostFormValue("csrf"), s.CSRF) {
				h.kit.Refused(r, http.StatusForbidden, "csrf")
				v := h.newView(r, &s, "err.csrf.title")
				v.Error = h.kit.Messages.T(v.Lang, "err.csrf.text")
				h.renderPage(w, r, http.StatusForbidden, "error.html", v)
				return
			}
		}
		fn(w, r, s)
	}
}

var errForm = fault.New(fault.Invalid, "form.unreadable", "Không đọc được biểu mẫu gửi lên (có thể tệp quá lớn).", "The form sent could not be read (a file may be too large).")

func filer(s eid.Session) services.Filer { return services.Filer{PIN: s.PIN, Level: int(s.Level)} }
