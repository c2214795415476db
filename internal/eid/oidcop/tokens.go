package oidcop

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/dancu-project/dancu/internal/eid"
)

// Access tokens are ES256 JWTs that carry everything a check needs: client
// (client_id), subject, audience, scope, level (acr), refresh-token family
// (sid), DPoP key (cnf.jkt), issue and expiry times. Checking one is
// signature + issuer + expiry + revocation list + (citizens' tokens) the
// account still active; only the signature costs (about 90 µs of ECDSA on
// the reference machine), so a verified token is remembered by its exact
// bytes for as long as it stays in the cache, and later checks of the same
// token cost a map lookup.

// errTokenInactive is every reason a token is not accepted.
var errTokenInactive = errors.New("access token inactive")

// tokenInfo is what a verified access token says.
type tokenInfo struct {
	jti, clientID, subject, sid, jkt string
	session                          string // sessionKey(subject, clientID)
	scopes, audience                 []string
	level                            eid.Level // 0 for client-credentials tokens
	iat, nbf, exp                    int64     // Unix seconds
	issued                           int64     // Unix ms (issuedMillis)
	// answer is the RFC 7662 introspection answer while the token is active.
	answer []byte
}

// accessClaims are the claims of our access tokens.
type accessClaims struct {
	Issuer    string        `json:"iss"`
	Subject   string        `json:"sub"`
	Audience  oidc.Audience `json:"aud"`
	Expiry    int64         `json:"exp"`
	IssuedAt  int64         `json:"iat"`
	NotBefore int64         `json:"nbf,omitempty"`
	ClientID  string        `json:"client_id"`
	JTI       string        `json:"jti"`
	Scope     string        `json:"scope,omitempty"`
	ACR       string        `json:"acr,omitempty"`
	SID       string        `json:"sid,omitempty"`
	CNF       *struct {
		JKT string `json:"jkt"`
	} `json:"cnf,omitempty"`
}

// introspection is the RFC 7662 answer for an active token.
type introspection struct {
	Active    bool          `json:"active"`
	Scope     string        `json:"scope,omitempty"`
	ClientID  string        `json:"client_id"`
	TokenType string        `json:"token_type"`
	Expiry    int64         `json:"exp"`
	IssuedAt  int64         `json:"iat"`
	NotBefore int64         `json:"nbf,omitempty"`
	Subject   string        `json:"sub"`
	Audience  oidc.Audience `json:"aud"`
	Issuer    string        `json:"iss"`
	JTI       string        `json:"jti"`
	ACR       string        `json:"acr,omitempty"`
	CNF       *struct {
		JKT string `json:"jkt"`
	} `json:"cnf,omitempty"`
}

func levelOfACR(acr string) eid.Level {
	switch acr {
	case ACRLevel2:
		return eid.Level2
	case ACRLevel1:
		return eid.Level1
	}
	return 0
}

// tokenCacheGeneration is how many verified tokens one generation of the
// cache holds; two generations are kept (about 2 × 10,000 × 1.2 KiB).
const tokenCacheGeneration = 10_000

// tokenChecker verifies our access tokens and remembers verified ones by
// their exact bytes, and by jti for the library's callbacks.
type tokenChecker struct {
	issuer string
	key    func(ctx context.Context, kid string) (*ecdsa.PublicKey, error)

	mu        sync.RWMutex
	cur, prev map[string]*tokenInfo // by token
	jti, jold map[string]*tokenInfo // by jti
}

func newTokenChecker(issuer string, key func(context.Context, string) (*ecdsa.PublicKey, error)) *tokenChecker {
	return &tokenChecker{issuer: issuer, key: key, cur: map[string]*tokenInfo{}, prev: map[string]*tokenInfo{},
		jti: map[string]*tokenInfo{}, jold: map[string]*tokenInfo{}}
}

func (c *tokenChecker) cached(token string) *tokenInfo {
	c.mu.RLock()
	t, ok := c.cur[token]
	if !ok {
		t = c.prev[token]
	}
	c.mu.RUnlock()
	return t
}

// byJTI returns a token verified recently, by id.
func (c *tokenChecker) byJTI(jti string) *tokenInfo {
	c.mu.RLock()
	t, ok := c.jti[jti]
	if !ok {
		t = c.jold[jti]
	}
	c.mu.RUnlock()
	return t
}

func (c *tokenChecker) remember(token string, t *tokenInfo) {
	c.mu.Lock()
	if len(c.cur) >= tokenCacheGeneration {
		c.prev, c.cur = c.cur, make(map[string]*tokenInfo, tokenCacheGeneration)
		c.jold, c.jti = c.jti, make(map[string]*tokenInfo, tokenCacheGeneration)
	}
	c.cur[token] = t
	c.jti[t.jti] = t
	c.mu.Unlock()
}

