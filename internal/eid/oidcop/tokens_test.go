package oidcop

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The hand-written claims of client-credentials tokens read back as the
// same claims encoding/json writes, whatever the client id and scopes hold.
func TestServiceClaimsEncoding(t *testing.T) {
	cases := []struct{ issuer, client, scope string }{
		{"https://id.dancu.gov.vn/oidc", "bank-a", "reconcile verify"},
		{"http://127.0.0.1:8080/oidc", "bộ-y-tế", ""},
		{"https://x/oidc", `quote"back\slash`, "a\tb\nc"},
		{"https://x/oidc", "ctrl\x01\u2028", "scope<>&"},
	}
	for _, c := range cases {
		raw := serviceClaims(c.issuer, c.client, "01a2086862d2709f48d7f5b9a40db3c4", c.scope, 1795437388, 1795437988)
		var got, want map[string]any
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("%q: not JSON: %v\n%s", c.client, err, raw)
		}
		ref, _ := json.Marshal(accessClaims{Issuer: c.issuer, Subject: c.client, Audience: []string{c.client}, Expiry: 1795437988,
			IssuedAt: 1795437388, NotBefore: 1795437388, ClientID: c.client, JTI: "01a2086862d2709f48d7f5b9a40db3c4", Scope: c.scope})
		json.Unmarshal(ref, &want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: claims\n%v\nwant\n%v", c.client, got, want)
		}
	}
}
