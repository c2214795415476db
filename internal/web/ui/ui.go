// Package ui is the registrars' web interface: server-rendered HTML pages
// (html/template, embedded templates and stylesheet; every page works
// without JavaScript, which only improves the staff page's unit picker) to sign
// in, search the register, read a person's record with its household and
// history, and register births, deaths and moves.
//
// The pages are built on the kit web/page (headers, templates, errors,
// language, CSRF). They are in Vietnamese unless the user chose English
// (page.Lang). Every string shown goes through the catalogue registered
// from messages.go, admin_messages.go and admin_staff.go; domain faults
// show their own Vietnamese (or English) message.
//
// The package logs only what it may: the route pattern, the HTTP status,
// the fault code and, for a failure of ours, its error chain (page.Kit.Fail,
// as problem.Write does). Names, PINs and form values never reach the log.
package ui

import (
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/reconcile"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/stats"
	"github.com/dancu-project/dancu/internal/stay"
	"github.com/dancu-project/dancu/internal/web/auth"
	"github.com/dancu-project/dancu/internal/web/page"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Deps are what the pages need.
type Deps struct {
	Registry      *registry.Service
	Cards         *cardservice.Service // optional: without it the card pages are not mounted
	Reconcile     *reconcile.Service   // optional: without it the data-cleaning pages are not mounted
	Orgs          OrgRegistrar         // optional: without it the organisation page is not mounted (orgs.go)
	EID           EIDDesk              // optional: without it the e-ID desk pages are not mounted (eid.go)
	Admin         AdminDeps            // optional: without Clients the administration pages are not mounted (admin.go)
	Sectors       SectorReader         // optional: without it the person page lists no sector identifiers
	Stats         *stats.Service       // optional: without it the dashboards are not mounted (dashboard.go)
	Stay          *stay.Service        // optional: without it the guests page is not mounted (stay.go)
	Staff         *staff.Store
	Units         *adminunit.Catalog
	Log           *slog.Logger
	Now           func() time.Time
	SecureCookies bool
}

// UI serves the registrars' pages.
type UI struct {
	reg   *registry.Service
	cards *cardservice.Service
	recon *reconcile.Service
	orgs  OrgRegistrar
	eid   EIDDesk
	admin AdminDeps
	// sectors reads the identifiers partners linked to a person.
	sectors SectorReader
	stats   *stats.Service // the leaders' indicators (dashboard.go)
	stay    *stay.Service  // guests reported by hosts (stay.go)
	staff   *staff.Store
	units   *adminunit.Catalog
	log     *slog.Logger
	now     func() time.Time
	secure  bool
	msgs    *page.Catalogue
	kit     *page.Kit
	static  http.Handler
}

// New checks the dependencies and parses the embedded templates once.
func New(d Deps) (*UI, error) {
	if d.Registry == nil || d.Staff == nil || d.Units == nil {
		return nil, errors.New("ui: Registry, Staff and Units are required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	u := &UI{reg: d.Registry, cards: d.Cards, recon: d.Reconcile, orgs: d.Orgs, eid: d.EID, admin: d.Admin, sectors: d.Sectors, stats: d.Stats, stay: d.Stay, staff: d.Staff, units: d.Units, log: d.Log, now: d.Now, secure: d.SecureCookies,
		msgs: page.NewCatalogue()}
	for _, part := range []struct {
		name string
		msgs page.Messages
	}{{"staff pages", messages}, {"administration pages", adminMessages}, {"staff accounts page", staffAdminMessages}, {"e-ID desk pages", eidMessages}, {"dashboards", dashboardMessages}, {"guests page", stayMessages}, {"lodgings page", stayAdminMessages}} {
		if err := u.msgs.Register("ui: "+part.name, part.msgs); err != nil {
			return nil, err
		}
	}
	tmpl, err := page.Parse(templateFS, u.funcs, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	u.kit = &page.Kit{Templates: tmpl, Messages: u.msgs, Log: d.Log, SignIn: "/login", SecureCookies: d.SecureCookies,
		ErrorPage: func(w http.ResponseWriter, r *http.Request, status int, _, titleID, text string) {
			u.errorPage(w, r, nil, status, titleID, text)
		}}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("ui: static files: %w", err)
	}
	u.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	return u, nil
}

// Mount registers the pages on mux.
func (u *UI) Mount(mux *http.ServeMux) {
	h := func(pattern string, fn http.HandlerFunc) { mux.Handle(pattern, u.headers(fn)) }
	s := func(pattern string, fn handler) { mux.Handle(pattern, u.headers(u.signedIn(fn))) }
	// Large uploads: a body of up to maxUpload, streamed (signedInStream).
	up := func(pattern string, fn streamHandler) {
		mux.Handle(pattern, u.headersMax(maxUpload, u.signedInStream(fn)))
	}

	h("GET /static/", u.serveStatic)
	h("GET /login", u.loginPage)
	h("POST /login", u.login)
	h("GET /lang", u.kit.SetLang("/"))

	s("POST /logout", u.logout)
	s("GET /password", u.passwordForm)
	s("POST /password", u.passwordSubmit)
	s("GET /{$}", u.home)
	s("GET /persons", u.search)
	s("GET /persons/{pin}", u.person)
	s("GET /households/{id}", u.household)
	s("GET /departures", u.departures)
	s("GET /births/new", u.registrar(u.birthForm))
	s("POST /births", u.registrar(u.birthSubmit))
	s("GET /deaths/new", u.registrar(u.deathForm))
	s("POST /deaths", u.registrar(u.deathSubmit))
	s("GET /moves/new", u.registrar(u.moveForm))
	s("POST /moves", u.registrar(u.moveSubmit))
	s("GET /marriages/new", u.registrar(u.marriageForm))
	s("POST /marriages", u.registrar(u.marriageSubmit))
	s("GET /divorces/new", u.registrar(u.divorceForm))
	s("POST /divorces", u.registrar(u.divorceSubmit))
	s("GET /temporary-residences/new", u.registrar(u.temporaryForm))
	s("POST /temporary-residences", u.registrar(u.temporarySubmit))
	if u.cards != nil {
		u.mountCards(s)
	}
	if u.recon != nil {
		u.mountReconcile(s, up)
	}
	if u.orgs != nil {
		u.mountOrgs(s)
	}
	if u.eid != nil {
		u.mountEID(mux)
	}
	if u.admin.Clients != nil {
		u.mountAdmin(s)
	}
	if u.stats != nil {
		u.mountDashboard(mux, s)
	}
	if u.stay != nil {
		s("GET /stay", u.stayGuests)
		if u.admin.Clients != nil {
			u.mountStayAdmin(s)
		}
	}
}

// NotFound answers with the "page not found" page; the composition root may
// route unknown paths here.
func (u *UI) NotFound(w http.ResponseWriter, r *http.Request) {
	u.headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.errorPage(w, r, nil, http.StatusNotFound, "err.page_notfound.title", u.tr(page.Lang(r), "err.page_notfound.text"))
	})).ServeHTTP(w, r)
}

