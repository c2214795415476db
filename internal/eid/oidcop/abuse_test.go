package oidcop_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// getJSON calls an endpoint with headers and decodes a JSON answer.
func getJSON(t *testing.T, method, target string, headers map[string]string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, target, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return doJSON(t, req)
}

// exchange posts a code exchange as the client, with secret (HTTP Basic)
// when given; it returns the status and the answer.
func exchange(t *testing.T, tokenURL, clientID, secret, code, verifier string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}, "client_id": {clientID}}
	req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(clientID, secret)
	}
	status, _, out := doJSON(t, req)
	return status, out
}

// codeFor runs a citizen's sign-in for client and returns the code and its
// verifier.
func (e *env) codeFor(t *testing.T, clientID string, scopes ...string) (string, string) {
	t.Helper()
	v := oauth2.GenerateVerifier()
	cfg := oauth2.Config{ClientID: clientID, Endpoint: oauth2.Endpoint{AuthURL: e.issuer + "/authorize"}, RedirectURL: redirect, Scopes: append([]string{"openid"}, scopes...)}
	o := e.authorize(t, browser(t), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), pinL1, "", true)
	if o.code() == "" {
		t.Fatalf("no code: %d %v\n%s", o.status, o.location, o.body)
	}
	return o.code(), v
}

// TestCodeReplayRevokesTokens: a code presented a second time is refused
// and the access and refresh tokens issued from it stop working (RFC 6749
// §4.1.2, RFC 9700 §4.5), through real token requests.
func TestCodeReplayRevokesTokens(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		tokenURL := e.issuer + "/oauth/token"
		userinfo := func(token string) int {
			status, _, _ := getJSON(t, http.MethodGet, e.issuer+"/userinfo", map[string]string{"Authorization": "Bearer " + token})
			return status
		}
		for _, c := range []struct {
			name, client, secret string
			scopes               []string
		}{
			{"confidential client with a refresh token", "portal", clientSecret("portal"), []string{oidcop.ScopeProfile, "offline_access"}},
			{"public client, access token only", "app", "", []string{oidcop.ScopeProfile}},
		} {
			t.Run(c.name, func(t *testing.T) {
				code, v := e.codeFor(t, c.client, c.scopes...)
				status, tok := exchange(t, tokenURL, c.client, c.secret, code, v)
				access, _ := tok["access_token"].(string)
				if status != http.StatusOK || access == "" {
					t.Fatalf("first exchange: %d %v", status, tok)
				}
				if got := userinfo(access); got != http.StatusOK {
					t.Fatalf("userinfo before the replay: %d", got)
				}
				status, again := exchange(t, tokenURL, c.client, c.secret, code, v)
				if status != http.StatusBadRequest || again["error"] != "invalid_grant" || again["access_token"] != nil {
					t.Fatalf("replay: %d %v", status, again)
				}
				if got := userinfo(access); got != http.StatusUnauthorized {
					t.Fatalf("userinfo with the access token of a replayed code: %d", got)
				}
				if refresh, _ := tok["refresh_token"].(string); refresh != "" {
					r := e.rp(t, c.client)
					status, out := r.post(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
					if status != http.StatusBadRequest || out["error"] != "invalid_grant" {
						t.Fatalf("refresh token of a replayed code: %d %v", status, out)
					}
				} else if c.client == "portal" {
					t.Fatal("no refresh token issued")
				}
			})
		}
		t.Run("two exchanges at once: one wins, both end revoked", func(t *testing.T) {
			code, v := e.codeFor(t, "portal", oidcop.ScopeProfile, "offline_access")
			var wg sync.WaitGroup
			results := make([]map[string]any, 2)
			statuses := make([]int, 2)
			for i := range 2 {
				wg.Go(func() { statuses[i], results[i] = exchange(t, tokenURL, "portal", clientSecret("portal"), code, v) })
			}
			wg.Wait()
			won := 0
			for i := range 2 {
				if statuses[i] == http.StatusOK {
					won++
					if got := userinfo(results[i]["access_token"].(string)); got != http.StatusUnauthorized {
						t.Errorf("the winner's token still works after a concurrent replay: %d", got)
					}
				}
			}
			if won > 1 {
				t.Fatalf("a code was exchanged twice: %v", statuses)
			}
		})
	})
}

