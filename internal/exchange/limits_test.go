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

// TestQuotaCountedBeforeAdmit: concurrent calls of one partner admit
// exactly the daily quota, and every admitted call is in the table the
// moment Admit returns, with no flush: a kill -9 after the answer loses
// no count.
func TestQuotaCountedBeforeAdmit(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		l := exchange.NewLimits(db, time.Now)
		p := exchange.Partner{ID: "bank-a", Policy: exchange.Policy{DailyQuota: 40}}
		var mu sync.Mutex
		admitted := 0
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				if err := l.Admit(ctx, p); err == nil {
					mu.Lock()
					admitted++
					mu.Unlock()
				} else if _, ok := exchange.RetryAfter(err); !ok {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		day := time.Now().In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
		n, err := l.Usage(ctx, "bank-a", day)
		if admitted != 40 || err != nil || n != 40 {
			t.Errorf("admitted %d, %d in the table (%v), want 40 and 40", admitted, n, err)
		}
	})
}

// TestQuotaBlocks: a large quota is counted in blocks reserved in the
// table before the calls they cover are admitted, so the table never holds
// fewer calls than were answered (a kill -9 loses none) and two nodes
// together never admit more than the quota; a node's unspent block is
// given back once it has lain unspent for a second, after which the table
// holds exactly the calls admitted.
func TestQuotaBlocks(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		var clock atomic.Int64
		clock.Store(time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC).UnixNano())
		now := func() time.Time { return time.Unix(0, clock.Load()) }
		day := now().In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
		table := func() int64 {
			var n int64
			db.R.QueryRowContext(ctx, `SELECT calls FROM exchange_usage WHERE partner_id = 'bank-q' AND day = $1`, day).Scan(&n)
			return n
		}
		nodes := []*exchange.Limits{exchange.NewLimits(db, now), exchange.NewLimits(db, now)}
		p := exchange.Partner{ID: "bank-q", Policy: exchange.Policy{DailyQuota: 1000}} // blocks of 10
		for i := range 25 {
			if err := nodes[0].Admit(ctx, p); err != nil {
				t.Fatal(err)
			}
			if n := table(); n < int64(i+1) || n > int64(i+10) {
				t.Fatalf("after %d calls the table holds %d", i+1, n)
			}
		}
		if n := table(); n != 30 {
			t.Errorf("25 calls in blocks of 10: %d in the table, want 30 (three writes)", n)
		}
		if n, err := nodes[0].Usage(ctx, "bank-q", day); err != nil || n != 25 {
			t.Errorf("usage on the node that made the calls: %d (%v), want 25", n, err)
		}
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for i := range 1200 {
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
		total := 25 + admitted.Load()
		if total > 1000 || total < 1000-2*10 {
			t.Errorf("two nodes admitted %d calls under a quota of 1000", total)
		}
		if n := table(); n < total || n > 1000 {
			t.Errorf("table %d, admitted %d", n, total)
		}
		clock.Add(int64(2 * time.Second))
		for _, l := range nodes {
			if err := l.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := table(); n != total {
			t.Errorf("after unspent blocks were given back the table holds %d, want the %d admitted", n, total)
		}
		// A block left at midnight is given back with the day's end: the
		// past day's count ends exact.
		q := exchange.Partner{ID: "bank-q2", Policy: exchange.Policy{DailyQuota: 1000}}
		if err := nodes[0].Admit(ctx, q); err != nil {
			t.Fatal(err)
		}
		clock.Add(int64(24 * time.Hour))
		if err := nodes[0].Flush(ctx); err != nil {
			t.Fatal(err)
		}
		var n int64
		db.R.QueryRowContext(ctx, `SELECT calls FROM exchange_usage WHERE partner_id = 'bank-q2' AND day = $1`, day).Scan(&n)
		if n != 1 {
			t.Errorf("yesterday's count after its block was given back: %d, want 1", n)
		}
	})
}

// TestProbesBound: different values are counted per partner, person and
// day up to the bound; the same values again are free; the count lives in
// the database, so a fresh limiter (another node, a restart) refuses too.
func TestProbesBound(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		pr := exchange.NewProbes(db, time.Now)
		for i, d := range []string{"a", "b", "c", "a", "b"} {
			if err := pr.Admit(ctx, "bank-a", "001090000001", d, 3); err != nil {
				t.Fatalf("value %d (%s) within the bound: %v", i, d, err)
			}
		}
		err := pr.Admit(ctx, "bank-a", "001090000001", "d", 3)
		if wait, ok := exchange.RetryAfter(err); !ok || wait <= 0 || wait > 24*time.Hour {
			t.Errorf("a fourth value: %v (wait %s)", err, wait)
		}
		if err := exchange.NewProbes(db, time.Now).Admit(ctx, "bank-a", "001090000001", "e", 3); err == nil {
			t.Error("a fresh limiter admitted a value beyond the bound")
		}
		if err := exchange.NewProbes(db, time.Now).Admit(ctx, "bank-a", "001090000001", "c", 3); err != nil {
			t.Errorf("a fresh limiter refused values tried before: %v", err)
		}
		for _, other := range [][2]string{{"bank-b", "001090000001"}, {"bank-a", "001090000002"}} {
			if err := pr.Admit(ctx, other[0], other[1], "d", 3); err != nil {
				t.Errorf("%v: another partner or person has its own count: %v", other, err)
			}
		}
		// Rows of past days go when a new day begins.
		tomorrow := exchange.NewProbes(db, func() time.Time { return time.Now().Add(24 * time.Hour) })
		if err := tomorrow.Admit(ctx, "bank-a", "001090000001", "e", 3); err != nil {
			t.Errorf("the next day: %v", err)
		}
		var left int
		db.R.QueryRowContext(ctx, `SELECT count(*) FROM exchange_verify_probes WHERE partner_id = 'bank-a' AND pin = '001090000001'`).Scan(&left)
		if left != 1 {
			t.Errorf("%d rows after the day changed, want the new day's 1", left)
		}
	})
}