var b64 = base64.RawURLEncoding

// verify checks a token's signature and issuer (not its expiry nor
// revocation, which change with time) and returns what it says.
func (c *tokenChecker) verify(ctx context.Context, token string) (*tokenInfo, error) {
	if t := c.cached(token); t != nil {
		return t, nil
	}
	if len(token) > maxTokenLen {
		return nil, errTokenInactive
	}
	i, j := strings.IndexByte(token, '.'), strings.LastIndexByte(token, '.')
	if i <= 0 || j <= i+1 || j == len(token)-1 {
		return nil, errTokenInactive
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	raw, err := b64.DecodeString(token[:i])
	if err != nil || json.Unmarshal(raw, &header) != nil || header.Alg != string(jose.ES256) {
		return nil, errTokenInactive
	}
	sig, err := b64.DecodeString(token[j+1:])
	if err != nil || len(sig) != 64 {
		return nil, errTokenInactive
	}
	pub, err := c.key(ctx, header.Kid)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256([]byte(token[:j]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return nil, errTokenInactive
	}
	payload, err := b64.DecodeString(token[i+1 : j])
	if err != nil {
		return nil, errTokenInactive
	}
	t, err := c.info(payload)
	if err != nil {
		return nil, err
	}
	c.remember(token, t)
	return t, nil
}

// info reads verified claims; tokens of other issuers, without an id or an
// expiry, are refused.
func (c *tokenChecker) info(payload []byte) (*tokenInfo, error) {
	var cl accessClaims
	if err := json.Unmarshal(payload, &cl); err != nil || cl.Issuer != c.issuer || cl.JTI == "" || cl.Expiry == 0 || cl.ClientID == "" {
		return nil, errTokenInactive
	}
	t := &tokenInfo{jti: cl.JTI, clientID: cl.ClientID, subject: cl.Subject, sid: cl.SID, session: sessionKey(cl.Subject, cl.ClientID),
		scopes: strings.Fields(cl.Scope), audience: cl.Audience, level: levelOfACR(cl.ACR), iat: cl.IssuedAt, nbf: cl.NotBefore, exp: cl.Expiry,
		issued: issuedMillis(cl.JTI, cl.IssuedAt)}
	in := introspection{Active: true, Scope: cl.Scope, ClientID: cl.ClientID, TokenType: oidc.BearerToken, Expiry: cl.Expiry, IssuedAt: cl.IssuedAt,
		NotBefore: cl.NotBefore, Subject: cl.Subject, Audience: cl.Audience, Issuer: cl.Issuer, JTI: cl.JTI, ACR: cl.ACR, CNF: cl.CNF}
	if cl.CNF != nil {
		t.jkt = cl.CNF.JKT
		in.TokenType = "DPoP"
	}
	var err error
	if t.answer, err = json.Marshal(in); err != nil {
		return nil, err
	}
	return t, nil
}

// issuedMillis is when a token was issued, to the millisecond: from its id
// (newAccess puts the time first) when that agrees with iat, else the start
// of the iat second, which errs towards revoking.
func issuedMillis(jti string, iat int64) int64 {
	if len(jti) == 32 {
		if ms, err := strconv.ParseInt(jti[:12], 16, 64); err == nil && ms/1000 == iat {
			return ms
		}
	}
	return iat * 1000
}

// keySet lets the library's access-token verifier (userinfo, introspection
// and revocation when they reach the library) check signatures with our
// keys, and remembers what it verified by jti so the storage callbacks,
// which the library gives only a token id, see the full claims.
type keySet struct{ c *tokenChecker }

func (k keySet) VerifySignature(ctx context.Context, jws *jose.JSONWebSignature) ([]byte, error) {
	if len(jws.Signatures) != 1 || jws.Signatures[0].Header.Algorithm != string(jose.ES256) {
		return nil, errTokenInactive
	}
	pub, err := k.c.key(ctx, jws.Signatures[0].Header.KeyID)
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return nil, errTokenInactive
	}
	if t, err := k.c.info(payload); err == nil {
		k.c.mu.Lock()
		k.c.jti[t.jti] = t
		k.c.mu.Unlock()
	}
	return payload, nil
}

// accountCacheTTL bounds how long a node keeps answering from an account's
// status: a death, lock or revocation ends the citizen's tokens at every
// node within this (the death event itself travels through the outbox and
// JetStream first).
const accountCacheTTL = 2 * time.Second

type cachedAccount struct {
	a  eid.Account
	ok bool
	at time.Time
}

// accountCache remembers citizens' accounts briefly, so checking a token
// does not read the account each time.
type accountCache struct {
	accounts Accounts
	now      func() time.Time

	mu sync.Mutex
	m  map[string]cachedAccount
}

func newAccountCache(a Accounts, now func() time.Time) *accountCache {
	return &accountCache{accounts: a, now: now, m: map[string]cachedAccount{}}
}

// active returns the account of a subject and whether it may use tokens.
func (c *accountCache) active(ctx context.Context, subject string) (eid.Account, bool, error) {
	now := c.now()
	c.mu.Lock()
	e, hit := c.m[subject]
	c.mu.Unlock()
	if hit && now.Sub(e.at) < accountCacheTTL {
		return e.a, e.ok, nil
	}
	a, err := c.accounts.AccountBySubject(ctx, subject)
	if err != nil && !errors.Is(err, eid.ErrNoAccount) {
		return eid.Account{}, false, err
	}
	e = cachedAccount{a: a, ok: err == nil && a.Status == eid.StatusActive, at: now}
	c.mu.Lock()
	if len(c.m) >= 100_000 {
		clear(c.m)
	}
	c.m[subject] = e
	c.mu.Unlock()
	return e.a, e.ok, nil
}

// checkAccess decides whether an access token is active now: verified,
// unexpired, not revoked, and for a citizen's token, the account active.
// It returns the account for citizens' tokens.
func (s *opStorage) checkAccess(ctx context.Context, token string) (*tokenInfo, eid.Account, error) {
	t, err := s.tokens.verify(ctx, token)
	if err != nil {
		return nil, eid.Account{}, errTokenInactive
	}
	return s.stillActive(ctx, t)
}

func (s *opStorage) stillActive(ctx context.Context, t *tokenInfo) (*tokenInfo, eid.Account, error) {
	now := s.now().Unix()
	if now >= t.exp || now+tokenSkew < t.nbf {
		return nil, eid.Account{}, errTokenInactive
	}
	if err := s.revs.fresh(ctx); err != nil {
		return nil, eid.Account{}, err
	}
	if s.revs.revoked(t) {
		return nil, eid.Account{}, errTokenInactive
	}
	if t.level == 0 {
		return t, eid.Account{}, nil
	}
	a, ok, err := s.status.active(ctx, t.subject)
	if err != nil {
		return nil, eid.Account{}, err
	}
	if !ok {
		return nil, eid.Account{}, errTokenInactive
	}
	return t, a, nil
}

// tokenSkew is the clock difference between nodes tolerated on nbf.
const tokenSkew = 5

// jwtHeader is a signing key's encoded JOSE header, made once per key.
type jwtHeader struct{ kid, enc string }

// signer signs our access tokens: ES256 with the current key, header made
// once per key, r||s encoding (RFC 7518 §3.4).
type signer struct {
	keys   *keyStore
	header atomic.Pointer[jwtHeader]
}

func (s *signer) sign(ctx context.Context, payload []byte) (string, error) {
	k, err := s.keys.SigningKey(ctx)
	if err != nil {
		return "", err
	}
	key := k.(signingKey)
	h := s.header.Load()
	if h == nil || h.kid != key.id {
		raw, _ := json.Marshal(map[string]string{"alg": string(jose.ES256), "kid": key.id, "typ": "JWT"})
		h = &jwtHeader{kid: key.id, enc: b64.EncodeToString(raw)}
		s.header.Store(h)
	}
	buf := make([]byte, 0, len(h.enc)+1+b64.EncodedLen(len(payload))+1+86)
	buf = append(buf, h.enc...)
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, payload)
	digest := sha256.Sum256(buf)
	r, sv, err := ecdsa.Sign(rand.Reader, key.priv, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	var sig [64]byte
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig[:])
	return string(buf), nil
}

// serviceClaims encodes the claims of a client-credentials access token
// (the same as accessClaims would, written directly: this is the hot path
// of partner systems).
func serviceClaims(issuer, clientID, jti, scope string, iat, exp int64) []byte {
	b := make([]byte, 0, 160+len(issuer)+3*len(clientID)+len(jti)+len(scope))
	b = append(b, `{"iss":`...)
	b = appendJSONString(b, issuer)
	b = append(b, `,"sub":`...)
	b = appendJSONString(b, clientID)
	b = append(b, `,"aud":[`...)
	b = appendJSONString(b, clientID)
	b = append(b, `],"exp":`...)
	b = strconv.AppendInt(b, exp, 10)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, iat, 10)
	b = append(b, `,"nbf":`...)
	b = strconv.AppendInt(b, iat, 10)
	b = append(b, `,"client_id":`...)
	b = appendJSONString(b, clientID)
	b = append(b, `,"jti":`...)
	b = appendJSONString(b, jti)
	if scope != "" {
		b = append(b, `,"scope":`...)
		b = appendJSONString(b, scope)
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string; anything beyond printable
// ASCII without quotes or backslashes goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
