package api_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestAdminDeliveries: national administrators manage partners'
// subscriptions within each partner's policy, list and replay dead letters
// and read the delivery log; other staff are refused; every act is in the
// audit chain under the partner. (Moved from the delivery package when its
// HTTP handlers left it.)
func TestAdminDeliveries(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { testAdminDeliveries(t, d) })
	}
}

func testAdminDeliveries(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	env := apptest.Start(t, d, 20)
	if _, err := env.App.BootstrapPartners(ctx); err != nil {
		t.Fatal(err)
	}
	anon := &client{t: t, base: env.Server.URL}
	admin := anon.signIn("admin")
	registrar := anon.signIn("dangky.hanoi")

	var sub struct {
		ID, Secret, PartnerID string
	}
	if st := admin.do("POST", "/api/v1/admin/subscriptions", map[string]any{"partner_id": "nganhang-a", "types": []string{"died", "moved"},
		"mode": "webhook", "url": "https://bank.example/hook"}, &sub); st != 201 || !strings.HasPrefix(sub.Secret, "whsec_") {
		t.Fatalf("admin subscribes the bank: %d %+v", st, sub)
	}
	jetstream := map[string]any{"partner_id": "bhxh", "types": []string{"died"}, "mode": "jetstream"}
	registrar.expectProblem("POST", "/api/v1/admin/subscriptions", jetstream, 403, "forbidden")
	anon.expectProblem("POST", "/api/v1/admin/subscriptions", jetstream, 401, "unauthenticated")
	admin.expectProblem("POST", "/api/v1/admin/subscriptions", `{"partner_id":"bhxh","types":["died"],"mode":"jetstream","extra":1}`, 400, "request.malformed_json")
	admin.expectProblem("POST", "/api/v1/admin/subscriptions", map[string]any{"partner_id": "bhxh", "types": []string{"married"}, "mode": "jetstream"}, 422, "delivery.event_type")
	admin.expectProblem("POST", "/api/v1/admin/subscriptions", map[string]any{"partner_id": "nobody", "types": []string{"died"}, "mode": "jetstream"}, 404, "partner.not_found")
	// The hospital's policy has no status: not even an administrator
	// subscribes it to deaths.
	admin.expectProblem("POST", "/api/v1/admin/subscriptions", map[string]any{"partner_id": "bv-bachmai", "types": []string{"died"}, "mode": "jetstream"}, 403, "policy.event_type_not_allowed")

	var list struct {
		Subscriptions []struct{ ID, Secret, PartnerID string } `json:"subscriptions"`
	}
	admin.do("GET", "/api/v1/admin/subscriptions", nil, &list)
	if len(list.Subscriptions) != 1 || list.Subscriptions[0].Secret != "" {
		t.Fatalf("admin's list: %+v", list)
	}
	var rotated struct{ Secret string }
	if st := admin.do("POST", "/api/v1/admin/subscriptions/"+sub.ID+"/secret", nil, &rotated); st != 200 || rotated.Secret == "" || rotated.Secret == sub.Secret {
		t.Fatalf("rotate: %d", st)
	}

	// Three dead letters of the bank, listed and replayed.
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000000Z")
	for _, id := range []string{"e1", "e2", "e3"} {
		if _, err := env.App.DB.W.ExecContext(ctx, `INSERT INTO delivery_queue (event_id, subscription_id, partner_id, event_type, body, status, attempts, next_at, created_at, updated_at)
			VALUES ($1, $2, 'nganhang-a', 'died', '{}', 'dead', 12, $3, $3, $3)`, id, sub.ID, now); err != nil {
			t.Fatal(err)
		}
	}
	var dl struct {
		Deliveries []json.RawMessage `json:"deliveries"`
		Counts     map[string]int    `json:"counts"`
	}
	admin.do("GET", "/api/v1/admin/deliveries?partner=nganhang-a&status=dead", nil, &dl)
	if len(dl.Deliveries) != 3 || dl.Counts["dead"] != 3 {
		t.Fatalf("dead letters: %+v", dl)
	}
	var rep struct{ Requeued int }
	if st := admin.do("POST", "/api/v1/admin/deliveries/replay", map[string]any{"partner_id": "nganhang-a", "all": true}, &rep); st != 200 || rep.Requeued != 3 {
		t.Fatalf("replay: %d %+v", st, rep)
	}
	admin.expectProblem("GET", "/api/v1/admin/delivery-log", nil, 422, "delivery.partner_id")
	registrar.expectProblem("GET", "/api/v1/admin/deliveries", nil, 403, "forbidden")

	entries, err := audit.BySubject(ctx, env.App.AuditDB, "partner:nganhang-a", 10)
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range entries {
		acts = append(acts, e.Actor+" "+e.Action)
	}
	if !slices.Contains(acts, "staff:admin delivery.subscribe") || !slices.Contains(acts, "staff:admin delivery.replay") {
		t.Fatalf("audit of the bank's subscriptions: %v", acts)
	}
}
