package service_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/events/eventstest"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestRevokeOnDeathJetStream: a death published on the stream revokes the
// person's card through the durable consumer, on the embedded server and on
// the machine's NATS (2.9); a redelivery of the same death (a new message
// id) revokes nothing more.
func TestRevokeOnDeathJetStream(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *events.Bus{"embedded": eventstest.Embedded, "external": eventstest.Open} {
		t.Run(name, func(t *testing.T) {
			storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
				bus := open(t)
				f := setup(t, db)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				c := f.issued(t, f.adult)
				if err := f.svc.RevokeOnDeath(ctx, bus, slog.New(slog.NewTextHandler(t.Output(), nil))); err != nil {
					t.Fatal(err)
				}
				death := events.LifeEvent{EventID: "ev-death", Kind: registry.EventDeath, PIN: f.adult, Effective: "2026-05-01", Recorded: time.Now()}
				for _, id := range []string{"m1", "m2"} {
					if err := events.Publish(ctx, bus, registry.Events, events.PersonDied, id, death, nil); err != nil {
						t.Fatal(err)
					}
				}
				deadline := time.Now().Add(20 * time.Second)
				for {
					got, err := f.svc.Get(ctx, registrarBaDinh, c.Serial, "test")
					if err != nil {
						t.Fatal(err)
					}
					if got.Status == service.Revoked && got.Reason == service.ReasonDeath {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("card %s (%s) 20s after the death was published", got.Status, got.Reason)
					}
					time.Sleep(50 * time.Millisecond)
				}
				cons, err := bus.JS.Consumer(ctx, bus.StreamName(), service.DeathConsumer.Name)
				if err != nil {
					t.Fatal(err)
				}
				for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
					info, err := cons.Info(ctx)
					if err == nil && info.AckFloor.Consumer == 2 && info.NumAckPending == 0 {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("both deaths not acknowledged: %+v %v", info, err)
					}
				}
				_, history, err := f.svc.Cards(ctx, registrarBaDinh, f.adult)
				if err != nil {
					t.Fatal(err)
				}
				revocations := 0
				for _, h := range history {
					if h.Status == service.Revoked {
						revocations++
					}
				}
				if revocations != 1 {
					t.Fatalf("%d revocations in the card's history, want 1: %+v", revocations, history)
				}
			})
		})
	}
}
