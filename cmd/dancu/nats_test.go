package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/events/eventstest"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
)

// TestServeExternalNATS starts "dancu serve --nats" against the machine's
// NATS server (2.9; DANCU_TEST_NATS_URL), in a namespace of its own: it
// starts (every consumer filters on one subject, which 2.9 requires), and a
// death written to the outbox travels through the server to the e-ID
// consumer, which revokes the person's account.
func TestServeExternalNATS(t *testing.T) {
	natsURL := eventstest.ExternalURL(t)
	ns := eventstest.Namespace(t)
	dir := t.TempDir()
	env := map[string]string{"DANCU_DATA": dir, "DANCU_BOOTSTRAP_PASSWORD": "mật-khẩu-khởi-tạo"}
	_, _, stop := startServe(t, env, "--seed-persons", "20", "--nats", natsURL, "--nats-namespace", ns)
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	ctx := context.Background()
	bus, err := events.Dial(ctx, events.Config{URL: natsURL, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	defer eventstest.Drop(t, bus)

	db, err := storage.Open(ctx, filepath.Join(dir, "dancu.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pin string
	if err := db.R.QueryRowContext(ctx, `SELECT pin FROM persons WHERE status = 'alive' ORDER BY pin LIMIT 1`).Scan(&pin); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	stamp := now.Format(time.RFC3339Nano)
	eventID := storage.NewID()
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO eid_accounts (pin, subject, level, status, created_via, created_at, updated_at) VALUES ($1, $2, 2, $3, 'test', $4, $4)`,
			pin, "sub-"+eventID, eid.StatusActive, stamp); err != nil {
			return err
		}
		_, err := events.Enqueue(ctx, tx, registry.Events, events.PersonDied, events.LifeEvent{EventID: eventID, Kind: registry.EventDeath, PIN: pin,
			Effective: now.Format(time.DateOnly), Recorded: now}, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var status, reason string
		if err := db.R.QueryRowContext(ctx, `SELECT status, status_reason FROM eid_accounts WHERE pin = $1`, pin).Scan(&status, &reason); err != nil {
			t.Fatal(err)
		}
		if status == eid.StatusRevoked && reason == "death" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the e-ID account is %s (%s) 30s after the death was published", status, reason)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Every consumer serve created filters on one subject of its namespace.
	for _, name := range []string{eid.DeathConsumer.Name, "card-revoke-on-death", "delivery-fanout", "delivery-fanout-cards"} {
		cons, err := bus.JS.Consumer(ctx, bus.StreamName(), name)
		if err != nil {
			t.Fatalf("consumer %s: %v", name, err)
		}
		info, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(info.Config.FilterSubjects) != 0 || !events.Matches(bus.Wire("dancu.>"), info.Config.FilterSubject) {
			t.Errorf("consumer %s filters on %q %v", name, info.Config.FilterSubject, info.Config.FilterSubjects)
		}
	}
	stopped = true
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
