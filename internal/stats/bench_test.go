package stats_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// BenchmarkHandlePersons: how many life events a second the person
// consumer applies, in its batches of 200 (each one a receipt, a flow, the
// person's facts and card re-read, the contribution moved), against the
// issue's 1,000 events/s.
func BenchmarkHandlePersons(b *testing.B) {
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
			const batch = 200
			n := 0
			start := time.Now()
			for b.Loop() {
				msgs := make([]events.Msg, batch)
				for i := range msgs {
					p := people[n%len(people)]
					q := people[(n*7+3)%len(people)]
					body, _ := json.Marshal(events.LifeEvent{EventID: "bench", Kind: "move", PIN: p.pin, Effective: "2026-01-15", Commune: p.commune, FromCommune: q.commune, Recorded: time.Now()})
					msgs[i] = events.Msg{Subject: events.PersonMoved.String(), ID: "bench-" + strconv.Itoa(n), Data: body}
					n++
				}
				if err := env.App.Stats.HandlePersons(ctx, msgs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
		})
	}
}
