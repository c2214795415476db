package oidcop_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
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

// holder is a client's DPoP key.
type holder struct {
	key *ecdsa.PrivateKey
	jkt string
}

func newHolder(t testing.TB) *holder {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := (&jose.JSONWebKey{Key: &k.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return &holder{key: k, jkt: base64.RawURLEncoding.EncodeToString(tp)}
}

// proofOpts vary a proof away from the correct one.
type proofOpts struct {
	typ string    // default dpop+jwt
	iat time.Time // default now
	jti string    // default random
	ath string    // the access token to hash, for resource requests
}

// proof is a DPoP proof (RFC 9449 §4.2) for a request.
func (h *holder) proof(t testing.TB, method, target string, o proofOpts) string {
	t.Helper()
	if o.typ == "" {
		o.typ = "dpop+jwt"
	}
	if o.iat.IsZero() {
		o.iat = time.Now()
	}
	if o.jti == "" {
		o.jti = oauth2.GenerateVerifier()[:24]
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: h.key}, (&jose.SignerOptions{EmbedJWK: true}).WithType(jose.ContentType(o.typ)))
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{"jti": o.jti, "htm": method, "htu": target, "iat": o.iat.Unix()}
	if o.ath != "" {
		sum := sha256.Sum256([]byte(o.ath))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dpopTransport adds a fresh proof to every request, as a DPoP client
// library would; it lets x/oauth2 speak DPoP.
type dpopTransport struct {
	t testing.TB
	h *holder
}

func (d dpopTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("DPoP", d.h.proof(d.t, r.Method, r.URL.String(), proofOpts{}))
	return http.DefaultTransport.RoundTrip(r)
}

// call posts a form to an endpoint with extra headers (DPoP, Authorization).
func call(t testing.TB, endpoint string, form url.Values, headers map[string]string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	status, _, out := doJSON(t, req)
	return status, out
}

// withAssertion adds a private_key_jwt client assertion to a form.
func withAssertion(t *testing.T, form url.Values, key *ecdsa.PrivateKey, clientID, aud string) url.Values {
	out := url.Values{"client_assertion_type": {oidcop.ClientAssertionType}, "client_assertion": {assertion(t, key, clientID, aud)}}
	for k, v := range form {
		out[k] = v
	}
	return out
}

func jwksOf(key *ecdsa.PrivateKey) string {
	b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	return string(b)
}

// claimsOf reads a JWT's payload (the test checked its signature elsewhere
// or does not need to).
func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

func jktOf(m map[string]any) string {
	cnf, _ := m["cnf"].(map[string]any)
	s, _ := cnf["jkt"].(string)
	return s
}

// node is a second provider on the same database with the same issuer,
// as behind a load balancer; shift moves its clock.
func (e *env) node(t *testing.T, shift time.Duration) (*oidcop.Provider, string) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p, err := oidcop.New(oidcop.Deps{Pages: testPages(t), DB: e.db, Accounts: e.accounts, Register: e.register, Issuer: e.issuer, Secret: secret,
		Now: func() time.Time { return time.Now().Add(shift) }})
	if err != nil {
		t.Fatal(err)
	}
	p.Mount(mux)
	return p, srv.URL + "/oidc"
}

// TestFAPIFlow runs the whole flow of a financial partner (FAPI 2.0 style)
// with a relying party written here: discovery, a pushed authorization
// request authenticated with private_key_jwt, the citizen's sign-in with
// only the request_uri in the browser, the code exchanged with PKCE and a
// DPoP proof through x/oauth2, a DPoP-bound access token checked at a
// resource server, introspection with cnf, and a DPoP refresh.
func TestFAPIFlow(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		ctx := context.Background()
		clientKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err := e.provider.Clients().Add(ctx, oidcop.Client{ID: "fintech", Name: "Ví điện tử C", Purpose: "Mở tài khoản ví (eKYC)",
			RedirectURIs: []string{redirect}, GrantTypes: []string{oidcop.GrantAuthorizationCode, oidcop.GrantRefreshToken},
			Scopes: []string{oidcop.ScopeProfile, "offline_access"}, JWKS: jwksOf(clientKey), RequirePAR: true, RequireDPoP: true, DevMode: true}); err != nil {
			t.Fatal(err)
		}
		p, err := oidc.NewProvider(ctx, e.issuer)
		if err != nil {
			t.Fatal(err)
		}
		var meta struct {
			PAR           string   `json:"pushed_authorization_request_endpoint"`
			DPoPAlgs      []string `json:"dpop_signing_alg_values_supported"`
			Introspection string   `json:"introspection_endpoint"`
			AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
			ACRs          []string `json:"acr_values_supported"`
		}
		if err := p.Claims(&meta); err != nil {
			t.Fatal(err)
		}
		if meta.PAR != e.issuer+"/par" || !slices.Contains(meta.DPoPAlgs, "ES256") || !slices.Contains(meta.AuthMethods, "private_key_jwt") ||
			!slices.Equal(meta.ACRs, []string{oidcop.ACRLevel1, oidcop.ACRLevel2}) {
			t.Fatalf("discovery: %+v", meta)
		}
		ep := p.Endpoint()
		ep.AuthStyle = oauth2.AuthStyleInParams // client_id in the form, no secret: the assertion authenticates
		cfg := oauth2.Config{ClientID: "fintech", Endpoint: ep, RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID, oidcop.ScopeProfile, "offline_access"}}

		// A plain authorization request of this client is refused, with no
		// redirect to the relying party.
		verifier := oauth2.GenerateVerifier()
		o := e.authorize(t, browser(t), cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), pinL1, "", true)
		if o.status != http.StatusBadRequest || o.location != nil || !strings.Contains(o.body, "PAR") {
			t.Fatalf("plain request of a PAR client: %d %v", o.status, o.location)
		}

		// Push the request.
		authURL, _ := url.Parse(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n-1")))
		status, pushed := call(t, meta.PAR, withAssertion(t, authURL.Query(), clientKey, "fintech", meta.PAR), nil)
		uri, _ := pushed["request_uri"].(string)
		if status != http.StatusCreated || !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || pushed["expires_in"] != float64(60) {
			t.Fatalf("push: %d %v", status, pushed)
		}
		// The browser carries only client_id and request_uri.
		o = e.authorize(t, browser(t), ep.AuthURL+"?"+url.Values{"client_id": {"fintech"}, "request_uri": {uri}}.Encode(), pinL1, "", true)
		if o.code() == "" || o.location.Query().Get("state") != "st" {
			t.Fatalf("no code: %d %v\n%s", o.status, o.location, o.body)
		}

		// Exchange the code with x/oauth2 over a DPoP transport.
		h := newHolder(t)
		dctx := context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: dpopTransport{t: t, h: h}})
		tok, err := cfg.Exchange(dctx, o.code(), oauth2.VerifierOption(verifier),
			oauth2.SetAuthURLParam("client_assertion_type", oidcop.ClientAssertionType),
			oauth2.SetAuthURLParam("client_assertion", assertion(t, clientKey, "fintech", e.issuer)))
		if err != nil {
			t.Fatal(err)
		}
		if tok.TokenType != "DPoP" || tok.RefreshToken == "" {
			t.Fatalf("token_type %q, refresh %t", tok.TokenType, tok.RefreshToken != "")
		}
		rawID, _ := tok.Extra("id_token").(string)
		idt, err := p.Verifier(&oidc.Config{ClientID: "fintech"}).Verify(ctx, rawID)
		if err != nil || idt.Nonce != "n-1" {
			t.Fatalf("id token: %v nonce %q", err, idt.Nonce)
		}
		if got := jktOf(claimsOf(t, tok.AccessToken)); got != h.jkt {
			t.Fatalf("access token cnf.jkt %q, want %q", got, h.jkt)
		}
		if oidcop.TokenBinding(tok.AccessToken) != h.jkt {
			t.Fatal("TokenBinding does not find the key")
		}

		// Introspection answers with the binding.
		_, info := call(t, meta.Introspection, withAssertion(t, url.Values{"token": {tok.AccessToken}}, clientKey, "fintech", e.issuer), nil)
		if info["active"] != true || info["token_type"] != "DPoP" || jktOf(info) != h.jkt {
			t.Fatalf("introspection: %v", info)
		}

		// A resource server checks the token with its proof.
		api := "https://api.dancu.example/partner/v1/persons/me?fields=name"
		resource := func(scheme string, proofs ...string) error {
			r := httptest.NewRequest(http.MethodGet, api, nil)
			r.Header.Set("Authorization", scheme+" "+tok.AccessToken)
			for _, pr := range proofs {
				r.Header.Add("DPoP", pr)
			}
			got, err := e.provider.CheckResourceRequest(ctx, r, api)
			if err == nil && got != tok.AccessToken {
				t.Fatalf("CheckResourceRequest returned another token")
			}
			return err
		}
		good := h.proof(t, http.MethodGet, api, proofOpts{ath: tok.AccessToken})
		other := newHolder(t)
		for _, c := range []struct {
			name   string
			scheme string
			proofs []string
			ok     bool
		}{
			{"proof by the bound key", "DPoP", []string{good}, true},
			{"the same proof again (replay)", "DPoP", []string{good}, false},
			{"proof by another key than cnf.jkt", "DPoP", []string{other.proof(t, http.MethodGet, api, proofOpts{ath: tok.AccessToken})}, false},
			{"proof without ath", "DPoP", []string{h.proof(t, http.MethodGet, api, proofOpts{})}, false},
			{"proof for another method", "DPoP", []string{h.proof(t, http.MethodPost, api, proofOpts{ath: tok.AccessToken})}, false},
			{"proof for another URL", "DPoP", []string{h.proof(t, http.MethodGet, "https://api.dancu.example/other", proofOpts{ath: tok.AccessToken})}, false},
			{"no proof", "DPoP", nil, false},
			{"bound token sent as a bearer token", "Bearer", nil, false},
			{"two proofs", "DPoP", []string{h.proof(t, http.MethodGet, api, proofOpts{ath: tok.AccessToken}), h.proof(t, http.MethodGet, api, proofOpts{ath: tok.AccessToken})}, false},
		} {
			err := resource(c.scheme, c.proofs...)
			if (err == nil) != c.ok {
				t.Errorf("%s: err %v", c.name, err)
			}
			if err != nil && !errors.Is(err, oidcop.ErrDPoPInvalid) {
				t.Errorf("%s: err %v, want ErrDPoPInvalid", c.name, err)
			}
		}

		// Refresh: this client requires DPoP, so no proof, no token (and the
		// refresh token is not spent by the refusal).
		refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
		status, out := call(t, ep.TokenURL, withAssertion(t, refresh, clientKey, "fintech", e.issuer), nil)
		if status != http.StatusBadRequest || out["error"] != "invalid_dpop_proof" {
			t.Fatalf("refresh without proof: %d %v", status, out)
		}
		status, out = call(t, ep.TokenURL, withAssertion(t, refresh, clientKey, "fintech", e.issuer),
			map[string]string{"DPoP": h.proof(t, http.MethodPost, ep.TokenURL, proofOpts{})})
		if status != http.StatusOK || out["token_type"] != "DPoP" || jktOf(claimsOf(t, out["access_token"].(string))) != h.jkt {
			t.Fatalf("refresh with proof: %d %v", status, out)
		}
	})
}

