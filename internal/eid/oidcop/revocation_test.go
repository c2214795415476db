package oidcop_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// peer is a second provider on the same database, as another server of a
// cluster, with a clock the test moves forward.
type peer struct {
	url      string
	provider *oidcop.Provider
	offset   atomic.Int64
}

func (e *env) peer(t *testing.T) *peer {
	t.Helper()
	n := &peer{}
	clock := func() time.Time { return time.Now().Add(time.Duration(n.offset.Load())) }
	var err error
	n.provider, err = oidcop.New(oidcop.Deps{Pages: testPages(t), DB: e.db, Accounts: e.accounts, Register: e.register, Issuer: e.issuer, Secret: secret, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	n.provider.Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	n.url = srv.URL + "/oidc"
	return n
}

func (n *peer) later(d time.Duration) { n.offset.Add(int64(d)) }

// active asks a node's introspection endpoint as client r.
func (r *rp) active(t *testing.T, base, token string) bool {
	t.Helper()
	status, out := r.post(t, base+"/oauth/introspect", url.Values{"token": {token}})
	if status != http.StatusOK {
		t.Fatalf("introspection status %d", status)
	}
	return out["active"] == true
}

func partnerRP() *rp {
	r := &rp{secret: clientSecret("partner")}
	r.cfg.ClientID = "partner"
	return r
}

// A client-credentials token is a JWT with the granted scopes only; it is
// introspected by its client, not by another, and revoked by its client
// only: at once on the node that revoked it, within the refresh interval on
// every other node.
func TestClientCredentialsRevocationAcrossNodes(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		b := e.peer(t)
		ctx := context.Background()
		cc := clientcredentials.Config{ClientID: "partner", ClientSecret: clientSecret("partner"), TokenURL: e.issuer + "/oauth/token",
			Scopes: []string{"reconcile", "everything"}}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.Extra("scope"); got != "reconcile" {
			t.Fatalf("granted scope %v, want only the registered one", got)
		}
		if left := time.Until(tok.Expiry); left < 9*time.Minute || left > 10*time.Minute {
			t.Fatalf("token lives %v", left)
		}
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok.AccessToken, ".")[1])
		var claims map[string]any
		json.Unmarshal(payload, &claims)
		if claims["client_id"] != "partner" || claims["sub"] != "partner" || claims["scope"] != "reconcile" || claims["iss"] != e.issuer {
			t.Fatalf("token claims %v", claims)
		}
		partner, portal := partnerRP(), e.rp(t, "portal")
		for _, base := range []string{e.issuer, b.url} {
			if !partner.active(t, base, tok.AccessToken) {
				t.Fatalf("fresh token inactive at %s", base)
			}
			if portal.active(t, base, tok.AccessToken) {
				t.Fatal("another client learns that the token is active")
			}
		}
		// Another client's revocation request changes nothing.
		if status, _ := portal.post(t, e.issuer+"/revoke", url.Values{"token": {tok.AccessToken}}); status != http.StatusOK {
			t.Fatalf("revocation by another client: status %d", status)
		}
		if !partner.active(t, e.issuer, tok.AccessToken) {
			t.Fatal("another client revoked the partner's token")
		}
		if status, _ := partner.post(t, e.issuer+"/revoke", url.Values{"token": {tok.AccessToken}}); status != http.StatusOK {
			t.Fatalf("revocation status %d", status)
		}
		if partner.active(t, e.issuer, tok.AccessToken) {
			t.Fatal("the revoking node still accepts the token")
		}
		if _, err := e.provider.VerifyAccessToken(ctx, tok.AccessToken); err == nil {
			t.Fatal("VerifyAccessToken accepts a revoked token")
		}
		b.later(2 * time.Second)
		if partner.active(t, b.url, tok.AccessToken) {
			t.Fatal("another node accepts the token two seconds after its revocation")
		}
		if _, err := b.provider.VerifyAccessToken(ctx, tok.AccessToken); err == nil {
			t.Fatal("VerifyAccessToken on another node accepts a revoked token")
		}
		// Expired: refused even though nothing revoked it.
		fresh, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !partner.active(t, b.url, fresh.AccessToken) {
			t.Fatal("a new token is inactive")
		}
		b.later(11 * time.Minute)
		if partner.active(t, b.url, fresh.AccessToken) {
			t.Fatal("an expired token introspects active")
		}
		// Revocation through the library's path (a wrong hint sends the
		// request there): its callback finds the token's claims too.
		other, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if status, _ := partner.post(t, e.issuer+"/revoke", url.Values{"token": {other.AccessToken}, "token_type_hint": {"refresh_token"}}); status != http.StatusOK {
			t.Fatalf("revocation with a refresh_token hint: status %d", status)
		}
		if partner.active(t, e.issuer, other.AccessToken) {
			t.Fatal("a token revoked through the library's path is still active")
		}
		// A tampered token (payload changed, signature kept) is refused.
		parts := strings.Split(fresh.AccessToken, ".")
		claims["sub"] = "someone-else"
		forged, _ := json.Marshal(claims)
		parts[1] = base64.RawURLEncoding.EncodeToString(forged)
		if partner.active(t, e.issuer, strings.Join(parts, ".")) {
			t.Fatal("a forged token introspects active")
		}
	})
}

