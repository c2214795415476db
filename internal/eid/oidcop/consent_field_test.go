package oidcop_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestConsentPerField: the consent page lists each field with its box;
// an optional field left unticked is absent from the ID token, the access
// token's scope and userinfo, and is not asked again; withdrawing one
// field stops the tokens already issued and asks again next time.
func TestConsentPerField(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		ctx := context.Background()
		if err := e.provider.Clients().Add(ctx, oidcop.Client{ID: "clinic", Secret: clientSecret("clinic"), Name: "Phòng khám", Purpose: "Đặt lịch khám",
			RedirectURIs: []string{redirect}, GrantTypes: []string{oidcop.GrantAuthorizationCode}, DevMode: true,
			Scopes: []string{oidcop.ScopeProfile, oidcop.ScopePIN}, OptionalScopes: []string{oidcop.ScopePIN}}); err != nil {
			t.Fatal(err)
		}
		r := e.rp(t, "clinic", oidcop.ScopeProfile, oidcop.ScopePIN)
		b := browser(t)
		verifier := oauth2.GenerateVerifier()
		resp, err := b.Get(r.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
		if err != nil {
			t.Fatal(err)
		}
		o := read(t, resp)
		o = submit(t, b, e.issuer+"/login", o.body, url.Values{"pin": {pinL1}, "password": {password}})
		if !strings.Contains(o.body, `id="scope-pin"`) || strings.Contains(o.body, `id="scope-profile"`) || !strings.Contains(o.body, "Số định danh cá nhân") {
			t.Fatalf("consent page: the optional field needs a box, the required one none:\n%s", o.body)
		}
		// The citizen unticks the PIN: the form posts only profile.
		o = submit(t, b, e.issuer+"/consent", o.body, url.Values{"decision": {"allow"}, "scope": {oidcop.ScopeProfile}})
		tok, err := r.cfg.Exchange(ctx, o.code(), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange after consent (%d %v): %v", o.status, o.location, err)
		}
		idToken, _ := tok.Extra("id_token").(string)
		if _, err := r.verifier.Verify(ctx, idToken); err != nil {
			t.Fatal(err)
		}
		checkNoPIN := func(t *testing.T, tok *oauth2.Token) {
			t.Helper()
			if _, ok := jwtClaims(t, tok.Extra("id_token").(string))["pin"]; ok {
				t.Error("the ID token carries the declined PIN")
			}
			scope, _ := jwtClaims(t, tok.AccessToken)["scope"].(string)
			if slices.Contains(strings.Fields(scope), oidcop.ScopePIN) || !slices.Contains(strings.Fields(scope), oidcop.ScopeProfile) {
				t.Errorf("access token scope %q", scope)
			}
			ui, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatal(err)
			}
			var info map[string]any
			ui.Claims(&info)
			if _, ok := info["pin"]; ok || info["name"] != "Nguyễn Văn An" {
				t.Errorf("userinfo %v: want the name and no PIN", info)
			}
		}
		checkNoPIN(t, tok)

		// Not asked again: the next sign-in (silent) releases the same.
		o, v := ssoFlow(t, b, r, oauth2.SetAuthURLParam("prompt", "none"))
		if o.code() == "" {
			t.Fatalf("the declined field was asked again: %d %v", o.status, o.location)
		}
		tok2, err := r.cfg.Exchange(ctx, o.code(), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		checkNoPIN(t, tok2)

		// Withdrawing the profile field: the tokens stop, and the next
		// sign-in asks for consent again.
		acct, _ := e.accounts.Account(ctx, pinL1)
		if err := e.provider.WithdrawConsentScope(ctx, acct.Subject, "clinic", oidcop.ScopeProfile); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok2.AccessToken)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("userinfo after withdrawal: %v %v", resp.StatusCode, err)
		}
		o, _ = ssoFlow(t, b, r, oauth2.SetAuthURLParam("prompt", "none"))
		if o.location == nil || o.location.Query().Get("error") != "consent_required" {
			t.Fatalf("after withdrawing a field: %d %v", o.status, o.location)
		}
		cs, err := e.provider.Consents(ctx, acct.Subject)
		if err != nil || len(cs) != 1 || cs[0].Withdrawn.IsZero() || len(cs[0].Scopes) != 0 || !slices.Equal(cs[0].Declined, []string{oidcop.ScopePIN}) {
			t.Fatalf("consents after withdrawing the only granted field: %+v %v", cs, err)
		}
	})
}
