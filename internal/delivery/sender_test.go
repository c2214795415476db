package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/events/eventstest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// webhookPartner subscribes partner to deaths with rc as its endpoint.
func webhookPartner(t *testing.T, s *Store, partner string, rc *receiver) {
	t.Helper()
	sub, err := s.Subscribe(context.Background(), "staff:admin", openPolicy, SubscribeInput{PartnerID: partner, Types: []string{TypeDied}, Mode: ModeWebhook, URL: rc.srv.URL + "/hook"})
	if err != nil {
		t.Fatal(err)
	}
	rc.secret = func() string { return sub.Secret }
}

// deaths queues n death events of people linked to every partner.
func deaths(t *testing.T, f *Fanout, from, n int) []string {
	t.Helper()
	var msgs []Message
	var ids []string
	for i := from; i < from+n; i++ {
		id := fmt.Sprintf("ev-%05d", i)
		msgs = append(msgs, lifeEvent(id, "dancu.person.died", testPIN(i+1), "2026-02-27"))
		ids = append(ids, id)
	}
	if err := f.Handle(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	return ids
}

func everyone(partners ...string) Audience {
	return AudienceFunc(func(context.Context, string) ([]string, error) { return partners, nil })
}

func TestSlowAndFailingPartnersDoNotBlockOthers(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := newStore(t, db)
		healthy, failing, hanging := newReceiver(t), newReceiver(t), newReceiver(t)
		var failOn atomic.Bool
		failOn.Store(true)
		failing.behave = func(*http.Request) int {
			if failOn.Load() {
				return http.StatusInternalServerError
			}
			return 0
		}
		release := make(chan struct{})
		hanging.behave = func(r *http.Request) int {
			select { // longer than the client's timeout
			case <-release:
			case <-r.Context().Done():
			}
			return http.StatusServiceUnavailable
		}
		defer close(release)
		webhookPartner(t, s, "healthy", healthy)
		webhookPartner(t, s, "failing", failing)
		webhookPartner(t, s, "hanging", hanging)
		reg := prometheus.NewRegistry()
		m := NewMetrics(reg)
		snd := &Sender{Store: s, Log: quietLog(), Metrics: m, PerPartner: 2, MaxAttempts: 4,
			BaseDelay: 40 * time.Millisecond, MaxDelay: time.Second, Poll: 20 * time.Millisecond, Client: NewClient(150*time.Millisecond, 2, Egress{Development: true})}
		stopped := snd.Start(ctx)
		f := &Fanout{Store: s, Policies: policyTable{}, Audience: everyone("healthy", "failing", "hanging"), Log: quietLog(), Metrics: m, Notify: snd.Notify}
		ids := deaths(t, f, 0, 20)

		waitFor(t, "the healthy partner's 20 events", func() bool { n, _ := healthy.counts(); return n == 20 })
		// By then the hanging partner has not even used up its attempts:
		// its lane waited alone.
		c, err := s.Counts(ctx, "hanging")
		if err != nil {
			t.Fatal(err)
		}
		if c[StatusPending] == 0 {
			t.Fatalf("hanging partner's deliveries already settled (%v): the healthy one may have waited for it", c)
		}
		if _, dup := healthy.counts(); dup != 0 {
			t.Fatalf("healthy partner got %d duplicates", dup)
		}

		// The failing partner is retried with growing, jittered delays, then
		// dead-lettered.
		waitFor(t, "the failing partner's dead letters", func() bool {
			c, _ := s.Counts(ctx, "failing")
			return c[StatusDead] == 20
		})
		log, err := s.Log(ctx, "failing", 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 80 {
			t.Fatalf("%d attempts logged for the failing partner, want 20 × 4", len(log))
		}
		byEvent := map[string][]Attempt{}
		for i := len(log) - 1; i >= 0; i-- {
			byEvent[log[i].EventID] = append(byEvent[log[i].EventID], log[i])
		}
		for id, as := range byEvent {
			for i, a := range as {
				if a.Attempt != i+1 || a.StatusCode != 500 || a.Error != "HTTP 500" {
					t.Fatalf("%s attempt %d: %+v", id, i+1, a)
				}
				if i == 0 {
					continue
				}
				// Equal jitter: at least half the doubled delay.
				minGap := (snd.BaseDelay << (i - 1)) / 2
				if gap := a.At.Sub(as[i-1].At); gap < minGap {
					t.Fatalf("%s: retry %d after %v, want ≥ %v", id, i, gap, minGap)
				}
			}
			if as[len(as)-1].Outcome != outcomeDead {
				t.Fatalf("%s: last attempt %+v, want dead", id, as[len(as)-1])
			}
		}

		// The hanging partner's attempts end in timeouts, then dead letters.
		waitFor(t, "the hanging partner's dead letters", func() bool {
			c, _ := s.Counts(ctx, "hanging")
			return c[StatusDead] == 20
		})
		hlog, _ := s.Log(ctx, "hanging", 0, 1)
		if len(hlog) != 1 || hlog[0].Error != "timeout" || hlog[0].StatusCode != 0 {
			t.Fatalf("hanging partner's log: %+v", hlog)
		}

		// The operator replays the failing partner's dead letters once it is
		// fixed; each arrives exactly once, signed.
		failOn.Store(false)
		dead, err := s.Deliveries(ctx, Filter{Partner: "failing", Status: StatusDead})
		if err != nil || len(dead) != 20 {
			t.Fatalf("dead-letter list: %d, %v", len(dead), err)
		}
		n, err := s.Replay(ctx, "failing", []string{ids[0], ids[1]}, false)
		if err != nil || n != 2 {
			t.Fatalf("replay two: %d, %v", n, err)
		}
		snd.Notify([]string{"failing"})
		waitFor(t, "two replayed events", func() bool { n, _ := failing.counts(); return n == 2 })
		if n, err := s.Replay(ctx, "failing", nil, true); err != nil || n != 18 {
			t.Fatalf("replay all: %d, %v", n, err)
		}
		snd.Notify([]string{"failing"})
		waitFor(t, "every replayed event", func() bool { n, _ := failing.counts(); return n == 20 })
		if _, dup := failing.counts(); dup != 0 || failing.badSig != 0 {
			t.Fatalf("failing partner: %d duplicates, %d bad signatures", dup, failing.badSig)
		}
		if _, err := s.Replay(ctx, "", nil, true); !errors.Is(err, ErrReplayTarget) {
			t.Fatalf("replay of everything for nobody: %v", err)
		}

		// The receiver counts a request before the sender has its answer and
		// records the outcome: wait for the records, or stopping the sender
		// would cut the last attempt short (and not count it).
		waitFor(t, "the replayed deliveries recorded", func() bool {
			d, _ := s.Deliveries(ctx, Filter{Partner: "failing", Status: StatusDelivered})
			return len(d) == 20
		})
		cancel()
		<-stopped
		for _, c := range []struct {
			name, partner string
			want          float64
		}{
			{"dancu_deliveries_delivered_total", "healthy", 20},
			{"dancu_deliveries_delivered_total", "failing", 20},
			{"dancu_deliveries_dead_lettered_total", "hanging", 20},
			{"dancu_delivery_attempts_failed_total", "failing", 80},
		} {
			if got := counter(t, reg, c.name, c.partner); got != c.want {
				t.Fatalf("%s{partner=%s} = %v, want %v", c.name, c.partner, got, c.want)
			}
		}
	})
}

