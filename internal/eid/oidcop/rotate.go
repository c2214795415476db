package oidcop

import (
	"context"
	"time"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/storage"
)

// SigningKeys rotates the provider's signing keys without a running
// provider, for `dancu oidc rotate-key`: the keys are rows of
// eid_oidc_keys, so every node signs with the new one within
// keyCacheTTL and verifies with the old ones until they retire.
type SigningKeys struct{ ks *keyStore }

// NewSigningKeys opens the signing keys sealed with the e-ID secret.
func NewSigningKeys(db *storage.DB, secret []byte, now func() time.Time) (*SigningKeys, error) {
	seal, err := eid.NewSealer(secret)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &SigningKeys{ks: &keyStore{db: db, seal: seal, now: now}}, nil
}

// Rotate is Provider.RotateKey.
func (s *SigningKeys) Rotate(ctx context.Context, overlap time.Duration) (string, error) {
	return s.ks.rotate(ctx, overlap)
}

// RotateIfOlder is Provider.RotateKeyIfOlder.
func (s *SigningKeys) RotateIfOlder(ctx context.Context, maxAge, overlap time.Duration) (string, error) {
	age, err := s.ks.currentAge(ctx)
	if err != nil || age < maxAge {
		return "", err
	}
	return s.ks.rotate(ctx, overlap)
}
