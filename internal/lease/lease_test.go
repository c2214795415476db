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

// TestLeaseHold: of two nodes holding a long-running worker, one runs it;
// when that node stops, the other takes it over.
func TestLeaseHold(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{lease.Migrations()}, func(t *testing.T, db *storage.DB) {
		var running, ran [2]atomic.Bool
		var stops [2]context.CancelFunc
		var wg sync.WaitGroup
		for i := range 2 {
			ctx, cancel := context.WithCancel(context.Background())
			stops[i] = cancel
			l := &lease.Leases{DB: db, Holder: []string{"n1", "n2"}[i]}
			wg.Go(func() {
				l.Hold(ctx, "worker", 300*time.Millisecond, func(ctx context.Context) {
					running[i].Store(true)
					ran[i].Store(true)
					if running[1-i].Load() {
						t.Error("both nodes run the worker")
					}
					<-ctx.Done()
					running[i].Store(false)
				})
			})
		}
		defer func() {
			for _, s := range stops {
				s()
			}
			wg.Wait()
		}()
		time.Sleep(500 * time.Millisecond)
		first := -1
		for i := range 2 {
			if ran[i].Load() {
				first = i
			}
		}
		if first < 0 || ran[1-first].Load() {
			t.Fatalf("ran %v %v, want exactly one node", ran[0].Load(), ran[1].Load())
		}
		stops[first]() // the holder stops and releases: the other takes over
		deadline := time.Now().Add(2 * time.Second)
		for !ran[1-first].Load() {
			if time.Now().After(deadline) {
				t.Fatal("the other node did not take the worker over")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