// TestPushedRequestRefusals: a request_uri is good once, for its client,
// for 60 seconds; the push itself is checked like an authorization request.
func TestPushedRequestRefusals(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		ctx := context.Background()
		if err := e.provider.Clients().Add(ctx, oidcop.Client{ID: "wallet", Secret: clientSecret("wallet"), Name: "Ví D", Purpose: "Đăng nhập",
			RedirectURIs: []string{redirect}, GrantTypes: []string{oidcop.GrantAuthorizationCode}, RequirePAR: true, DevMode: true}); err != nil {
			t.Fatal(err)
		}
		parURL := e.issuer + "/par"
		basic := func(id string) map[string]string {
			r := httptest.NewRequest("GET", "/", nil)
			r.SetBasicAuth(id, clientSecret(id))
			return map[string]string{"Authorization": r.Header.Get("Authorization")}
		}
		request := func() url.Values {
			return url.Values{"response_type": {"code"}, "client_id": {"wallet"}, "redirect_uri": {redirect}, "scope": {"openid"}, "state": {"s"},
				"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
		}
		push := func(t *testing.T) string {
			status, out := call(t, parURL, request(), basic("wallet"))
			if status != http.StatusCreated {
				t.Fatalf("push: %d %v", status, out)
			}
			return out["request_uri"].(string)
		}
		// open starts the browser flow at an issuer (a node) with a request_uri.
		open := func(t *testing.T, issuer, clientID, uri string) outcome {
			return e.authorize(t, browser(t), issuer+"/authorize?"+url.Values{"client_id": {clientID}, "request_uri": {uri}}.Encode(), pinL1, "", true)
		}
		_, later := e.node(t, parTTLPlus)

		t.Run("used twice", func(t *testing.T) {
			uri := push(t)
			if o := open(t, e.issuer, "wallet", uri); o.code() == "" {
				t.Fatalf("first use: %d\n%s", o.status, o.body)
			}
			if o := open(t, e.issuer, "wallet", uri); o.status != http.StatusBadRequest || o.location != nil {
				t.Fatalf("second use: %d %v", o.status, o.location)
			}
		})
		t.Run("expired", func(t *testing.T) {
			uri := push(t)
			if o := open(t, later, "wallet", uri); o.status != http.StatusBadRequest || o.location != nil {
				t.Fatalf("61 s later: %d %v", o.status, o.location)
			}
		})
		t.Run("of another client", func(t *testing.T) {
			uri := push(t)
			if o := open(t, e.issuer, "portal", uri); o.status != http.StatusBadRequest || o.location != nil {
				t.Fatalf("another client: %d %v", o.status, o.location)
			}
			// The other client's attempt does not spend it.
			if o := open(t, e.issuer, "wallet", uri); o.code() == "" {
				t.Fatalf("owner after another client's attempt: %d", o.status)
			}
		})
		t.Run("made up", func(t *testing.T) {
			if o := open(t, e.issuer, "wallet", "urn:ietf:params:oauth:request_uri:made-up"); o.status != http.StatusBadRequest {
				t.Fatalf("made-up request_uri: %d", o.status)
			}
		})
		t.Run("plain request of a PAR client", func(t *testing.T) {
			o := e.authorize(t, browser(t), e.issuer+"/authorize?"+request().Encode(), pinL1, "", true)
			if o.status != http.StatusBadRequest || o.location != nil {
				t.Fatalf("plain request: %d %v", o.status, o.location)
			}
		})
		t.Run("plain request of another client still works", func(t *testing.T) {
			q := request()
			q.Set("client_id", "portal")
			if o := e.authorize(t, browser(t), e.issuer+"/authorize?"+q.Encode(), pinL1, "", true); o.code() == "" {
				t.Fatalf("portal: %d", o.status)
			}
		})

		for _, c := range []struct {
			name    string
			change  func(url.Values)
			headers map[string]string
			status  int
			code    string
		}{
			{"wrong secret", nil, map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("wallet:"+strings.Repeat("w", 40)))}, 401, "invalid_client"},
			{"no authentication of a confidential client", nil, map[string]string{}, 401, "invalid_client"},
			{"client_id of another client", func(v url.Values) { v.Set("client_id", "portal") }, basic("wallet"), 401, "invalid_client"},
			{"unregistered redirect_uri", func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") }, basic("wallet"), 400, "invalid_request"},
			{"no PKCE", func(v url.Values) { v.Del("code_challenge") }, basic("wallet"), 400, "invalid_request"},
			{"plain PKCE", func(v url.Values) { v.Set("code_challenge_method", "plain") }, basic("wallet"), 400, "invalid_request"},
			{"request_uri inside", func(v url.Values) { v.Set("request_uri", "urn:x") }, basic("wallet"), 400, "invalid_request"},
			{"token response type", func(v url.Values) { v.Set("response_type", "token") }, basic("wallet"), 400, "invalid_request"},
		} {
			t.Run("push: "+c.name, func(t *testing.T) {
				form := request()
				if c.change != nil {
					c.change(form)
				}
				status, out := call(t, parURL, form, c.headers)
				if status != c.status || out["error"] != c.code || out["request_uri"] != nil {
					t.Fatalf("got %d %v", status, out)
				}
			})
		}
	})
}