// handler serves a signed-in staff member.
type handler func(w http.ResponseWriter, r *http.Request, s staff.Session)

// maxForm bounds a form body; the largest form is a few kilobytes.
const maxForm = 64 << 10

// maxUpload bounds the body of an upload route (a partner's dataset), as
// the partner API does.
const maxUpload = reconcile.MaxUpload

// headers sets the security headers every response carries.
func (u *UI) headers(next http.Handler) http.Handler { return u.headersMax(maxForm, next) }

// headersMax is headers with POST bodies bounded by limit.
func (u *UI) headersMax(limit int64, next http.Handler) http.Handler {
	return page.Secure(page.Policy{}, limit, next)
}

// signedIn loads the staff session, sending the browser to the sign-in page
// when there is none, and checks the CSRF token of every POST.
func (u *UI) signedIn(next handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2, sess, ok := u.session(w, r)
		if !ok {
			return
		}
		if !auth.CSRFOK(r2) {
			u.refuseCSRF(w, r2, sess)
			return
		}
		next(w, r2, sess)
	})
}

// session loads the staff session; without one it answers (the sign-in
// page, or the error) and reports false.
func (u *UI) session(w http.ResponseWriter, r *http.Request) (*http.Request, staff.Session, bool) {
	r2, sess, err := auth.Load(r, u.staff)
	if err == nil {
		// A password an administrator set is changed before anything
		// else, on every signed-in route (signedIn, signedInStream).
		if sess.Account.MustChangePassword && !passwordChangeAllowed(r2) {
			http.Redirect(w, r2, "/password", http.StatusSeeOther)
			return r2, sess, false
		}
		return r2, sess, true
	}
	f := fault.As(err)
	if f.Kind != fault.Unauthenticated {
		u.fail(w, r, err)
		return r, sess, false
	}
	q := url.Values{}
	next := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		next = "/"
	}
	if next != "/" {
		q.Set("next", next)
	}
	if errors.Is(err, staff.ErrSessionExpired) {
		q.Set("expired", "1")
	}
	target := "/login"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return r, sess, false
}

