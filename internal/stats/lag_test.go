package stats_test

import (
	"context"
	"database/sql"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// BenchmarkIndicatorLag: how far the indicators lag the events at 1,000
// events a second, through the real path — the outbox, the relay, NATS
// JetStream and the stats-person consumer — for 10 seconds. Every 10 ms a
// transaction enqueues 10 moves (as the register does, registry.Events);
// a poller reads the nation's moves-in counter every 5 ms, and each
// batch's lag is from its commit to the first read that includes it. The
// figures are the lags' median, 99th percentile and maximum, and the rate
// reached; the load average is logged with them.
func BenchmarkIndicatorLag(b *testing.B) {
	for _, d := range storagetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			env := apptest.Start(b, d, 2000)
			ctx := context.Background()
			type who struct{ pin, commune string }
			var people []who
			if err := registry.ScanPersons(ctx, env.App.DB, false, func(r *registry.PersonRow) error {
				people = append(people, who{string(r.PIN), string(r.Commune)})
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			movedIn := func() int64 {
				var n sql.NullInt64
				if err := env.App.DB.R.QueryRowContext(ctx, `SELECT SUM(n) FROM stats_province_flows WHERE kind = 'moved_in'`).Scan(&n); err != nil {
					b.Fatal(err)
				}
				return n.Int64
			}
			outboxed := func() int64 {
				var n int64
				if err := env.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&n); err != nil {
					b.Fatal(err)
				}
				return n
			}
			base := movedIn()
			const rate, every, seconds = 1000, 10 * time.Millisecond, 10
			perBatch := int(rate * every / time.Second)
			batches := seconds * int(time.Second/every)
			committed := make([]time.Time, batches)
			seen := make([]time.Time, batches)
			done := make(chan struct{})
			go func() { // the poller
				defer close(done)
				next := 0
				deadline := time.Now().Add(time.Duration(seconds)*time.Second + 40*time.Second)
				for next < batches && time.Now().Before(deadline) {
					n, at := movedIn()-base, time.Now()
					for next < batches && n >= int64((next+1)*perBatch) {
						seen[next] = at
						next++
					}
					time.Sleep(5 * time.Millisecond)
				}
			}()
			b.ResetTimer()
			start := time.Now()
			k := 0
			for i := range batches {
				if wait := time.Until(start.Add(time.Duration(i) * every)); wait > 0 {
					time.Sleep(wait)
				}
				now := time.Now()
				err := env.App.DB.Tx(ctx, func(tx *sql.Tx) error {
					for range perBatch {
						p, q := people[k%len(people)], people[(k*7+3)%len(people)]
						k++
						if p.commune == q.commune {
							q = people[(k*11+5)%len(people)]
						}
						ev := events.LifeEvent{EventID: "lag-" + strconv.Itoa(k), Kind: "move", PIN: p.pin, Effective: now.Format(time.DateOnly), Commune: p.commune,
							FromCommune: q.commune, Recorded: now}
						if p.commune == q.commune {
							ev.FromCommune = ""
						}
						if _, err := events.Enqueue(ctx, tx, registry.Events, events.PersonMoved, ev, now); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				committed[i] = time.Now()
			}
			sent := time.Since(start)
			<-done
			b.StopTimer()
			var lags []time.Duration
			for i := range batches {
				if seen[i].IsZero() {
					// Not counted in time: the consumer falls behind the
					// rate; the figure says how far.
					b.Errorf("batch %d of %d not counted within 30 s of the end (%d of %d events counted, %d still in the outbox)", i, batches, movedIn()-base, batches*perBatch, outboxed())
					var warned []string
					for _, l := range strings.Split(env.Logs.String(), "\n") {
						if (strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR")) && len(warned) < 12 {
							warned = append(warned, l)
						}
					}
					b.Logf("warnings:\n%s", strings.Join(warned, "\n"))
					return
				}
				lags = append(lags, seen[i].Sub(committed[i]))
			}
			slices.Sort(lags)
			pct := func(p float64) time.Duration { return lags[min(len(lags)-1, int(p*float64(len(lags))))] }
			load, _ := os.ReadFile("/proc/loadavg")
			b.Logf("%s: %d events in %v (%.0f/s); lag p50 %v, p99 %v, max %v; load average %s", d, batches*perBatch, sent.Round(time.Millisecond),
				float64(batches*perBatch)/sent.Seconds(), pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), lags[len(lags)-1].Round(time.Millisecond),
				strings.Join(strings.Fields(string(load))[:3], " "))
			b.ReportMetric(float64(pct(0.5).Milliseconds()), "lag-p50-ms")
			b.ReportMetric(float64(pct(0.99).Milliseconds()), "lag-p99-ms")
			b.ReportMetric(float64(lags[len(lags)-1].Milliseconds()), "lag-max-ms")
			b.ReportMetric(float64(batches*perBatch)/sent.Seconds(), "events/s")
		})
	}
}
