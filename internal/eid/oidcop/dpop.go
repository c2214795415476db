package oidcop

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/dancu-project/dancu/internal/fault"
)

// DPoP (RFC 9449) binds tokens to a key the client holds: every token
// request and every resource request carries a proof, a JWT signed with
// that key, naming the HTTP method and URL. A stolen DPoP-bound token is of
// no use without the key.

// DPoPSigningAlgs are the algorithms accepted in DPoP proofs, published as
// dpop_signing_alg_values_supported.
var DPoPSigningAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256}

const (
	// TokenTypeDPoP is the token_type of a DPoP-bound access token and the
	// Authorization scheme it is presented with.
	TokenTypeDPoP = "DPoP"
	// dpopMaxAge is how old a proof's iat may be; dpopMaxAhead how far in
	// the future (client clocks run fast). The replay cache keeps a jti
	// until the proof could no longer be accepted.
	dpopMaxAge   = 60 * time.Second
	dpopMaxAhead = 10 * time.Second
	// maxProofLen bounds what is parsed: an RS256 proof with a 4096-bit key
	// is under 2 KiB.
	maxProofLen = 8 << 10
	// errInvalidDPoPProof is the OAuth error code of RFC 9449 §5.
	errInvalidDPoPProof = "invalid_dpop_proof"
)

// ErrDPoPInvalid is every refusal of a DPoP proof or of a DPoP-bound token
// presented without its proof, at a resource server. One code: the answer
// tells an attacker nothing.
var ErrDPoPInvalid = fault.New(fault.Unauthenticated, "auth.dpop_invalid",
	"Bằng chứng sở hữu khoá (DPoP) không hợp lệ.", "The DPoP proof is invalid.")

// dpopClaims are the claims of a proof (RFC 9449 §4.2).
type dpopClaims struct {
	JTI   string  `json:"jti"`
	HTM   string  `json:"htm"`
	HTU   string  `json:"htu"`
	IAT   float64 `json:"iat"`
	ATH   string  `json:"ath,omitempty"`
	Nonce string  `json:"nonce,omitempty"`
}

// parseDPoP checks a proof's form and signature: a compact JWS of type
// dpop+jwt, signed with an accepted algorithm by the public key in its jwk
// header. It returns the claims and the key's thumbprint (RFC 7638),
// base64url-encoded: the jkt a token is bound to.
func parseDPoP(proof string) (dpopClaims, string, error) {
	var c dpopClaims
	if proof == "" || len(proof) > maxProofLen {
		return c, "", errors.New("proof missing or too long")
	}
	jws, err := jose.ParseSignedCompact(proof, DPoPSigningAlgs)
	if err != nil {
		return c, "", fmt.Errorf("parse proof: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return c, "", errors.New("proof must have one signature")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return c, "", errors.New("proof typ is not dpop+jwt")
	}
	jwk := h.JSONWebKey
	if jwk == nil || !jwk.IsPublic() || !jwk.Valid() {
		return c, "", errors.New("proof has no public jwk")
	}
	if k, ok := jwk.Key.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
		return c, "", errors.New("proof RSA key shorter than 2048 bits")
	}
	payload, err := jws.Verify(jwk)
	if err != nil {
		return c, "", fmt.Errorf("proof signature: %w", err)
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return c, "", fmt.Errorf("proof claims: %w", err)
	}
	if c.JTI == "" || len(c.JTI) > 256 || c.HTM == "" || c.HTU == "" || !(c.IAT > 0 && c.IAT < 1e11) {
		return c, "", errors.New("proof lacks jti, htm, htu or iat")
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return c, "", fmt.Errorf("proof key thumbprint: %w", err)
	}
	return c, base64.RawURLEncoding.EncodeToString(tp), nil
}

