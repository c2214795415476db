package e2e

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
)

// rpOptions describes the relying party of a browser test.
type rpOptions struct {
	clientID, name, purpose string
	// scopes are asked for besides openid; with oidcop.ScopeProfile the
	// relying party reads the name and birth date from userinfo.
	scopes []string
	// acrValues is sent in the authorization request; "" sends none.
	acrValues string
	// providerURL, when set, replaces the platform's URL in the redirect to
	// the provider: WebAuthn needs the browser to reach it as localhost.
	providerURL string
}

// relyingParty is a tiny OpenID Connect client on its own server, as a
// public-service portal or a bank would run, registered as a level-2
// client: it sends the browser to the provider (code flow with PKCE) and
// shows what it received (#rp-name, #rp-birthdate, #rp-acr, #rp-amr).
type relyingParty struct {
	srv      *httptest.Server
	opts     rpOptions
	cfg      oauth2.Config
	provider *oidc.Provider

	mu              sync.Mutex
	state, verifier string
}

var rpPage = template.Must(template.New("rp").Parse(`<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{{.Client}}</title></head><body>
<h1>Đăng nhập thành công</h1>
<dl><dt>Họ và tên</dt><dd id="rp-name">{{.Name}}</dd><dt>Ngày sinh</dt><dd id="rp-birthdate">{{.Birthdate}}</dd>
<dt>Mức xác thực</dt><dd id="rp-acr">{{.ACR}}</dd><dt>Phương thức</dt><dd id="rp-amr">{{.AMR}}</dd></dl>
</body></html>`))

func newRelyingParty(t *testing.T, env *apptest.Env, opts rpOptions) *relyingParty {
	t.Helper()
	ctx := context.Background()
	rp := &relyingParty{opts: opts}
	mux := http.NewServeMux()
	rp.srv = httptest.NewServer(mux)
	t.Cleanup(rp.srv.Close)
	secret := oidcop.NewSecret()
	err := env.App.OIDC.Clients().Add(ctx, oidcop.Client{ID: opts.clientID, Secret: secret, Name: opts.name, Purpose: opts.purpose,
		RedirectURIs: []string{rp.srv.URL + "/cb"}, GrantTypes: []string{oidcop.GrantAuthorizationCode}, Scopes: opts.scopes,
		MinLevel: eid.Level2, DevMode: true})
	if err != nil {
		t.Fatal(err)
	}
	if rp.provider, err = oidc.NewProvider(ctx, env.App.OIDC.Issuer()); err != nil {
		t.Fatal(err)
	}
	rp.cfg = oauth2.Config{ClientID: opts.clientID, ClientSecret: secret, Endpoint: rp.provider.Endpoint(), RedirectURL: rp.srv.URL + "/cb",
		Scopes: append([]string{oidc.ScopeOpenID}, opts.scopes...)}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		rp.state, rp.verifier = oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
		params := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(rp.verifier)}
		if opts.acrValues != "" {
			params = append(params, oauth2.SetAuthURLParam("acr_values", opts.acrValues))
		}
		u := rp.cfg.AuthCodeURL(rp.state, params...)
		rp.mu.Unlock()
		if opts.providerURL != "" {
			u = opts.providerURL + strings.TrimPrefix(u, env.Server.URL)
		}
		http.Redirect(w, r, u, http.StatusFound)
	})
	mux.HandleFunc("GET /cb", rp.callback)
	return rp
}

// callback exchanges the code, verifies the ID token, reads userinfo when
// it asked for the profile, and shows the result.
func (rp *relyingParty) callback(w http.ResponseWriter, r *http.Request) {
	rp.mu.Lock()
	state, verifier := rp.state, rp.verifier
	rp.mu.Unlock()
	if r.URL.Query().Get("state") != state {
		http.Error(w, "bad state", http.StatusBadRequest)
		return
	}
	tok, err := rp.cfg.Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		http.Error(w, "exchange: "+err.Error(), http.StatusBadGateway)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.provider.Verifier(&oidc.Config{ClientID: rp.cfg.ClientID}).Verify(r.Context(), raw)
	if err != nil {
		http.Error(w, "id token: "+err.Error(), http.StatusBadGateway)
		return
	}
	var idc struct {
		ACR string   `json:"acr"`
		AMR []string `json:"amr"`
	}
	idt.Claims(&idc)
	var info struct {
		Name      string `json:"name"`
		Birthdate string `json:"birthdate"`
	}
	for _, s := range rp.opts.scopes {
		if s != oidcop.ScopeProfile {
			continue
		}
		ui, err := rp.provider.UserInfo(r.Context(), oauth2.StaticTokenSource(tok))
		if err != nil {
			http.Error(w, "userinfo: "+err.Error(), http.StatusBadGateway)
			return
		}
		ui.Claims(&info)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	rpPage.Execute(w, map[string]string{"Client": rp.opts.name, "Name": info.Name, "Birthdate": info.Birthdate,
		"ACR": idc.ACR, "AMR": strings.Join(idc.AMR, " ")})
}
