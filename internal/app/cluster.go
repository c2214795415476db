package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/card/pkistore"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/lease"
	"github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/storage"
)

// What several nodes on one database share beyond their tables (issue 21):
// the card PKI (its directory mirrored in the database, internal/card/
// pkistore), and jobs that one node at a time runs under a lease
// (internal/lease).

const (
	// pkiFollowEvery is how soon a node uses a PKI change (a rotated
	// document signer) made on another.
	pkiFollowEvery = time.Second
	// oidcKeyMaxAge is when the scheduled rotation replaces the OpenID
	// signing key; oidcKeyOverlap how long the old key stays published,
	// longer than any token it signed lives.
	oidcKeyMaxAge  = 90 * 24 * time.Hour
	oidcKeyOverlap = 7 * 24 * time.Hour
)

// Lease names of the jobs one node runs at a time.
const (
	leaseOIDCRotation = "oidc-key-rotation"
	leasePurge        = "purge"
	leaseStayOffers   = "stay-offers"
	// leaseAuditCheckpoint is held by the node that signs audit
	// checkpoints (auditcheckpoint.go).
	leaseAuditCheckpoint = "audit-checkpoint"
)

// ChangePKI runs fn on the card PKI under <data>/pki with the database's
// copy pulled first and fn's changes pushed after, under the PKI lease so
// one node changes it at a time. keys seal the private keys with the PKI
// key; a fresh database and directory get a CSCA, a first document signer
// and the results' platform CA (OpenPKI, EnsureResults), and a directory
// from before the database held the PKI is uploaded.
func ChangePKI(ctx context.Context, cfg platform.Config, db *storage.DB, leases *lease.Leases, log *slog.Logger, fn func(keys *pki.FileKeys) error) error {
	m := &pkistore.Mirror{DB: db, Dir: PKIDir(cfg), Leases: leases}
	return m.Change(ctx, func() error {
		keys, err := OpenPKI(cfg, log)
		if err != nil {
			return err
		}
		if _, created, err := EnsureResults(cfg, keys, nil); err != nil {
			return err
		} else if created {
			log.Info("created the platform CA and results signer", "dir", filepath.Join(PKIDir(cfg), "results"))
		}
		if fn == nil {
			return nil
		}
		return fn(keys)
	})
}

// RotateCardSigner issues a new document signer and makes it current on
// every node (they follow within pkiFollowEvery); earlier signers stay
// for verification.
func RotateCardSigner(ctx context.Context, cfg platform.Config, db *storage.DB, log *slog.Logger) (*pki.Authority, error) {
	var a *pki.Authority
	err := ChangePKI(ctx, cfg, db, &lease.Leases{DB: db, Holder: lease.NewHolder()}, log, func(keys *pki.FileKeys) (err error) {
		a, err = pki.Options{Keys: keys}.RotateSigner(PKIDir(cfg))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("rotate the document signer: %w", err)
	}
	return a, nil
}

// openSharedPKI brings the node's PKI directory level with the database
// (creating the PKI on a fresh one) and returns the keys that seal it.
func (a *App) openSharedPKI(ctx context.Context, cfg platform.Config, log *slog.Logger) (*pki.FileKeys, error) {
	var keys *pki.FileKeys
	err := ChangePKI(ctx, cfg, a.DB, a.Leases, log, func(k *pki.FileKeys) error {
		keys = k
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("card PKI: %w", err)
	}
	a.pkiMirror = &pkistore.Mirror{DB: a.DB, Dir: PKIDir(cfg), Leases: a.Leases}
	if _, err := a.pkiMirror.Pull(ctx); err != nil {
		return nil, fmt.Errorf("card PKI: %w", err)
	}
	return keys, nil
}

// RotateOIDCKey makes a new OpenID signing key under the rotation lease
// (two nodes rotating at once would retire each other's key); every node
// signs with it within seconds and the old keys stay published for
// overlap (oidcKeyOverlap when zero).
func RotateOIDCKey(ctx context.Context, cfg platform.Config, db *storage.DB, leases *lease.Leases, overlap time.Duration) (string, error) {
	secret, err := cfg.LoadEIDSecret()
	if err != nil {
		return "", err
	}
	keys, err := oidcop.NewSigningKeys(db, []byte(secret), nil)
	if err != nil {
		return "", err
	}
	if overlap == 0 {
		overlap = oidcKeyOverlap
	}
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := leases.Wait(wait, leaseOIDCRotation, time.Minute, 200*time.Millisecond); err != nil {
		return "", err
	}
	defer leases.Release(context.WithoutCancel(ctx), leaseOIDCRotation)
	return keys.Rotate(ctx, overlap)
}

// startLeasedJobs runs the jobs one node at a time runs: the purge of
// expired e-ID rows and the scheduled OpenID key rotation; and follows
// the PKI's changes (every node).
func (a *App) startLeasedJobs(ctx context.Context) {
	// The CRL and master list a node reissues reach the others (through
	// the database) instead of staying in its cache.
	a.Cards.SharePKI(a.pkiMirror.Change)
	a.startWorker(func() { a.pkiMirror.Follow(ctx, pkiFollowEvery, a.Log) })
	a.startWorker(func() {
		a.Leases.Run(ctx, leasePurge, 10*time.Minute, 30*time.Minute, a.purgeOnce)
	})
	a.startWorker(func() {
		a.Leases.Run(ctx, leaseOIDCRotation, time.Hour, 2*time.Hour, func(ctx context.Context) {
			id, err := a.OIDC.RotateKeyIfOlder(ctx, oidcKeyMaxAge, oidcKeyOverlap)
			if err != nil {
				a.Log.Warn("OpenID key rotation", "err", err)
			} else if id != "" {
				a.Log.Info("rotated the OpenID signing key", "kid", id)
			}
		})
	})
	a.startWorker(func() {
		// Guests staying 30 days are offered temporary residence.
		a.Leases.Run(ctx, leaseStayOffers, time.Hour, 2*time.Hour, func(ctx context.Context) {
			if n, err := a.Stay.SweepOffers(ctx); err != nil {
				a.Log.Warn("stay offers", "err", err)
			} else if n > 0 {
				a.Log.Info("temporary residence offered", "offers", n)
			}
		})
	})
}
