package eid_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/events/eventstest"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRevokeOnDeathJetStream(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		revokeOnDeath(t, db, eventstest.Embedded(t))
	})
}

// TestRevokeOnDeathExternalNATS: the same on the machine's NATS server
// (2.9), in a namespace of its own.
func TestRevokeOnDeathExternalNATS(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		revokeOnDeath(t, db, eventstest.Open(t))
	})
}

func revokeOnDeath(t *testing.T, db *storage.DB, bus *events.Bus) {
	f := newFixture(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.register(t, adultInput())
	if err := f.svc.RevokeOnDeath(ctx, bus); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(registry.EventMessage{EventID: "ev-1", Kind: registry.EventDeath, PIN: adultPIN, Effective: "2026-05-01"})
	// The same event published twice under different message ids, so
	// JetStream does not deduplicate it: the consumer must.
	for _, id := range []string{"m1", "m2"} {
		msg := &nats.Msg{Subject: bus.Wire(registry.SubjectDied), Data: body, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, id)
		if _, err := bus.JS.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	// A birth on the same stream is not this consumer's business.
	if _, err := bus.JS.Publish(ctx, bus.Wire(registry.SubjectBorn), body); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "revocation", func() bool {
		a, err := f.svc.Account(ctx, adultPIN)
		return err == nil && a.Status == eid.StatusRevoked
	})
	cons, err := bus.JS.Consumer(ctx, bus.StreamName(), eid.DeathConsumer.Name)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both deliveries acknowledged", func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.AckFloor.Consumer == 2 && info.NumAckPending == 0
	})
	var n int
	db.R.QueryRowContext(ctx, `SELECT count(*) FROM eid_processed_events`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d processed events, want 1", n)
	}
	if _, err := f.svc.SignIn(ctx, eid.SignInInput{PIN: adultPIN, Password: password}); err == nil {
		t.Fatal("a revoked account signed in")
	}
	// A redelivery after the fact is harmless too.
	if err := f.svc.HandleDeath(ctx, body); err != nil {
		t.Fatal(err)
	}
}
