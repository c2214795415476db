package oidcop_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/dancu-project/dancu/internal/delivery"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// ssoClaims are the ID token claims single sign-on is about.
type ssoClaims struct {
	AuthTime int64  `json:"auth_time"`
	SID      string `json:"sid"`
	ACR      string `json:"acr"`
}

// ssoFlow starts an authorization at a client with extra parameters and
// returns the first answer the browser sees (the relying party's redirect
// or a page), and the PKCE verifier.
func ssoFlow(t *testing.T, b *http.Client, r *rp, extra ...oauth2.AuthCodeOption) (outcome, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce("n")}, extra...)
	resp, err := b.Get(r.cfg.AuthCodeURL("st", opts...))
	if err != nil {
		t.Fatal(err)
	}
	return read(t, resp), verifier
}

// ssoTokens exchanges a code and verifies the ID token.
func ssoTokens(t *testing.T, r *rp, o outcome, verifier string) (ssoClaims, string) {
	t.Helper()
	if o.code() == "" {
		t.Fatalf("no code: status %d, location %v:\n%.400s", o.status, o.location, o.body)
	}
	tok, err := r.cfg.Exchange(context.Background(), o.code(), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	var c ssoClaims
	idt.Claims(&c)
	return c, raw
}

// logoutReceiver is a relying party's back-channel logout endpoint.
type logoutReceiver struct {
	mu     sync.Mutex
	tokens []string
	got    chan struct{}
}

func newLogoutReceiver(t *testing.T) (*logoutReceiver, *httptest.Server) {
	lr := &logoutReceiver{got: make(chan struct{}, 10)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		lr.mu.Lock()
		lr.tokens = append(lr.tokens, r.PostFormValue("logout_token"))
		lr.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		lr.got <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return lr, srv
}

// TestSingleSignOn: what relying parties notice of the sign-in session. A
// second client gets a code without the password, with the first sign-in's
// auth_time; prompt=none answers at the redirect URI (login_required,
// consent_required) or signs in silently; max_age=0 and prompt=login show
// the form again; a level-1 session is not enough for a level-2 client.
func TestSingleSignOn(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		b := browser(t)
		portalRP := e.rp(t, "portal", oidcop.ScopeProfile)
		verifier := oauth2.GenerateVerifier()
		o := e.authorize(t, b, portalRP.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), pinL1, "", true)
		first, _ := ssoTokens(t, portalRP, o, verifier)
		if first.AuthTime == 0 || first.SID == "" {
			t.Fatalf("ID token without auth_time or sid: %+v", first)
		}

		// A second client: a code straight away, no page, no password.
		appRP := e.rp(t, "app")
		o, v := ssoFlow(t, b, appRP)
		second, _ := ssoTokens(t, appRP, o, v)
		if second.AuthTime != first.AuthTime || second.SID != first.SID {
			t.Fatalf("silent sign-in: auth_time %d sid %q, want %d %q", second.AuthTime, second.SID, first.AuthTime, first.SID)
		}
		// The citizen sees the silent sign-in in their history, at the app.
		hist, err := e.accounts.SignIns(context.Background(), pinL1, 10)
		if err != nil || len(hist) < 2 || hist[0].Channel != "oidc:app" || hist[1].Channel != "oidc:portal" {
			t.Fatalf("sign-in history after a silent sign-in: %+v %v", hist, err)
		}

		// prompt=none: silently, or an error at the redirect URI.
		o, v = ssoFlow(t, b, appRP, oauth2.SetAuthURLParam("prompt", "none"))
		ssoTokens(t, appRP, o, v)
		appProfile := e.rp(t, "app", oidcop.ScopeProfile)
		for _, c := range []struct {
			name    string
			b       *http.Client
			r       *rp
			opts    []oauth2.AuthCodeOption
			wantErr string
		}{
			{"no session", browser(t), appRP, nil, "login_required"},
			{"consent missing", b, appProfile, nil, "consent_required"},
			{"level-1 session, level-2 client", b, e.rp(t, "bank"), nil, "login_required"},
			{"max_age passed", b, appRP, []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("max_age", "0")}, "login_required"},
		} {
			t.Run("prompt=none "+c.name, func(t *testing.T) {
				o, _ := ssoFlow(t, c.b, c.r, append(c.opts, oauth2.SetAuthURLParam("prompt", "none"))...)
				if o.location == nil || o.location.Query().Get("error") != c.wantErr || o.location.Query().Get("state") != "st" || o.code() != "" {
					t.Fatalf("want error=%s at the redirect URI, got %d %v:\n%.300s", c.wantErr, o.status, o.location, o.body)
				}
			})
		}

		// max_age=0 and prompt=login: the form again, then a new auth_time.
		for _, opt := range []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("max_age", "0"), oauth2.SetAuthURLParam("prompt", "login")} {
			o, _ := ssoFlow(t, b, appRP, opt)
			if o.location != nil || !strings.Contains(o.body, `name="password"`) {
				t.Fatalf("re-authentication not asked: %d %v", o.status, o.location)
			}
		}
		time.Sleep(1100 * time.Millisecond) // auth_time has whole seconds
		verifier = oauth2.GenerateVerifier()
		o = e.authorize(t, b, appRP.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("max_age", "0")), pinL1, "", true)
		again, _ := ssoTokens(t, appRP, o, verifier)
		if again.AuthTime <= first.AuthTime || again.SID != first.SID {
			t.Fatalf("after re-authentication auth_time %d (was %d), sid %q (was %q)", again.AuthTime, first.AuthTime, again.SID, first.SID)
		}
		// Step-up: the level-2 citizen signed in with the password only
		// (level 1) is asked the authenticator code alone by the level-2
		// client — no password field in that form — and gets level 2.
		b3 := browser(t)
		verifier = oauth2.GenerateVerifier()
		o = e.authorize(t, b3, portalRP.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), pinL2, "", true)
		if c, _ := ssoTokens(t, portalRP, o, verifier); c.ACR != oidcop.ACRLevel1 {
			t.Fatalf("password-only sign-in: %+v", c)
		}
		bank := e.rp(t, "bank")
		o, v = ssoFlow(t, b3, bank)
		if !strings.Contains(o.body, `id="stepup-form"`) || !strings.Contains(o.body, `name="step_up"`) {
			t.Fatalf("no step-up form for a level-1 session at a level-2 client: %d\n%.500s", o.status, o.body)
		}
		stepForm := o.body[strings.Index(o.body, `id="stepup-form"`):]
		stepForm = stepForm[:strings.Index(stepForm, "</form>")]
		if strings.Contains(stepForm, `type="password"`) {
			t.Fatal("the step-up form asks the password")
		}
		bad := submit(t, b3, e.issuer+"/login", o.body, url.Values{"step_up": {"1"}, "totp": {"000000"}})
		if bad.status != http.StatusUnauthorized || bad.location != nil {
			t.Fatalf("step-up with a wrong code: %d %v", bad.status, bad.location)
		}
		o = submit(t, b3, e.issuer+"/login", o.body, url.Values{"step_up": {"1"}, "totp": {totpCode(e.totp, time.Now())}})
		if o.location == nil && strings.Contains(o.body, `name="decision"`) {
			o = submit(t, b3, e.issuer+"/consent", o.body, url.Values{"decision": {"allow"}})
		}
		l2, _ := ssoTokens(t, bank, o, v)
		if l2.ACR != oidcop.ACRLevel2 {
			t.Fatalf("after step-up: %+v", l2)
		}
		// The step-up raised the session: the other clients go on
		// silently at level 2, in the same session.
		o, v = ssoFlow(t, b3, appRP, oauth2.SetAuthURLParam("prompt", "none"))
		if c, _ := ssoTokens(t, appRP, o, v); c.ACR != oidcop.ACRLevel2 || c.SID != l2.SID {
			t.Fatalf("second client after a level-2 step-up: %+v", c)
		}
	})
}

