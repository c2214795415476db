// Package portal is the citizen portal (Cổng công dân) at /citizen/: a
// citizen signs in with the electronic ID (PIN and password, plus the
// authenticator code for level 2) and sees their own record, household and
// residence history, their cards, their electronic ID card (a signed
// credential shown as a QR code, level 2 only), their sign-in history, the
// consents they gave relying parties (and withdraws them), and who read
// their data. It also serves the public verification of electronic ID cards:
// a page at /citizen/verify and the API POST /api/v1/eid/credentials/verify.
//
// Pages are server-rendered on the kit web/page (templates parsed once per
// language, headers, errors, language, CSRF), in Vietnamese with an English
// switch, without inline scripts or styles, so a strict
// Content-Security-Policy holds. Every form carries a CSRF token. The
// package also draws the OpenID provider's sign-in, organisation and
// consent pages with the portal's look (SignInPages, signin.go).
//
// The package logs route patterns, statuses, fault codes and, for a
// failure of ours, its error chain: never a PIN, a name or a form value.
package portal

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/web/page"
)

//go:embed templates/*.html
var templateFS embed.FS

// Accounts is what the portal needs from the e-ID accounts (*eid.Service).
type Accounts interface {
	SignIn(ctx context.Context, in eid.SignInInput) (eid.Authentication, error)
	StartSession(ctx context.Context, auth eid.Authentication, ttl time.Duration) (string, eid.Session, error)
	Session(ctx context.Context, token string) (eid.Session, error)
	EndSession(ctx context.Context, token string) error
	Account(ctx context.Context, pin string) (eid.Account, error)
	SignIns(ctx context.Context, pin string, limit int) ([]eid.SignInRecord, error)
}

// Provider is what the portal needs from the OpenID provider
// (*oidcop.Provider): consents, and the signing key for the e-ID card.
type Provider interface {
	Consents(ctx context.Context, subject string) ([]oidcop.Consent, error)
	WithdrawConsent(ctx context.Context, subject, clientID string) error
	WithdrawConsentScope(ctx context.Context, subject, clientID, scope string) error
	SignCredential(ctx context.Context, typ string, claims any) (string, error)
	KeySet(ctx context.Context) (jose.JSONWebKeySet, error)
	Issuer() string
	Clients() *oidcop.Clients
}

// Register is what the portal reads from the population register
// (*registry.Service); every read is audited there.
type Register interface {
	Get(ctx context.Context, a actor.Actor, pin, purpose string) (registry.Person, error)
	Household(ctx context.Context, a actor.Actor, id string) (registry.Household, error)
	Residences(ctx context.Context, a actor.Actor, pin string) ([]registry.Residence, error)
}

// Cards reads a person's identity cards (*cardservice.Service).
type Cards interface {
	Cards(ctx context.Context, a actor.Actor, pin string) ([]cardservice.Card, []cardservice.HistoryEntry, error)
}

// AccessLog reads the audit entries about a subject, newest first
// (*audit.Log): the portal reads the log through its owner's API.
type AccessLog interface {
	BySubject(ctx context.Context, subject string, limit int) ([]audit.Entry, error)
}

// Deps are what the portal is built from.
type Deps struct {
	Accounts  Accounts
	Provider  Provider
	Register  Register
	Cards     Cards     // optional: without it "My data" shows no cards
	AccessLog AccessLog // the audit log, for "who accessed my data"
	Log       *slog.Logger
	Now       func() time.Time
	// SecureCookies marks cookies Secure (behind HTTPS).
	SecureCookies bool
	// SessionTTL is how long a sign-in lasts (30 min).
	SessionTTL time.Duration
	// CredentialTTL is the lifetime of an electronic ID card credential
	// (5 min): long enough to show at a counter, too short to be replayed
	// later as a stand-in for the citizen.
	CredentialTTL time.Duration
	// Partners names data-exchange partners, the fields they received and
	// their purposes on "who accessed my data" (optional).
	Partners AccessNotes
	// Stay takes household heads' guest reports and shows citizens their
	// temporary-residence offers (optional: without it no /citizen/stay).
	Stay StayHosts
}

// Portal serves the citizen portal.
type Portal struct {
	accounts   Accounts
	provider   Provider
	register   Register
	cards      Cards
	partners   AccessNotes
	stay       StayHosts
	accessLog  AccessLog
	log        *slog.Logger
	now        func() time.Time
	secure     bool
	sessionTTL time.Duration
	credTTL    time.Duration
	msgs       *page.Catalogue
	kit        *page.Kit
}