// parTTLPlus is past a pushed request's lifetime.
const parTTLPlus = 61 * time.Second

// TestDPoPProofRefusals: the token endpoint checks every proof; a client
// registered as requiring DPoP gets nothing without one.
func TestDPoPProofRefusals(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		ctx := context.Background()
		if err := e.provider.Clients().Add(ctx, oidcop.Client{ID: "payments", Secret: clientSecret("payments"), Name: "Cổng thanh toán", Purpose: "Đối soát",
			GrantTypes: []string{oidcop.GrantClientCredentials}, Scopes: []string{"reconcile"}, RequireDPoP: true}); err != nil {
			t.Fatal(err)
		}
		tokenURL := e.issuer + "/oauth/token"
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {"reconcile"}}
		auth := func(id string) string {
			return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+clientSecret(id)))
		}
		h := newHolder(t)
		reused := h.proof(t, http.MethodPost, tokenURL, proofOpts{})
		_, node2 := e.node(t, 0)

		for _, c := range []struct {
			name   string
			client string
			target string // where the request goes; default tokenURL
			proof  string
			ok     bool
			// first is a proof presented at this node before the case,
			// so that a replay case stands alone (run in order, the case
			// before has presented it already).
			first string
		}{
			{"valid proof", "payments", "", reused, true, ""},
			{"same proof again", "payments", "", reused, false, reused},
			{"same proof again at another node", "payments", node2 + "/oauth/token", reused, false, reused},
			{"same jti, fresh signature", "payments", "", h.proof(t, http.MethodPost, tokenURL, proofOpts{jti: "fixed-jti"}), true, ""},
			{"same jti again", "payments", "", h.proof(t, http.MethodPost, tokenURL, proofOpts{jti: "fixed-jti"}), false,
				h.proof(t, http.MethodPost, tokenURL, proofOpts{jti: "fixed-jti"})},
			{"wrong htm", "payments", "", h.proof(t, http.MethodGet, tokenURL, proofOpts{}), false, ""},
			{"wrong htu", "payments", "", h.proof(t, http.MethodPost, e.issuer+"/oauth/introspect", proofOpts{}), false, ""},
			{"htu with query is the same URL", "payments", "", h.proof(t, http.MethodPost, tokenURL+"?x=1", proofOpts{}), true, ""},
			{"stale iat", "payments", "", h.proof(t, http.MethodPost, tokenURL, proofOpts{iat: time.Now().Add(-5 * time.Minute)}), false, ""},
			{"iat in the future", "payments", "", h.proof(t, http.MethodPost, tokenURL, proofOpts{iat: time.Now().Add(5 * time.Minute)}), false, ""},
			{"not typed dpop+jwt", "payments", "", h.proof(t, http.MethodPost, tokenURL, proofOpts{typ: "JWT"}), false, ""},
			{"garbage", "payments", "", "not.a.proof", false, ""},
			{"missing proof, DPoP required", "payments", "", "", false, ""},
			{"missing proof, DPoP optional", "partner", "", "", true, ""},
			{"proof, DPoP optional", "partner", "", h.proof(t, http.MethodPost, tokenURL, proofOpts{}), true, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				if c.first != "" {
					call(t, tokenURL, form, map[string]string{"Authorization": auth(c.client), "DPoP": c.first})
				}
				headers := map[string]string{"Authorization": auth(c.client)}
				if c.proof != "" {
					headers["DPoP"] = c.proof
				}
				target := tokenURL
				if c.target != "" {
					target = c.target
				}
				status, out := call(t, target, form, headers)
				if !c.ok {
					if status != http.StatusBadRequest || out["error"] != "invalid_dpop_proof" || out["access_token"] != nil {
						t.Fatalf("got %d %v", status, out)
					}
					return
				}
				if status != http.StatusOK {
					t.Fatalf("got %d %v", status, out)
				}
				wantType, wantJKT := "Bearer", ""
				if c.proof != "" {
					wantType, wantJKT = "DPoP", h.jkt
				}
				if out["token_type"] != wantType || jktOf(claimsOf(t, out["access_token"].(string))) != wantJKT {
					t.Fatalf("token_type %v, cnf %v", out["token_type"], claimsOf(t, out["access_token"].(string))["cnf"])
				}
			})
		}
	})
}

