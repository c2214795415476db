package delivery

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestBirthsAndDeathsReachPartnersInScope, on SQLite and PostgreSQL with
// real HTTP receivers checking every signature: a birth or a death
// reaches the partners subscribed to it whose policy's unit covers the
// person, though nobody is linked to them (a newborn never is); a Hà Nội
// partner hears of the Hà Nội birth and not of the Đà Nẵng one, a
// commune's partner of its commune's only; a national bank without
// subscribe.unit, a partner whose policy no longer allows subscriptions, one without a subscription and one
// subscribed to moves hear nothing; each body carries only what the
// policy allows; each disclosure is in the person's access log with the
// unit as its reason.
func TestBirthsAndDeathsReachPartnersInScope(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := newStore(t, db)
		pol := func(scope string, fields ...string) *exchange.Policy {
			return &exchange.Policy{Operations: []exchange.Operation{exchange.OpSubscribe, exchange.OpSubscribeUnit}, Fields: fields, Scope: scope}
		}
		policies := policyTable{
			"bhxh-hn":  pol("01", "pin", "birth_date", "status"), // no death_date
			"bhxh-dn":  pol("48", "pin", "birth_date"),
			"national": pol("", "pin", "status", "death_date"),
			"commune":  pol("00004", "pin", "birth_date"),
			"nosub":    pol("01", "pin", "birth_date", "status", "death_date"),
			"mover":    pol("01", "pin", "permanent_address"),
			"narrowed": pol("01", "pin", "birth_date"),
			// A bank subscribed to deaths, national, without subscribe.unit:
			// it hears of its customers only.
			"bank": {Operations: []exchange.Operation{exchange.OpSubscribe}, Fields: []string{"pin", "status", "death_date"}},
		}
		receivers := map[string]*receiver{}
		for partner, types := range map[string][]string{
			"bhxh-hn": {TypeBorn, TypeDied}, "bhxh-dn": {TypeBorn}, "national": {TypeDied}, "commune": {TypeBorn},
			"mover": {TypeMoved}, "narrowed": {TypeBorn}, "bank": {TypeDied},
		} {
			rc := newReceiver(t)
			sub, err := s.Subscribe(ctx, "staff:admin", *policies[partner], SubscribeInput{PartnerID: partner, Types: types, Mode: ModeWebhook, URL: rc.srv.URL + "/hook"})
			if err != nil {
				t.Fatalf("%s: %v", partner, err)
			}
			rc.secret = func() string { return sub.Secret }
			receivers[partner] = rc
		}
		// After subscribing, the administrator withdrew the operation.
		policies["narrowed"] = &exchange.Policy{Fields: []string{"pin", "birth_date"}, Scope: "01"}

		alog := audit.NewLog(db, time.Now, quietLog())
		defer alog.Close()
		snd := &Sender{Store: s, Log: quietLog(), PerPartner: 2, MaxAttempts: 3, BaseDelay: 20 * time.Millisecond, MaxDelay: time.Second,
			Poll: 20 * time.Millisecond, Client: NewClient(2*time.Second, 2, Egress{Development: true})}
		stopped := snd.Start(ctx)
		f := &Fanout{Store: s, Policies: policies, Audience: links{}, Audit: alog, Log: quietLog(), Notify: snd.Notify}
		hnBaby, dnBaby, hnDead, hnMover := testPIN(11), testPIN(12), testPIN(13), testPIN(14)
		msgs := []Message{
			lifeEventIn("born-hn", "dancu.person.born", hnBaby, "2026-02-27", "01", "00004"),
			lifeEventIn("born-dn", "dancu.person.born", dnBaby, "2026-02-27", "48", "20194"),
			lifeEventIn("died-hn", "dancu.person.died", hnDead, "2026-02-26", "01", "00007"),
			lifeEventIn("moved-hn", "dancu.person.moved", hnMover, "2026-02-25", "01", "00004"),
		}
		for range 2 { // a redelivery queues nothing twice
			if err := f.Handle(ctx, msgs); err != nil {
				t.Fatal(err)
			}
		}
		want := map[string][]string{
			"bhxh-hn":  {"born-hn", "died-hn"},
			"bhxh-dn":  {"born-dn"},
			"national": {"died-hn"},
			"commune":  {"born-hn"},
			"mover":    nil,
			"narrowed": nil,
			"bank":     nil,
		}
		for partner, ids := range want {
			rc := receivers[partner]
			waitFor(t, partner+"'s events", func() bool { n, _ := rc.counts(); return n >= len(ids) })
		}
		// Let a wrong extra delivery show up before judging.
		time.Sleep(200 * time.Millisecond)
		for partner, ids := range want {
			rc := receivers[partner]
			if got := rc.ids(); !slices.Equal(got, ids) {
				t.Errorf("%s received %v, want %v", partner, got, ids)
			}
			if _, dup := rc.counts(); dup != 0 || rc.badSig != 0 {
				t.Errorf("%s: %d duplicates, %d bad signatures", partner, dup, rc.badSig)
			}
		}
		ds, err := s.Deliveries(ctx, Filter{Partner: "nosub"})
		if err != nil || len(ds) != 0 {
			t.Fatalf("a partner without a subscription has deliveries %v (%v)", ds, err)
		}
		// Only what each policy allows: no date of death without the field.
		keys := func(partner, id string) []string {
			var m map[string]any
			if err := json.Unmarshal(receivers[partner].rawBody[id], &m); err != nil {
				t.Fatalf("%s %s: %v", partner, id, err)
			}
			var out []string
			for k := range m {
				out = append(out, k)
			}
			slices.Sort(out)
			return out
		}
		base := []string{"id", "occurred_on", "pin", "type"}
		withDeath := []string{"date_of_death", "id", "occurred_on", "pin", "type"}
		for _, c := range []struct {
			partner, id string
			want        []string
		}{
			{"bhxh-hn", "born-hn", base}, {"bhxh-hn", "died-hn", base}, {"national", "died-hn", withDeath}, {"bhxh-dn", "born-dn", base},
		} {
			if got := keys(c.partner, c.id); !slices.Equal(got, c.want) {
				t.Errorf("%s's body of %s has %v, want only %v", c.partner, c.id, got, c.want)
			}
		}
		if b := receivers["bhxh-hn"].bodies["born-hn"]; b.PIN != hnBaby || b.Type != TypeBorn {
			t.Errorf("birth body %+v", b)
		}
		if b := receivers["national"].bodies["died-hn"]; b.DateOfDeath != "2026-02-26" {
			t.Errorf("death body %+v", b)
		}
		// The newborn's access log names each partner told, and why.
		entries, err := audit.BySubject(ctx, db, "person:"+hnBaby, 100)
		if err != nil {
			t.Fatal(err)
		}
		var told []string
		for _, e := range entries {
			if e.Action == "delivery.event" {
				told = append(told, e.Actor)
				if e.Purpose != "life-event subscription (unit)" {
					t.Errorf("entry %+v: want the unit as the reason", e)
				}
			}
		}
		slices.Sort(told)
		if !slices.Equal(told, []string{"partner:bhxh-hn", "partner:commune"}) {
			t.Errorf("the newborn's access log names %v", told)
		}
		cancel()
		<-stopped
	})
}

