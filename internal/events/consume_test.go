package events_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/events/eventstest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func TestMatchesAndOverlap(t *testing.T) {
	for _, c := range []struct {
		pattern, subject string
		match, overlap   bool
	}{
		{"dancu.person.died", "dancu.person.died", true, true},
		{"dancu.person.died", "dancu.person.born", false, false},
		{"dancu.person.>", "dancu.person.died", true, true},
		{"dancu.person.>", "dancu.person", false, false},
		{"dancu.partner.>", "dancu.partner.tax.died", true, true},
		{"dancu.partner.*.died", "dancu.partner.tax.died", true, true},
		{"dancu.partner.*.died", "dancu.partner.tax.born", false, false},
		{"dancu.card.issued", "dancu.card.issued.x", false, false},
		{"dancu.>", "dancu.partner.tax.died", true, true},
		{"dancu.person.>", "dancu.card.>", false, false},
		{"dancu.*.died", "dancu.person.>", false, true},
	} {
		if got := events.Matches(c.pattern, c.subject); got != c.match {
			t.Errorf("Matches(%q, %q) = %v, want %v", c.pattern, c.subject, got, c.match)
		}
		if got := events.Overlap(c.pattern, c.subject); got != c.overlap {
			t.Errorf("Overlap(%q, %q) = %v, want %v", c.pattern, c.subject, got, c.overlap)
		}
	}
}

