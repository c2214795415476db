package oidcop

import (
	"net/http"
	"net/url"

	"github.com/dancu-project/dancu/internal/fault"
)

// Pages draws the provider's HTML pages: the sign-in form, the chooser of
// the organisation a citizen acts for, the consent form, and the page of a
// request that cannot go on. The provider decides what a page is about
// (which request, which relying party, which fault); how it looks, in which
// language and with which security headers is the web layer's. The
// provider is the protocol layer and imports no web package (DESIGN:
// web → domain): web/portal implements Pages with the citizen portal's
// look and kit (web/page), and the composition root passes it in Deps.
type Pages interface {
	// SignIn draws the sign-in form; p.Error, when set, is shown above it
	// and its fault kind decides the status (problem.Status).
	SignIn(w http.ResponseWriter, r *http.Request, p SignInPage)
	// Org draws the chooser of whom the citizen signs in as.
	Org(w http.ResponseWriter, r *http.Request, p OrgPage)
	// Consent draws the consent form.
	Consent(w http.ResponseWriter, r *http.Request, p ConsentPage)
	// Fail answers a request that cannot go on: err is a fault to show
	// (ErrBadRequest for an unknown, finished or forged request) or an
	// internal error, to be logged and not shown. p says what is known of
	// the request (its ui_locales, the relying party's origins).
	Fail(w http.ResponseWriter, r *http.Request, err error, p Page)
	// ScriptFail answers a call of the sign-in page's passkey script that
	// failed: JSON {"error": message, "code": code} with the fault's
	// status, in the page's language; a failure of ours is logged.
	ScriptFail(w http.ResponseWriter, r *http.Request, err error, p Page)
}

// Page is what every page of the provider carries.
type Page struct {
	// Prefix is the provider's path (the issuer's): its forms post under it.
	Prefix string
	// RequestID is the authorization request the page is about ("" when
	// none could be loaded: the page then offers no form).
	RequestID string
	// CSRF is the double-submit token the forms carry.
	CSRF string
	// Client is the relying party's name.
	Client string
	// Locales are the request's ui_locales, preferred first.
	Locales []string
	// FormTargets are the origins of the client's redirect URIs: browsers
	// apply the CSP form-action to the redirects that follow a form post,
	// so without them the way back to the relying party is blocked.
	FormTargets []string
	// Error is shown above the form; its kind decides the status.
	Error error
}

// SignInPage is the sign-in form.
type SignInPage struct {
	Page
	PIN      string // sent back after a failed attempt
	Level2   bool   // the client needs level 2 (an authenticator code)
	Passkeys bool   // offer a passkey sign-in (passkey_login.go)
	// StepUp: the browser's session signed in with the password at level
	// 1 and this client needs level 2; the form asks the authenticator
	// code only (posting step_up=1), or a full sign-in as someone else.
	StepUp bool
}

// OrgPage is the chooser of whom the citizen signs in as.
type OrgPage struct {
	Page
	Choices []OrgChoice
}

// OrgChoice is one organisation the citizen may act for.
type OrgChoice struct {
	ID, Name, Code string
	Role           string // eid.Role*: the page words it
}

// ConsentPage is the consent form.
type ConsentPage struct {
	Page
	Purpose string
	// Scopes are the scopes asked that release data (ScopeProfile, …):
	// the page lists the data each releases.
	Scopes []string
	// Optional are the scopes the citizen may untick (the client's
	// OptionalScopes): the form posts the ticked ones as "scope" values;
	// the others are required and posted or not, granted alike.
	Optional []string
}

// ErrBadRequest is the fault of a sign-in, consent or choice that names no
// open authorization request, or one of another browser.
var ErrBadRequest = fault.New(fault.Malformed, "eid.bad_request",
	"Yêu cầu đăng nhập không hợp lệ hoặc đã hết hạn. Vui lòng quay lại ứng dụng và thử lại.",
	"The sign-in request is not valid or has expired. Please go back to the application and try again.")

// page starts the Page of request ar (nil when not loaded) for client c.
func (p *Provider) page(ar *authRequest, c Client) Page {
	pg := Page{Prefix: p.prefix, Client: c.Name, FormTargets: redirectOrigins(c)}
	if ar != nil {
		pg.RequestID, pg.Locales = ar.ID, ar.Req.UILocales
	}
	return pg
}

// redirectOrigins are the origins of a client's redirect URIs, for the
// pages' form-action.
func redirectOrigins(c Client) []string {
	var out []string
	for _, raw := range c.RedirectURIs {
		if u, err := url.Parse(raw); err == nil && u.Host != "" && (u.Scheme == "https" || u.Scheme == "http") {
			out = append(out, u.Scheme+"://"+u.Host)
		}
	}
	return out
}

// badRequest answers a step that names no open request of this browser.
func (p *Provider) badRequest(w http.ResponseWriter, r *http.Request) {
	p.pages.Fail(w, r, ErrBadRequest, Page{Prefix: p.prefix})
}
