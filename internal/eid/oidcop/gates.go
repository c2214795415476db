package oidcop

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
)

// The library's endpoints are wrapped by gates that add what it lacks:
// pushed authorization requests, DPoP at the token endpoint, replay
// tracking of client assertions and private_key_jwt for the
// client-credentials grant, and the discovery fields for these.

const (
	// maxTokenRequestBody bounds token, introspection and revocation
	// requests (a form with at most a code, a verifier and an assertion).
	maxTokenRequestBody = 64 << 10
)

// mountGates puts the gates in front of the library (lib) on mux, which
// serves paths relative to the issuer.
func (p *Provider) mountGates(mux *http.ServeMux, lib http.Handler) {
	mux.HandleFunc("POST /par", p.pushAuthorization)
	mux.Handle("/authorize", p.authorizeGate(lib))
	mux.Handle("/oauth/token", p.tokenGate(lib))
	mux.Handle("/oauth/introspect", p.clientAuthGate(lib, p.issuer+"/oauth/introspect"))
	mux.Handle("/revoke", p.clientAuthGate(lib, p.issuer+"/revoke"))
	mux.Handle("GET /.well-known/openid-configuration", p.discoveryGate(lib))
	mux.Handle("/end_session", p.endSessionGate(lib))
	// No device flow: the library would serve its endpoint regardless.
	mux.HandleFunc("/device_authorization", func(w http.ResponseWriter, _ *http.Request) {
		writeOAuthError(w, http.StatusNotFound, "invalid_request", "device authorization is not supported")
	})
}

// supportedGrants are the grant types the token endpoint serves, as
// discovery lists them; any other is unsupported_grant_type (400).
var supportedGrants = []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials}

// parseBody parses a POST form with the body bounded; other methods pass
// untouched (the library answers them).
func parseBody(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		return true
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequestBody)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the request body is not a form")
		return false
	}
	return true
}

// clientAuthGate checks client assertions (with their jti) before the
// library's introspection and revocation endpoints.
func (p *Provider) clientAuthGate(next http.Handler, endpoint string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !parseBody(w, r) {
			return
		}
		r, ok := p.gateAssertion(w, r, endpoint)
		if !ok {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tokenGate checks a token request's DPoP proof and client assertion. With
// a valid proof the storage binds the tokens to the proof's key, and the
// answer's token_type becomes DPoP.
func (p *Provider) tokenGate(next http.Handler) http.Handler {
	tokenURL := p.issuer + "/oauth/token"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		if !parseBody(w, r) {
			return
		}
		if gt := r.PostForm.Get("grant_type"); gt != "" && !slices.Contains(supportedGrants, gt) {
			// Before the library, which would try a jwt-bearer assertion
			// (a grant no client has) and answer anything but this.
			writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "the grant type is not supported")
			return
		}
		jkt := ""
		if proofs := r.Header.Values("DPoP"); len(proofs) > 0 {
			var err error
			if len(proofs) == 1 {
				jkt, err = verifyDPoP(r.Context(), p.replay(), p.now(), proofs[0], dpopCheck{method: http.MethodPost, url: tokenURL})
			}
			if len(proofs) > 1 || err != nil {
				reason := "more than one DPoP header"
				if err != nil {
					reason = err.Error()
				}
				p.log.Info("token request: DPoP proof refused", "code", "eid.dpop_refused", "reason", reason)
				writeOAuthError(w, http.StatusBadRequest, errInvalidDPoPProof, "the DPoP proof is invalid")
				return
			}
			r = r.WithContext(withDPoP(r.Context(), jkt))
		}
		r, ok := p.gateAssertion(w, r, tokenURL)
		if !ok || !p.gateClient(w, r, tokenURL) {
			return
		}
		if jkt == "" {
			next.ServeHTTP(w, r)
			return
		}
		rec := newCapture()
		next.ServeHTTP(rec, r)
		rec.flush(w, func(m map[string]any) {
			if _, ok := m["access_token"]; ok {
				m["token_type"] = TokenTypeDPoP
			}
		})
	})
}