// New checks the dependencies and parses the templates once.
func New(d Deps) (*Portal, error) {
	if d.Accounts == nil || d.Provider == nil || d.Register == nil || d.AccessLog == nil {
		return nil, errors.New("portal: Accounts, Provider, Register and AccessLog are required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.SessionTTL <= 0 {
		d.SessionTTL = 30 * time.Minute
	}
	if d.CredentialTTL <= 0 {
		d.CredentialTTL = 5 * time.Minute
	}
	p := &Portal{accounts: d.Accounts, provider: d.Provider, register: d.Register, cards: d.Cards, partners: d.Partners, stay: d.Stay, accessLog: d.AccessLog,
		log: d.Log, now: d.Now, secure: d.SecureCookies, sessionTTL: d.SessionTTL, credTTL: d.CredentialTTL}
	kit, err := newKit(d.Log, d.SecureCookies)
	if err != nil {
		return nil, fmt.Errorf("portal: %w", err)
	}
	// The portal's error pages show the signed-in citizen's navigation.
	kit.ErrorPage = func(w http.ResponseWriter, r *http.Request, status int, _, titleID, text string) {
		s, _ := r.Context().Value(sessionKey{}).(*eid.Session)
		p.errorPage(w, r, s, status, titleID, text)
	}
	p.kit, p.msgs = kit, kit.Messages
	return p, nil
}

// Mount registers the portal's pages under /citizen/ and the verification
// API.
func (p *Portal) Mount(mux *http.ServeMux) {
	h := func(pattern string, fn http.HandlerFunc) { mux.Handle(pattern, p.headers(fn)) }
	s := func(pattern string, fn handler) { mux.Handle(pattern, p.headers(p.signedIn(fn))) }

	h("GET /citizen/{$}", p.home)
	h("GET /citizen/login", p.loginPage)
	h("POST /citizen/login", p.login)
	h("GET /citizen/lang", p.kit.SetLang("/citizen/"))
	h("GET /citizen/verify", p.verifyPage)
	h("POST /citizen/verify", p.verifySubmit)
	h("/citizen/", p.notFound)
	mux.HandleFunc("POST /api/v1/eid/credentials/verify", p.verifyAPI)

	s("POST /citizen/logout", p.logout)
	s("GET /citizen/me", p.myData)
	s("GET /citizen/ecard", p.ecard)
	s("GET /citizen/signins", p.signIns)
	s("GET /citizen/consents", p.consents)
	s("POST /citizen/consents/withdraw", p.withdraw)
	s("GET /citizen/access", p.access)
	p.mountAccount(mux) // passkeys, organisations (account.go)
	p.mountEnrol(mux)   // level-1 enrolment (enrol.go)
	p.mountStay(s)      // stay notification by a household head (stay.go)
}

// handler serves a signed-in citizen.
type handler func(w http.ResponseWriter, r *http.Request, s eid.Session)

const (
	sessionCookie = "citizen_session"
	csrfCookie    = "citizen_csrf" // double-submit token of the forms used before sign-in
	cookiePath    = "/citizen"
	maxForm       = 16 << 10
)

// headers sets the security headers of every portal response (page.Secure).
// Images may be data: URIs (the e-ID card's QR code is embedded in its
// page, so the credential never travels in a URL). No response is cached.
func (p *Portal) headers(next http.Handler) http.Handler {
	return page.Secure(page.Policy{ImgData: true}, maxForm, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	}))
}

// sessionKey carries the signed-in citizen's session in a request's
// context, for the error pages' navigation.
type sessionKey struct{}

// signedIn loads the citizen's session (sending the browser to the sign-in
// page without one) and checks the CSRF token of every POST.
func (p *Portal) signedIn(next handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var token string
		if c, err := r.Cookie(sessionCookie); err == nil {
			token = c.Value
		}
		sess, err := p.accounts.Session(r.Context(), token)
		if err != nil {
			if fault.As(err).Kind != fault.Unauthenticated {
				p.fail(w, r, err)
				return
			}
			target := "/citizen/login"
			if token != "" {
				target += "?expired=1"
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, &sess))
		if r.Method == http.MethodPost && !page.SameToken(csrfValue(r), sess.CSRF) {
			p.kit.Refused(r, http.StatusForbidden, "csrf")
			p.errorPage(w, r, &sess, http.StatusForbidden, "err.csrf.title", p.tr(r, "err.csrf.text"))
			return
		}
		next(w, r, sess)
	})
}

// self is the signed-in citizen as the register sees them when they read
// their own record. There is no citizen role in the register's scoping, and
// a citizen's commune is only known after reading the record, so the actor
// has national scope; what keeps it to the citizen's own data is that the
// portal only ever passes the session's PIN. The ID makes the reads show up
// in the audit log as the citizen's own.
func self(s eid.Session) actor.Actor {
	return actor.Actor{ID: "citizen:" + s.PIN, Name: "citizen", Role: actor.Role("citizen")}
}

// purposeSelf is the purpose of the citizen's own reads in the audit log.
const purposeSelf = "self-service"

// view is what every page template receives.
type view struct {
	Lang    string
	Title   string
	Nav     string
	Signed  bool
	Level2  bool
	CSRF    string
	LangURL string
	Flash   string
	Error   string
	Page    any
}

func (p *Portal) page(r *http.Request, s *eid.Session, titleKey, nav string) *view {
	l := page.Lang(r)
	v := &view{Lang: l, Title: p.msgs.T(l, titleKey), Nav: nav}
	here := "/citizen/"
	if r.Method == http.MethodGet {
		here = r.URL.Path
	}
	v.LangURL = page.SwitchURL("/citizen/lang", l, here)
	if s != nil {
		v.Signed, v.Level2, v.CSRF = true, s.Level >= eid.Level2, s.CSRF
	}
	return v
}

// render executes a template into a buffer (page.Kit.Render), so a
// template error becomes a clean error rather than half a page.
func (p *Portal) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	p.kit.Render(w, r, status, v.Lang, name, v)
}

func (p *Portal) errorPage(w http.ResponseWriter, r *http.Request, s *eid.Session, status int, titleKey, message string) {
	v := p.page(r, s, titleKey, "")
	v.Error = message
	v.Page = status
	p.render(w, r, status, "error.html", v)
}

// fail shows the page for an error of a domain module (page.Kit.Fail:
// problem.Status's status, a 5xx logged with its cause).
func (p *Portal) fail(w http.ResponseWriter, r *http.Request, err error) { p.kit.Fail(w, r, err) }

func (p *Portal) tr(r *http.Request, key string) string { return p.msgs.T(page.Lang(r), key) }

func (p *Portal) notFound(w http.ResponseWriter, r *http.Request) {
	p.errorPage(w, r, nil, http.StatusNotFound, "err.notfound.title", p.tr(r, "err.page_notfound.text"))
}

// clientIP is the peer address, for per-address throttling of sign-ins.
// Behind a load balancer the composition root must put the client address
// there (trusted-proxy handling is its job, as for the OpenID provider).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