// TestReaches: the rule alone, by scope and type.
func TestReaches(t *testing.T) {
	open := func(scope string) exchange.Policy {
		p := openPolicy
		p.Operations = []exchange.Operation{exchange.OpSubscribe, exchange.OpSubscribeUnit}
		p.Scope = scope
		return p
	}
	noSub := exchange.Policy{Fields: openPolicy.Fields}
	noStatus := exchange.Policy{Operations: []exchange.Operation{exchange.OpSubscribe, exchange.OpSubscribeUnit}, Fields: []string{"birth_date"}}
	for _, c := range []struct {
		name              string
		pol               exchange.Policy
		typ, prov, commun string
		want              bool
	}{
		{"national birth", open(""), TypeBorn, "48", "20194", true},
		{"province birth in it", open("01"), TypeBorn, "01", "00004", true},
		{"province birth elsewhere", open("01"), TypeBorn, "48", "20194", false},
		{"commune death in it", open("00004"), TypeDied, "01", "00004", true},
		{"commune death next door", open("00004"), TypeDied, "01", "00007", false},
		{"a move is for linked partners only", open(""), TypeMoved, "01", "00004", false},
		{"a card is for linked partners only", open(""), TypeCardIssued, "01", "00004", false},
		{"no subscribe operation", noSub, TypeBorn, "01", "00004", false},
		{"subscribe without subscribe.unit (a bank)", openPolicy, TypeDied, "01", "00004", false},
		{"death without the status field", noStatus, TypeDied, "01", "00004", false},
		{"unknown scope length reaches nobody", open("0100"), TypeBorn, "01", "00004", false},
		{"commune scope, person without a commune", open("00004"), TypeBorn, "01", "", false},
	} {
		if got := Reaches(c.pol, c.typ, c.prov, c.commun); got != c.want {
			t.Errorf("%s: Reaches = %v, want %v", c.name, got, c.want)
		}
	}
}
