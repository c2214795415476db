// Package bundleweb is the web side of the inter-agency bundles (liên
// thông, internal/bundle): the citizen's pages under /citizen/bundles and
// their JSON API under /api/v1/bundles, the offers to confirm, and the
// agencies' list and decisions under /api/v1/agency/bundles.
package bundleweb

import (
	"context"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/bundle"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/web/auth"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
	"github.com/dancu-project/dancu/internal/web/page"
	"github.com/dancu-project/dancu/internal/web/problem"
)

// Citizens reads the portal's e-ID sessions (*eid.Service).
type Citizens interface {
	Session(ctx context.Context, token string) (eid.Session, error)
}

// Deps are what the handler is built from.
type Deps struct {
	Bundles       *bundle.Service
	Citizens      Citizens
	Staff         auth.Sessions
	Log           *slog.Logger
	Now           func() time.Time
	SecureCookies bool
}

// Handler serves the bundles' routes.
type Handler struct {
	d   Deps
	kit *page.Kit
}

//go:embed templates/*.html
var templateFS embed.FS

const (
	citizenCookie = "citizen_session"
	maxUpload     = 10 << 20
)

var (
	errSignIn = fault.New(fault.Unauthenticated, "auth.citizen_required", "Vui lòng đăng nhập bằng tài khoản định danh điện tử.", "Sign in with your electronic identity.")
	errCSRF   = fault.New(fault.Forbidden, "auth.csrf", "Thiếu hoặc sai mã chống giả mạo (CSRF).", "Missing or wrong CSRF token.")
	errFile   = fault.New(fault.Invalid, "upload.encoding", "Tệp đính kèm không đọc được.", "The attachment could not be read.")
)

// New builds the handler and parses its pages.
func New(d Deps) (*Handler, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	h := &Handler{d: d}
	msgs := page.NewCatalogue()
	if err := msgs.Register("bundle pages", messages); err != nil {
		return nil, err
	}
	tmpl, err := page.Parse(templateFS, func(l string) template.FuncMap {
		return template.FuncMap{
			"t":    func(id string) string { return msgs.T(l, id) },
			"home": func() string { return "/citizen/" },
			"civil": func(s string) string { // a stored YYYY-MM-DD as dd/mm/yyyy
				if p := strings.Split(s, "-"); len(p) == 3 {
					return p[2] + "/" + p[1] + "/" + p[0]
				}
				return s
			},
		}
	}, "templates/*.html")
	if err != nil {
		return nil, err
	}
	h.kit = &page.Kit{Templates: tmpl, Messages: msgs, Log: d.Log, SignIn: "/citizen/login", SecureCookies: d.SecureCookies}
	h.kit.ErrorPage = func(w http.ResponseWriter, r *http.Request, status int, lang, titleID, text string) {
		v := h.newView(r, nil, titleID)
		v.Lang, v.Title, v.Error = lang, msgs.T(lang, titleID), text
		h.kit.Render(w, r, status, lang, "error.html", v)
	}
	return h, nil
}