// addShop registers the client "shop" of the logout tests: a
// post-logout redirect to redirect+"/bye" and a back-channel logout URI.
func addShop(t *testing.T, e *env, backchannel string) {
	t.Helper()
	if err := e.provider.Clients().Add(context.Background(), oidcop.Client{ID: "shop", Secret: clientSecret("shop"), Name: "Cửa hàng", Purpose: "Đăng nhập",
		RedirectURIs: []string{redirect}, PostLogoutRedirectURIs: []string{redirect + "/bye"}, GrantTypes: []string{oidcop.GrantAuthorizationCode},
		DevMode: true, BackchannelLogoutURI: backchannel}); err != nil {
		t.Fatal(err)
	}
}

// assertSignedOut checks that the browser's sign-in session is over:
// prompt=none at r answers login_required.
func assertSignedOut(t *testing.T, b *http.Client, r *rp, what string) {
	t.Helper()
	o, _ := ssoFlow(t, b, r, oauth2.SetAuthURLParam("prompt", "none"))
	if o.location == nil || o.location.Query().Get("error") != "login_required" {
		t.Fatalf("%s: %d %v", what, o.status, o.location)
	}
}

// TestRPInitiatedLogout: RP-initiated logout ends the session (prompt=none then
// answers login_required), redirects only to a registered
// post_logout_redirect_uri, and each client the session signed in to that
// registered for it receives a logout token that verifies with the
// provider's JWKS.
func TestRPInitiatedLogout(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		ctx := context.Background()
		lr, recv := newLogoutReceiver(t)
		addShop(t, e, recv.URL+"/backchannel")
		var disc struct {
			EndSession string `json:"end_session_endpoint"`
			JWKS       string `json:"jwks_uri"`
			BC         bool   `json:"backchannel_logout_supported"`
			BCSession  bool   `json:"backchannel_logout_session_supported"`
		}
		resp, err := http.Get(e.issuer + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&disc)
		resp.Body.Close()
		if disc.EndSession != e.issuer+"/end_session" || !disc.BC || !disc.BCSession {
			t.Fatalf("discovery: %+v", disc)
		}
		b := browser(t)
		shop := e.rp(t, "shop")
		verifier := oauth2.GenerateVerifier()
		o := e.authorize(t, b, shop.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), pinL1, "", true)
		claims, idToken := ssoTokens(t, shop, o, verifier)
		acct, _ := e.accounts.Account(ctx, pinL1)

		// An unregistered post_logout_redirect_uri: no redirect there, and
		// the session stays.
		q := url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://evil.example/"}, "state": {"s1"}}
		resp, err = b.Get(disc.EndSession + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if loc := resp.Request.URL.String(); strings.HasPrefix(loc, "https://evil.example") || resp.StatusCode < 400 {
			t.Fatalf("unregistered post-logout URI: %d at %s", resp.StatusCode, loc)
		}
		o, v := ssoFlow(t, b, shop, oauth2.SetAuthURLParam("prompt", "none"))
		ssoTokens(t, shop, o, v) // still signed in

		q.Set("post_logout_redirect_uri", redirect+"/bye")
		resp, err = b.Get(disc.EndSession + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, redirect+"/bye") || !strings.Contains(loc, "state=s1") {
			t.Fatalf("logout redirect %d %q", resp.StatusCode, loc)
		}
		select {
		case <-lr.got:
		case <-time.After(10 * time.Second):
			t.Fatal("no logout token received")
		}
		lr.mu.Lock()
		tok := lr.tokens[0]
		lr.mu.Unlock()
		payload, err := oidc.NewRemoteKeySet(ctx, disc.JWKS).VerifySignature(ctx, tok)
		if err != nil {
			t.Fatalf("logout token does not verify with the JWKS: %v", err)
		}
		jws, _ := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
		if typ, _ := jws.Signatures[0].Protected.ExtraHeaders["typ"].(string); typ != "logout+jwt" {
			t.Fatalf("logout token typ %q", typ)
		}
		var lt map[string]any
		json.Unmarshal(payload, &lt)
		events, _ := lt["events"].(map[string]any)
		if _, ok := events["http://schemas.openid.net/event/backchannel-logout"]; !ok || lt["iss"] != e.issuer || lt["aud"] != "shop" ||
			lt["sid"] != claims.SID || lt["sub"] != acct.Subject || lt["jti"] == nil || lt["iat"] == nil || lt["nonce"] != nil {
			t.Fatalf("logout token claims %v", lt)
		}
		// The session is over: prompt=none asks for a sign-in.
		assertSignedOut(t, b, shop, "after logout")
	})
}

