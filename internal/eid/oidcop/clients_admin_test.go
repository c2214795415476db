package oidcop_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestValidateClient: each rule of a registration names its field with a
// Vietnamese message; good registrations of each kind pass.
func TestValidateClient(t *testing.T) {
	web := oidcop.Client{ID: "cong-dvc", Name: "Cổng dịch vụ công", Purpose: "Đăng nhập", GrantTypes: []string{oidcop.GrantAuthorizationCode},
		RedirectURIs: []string{"https://dichvucong.example.vn/cb"}, Scopes: []string{"profile"}, MinLevel: eid.Level1}
	jwks := `{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`
	tests := []struct {
		name      string
		edit      func(c *oidcop.Client)
		hasSecret bool
		fields    []string // fields at fault, in order; none: valid
	}{
		{"public web client", func(*oidcop.Client) {}, false, nil},
		{"mobile app, private scheme", func(c *oidcop.Client) { c.RedirectURIs = []string{"vn.gov.dichvucong:/callback"} }, false, nil},
		{"native app on loopback", func(c *oidcop.Client) { c.RedirectURIs = []string{"http://127.0.0.1:8123/cb"} }, false, nil},
		{"confidential on loopback http", func(c *oidcop.Client) { c.RedirectURIs = []string{"http://127.0.0.1:8123/cb"} }, true, []string{"redirect_uris"}},
		{"http in dev mode", func(c *oidcop.Client) { c.RedirectURIs, c.DevMode = []string{"http://rp.test/cb"}, true }, true, nil},
		{"http elsewhere", func(c *oidcop.Client) { c.RedirectURIs = []string{"http://rp.example.vn/cb"} }, false, []string{"redirect_uris"}},
		{"private scheme of a confidential client", func(c *oidcop.Client) { c.RedirectURIs = []string{"vn.gov.app:/cb"} }, true, []string{"redirect_uris"}},
		{"fragment", func(c *oidcop.Client) { c.RedirectURIs = []string{"https://rp.example.vn/cb#x"} }, false, []string{"redirect_uris"}},
		{"relative", func(c *oidcop.Client) { c.RedirectURIs = []string{"/cb"} }, false, []string{"redirect_uris"}},
		{"no redirect", func(c *oidcop.Client) { c.RedirectURIs = nil }, false, []string{"redirect_uris"}},
		{"bad post-logout", func(c *oidcop.Client) { c.PostLogoutRedirectURIs = []string{"ftp://x"} }, false, []string{"post_logout_redirect_uris"}},
		{"refresh without code", func(c *oidcop.Client) { c.GrantTypes = []string{oidcop.GrantRefreshToken} }, false, []string{"grant_types"}},
		{"public client credentials", func(c *oidcop.Client) { c.GrantTypes = []string{oidcop.GrantClientCredentials}; c.RedirectURIs = nil }, false, []string{"grant_types"}},
		{"system with secret", func(c *oidcop.Client) { c.GrantTypes = []string{oidcop.GrantClientCredentials}; c.RedirectURIs = nil }, true, nil},
		{"system with keys", func(c *oidcop.Client) {
			c.GrantTypes, c.RedirectURIs, c.JWKS, c.RequireDPoP = []string{oidcop.GrantClientCredentials}, nil, jwks, true
		}, false, nil},
		{"PAR without code", func(c *oidcop.Client) {
			c.GrantTypes, c.RedirectURIs, c.RequirePAR = []string{oidcop.GrantClientCredentials}, nil, true
		}, true, []string{"require_par"}},
		{"unknown grant", func(c *oidcop.Client) { c.GrantTypes = append(c.GrantTypes, "password") }, false, []string{"grant_types"}},
		{"no grant", func(c *oidcop.Client) { c.GrantTypes = nil }, false, []string{"grant_types"}},
		{"unknown scope", func(c *oidcop.Client) { c.Scopes = []string{"photo"} }, false, []string{"scopes"}},
		{"level 3", func(c *oidcop.Client) { c.MinLevel = 3 }, false, []string{"min_level"}},
		{"short secret", func(c *oidcop.Client) { c.Secret = "ngắn" }, false, []string{"secret"}},
		{"private key in JWKS", func(c *oidcop.Client) {
			c.JWKS = `{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cLSA8FGM0lxXwQ5YxCmYHw"}]}`
		}, false, []string{"jwks"}},
		{"JWKS not JSON", func(c *oidcop.Client) { c.JWKS = "{" }, false, []string{"jwks"}},
		{"bad id, empty name and purpose", func(c *oidcop.Client) { c.ID, c.Name, c.Purpose = "A B", " ", "" }, false, []string{"id", "name", "purpose"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := web
			c.RedirectURIs = append([]string(nil), web.RedirectURIs...)
			tc.edit(&c)
			err := oidcop.ValidateClient(c, tc.hasSecret)
			var got []string
			if err != nil {
				for _, f := range fault.Faults(err) {
					if f.Kind != fault.Invalid || f.Code != "eid.client_invalid" || f.Message == "" || f.English == "" {
						t.Errorf("fault %+v is not a field fault with both languages", f)
					}
					got = append(got, f.Field)
				}
			}
			if len(got) != len(tc.fields) {
				t.Fatalf("fields at fault %v, want %v (%v)", got, tc.fields, err)
			}
			for i := range got {
				if got[i] != tc.fields[i] {
					t.Errorf("fields at fault %v, want %v", got, tc.fields)
				}
			}
		})
	}
}

