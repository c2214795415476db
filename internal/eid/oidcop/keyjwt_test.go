package oidcop_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// assertion is a private_key_jwt client assertion (RFC 7523 §3).
func assertion(t *testing.T, key *ecdsa.PrivateKey, clientID, audience string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: clientID, Subject: clientID, Audience: jwt.Audience{audience},
		ID: oauth2.GenerateVerifier()[:20], IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(2 * time.Minute))}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPrivateKeyJWT(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		ctx := context.Background()
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
		if err := e.provider.Clients().Add(ctx, oidcop.Client{ID: "hospital", Name: "Bệnh viện B", Purpose: "Khám chữa bệnh", RedirectURIs: []string{redirect},
			GrantTypes: []string{oidcop.GrantAuthorizationCode}, JWKS: string(jwks), DevMode: true}); err != nil {
			t.Fatal(err)
		}
		p, err := oidc.NewProvider(ctx, e.issuer)
		if err != nil {
			t.Fatal(err)
		}
		cfg := oauth2.Config{ClientID: "hospital", Endpoint: p.Endpoint(), RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID}}
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		cases := []struct {
			name   string
			key    *ecdsa.PrivateKey
			aud    string
			wantOK bool
		}{
			{"another key", other, e.issuer, false},
			{"another audience", key, "https://elsewhere.example", false},
			{"the registered key", key, e.issuer, true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				v := oauth2.GenerateVerifier()
				o := e.authorize(t, browser(t), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), pinL1, "", true)
				if o.code() == "" {
					t.Fatalf("no code: %d %v", o.status, o.location)
				}
				form := url.Values{"grant_type": {"authorization_code"}, "code": {o.code()}, "redirect_uri": {redirect}, "code_verifier": {v},
					"client_id": {"hospital"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
					"client_assertion": {assertion(t, c.key, "hospital", c.aud)}}
				resp, err := http.PostForm(p.Endpoint().TokenURL, form)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var out struct {
					IDToken string `json:"id_token"`
					Error   string `json:"error"`
				}
				json.NewDecoder(resp.Body).Decode(&out)
				if !c.wantOK {
					if resp.StatusCode == http.StatusOK || out.IDToken != "" {
						t.Fatalf("accepted: %d", resp.StatusCode)
					}
					return
				}
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d %s", resp.StatusCode, out.Error)
				}
				if _, err := p.Verifier(&oidc.Config{ClientID: "hospital"}).Verify(ctx, out.IDToken); err != nil {
					t.Fatal(err)
				}
			})
		}
		// A JWK Set holding a private key is refused at registration.
		priv, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
		err = e.provider.Clients().Add(ctx, oidcop.Client{ID: "leaky", Name: "x", Purpose: "x", RedirectURIs: []string{redirect},
			GrantTypes: []string{oidcop.GrantAuthorizationCode}, JWKS: string(priv)})
		if err == nil || !strings.Contains(err.Error(), "client_invalid") {
			t.Fatalf("private JWK accepted: %v", err)
		}
	})
}
