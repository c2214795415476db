package oidcop

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
)

//go:embed templates/*.html
var templateFS embed.FS

// Messages of the pages, in Vietnamese.
const (
	msgBadRequest = "Yêu cầu đăng nhập không hợp lệ hoặc đã hết hạn. Vui lòng quay lại ứng dụng và thử lại."
	msgInternal   = "Lỗi hệ thống, vui lòng thử lại sau."
)

type pageData struct {
	Title, Error, Prefix, ID, CSRF string
	ClientName, Purpose, PIN       string
	Level2                         bool
	Passkeys                       bool // offer a passkey sign-in (passkey_login.go)
	Claims                         []string
	// formTargets are the origins a form of the page may end up at besides
	// the provider: the client's redirect URIs. Browsers apply the CSP
	// form-action to the redirects that follow a form post, so without them
	// the redirect back to the relying party after sign-in or consent is
	// blocked.
	formTargets []string
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

const (
	csrfCookie = "eid_csrf"
	flowCookie = "eid_flow"
)

func (p *Provider) render(w http.ResponseWriter, status int, name string, d pageData) {
	d.Prefix = p.prefix
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'"+strings.TrimRight(" "+strings.Join(d.formTargets, " "), " "))
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := p.pages.ExecuteTemplate(w, name, d); err != nil {
		p.log.Warn("eid page", "code", "eid.page_render", "err", err)
	}
}

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
	id := r.URL.Query().Get("authRequestID")
	ar, err := p.store.loadAuthRequest(r.Context(), "id", id, false)
	if err != nil || ar.IsDone {
		p.render(w, http.StatusBadRequest, "login.html", pageData{Title: "Đăng nhập", Error: msgBadRequest})
		return
	}
	c, err := p.clients.Get(r.Context(), ar.ClientID)
	if err != nil {
		p.render(w, http.StatusBadRequest, "login.html", pageData{Title: "Đăng nhập", Error: msgBadRequest})
		return
	}
	_, passkeys := p.passkeys()
	p.render(w, http.StatusOK, "login.html", pageData{Title: "Đăng nhập", ID: id, CSRF: p.csrfToken(w, r), ClientName: c.Name, formTargets: redirectOrigins(c),
		Level2: max(c.MinLevel, levelAsked(ar.Req.ACRValues)) >= eid.Level2, Passkeys: passkeys})
}

func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PostFormValue("authRequestID")
	data := pageData{Title: "Đăng nhập", ID: id}
	ar, err := p.store.loadAuthRequest(ctx, "id", id, false)
	if err != nil || ar.IsDone || !sameCookie(r, csrfCookie, r.PostFormValue("csrf")) {
		data.ID = ""
		data.Error = msgBadRequest
		p.render(w, http.StatusBadRequest, "login.html", data)
		return
	}
	c, err := p.clients.Get(ctx, ar.ClientID)
	if err != nil {
		data.ID, data.Error = "", msgBadRequest
		p.render(w, http.StatusBadRequest, "login.html", data)
		return
	}
	need := max(c.MinLevel, levelAsked(ar.Req.ACRValues))
	data.ClientName, data.Level2, data.CSRF, data.formTargets = c.Name, need >= eid.Level2, r.PostFormValue("csrf"), redirectOrigins(c)
	data.PIN = strings.TrimSpace(r.PostFormValue("pin"))
	auth, err := p.store.accounts.SignIn(ctx, eid.SignInInput{PIN: data.PIN, Password: r.PostFormValue("password"), TOTP: r.PostFormValue("totp"),
		ClientIP: clientIP(r), MinLevel: need, Channel: "oidc:" + c.ID})
	if err != nil {
		f := fault.As(err)
		status := http.StatusUnauthorized
		switch f.Kind {
		case fault.Forbidden:
			status = http.StatusForbidden
		case fault.Internal:
			status = http.StatusInternalServerError
			p.log.Error("eid sign-in", "code", "eid.signin_error", "err", err)
		}
		data.Error = f.Message
		p.render(w, status, "login.html", data)
		return
	}
	// Next: organisation choice, consent or the relying party (passkey_login.go).
	next, err := p.afterSignIn(w, r, ar, c, auth)
	if err != nil {
		p.fail(w, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (p *Provider) finish(w http.ResponseWriter, r *http.Request, id string) {
	if err := p.store.markDone(r.Context(), id); err != nil {
		p.fail(w, err)
		return
	}
	http.Redirect(w, r, p.callbackURL(id), http.StatusSeeOther)
}

func (p *Provider) fail(w http.ResponseWriter, err error) {
	p.log.Error("eid login", "code", "eid.login_error", "err", err)
	p.render(w, http.StatusInternalServerError, "login.html", pageData{Title: "Đăng nhập", Error: msgInternal})
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
	id := r.URL.Query().Get("authRequestID")
	ar, c, ok := p.consentRequest(r, id)
	if !ok {
		p.render(w, http.StatusBadRequest, "login.html", pageData{Title: "Đồng ý chia sẻ thông tin", Error: msgBadRequest})
		return
	}
	var claims []string
	for _, s := range consentable(ar.Req.Scopes) {
		claims = append(claims, scopeClaims[s]...)
	}
	p.render(w, http.StatusOK, "consent.html", pageData{Title: "Đồng ý chia sẻ thông tin", ID: id, CSRF: p.csrfToken(w, r),
		ClientName: c.Name, Purpose: c.Purpose, Claims: claims, formTargets: redirectOrigins(c)})
}

func (p *Provider) consent(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("authRequestID")
	ar, c, ok := p.consentRequest(r, id)
	if !ok || !sameCookie(r, csrfCookie, r.PostFormValue("csrf")) {
		p.render(w, http.StatusBadRequest, "login.html", pageData{Title: "Đồng ý chia sẻ thông tin", Error: msgBadRequest})
		return
	}
	if r.PostFormValue("decision") != "allow" {
		p.log.Info("eid consent refused", "code", "eid.consent_refused")
		op.AuthRequestError(w, r, ar, oidc.ErrAccessDenied().WithDescription("the citizen did not consent"), p.op)
		return
	}
	if err := p.grantConsent(r.Context(), ar.Subject, c, ar.Req.Scopes); err != nil {
		p.fail(w, err)
		return
	}
	p.finish(w, r, id)
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
