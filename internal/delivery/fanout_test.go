package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func TestSubscribeRules(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		prod, err := NewStore(db, testSecret, time.Now, Egress{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Subscribe(ctx, "staff:admin", openPolicy, SubscribeInput{PartnerID: "bank-a", Types: []string{TypeDied}, Mode: ModeWebhook, URL: "https://bank.example/hook"}); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name  string
			store *Store
			in    SubscribeInput
			code  string
		}{
			{"partner id with a dot (not a subject token)", s, SubscribeInput{PartnerID: "bank.a", Types: []string{TypeDied}, Mode: ModeJetStream}, "delivery.partner_id"},
			{"partner id in capitals", s, SubscribeInput{PartnerID: "BANK", Types: []string{TypeDied}, Mode: ModeJetStream}, "delivery.partner_id"},
			{"no types", s, SubscribeInput{PartnerID: "bank-b", Mode: ModeJetStream}, "delivery.no_types"},
			{"unknown type", s, SubscribeInput{PartnerID: "bank-b", Types: []string{"married"}, Mode: ModeJetStream}, "delivery.event_type"},
			{"unknown mode", s, SubscribeInput{PartnerID: "bank-b", Types: []string{TypeDied}, Mode: "email"}, "delivery.mode"},
			{"webhook without URL", s, SubscribeInput{PartnerID: "bank-b", Types: []string{TypeDied}, Mode: ModeWebhook}, "delivery.url"},
			{"URL with credentials", s, SubscribeInput{PartnerID: "bank-b", Types: []string{TypeDied}, Mode: ModeWebhook, URL: "https://u:p@bank.example/"}, "delivery.url"},
			{"plain http in production", prod, SubscribeInput{PartnerID: "bank-b", Types: []string{TypeDied}, Mode: ModeWebhook, URL: "http://bank.example/"}, "delivery.url"},
			{"loopback address in production", prod, SubscribeInput{PartnerID: "bank-b", Types: []string{TypeDied}, Mode: ModeWebhook, URL: "https://127.0.0.1:8080/admin"}, "delivery.url_internal"},
			{"localhost in production", prod, SubscribeInput{PartnerID: "bank-b", Types: []string{TypeDied}, Mode: ModeWebhook, URL: "https://LocalHost./hook"}, "delivery.url_internal"},
			{"IPv6 loopback in production", prod, SubscribeInput{PartnerID: "bank-b", Types: []string{TypeDied}, Mode: ModeWebhook, URL: "https://[::1]/hook"}, "delivery.url_internal"},
			{"cloud metadata service in production", prod, SubscribeInput{PartnerID: "bank-b", Types: []string{TypeDied}, Mode: ModeWebhook, URL: "https://169.254.169.254/latest/meta-data"}, "delivery.url_internal"},
			{"private address not allowed in production", prod, SubscribeInput{PartnerID: "bank-b", Types: []string{TypeDied}, Mode: ModeWebhook, URL: "https://10.1.2.3/hook"}, "delivery.url_internal"},
			{"JetStream with a URL", s, SubscribeInput{PartnerID: "bank-b", Types: []string{TypeDied}, Mode: ModeJetStream, URL: "https://x/"}, "delivery.url"},
			{"second subscription to a type", s, SubscribeInput{PartnerID: "bank-a", Types: []string{TypeMoved, TypeDied}, Mode: ModeJetStream}, "delivery.duplicate_type"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := c.store.Subscribe(ctx, "staff:admin", openPolicy, c.in)
				if err == nil || !strings.Contains(codes(err), c.code) {
					t.Fatalf("err = %v, want %s", err, c.code)
				}
				for _, f := range fault.Faults(err) {
					if f.Message == "" || f.Field == "" {
						t.Fatalf("fault %s without a Vietnamese message or field", f.Code)
					}
				}
			})
		}
		subs, err := s.Subscriptions(ctx, "")
		if err != nil || len(subs) != 1 || len(subs[0].Types) != 1 || subs[0].Secret != "" {
			t.Fatalf("refused subscriptions left something behind, or a listing shows a secret: %+v %v", subs, err)
		}
		// A network the operator allows is reachable in production.
		wan, err := NewStore(db, testSecret, time.Now, Egress{Networks: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := wan.Subscribe(ctx, "staff:admin", openPolicy, SubscribeInput{PartnerID: "bhxh", Types: []string{TypeDied}, Mode: ModeWebhook, URL: "https://10.20.0.5/hook"})
		if err != nil {
			t.Fatalf("webhook in an allowed network: %v", err)
		}
		if sub.URL != "https://10.20.0.5/hook" {
			t.Fatalf("subscription = %+v", sub)
		}
	})
}