// A consumer filters on one subject, as NATS 2.9 requires: what it handles,
// or the narrowest family covering it; never the whole stream.
func TestConsumerFilter(t *testing.T) {
	for _, c := range []struct {
		name    string
		handles []events.Topic
		want    string // "" means refused
	}{
		{"one subject", []events.Topic{events.PersonDied}, "dancu.person.died"},
		{"a family", []events.Topic{events.PartnerDeliveries}, "dancu.partner.>"},
		{"person subjects", []events.Topic{events.PersonBorn, events.PersonDied, events.PersonMoved}, "dancu.person.>"},
		{"card subjects", []events.Topic{events.CardIssued, events.CardRevoked}, "dancu.card.>"},
		{"person and card: the whole stream", []events.Topic{events.PersonDied, events.CardIssued}, ""},
		{"nothing", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := events.Consumer{Name: "x", Handles: c.handles}.Filter()
			if c.want == "" {
				if err == nil {
					t.Fatalf("filter %q accepted", got)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("filter %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 9: 256 * time.Second, 10: 5 * time.Minute, 1000: 5 * time.Minute} {
		if got := events.Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

var testPublisher = events.Publishes("test", events.PersonBorn, events.PersonDied, events.PersonMoved)

// TestConsume runs the consume helper against the embedded server and the
// machine's NATS (2.9): an event from the outbox reaches the handler on its
// catalogue subject with its id; a failing handler gets the message again
// after the backoff; a message of the family the consumer does not handle
// is acknowledged unread; a body that is not the subject's type and a
// message that failed MaxDeliver times become dead letters.
func TestConsume(t *testing.T) {
	eventstest.Each(t, func(t *testing.T, bus *events.Bus) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		db := storagetest.Open(t, storage.SQLite, []storage.Migrations{storage.OwnMigrations()})
		var (
			mu    sync.Mutex
			seen  = map[string]int{} // event id → deliveries that reached the handler
			moved int
		)
		c := events.Consumer{Name: "test-deaths", Handles: []events.Topic{events.PersonDied, events.PersonBorn}, MaxDeliver: 2, AckWait: 30 * time.Second}
		done, err := events.Consume(ctx, bus, c, slog.New(slog.NewTextHandler(t.Output(), nil)), func(ctx context.Context, batch []events.Msg) error {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range batch {
				if _, ok := events.Decode(events.PersonMoved, m); ok {
					moved++
				}
				var ev events.LifeEvent
				var ok bool
				if ev, ok = events.Decode(events.PersonDied, m); !ok {
					ev, _ = events.Decode(events.PersonBorn, m)
				}
				seen[ev.EventID]++
				if ev.EventID == "flaky" && seen[ev.EventID] < 2 || ev.EventID == "poison" {
					return context.DeadlineExceeded // a failure redelivery may mend
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// A birth through the outbox and the relay.
		if err := db.Tx(ctx, func(tx *sql.Tx) error {
			_, err := events.Enqueue(ctx, tx, testPublisher, events.PersonBorn, events.LifeEvent{EventID: "born", PIN: "001090000001"}, time.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if n, err := (&events.Relay{DB: db, Bus: bus, Log: slog.New(slog.DiscardHandler)}).Once(ctx); n != 1 || err != nil {
			t.Fatalf("relay published %d: %v", n, err)
		}
		for _, id := range []string{"flaky", "poison"} {
			if err := events.Publish(ctx, bus, testPublisher, events.PersonDied, "m-"+id, events.LifeEvent{EventID: id}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := events.Publish(ctx, bus, testPublisher, events.PersonMoved, "m-moved", events.LifeEvent{EventID: "moved"}, nil); err != nil {
			t.Fatal(err)
		}
		// Not a LifeEvent: redelivery would not mend it.
		raw := &nats.Msg{Subject: bus.Wire(events.PersonDied.String()), Data: []byte(`{"event_id":`), Header: nats.Header{}}
		raw.Header.Set(jetstream.MsgIDHeader, "m-malformed")
		if _, err := bus.JS.PublishMsg(ctx, raw); err != nil {
			t.Fatal(err)
		}
		// A publisher cannot use a subject it did not declare.
		if err := events.Publish(ctx, bus, testPublisher, events.CardIssued, "m-card", events.CardEvent{}, nil); err == nil {
			t.Fatal("an undeclared subject was published")
		}

		dead := readDeadLetters(t, ctx, bus, c.Name, 2)
		if d := dead["m-malformed"]; d.Reason != "malformed" || d.Subject != "dancu.person.died" || d.Delivered != 1 || string(d.Data) != `{"event_id":` {
			t.Errorf("malformed dead letter %+v", d)
		}
		if d := dead["m-poison"]; d.Reason != "max_deliver" || d.Delivered != 2 || d.Consumer != c.Name {
			t.Errorf("poison dead letter %+v", d)
		}
		cons, err := bus.JS.Consumer(ctx, bus.StreamName(), c.Name)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "every message acknowledged or terminated", func() bool {
			info, err := cons.Info(ctx)
			return err == nil && info.NumAckPending == 0 && info.NumPending == 0 && info.NumRedelivered == 0
		})
		info, _ := cons.Info(ctx)
		if info.Config.FilterSubject != bus.Wire("dancu.person.>") || len(info.Config.FilterSubjects) != 0 {
			t.Errorf("consumer filters on %q %v, want one subject", info.Config.FilterSubject, info.Config.FilterSubjects)
		}
		mu.Lock()
		if seen["born"] != 1 || seen["flaky"] != 2 || seen["poison"] != 2 || moved != 0 || seen["moved"] != 0 {
			t.Errorf("handler saw %v (moved %d): want born 1, flaky 2, poison 2, nothing of the move", seen, moved)
		}
		mu.Unlock()
		cancel()
		<-done
	})
}

func readDeadLetters(t *testing.T, ctx context.Context, bus *events.Bus, consumer string, want int) map[string]events.DeadLetter {
	t.Helper()
	cons, err := bus.JS.CreateOrUpdateConsumer(ctx, bus.StreamName(), jetstream.ConsumerConfig{Durable: "dead-reader",
		FilterSubject: bus.Wire("dancu.dead." + consumer), AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]events.DeadLetter{}
	deadline := time.Now().Add(20 * time.Second)
	for len(out) < want && time.Now().Before(deadline) {
		batch, err := cons.Fetch(want, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			var d events.DeadLetter
			if err := json.Unmarshal(m.Data(), &d); err != nil {
				t.Fatal(err)
			}
			out[d.ID] = d
			m.Ack()
		}
	}
	if len(out) != want {
		t.Fatalf("%d dead letters, want %d: %v", len(out), want, out)
	}
	return out
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