// TestSessionAcrossNodes: the sign-in session lives in the database, so a
// second node signs the browser in silently; a node whose back-channel
// client follows the production egress rule refuses a logout URI on the
// platform's own network (loopback) and still completes the logout.
func TestSessionAcrossNodes(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		lr, recv := newLogoutReceiver(t)
		addShop(t, e, recv.URL+"/backchannel")
		mux := http.NewServeMux()
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		node2, err := oidcop.New(oidcop.Deps{Pages: testPages(t), DB: db, Accounts: e.accounts, Register: e.register, Issuer: e.issuer, Secret: secret,
			LogoutClient: delivery.NewClient(2*time.Second, 1, delivery.Egress{})})
		if err != nil {
			t.Fatal(err)
		}
		node2.Mount(mux)
		b := browser(t)
		shop := e.rp(t, "shop")
		verifier := oauth2.GenerateVerifier()
		o := e.authorize(t, b, shop.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), pinL1, "", true)
		_, idToken := ssoTokens(t, shop, o, verifier)

		// The same browser at the second node: signed in without a page.
		at2 := strings.Replace(shop.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")),
			e.srv.URL, srv.URL, 1)
		resp, err := b.Get(at2)
		if err != nil {
			t.Fatal(err)
		}
		if o := read(t, resp); o.code() == "" {
			t.Fatalf("second node, prompt=none: %d %v", o.status, o.location)
		}

		// Logout at the second node: the loopback receiver is refused by
		// the production rule; the browser still gets back to the client.
		q := url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {redirect + "/bye"}}
		resp, err = b.Get(srv.URL + "/oidc/end_session?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, redirect+"/bye") {
			t.Fatalf("logout at the second node: %d %q", resp.StatusCode, loc)
		}
		select {
		case <-lr.got:
			t.Fatal("a logout token reached a loopback address under the production egress rule")
		case <-time.After(300 * time.Millisecond):
		}
		assertSignedOut(t, b, shop, "after logout at the other node")
	})
}

