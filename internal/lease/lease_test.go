package lease_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/lease"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func TestLease(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{lease.Migrations()}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		clock := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		now := func() time.Time { return clock }
		a := &lease.Leases{DB: db, Holder: "node-a", Now: now}
		b := &lease.Leases{DB: db, Holder: "node-b", Now: now}
		steps := []struct {
			name string
			do   func() (bool, error)
			want bool
		}{
			{"a acquires a free lease", func() (bool, error) { return a.Acquire(ctx, "job", time.Minute) }, true},
			{"b is refused while a holds it", func() (bool, error) { return b.Acquire(ctx, "job", time.Minute) }, false},
			{"a re-acquires (renews) its own", func() (bool, error) { return a.Acquire(ctx, "job", time.Minute) }, true},
			{"b cannot renew what it does not hold", func() (bool, error) { return b.Renew(ctx, "job", time.Minute) }, false},
			{"a renews", func() (bool, error) { return a.Renew(ctx, "job", time.Minute) }, true},
			{"another job is independent", func() (bool, error) { return b.Acquire(ctx, "other", time.Minute) }, true},
			{"b takes it once a's claim expired", func() (bool, error) {
				clock = clock.Add(61 * time.Second)
				return b.Acquire(ctx, "job", time.Minute)
			}, true},
			{"a, having lost it, cannot renew", func() (bool, error) { return a.Renew(ctx, "job", time.Minute) }, false},
			{"a's release does not free b's lease", func() (bool, error) {
				if err := a.Release(ctx, "job"); err != nil {
					return false, err
				}
				return a.Acquire(ctx, "job", time.Minute)
			}, false},
			{"after b releases, a takes it at once", func() (bool, error) {
				if err := b.Release(ctx, "job"); err != nil {
					return false, err
				}
				return a.Acquire(ctx, "job", time.Minute)
			}, true},
		}
		for _, s := range steps {
			got, err := s.do()
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if got != s.want {
				t.Fatalf("%s: got %v, want %v", s.name, got, s.want)
			}
		}
	})
}

// TestLeaseRace: many holders racing for one free lease, exactly one wins.
func TestLeaseRace(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{lease.Migrations()}, func(t *testing.T, db *storage.DB) {
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l := &lease.Leases{DB: db, Holder: string(rune('a' + i))}
				ok, err := l.Acquire(context.Background(), "race", time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d holders won the lease, want 1", wins.Load())
		}
	})
}
