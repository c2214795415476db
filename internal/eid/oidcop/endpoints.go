package oidcop

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// The provider answers four endpoints itself, before the library, because
// they are hot or because the library would only hand it a token id:
//
//   - token, grant client_credentials with a client secret and no DPoP
//     proof: partner systems ask for thousands of tokens a second; the
//     answer is one ES256 signature, no database write;
//   - introspection (RFC 7662): a memory lookup for a token seen before;
//   - revocation (RFC 7009) of access tokens: on the revocation list;
//   - userinfo: from the token's own claims.
//
// Everything else, and these endpoints in the cases named, go to the
// library (lib). The gates (gates.go) stand in front of both, so DPoP
// proofs and client assertions are checked before.
//
// Browsers call revocation and userinfo (single-page and mobile apps): their
// answers carry the library's CORS headers, and preflight requests go to the
// library. The token (client credentials) and introspection answers are for
// servers.
func (p *Provider) endpoints(lib http.Handler) http.Handler {
	cors := cors.New(*p.op.CORSOptions())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handled := false
		switch r.URL.Path {
		case "/oauth/token":
			handled = r.Method == http.MethodPost && p.clientCredentials(w, r)
		case "/oauth/introspect":
			handled = r.Method == http.MethodPost && p.introspect(w, r)
		case "/revoke":
			handled = r.Method == http.MethodPost && p.revoke(&corsWriter{ResponseWriter: w, r: r, cors: cors}, r)
		case "/userinfo":
			handled = (r.Method == http.MethodGet || r.Method == http.MethodPost) && p.userinfo(&corsWriter{ResponseWriter: w, r: r, cors: cors}, r)
		}
		if !handled {
			lib.ServeHTTP(w, r)
		}
	})
}

// corsWriter adds the CORS headers of an actual (not preflight) request
// before the first byte of an answer; a request the library answers
// instead gets them from the library.
type corsWriter struct {
	http.ResponseWriter
	r     *http.Request
	cors  *cors.Cors
	ready bool
}

func (w *corsWriter) headers() {
	if !w.ready {
		w.ready = true
		w.cors.HandlerFunc(w.ResponseWriter, w.r)
	}
}

func (w *corsWriter) WriteHeader(status int) {
	w.headers()
	w.ResponseWriter.WriteHeader(status)
}

func (w *corsWriter) Write(b []byte) (int, error) {
	w.headers()
	return w.ResponseWriter.Write(b)
}

// form parses a bounded POST form unless a gate did; false means the
// answer is written.
func form(w http.ResponseWriter, r *http.Request) bool {
	return r.PostForm != nil || parseBody(w, r)
}

