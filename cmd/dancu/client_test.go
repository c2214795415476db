package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TestClientAddKeysAndDPoP registers a partner with a JWK Set file and
// --require-dpop: no secret is made, its signed assertion authenticates it,
// and without a DPoP proof it gets no token.
func TestClientAddKeysAndDPoP(t *testing.T) {
	env := map[string]string{"DANCU_DATA": t.TempDir()}
	getenv := func(k string) string { return env[k] }
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	file := filepath.Join(t.TempDir(), "jwks.json")
	os.WriteFile(file, set, 0o600)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"client", "add", "--id", "fin-a", "--purpose", "Đối soát", "--grant", "client_credentials",
		"--scopes", "profile", "--jwks", file, "--require-dpop"}, getenv, &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "client fin-a added") || strings.Contains(out.String(), "secret") {
		t.Fatalf("add: %v\n%s%s", err, out.String(), errOut.String())
	}
	if err := run(context.Background(), []string{"client", "add", "--id", "fin-b", "--purpose", "x", "--grant", "client_credentials",
		"--jwks", filepath.Join(t.TempDir(), "missing.json")}, getenv, &out, &errOut); err == nil {
		t.Fatal("missing JWK Set file accepted")
	}

	base, _, stop := startServe(t, env, "--seed-persons", "0")
	defer stop()
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	now := time.Now()
	assertion, _ := jwt.Signed(signer).Claims(jwt.Claims{Issuer: "fin-a", Subject: "fin-a", Audience: jwt.Audience{base + "/oidc"}, ID: "a-1",
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute))}).Serialize()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"}, "client_assertion": {assertion},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}
	resp, err := http.PostForm(base+"/oidc/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Fatalf("token without a DPoP proof: %d %v", resp.StatusCode, body)
	}
}
