package exchange_test

import (
	"context"
	"sync"
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