// secretClient authenticates a client by its secret (HTTP Basic, or
// client_id and client_secret in the form).
func (p *Provider) secretClient(r *http.Request) (Client, error) {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil || r.PostForm.Has("client_secret") {
			return Client{}, errBadClient
		}
		if f := r.PostForm.Get("client_id"); f != "" && f != id {
			return Client{}, errBadClient
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return p.clients.Authenticate(r.Context(), id, secret)
}

// caller authenticates the client calling introspection or revocation: by
// the assertion the gate checked, or by secret; a public client by its id
// alone where publicOK. ok is false when the library should decide (an
// assertion no gate checked).
func (p *Provider) caller(r *http.Request, publicOK bool) (c Client, err error, ok bool) {
	ctx := r.Context()
	if id := assertedClient(ctx); id != "" {
		c, err = p.clients.Get(ctx, id)
		return c, err, true
	}
	if r.PostForm.Has("client_assertion") {
		return Client{}, nil, false
	}
	if _, _, basic := r.BasicAuth(); !basic && !r.PostForm.Has("client_secret") && publicOK {
		c, err = p.clients.Get(ctx, r.PostForm.Get("client_id"))
		if err == nil && c.Confidential() {
			err = errBadClient
		}
		return c, err, true
	}
	c, err = p.secretClient(r)
	return c, err, true
}

// clientCredentials issues a partner system's access token: client secret
// checked against its hash (client cached), scopes narrowed to the
// registered ones, one ES256 signature. Clients authenticating with
// private_key_jwt, requests with a DPoP proof and clients that require one
// go to the library.
func (p *Provider) clientCredentials(w http.ResponseWriter, r *http.Request) bool {
	if !form(w, r) {
		return true
	}
	if r.PostForm.Get("grant_type") != GrantClientCredentials || dpopFromContext(r.Context()) != "" || r.Header.Get("DPoP") != "" ||
		assertedClient(r.Context()) != "" || r.PostForm.Has("client_assertion") {
		return false
	}
	c, err := p.secretClient(r)
	if err != nil {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return true
	}
	if !c.Allows(GrantClientCredentials) {
		writeOAuthError(w, http.StatusBadRequest, "unauthorized_client", "the client is not registered for this grant")
		return true
	}
	if c.RequireDPoP {
		return false // the library refuses it without a proof
	}
	var scopes []string
	for _, sc := range strings.Fields(r.PostForm.Get("scope")) {
		if slices.Contains(c.Scopes, sc) && !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	scope := strings.Join(scopes, " ")
	id, exp := p.store.newAccess()
	now := p.now().Unix()
	tok, err := p.store.signer.sign(r.Context(), serviceClaims(p.issuer, c.ID, id, scope, now, exp.Unix()))
	if err != nil {
		p.log.Error("client credentials", "code", "eid.token_sign_failed", "err", err)
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "")
		return true
	}
	b := make([]byte, 0, len(tok)+100+len(scope))
	b = append(b, `{"access_token":"`...)
	b = append(b, tok...) // base64url and dots
	b = append(b, `","token_type":"Bearer","expires_in":`...)
	b = strconv.AppendInt(b, exp.Unix()-now, 10)
	if scope != "" {
		b = append(b, `,"scope":`...)
		b = appendJSONString(b, scope)
	}
	writeBody(w, append(b, '}'))
	return true
}

var inactive = []byte(`{"active":false}`)

// introspect answers RFC 7662. Only the client a token was issued to, or
// one in its audience, learns that it is active.
func (p *Provider) introspect(w http.ResponseWriter, r *http.Request) bool {
	if !form(w, r) {
		return true
	}
	c, err, ok := p.caller(r, false)
	if !ok {
		return false
	}
	if err != nil {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return true
	}
	t, _, err := p.store.checkAccess(r.Context(), r.PostForm.Get("token"))
	if err != nil && !errors.Is(err, errTokenInactive) {
		p.log.Warn("introspection", "code", "eid.introspection_failed", "err", err)
	}
	body := inactive
	if err == nil && (t.clientID == c.ID || slices.Contains(t.audience, c.ID)) {
		body = t.answer
	}
	writeBody(w, body)
	return true
}

// revoke puts one of our access tokens on the revocation list when the
// client it was issued to asks (RFC 7009); another client's request is
// answered alike and changes nothing. Refresh tokens, and anything that is
// not an access token of ours, go to the library.
func (p *Provider) revoke(w http.ResponseWriter, r *http.Request) bool {
	if !form(w, r) {
		return true
	}
	token := r.PostForm.Get("token")
	if r.PostForm.Get("token_type_hint") == "refresh_token" || strings.Count(token, ".") != 2 {
		return false
	}
	t, err := p.store.tokens.verify(r.Context(), token)
	if err != nil {
		return false
	}
	c, err, ok := p.caller(r, true)
	if !ok {
		return false
	}
	if err != nil {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return true
	}
	if t.clientID == c.ID {
		if err := p.store.revokeAccess(r.Context(), t); err != nil {
			p.log.Error("revocation", "code", "eid.revocation_failed", "err", err)
			writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "")
			return true
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return true
}

// userinfo answers from the access token's claims and the register. A
// DPoP-bound token needs the DPoP scheme and a proof for this request.
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) bool {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if token == "" && r.Method == http.MethodPost {
		if !form(w, r) {
			return true
		}
		scheme, token = "Bearer", r.PostForm.Get("access_token")
	}
	ctx := r.Context()
	t, _, err := p.store.checkAccess(ctx, token)
	// dpop: the request or the token uses DPoP, so a refusal challenges
	// with the DPoP scheme (RFC 9449 §7.1); badProof: the proof failed.
	dpop := strings.EqualFold(scheme, TokenTypeDPoP) || r.Header.Get("DPoP") != ""
	badProof := false
	if err == nil {
		switch {
		case t.jkt == "" && !strings.EqualFold(scheme, "Bearer"):
			err = errTokenInactive
		case t.jkt != "":
			dpop = true
			proofs := r.Header.Values("DPoP")
			if !strings.EqualFold(scheme, TokenTypeDPoP) {
				err = errTokenInactive // a bound token sent as a bearer token
			} else if len(proofs) != 1 || p.CheckDPoP(ctx, proofs[0], r.Method, p.issuer+"/userinfo", token, t.jkt) != nil {
				err, badProof = errTokenInactive, true
			}
		}
	}
	if err != nil {
		if !errors.Is(err, errTokenInactive) {
			p.log.Warn("userinfo", "code", "eid.userinfo_failed", "err", err)
		}
		code, text := "invalid_token", "the access token is invalid, expired or revoked"
		if badProof {
			code, text = errInvalidDPoPProof, "the DPoP proof is missing or invalid"
		}
		if dpop {
			w.Header().Set("WWW-Authenticate", DPoPChallenge(code))
		} else {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		writeOAuthError(w, http.StatusUnauthorized, code, text)
		return true
	}
	if t.level == 0 {
		writeOAuthError(w, http.StatusForbidden, "insufficient_scope", "not a citizen's token")
		return true
	}
	ui := &oidc.UserInfo{Subject: t.subject}
	if err := p.store.claims.fill(ctx, ui, t.subject, t.clientID, t.scopes); err != nil {
		p.log.Info("userinfo refused", "code", "eid.userinfo_refused")
		writeOAuthError(w, http.StatusForbidden, "access_denied", "")
		return true
	}
	writeJSON(w, ui)
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "")
		return
	}
	writeBody(w, b)
}

// Header values shared by every answer (net/http only reads them).
var (
	headerJSON    = []string{"application/json"}
	headerNoStore = []string{"no-store"}
)

// writeBody answers 200 with a JSON body that must not be cached.
func writeBody(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h["Content-Type"] = headerJSON
	h["Cache-Control"] = headerNoStore
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.Write(b)
}