// gateClient authenticates the client of a code or refresh-token grant
// before the library looks at the code or token: the library checks the
// code first, so a wrong secret with a used or unknown code was answered
// invalid_grant, and an unauthenticated caller could have a code's replay
// revoke its tokens. Here any failure is invalid_client (401, RFC 6749
// §5.2), whatever the code. A client the assertion gate authenticated
// passes; other grants are the library's or the fast paths'.
func (p *Provider) gateClient(w http.ResponseWriter, r *http.Request, endpoint string) bool {
	switch r.PostForm.Get("grant_type") {
	case GrantAuthorizationCode, GrantRefreshToken:
	default:
		return true
	}
	if assertedClient(r.Context()) != "" {
		return true
	}
	if _, err := p.authenticateClient(r, endpoint); err != nil {
		p.log.Info("token request: client authentication failed", "code", "eid.client_auth_failed")
		if _, _, basic := r.BasicAuth(); basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="dancu-oidc"`)
		}
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return false
	}
	return true
}

// discoveryGate adds to the library's discovery document what the gates
// provide.
func (p *Provider) discoveryGate(next http.Handler) http.Handler {
	algs := make([]string, len(DPoPSigningAlgs))
	for i, a := range DPoPSigningAlgs {
		algs[i] = string(a)
	}
	assertion := make([]string, len(assertionAlgs))
	for i, a := range assertionAlgs {
		assertion[i] = string(a)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := newCapture()
		next.ServeHTTP(rec, r)
		rec.flush(w, func(m map[string]any) {
			// Only what works (the library lists implicit, id_token,
			// jwt-bearer and a device endpoint whatever the storage
			// offers, and RS256 for client assertions): the code flow,
			// the grants of supportedGrants, the algorithms the gates
			// accept, no request objects.
			m["response_types_supported"] = []string{"code"}
			m["grant_types_supported"] = supportedGrants
			m["response_modes_supported"] = []string{"query"}
			delete(m, "device_authorization_endpoint")
			delete(m, "check_session_iframe")
			delete(m, "request_object_signing_alg_values_supported")
			m["request_parameter_supported"] = false
			m["token_endpoint_auth_signing_alg_values_supported"] = assertion
			m["introspection_endpoint_auth_signing_alg_values_supported"] = assertion
			m["revocation_endpoint_auth_signing_alg_values_supported"] = assertion
			m["introspection_endpoint_auth_methods_supported"] = []string{"client_secret_basic", "client_secret_post", "private_key_jwt"}
			m["pushed_authorization_request_endpoint"] = p.issuer + "/par"
			// Per client (Client.RequirePAR), not for all.
			m["require_pushed_authorization_requests"] = false
			m["dpop_signing_alg_values_supported"] = algs
			// Relying parties find the levels they can ask for with acr_values.
			m["acr_values_supported"] = []string{ACRLevel1, ACRLevel2}
			// OpenID Connect Back-Channel Logout 1.0 (backchannel.go).
			m["backchannel_logout_supported"] = true
			m["backchannel_logout_session_supported"] = true
		})
	})
}

// capture holds a response of the library so a gate can amend its JSON.
type capture struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newCapture() *capture { return &capture{header: http.Header{}, status: http.StatusOK} }

func (c *capture) Header() http.Header         { return c.header }
func (c *capture) WriteHeader(status int)      { c.status = status }
func (c *capture) Write(b []byte) (int, error) { return c.body.Write(b) }

// flush writes the captured response to w, passing a successful JSON
// object through amend first.
func (c *capture) flush(w http.ResponseWriter, amend func(map[string]any)) {
	body := c.body.Bytes()
	if c.status == http.StatusOK {
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&m) == nil && m != nil {
			amend(m)
			if b, err := json.Marshal(m); err == nil {
				body = b
			}
		}
	}
	h := w.Header()
	for k, v := range c.header {
		h[k] = v
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(c.status)
	w.Write(body)
}

// writeOAuthError answers with an OAuth error (RFC 6749 §5.2).
func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	body := map[string]string{"error": code}
	if description != "" {
		body["error_description"] = description
	}
	json.NewEncoder(w).Encode(body)
}
