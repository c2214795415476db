package delivery

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// policyOf is a subscribing partner's policy with these fields.
func policyOf(fields ...string) *exchange.Policy {
	return &exchange.Policy{Operations: []exchange.Operation{exchange.OpSubscribe}, Fields: fields}
}

// TestForPolicy is the filter's table: each event type needs the field it
// tells about, the date of death needs "death_date", nothing without the
// subscribe operation.
func TestForPolicy(t *testing.T) {
	died := Payload{ID: "e", Type: TypeDied, OccurredOn: "2026-03-02", PIN: testPIN(1), DateOfDeath: "2026-02-27"}
	noDate := died
	noDate.DateOfDeath = ""
	for _, tc := range []struct {
		name string
		pol  exchange.Policy
		in   Payload
		want Payload
		ok   bool
	}{
		{"status and death date", *policyOf("status", "death_date"), died, died, true},
		{"status only: no date", *policyOf("pin", "status"), died, noDate, true},
		{"no status: no death", *policyOf("pin", "death_date", "full_name"), died, Payload{}, false},
		{"no subscribe operation", exchange.Policy{Fields: []string{"status", "death_date"}}, died, Payload{}, false},
		{"move needs the address", *policyOf("full_name"), Payload{Type: TypeMoved}, Payload{}, false},
		{"move with the address", *policyOf("permanent_address"), Payload{Type: TypeMoved}, Payload{Type: TypeMoved}, true},
		{"name change needs the name", *policyOf("status"), Payload{Type: TypeNameChanged}, Payload{}, false},
		{"temporary residence needs its field", *policyOf("permanent_address"), Payload{Type: TypeTemporary}, Payload{}, false},
		{"birth needs the birth date", *policyOf("birth_date"), Payload{Type: TypeBorn}, Payload{Type: TypeBorn}, true},
		{"a card produced: subscription enough", *policyOf(), Payload{Type: TypeCardIssued}, Payload{Type: TypeCardIssued}, true},
		{"unknown type", openPolicy, Payload{Type: "married"}, Payload{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ForPolicy(tc.pol, tc.in)
			if ok != tc.ok || got != tc.want {
				t.Errorf("ForPolicy = %+v %v, want %+v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestFanoutAppliesPolicy: a death reaches each linked, subscribed partner
// as its current policy allows — with the date for the insurer allowed
// "death_date", without it for the bank allowed only "status", not at all
// for the hospital whose policy has no death events (its subscription
// predates the narrowing) nor for a partner that is gone — and each access
// log entry names the fields the partner received.
func TestFanoutAppliesPolicy(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		for _, p := range []string{"insurer", "bank", "hospital", "gone"} {
			if _, err := s.Subscribe(ctx, "staff:admin", openPolicy, SubscribeInput{PartnerID: p, Types: []string{TypeDied}, Mode: ModeJetStream}); err != nil {
				t.Fatal(err)
			}
		}
		pols := policyTable{"insurer": policyOf("pin", "status", "death_date"), "bank": policyOf("pin", "full_name", "status"),
			"hospital": policyOf("full_name", "birth_date", "permanent_address"), "gone": nil}
		log := audit.NewLog(db, time.Now, quietLog())
		defer log.Close()
		p1 := testPIN(1)
		f := &Fanout{Store: s, Policies: pols, Audience: everyone("insurer", "bank", "hospital", "gone"), Audit: log, Log: quietLog()}
		if err := f.Handle(ctx, []Message{lifeEvent("ev-died", "dancu.person.died", p1, "2026-02-27")}); err != nil {
			t.Fatal(err)
		}
		bodies := map[string]map[string]any{}
		rows, err := db.R.QueryContext(ctx, `SELECT partner_id, body FROM delivery_queue`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var partner, body string
			rows.Scan(&partner, &body)
			var m map[string]any
			json.Unmarshal([]byte(body), &m)
			bodies[partner] = m
		}
		rows.Close()
		if len(bodies) != 2 || bodies["insurer"]["date_of_death"] != "2026-02-27" || bodies["bank"] == nil {
			t.Fatalf("deliveries %v, want the insurer's with the date and the bank's", bodies)
		}
		if _, ok := bodies["bank"]["date_of_death"]; ok || bodies["bank"]["pin"] != p1 || bodies["bank"]["type"] != "died" {
			t.Errorf("the bank, allowed no death date, gets %v", bodies["bank"])
		}
		entries, err := audit.BySubject(ctx, db, "person:"+p1, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Actor+" "+strings.TrimPrefix(e.Detail, "event=ev-died type=died "))
		}
		slices.Sort(got)
		if strings.Join(got, "|") != "partner:bank fields=status|partner:insurer fields=status,death_date" {
			t.Errorf("access log: %q", got)
		}
	})
}

// TestSubscribeRefusesTypesOutsidePolicy: a subscription asks only for
// event types the partner's policy allows, whoever makes it; the refusal
// names the type, and comes before any other check.
func TestSubscribeRefusesTypesOutsidePolicy(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		hospital := *policyOf("full_name", "birth_date", "permanent_address")
		for _, tc := range []struct {
			name  string
			pol   exchange.Policy
			types []string
			code  string
		}{
			{"death without status", hospital, []string{TypeMoved, TypeDied}, "policy.event_type_not_allowed"},
			{"spaces do not slip a type past", hospital, []string{" died "}, "policy.event_type_not_allowed"},
			{"no subscribe operation", exchange.Policy{Fields: openPolicy.Fields}, []string{TypeMoved}, "policy.operation_not_allowed"},
		} {
			// A bad URL too: the policy answers first.
			_, err := s.Subscribe(ctx, "partner:hospital", tc.pol, SubscribeInput{PartnerID: "hospital", Types: tc.types, Mode: ModeWebhook, URL: "ftp://x"})
			if f := fault.As(err); f.Code != tc.code || f.Kind != fault.Forbidden {
				t.Errorf("%s: %v", tc.name, err)
			} else if tc.code == "policy.event_type_not_allowed" && !strings.Contains(f.English, "died") {
				t.Errorf("%s: the refusal does not name the type: %s", tc.name, f.English)
			}
		}
		if subs, _ := s.Subscriptions(ctx, ""); len(subs) != 0 {
			t.Fatalf("refused subscriptions stored: %+v", subs)
		}
		if _, err := s.Subscribe(ctx, "partner:hospital", hospital, SubscribeInput{PartnerID: "hospital", Types: []string{TypeMoved, TypeBorn}, Mode: ModeJetStream}); err != nil {
			t.Fatalf("allowed types: %v", err)
		}
		if got := AllowedTypes(hospital); strings.Join(got, ",") != "born,moved,name_changed,card_reissued" {
			t.Errorf("AllowedTypes = %v", got)
		}
	})
}
