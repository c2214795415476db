package portal

import (
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/throttle"
	"github.com/dancu-project/dancu/internal/web/page"
	"github.com/dancu-project/dancu/internal/web/problem"
)

// SignInPages draws the OpenID provider's pages (oidcop.Pages): sign-in,
// organisation choice and consent, with the portal's look (its layout and
// stylesheet), in Vietnamese or English (the relying party's ui_locales
// unless the citizen chose, see page.Lang), with the portal's
// accessibility (labels, the page's lang, skip link and focusable main,
// the error summary). The composition root builds it and passes it to the
// provider, which imports no web package.
type SignInPages struct {
	kit *page.Kit
}

var _ oidcop.Pages = (*SignInPages)(nil)

// NewSignInPages parses the pages once per language.
func NewSignInPages(log *slog.Logger, secureCookies bool) (*SignInPages, error) {
	kit, err := newKit(log, secureCookies)
	if err != nil {
		return nil, err
	}
	return &SignInPages{kit: kit}, nil
}

// newKit is the portal's page kit: its catalogue (the portal's, the
// account pages' and the provider pages' texts) and its templates.
func newKit(log *slog.Logger, secureCookies bool) (*page.Kit, error) {
	msgs := page.NewCatalogue()
	for _, part := range []struct {
		name string
		msgs page.Messages
	}{{"portal", messages}, {"account pages", accountMessages}, {"sign-in pages", oidcMessages}, {"enrolment pages", enrolMessages}, {"stay pages", stayMessages}} {
		if err := msgs.Register("portal: "+part.name, part.msgs); err != nil {
			return nil, err
		}
	}
	tmpl, err := page.Parse(templateFS, func(l string) template.FuncMap {
		return funcs(msgs, l)
	}, "templates/*.html")
	if err != nil {
		return nil, err
	}
	k := &page.Kit{Templates: tmpl, Messages: msgs, Log: log, SignIn: "/citizen/login", SecureCookies: secureCookies}
	k.ErrorPage = func(w http.ResponseWriter, r *http.Request, status int, lang, titleID, text string) {
		v := &view{Lang: lang, Title: msgs.T(lang, titleID), Error: text, Page: status, LangURL: langSwitch(r, lang)}
		k.Render(w, r, status, lang, "error.html", v)
	}
	return k, nil
}

// langSwitch is the address of the same page in the other language: the
// request's own with ?lang= (page.Lang reads it and the kit remembers
// it), or the sign-in page of the request after a POST.
func langSwitch(r *http.Request, l string) string {
	q := r.URL.Query()
	// The path as the browser sent it: the provider's handlers see it with
	// the issuer's prefix stripped.
	path := r.URL.Path
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		path = u.Path
	}
	if r.Method != http.MethodGet {
		q = url.Values{}
		if id := r.PostFormValue("authRequestID"); id != "" {
			q.Set("authRequestID", id)
		}
	}
	q.Set("lang", page.Other(l))
	return path + "?" + q.Encode()
}

// start sets the headers of a provider page and its view.
func (s *SignInPages) start(w http.ResponseWriter, r *http.Request, titleID string, pg oidcop.Page) *view {
	page.Policy{FormTargets: pg.FormTargets, NoReferrer: true}.Set(w.Header())
	l := page.Lang(r, pg.Locales...)
	return &view{Lang: l, Title: s.kit.Messages.T(l, titleID), LangURL: langSwitch(r, l)}
}

// SignIn draws the sign-in form; a fault in p.Error is shown in the error
// summary and decides the status (problem.Status: 401 bad credentials,
// 403 a level or account refused, 429 throttled).
func (s *SignInPages) SignIn(w http.ResponseWriter, r *http.Request, p oidcop.SignInPage) {
	v := s.start(w, r, "oidc.login.title", p.Page)
	v.Page = p
	status := http.StatusOK
	if p.Error != nil {
		f := page.Worst(fault.Faults(p.Error))
		status = problem.Status(f.Kind)
		if d, ok := throttle.RetryAfter(p.Error); ok { // 429 auth.busy
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
		}
		s.kit.Refused(r, status, f.Code)
		v.Error = page.FaultText(v.Lang, f)
	}
	s.kit.Render(w, r, status, v.Lang, "oidc_login.html", v)
}

// Org draws the chooser of whom the citizen signs in as.
func (s *SignInPages) Org(w http.ResponseWriter, r *http.Request, p oidcop.OrgPage) {
	v := s.start(w, r, "oidc.org.title", p.Page)
	v.Page = p
	s.kit.Render(w, r, http.StatusOK, v.Lang, "oidc_org.html", v)
}

// consentPageView is the consent page: the data asked, in the page's
// language, field by field.
type consentPageView struct {
	oidcop.ConsentPage
	Claims []string
	Items  []consentItem
}

// consentItem is one field (a scope) on the consent page: the data it
// releases, and whether the citizen may untick it.
type consentItem struct {
	Scope    string
	Claims   []string
	Optional bool
}

// Consent draws the consent form, listing each field asked with the data
// it releases: required ones as such, optional ones with a ticked box the
// citizen may untick.
func (s *SignInPages) Consent(w http.ResponseWriter, r *http.Request, p oidcop.ConsentPage) {
	v := s.start(w, r, "oidc.consent.title", p.Page)
	cv := consentPageView{ConsentPage: p}
	for _, sc := range p.Scopes {
		it := consentItem{Scope: sc, Optional: slices.Contains(p.Optional, sc)}
		ids, ok := scopeClaims[sc]
		if !ok {
			it.Claims = append(it.Claims, sc)
		}
		for _, id := range ids {
			it.Claims = append(it.Claims, s.kit.Messages.T(v.Lang, id))
		}
		cv.Claims = append(cv.Claims, it.Claims...)
		cv.Items = append(cv.Items, it)
	}
	v.Page = cv
	s.kit.Render(w, r, http.StatusOK, v.Lang, "oidc_consent.html", v)
}

// Fail answers a step that cannot go on (page.Kit.Fail: problem.Status's
// status, a 5xx logged with its cause).
func (s *SignInPages) Fail(w http.ResponseWriter, r *http.Request, err error, p oidcop.Page) {
	page.Policy{FormTargets: p.FormTargets, NoReferrer: true}.Set(w.Header())
	s.kit.Fail(w, r, err, p.Locales...)
}

// ScriptFail answers a failed call of the sign-in page's passkey script
// (page.Kit.ScriptFail, as the portal's own script calls).
func (s *SignInPages) ScriptFail(w http.ResponseWriter, r *http.Request, err error, p oidcop.Page) {
	s.kit.ScriptFail(w, r, err, p.Locales...)
}
