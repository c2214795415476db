package events_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/events/eventstest"
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
		relay := &events.Relay{DB: db, Bus: bus, Log: slog.New(slog.NewTextHandler(t.Output(), nil))}
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

// TestExternalNATS: the machine's NATS server (2.9 or later) takes the
// stream in a namespace of its own, so runs sharing it do not mix events.
func TestExternalNATS(t *testing.T) {
	bus := eventstest.Open(t)
	if err := bus.Ready(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stream, err := bus.JS.Stream(ctx, bus.StreamName())
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if bus.StreamName() == events.Stream || len(info.Config.Subjects) != 1 || !strings.HasSuffix(info.Config.Subjects[0], ".>") ||
		bus.Wire("dancu.person.died") != strings.TrimSuffix(info.Config.Subjects[0], ">")+"person.died" {
		t.Fatalf("stream %s captures %v; dancu.person.died travels as %s", bus.StreamName(), info.Config.Subjects, bus.Wire("dancu.person.died"))
	}
}

func TestNamespaceRefused(t *testing.T) {
	for _, ns := range []string{"Dancu", "dancu.x", "da nc", "dancu>", "1dancu", strings.Repeat("a", 33)} {
		if _, err := events.Dial(context.Background(), events.Config{URL: "nats://127.0.0.1:1", Namespace: ns}); err == nil || !strings.Contains(err.Error(), "namespace") {
			t.Errorf("namespace %q: %v", ns, err)
		}
	}
}

// A server older than 2.9 is refused at start with the version needed.
func TestSupportedServer(t *testing.T) {
	for v, ok := range map[string]bool{"2.9.10": true, "2.9.0": true, "2.10.4": true, "2.15.2": true, "3.0.0": true, "v2.11.0-beta": true,
		"2.8.4": false, "2.2.0": false, "1.9.9": false, "": false, "2.9": false} {
		err := events.SupportedServer(v)
		if (err == nil) != ok {
			t.Errorf("SupportedServer(%q) = %v", v, err)
		}
		if err != nil && !strings.Contains(err.Error(), "2.9.0 or later") {
			t.Errorf("refusal does not name the version needed: %v", err)
		}
	}
}
