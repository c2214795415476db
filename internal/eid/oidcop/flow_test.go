package oidcop_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func migrations() []storage.Migrations { return []storage.Migrations{eid.Migrations()} }

// rp is a relying party built on go-oidc and x/oauth2, as a partner would.
type rp struct {
	provider *oidc.Provider
	cfg      oauth2.Config
	verifier *oidc.IDTokenVerifier
	secret   string
	meta     struct {
		Introspection string `json:"introspection_endpoint"`
		Revocation    string `json:"revocation_endpoint"`
	}
}

func (e *env) rp(t testing.TB, clientID string, scopes ...string) *rp {
	t.Helper()
	p, err := oidc.NewProvider(context.Background(), e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	r := &rp{provider: p, verifier: p.Verifier(&oidc.Config{ClientID: clientID})}
	if clientID != "app" {
		r.secret = clientSecret(clientID)
	}
	r.cfg = oauth2.Config{ClientID: clientID, ClientSecret: r.secret, Endpoint: p.Endpoint(), RedirectURL: redirect,
		Scopes: append([]string{oidc.ScopeOpenID}, scopes...)}
	if err := p.Claims(&r.meta); err != nil {
		t.Fatal(err)
	}
	return r
}

// post calls an endpoint authenticated as the client.
func (r *rp) post(t testing.TB, endpoint string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(r.cfg.ClientID, r.secret)
	status, _, out := doJSON(t, req)
	return status, out
}

func (r *rp) introspect(t *testing.T, token string) map[string]any {
	t.Helper()
	status, out := r.post(t, r.meta.Introspection, url.Values{"token": {token}})
	if status != http.StatusOK {
		t.Fatalf("introspection status %d", status)
	}
	return out
}

func TestAuthorizationCodeFlow(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		ctx := context.Background()
		r := e.rp(t, "portal", oidcop.ScopeProfile, oidcop.ScopePIN, "offline_access")
		verifier := oauth2.GenerateVerifier()
		authURL := r.cfg.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-1"))
		o := e.authorize(t, browser(t), authURL, pinL1, "", true)
		if !o.consent || o.code() == "" || o.location.Query().Get("state") != "state-1" {
			t.Fatalf("flow ended with %d %v consent=%v:\n%s", o.status, o.location, o.consent, o.body)
		}
		tok, err := r.cfg.Exchange(ctx, o.code(), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := r.verifier.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("ID token does not verify against the JWKS: %v", err)
		}
		var claims struct {
			ACR   string   `json:"acr"`
			AMR   []string `json:"amr"`
			Nonce string   `json:"nonce"`
		}
		idt.Claims(&claims)
		acct, _ := e.accounts.Account(ctx, pinL1)
		if idt.Subject != acct.Subject || claims.ACR != oidcop.ACRLevel1 || claims.Nonce != "nonce-1" {
			t.Fatalf("ID token claims %+v sub %s", claims, idt.Subject)
		}
		// Userinfo reads the register for the client's purpose.
		ui, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatal(err)
		}
		var info struct {
			Name, Birthdate, Gender, PIN string
		}
		ui.Claims(&info)
		if info.Name != "Nguyễn Văn An" || info.Birthdate != "1990-03-15" || info.Gender != "male" || info.PIN != pinL1 {
			t.Fatalf("userinfo %+v", info)
		}
		if e.register.reads["partner:portal oidc: Thực hiện thủ tục hành chính"] == 0 {
			t.Fatalf("register reads %v", e.register.reads)
		}
		// The access token is active, with its level.
		in := r.introspect(t, tok.AccessToken)
		if in["active"] != true || in["acr"] != oidcop.ACRLevel1 || in["sub"] != acct.Subject {
			t.Fatalf("introspection %v", in)
		}
		// Another client learns nothing about the token.
		if in := e.rp(t, "bank").introspect(t, tok.AccessToken); in["active"] != false {
			t.Fatalf("introspection by another client %v", in)
		}
		// Refresh rotates the refresh token.
		fresh, err := r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatal(err)
		}
		if fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken {
			t.Fatal("refresh token not rotated")
		}
		if raw, _ := fresh.Extra("id_token").(string); raw == "" {
			t.Fatal("no ID token on refresh")
		} else {
			idt, err := r.verifier.Verify(ctx, raw)
			if err != nil {
				t.Fatal(err)
			}
			idt.Claims(&claims)
			if claims.ACR != oidcop.ACRLevel1 {
				t.Fatalf("refreshed ID token acr %q", claims.ACR)
			}
		}
		// Revocation: the access token is no longer active.
		if status, _ := r.post(t, r.meta.Revocation, url.Values{"token": {fresh.AccessToken}}); status != http.StatusOK {
			t.Fatalf("revocation status %d", status)
		}
		if in := r.introspect(t, fresh.AccessToken); in["active"] != false {
			t.Fatalf("revoked token introspects %v", in)
		}
		// Reusing the first refresh token revokes the whole family.
		if _, err := r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Fatal("a spent refresh token was accepted")
		}
		if _, err := r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token(); err == nil {
			t.Fatal("the family survived the reuse of a refresh token")
		}
		if in := r.introspect(t, tok.AccessToken); in["active"] != false {
			t.Fatalf("access token of a revoked family introspects %v", in)
		}
		// Consent is remembered: the next sign-in goes straight back.
		verifier = oauth2.GenerateVerifier()
		o = e.authorize(t, browser(t), r.cfg.AuthCodeURL("s2", oauth2.S256ChallengeOption(verifier)), pinL1, "", true)
		if o.consent || o.code() == "" {
			t.Fatalf("second sign-in asked again or failed: %d %v", o.status, o.location)
		}
		// Withdrawn, it is asked for again.
		if err := e.provider.WithdrawConsent(ctx, acct.Subject, "portal"); err != nil {
			t.Fatal(err)
		}
		o = e.authorize(t, browser(t), r.cfg.AuthCodeURL("s3", oauth2.S256ChallengeOption(verifier)), pinL1, "", false)
		if !o.consent || o.location == nil || o.location.Query().Get("error") != "access_denied" {
			t.Fatalf("refused consent: %d %v", o.status, o.location)
		}
		consents, err := e.provider.Consents(ctx, acct.Subject)
		if err != nil || len(consents) != 1 || consents[0].Withdrawn.IsZero() {
			t.Fatalf("consents %+v %v", consents, err)
		}
	})
}