// TestDPoPPublicClientRefresh: a public client's refresh token is bound to
// its DPoP key; without the key it is worthless.
func TestDPoPPublicClientRefresh(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		ctx := context.Background()
		if err := e.provider.Clients().Add(ctx, oidcop.Client{ID: "mobile", Name: "Ứng dụng VNeID", Purpose: "Đăng nhập", RedirectURIs: []string{redirect},
			GrantTypes: []string{oidcop.GrantAuthorizationCode, oidcop.GrantRefreshToken}, Scopes: []string{"offline_access"}, DevMode: true}); err != nil {
			t.Fatal(err)
		}
		tokenURL := e.issuer + "/oauth/token"
		cfg := oauth2.Config{ClientID: "mobile", Endpoint: oauth2.Endpoint{AuthURL: e.issuer + "/authorize", TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams},
			RedirectURL: redirect, Scopes: []string{"openid", "offline_access"}}
		v := oauth2.GenerateVerifier()
		o := e.authorize(t, browser(t), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), pinL1, "", true)
		if o.code() == "" {
			t.Fatalf("no code: %d", o.status)
		}
		h := newHolder(t)
		tok, err := cfg.Exchange(context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: dpopTransport{t: t, h: h}}), o.code(), oauth2.VerifierOption(v))
		if err != nil || tok.TokenType != "DPoP" || tok.RefreshToken == "" {
			t.Fatalf("exchange: %v %+v", err, tok)
		}
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {"mobile"}}
		other := newHolder(t)
		for _, c := range []struct {
			name  string
			proof string
			ok    bool
		}{
			{"no proof", "", false},
			{"proof by another key", other.proof(t, http.MethodPost, tokenURL, proofOpts{}), false},
			{"proof by the bound key", h.proof(t, http.MethodPost, tokenURL, proofOpts{}), true},
		} {
			headers := map[string]string{}
			if c.proof != "" {
				headers["DPoP"] = c.proof
			}
			status, out := call(t, tokenURL, form, headers)
			if c.ok != (status == http.StatusOK) {
				t.Fatalf("%s: %d %v", c.name, status, out)
			}
			if c.ok && (out["token_type"] != "DPoP" || jktOf(claimsOf(t, out["access_token"].(string))) != h.jkt) {
				t.Fatalf("%s: %v", c.name, out)
			}
			if !c.ok && out["error"] != "invalid_grant" {
				t.Fatalf("%s: %v", c.name, out)
			}
		}
	})
}

