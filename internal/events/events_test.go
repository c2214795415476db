package events_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func TestRelayPublishesCommittedEventsOnce(t *testing.T) {
	storagetest.Run(t, nil, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		bus, err := events.Open(ctx, "", t.TempDir(), "")
		if err != nil {
			t.Fatal(err)
		}
		defer bus.Close()
		for i := 0; i < 25; i++ {
			err := db.Tx(ctx, func(tx *sql.Tx) error {
				_, err := storage.Enqueue(ctx, tx, "dancu.person.born", map[string]int{"n": i}, time.Now())
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		// A rolled-back transaction's event must never be published.
		db.Tx(ctx, func(tx *sql.Tx) error {
			storage.Enqueue(ctx, tx, "dancu.person.born", map[string]int{"n": -1}, time.Now())
			return fmt.Errorf("abort")
		})
		pending, _ := db.PendingEvents(ctx, 100)
		relay := &events.Relay{DB: db, JS: bus.JS, Log: slog.New(slog.NewTextHandler(t.Output(), nil))}
		n, err := relay.Once(ctx)
		if err != nil || n != 25 {
			t.Fatalf("published %d, %v", n, err)
		}
		// Re-publishing the same ids (a crash before trimming) is deduplicated.
		for _, e := range pending[:5] {
			db.Tx(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO outbox (msg_id, subject, payload, created_at) VALUES ($1, $2, $3, $4)`, e.MsgID, e.Subject, e.Payload, "x")
				return err
			})
		}
		if _, err := relay.Once(ctx); err != nil {
			t.Fatal(err)
		}
		stream, err := bus.JS.Stream(ctx, events.Stream)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := stream.Info(ctx)
		if info.State.Msgs != 25 {
			t.Fatalf("stream holds %d messages, want 25", info.State.Msgs)
		}
		cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		msg, err := cons.Next(jetstream.FetchMaxWait(2 * time.Second))
		if err != nil || string(msg.Data()) != `{"n":0}` {
			t.Fatalf("first message %v: %v", msg, err)
		}
		if left, _ := db.PendingEvents(ctx, 10); len(left) != 0 {
			t.Fatalf("%d events left in the outbox", len(left))
		}
	})
}

func TestExternalNATS(t *testing.T) {
	url := os.Getenv("DANCU_TEST_NATS_URL")
	if url == "" {
		t.Skip("external NATS suite skipped: set DANCU_TEST_NATS_URL (e.g. nats://127.0.0.1:4222)")
	}
	bus, err := events.Open(context.Background(), url, "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	if err := bus.Ready(); err != nil {
		t.Fatal(err)
	}
}