// A request captured on the wire and sent again later is refused by a
// receiver using Verify.
func TestCapturedWebhookReplayRefused(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite, migrations())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newStore(t, db)
	rc := newReceiver(t)
	webhookPartner(t, s, "bank-a", rc)
	snd := &Sender{Store: s, Log: quietLog(), Poll: 20 * time.Millisecond}
	stopped := snd.Start(ctx)
	f := &Fanout{Store: s, Policies: policyTable{}, Audience: everyone("bank-a"), Log: quietLog(), Notify: snd.Notify}
	ids := deaths(t, f, 0, 1)
	waitFor(t, "the event", func() bool { n, _ := rc.counts(); return n == 1 })
	cancel()
	<-stopped
	rc.mu.Lock()
	req, body := rc.requests[0], rc.rawBody[ids[0]]
	rc.mu.Unlock()
	secret := rc.secret()
	if err := Verify(secret, req.Header, body, time.Now(), DefaultWindow); err != nil {
		t.Fatalf("fresh request refused: %v", err)
	}
	if err := Verify(secret, req.Header, body, time.Now().Add(DefaultWindow+time.Minute), DefaultWindow); !errors.Is(err, ErrOutsideWindow) {
		t.Fatalf("request replayed after the window: %v", err)
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil || p.ID != ids[0] || req.Header.Get(HeaderEventID) != ids[0] {
		t.Fatalf("event id in body %q and header %q, want %q", p.ID, req.Header.Get(HeaderEventID), ids[0])
	}
}

