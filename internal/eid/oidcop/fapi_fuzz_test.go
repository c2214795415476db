package oidcop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func fuzzProof(f *testing.F, typ string, claims map[string]any) string {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, (&jose.SignerOptions{EmbedJWK: true}).WithType(jose.ContentType(typ)))
	if err != nil {
		f.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := signer.Sign(b)
	if err != nil {
		f.Fatal(err)
	}
	s, _ := jws.CompactSerialize()
	return s
}

// FuzzParseDPoP feeds arbitrary proofs to the parser: it must never panic,
// and whatever it accepts has a key thumbprint and the required claims.
func FuzzParseDPoP(f *testing.F) {
	now := time.Now().Unix()
	good := fuzzProof(f, "dpop+jwt", map[string]any{"jti": "j1", "htm": "POST", "htu": "https://id.example/oidc/oauth/token", "iat": now})
	f.Add(good)
	f.Add(fuzzProof(f, "JWT", map[string]any{"jti": "j1", "htm": "POST", "htu": "https://x", "iat": now}))
	f.Add(fuzzProof(f, "dpop+jwt", map[string]any{"htm": "POST", "iat": 1e300}))
	f.Add(fuzzProof(f, "dpop+jwt", map[string]any{"jti": strings.Repeat("j", 300), "htm": "GET", "htu": "x", "iat": -1}))
	f.Add(good[:len(good)-5])
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Add("")
	f.Add("a.b.c")
	f.Add(`eyJhbGciOiJub25lIiwidHlwIjoiZHBvcCtqd3QifQ.eyJqdGkiOiJ4In0.`)
	f.Fuzz(func(t *testing.T, proof string) {
		c, jkt, err := parseDPoP(proof)
		if err != nil {
			return
		}
		if jkt == "" || c.JTI == "" || c.HTM == "" || c.HTU == "" || !(c.IAT > 0) {
			t.Fatalf("accepted an incomplete proof: %+v %q", c, jkt)
		}
	})
}

// FuzzCanonicalHTU: any accepted URL comes out absolute, lower-case scheme,
// without query or fragment, and canonicalising is idempotent.
func FuzzCanonicalHTU(f *testing.F) {
	for _, s := range []string{"https://ID.example:443/oidc/oauth/token?x=1#f", "http://a:80", "HTTP://A/B", "ftp://a/b", "/rel", "https://[::1]:8443/p", "%zz", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := canonicalHTU(raw)
		if err != nil {
			return
		}
		if !strings.HasPrefix(c, "https://") && !strings.HasPrefix(c, "http://") {
			t.Fatalf("%q → %q", raw, c)
		}
		if again, err := canonicalHTU(c); err != nil || again != c {
			t.Fatalf("not idempotent: %q → %q → %q (%v)", raw, c, again, err)
		}
	})
}

// FuzzPushedParams: whatever a client pushes, the kept parameters name the
// client, a registered redirect URI and S256 PKCE, and carry no credentials.
func FuzzPushedParams(f *testing.F) {
	c := Client{ID: "wallet", RedirectURIs: []string{"https://wallet.example/cb"}, GrantTypes: []string{GrantAuthorizationCode}}
	f.Add("response_type=code&client_id=wallet&redirect_uri=https%3A%2F%2Fwallet.example%2Fcb&code_challenge=abc&code_challenge_method=S256&client_secret=s")
	f.Add("response_type=code&redirect_uri=https%3A%2F%2Fwallet.example%2Fcb&code_challenge=abc&code_challenge_method=S256&scope=openid&scope=profile")
	f.Add("request_uri=urn:x&response_type=code")
	f.Add("client_id=other&response_type=code")
	f.Add("%zz=1&&=")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		p, err := pushedParams(form, c)
		if err != nil {
			return
		}
		if p.Get("client_id") != "wallet" || p.Get("redirect_uri") != "https://wallet.example/cb" || p.Get("code_challenge_method") != "S256" ||
			p.Has("client_secret") || p.Has("client_assertion") || p.Has("request_uri") {
			t.Fatalf("kept %v", p)
		}
	})
}
