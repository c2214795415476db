package oidcop_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/eid/passkeytest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func fullMigrations() []storage.Migrations {
	return []storage.Migrations{audit.Migrations(), eid.Migrations()}
}

// passkeyEnv is the provider of start() served again by an e-ID service
// with passkeys and the audit log on, plus a client that asks for "org".
type passkeyEnv struct {
	*env
	origin string // the browser's origin, as WebAuthn sees it
}

func startPasskeys(t *testing.T, db *storage.DB) *passkeyEnv {
	t.Helper()
	base := start(t, db)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg, err := eid.PasskeyConfigFor(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	al := audit.NewLog(db, time.Now, log)
	t.Cleanup(al.Close)
	accounts, err := eid.NewService(eid.Deps{DB: db, Register: base.register, SMS: &smsBox{}, Secret: secret, Log: log, Audit: al, Passkeys: cfg})
	if err != nil {
		t.Fatal(err)
	}
	issuer := srv.URL + "/oidc"
	provider, err := oidcop.New(oidcop.Deps{Pages: testPages(t), DB: db, Accounts: accounts, Register: base.register, Issuer: issuer, Secret: secret, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	provider.Mount(mux)
	if err := provider.Clients().Add(context.Background(), oidcop.Client{ID: "tax", Secret: clientSecret("tax"), Name: "Thuế điện tử",
		Purpose: "Khai thuế cho doanh nghiệp", RedirectURIs: []string{redirect},
		GrantTypes: []string{oidcop.GrantAuthorizationCode, oidcop.GrantRefreshToken},
		Scopes:     []string{oidcop.ScopeProfile, oidcop.ScopeOrg, "offline_access"}, DevMode: true}); err != nil {
		t.Fatal(err)
	}
	e := &env{srv: srv, issuer: issuer, provider: provider, accounts: accounts, register: base.register, totp: base.totp, db: db}
	return &passkeyEnv{env: e, origin: strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)}
}

// addPasskey registers a software authenticator for pin (through the
// service; the portal test registers through HTTP).
func (e *passkeyEnv) addPasskey(t *testing.T, pin string, level eid.Level) *passkeytest.Authenticator {
	t.Helper()
	ctx := context.Background()
	a := passkeytest.New()
	s := eid.Session{PIN: pin, Level: level}
	c, err := e.accounts.BeginPasskeyRegistration(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.Create(c.Options, e.origin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.accounts.FinishPasskeyRegistration(ctx, s, c.ID, "Máy tính", resp); err != nil {
		t.Fatal(err)
	}
	return a
}

// postJSON posts a passkey call as the page's script does.
func postJSON(t *testing.T, b *http.Client, target, csrf string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// passkeyPage opens the authorization URL and returns the login page's
// request id and CSRF token.
func (e *passkeyEnv) passkeyPage(t *testing.T, b *http.Client, authURL string) (string, string, string) {
	t.Helper()
	resp, err := b.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	o := read(t, resp)
	id, csrf := idRE.FindStringSubmatch(o.body), csrfRE.FindStringSubmatch(o.body)
	if o.status != http.StatusOK || id == nil || csrf == nil {
		t.Fatalf("login page %d:\n%s", o.status, o.body)
	}
	return id[1], csrf[1], o.body
}

// passkeySignIn runs the script's two calls with an authenticator at
// origin and returns the last call's status and answer.
func (e *passkeyEnv) passkeySignIn(t *testing.T, b *http.Client, id, csrf string, a *passkeytest.Authenticator, origin string) (int, map[string]any, map[string]any) {
	t.Helper()
	status, c := postJSON(t, b, e.issuer+"/passkey/options", csrf, map[string]string{"authRequestID": id})
	if status != http.StatusOK {
		t.Fatalf("options %d %v", status, c)
	}
	opts, _ := json.Marshal(c["options"])
	cred, err := a.Get(opts, origin)
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"authRequestID": id, "ceremony": c["ceremony"], "credential": json.RawMessage(cred)}
	status, out := postJSON(t, b, e.issuer+"/passkey/login", csrf, body)
	return status, out, body
}

// follow goes to the next step the script was sent to and finishes the
// flow (consent allowed), returning where it ended.
func (e *passkeyEnv) follow(t *testing.T, b *http.Client, next string) outcome {
	t.Helper()
	resp, err := b.Get(e.srv.URL + next)
	if strings.HasPrefix(next, "http") {
		resp, err = b.Get(next)
	}
	if err != nil {
		t.Fatal(err)
	}
	o := read(t, resp)
	if o.location == nil && strings.Contains(o.body, `name="decision"`) {
		o = submit(t, b, e.issuer+"/consent", o.body, url.Values{"decision": {"allow"}})
		o.consent = true
	}
	return o
}

func TestPasskeySignInThroughTheLoginPage(t *testing.T) {
	storagetest.Run(t, fullMigrations(), func(t *testing.T, db *storage.DB) {
		e := startPasskeys(t, db)
		ctx := context.Background()
		key2 := e.addPasskey(t, pinL2, eid.Level2)
		key1 := e.addPasskey(t, pinL1, eid.Level1)

		// The script is served by the provider itself.
		resp, err := http.Get(e.issuer + "/webauthn.js")
		if err != nil {
			t.Fatal(err)
		}
		js, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || !bytes.Contains(js, []byte("navigator.credentials.get")) {
			t.Fatalf("webauthn.js %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}

		// A level-2 client: the level-2 citizen's passkey with user
		// verification reaches level 2 without password or TOTP.
		r := e.rp(t, "bank", oidcop.ScopeProfile)
		verifier := oauth2.GenerateVerifier()
		b := browser(t)
		id, csrf, page := e.passkeyPage(t, b, r.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
		if !strings.Contains(page, "Đăng nhập bằng khóa truy cập (passkey)") || !strings.Contains(page, "/webauthn.js") {
			t.Fatalf("no passkey button:\n%s", page)
		}
		status, out, replay := e.passkeySignIn(t, b, id, csrf, key2, e.origin)
		if status != http.StatusOK || out["redirect"] == nil {
			t.Fatalf("passkey login %d %v", status, out)
		}
		o := e.follow(t, b, out["redirect"].(string))
		if o.code() == "" {
			t.Fatalf("flow ended %d:\n%s", o.status, o.body)
		}
		tok, err := r.cfg.Exchange(ctx, o.code(), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		idt, err := r.verifier.Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatal(err)
		}
		var claims struct {
			ACR string   `json:"acr"`
			AMR []string `json:"amr"`
		}
		idt.Claims(&claims)
		if claims.ACR != oidcop.ACRLevel2 || !slices.Contains(claims.AMR, "pop") || !slices.Contains(claims.AMR, "mfa") {
			t.Fatalf("ID token %+v", claims)
		}

		// The same answer again: the challenge is spent.
		if status, out := postJSON(t, b, e.issuer+"/passkey/login", csrf, replay); status != http.StatusBadRequest && status != http.StatusUnauthorized {
			t.Fatalf("replay %d %v", status, out)
		}

		cases := []struct {
			name   string
			key    func() *passkeytest.Authenticator
			origin string
			csrf   bool
			status int
			code   string
		}{
			{"wrong origin", func() *passkeytest.Authenticator { return key2 }, "http://evil.localhost:1", true, http.StatusUnauthorized, eid.ErrPasskeyFailed.Code},
			{"level-1 account at a level-2 client", func() *passkeytest.Authenticator { return key1 }, "", true, http.StatusForbidden, eid.ErrLevelRequired.Code},
			{"without user verification at a level-2 client", func() *passkeytest.Authenticator {
				k := *key2
				k.UV = false
				return &k
			}, "", true, http.StatusForbidden, eid.ErrLevelRequired.Code},
			{"passkey of another account", func() *passkeytest.Authenticator {
				k := *key1
				k.UserHandle = key2.UserHandle
				return &k
			}, "", true, http.StatusUnauthorized, eid.ErrPasskeyFailed.Code},
			{"unregistered passkey", func() *passkeytest.Authenticator {
				k := passkeytest.New()
				k.UserHandle, k.RPID = key2.UserHandle, key2.RPID
				return k
			}, "", true, http.StatusUnauthorized, eid.ErrPasskeyFailed.Code},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				b := browser(t)
				id, csrf, _ := e.passkeyPage(t, b, r.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
				origin := tc.origin
				if origin == "" {
					origin = e.origin
				}
				status, out, _ := e.passkeySignIn(t, b, id, csrf, tc.key(), origin)
				if status != tc.status || out["code"] != tc.code {
					t.Fatalf("got %d %v, want %d %s", status, out, tc.status, tc.code)
				}
			})
		}
		t.Run("no CSRF token", func(t *testing.T) {
			b := browser(t)
			id, _, _ := e.passkeyPage(t, b, r.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
			if status, _ := postJSON(t, b, e.issuer+"/passkey/options", "", map[string]string{"authRequestID": id}); status != http.StatusBadRequest {
				t.Fatalf("options without CSRF: %d", status)
			}
		})
		t.Run("counter regression", func(t *testing.T) {
			// The counter the provider stored, however many sign-ins ran
			// before this case: a signature that does not go past it.
			stored, err := e.accounts.Passkeys(ctx, pinL2)
			if err != nil || len(stored) != 1 || stored[0].SignCount == 0 {
				t.Fatalf("stored passkeys %+v %v", stored, err)
			}
			k := *key2
			k.Counter, k.FixedCounter = stored[0].SignCount, true
			b := browser(t)
			id, csrf, _ := e.passkeyPage(t, b, r.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
			status, out, _ := e.passkeySignIn(t, b, id, csrf, &k, e.origin)
			if status != http.StatusUnauthorized {
				t.Fatalf("regressed counter %d %v", status, out)
			}
			list, _ := e.accounts.Passkeys(ctx, pinL2)
			if len(list) != 1 || !list[0].CloneWarning {
				t.Fatalf("clone warning %+v", list)
			}
		})
	})
}

// jwtClaims decodes a JWT's payload (its signature is checked elsewhere).
func jwtClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}

func TestActingForAnOrganisation(t *testing.T) {
	storagetest.Run(t, fullMigrations(), func(t *testing.T, db *storage.DB) {
		e := startPasskeys(t, db)
		ctx := context.Background()
		registrar := actor.Actor{ID: "staff:hn", Role: actor.Registrar, Unit: "01", Province: "01"}
		org, err := e.accounts.RegisterOrg(ctx, registrar, eid.OrgInput{Kind: eid.OrgCompany, Code: "0101234567", Name: "Công ty TNHH Sao Mai", RepresentativePIN: pinL2})
		if err != nil {
			t.Fatal(err)
		}
		rep := eid.Session{PIN: pinL2, Level: eid.Level2}
		d, err := e.accounts.Delegate(ctx, rep, org.ID, pinL1, eid.RoleAccountant, time.Now().Add(30*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		repMember, _ := e.accounts.Memberships(ctx, pinL2)

		r := e.rp(t, "tax", oidcop.ScopeOrg, "offline_access")
		// signIn signs pinL1 in with the password and returns the page
		// after it (the chooser when there is something to choose).
		signIn := func(t *testing.T) (*http.Client, outcome, string) {
			verifier := oauth2.GenerateVerifier()
			b := browser(t)
			resp, err := b.Get(r.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
			if err != nil {
				t.Fatal(err)
			}
			o := submit(t, b, e.issuer+"/login", read(t, resp).body, url.Values{"pin": {pinL1}, "password": {password}})
			return b, o, verifier
		}
		b, o, verifier := signIn(t)
		if !strings.Contains(o.body, "Đăng nhập với tư cách") || !strings.Contains(o.body, "Công ty TNHH Sao Mai") || !strings.Contains(o.body, "Kế toán") {
			t.Fatalf("no organisation chooser %d:\n%s", o.status, o.body)
		}
		// Choosing the representative's membership (not the citizen's) is refused.
		if bad := submit(t, b, e.issuer+"/org", o.body, url.Values{"org": {repMember[0].ID}}); bad.status != http.StatusForbidden || bad.location != nil {
			t.Fatalf("acting under another's membership: %d %v", bad.status, bad.location)
		}
		o = submit(t, b, e.issuer+"/org", o.body, url.Values{"org": {d.ID}})
		if o.location == nil && strings.Contains(o.body, `name="decision"`) {
			if !strings.Contains(o.body, "Tổ chức bạn chọn thay mặt") {
				t.Fatalf("consent does not list the organisation:\n%s", o.body)
			}
			o = submit(t, b, e.issuer+"/consent", o.body, url.Values{"decision": {"allow"}})
		}
		if o.code() == "" {
			t.Fatalf("flow ended %d:\n%s", o.status, o.body)
		}
		tok, err := r.cfg.Exchange(ctx, o.code(), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		// prompt=none with the session in force: the organisation is
		// chosen on a page, so the client gets interaction_required.
		if o2, _ := ssoFlow(t, b, r, oauth2.SetAuthURLParam("prompt", "none")); o2.location == nil || o2.location.Query().Get("error") != "interaction_required" {
			t.Fatalf("prompt=none with an organisation to choose: %d %v", o2.status, o2.location)
		}
		idt, err := r.verifier.Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatal(err)
		}
		var claims struct {
			Org map[string]any `json:"org"`
			Act map[string]any `json:"act"`
		}
		idt.Claims(&claims)
		acct, _ := e.accounts.Account(ctx, pinL1)
		if claims.Org["id"] != org.ID || claims.Org["name"] != "Công ty TNHH Sao Mai" || claims.Org["role"] != eid.RoleAccountant ||
			claims.Org["code"] != "0101234567" || claims.Act["sub"] != acct.Subject || idt.Subject != acct.Subject {
			t.Fatalf("ID token org %v act %v sub %s", claims.Org, claims.Act, idt.Subject)
		}
		at := jwtClaims(t, tok.AccessToken)
		if o, _ := at["org"].(map[string]any); o["id"] != org.ID || o["role"] != eid.RoleAccountant {
			t.Fatalf("access token %v", at)
		}
		// Refresh keeps the organisation while the delegation is in force.
		fresh, err := r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatal(err)
		}
		if o, _ := jwtClaims(t, fresh.AccessToken)["org"].(map[string]any); o["id"] != org.ID {
			t.Fatalf("refreshed access token lost the organisation: %v", o)
		}
		// Revoked: the next refresh fails, and the chooser is gone.
		if err := e.accounts.RevokeDelegation(ctx, rep, org.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token(); err == nil {
			t.Fatal("refresh with a revoked delegation succeeded")
		}
		_, o, _ = signIn(t)
		if strings.Contains(o.body, "Đăng nhập với tư cách") {
			t.Fatal("chooser shown after the delegation was revoked")
		}
		// The consent given is in the citizen's history, by the citizen.
		entries, err := audit.BySubject(ctx, db, "person:"+pinL1, 50)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, en := range entries {
			got[en.Action] = en.Actor
		}
		if got[eid.ActionConsentGranted] != "citizen:"+pinL1 || got[eid.ActionDelegationGranted] != "citizen:"+pinL2 || got[eid.ActionDelegationRevoked] != "citizen:"+pinL2 {
			t.Fatalf("audit %v", got)
		}
	})
}

var _ = oidc.ScopeOpenID
