package oidcop

import (
	"context"
	"errors"
	"fmt"
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