// TestClientAuthenticatedBeforeCode: at the token endpoint the client is
// authenticated first, so a wrong secret is invalid_client (401) whatever
// the code, and cannot have a used code revoke a citizen's tokens.
func TestClientAuthenticatedBeforeCode(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		tokenURL := e.issuer + "/oauth/token"
		used, usedV := e.codeFor(t, "portal", oidcop.ScopeProfile)
		status, tok := exchange(t, tokenURL, "portal", clientSecret("portal"), used, usedV)
		if status != http.StatusOK {
			t.Fatalf("exchange: %d %v", status, tok)
		}
		fresh, freshV := e.codeFor(t, "portal", oidcop.ScopeProfile)
		for _, c := range []struct {
			name, client, secret, code, verifier string
		}{
			{"wrong secret, used code", "portal", "wrong-secret", used, usedV},
			{"wrong secret, unknown code", "portal", "wrong-secret", "not-a-code", usedV},
			{"wrong secret, valid code", "portal", "wrong-secret", fresh, freshV},
			{"confidential client without its secret, valid code", "portal", "", fresh, freshV},
			{"unknown client, used code", "nobody", "x", used, usedV},
		} {
			t.Run(c.name, func(t *testing.T) {
				status, out := exchange(t, tokenURL, c.client, c.secret, c.code, c.verifier)
				if status != http.StatusUnauthorized || out["error"] != "invalid_client" {
					t.Fatalf("got %d %v, want 401 invalid_client", status, out)
				}
			})
		}
		// None of those touched the used code's tokens or spent the fresh code.
		if status, _, _ := getJSON(t, http.MethodGet, e.issuer+"/userinfo", map[string]string{"Authorization": "Bearer " + tok["access_token"].(string)}); status != http.StatusOK {
			t.Fatalf("an unauthenticated replay revoked the tokens: userinfo %d", status)
		}
		if status, out := exchange(t, tokenURL, "portal", clientSecret("portal"), fresh, freshV); status != http.StatusOK {
			t.Fatalf("the fresh code after refused attempts: %d %v", status, out)
		}
	})
}