// codes lists the codes of a fault list.
func codes(err error) string {
	var out []string
	for _, e := range fault.Faults(err) {
		out = append(out, e.Code)
	}
	return strings.Join(out, " ")
}

func TestFanoutOnlySubscribedAndLinked(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		for _, in := range []SubscribeInput{
			{PartnerID: "bank-a", Types: []string{TypeDied, TypeMoved}, Mode: ModeJetStream},
			{PartnerID: "insurer", Types: []string{TypeDied}, Mode: ModeWebhook, URL: "https://insurer.example/hook"},
			{PartnerID: "telco", Types: []string{TypeMoved}, Mode: ModeJetStream},
			{PartnerID: "hospital", Types: []string{TypeBorn}, Mode: ModeJetStream},
		} {
			if _, err := s.Subscribe(ctx, "staff:admin", openPolicy, in); err != nil {
				t.Fatal(err)
			}
		}
		p1, p2 := testPIN(1), testPIN(2)
		aud := links{p1: {"bank-a", "insurer", "telco"}, p2: {"telco", "stranger"}}
		log := audit.NewLog(db, time.Now, quietLog())
		defer log.Close()
		var woken []string
		// The hospital serves Hồ Chí Minh City; the births are in Hà Nội.
		hcmc := openPolicy
		hcmc.Scope = "79"
		f := &Fanout{Store: s, Policies: policyTable{"hospital": &hcmc}, Audience: aud, Audit: log, Log: quietLog(), Notify: func(p []string) { woken = append(woken, p...) }}
		msgs := []Message{
			lifeEvent("ev-died", "dancu.person.died", p1, "2026-02-27"),
			lifeEvent("ev-moved", "dancu.person.moved", p2, "2026-02-28"),
			lifeEvent("ev-born", "dancu.person.born", p1, "2026-02-01"),         // hospital subscribes, not linked, outside its unit
			lifeEvent("ev-name", "dancu.person.name_changed", p1, "2026-02-01"), // nobody subscribes
			{Subject: "dancu.person.died", ID: "ev-bad", Data: []byte(`{"pin":`)},
			{Subject: "dancu.person.died", ID: "ev-badpin", Data: []byte(`{"pin":"123","effective_date":"2026-01-01","recorded_at":"2026-01-01T00:00:00Z"}`)},
		}
		// The same batch twice: a JetStream redelivery after a lost ack.
		for range 2 {
			if err := f.Handle(ctx, msgs); err != nil {
				t.Fatal(err)
			}
		}
		ds, err := s.Deliveries(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, d := range ds {
			got[d.EventID+"→"+d.PartnerID] = true
		}
		want := []string{"ev-died→bank-a", "ev-died→insurer", "ev-moved→telco"}
		if len(ds) != len(want) {
			t.Fatalf("deliveries %v, want %v", got, want)
		}
		for _, w := range want {
			if !got[w] {
				t.Fatalf("deliveries %v, want %v", got, want)
			}
		}
		// Exactly what the partner may know.
		var body string
		db.R.QueryRowContext(ctx, `SELECT body FROM delivery_queue WHERE event_id = 'ev-died' AND partner_id = 'insurer'`).Scan(&body)
		var fields map[string]any
		json.Unmarshal([]byte(body), &fields)
		wantBody := map[string]any{"id": "ev-died", "type": "died", "occurred_on": "2026-03-02", "pin": p1, "date_of_death": "2026-02-27"}
		if len(fields) != len(wantBody) {
			t.Fatalf("payload %s, want only %v", body, wantBody)
		}
		for k, v := range wantBody {
			if fields[k] != v {
				t.Fatalf("payload %s: %s = %v, want %v", body, k, fields[k], v)
			}
		}
		db.R.QueryRowContext(ctx, `SELECT body FROM delivery_queue WHERE event_id = 'ev-moved'`).Scan(&body)
		if strings.Contains(body, "date_of_death") || strings.Contains(body, "00004") || strings.Contains(body, "2026-02-28") {
			t.Fatalf("a move discloses more than id, type, day and PIN: %s", body)
		}
		// One access-log entry per disclosure, none for the redelivery.
		entries, err := audit.BySubject(ctx, db, "person:"+p1, 100)
		if err != nil {
			t.Fatal(err)
		}
		actors := map[string]int{}
		for _, e := range entries {
			if e.Action == "delivery.event" {
				actors[e.Actor]++
			}
		}
		if len(actors) != 2 || actors["partner:bank-a"] != 1 || actors["partner:insurer"] != 1 {
			t.Fatalf("access log of the person who died: %v", actors)
		}
		if len(woken) != 3 {
			t.Fatalf("senders woken for %v, want the three partners once (the redelivery queues nothing)", woken)
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	good := lifeEvent("e1", "dancu.person.died", testPIN(1), "2026-01-02")
	f.Add(good.Subject, good.ID, good.Data)
	f.Add("dancu.card.issued", "m1", []byte(`{"serial":"S","pin":"001080000001","status":"produced","at":"2026-01-01T00:00:00Z"}`))
	f.Add("dancu.person.died", "", []byte(`{"event_id":"x","pin":"001080000001","effective_date":"02/01/2026","recorded_at":"2026-01-01T00:00:00Z"}`))
	f.Add("dancu.person.born", "m", []byte(`null`))
	f.Add("dancu.other", "m", []byte(`{}`))
	f.Fuzz(func(t *testing.T, subject, id string, data []byte) {
		p, ok := parseEvent(Message{Subject: subject, ID: id, Data: data})
		if !ok {
			return
		}
		if p.ID == "" || len(p.PIN) != 12 || p.Type != Subjects[subject] || len(p.OccurredOn) != 10 {
			t.Fatalf("accepted an event with missing parts: %+v", p)
		}
		if (p.Type == TypeDied) != (p.DateOfDeath != "") {
			t.Fatalf("date of death on the wrong event: %+v", p)
		}
	})
}

func TestPurgeKeepsWhatIsStillNeeded(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		if _, err := s.Subscribe(ctx, "staff:admin", openPolicy, SubscribeInput{PartnerID: "bank-a", Types: []string{TypeDied}, Mode: ModeJetStream}); err != nil {
			t.Fatal(err)
		}
		f := &Fanout{Store: s, Policies: policyTable{}, Audience: links{testPIN(1): {"bank-a"}, testPIN(2): {"bank-a"}, testPIN(3): {"bank-a"}}, Log: quietLog()}
		var msgs []Message
		for i := 1; i <= 3; i++ {
			msgs = append(msgs, lifeEvent(fmt.Sprint("e", i), "dancu.person.died", testPIN(i), "2026-01-01"))
		}
		if err := f.Handle(ctx, msgs); err != nil {
			t.Fatal(err)
		}
		old := stamp(time.Now().AddDate(0, -2, 0))
		db.W.ExecContext(ctx, `UPDATE delivery_queue SET status = 'delivered', updated_at = $1 WHERE event_id = 'e1'`, old)
		db.W.ExecContext(ctx, `UPDATE delivery_queue SET status = 'dead', updated_at = $1 WHERE event_id = 'e2'`, old)
		n, err := s.Purge(ctx, time.Now().AddDate(0, -1, 0))
		if err != nil || n != 1 {
			t.Fatalf("purged %d, %v; want the old delivered one", n, err)
		}
		c, _ := s.Counts(ctx, "bank-a")
		if c[StatusDead] != 1 || c[StatusPending] != 1 || c[StatusDelivered] != 0 {
			t.Fatalf("after purge: %v", c)
		}
	})
}

// Every subscribable subject is read by one of the fan-out's consumers, and
// they read nothing else: a type added to Subjects without a consumer would
// never reach a partner.
func TestFanoutHandlesEverySubscribableSubject(t *testing.T) {
	handled := map[string]int{}
	for _, c := range []events.Consumer{FanoutConsumer, FanoutCardConsumer} {
		if _, err := c.Filter(); err != nil {
			t.Error(err)
		}
		for _, s := range c.Handles {
			handled[s.String()]++
		}
	}
	for s := range Subjects {
		if handled[s] != 1 {
			t.Errorf("%s is read by %d fan-out consumers, want 1", s, handled[s])
		}
	}
	for s := range handled {
		if _, ok := Subjects[s]; !ok {
			t.Errorf("the fan-out reads %s, which no partner can subscribe to", s)
		}
	}
	for _, typ := range Types {
		found := false
		for _, v := range Subjects {
			found = found || v == typ
		}
		if !found {
			t.Errorf("type %s has no subject", typ)
		}
	}
}
