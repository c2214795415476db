package oidcop

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// private_key_jwt client authentication (RFC 7523 §2.2, OpenID Connect Core
// §9). The library checks assertions at the code exchange, introspection and
// revocation, but neither remembers their jti nor accepts them for the
// client-credentials grant or at our own endpoint for pushed requests; this
// gate does both in front of it.

const (
	// ClientAssertionType is the client_assertion_type of private_key_jwt.
	ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// maxAssertionAge bounds how old an assertion's iat may be, as the
	// library does; assertionSkew is the clock difference tolerated.
	maxAssertionAge = time.Hour
	assertionSkew   = 10 * time.Second
	maxAssertionLen = 16 << 10
)

// assertionAlgs are the algorithms accepted in client assertions.
var assertionAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.EdDSA, jose.RS256, jose.PS256}

// assertedKey carries the id of a client that authenticated with a checked
// assertion, from the gate to the storage's client-credentials check.
type assertedKey struct{}

func assertedClient(ctx context.Context) string {
	id, _ := ctx.Value(assertedKey{}).(string)
	return id
}

// verifyAssertion checks a client assertion: signed by a key the client
// registered, issuer and subject the client, audience this provider (its
// issuer, its token endpoint or the endpoint it was sent to), unexpired,
// not older than an hour, and its jti not seen before on any node. It
// returns the client id.
func (p *Provider) verifyAssertion(ctx context.Context, form url.Values, endpoint string) (string, error) {
	if form.Get("client_assertion_type") != ClientAssertionType {
		return "", errors.New("unsupported client_assertion_type")
	}
	raw := form.Get("client_assertion")
	if len(raw) > maxAssertionLen {
		return "", errors.New("client assertion too long")
	}
	tok, err := jwt.ParseSigned(raw, assertionAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return "", errors.New("client assertion is not a signed JWT")
	}
	var claims jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil {
		return "", fmt.Errorf("client assertion claims: %w", err)
	}
	if claims.Issuer == "" || claims.Issuer != claims.Subject {
		return "", errors.New("client assertion iss and sub must be the client id")
	}
	if id := form.Get("client_id"); id != "" && id != claims.Issuer {
		return "", errors.New("client_id differs from the assertion's issuer")
	}
	c, err := p.clients.Get(ctx, claims.Issuer)
	if err != nil || c.JWKS == "" {
		return "", errors.New("client unknown or without registered keys")
	}
	key, err := c.PublicKey(tok.Headers[0].KeyID)
	if err != nil {
		return "", err
	}
	if err := tok.Claims(key, &claims); err != nil {
		return "", fmt.Errorf("client assertion signature: %w", err)
	}
	now := p.now()
	if claims.ID == "" || len(claims.ID) > 256 || claims.Expiry == nil {
		return "", errors.New("client assertion lacks jti or exp")
	}
	exp := claims.Expiry.Time()
	if !now.Before(exp.Add(assertionSkew)) {
		return "", errors.New("client assertion expired")
	}
	if exp.After(now.Add(maxAssertionAge)) {
		// A long-lived assertion is a bearer credential; its jti would
		// also have to be kept that long.
		return "", errors.New("client assertion lives longer than an hour")
	}
	if claims.NotBefore != nil && now.Add(assertionSkew).Before(claims.NotBefore.Time()) {
		return "", errors.New("client assertion not valid yet")
	}
	if claims.IssuedAt != nil {
		iat := claims.IssuedAt.Time()
		if iat.After(now.Add(assertionSkew)) || iat.Before(now.Add(-maxAssertionAge)) {
			return "", errors.New("client assertion iat outside the accepted window")
		}
	}
	if !slices.ContainsFunc(claims.Audience, func(a string) bool {
		return a == p.issuer || a == p.issuer+"/oauth/token" || a == endpoint
	}) {
		return "", errors.New("client assertion is meant for another audience")
	}
	if err := p.replay().use(ctx, replayAssertion, c.ID+" "+claims.ID, exp.Add(assertionSkew)); err != nil {
		if errors.Is(err, errReplayed) {
			return "", errors.New("client assertion jti already used")
		}
		return "", err
	}
	return c.ID, nil
}

// gateAssertion checks a request's client assertion, if it has one, before
// the library sees it. On success the form names the client (client_id is
// optional with an assertion) and the context carries it; on failure it
// answers invalid_client and returns false.
func (p *Provider) gateAssertion(w http.ResponseWriter, r *http.Request, endpoint string) (*http.Request, bool) {
	if !r.PostForm.Has("client_assertion") && !r.PostForm.Has("client_assertion_type") {
		return r, true
	}
	if _, _, basic := r.BasicAuth(); basic || r.PostForm.Has("client_secret") {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "client authentication must not use more than one method")
		return r, false
	}
	id, err := p.verifyAssertion(r.Context(), r.PostForm, endpoint)
	if err != nil {
		p.log.Info("client assertion refused", "code", "eid.client_assertion_refused", "reason", err.Error())
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return r, false
	}
	if !r.PostForm.Has("client_id") {
		r.PostForm.Set("client_id", id)
		r.Form.Set("client_id", id)
	}
	// The library would check the assertion again, with fewer algorithms
	// (ES256, RS256, PS256) than discovery lists: it gets the request
	// without it, and the client, authenticated here, as one that needs no
	// more (opStorage.GetClientByClientID).
	for _, k := range []string{"client_assertion", "client_assertion_type"} {
		r.PostForm.Del(k)
		r.Form.Del(k)
	}
	return r.WithContext(context.WithValue(r.Context(), assertedKey{}, id)), true
}

// authenticateClient authenticates a client at our own endpoints (pushed
// authorization requests): by assertion, by secret (HTTP Basic or form), or,
// for a public client only, by its client_id alone.
func (p *Provider) authenticateClient(r *http.Request, endpoint string) (Client, error) {
	ctx := r.Context()
	basicID, basicSecret, basic := r.BasicAuth()
	methods := 0
	for _, b := range []bool{basic, r.PostForm.Has("client_secret"), r.PostForm.Has("client_assertion")} {
		if b {
			methods++
		}
	}
	if methods > 1 {
		return Client{}, errors.New("more than one client authentication method")
	}
	switch {
	case r.PostForm.Has("client_assertion"):
		id, err := p.verifyAssertion(ctx, r.PostForm, endpoint)
		if err != nil {
			return Client{}, err
		}
		return p.clients.Get(ctx, id)
	case basic:
		id, err1 := url.QueryUnescape(basicID)
		secret, err2 := url.QueryUnescape(basicSecret)
		if err1 != nil || err2 != nil {
			return Client{}, errors.New("bad basic authorization header")
		}
		if f := r.PostForm.Get("client_id"); f != "" && f != id {
			return Client{}, errors.New("client_id differs from the authenticated client")
		}
		return p.clients.Authenticate(ctx, id, secret)
	case r.PostForm.Has("client_secret"):
		return p.clients.Authenticate(ctx, r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"))
	}
	c, err := p.clients.Get(ctx, r.PostForm.Get("client_id"))
	if err != nil {
		return Client{}, err
	}
	if c.Confidential() {
		return Client{}, errors.New("confidential client did not authenticate")
	}
	return c, nil
}
