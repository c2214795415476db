package oidcop

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/storage"
)

// signingKey is an ES256 (P-256) key. It serves as op.SigningKey for
// signing and, through publicKey, as op.Key in the JWKS.
type signingKey struct {
	id      string
	priv    *ecdsa.PrivateKey
	created time.Time
	retire  time.Time // zero while the key signs
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k signingKey) Key() any                                    { return k.priv }
func (k signingKey) ID() string                                  { return k.id }

type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.priv.PublicKey }

// keyCacheTTL bounds how long a node signs with a key another node has
// retired (a rotation on one node reaches the others within it); the
// retired key stays published far longer than this. Reading the few key
// rows every few seconds costs nothing.
const keyCacheTTL = 5 * time.Second

// keyStore keeps signing keys in the database so every node signs with the
// same key and publishes the same JWKS.
type keyStore struct {
	db   *storage.DB
	seal *eid.Sealer
	now  func() time.Time

	mu     sync.Mutex
	keys   []signingKey // newest first, unretired or not yet expired
	loaded time.Time
}

// load returns the published keys, making the first key when there is none.
func (ks *keyStore) load(ctx context.Context) ([]signingKey, error) {
	now := ks.now()
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.keys != nil && now.Sub(ks.loaded) < keyCacheTTL {
		return ks.keys, nil
	}
	keys, err := ks.read(ctx, now)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 || !keys[0].retire.IsZero() {
		if _, err := ks.insert(ctx, now); err != nil {
			return nil, err
		}
		if keys, err = ks.read(ctx, now); err != nil {
			return nil, err
		}
	}
	ks.keys, ks.loaded = keys, now
	return keys, nil
}

func (ks *keyStore) read(ctx context.Context, now time.Time) ([]signingKey, error) {
	rows, err := ks.db.R.QueryContext(ctx, `SELECT id, private_sealed, created_at, retire_at FROM eid_oidc_keys ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	defer rows.Close()
	var out []signingKey
	for rows.Next() {
		var id, sealed, created, retire string
		if err := rows.Scan(&id, &sealed, &created, &retire); err != nil {
			return nil, fmt.Errorf("load signing keys: %w", err)
		}
		k := signingKey{id: id}
		k.created, _ = time.Parse(time.RFC3339Nano, created)
		if retire != "" {
			k.retire, _ = time.Parse(time.RFC3339Nano, retire)
			if !now.Before(k.retire) {
				continue
			}
		}
		der, err := ks.seal.Open(sealed, "oidc-key:"+id)
		if err != nil {
			return nil, err
		}
		raw, err := base64.RawStdEncoding.DecodeString(der)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", id, err)
		}
		if k.priv, err = x509.ParseECPrivateKey(raw); err != nil {
			return nil, fmt.Errorf("signing key %s: %w", id, err)
		}
		out = append(out, k)
	}
	// Signing keys (unretired) first, newest first.
	for i := range out {
		if out[i].retire.IsZero() && i > 0 {
			k := out[i]
			copy(out[1:i+1], out[:i])
			out[0] = k
			break
		}
	}
	return out, rows.Err()
}

func (ks *keyStore) insert(ctx context.Context, now time.Time) (string, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("generate signing key: %w", err)
	}
	id := storage.NewID()[:16]
	_, err = ks.db.W.ExecContext(ctx, `INSERT INTO eid_oidc_keys (id, alg, private_sealed, created_at) VALUES ($1, 'ES256', $2, $3)`,
		id, ks.seal.Seal(base64.RawStdEncoding.EncodeToString(der), "oidc-key:"+id), now.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return "", fmt.Errorf("store signing key: %w", err)
	}
	return id, nil
}

// rotate makes a new signing key and retires the others after overlap,
// which must exceed the longest token lifetime so their tokens still verify.
func (ks *keyStore) rotate(ctx context.Context, overlap time.Duration) (string, error) {
	now := ks.now()
	id, err := ks.insert(ctx, now)
	if err != nil {
		return "", err
	}
	_, err = ks.db.W.ExecContext(ctx, `UPDATE eid_oidc_keys SET retire_at = $1 WHERE retire_at = '' AND id <> $2`, now.Add(overlap).UTC().Format(time.RFC3339Nano), id)
	if err != nil {
		return "", fmt.Errorf("retire signing keys: %w", err)
	}
	ks.mu.Lock()
	ks.keys = nil
	ks.mu.Unlock()
	return id, nil
}

// currentAge is how old the newest signing key is (zero when none).
func (ks *keyStore) currentAge(ctx context.Context) (time.Duration, error) {
	now := ks.now()
	keys, err := ks.read(ctx, now)
	if err != nil {
		return 0, err
	}
	if len(keys) == 0 || !keys[0].retire.IsZero() {
		return 0, nil
	}
	return now.Sub(keys[0].created), nil
}

func (ks *keyStore) SigningKey(ctx context.Context) (op.SigningKey, error) {
	keys, err := ks.load(ctx)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 || !keys[0].retire.IsZero() {
		return nil, errors.New("no signing key")
	}
	return keys[0], nil
}

func (ks *keyStore) KeySet(ctx context.Context) ([]op.Key, error) {
	keys, err := ks.load(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, len(keys))
	for i, k := range keys {
		out[i] = publicKey{k}
	}
	return out, nil
}
