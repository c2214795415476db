package e2e

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/storage"
)

// TestPasskeyInBrowser: in headless Chromium with Chrome's virtual
// authenticator (CTAP2, resident keys, user verification), a level-2
// citizen adds a passkey in the citizen portal through the page's own
// script, then signs in at a level-2 relying party with the passkey alone
// and lands back with acr level 2.
//
// WebAuthn refuses IP-address origins, so the browser uses the platform as
// http://localhost:PORT (the relying-party id the platform derives from its
// 127.0.0.1 public URL).
func TestPasskeyInBrowser(t *testing.T) {
	bin := needChromium(t)
	env := apptest.Start(t, storage.SQLite, 60)
	c := newCitizen(t, env, 0, true)
	local := strings.Replace(env.Server.URL, "127.0.0.1", "localhost", 1)
	rp := newPasskeyRelyingParty(t, env, local)

	b := newBrowser(t, bin)

	b.step("add Chrome's virtual authenticator",
		chromedp.Navigate("about:blank"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
			return err
		}),
	)
	b.step("sign in to the portal at level 2",
		chromedp.Navigate(local+"/citizen/login"),
		chromedp.WaitVisible(chromedp.ID("f-pin")),
		chromedp.SendKeys(chromedp.ID("f-pin"), c.pin),
		chromedp.SendKeys(chromedp.ID("f-password"), citizenPassword),
		chromedp.SendKeys(chromedp.ID("f-totp"), c.nextCode(t)),
		chromedp.Click(chromedp.ID("submit-login")),
		chromedp.WaitVisible(chromedp.ID("nav-passkeys")),
	)
	b.step("add a passkey",
		chromedp.Navigate(local+"/citizen/passkeys"),
		chromedp.WaitVisible(chromedp.ID("passkey-add")),
		chromedp.SendKeys(chromedp.ID("passkey-name"), "Khóa ảo của Chrome"),
		chromedp.Click(chromedp.ID("passkey-add")),
		chromedp.WaitVisible(chromedp.ID("flash")),
	)
	if got := b.read(chromedp.Text(chromedp.ID("flash"))); !strings.Contains(got, "Đã thêm khóa truy cập") {
		t.Errorf("flash %q", got)
	}
	if got := b.read(chromedp.Text(chromedp.ID("passkeys"))); !strings.Contains(got, "Khóa ảo của Chrome") || !strings.Contains(got, "Có") {
		t.Errorf("passkeys table %q", got)
	}
	b.shot("passkey-added.png")

	b.step("sign in at the relying party with the passkey alone",
		chromedp.Navigate(rp.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("passkey-signin")),
		chromedp.Click(chromedp.ID("passkey-signin")),
		chromedp.WaitVisible(chromedp.ID("rp-acr")),
	)
	if got := b.read(chromedp.Text(chromedp.ID("rp-acr"))); got != oidcop.ACRLevel2 {
		t.Errorf("relying party got acr %q, want %q", got, oidcop.ACRLevel2)
	}
	if got := b.read(chromedp.Text(chromedp.ID("rp-amr"))); !strings.Contains(got, "pop") || !strings.Contains(got, "mfa") {
		t.Errorf("relying party got amr %q", got)
	}
	b.shot("passkey-signed-in.png")
	recs, err := env.App.EID.SignIns(context.Background(), c.pin, 1)
	if err != nil || len(recs) != 1 || recs[0].Level != eid.Level2 || recs[0].Channel != "oidc:passkey-rp" {
		t.Errorf("sign-in history %+v %v", recs, err)
	}
}

// passkeyRP is a level-2 relying party that asks for no data (so there is
// no consent step) and shows the acr and amr it received.
type passkeyRP struct {
	srv             *httptest.Server
	mu              sync.Mutex
	state, verifier string
}

func newPasskeyRelyingParty(t *testing.T, env *apptest.Env, local string) *passkeyRP {
	t.Helper()
	ctx := context.Background()
	rp := &passkeyRP{}
	mux := http.NewServeMux()
	rp.srv = httptest.NewServer(mux)
	t.Cleanup(rp.srv.Close)
	secret := oidcop.NewSecret()
	if err := env.App.OIDC.Clients().Add(ctx, oidcop.Client{ID: "passkey-rp", Secret: secret, Name: "Ngân hàng thử nghiệm", Purpose: "Đăng nhập",
		RedirectURIs: []string{rp.srv.URL + "/cb"}, GrantTypes: []string{oidcop.GrantAuthorizationCode}, MinLevel: eid.Level2, DevMode: true}); err != nil {
		t.Fatal(err)
	}
	provider, err := oidc.NewProvider(ctx, env.App.OIDC.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: "passkey-rp", ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: rp.srv.URL + "/cb", Scopes: []string{oidc.ScopeOpenID}}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		rp.state, rp.verifier = oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
		u := cfg.AuthCodeURL(rp.state, oauth2.S256ChallengeOption(rp.verifier))
		rp.mu.Unlock()
		// The browser reaches the provider as localhost (see above).
		http.Redirect(w, r, local+strings.TrimPrefix(u, env.Server.URL), http.StatusFound)
	})
	mux.HandleFunc("GET /cb", func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		state, verifier := rp.state, rp.verifier
		rp.mu.Unlock()
		if r.URL.Query().Get("state") != state {
			http.Error(w, "bad state", http.StatusBadRequest)
			return
		}
		tok, err := cfg.Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			http.Error(w, "exchange: "+err.Error(), http.StatusBadGateway)
			return
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}).Verify(r.Context(), raw)
		if err != nil {
			http.Error(w, "id token: "+err.Error(), http.StatusBadGateway)
			return
		}
		var claims struct {
			ACR string   `json:"acr"`
			AMR []string `json:"amr"`
		}
		idt.Claims(&claims)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		rpPage2.Execute(w, map[string]string{"ACR": claims.ACR, "AMR": strings.Join(claims.AMR, " ")})
	})
	return rp
}

var rpPage2 = template.Must(template.New("rp").Parse(`<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Ngân hàng thử nghiệm</title></head><body>
<h1>Đăng nhập thành công</h1>
<dl><dt>Mức xác thực</dt><dd id="rp-acr">{{.ACR}}</dd><dt>Phương thức</dt><dd id="rp-amr">{{.AMR}}</dd></dl>
</body></html>`))