// A citizen's tokens end on every node when the account ends (death), when
// consent is withdrawn, and when a refresh token is reused.
func TestCitizenTokensEndAcrossNodes(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		b := e.peer(t)
		ctx := context.Background()
		r := e.rp(t, "portal", "offline_access")
		signIn := func(t *testing.T, pin string) *oauth2.Token {
			t.Helper()
			v := oauth2.GenerateVerifier()
			o := e.authorize(t, browser(t), r.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), pin, "", true)
			tok, err := r.cfg.Exchange(ctx, o.code(), oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			if !r.active(t, e.issuer, tok.AccessToken) || !r.active(t, b.url, tok.AccessToken) {
				t.Fatal("a fresh citizen's token is inactive")
			}
			return tok
		}
		t.Run("refresh token reused", func(t *testing.T) {
			tok := signIn(t, pinL1)
			if _, err := r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
				t.Fatal(err)
			}
			if _, err := r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
				t.Fatal("a spent refresh token was accepted")
			}
			if r.active(t, e.issuer, tok.AccessToken) {
				t.Fatal("the family's access token survived the reuse")
			}
			b.later(2 * time.Second)
			if r.active(t, b.url, tok.AccessToken) {
				t.Fatal("another node accepts the family's access token")
			}
		})
		t.Run("consent withdrawn", func(t *testing.T) {
			tok := signIn(t, pinL1)
			acct, _ := e.accounts.Account(ctx, pinL1)
			if err := e.provider.WithdrawConsent(ctx, acct.Subject, "portal"); err != nil {
				t.Fatal(err)
			}
			if r.active(t, e.issuer, tok.AccessToken) {
				t.Fatal("a token survived the withdrawal of consent")
			}
			b.later(2 * time.Second)
			if r.active(t, b.url, tok.AccessToken) {
				t.Fatal("another node accepts a token after the withdrawal of consent")
			}
		})
		t.Run("death", func(t *testing.T) {
			tok := signIn(t, pinL2)
			if err := e.accounts.HandleDeath(ctx, []byte(`{"event_id":"ev-death","kind":"death","pin":"`+pinL2+`"}`)); err != nil {
				t.Fatal(err)
			}
			b.later(3 * time.Second)
			if r.active(t, b.url, tok.AccessToken) {
				t.Fatal("a dead citizen's token is active three seconds after the death was recorded")
			}
			if _, err := b.provider.VerifyAccessToken(ctx, tok.AccessToken); err == nil {
				t.Fatal("VerifyAccessToken accepts a dead citizen's token")
			}
		})
	})
}

// Browsers (single-page and mobile apps) call userinfo and revocation
// across origins: the provider's own answers carry the CORS headers the
// library's do, once, and preflight requests are answered.
func TestBrowserEndpointsCORS(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite, migrations())
	e := start(t, db)
	ctx := context.Background()
	r := e.rp(t, "portal", "offline_access")
	v := oauth2.GenerateVerifier()
	o := e.authorize(t, browser(t), r.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), pinL1, "", true)
	tok, err := r.cfg.Exchange(ctx, o.code(), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	const origin = "https://app.example.vn"
	do := func(method, path, auth string, form url.Values) *http.Response {
		t.Helper()
		var body *strings.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		} else {
			body = strings.NewReader("")
		}
		req, _ := http.NewRequest(method, e.issuer+path, body)
		req.Header.Set("Origin", origin)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if method == http.MethodOptions {
			req.Header.Set("Access-Control-Request-Method", http.MethodGet)
			req.Header.Set("Access-Control-Request-Headers", "authorization") // as browsers send it
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	cases := []struct {
		name   string
		resp   *http.Response
		status int
	}{
		{"userinfo", do(http.MethodGet, "/userinfo", "Bearer "+tok.AccessToken, nil), http.StatusOK},
		{"userinfo with a bad token", do(http.MethodGet, "/userinfo", "Bearer x.y.z", nil), http.StatusUnauthorized},
		{"userinfo preflight", do(http.MethodOptions, "/userinfo", "", nil), http.StatusNoContent},
		{"revocation", do(http.MethodPost, "/revoke", "", url.Values{"token": {tok.AccessToken}, "client_id": {"portal"}, "client_secret": {clientSecret("portal")}}), http.StatusOK},
	}
	for _, c := range cases {
		if c.resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, c.resp.StatusCode, c.status)
		}
		if got := c.resp.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != origin {
			t.Errorf("%s: Access-Control-Allow-Origin %q", c.name, got)
		}
	}
	if r.active(t, e.issuer, tok.AccessToken) {
		t.Fatal("the token revoked from the browser is still active")
	}
}
