package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/eid/oidcop"
)

// testConsentField: at the provider the citizen unticks an optional
// field; the portal lists the grant field by field with the declined one
// marked, withdraws one field (and refuses a field never granted).
func testConsentField(t *testing.T, f *fixture) citizen {
	ctx := context.Background()
	c := f.level1(t)
	const redirect = "http://127.0.0.1:9/cb"
	if err := f.env.App.OIDC.Clients().Add(ctx, oidcop.Client{ID: "clinic-a", Secret: strings.Repeat("s", 40), Name: "Phòng khám A", Purpose: "Đặt lịch khám",
		RedirectURIs: []string{redirect}, GrantTypes: []string{oidcop.GrantAuthorizationCode}, DevMode: true,
		Scopes: []string{oidcop.ScopeProfile, oidcop.ScopePIN}, OptionalScopes: []string{oidcop.ScopePIN}}); err != nil {
		t.Fatal(err)
	}
	b := f.browser(t)
	q := url.Values{"client_id": {"clinic-a"}, "response_type": {"code"}, "scope": {"openid profile pin"}, "redirect_uri": {redirect}, "state": {"s"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
	p := b.get("/oidc/authorize?" + q.Encode())
	for i := 0; i < 5 && p.status/100 == 3; i++ {
		p = b.get(strings.TrimPrefix(p.location, f.env.Server.URL))
	}
	id := regexp.MustCompile(`name="authRequestID" value="([^"]+)"`).FindStringSubmatch(p.body)
	if id == nil {
		t.Fatalf("no login page: %d %s", p.status, p.location)
	}
	p = b.post("/oidc/login", url.Values{"authRequestID": {id[1]}, "csrf": {b.csrf(p)}, "pin": {c.pin}, "password": {password}})
	p = b.get(p.location)
	if !strings.Contains(p.body, `id="scope-pin"`) || !strings.Contains(text(p.body), "không bắt buộc") {
		t.Fatalf("consent page without the optional field's box:\n%s", p.body)
	}
	p = b.post("/oidc/consent", url.Values{"authRequestID": {id[1]}, "csrf": {b.csrf(p)}, "decision": {"allow"}, "scope": {"profile"}})
	if p.status/100 != 3 {
		t.Fatalf("consent %d:\n%s", p.status, p.body)
	}

	b.signIn(c.pin, password, "")
	list := b.get("/citizen/consents")
	if !strings.Contains(list.body, `id="withdraw-clinic-a-profile"`) || strings.Contains(list.body, `id="withdraw-clinic-a-pin"`) ||
		!strings.Contains(text(list.body), "bạn không chia sẻ") {
		t.Fatalf("consents page, field by field:\n%s", list.body)
	}
	for _, tt := range []struct {
		name, scope string
		status      int
	}{
		{"a field never granted", "pin", http.StatusNotFound},
		{"the granted field", "profile", http.StatusSeeOther},
		{"again", "profile", http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := b.post("/citizen/consents/withdraw", url.Values{"csrf": {b.csrf(list)}, "client_id": {"clinic-a"}, "scope": {tt.scope}})
			if p.status != tt.status {
				t.Fatalf("withdraw %s: %d, want %d", tt.scope, p.status, tt.status)
			}
		})
	}
	acct, _ := f.env.App.EID.Account(ctx, c.pin)
	cs, err := f.env.App.OIDC.Consents(ctx, acct.Subject)
	if err != nil || len(cs) != 1 || len(cs[0].Scopes) != 0 {
		t.Fatalf("consents after withdrawing the field: %+v %v", cs, err)
	}
	return c
}
