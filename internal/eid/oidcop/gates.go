package oidcop

import (
	"bytes"
	"encoding/json"
	"net/http"
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
}

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
		if !ok {
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

// discoveryGate adds to the library's discovery document what the gates
// provide.
func (p *Provider) discoveryGate(next http.Handler) http.Handler {
	algs := make([]string, len(DPoPSigningAlgs))
	for i, a := range DPoPSigningAlgs {
		algs[i] = string(a)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := newCapture()
		next.ServeHTTP(rec, r)
		rec.flush(w, func(m map[string]any) {
			m["pushed_authorization_request_endpoint"] = p.issuer + "/par"
			// Per client (Client.RequirePAR), not for all.
			m["require_pushed_authorization_requests"] = false
			m["dpop_signing_alg_values_supported"] = algs
			// Relying parties find the levels they can ask for with acr_values.
			m["acr_values_supported"] = []string{ACRLevel1, ACRLevel2}
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