func (u *UI) refuseCSRF(w http.ResponseWriter, r *http.Request, sess staff.Session) {
	u.kit.Refused(r, http.StatusForbidden, "csrf")
	u.errorPage(w, r, &sess, http.StatusForbidden, "err.csrf.title", u.tr(page.Lang(r), "err.csrf.text"))
}

// streamHandler serves a signed-in staff member's multipart upload, read
// part by part from mr (the CSRF part already consumed).
type streamHandler func(w http.ResponseWriter, r *http.Request, s staff.Session, mr *multipart.Reader)

// maxCSRFPart bounds the CSRF part of an upload (the token is 43 bytes).
const maxCSRFPart = 256

// signedInStream is signedIn for a multipart/form-data POST whose file may
// be far larger than memory. signedIn cannot check its CSRF token:
// auth.CSRFOK reads the token with PostFormValue, which parses the whole
// multipart body (buffering the file in memory and temporary files) before
// the handler runs. Here the token is the body's first part instead, read
// with multipart.Reader, and the handler then reads the remaining parts as
// a stream, the file last. Chosen over a token in the URL query because a
// URL is kept in browser history and proxy and server access logs, and it
// needs no script: browsers send a form's parts in document order, so the
// hidden csrf input first in the form is the first part. A request with a
// valid X-CSRF-Token header, or signed in with a bearer token (which
// another site cannot forge), needs no such part; a csrf part the handler
// meets later is for it to skip.
func (u *UI) signedInStream(next streamHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2, sess, ok := u.session(w, r)
		if !ok {
			return
		}
		mr, err := r2.MultipartReader()
		if err != nil {
			u.kit.Refused(r2, http.StatusBadRequest, "multipart")
			u.errorPage(w, r2, &sess, http.StatusBadRequest, "err.invalid.title", u.tr(page.Lang(r2), "err.badform"))
			return
		}
		_, viaCookie := auth.Token(r2)
		// With a header, CSRFOK compares it and never reads the body.
		ok = !viaCookie || r2.Header.Get("X-CSRF-Token") != "" && auth.CSRFOK(r2)
		if !ok {
			ok = csrfPart(mr, sess.CSRF)
		}
		if !ok {
			u.refuseCSRF(w, r2, sess)
			return
		}
		next(w, r2, sess, mr)
	})
}

// csrfPart reads the first part of a multipart body and reports whether it
// is the csrf field carrying token.
func csrfPart(mr *multipart.Reader, token string) bool {
	p, err := mr.NextPart()
	if err != nil || p.FormName() != auth.CSRFField || p.FileName() != "" {
		return false
	}
	got, err := io.ReadAll(io.LimitReader(p, maxCSRFPart))
	return err == nil && len(got) > 0 && token != "" && subtle.ConstantTimeCompare(got, []byte(token)) == 1
}

