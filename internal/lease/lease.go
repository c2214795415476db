// Package lease lets one node of several run a job at a time: a row per
// job names its holder and when the holder's claim expires. A node
// acquires a free or expired lease, renews it while it works and
// releases it when done; a node that dies loses it at expiry, and
// another node takes the job over. The same SQL runs on SQLite and
// PostgreSQL (an upsert whose update applies only when the lease is free
// or already the caller's, so two nodes racing for it cannot both win).
//
// Expiry is compared on the callers' clocks: nodes must keep their
// clocks within a small fraction of the lease period (NTP), which is why
// periods are seconds to minutes, never milliseconds.
package lease

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/dancu-project/dancu/internal/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the lease table.
func Migrations() storage.Migrations {
	return storage.Migrations{Module: "lease", FS: storage.Sub(migrationFS, "migrations")}
}

// Leases acquires and releases leases in db for one node (Holder).
type Leases struct {
	DB *storage.DB
	// Holder names this node in the table; NewHolder makes a unique one.
	Holder string
	Now    func() time.Time // default time.Now
}

// NewHolder is a holder name unique to this process: the host name and a
// random suffix, so two processes on one host differ.
func NewHolder() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return host + "-" + hex.EncodeToString(b)
}

func (l *Leases) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Acquire takes the lease name for ttl when it is free, expired or
// already held by this node (which renews it), and reports whether it
// holds it now.
func (l *Leases) Acquire(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	now := l.now()
	res, err := l.DB.W.ExecContext(ctx, `INSERT INTO leases (name, holder, expires_ms) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
		WHERE leases.holder = excluded.holder OR leases.expires_ms <= $4`,
		name, l.Holder, now.Add(ttl).UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("lease %s: acquire: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("lease %s: acquire: %w", name, err)
	}
	return n == 1, nil
}

// Renew extends a lease this node holds; false means it was lost (it
// expired and another node took it), and the work must stop.
func (l *Leases) Renew(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	res, err := l.DB.W.ExecContext(ctx, `UPDATE leases SET expires_ms = $1 WHERE name = $2 AND holder = $3`,
		l.now().Add(ttl).UnixMilli(), name, l.Holder)
	if err != nil {
		return false, fmt.Errorf("lease %s: renew: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("lease %s: renew: %w", name, err)
	}
	return n == 1, nil
}

// Release gives a lease up so another node may take it at once; releasing
// a lease not held is not an error.
func (l *Leases) Release(ctx context.Context, name string) error {
	if _, err := l.DB.W.ExecContext(ctx, `DELETE FROM leases WHERE name = $1 AND holder = $2`, name, l.Holder); err != nil {
		return fmt.Errorf("lease %s: release: %w", name, err)
	}
	return nil
}

// Wait acquires the lease, retrying every poll until ctx ends; for short
// critical sections (a PKI rotation) that every node may need to run.
func (l *Leases) Wait(ctx context.Context, name string, ttl, poll time.Duration) error {
	for {
		ok, err := l.Acquire(ctx, name, ttl)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lease %s: held by another node: %w", name, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// Run calls work each period while this node holds the lease name (ttl
// should be a few periods, so a live holder renews it in time); work
// returns before the next period. Run returns when ctx ends, releasing
// the lease. Every node runs Run; one at a time does the work.
func (l *Leases) Run(ctx context.Context, name string, period, ttl time.Duration, work func(context.Context)) {
	t := time.NewTicker(period)
	defer t.Stop()
	held := false
	defer func() {
		if held {
			_ = l.Release(context.WithoutCancel(ctx), name)
		}
	}()
	for {
		ok, err := l.Acquire(ctx, name, ttl)
		held = err == nil && ok
		if held {
			work(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Hold runs work while this node holds the lease name, for a worker that
// loops until its context ends (an audit checkpointer): it waits for the
// lease (retrying every ttl/3), runs work with a context that ends when a
// renewal fails (another node may then have the job), and waits again.
// Hold returns when ctx ends, releasing the lease.
func (l *Leases) Hold(ctx context.Context, name string, ttl time.Duration, work func(context.Context)) {
	every := ttl / 3
	for ctx.Err() == nil {
		ok, err := l.Acquire(ctx, name, ttl)
		if err != nil || !ok {
			select {
			case <-ctx.Done():
			case <-time.After(every):
			}
			continue
		}
		held, lost := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			work(held)
		}()
		t := time.NewTicker(every)
	renew:
		for {
			select {
			case <-done:
				break renew
			case <-t.C:
				if ok, err := l.Renew(ctx, name, ttl); err != nil || !ok {
					lost()
					<-done
					break renew
				}
			}
		}
		t.Stop()
		lost()
	}
	_ = l.Release(context.WithoutCancel(ctx), name)
}
