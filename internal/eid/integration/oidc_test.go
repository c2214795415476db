package integration

import (
	"context"
	"github.com/dancu-project/dancu/internal/web/portal"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func storageDialect(d string) storage.Dialect { return storage.Dialect(d) }

// TestProviderWithRealRegister signs a seeded person in through the
// provider, checks that the claims came from the register and that the read
// is in the person's access log under the client's purpose.
func TestProviderWithRealRegister(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env, p, accounts, sms := start(t, string(d))
			ctx := context.Background()
			e, err := accounts.StartRegistration(ctx, eid.RegistrationInput{PIN: p.pin, CardNumber: p.pin, FullName: p.name, BirthDate: p.birth, Phone: "0912345678"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := accounts.CompleteRegistration(ctx, e.ID, sms.code(), password); err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			srv := httptest.NewServer(mux)
			defer srv.Close()
			issuer := srv.URL + "/oidc"
			signInPages, err := portal.NewSignInPages(env.App.Log, false)
			if err != nil {
				t.Fatal(err)
			}
			prov, err := oidcop.New(oidcop.Deps{Pages: signInPages, DB: env.App.DB, Accounts: accounts, Register: env.App.Registry, Issuer: issuer, Secret: secret, Log: env.App.Log})
			if err != nil {
				t.Fatal(err)
			}
			prov.Mount(mux)
			clientSecret := strings.Repeat("c", 40)
			if err := prov.Clients().Add(ctx, oidcop.Client{ID: "portal", Secret: clientSecret, Name: "Cổng dịch vụ công", Purpose: "Thực hiện thủ tục hành chính",
				RedirectURIs: []string{redirect}, GrantTypes: []string{oidcop.GrantAuthorizationCode}, Scopes: []string{oidcop.ScopeProfile, oidcop.ScopeAddress}, DevMode: true}); err != nil {
				t.Fatal(err)
			}
			op, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatal(err)
			}
			cfg := oauth2.Config{ClientID: "portal", ClientSecret: clientSecret, Endpoint: op.Endpoint(), RedirectURL: redirect,
				Scopes: []string{oidc.ScopeOpenID, oidcop.ScopeProfile, oidcop.ScopeAddress}}
			v := oauth2.GenerateVerifier()
			code := apptest.SignIn(t, issuer, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), redirect, p.pin, password)
			tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := op.Verifier(&oidc.Config{ClientID: "portal"}).Verify(ctx, tok.Extra("id_token").(string)); err != nil {
				t.Fatal(err)
			}
			ui, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatal(err)
			}
			var info struct {
				Name, Birthdate string
				Address         struct{ Formatted string }
			}
			ui.Claims(&info)
			if info.Name != p.name || info.Birthdate != p.birth || info.Address.Formatted == "" {
				t.Fatalf("userinfo %+v", info)
			}
			var reads int
			env.App.AuditDB.R.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE actor = 'partner:portal' AND subject = $1 AND purpose = $2`,
				"person:"+p.pin, "oidc: Thực hiện thủ tục hành chính").Scan(&reads)
			if reads == 0 {
				t.Fatal("the provider's register read is not in the access log")
			}
			if logs := env.Logs.String(); strings.Contains(logs, p.pin) || strings.Contains(logs, "912345678") {
				t.Fatal("personal data in the logs")
			}
		})
	}
}