// JetStream end to end: events published on the bus are fanned out by the
// durable consumer; a redelivery of every message (the consumer recreated)
// queues nothing twice; JetStream-mode partners read their own subject.
func TestJetStreamFanoutAndPartnerSubject(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		jetStreamFanout(t, db, eventstest.Embedded(t))
	})
}

// TestJetStreamFanoutExternalNATS: the same on the machine's NATS server
// (2.9: one filter subject per consumer), in a namespace of its own.
func TestJetStreamFanoutExternalNATS(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		jetStreamFanout(t, db, eventstest.Open(t))
	})
}

func jetStreamFanout(t *testing.T, db *storage.DB, bus *events.Bus) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newStore(t, db)
	if _, err := s.Subscribe(ctx, "staff:admin", openPolicy, SubscribeInput{PartnerID: "tax", Types: []string{TypeDied, TypeNameChanged}, Mode: ModeJetStream}); err != nil {
		t.Fatal(err)
	}
	snd := &Sender{Store: s, Bus: bus, Log: quietLog(), Poll: 20 * time.Millisecond}
	stopped := snd.Start(ctx)
	aud := links{testPIN(1): {"tax"}, testPIN(2): {"tax"}}
	fanCtx, stopFan := context.WithCancel(ctx)
	// The tax office serves Hồ Chí Minh City; the people are in Hà Nội, so
	// only a link tells it of them.
	hcmc := openPolicy
	hcmc.Scope = "79"
	f := &Fanout{Store: s, Policies: policyTable{"tax": &hcmc}, Audience: aud, Log: quietLog(), Notify: snd.Notify}
	fanDone, err := f.Start(fanCtx, bus)
	if err != nil {
		t.Fatal(err)
	}
	publish := func(m Message) {
		msg := &nats.Msg{Subject: bus.Wire(m.Subject), Data: m.Data, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, m.ID)
		if _, err := bus.JS.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	publish(lifeEvent("e1", "dancu.person.died", testPIN(1), "2026-02-27"))
	publish(lifeEvent("e2", "dancu.person.name_changed", testPIN(2), "2026-02-27"))
	publish(lifeEvent("e3", "dancu.person.died", testPIN(3), "2026-02-27"))  // not linked, outside the unit
	publish(lifeEvent("e4", "dancu.person.moved", testPIN(1), "2026-02-27")) // not subscribed
	waitFor(t, "two deliveries", func() bool {
		c, _ := s.Counts(ctx, "tax")
		return c[StatusDelivered] == 2
	})
	// Every message again, as after a lost acknowledgement.
	stopFan()
	<-fanDone
	if err := bus.JS.DeleteConsumer(ctx, bus.StreamName(), FanoutConsumer.Name); err != nil {
		t.Fatal(err)
	}
	publish(lifeEvent("e5", "dancu.person.died", testPIN(2), "2026-02-28"))
	fanDone, err = f.Start(ctx, bus)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := bus.JS.Consumer(ctx, bus.StreamName(), FanoutConsumer.Name)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "all five messages redelivered and acknowledged", func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.AckFloor.Stream >= 5 && info.NumAckPending == 0
	})
	waitFor(t, "the third delivery", func() bool {
		c, _ := s.Counts(ctx, "tax")
		return c[StatusDelivered] == 3
	})
	if c, _ := s.Counts(ctx, ""); c[StatusPending]+c[StatusDead] != 0 || c[StatusDelivered] != 3 {
		t.Fatalf("deliveries after a full redelivery: %v, want 3 delivered", c)
	}

	// The partner's own durable consumer on its subject.
	pc, err := bus.JS.CreateOrUpdateConsumer(ctx, bus.StreamName(), jetstream.ConsumerConfig{Durable: "tax-events",
		FilterSubject: bus.Wire(PartnerSubject("tax", ">")), AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := pc.Fetch(10, jetstream.FetchMaxWait(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for m := range batch.Messages() {
		var p Payload
		json.Unmarshal(m.Data(), &p)
		got[p.ID] = m.Subject()
		m.Ack()
	}
	want := map[string]string{"e1": bus.Wire("dancu.partner.tax.died"), "e2": bus.Wire("dancu.partner.tax.name_changed"), "e5": bus.Wire("dancu.partner.tax.died")}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("partner subject got %v, want %v", got, want)
	}
	cancel()
	<-fanDone
	<-stopped
}

func counter(t *testing.T, reg *prometheus.Registry, name, partner string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "partner" && l.GetValue() == partner {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// Two nodes share one queue: each delivery is claimed by one of them, so
// the receiver sees each event once; deliveries claimed by a node that died
// before recording are sent again when its lease runs out.
func TestNodesShareTheQueueAndTakeOverClaims(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := newStore(t, db)
		rc := newReceiver(t)
		webhookPartner(t, s, "bank-a", rc)
		f := &Fanout{Store: s, Policies: policyTable{}, Audience: everyone("bank-a"), Log: quietLog()}
		ids := deaths(t, f, 0, 5)

		// A node claims three deliveries, then dies without an outcome.
		now := time.Now()
		claimed, err := s.claim(ctx, "bank-a", now, now.Add(300*time.Millisecond), 3)
		if err != nil || len(claimed) != 3 {
			t.Fatalf("claim: %d, %v", len(claimed), err)
		}
		if again, _ := s.claim(ctx, "bank-a", now, now.Add(time.Minute), 5); len(again) != 2 {
			t.Fatalf("claimed rows were claimed again: %d", len(again))
		}
		db.W.ExecContext(ctx, `UPDATE delivery_queue SET next_at = $1 WHERE event_id IN ($2, $3)`, stamp(now), ids[3], ids[4])

		more := deaths(t, f, 5, 195)
		var stops []<-chan struct{}
		for range 2 {
			snd := &Sender{Store: s, Log: quietLog(), PerPartner: 3, Poll: 10 * time.Millisecond}
			stops = append(stops, snd.Start(ctx))
			f.Notify = snd.Notify
		}
		waitFor(t, "200 events", func() bool { n, _ := rc.counts(); return n == 200 })
		if _, dup := rc.counts(); dup != 0 {
			t.Fatalf("two nodes sent %d duplicates", dup)
		}
		if got := rc.ids(); got[0] != ids[0] || got[len(got)-1] != more[len(more)-1] {
			t.Fatalf("received %s…%s", got[0], got[len(got)-1])
		}
		cancel()
		for _, st := range stops {
			<-st
		}
	})
}