// TestClientCredentialsPrivateKeyJWT: a partner system authenticates the
// client-credentials grant with a signed assertion instead of a secret;
// each assertion is good once, on every node.
func TestClientCredentialsPrivateKeyJWT(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		ctx := context.Background()
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err := e.provider.Clients().Add(ctx, oidcop.Client{ID: "insurer", Name: "Bảo hiểm xã hội", Purpose: "Đối soát dữ liệu",
			GrantTypes: []string{oidcop.GrantClientCredentials}, Scopes: []string{"reconcile"}, JWKS: jwksOf(key)}); err != nil {
			t.Fatal(err)
		}
		tokenURL := e.issuer + "/oauth/token"
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		replayed := assertion(t, key, "insurer", e.issuer)
		_, node2 := e.node(t, 0)
		form := func(a string, extra ...string) url.Values {
			v := url.Values{"grant_type": {"client_credentials"}, "scope": {"reconcile"}, "client_assertion_type": {oidcop.ClientAssertionType}, "client_assertion": {a}}
			for i := 0; i+1 < len(extra); i += 2 {
				v.Set(extra[i], extra[i+1])
			}
			return v
		}
		for _, c := range []struct {
			name   string
			target string
			form   url.Values
			status int
			// replay: the assertion is presented at this node before the
			// case, so that the case stands alone.
			replay bool
		}{
			{"registered key", tokenURL, form(replayed, "client_id", "insurer"), 200, false},
			{"same assertion again (jti replay)", tokenURL, form(replayed, "client_id", "insurer"), 401, true},
			{"same assertion at another node", node2 + "/oauth/token", form(replayed, "client_id", "insurer"), 401, true},
			{"without client_id", tokenURL, form(assertion(t, key, "insurer", e.issuer)), 200, false},
			{"token endpoint as audience", tokenURL, form(assertion(t, key, "insurer", tokenURL)), 200, false},
			{"another key", tokenURL, form(assertion(t, other, "insurer", e.issuer)), 401, false},
			{"another audience", tokenURL, form(assertion(t, key, "insurer", "https://elsewhere.example")), 401, false},
			{"living a day", tokenURL, form(longAssertion(t, key, "insurer", e.issuer, 24*time.Hour)), 401, false},
			{"client_id of another client", tokenURL, form(assertion(t, key, "insurer", e.issuer), "client_id", "partner"), 401, false},
			{"assertion and secret", tokenURL, form(assertion(t, key, "insurer", e.issuer), "client_secret", clientSecret("insurer")), 400, false},
			{"no secret, no assertion", tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {"insurer"}}, 401, false},
		} {
			t.Run(c.name, func(t *testing.T) {
				if c.replay {
					call(t, tokenURL, c.form, nil)
				}
				status, out := call(t, c.target, c.form, nil)
				if status != c.status {
					t.Fatalf("got %d %v", status, out)
				}
				if status != 200 {
					if out["access_token"] != nil {
						t.Fatalf("token issued: %v", out)
					}
					return
				}
				at, _ := out["access_token"].(string)
				if claims := claimsOf(t, at); claims["sub"] != "insurer" || out["token_type"] != "Bearer" {
					t.Fatalf("token: %v %v", out, claims)
				}
				// The partner introspects its own token with an assertion too.
				_, info := call(t, e.issuer+"/oauth/introspect", withAssertion(t, url.Values{"token": {at}}, key, "insurer", e.issuer), nil)
				if info["active"] != true || info["client_id"] != "insurer" {
					t.Fatalf("introspection: %v", info)
				}
			})
		}
	})
}

// longAssertion is a client assertion valid for ttl.
func longAssertion(t *testing.T, key *ecdsa.PrivateKey, clientID, audience string, ttl time.Duration) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: clientID, Subject: clientID, Audience: jwt.Audience{audience},
		ID: oauth2.GenerateVerifier()[:20], IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(ttl))}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