// Mount registers the routes.
func (h *Handler) Mount(mux *http.ServeMux) {
	api := func(p string, fn func(http.ResponseWriter, *http.Request) error) {
		mux.Handle(p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			if err := fn(w, r); err != nil {
				problem.Write(w, r, h.d.Log, err)
			}
		}))
	}
	cit := func(p string, fn func(http.ResponseWriter, *http.Request, eid.Session) error) {
		api(p, func(w http.ResponseWriter, r *http.Request) error {
			s, err := h.apiCitizen(r)
			if err != nil {
				return err
			}
			return fn(w, r, s)
		})
	}
	stf := func(p string, fn func(http.ResponseWriter, *http.Request, actor.Actor) error) {
		api(p, func(w http.ResponseWriter, r *http.Request) error {
			r, sess, err := auth.Load(r, h.d.Staff)
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="dancu"`)
				return err
			}
			return fn(w, r, sess.Account.Actor())
		})
	}
	cit("GET /api/v1/bundles", h.apiMine)
	cit("GET /api/v1/bundles/{code}", h.apiOne)
	cit("POST /api/v1/bundles/birth", h.apiBirth)
	cit("POST /api/v1/bundles/death", h.apiDeath)
	cit("GET /api/v1/bundle-offers", h.apiOffers)
	cit("POST /api/v1/bundle-offers/{id}/confirm", h.apiConfirm)
	stf("GET /api/v1/agency/bundles", h.apiAgency)
	stf("POST /api/v1/agency/bundles/{code}/steps/{step}/{decision}", h.apiDecide)
	stf("POST /api/v1/agency/bundles/birth", h.apiDeskBirth)
	stf("POST /api/v1/agency/bundles/death", h.apiDeskDeath)

	sec := func(fn http.HandlerFunc) http.Handler { return page.Secure(page.Policy{}, maxUpload+(1<<20), fn) }
	mux.Handle("GET /citizen/bundles", sec(h.signed(h.listPage)))
	mux.Handle("GET /citizen/bundles/new/birth", sec(h.signed(h.birthPage)))
	mux.Handle("POST /citizen/bundles/new/birth", sec(h.signed(h.birthSubmit)))
	mux.Handle("GET /citizen/bundles/new/death", sec(h.signed(h.deathPage)))
	mux.Handle("POST /citizen/bundles/new/death", sec(h.signed(h.deathSubmit)))
	mux.Handle("GET /citizen/bundles/{code}", sec(h.signed(h.onePage)))
	mux.Handle("POST /citizen/bundles/offers/{id}/confirm", sec(h.signed(h.confirmPage)))
}

// apiCitizen is the citizen of an API call: a bearer session token, or
// the portal's cookie with the X-CSRF-Token header on a POST.
func (h *Handler) apiCitizen(r *http.Request) (eid.Session, error) {
	token, cookie := "", false
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
		token = strings.TrimPrefix(a, "Bearer ")
	} else if c, err := r.Cookie(citizenCookie); err == nil {
		token, cookie = c.Value, true
	}
	if token == "" {
		return eid.Session{}, errSignIn
	}
	s, err := h.d.Citizens.Session(r.Context(), token)
	if err != nil {
		if fault.As(err).Kind == fault.Unauthenticated {
			return eid.Session{}, errSignIn
		}
		return eid.Session{}, err
	}
	if cookie && r.Method != http.MethodGet && (s.CSRF == "" || !page.SameToken(r.Header.Get("X-CSRF-Token"), s.CSRF)) {
		return eid.Session{}, errCSRF
	}
	return s, nil
}

func filer(s eid.Session) bundle.Filer { return bundle.Filer{PIN: s.PIN, Level: int(s.Level)} }

func (h *Handler) apiMine(w http.ResponseWriter, r *http.Request, s eid.Session) error {
	bs, err := h.d.Bundles.Mine(r.Context(), s.PIN)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"items": views(bs)})
}

func (h *Handler) apiOne(w http.ResponseWriter, r *http.Request, s eid.Session) error {
	b, err := h.d.Bundles.Get(r.Context(), s.PIN, r.PathValue("code"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, view(b))
}

// view hides the form's internal fields from the answer.
func view(b bundle.Bundle) bundle.Bundle {
	f := map[string]string{}
	for k, v := range b.Form {
		if k != "request_hash" {
			f[k] = v
		}
	}
	b.Form = f
	return b
}

func views(bs []bundle.Bundle) []bundle.Bundle {
	out := make([]bundle.Bundle, len(bs))
	for i, b := range bs {
		out[i] = view(b)
	}
	return out
}

type birthJSON struct {
	Relation       string `json:"relation"`
	ChildName      string `json:"child_name"`
	ChildBirthDate string `json:"child_birth_date"`
	ChildSex       string `json:"child_sex"`
	Birthplace     string `json:"birthplace"`
	Ethnicity      string `json:"ethnicity"`
	OtherParentPIN string `json:"other_parent_pin"`
	HeadPIN        string `json:"head_pin"`
	RelationToHead string `json:"relation_to_head"`
	// Certificate is the birth certificate's bytes in base64.
	Certificate string `json:"birth_certificate"`
}

func (h *Handler) apiBirth(w http.ResponseWriter, r *http.Request, s eid.Session) error {
	var in birthJSON
	if err := jsonbody.Decode(w, r, &in, maxUpload*4/3+(64<<10)); err != nil {
		return err
	}
	cert, err := base64.StdEncoding.DecodeString(in.Certificate)
	if err != nil {
		return errFile.WithField("birth_certificate")
	}
	b, err := h.d.Bundles.FileBirth(r.Context(), filer(s), bundle.BirthForm{Relation: in.Relation, ChildName: in.ChildName, ChildBirthDate: in.ChildBirthDate,
		ChildSex: in.ChildSex, Birthplace: in.Birthplace, Ethnicity: in.Ethnicity, OtherParentPIN: in.OtherParentPIN, HeadPIN: in.HeadPIN,
		Relation2Head: in.RelationToHead, Certificate: cert, CertificateName: "giay-chung-sinh", IdempotencyKey: r.Header.Get("Idempotency-Key")})
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusCreated, view(b))
}

type deathJSON struct {
	DeceasedPIN string `json:"deceased_pin"`
	DeathDate   string `json:"death_date"`
	DeathPlace  string `json:"death_place"`
	Cause       string `json:"cause"`
	Relation    string `json:"relation"`
	Notice      string `json:"death_notice"`
}

func (h *Handler) apiDeath(w http.ResponseWriter, r *http.Request, s eid.Session) error {
	var in deathJSON
	if err := jsonbody.Decode(w, r, &in, maxUpload*4/3+(64<<10)); err != nil {
		return err
	}
	notice, err := base64.StdEncoding.DecodeString(in.Notice)
	if err != nil {
		return errFile.WithField("death_notice")
	}
	b, err := h.d.Bundles.FileDeath(r.Context(), filer(s), bundle.DeathForm{DeceasedPIN: in.DeceasedPIN, DeathDate: in.DeathDate, DeathPlace: in.DeathPlace,
		Cause: in.Cause, Relation: in.Relation, Notice: notice, NoticeName: "giay-bao-tu", IdempotencyKey: r.Header.Get("Idempotency-Key")})
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusCreated, view(b))
}

func (h *Handler) apiOffers(w http.ResponseWriter, r *http.Request, s eid.Session) error {
	os, err := h.d.Bundles.Offers(r.Context(), s.PIN)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"items": os})
}

func (h *Handler) apiConfirm(w http.ResponseWriter, r *http.Request, s eid.Session) error {
	b, err := h.d.Bundles.Confirm(r.Context(), filer(s), r.PathValue("id"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusCreated, view(b))
}

func (h *Handler) apiAgency(w http.ResponseWriter, r *http.Request, a actor.Actor) error {
	bs, err := h.d.Bundles.ForUnit(r.Context(), a)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"items": views(bs)})
}

func (h *Handler) apiDecide(w http.ResponseWriter, r *http.Request, a actor.Actor) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := jsonbody.Decode(w, r, &in, 8<<10); err != nil {
			return err
		}
	}
	d := r.PathValue("decision")
	if d != "approve" && d != "refuse" {
		return bundle.ErrState
	}
	b, err := h.d.Bundles.Decide(r.Context(), a, r.PathValue("code"), r.PathValue("step"), d == "approve", in.Reason)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, view(b))
}

// view is what every bundle page template receives.
type pageView struct {
	Lang, Title, LangURL string
	CSRF                 string
	Flash, Error         string
	Page                 any
}

func (h *Handler) newView(r *http.Request, s *eid.Session, titleID string) *pageView {
	l := page.Lang(r)
	v := &pageView{Lang: l, Title: h.kit.Messages.T(l, titleID)}
	q := url.Values{}
	if r.Method == http.MethodGet {
		q = r.URL.Query()
	}
	q.Set("lang", page.Other(l))
	v.LangURL = r.URL.Path + "?" + q.Encode()
	if s != nil {
		v.CSRF = s.CSRF
	}
	return v
}

// signed serves a citizen's page: the session first (none: to sign-in),
// then, for a POST, the session's CSRF token in the form's csrf field.
func (h *Handler) signed(fn func(w http.ResponseWriter, r *http.Request, s eid.Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(citizenCookie)
		if err != nil || c.Value == "" {
			h.kit.Fail(w, r, errSignIn)
			return
		}
		s, err := h.d.Citizens.Session(r.Context(), c.Value)
		if err != nil {
			if fault.As(err).Kind == fault.Unauthenticated {
				err = errSignIn
			}
			h.kit.Fail(w, r, fmt.Errorf("bundle pages: session: %w", err))
			return
		}
		if r.Method == http.MethodPost {
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
				if err := r.ParseMultipartForm(maxUpload); err != nil {
					h.kit.Fail(w, r, errFile)
					return
				}
			}
			if !page.SameToken(r.PostFormValue("csrf"), s.CSRF) {
				h.kit.Refused(r, http.StatusForbidden, "csrf")
				h.kit.Fail(w, r, errCSRF)
				return
			}
		}
		fn(w, r, s)
	}
}

// Routes are the JSON routes Mount registers, for the OpenAPI document's
// test (the staff API's document, internal/web/api/openapi.json).
func Routes() []string {
	return []string{
		"GET /api/v1/bundles",
		"GET /api/v1/bundles/{code}",
		"POST /api/v1/bundles/birth",
		"POST /api/v1/bundles/death",
		"GET /api/v1/bundle-offers",
		"POST /api/v1/bundle-offers/{id}/confirm",
		"GET /api/v1/agency/bundles",
		"POST /api/v1/agency/bundles/{code}/steps/{step}/{decision}",
		"POST /api/v1/agency/bundles/birth",
		"POST /api/v1/agency/bundles/death",
	}
}

// apiDeskBirth files the birth bundle at the desk for a parent who came in
// person (filer_pin), with the same body as the citizen's.
func (h *Handler) apiDeskBirth(w http.ResponseWriter, r *http.Request, a actor.Actor) error {
	var in struct {
		FilerPIN string `json:"filer_pin"`
		birthJSON
	}
	if err := jsonbody.Decode(w, r, &in, maxUpload*4/3+(64<<10)); err != nil {
		return err
	}
	cert, err := base64.StdEncoding.DecodeString(in.Certificate)
	if err != nil {
		return errFile.WithField("birth_certificate")
	}
	b, err := h.d.Bundles.FileBirth(r.Context(), bundle.Filer{PIN: in.FilerPIN, Level: 2, Desk: &a}, bundle.BirthForm{Relation: in.Relation, ChildName: in.ChildName,
		ChildBirthDate: in.ChildBirthDate, ChildSex: in.ChildSex, Birthplace: in.Birthplace, Ethnicity: in.Ethnicity, OtherParentPIN: in.OtherParentPIN,
		HeadPIN: in.HeadPIN, Relation2Head: in.RelationToHead, Certificate: cert, CertificateName: "giay-chung-sinh", IdempotencyKey: r.Header.Get("Idempotency-Key")})
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusCreated, view(b))
}

// apiDeskDeath files the death bundle at the desk for a relative.
func (h *Handler) apiDeskDeath(w http.ResponseWriter, r *http.Request, a actor.Actor) error {
	var in struct {
		FilerPIN string `json:"filer_pin"`
		deathJSON
	}
	if err := jsonbody.Decode(w, r, &in, maxUpload*4/3+(64<<10)); err != nil {
		return err
	}
	notice, err := base64.StdEncoding.DecodeString(in.Notice)
	if err != nil {
		return errFile.WithField("death_notice")
	}
	b, err := h.d.Bundles.FileDeath(r.Context(), bundle.Filer{PIN: in.FilerPIN, Level: 2, Desk: &a}, bundle.DeathForm{DeceasedPIN: in.DeceasedPIN, DeathDate: in.DeathDate,
		DeathPlace: in.DeathPlace, Cause: in.Cause, Relation: in.Relation, Notice: notice, NoticeName: "giay-bao-tu", IdempotencyKey: r.Header.Get("Idempotency-Key")})
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusCreated, view(b))
}