// TestSessionCookie: the sign-in session's cookie is an opaque random id,
// HttpOnly, SameSite=Lax, scoped to the provider's path, ending with the
// browser session; the database keeps only its hash.
func TestSessionCookie(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		r := e.rp(t, "app")
		jar, _ := cookiejar.New(nil)
		b := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := b.Get(r.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			t.Fatal(err)
		}
		resp, err = b.Get(loc.String())
		if err != nil {
			t.Fatal(err)
		}
		page := read(t, resp)
		id, csrf := idRE.FindStringSubmatch(page.body), csrfRE.FindStringSubmatch(page.body)
		if id == nil || csrf == nil {
			t.Fatalf("no sign-in form: %d", page.status)
		}
		resp, err = b.PostForm(e.issuer+"/login", url.Values{"authRequestID": {id[1]}, "csrf": {csrf[1]}, "pin": {pinL1}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var sso *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "eid_sso" {
				sso = c
			}
		}
		if sso == nil || !sso.HttpOnly || sso.SameSite != http.SameSiteLaxMode || sso.Path != "/oidc" || sso.MaxAge != 0 || !sso.Expires.IsZero() || len(sso.Value) < 43 {
			t.Fatalf("session cookie %+v", sso)
		}
		var n int
		if err := db.R.QueryRow(`SELECT count(*) FROM eid_oidc_sessions WHERE id_hash = $1 OR sid = $1`, sso.Value).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the cookie's value is stored as is (%d rows, %v)", n, err)
		}
		if err := db.R.QueryRow(`SELECT count(*) FROM eid_oidc_sessions`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("sessions: %d %v", n, err)
		}
	})
}