// algKey is a client signing key of one algorithm, as a partner holds it.
type algKey struct {
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func keyFor(t *testing.T, alg jose.SignatureAlgorithm) algKey {
	t.Helper()
	var k crypto.Signer
	var err error
	switch alg {
	case jose.ES256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.ES384:
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jose.ES512:
		k, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case jose.EdDSA:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	case jose.RS256, jose.PS256:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("discovery lists %s, which this test cannot sign with", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return algKey{alg: alg, priv: k}
}

func (k algKey) signer(t *testing.T, opts *jose.SignerOptions) jose.Signer {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// assertionWith is a client assertion signed with k.
func (k algKey) assertionWith(t *testing.T, clientID, audience string) string {
	now := time.Now()
	s, err := jwt.Signed(k.signer(t, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", string(k.alg)))).
		Claims(jwt.Claims{Issuer: clientID, Subject: clientID, Audience: jwt.Audience{audience}, ID: oauth2.GenerateVerifier()[:20],
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(2 * time.Minute))}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dpopProof is a DPoP proof signed with k.
func (k algKey) dpopProof(t *testing.T, method, target string) string {
	payload, _ := json.Marshal(map[string]any{"jti": oauth2.GenerateVerifier()[:24], "htm": method, "htu": target, "iat": time.Now().Unix()})
	jws, err := k.signer(t, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")).Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := jws.CompactSerialize()
	return s
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestDiscoveryAdvertisesOnlyWhatWorks fetches discovery and tries what it
// lists: every grant type, the response type, every signing algorithm
// for client assertions (token, introspection and revocation endpoints)
// and DPoP proofs; and what it does not list is refused cleanly.
func TestDiscoveryAdvertisesOnlyWhatWorks(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		ctx := context.Background()
		status, _, d := getJSON(t, http.MethodGet, e.issuer+"/.well-known/openid-configuration", nil)
		if status != http.StatusOK {
			t.Fatalf("discovery: %d", status)
		}
		tokenURL := d["token_endpoint"].(string)
		for _, k := range []string{"device_authorization_endpoint", "request_object_signing_alg_values_supported", "check_session_iframe"} {
			if _, ok := d[k]; ok {
				t.Errorf("discovery advertises %s", k)
			}
		}
		if got := strs(d["response_types_supported"]); !slices.Equal(got, []string{"code"}) {
			t.Errorf("response types %v", got)
		}
		if d["request_parameter_supported"] != false {
			t.Errorf("request objects advertised: %v", d["request_parameter_supported"])
		}
		grants := strs(d["grant_types_supported"])
		for _, g := range []string{"implicit", "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:token-exchange", "password"} {
			if slices.Contains(grants, g) {
				t.Errorf("discovery advertises the %s grant", g)
			}
			// Unadvertised grants are 400 unsupported_grant_type, with a
			// well-formed assertion too (never a 500).
			key := keyFor(t, jose.ES256)
			form := url.Values{"grant_type": {g}, "assertion": {key.assertionWith(t, "portal", e.issuer)}, "device_code": {"x"}, "subject_token": {"x"}}
			status, out := (&rp{cfg: oauth2.Config{ClientID: "portal"}, secret: clientSecret("portal")}).post(t, tokenURL, form)
			if status != http.StatusBadRequest || out["error"] != "unsupported_grant_type" {
				t.Errorf("grant %s: %d %v", g, status, out)
			}
		}
		if status, _, _ := getJSON(t, http.MethodPost, e.issuer+"/device_authorization", nil); status != http.StatusNotFound {
			t.Errorf("device authorization endpoint: %d", status)
		}

		// One client holding a key of every advertised assertion algorithm.
		assertionAlgs := strs(d["token_endpoint_auth_signing_alg_values_supported"])
		for _, f := range []string{"introspection_endpoint_auth_signing_alg_values_supported", "revocation_endpoint_auth_signing_alg_values_supported"} {
			if got := strs(d[f]); !slices.Equal(got, assertionAlgs) {
				t.Errorf("%s = %v, token endpoint's %v", f, got, assertionAlgs)
			}
		}
		keys := map[string]algKey{}
		var set jose.JSONWebKeySet
		for _, a := range assertionAlgs {
			k := keyFor(t, jose.SignatureAlgorithm(a))
			keys[a] = k
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: a, Algorithm: a, Use: "sig"})
		}
		jwks, _ := json.Marshal(set)
		if err := e.provider.Clients().Add(ctx, oidcop.Client{ID: "keyed", Name: "Đối tác ký số", Purpose: "Thử thuật toán", RedirectURIs: []string{redirect},
			GrantTypes: []string{oidcop.GrantAuthorizationCode, oidcop.GrantClientCredentials}, Scopes: []string{oidcop.ScopeProfile, "reconcile"},
			JWKS: string(jwks), DevMode: true}); err != nil {
			t.Fatal(err)
		}
		for _, a := range assertionAlgs {
			t.Run("assertion "+a, func(t *testing.T) {
				k := keys[a]
				with := func(form url.Values) url.Values {
					form.Set("client_assertion_type", oidcop.ClientAssertionType)
					form.Set("client_assertion", k.assertionWith(t, "keyed", e.issuer))
					return form
				}
				status, out := call(t, tokenURL, with(url.Values{"grant_type": {"client_credentials"}, "scope": {"reconcile"}}), nil)
				at, _ := out["access_token"].(string)
				if status != http.StatusOK || at == "" {
					t.Fatalf("client credentials: %d %v", status, out)
				}
				code, v := e.codeFor(t, "keyed", oidcop.ScopeProfile)
				if status, out := call(t, tokenURL, with(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {v}}), nil); status != http.StatusOK {
					t.Fatalf("code exchange: %d %v", status, out)
				}
				if status, out := call(t, d["introspection_endpoint"].(string), with(url.Values{"token": {at}}), nil); status != http.StatusOK || out["active"] != true {
					t.Fatalf("introspection: %d %v", status, out)
				}
				if status, out := call(t, d["revocation_endpoint"].(string), with(url.Values{"token": {"opaque-refresh-token"}, "token_type_hint": {"refresh_token"}}), nil); status != http.StatusOK {
					t.Fatalf("revocation: %d %v", status, out)
				}
			})
		}
		// Every advertised authentication method, at each endpoint.
		partnerToken := func() string {
			_, out := call(t, tokenURL, url.Values{"grant_type": {"client_credentials"}, "scope": {"reconcile"}, "client_id": {"partner"}, "client_secret": {clientSecret("partner")}}, nil)
			return out["access_token"].(string)
		}
		auth := func(method, client string, form url.Values) (url.Values, map[string]string) {
			h := map[string]string{}
			switch method {
			case "none":
				form.Set("client_id", client)
			case "client_secret_basic":
				h["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(client+":"+clientSecret(client)))
			case "client_secret_post":
				form.Set("client_id", client)
				form.Set("client_secret", clientSecret(client))
			case "private_key_jwt":
				form.Set("client_assertion_type", oidcop.ClientAssertionType)
				form.Set("client_assertion", keys["ES256"].assertionWith(t, "keyed", e.issuer))
			default:
				t.Fatalf("discovery lists the unknown method %s", method)
			}
			return form, h
		}
		for _, m := range strs(d["token_endpoint_auth_methods_supported"]) {
			client := map[string]string{"none": "app", "client_secret_basic": "portal", "client_secret_post": "portal", "private_key_jwt": "keyed"}[m]
			code, v := e.codeFor(t, client, oidcop.ScopeProfile)
			form, h := auth(m, client, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {v}})
			if status, out := call(t, tokenURL, form, h); status != http.StatusOK {
				t.Errorf("token endpoint with %s: %d %v", m, status, out)
			}
		}
		for _, m := range strs(d["introspection_endpoint_auth_methods_supported"]) {
			client, tok := "partner", partnerToken()
			if m == "private_key_jwt" {
				client = "keyed"
				_, out := call(t, tokenURL, url.Values{"grant_type": {"client_credentials"}, "scope": {"reconcile"}, "client_assertion_type": {oidcop.ClientAssertionType},
					"client_assertion": {keys["ES256"].assertionWith(t, "keyed", e.issuer)}}, nil)
				tok = out["access_token"].(string)
			}
			form, h := auth(m, client, url.Values{"token": {tok}})
			if status, out := call(t, d["introspection_endpoint"].(string), form, h); status != http.StatusOK || out["active"] != true {
				t.Errorf("introspection with %s: %d %v", m, status, out)
			}
		}
		for _, m := range strs(d["revocation_endpoint_auth_methods_supported"]) {
			client := map[string]string{"none": "app", "client_secret_basic": "partner", "client_secret_post": "partner", "private_key_jwt": "keyed"}[m]
			form, h := auth(m, client, url.Values{"token": {"opaque-refresh-token"}, "token_type_hint": {"refresh_token"}})
			if status, out := call(t, d["revocation_endpoint"].(string), form, h); status != http.StatusOK {
				t.Errorf("revocation with %s: %d %v", m, status, out)
			}
		}
		for _, a := range strs(d["dpop_signing_alg_values_supported"]) {
			t.Run("DPoP "+a, func(t *testing.T) {
				k := keyFor(t, jose.SignatureAlgorithm(a))
				status, out := call(t, tokenURL, url.Values{"grant_type": {"client_credentials"}, "scope": {"reconcile"}, "client_id": {"partner"}, "client_secret": {clientSecret("partner")}},
					map[string]string{"DPoP": k.dpopProof(t, http.MethodPost, tokenURL)})
				if status != http.StatusOK || out["token_type"] != oidcop.TokenTypeDPoP {
					t.Fatalf("token with a %s proof: %d %v", a, status, out)
				}
			})
		}
		// An algorithm not advertised is refused.
		k := keyFor(t, jose.ES384)
		if !slices.Contains(strs(d["dpop_signing_alg_values_supported"]), "ES384") {
			status, out := call(t, tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {"partner"}, "client_secret": {clientSecret("partner")}},
				map[string]string{"DPoP": k.dpopProof(t, http.MethodPost, tokenURL)})
			if status != http.StatusBadRequest {
				t.Errorf("unadvertised DPoP algorithm: %d %v", status, out)
			}
		}
		// The response type: code works, id_token is refused at authorize.
		if _, v := e.codeFor(t, "portal", oidcop.ScopeProfile); v == "" {
			t.Fatal("no code flow")
		}
		resp, err := browser(t).Get(e.issuer + "/authorize?" + url.Values{"client_id": {"portal"}, "response_type": {"id_token"}, "redirect_uri": {redirect},
			"scope": {"openid"}, "nonce": {"n"}, "state": {"s"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		o := read(t, resp)
		var frag url.Values
		if o.location != nil {
			frag, _ = url.ParseQuery(o.location.Fragment)
		}
		if o.location == nil || (o.location.Query().Get("error") == "" && frag.Get("error") == "") || strings.Contains(o.location.String(), "id_token=") {
			t.Errorf("response_type=id_token: %d %v", o.status, o.location)
		}
	})
}

// TestDPoPChallenge: a DPoP-bound token presented wrongly at userinfo gets
// a DPoP challenge (RFC 9449 §7.1); a plain bearer token a Bearer one.
func TestDPoPChallenge(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		tokenURL := e.issuer + "/oauth/token"
		h := newHolder(t)
		status, out := call(t, tokenURL, url.Values{"grant_type": {"client_credentials"}, "scope": {"reconcile"}, "client_id": {"partner"}, "client_secret": {clientSecret("partner")}},
			map[string]string{"DPoP": h.proof(t, http.MethodPost, tokenURL, proofOpts{})})
		bound, _ := out["access_token"].(string)
		if status != http.StatusOK || bound == "" {
			t.Fatalf("DPoP token: %d %v", status, out)
		}
		ui := e.issuer + "/userinfo"
		for _, c := range []struct {
			name    string
			headers map[string]string
			scheme  string // of the challenge
			errCode string
		}{
			{"bound token as a bearer token", map[string]string{"Authorization": "Bearer " + bound}, "DPoP", "invalid_token"},
			{"bound token without a proof", map[string]string{"Authorization": "DPoP " + bound}, "DPoP", "invalid_dpop_proof"},
			{"bound token with a proof for another URL", map[string]string{"Authorization": "DPoP " + bound, "DPoP": h.proof(t, http.MethodGet, e.issuer+"/elsewhere", proofOpts{ath: bound})}, "DPoP", "invalid_dpop_proof"},
			{"unknown token under the DPoP scheme", map[string]string{"Authorization": "DPoP not-a-token", "DPoP": h.proof(t, http.MethodGet, ui, proofOpts{ath: "not-a-token"})}, "DPoP", "invalid_token"},
			{"unknown bearer token", map[string]string{"Authorization": "Bearer not-a-token"}, "Bearer", "invalid_token"},
		} {
			t.Run(c.name, func(t *testing.T) {
				status, hdr, body := getJSON(t, http.MethodGet, ui, c.headers)
				ch := hdr.Get("WWW-Authenticate")
				if status != http.StatusUnauthorized || !strings.HasPrefix(ch, c.scheme+" ") || !strings.Contains(ch, `error="`+c.errCode+`"`) || body["error"] != c.errCode {
					t.Fatalf("got %d %q %v, want a %s challenge with %s", status, ch, body, c.scheme, c.errCode)
				}
				if c.scheme == "DPoP" && !strings.Contains(ch, `algs="ES256`) {
					t.Fatalf("DPoP challenge without algs: %q", ch)
				}
			})
		}
	})
}

// syncBuffer collects a logger's output across goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLibraryLogs: the OpenID library's own lines go to the provider's
// logger (its format and level), and none of them carries a redirect URI
// or a state value, in failed and successful flows.
func TestLibraryLogs(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite, migrations())
	e := start(t, db)
	logs := &syncBuffer{}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	issuer := srv.URL + "/oidc"
	p, err := oidcop.New(oidcop.Deps{Pages: testPages(t), DB: db, Accounts: e.accounts, Register: e.register, Issuer: issuer, Secret: secret,
		Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	p.Mount(mux)
	const state = "st4te-Zq81xQv"
	const evil = "http://127.0.0.1:9/cb-evil-Zq81"
	e2 := *e
	e2.issuer = issuer
	v := oauth2.GenerateVerifier()
	auth := func(params url.Values) outcome {
		resp, err := browser(t).Get(issuer + "/authorize?" + params.Encode())
		if err != nil {
			t.Fatal(err)
		}
		return read(t, resp)
	}
	// A redirect URI that is not registered: the library refuses without
	// redirecting and logs the request.
	o := auth(url.Values{"client_id": {"portal"}, "response_type": {"code"}, "redirect_uri": {evil}, "scope": {"openid"}, "state": {state}})
	if o.status != http.StatusBadRequest {
		t.Fatalf("unregistered redirect: %d", o.status)
	}
	// No PKCE: an error redirect to the client with the state.
	o = auth(url.Values{"client_id": {"portal"}, "response_type": {"code"}, "redirect_uri": {redirect}, "scope": {"openid"}, "state": {state}})
	if o.location == nil || o.location.Query().Get("state") != state {
		t.Fatalf("error redirect: %d %v", o.status, o.location)
	}
	// A whole flow with the state, and a failed exchange.
	cfg := oauth2.Config{ClientID: "portal", Endpoint: oauth2.Endpoint{AuthURL: issuer + "/authorize"}, RedirectURL: redirect, Scopes: []string{"openid", "profile"}}
	o = e2.authorize(t, browser(t), cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(v)), pinL1, "", true)
	if o.code() == "" {
		t.Fatalf("flow: %d %v", o.status, o.location)
	}
	exchange(t, issuer+"/oauth/token", "portal", clientSecret("portal"), o.code(), "wrong-verifier-"+strings.Repeat("x", 40))
	out := logs.String()
	if !strings.Contains(out, `"component":"oidc-library"`) {
		t.Fatalf("no library line reached the provider's logger:\n%s", out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("a line not in the logger's format: %q", line)
		}
	}
	for _, secretText := range []string{state, "cb-evil-Zq81", "127.0.0.1:9", url.QueryEscape(redirect), base64.RawURLEncoding.EncodeToString([]byte(state))} {
		if strings.Contains(out, secretText) {
			t.Errorf("the log holds %q:\n%s", secretText, out)
		}
	}
	if t.Failed() {
		io.WriteString(t.Output(), out)
	}
}