// TestClientAdministration: list, update (secret kept, replaced, dropped),
// disable and enable, on both backends.
func TestClientAdministration(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{eid.Migrations()}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		cs := oidcop.NewClients(db, func() time.Time { return now })
		secret := oidcop.NewSecret()
		sys := oidcop.Client{ID: "he-thong", Secret: secret, Name: "Hệ thống", Purpose: "Đồng bộ", GrantTypes: []string{oidcop.GrantClientCredentials}, MinLevel: eid.Level1}
		app := oidcop.Client{ID: "app", Name: "Ứng dụng", Purpose: "Đăng nhập", GrantTypes: []string{oidcop.GrantAuthorizationCode},
			RedirectURIs: []string{"vn.gov.app:/cb"}, MinLevel: eid.Level2}
		for _, c := range []oidcop.Client{sys, app} {
			if err := cs.Register(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		if err := cs.Register(ctx, app); !errors.Is(err, oidcop.ErrClientExists) || fault.As(err).Field != "id" {
			t.Errorf("second registration: %v", err)
		}
		list, err := cs.List(ctx)
		if err != nil || len(list) != 2 || list[0].ID != "app" || list[1].ID != "he-thong" || !list[1].HasSecret() || list[0].HasSecret() ||
			list[0].MinLevel != eid.Level2 || !list[0].Created.Equal(now) {
			t.Fatalf("list: %+v %v", list, err)
		}
		// Warm the cache, then change the name keeping the secret: seen at once.
		if _, err := cs.Authenticate(ctx, "he-thong", secret); err != nil {
			t.Fatal(err)
		}
		sys.Secret, sys.Name = "", "Hệ thống mới"
		if err := cs.Update(ctx, sys, true); err != nil {
			t.Fatal(err)
		}
		if c, err := cs.Authenticate(ctx, "he-thong", secret); err != nil || c.Name != "Hệ thống mới" {
			t.Errorf("after update keeping the secret: %+v %v", c, err)
		}
		// A new secret replaces the old.
		fresh := oidcop.NewSecret()
		sys.Secret = fresh
		if err := cs.Update(ctx, sys, false); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Authenticate(ctx, "he-thong", secret); err == nil {
			t.Error("the old secret still works")
		}
		if _, err := cs.Authenticate(ctx, "he-thong", fresh); err != nil {
			t.Errorf("new secret: %v", err)
		}
		// Dropping the secret of a client-credentials client is refused,
		// and nothing changes.
		sys.Secret = ""
		if err := cs.Update(ctx, sys, false); fault.As(err).Field != "grant_types" {
			t.Errorf("secret dropped from a system: %v", err)
		}
		if _, err := cs.Authenticate(ctx, "he-thong", fresh); err != nil {
			t.Errorf("a refused update changed the secret: %v", err)
		}
		if err := cs.Update(ctx, oidcop.Client{ID: "khong-co", Name: "x", Purpose: "x", GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"https://x.vn/"}, MinLevel: 1}, false); !errors.Is(err, oidcop.ErrClientNotFound) {
			t.Errorf("update of an unknown client: %v", err)
		}
		// Disabled: Get no longer finds it (even cached), Lookup does.
		if err := cs.SetDisabled(ctx, "he-thong", true); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Get(ctx, "he-thong"); !errors.Is(err, oidcop.ErrClientNotFound) {
			t.Errorf("disabled client found: %v", err)
		}
		if _, err := cs.Authenticate(ctx, "he-thong", fresh); err == nil {
			t.Error("a disabled client authenticates")
		}
		if c, err := cs.Lookup(ctx, "he-thong"); err != nil || !c.Disabled {
			t.Errorf("lookup of a disabled client: %+v %v", c, err)
		}
		if err := cs.SetDisabled(ctx, "he-thong", false); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Authenticate(ctx, "he-thong", fresh); err != nil {
			t.Errorf("enabled again: %v", err)
		}
		if err := cs.SetDisabled(ctx, "khong-co", true); !errors.Is(err, oidcop.ErrClientNotFound) {
			t.Errorf("disable unknown: %v", err)
		}
	})
}

// FuzzValidateClient: whatever an administrator types, validation answers
// without panicking, and every refusal names a field in both languages.
func FuzzValidateClient(f *testing.F) {
	f.Add("cong-dvc", "Cổng", "Đăng nhập", "authorization_code", "https://rp.example.vn/cb", "profile", "", 1, false)
	f.Add("app", "Ứng dụng", "x", "authorization_code,refresh_token", "vn.gov.app:/cb", "pin,offline_access", "", 2, true)
	f.Add("he-thong", "Hệ thống", "Đồng bộ", "client_credentials", "", "", `{"keys":[{"kty":"EC"}]}`, 1, false)
	f.Add("A B", "", "", "password", "http://[::1", "photo", "{", 3, true)
	f.Fuzz(func(t *testing.T, id, name, purpose, grants, redirects, scopes, jwks string, level int, dev bool) {
		split := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.Split(s, ",")
		}
		c := oidcop.Client{ID: id, Name: name, Purpose: purpose, GrantTypes: split(grants), RedirectURIs: split(redirects),
			PostLogoutRedirectURIs: split(redirects), Scopes: split(scopes), JWKS: jwks, MinLevel: eid.Level(level), DevMode: dev}
		err := oidcop.ValidateClient(c, dev)
		for _, fe := range fault.Faults(err) {
			if err != nil && (fe.Field == "" || fe.Message == "" || fe.English == "" || fe.Kind != fault.Invalid) {
				t.Fatalf("fault without field or message: %+v", fe)
			}
		}
	})
}
