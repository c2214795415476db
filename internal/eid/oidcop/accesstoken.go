package oidcop

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
)

// AccessToken is an access token the provider issued, checked: its
// signature against the provider's keys, its issuer, its expiry and that it
// is not revoked.
type AccessToken struct {
	ID       string // jti: the token's id in the provider's store
	ClientID string // the client it was issued to
	// Subject is the client id for a client-credentials token and the
	// citizen's opaque subject for a token a citizen's sign-in issued.
	Subject string
	// PIN is the citizen's identification number for a citizen's token,
	// empty for a client-credentials token.
	PIN     string
	Scopes  []string
	Level   eid.Level // 0 for a client-credentials token
	Expires time.Time
}

// Citizen reports whether a citizen's sign-in issued the token (as opposed
// to a client-credentials grant).
func (t AccessToken) Citizen() bool { return t.PIN != "" }

// ErrAccessTokenInvalid is every refusal of an access token: bad signature,
// other issuer, expired, revoked, account no longer active. One code, so the
// answer tells an attacker nothing.
var ErrAccessTokenInvalid = fault.New(fault.Unauthenticated, "auth.token_invalid",
	"Mã truy cập không hợp lệ, đã hết hạn hoặc đã bị thu hồi.", "The access token is invalid, expired or revoked.")

// maxTokenLen bounds what is parsed; our ES256 tokens are under 1 KiB.
const maxTokenLen = 8 << 10

// VerifyAccessToken checks an access token fully: signature, issuer,
// expiry, the revocation list and, for a citizen's token, that the account
// is still active. Tokens are self-contained (tokens.go): a token checked
// before costs a memory lookup, revocations made on this node count at
// once and those of other nodes within about a second (revocation.go), a
// citizen's death, lock or revocation within accountCacheTTL.
func (p *Provider) VerifyAccessToken(ctx context.Context, token string) (AccessToken, error) {
	if len(token) == 0 || len(token) > maxTokenLen {
		return AccessToken{}, ErrAccessTokenInvalid
	}
	t, a, err := p.store.checkAccess(ctx, token)
	if errors.Is(err, errTokenInactive) {
		return AccessToken{}, ErrAccessTokenInvalid
	}
	if err != nil {
		return AccessToken{}, fmt.Errorf("verify access token: %w", err)
	}
	return AccessToken{ID: t.jti, ClientID: t.clientID, Subject: t.subject, PIN: a.PIN, Scopes: t.scopes, Level: t.level,
		Expires: time.Unix(t.exp, 0)}, nil
}

// keyReloadGap bounds how often an unknown key id makes the provider reread
// its keys, so tokens with made-up key ids cannot hammer the database.
const keyReloadGap = 5 * time.Second

// verificationKey returns the published key with the id; a key another node
// made since the last load is found by reloading once.
func (p *Provider) verificationKey(ctx context.Context, kid string) (signingKey, error) {
	ks := p.store.keyStore
	for attempt := 0; attempt < 2; attempt++ {
		keys, err := ks.load(ctx)
		if err != nil {
			return signingKey{}, fmt.Errorf("verify access token: %w", err)
		}
		for _, k := range keys {
			if k.id == kid {
				return k, nil
			}
		}
		ks.mu.Lock()
		stale := p.now().Sub(ks.loaded) >= keyReloadGap
		if stale {
			ks.keys = nil
		}
		ks.mu.Unlock()
		if !stale {
			break
		}
	}
	return signingKey{}, ErrAccessTokenInvalid
}

// AccessTokenVerifier verifies access tokens for a resource server and
// remembers each verified token for at most TTL (and never past its expiry).
//
// VerifyAccessToken itself answers a token it has seen from memory (a map
// lookup and the in-memory revocation list), so this cache saves little and
// adds a revocation delay: a token revoked (or whose citizen's account is
// locked or revoked) keeps working on a node for up to TTL. Prefer
// VerifyAccessToken.
type AccessTokenVerifier struct {
	p   *Provider
	ttl time.Duration
	max int

	mu    sync.Mutex
	cache map[string]cachedToken
}

type cachedToken struct {
	t     AccessToken
	until time.Time
}

// DefaultAccessTokenCacheTTL is the revocation delay resource servers accept
// by default.
const DefaultAccessTokenCacheTTL = 30 * time.Second

// AccessTokenVerifier returns a caching verifier; ttl <= 0 means
// DefaultAccessTokenCacheTTL.
func (p *Provider) AccessTokenVerifier(ttl time.Duration) *AccessTokenVerifier {
	if ttl <= 0 {
		ttl = DefaultAccessTokenCacheTTL
	}
	return &AccessTokenVerifier{p: p, ttl: ttl, max: 100_000, cache: map[string]cachedToken{}}
}

// Verify returns the checked token, from the cache when it was verified less
// than TTL ago. Refusals are not cached: they are cheap to repeat and a
// token must not stay refused after a clock hiccup.
func (v *AccessTokenVerifier) Verify(ctx context.Context, token string) (AccessToken, error) {
	now := v.p.now()
	v.mu.Lock()
	c, ok := v.cache[token]
	v.mu.Unlock()
	if ok && now.Before(c.until) {
		return c.t, nil
	}
	t, err := v.p.VerifyAccessToken(ctx, token)
	if err != nil {
		return AccessToken{}, err
	}
	until := now.Add(v.ttl)
	if t.Expires.Before(until) {
		until = t.Expires
	}
	v.mu.Lock()
	if len(v.cache) >= v.max {
		// Dropping everything is cheap and rare: a node sees far fewer
		// live tokens than max.
		clear(v.cache)
	}
	v.cache[token] = cachedToken{t: t, until: until}
	v.mu.Unlock()
	return t, nil
}