func TestFlowNegatives(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		ctx := context.Background()
		r := e.rp(t, "portal", oidcop.ScopeProfile)
		t.Run("wrong redirect_uri", func(t *testing.T) {
			cfg := r.cfg
			cfg.RedirectURL = "http://127.0.0.1:9/evil"
			resp, err := browser(t).Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Fatalf("status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
		t.Run("no PKCE", func(t *testing.T) {
			resp, err := browser(t).Get(r.cfg.AuthCodeURL("s"))
			if err != nil {
				t.Fatal(err)
			}
			o := read(t, resp)
			if o.location == nil || o.location.Query().Get("error") != "invalid_request" || o.code() != "" {
				t.Fatalf("no PKCE: %d %v", o.status, o.location)
			}
		})
		t.Run("plain PKCE", func(t *testing.T) {
			resp, err := browser(t).Get(r.cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("code_challenge", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq"), oauth2.SetAuthURLParam("code_challenge_method", "plain")))
			if err != nil {
				t.Fatal(err)
			}
			if o := read(t, resp); o.location == nil || o.location.Query().Get("error") != "invalid_request" {
				t.Fatalf("plain PKCE: %d %v", o.status, o.location)
			}
		})
		code := func(t *testing.T, verifier string) string {
			o := e.authorize(t, browser(t), r.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), pinL1, "", true)
			if o.code() == "" {
				t.Fatalf("no code: %d %v\n%s", o.status, o.location, o.body)
			}
			return o.code()
		}
		t.Run("missing verifier", func(t *testing.T) {
			if _, err := r.cfg.Exchange(ctx, code(t, oauth2.GenerateVerifier())); err == nil {
				t.Fatal("code exchanged without a verifier")
			}
		})
		t.Run("wrong verifier", func(t *testing.T) {
			if _, err := r.cfg.Exchange(ctx, code(t, oauth2.GenerateVerifier()), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
				t.Fatal("code exchanged with a wrong verifier")
			}
		})
		t.Run("redirect_uri differs at exchange", func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			c := code(t, v)
			cfg := r.cfg
			cfg.RedirectURL = "http://127.0.0.1:9/other"
			if _, err := cfg.Exchange(ctx, c, oauth2.VerifierOption(v)); err == nil {
				t.Fatal("code exchanged with another redirect_uri")
			}
		})
		t.Run("replayed code", func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			c := code(t, v)
			if _, err := r.cfg.Exchange(ctx, c, oauth2.VerifierOption(v)); err != nil {
				t.Fatal(err)
			}
			if _, err := r.cfg.Exchange(ctx, c, oauth2.VerifierOption(v)); err == nil {
				t.Fatal("a code was exchanged twice")
			}
		})
		t.Run("code of another client", func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			c := code(t, v)
			bank := e.rp(t, "bank")
			if _, err := bank.cfg.Exchange(ctx, c, oauth2.VerifierOption(v)); err == nil {
				t.Fatal("another client exchanged the code")
			}
		})
		t.Run("wrong client secret", func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			c := code(t, v)
			cfg := r.cfg
			cfg.ClientSecret = "wrong"
			if _, err := cfg.Exchange(ctx, c, oauth2.VerifierOption(v)); err == nil {
				t.Fatal("a wrong secret was accepted")
			}
		})
	})
}

