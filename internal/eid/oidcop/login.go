package oidcop

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
)

const (
	csrfCookie = "eid_csrf"
	flowCookie = "eid_flow"
)

func (p *Provider) setCookie(w http.ResponseWriter, name, value string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: p.prefix, HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode, MaxAge: int(authRequestTTL.Seconds())})
}

// csrfToken returns the browser's double-submit token, setting it when new.
func (p *Provider) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	p.setCookie(w, csrfCookie, v)
	return v
}

func sameCookie(r *http.Request, name, want string) bool {
	c, err := r.Cookie(name)
	return err == nil && want != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(want)) == 1
}

// flowToken binds the consent step to the browser that signed in.
func (p *Provider) flowToken(id string) string { return p.seal.Hash("oidc flow", id)[:43] }

func (p *Provider) loginPage(w http.ResponseWriter, r *http.Request) {
	ar, err := p.store.loadAuthRequest(r.Context(), "id", r.URL.Query().Get("authRequestID"), false)
	if err != nil || ar.IsDone {
		p.badRequest(w, r)
		return
	}
	c, err := p.clients.Get(r.Context(), ar.ClientID)
	if err != nil {
		p.badRequest(w, r)
		return
	}
	// A session in force signs in without the form; prompt=none never
	// shows it (sso.go).
	if ar.Subject == "" && p.trySession(w, r, ar, c) {
		return
	}
	_, passkeys := p.passkeys()
	pg := SignInPage{Page: p.page(ar, c), Level2: max(c.MinLevel, levelAsked(ar.Req.ACRValues)) >= eid.Level2, Passkeys: passkeys}
	if s, err := p.stepUpSession(r, ar, c); err != nil {
		p.pages.Fail(w, r, err, pg.Page)
		return
	} else if s != nil {
		pg.StepUp = true
	}
	pg.CSRF = p.csrfToken(w, r)
	p.pages.SignIn(w, r, pg)
}

// stepUp raises the browser's level-1 session to level 2 with the
// authenticator code alone (sso.go).
func (p *Provider) stepUp(w http.ResponseWriter, r *http.Request, ar *authRequest, c Client, pg SignInPage) {
	ctx := r.Context()
	s, err := p.stepUpSession(r, ar, c)
	if err != nil {
		p.pages.Fail(w, r, err, pg.Page)
		return
	}
	if s == nil {
		p.badRequest(w, r) // no session to raise (ended, or another step)
		return
	}
	pg.StepUp = true
	auth, err := p.store.accounts.(StepUpAccounts).StepUp(ctx, eid.StepUpInput{Subject: s.Subject, TOTP: r.PostFormValue("totp"),
		ClientIP: clientIP(r), Channel: "oidc:" + c.ID})
	p.endSignInForm(w, r, ar, c, pg, auth, err)
}

// endSignInForm ends a sign-in or step-up form post. Bad credentials, a level
// too low, a throttled or locked account: the form again with the fault's
// message; a failure of ours: the error page (logged there). Otherwise on
// to organisation choice, consent or the relying party (passkey_login.go).
func (p *Provider) endSignInForm(w http.ResponseWriter, r *http.Request, ar *authRequest, c Client, pg SignInPage, auth eid.Authentication, err error) {
	if err != nil {
		if fault.As(err).Kind == fault.Internal {
			p.pages.Fail(w, r, err, pg.Page)
			return
		}
		pg.Error = err
		p.pages.SignIn(w, r, pg)
		return
	}
	next, err := p.afterSignIn(w, r, ar, c, auth)
	if err != nil {
		p.pages.Fail(w, r, err, pg.Page)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := p.store.loadAuthRequest(ctx, "id", r.PostFormValue("authRequestID"), false)
	if err != nil || ar.IsDone || !sameCookie(r, csrfCookie, r.PostFormValue("csrf")) {
		p.badRequest(w, r)
		return
	}
	c, err := p.clients.Get(ctx, ar.ClientID)
	if err != nil {
		p.badRequest(w, r)
		return
	}
	need := max(c.MinLevel, levelAsked(ar.Req.ACRValues))
	_, passkeys := p.passkeys()
	pg := SignInPage{Page: p.page(ar, c), Level2: need >= eid.Level2, Passkeys: passkeys, PIN: strings.TrimSpace(r.PostFormValue("pin"))}
	pg.CSRF = r.PostFormValue("csrf")
	if r.PostFormValue("step_up") == "1" {
		p.stepUp(w, r, ar, c, pg)
		return
	}
	auth, err := p.store.accounts.SignIn(ctx, eid.SignInInput{PIN: pg.PIN, Password: r.PostFormValue("password"), TOTP: r.PostFormValue("totp"),
		ClientIP: clientIP(r), MinLevel: need, Channel: "oidc:" + c.ID})
	p.endSignInForm(w, r, ar, c, pg, auth, err)
}

func (p *Provider) finish(w http.ResponseWriter, r *http.Request, ar *authRequest, c Client) {
	if err := p.store.markDone(r.Context(), ar.ID); err != nil {
		p.pages.Fail(w, r, err, p.page(ar, c))
		return
	}
	http.Redirect(w, r, p.callbackURL(ar.ID), http.StatusSeeOther)
}

// consentRequest loads the request a consent step is about, checking that
// this browser signed in for it.
func (p *Provider) consentRequest(r *http.Request, id string) (*authRequest, Client, bool) {
	ar, err := p.store.loadAuthRequest(r.Context(), "id", id, false)
	if err != nil || ar.IsDone || ar.Subject == "" || !sameCookie(r, flowCookie, p.flowToken(id)) {
		return nil, Client{}, false
	}
	c, err := p.clients.Get(r.Context(), ar.ClientID)
	if err != nil {
		return nil, Client{}, false
	}
	return ar, c, true
}

func (p *Provider) consentPage(w http.ResponseWriter, r *http.Request) {
	ar, c, ok := p.consentRequest(r, r.URL.Query().Get("authRequestID"))
	if !ok {
		p.badRequest(w, r)
		return
	}
	pg := ConsentPage{Page: p.page(ar, c), Purpose: c.Purpose, Scopes: consentable(ar.Req.Scopes), Optional: c.OptionalScopes}
	pg.CSRF = p.csrfToken(w, r)
	p.pages.Consent(w, r, pg)
}

func (p *Provider) consent(w http.ResponseWriter, r *http.Request) {
	ar, c, ok := p.consentRequest(r, r.PostFormValue("authRequestID"))
	if !ok || !sameCookie(r, csrfCookie, r.PostFormValue("csrf")) {
		p.badRequest(w, r)
		return
	}
	if r.PostFormValue("decision") != "allow" {
		p.log.Info("eid consent refused", "code", "eid.consent_refused")
		op.AuthRequestError(w, r, ar, oidc.ErrAccessDenied().WithDescription("the citizen did not consent"), p.op)
		return
	}
	// Field by field: the optional scopes left unticked are declined and
	// dropped from the request, so no token or userinfo carries them.
	granted, declined := consentChoice(ar.Req.Scopes, c.OptionalScopes, r.PostForm["scope"])
	if err := p.grantConsent(r.Context(), ar.Subject, c, granted, declined); err != nil {
		p.pages.Fail(w, r, err, p.page(ar, c))
		return
	}
	if err := p.narrowScopes(r.Context(), ar, declined); err != nil {
		p.pages.Fail(w, r, err, p.page(ar, c))
		return
	}
	p.finish(w, r, ar, c)
}

// clientIP is the peer address. Behind a load balancer the composition root
// must put the client address there (trusted proxy handling is its job).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
