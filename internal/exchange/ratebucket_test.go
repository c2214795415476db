package exchange_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestRateSharedAcrossNodes: two nodes' limiters on one database admit a
// partner's burst plus its rate between them, not each; a refused call
// gets the wait until the next token.
func TestRateSharedAcrossNodes(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		var clock atomic.Int64
		clock.Store(time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC).UnixNano())
		now := func() time.Time { return time.Unix(0, clock.Load()) }
		nodes := []*exchange.Limits{exchange.NewLimits(db, now), exchange.NewLimits(db, now)}
		p := exchange.Partner{ID: "bank-r", Policy: exchange.Policy{RatePerSecond: 20, Burst: 30}}
		burst := func() int {
			var admitted atomic.Int32
			var wg sync.WaitGroup
			for i := range 120 {
				wg.Go(func() {
					err := nodes[i%2].Admit(ctx, p)
					if err == nil {
						admitted.Add(1)
					} else if _, ok := exchange.RetryAfter(err); !ok {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			return int(admitted.Load())
		}
		if n := burst(); n != 30 {
			t.Fatalf("two nodes admitted %d calls at once, want the burst 30", n)
		}
		err := nodes[0].Admit(ctx, p)
		if wait, ok := exchange.RetryAfter(err); !ok || wait <= 0 || wait > 100*time.Millisecond {
			t.Fatalf("beyond the burst: %v (wait %v), want refused with a wait of at most 1/20 s", err, wait)
		}
		// A second later (grants held by a node lapse): the rate's 20 more.
		clock.Add(int64(time.Second))
		if n := burst(); n != 20 {
			t.Fatalf("two nodes admitted %d calls a second later, want the rate 20", n)
		}
	})
}