func TestLevel2Client(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		ctx := context.Background()
		bank := e.rp(t, "bank", oidcop.ScopeProfile)
		v := oauth2.GenerateVerifier()
		authURL := bank.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v))
		cases := []struct {
			name, pin, totp string
		}{
			{"level-1 account", pinL1, ""},
			{"level-2 account without its second factor", pinL2, ""},
			{"level-2 account with a wrong code", pinL2, "000000"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				o := e.authorize(t, browser(t), authURL, c.pin, c.totp, true)
				if o.code() != "" || o.status == http.StatusOK {
					t.Fatalf("a level-2 client got a code: %d %v", o.status, o.location)
				}
			})
		}
		o := e.authorize(t, browser(t), authURL, pinL2, totpCode(e.totp, time.Now()), true)
		if o.code() == "" {
			t.Fatalf("level 2 sign-in: %d %v\n%s", o.status, o.location, o.body)
		}
		tok, err := bank.cfg.Exchange(ctx, o.code(), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		idt, err := bank.verifier.Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatal(err)
		}
		var claims struct {
			ACR string   `json:"acr"`
			AMR []string `json:"amr"`
		}
		idt.Claims(&claims)
		if claims.ACR != oidcop.ACRLevel2 || len(claims.AMR) != 3 {
			t.Fatalf("level-2 ID token %+v", claims)
		}
		// acr_values asks a level-1 client's flow for level 2 (step-up).
		portal := e.rp(t, "portal")
		o = e.authorize(t, browser(t), portal.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("acr_values", oidcop.ACRLevel2)), pinL1, "", true)
		if o.code() != "" {
			t.Fatal("acr_values=level2 was satisfied by a level-1 sign-in")
		}
	})
}

func TestClientCredentials(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		ctx := context.Background()
		p, err := oidc.NewProvider(ctx, e.issuer)
		if err != nil {
			t.Fatal(err)
		}
		cc := clientcredentials.Config{ClientID: "partner", ClientSecret: clientSecret("partner"), TokenURL: p.Endpoint().TokenURL, Scopes: []string{"reconcile"}}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r := e.rp(t, "partner")
		in := r.introspect(t, tok.AccessToken)
		if in["active"] != true || in["sub"] != "partner" || in["scope"] != "reconcile" {
			t.Fatalf("introspection %v", in)
		}
		cc.ClientSecret = "wrong"
		if _, err := cc.Token(ctx); err == nil {
			t.Fatal("wrong secret accepted")
		}
		// A client not registered for the grant is refused.
		pc := clientcredentials.Config{ClientID: "portal", ClientSecret: clientSecret("portal"), TokenURL: p.Endpoint().TokenURL}
		if _, err := pc.Token(ctx); err == nil {
			t.Fatal("client credentials for a client without the grant")
		}
	})
}

func TestRevokedAccountLosesTokens(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		ctx := context.Background()
		r := e.rp(t, "portal", "offline_access")
		v := oauth2.GenerateVerifier()
		o := e.authorize(t, browser(t), r.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), pinL1, "", true)
		tok, err := r.cfg.Exchange(ctx, o.code(), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.accounts.HandleDeath(ctx, []byte(`{"event_id":"ev-9","kind":"death","pin":"`+pinL1+`"}`)); err != nil {
			t.Fatal(err)
		}
		if in := r.introspect(t, tok.AccessToken); in["active"] != false {
			t.Fatalf("a dead person's token introspects %v", in)
		}
		if _, err := r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Fatal("a dead person's refresh token worked")
		}
	})
}

func TestKeyRotation(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite, migrations())
	e := start(t, db)
	ctx := context.Background()
	r := e.rp(t, "partner")
	cc := clientcredentials.Config{ClientID: "partner", ClientSecret: clientSecret("partner"), TokenURL: r.provider.Endpoint().TokenURL}
	before, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.provider.RotateKey(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	after, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Both tokens verify: the retired key stays in the JWKS.
	ks := oidc.NewRemoteKeySet(ctx, e.issuer+"/keys")
	for _, tok := range []*oauth2.Token{before, after} {
		if _, err := ks.VerifySignature(ctx, tok.AccessToken); err != nil {
			t.Fatal(err)
		}
	}
	kid := func(tok string) string {
		h, _ := json.Marshal(strings.Split(tok, ".")[0])
		return string(h)
	}
	if kid(before.AccessToken) == kid(after.AccessToken) {
		t.Fatal("rotation did not change the signing key")
	}
}

// TestLogout is RP-initiated logout: the client's tokens for the citizen end.
func TestLogout(t *testing.T) {
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
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	r.provider.Claims(&meta)
	q := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {redirect + "/logged-out"}, "state": {"bye"}}
	resp, err := browser(t).Get(meta.EndSession + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, redirect+"/logged-out") {
		t.Fatalf("logout went to %q (%d)", loc, resp.StatusCode)
	}
	if in := r.introspect(t, tok.AccessToken); in["active"] != false {
		t.Fatalf("token after logout %v", in)
	}
	if _, err := r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Fatal("refresh after logout")
	}
	if err := e.provider.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.accounts.Purge(ctx); err != nil {
		t.Fatal(err)
	}
}