// registrar refuses the registration forms to staff who may not register.
func (u *UI) registrar(next handler) handler {
	return func(w http.ResponseWriter, r *http.Request, s staff.Session) {
		if !s.Account.Actor().CanRegister() {
			u.fail(w, r, fault.ErrForbidden)
			return
		}
		next(w, r, s)
	}
}

func (u *UI) serveStatic(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/") { // no directory listings
		u.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	u.static.ServeHTTP(w, r)
}

// view is what every page template receives.
type view struct {
	Lang    string
	Title   string
	Nav     string // the navigation entry of the page
	User    *userView
	CSRF    string
	LangURL string // switches the language and comes back here
	Flash   string
	Summary []summaryItem
	Form    *form
	Page    any
}

type userView struct {
	Name, Username, Role, Unit string
	CanRegister                bool
	Reconcile                  bool // the data-cleaning pages are mounted
	EIDDesk                    bool // the e-ID desk pages are mounted and the role does the desk's acts
	Admin                      bool // an administrator, and the administration pages are mounted
	Dashboard                  bool // the dashboards are mounted and the role reads them
	Stay                       bool // the guests page is mounted and the role does the desk's acts
	Dossiers                   bool // the role does the desk's acts: the one-stop desk's dossiers (deskweb)
}

type summaryItem struct {
	Field, Message string
}

// page starts a view for r. here is the address the language switch comes
// back to; "" means the request's own, or the home page after a POST.
func (u *UI) page(r *http.Request, s *staff.Session, titleKey, here string) *view {
	l := page.Lang(r)
	v := &view{Lang: l, Title: u.tr(l, titleKey)}
	if here == "" {
		here = "/"
		if r.Method == http.MethodGet {
			here = r.URL.RequestURI()
		}
	}
	v.LangURL = page.SwitchURL("/lang", l, here)
	if s != nil {
		a := s.Account.Actor()
		v.CSRF = s.CSRF
		v.User = &userView{Name: a.Name, Username: a.Label(), Role: u.tr(l, "role."+string(a.Role)),
			Unit: u.unitName(l, a.Unit), CanRegister: a.CanRegister(), Reconcile: u.recon != nil, EIDDesk: u.eid != nil && a.Can(actor.DeskActs),
			Admin: a.Can(actor.ManageStaff) && u.admin.Clients != nil, Dashboard: u.stats != nil && a.Can(actor.ReadDashboards), Stay: u.stay != nil && a.Can(actor.DeskActs),
			Dossiers: a.Can(actor.DeskActs)}
	}
	return v
}

// render executes a page template into a buffer (page.Kit.Render), so a
// template error becomes a clean 500 page rather than half a page.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	u.kit.Render(w, r, status, v.Lang, name, v)
}

// errorPage shows a page with a title and one message.
func (u *UI) errorPage(w http.ResponseWriter, r *http.Request, s *staff.Session, status int, titleKey, message string) {
	if s == nil {
		if sess, ok := auth.From(r.Context()); ok {
			s = &sess
		}
	}
	v := u.page(r, s, titleKey, "")
	v.Page = struct {
		Status  int
		Message string
	}{status, message}
	u.render(w, r, status, "error", v)
}

// fail shows the page for an error from a domain module (page.Kit.Fail:
// problem.Status's status, one logging rule).
func (u *UI) fail(w http.ResponseWriter, r *http.Request, err error) { u.kit.Fail(w, r, err) }

// unitName names a staff scope for display.
func (u *UI) unitName(l, unit string) string {
	now := u.now()
	switch len(unit) {
	case 0:
		return u.tr(l, "unit.national")
	case 2:
		if p, err := u.units.Province(unit, now); err == nil {
			return p.Name
		}
	default:
		if path := u.units.Path(unit, now); path != "" {
			return path
		}
	}
	return unit
}

// actorOf is the signed-in staff member as the register sees them.
func actorOf(s staff.Session) actor.Actor { return s.Account.Actor() }