// canonicalHTU is a URL as htu compares it: scheme and host in lower case,
// default port dropped, query and fragment ignored (RFC 9449 §4.3).
func canonicalHTU(raw string) (string, error) {
	u, err := url.Parse(raw)
	// A host of a port alone (":80") names no server: it would lose its
	// port below and stop being an absolute URL.
	if err != nil || u.Hostname() == "" {
		return "", errors.New("htu is not an absolute URL")
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if scheme != "https" && scheme != "http" {
		return "", errors.New("htu is not an http(s) URL")
	}
	if (scheme == "https" && strings.HasSuffix(host, ":443")) || (scheme == "http" && strings.HasSuffix(host, ":80")) {
		host = host[:strings.LastIndexByte(host, ':')]
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, nil
}

// accessTokenHash is the ath of a proof: base64url(SHA-256(token)).
func accessTokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// dpopCheck is what a proof must match.
type dpopCheck struct {
	method, url string
	accessToken string // resource requests: the token the proof must name (ath)
	jkt         string // resource requests: the key the token is bound to
}

// verifyDPoP checks a proof fully: form and signature, method, URL,
// freshness, the access-token hash and key when asked, and that its jti was
// not used before on any node. It returns the key's thumbprint.
func verifyDPoP(ctx context.Context, replay replayCache, now time.Time, proof string, want dpopCheck) (string, error) {
	c, jkt, err := parseDPoP(proof)
	if err != nil {
		return "", err
	}
	if c.HTM != want.method {
		return "", errors.New("proof htm does not match the request method")
	}
	got, err := canonicalHTU(c.HTU)
	if err != nil {
		return "", err
	}
	if exp, err := canonicalHTU(want.url); err != nil || got != exp {
		return "", errors.New("proof htu does not match the request URL")
	}
	iat := time.Unix(int64(c.IAT), 0)
	if iat.Before(now.Add(-dpopMaxAge)) || iat.After(now.Add(dpopMaxAhead)) {
		return "", errors.New("proof iat outside the accepted window")
	}
	if want.jkt != "" && subtle.ConstantTimeCompare([]byte(jkt), []byte(want.jkt)) != 1 {
		return "", errors.New("proof signed by another key than the token is bound to")
	}
	if want.accessToken != "" && subtle.ConstantTimeCompare([]byte(c.ATH), []byte(accessTokenHash(want.accessToken))) != 1 {
		return "", errors.New("proof ath does not match the access token")
	}
	// The jti must be unique per key; keep it until iat+maxAge has passed,
	// after which the proof is stale anyway.
	if err := replay.use(ctx, replayDPoP, jkt+" "+c.JTI, iat.Add(dpopMaxAge+time.Second)); err != nil {
		if errors.Is(err, errReplayed) {
			return "", errors.New("proof jti already used")
		}
		return "", err
	}
	return jkt, nil
}

// dpopKey carries the thumbprint of the key a token request proved
// possession of, from the token endpoint's gate to the storage.
type dpopKey struct{}

func withDPoP(ctx context.Context, jkt string) context.Context {
	return context.WithValue(ctx, dpopKey{}, jkt)
}

func dpopFromContext(ctx context.Context) string {
	jkt, _ := ctx.Value(dpopKey{}).(string)
	return jkt
}

// dpopBinding decides what the tokens of a request are bound to: the
// access token to the proof's key if the request had one (a client
// registered as requiring DPoP gets nothing without), the refresh token
// too when the client is public (RFC 9449 §5: a confidential client's
// refresh token is bound by its client authentication already).
func (s *opStorage) dpopBinding(ctx context.Context, clientID string) (access, refresh string, err error) {
	jkt := dpopFromContext(ctx)
	c, err := s.clients.Get(ctx, clientID)
	if err != nil {
		return "", "", oidc.ErrInvalidClient().WithParent(err)
	}
	if jkt == "" && c.RequireDPoP {
		return "", "", &oidc.Error{ErrorType: errInvalidDPoPProof, Description: "the client must present a DPoP proof"}
	}
	if !c.Confidential() {
		refresh = jkt
	}
	return jkt, refresh, nil
}

// checkRefreshBinding refuses a bound refresh token presented without a
// proof by its key.
func checkRefreshBinding(ctx context.Context, bound string) error {
	if bound == "" {
		return nil
	}
	if subtle.ConstantTimeCompare([]byte(dpopFromContext(ctx)), []byte(bound)) != 1 {
		return oidc.ErrInvalidGrant().WithDescription("the refresh token is bound to another DPoP key")
	}
	return nil
}

// cnfClaim is the confirmation claim of a bound token (RFC 9449 §6).
func cnfClaim(jkt string) map[string]any { return map[string]any{"jkt": jkt} }

// DPoPChallenge is the WWW-Authenticate value refusing a request that
// presented a DPoP-bound token wrongly, or used the DPoP scheme (RFC 9449
// §7.1): the algorithms accepted in proofs, and the error ("invalid_token",
// or "invalid_dpop_proof" when the proof failed). Resource servers that
// check tokens with CheckResourceRequest answer with it too.
func DPoPChallenge(errorCode string) string {
	algs := make([]string, len(DPoPSigningAlgs))
	for i, a := range DPoPSigningAlgs {
		algs[i] = string(a)
	}
	return `DPoP algs="` + strings.Join(algs, " ") + `", error="` + errorCode + `"`
}

// TokenBinding returns the thumbprint (cnf.jkt) a JWT access token of this
// provider is bound to, or "" for a bearer token. It reads the token
// without checking it: use it on a token VerifyAccessToken accepted, or
// before, as CheckResourceRequest does, when the token is verified after.
func TokenBinding(accessToken string) string {
	if len(accessToken) > maxProofLen {
		return ""
	}
	jws, err := jose.ParseSignedCompact(accessToken, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return ""
	}
	var c struct {
		CNF struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c) != nil {
		return ""
	}
	return c.CNF.JKT
}

// CheckDPoP checks the DPoP proof of a request at a resource server that
// received an access token bound to the key with thumbprint jkt (the
// token's cnf.jkt): signed by that key, naming method and url (the URL as
// the client addressed it, behind any proxy) and the hash of the access
// token (ath), fresh, and not seen before by any node. Every refusal is
// ErrDPoPInvalid; the reason goes to the log as a code only.
func (p *Provider) CheckDPoP(ctx context.Context, proof, method, url, accessToken, jkt string) error {
	if jkt == "" || accessToken == "" {
		return ErrDPoPInvalid
	}
	_, err := verifyDPoP(ctx, p.replay(), p.now(), proof, dpopCheck{method: method, url: url, accessToken: accessToken, jkt: jkt})
	if err != nil {
		p.log.Info("dpop proof refused", "code", "eid.dpop_refused", "reason", err.Error())
		return ErrDPoPInvalid
	}
	return nil
}

// CheckResourceRequest reads the access token of a request at a resource
// server from its Authorization header ("Bearer <token>" or "DPoP
// <token>") and, when the token is DPoP-bound, checks the request's DPoP
// proof against it; url is the request's public URL. A bound token sent as
// a bearer token, or a bearer token under the DPoP scheme, is refused. The
// caller still verifies the returned token (VerifyAccessToken): this
// checks possession, not validity.
func (p *Provider) CheckResourceRequest(ctx context.Context, r *http.Request, url string) (token string, err error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || token == "" {
		return "", fault.ErrUnauthorized
	}
	// A token verified before is in memory with its binding; parsing it
	// again would cost a JSON decode per call on the hottest partner path.
	var jkt string
	if t := p.store.tokens.cached(token); t != nil {
		jkt = t.jkt
	} else {
		jkt = TokenBinding(token)
	}
	proofs := r.Header.Values("DPoP")
	switch {
	case strings.EqualFold(scheme, "Bearer") && jkt == "":
		return token, nil
	case strings.EqualFold(scheme, TokenTypeDPoP) && jkt != "" && len(proofs) == 1:
		if err := p.CheckDPoP(ctx, proofs[0], r.Method, url, token, jkt); err != nil {
			return "", err
		}
		return token, nil
	}
	return "", ErrDPoPInvalid
}

func (p *Provider) replay() replayCache { return replayCache{db: p.store.db, now: p.now} }
