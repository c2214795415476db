package integration

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

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
			prov, err := oidcop.New(oidcop.Deps{DB: env.App.DB, Accounts: accounts, Register: env.App.Registry, Issuer: issuer, Secret: secret, Log: env.App.Log})
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
			code := signIn(t, issuer, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), p.pin)
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

var (
	idRE   = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)
	csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// signIn drives the login and consent pages like a browser and returns the
// code the relying party receives.
func signIn(t *testing.T, issuer, authURL, pin string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	var code string
	b := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			code = req.URL.Query().Get("code")
			return http.ErrUseLastResponse
		}
		return nil
	}}
	page := func(resp *http.Response, err error) string {
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	post := func(target, body string, form url.Values) string {
		id, csrf := idRE.FindStringSubmatch(body), csrfRE.FindStringSubmatch(body)
		if id == nil || csrf == nil {
			t.Fatalf("no form:\n%s", body)
		}
		form.Set("authRequestID", id[1])
		form.Set("csrf", csrf[1])
		return page(b.PostForm(target, form))
	}
	body := page(b.Get(authURL))
	body = post(issuer+"/login", body, url.Values{"pin": {pin}, "password": {password}})
	if code == "" {
		post(issuer+"/consent", body, url.Values{"decision": {"allow"}})
	}
	if code == "" {
		t.Fatal("no code")
	}
	return code
}
