package partnerapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/partnerapi"
)

// TestDeliveryRoutes: the subscription, delivery and delivery-log routes
// are partner API routes like verify — the same token check, the policy's
// subscribe operation, the rate limit and the daily quota counted with the
// partner's other calls — and a partner subscribes only for itself, only
// to event types its policy allows, and sees only its own queue. (The
// partner half of the delivery package's former handler test.)
func TestDeliveryRoutes(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			p := start(t, string(d))
			t.Run("limits", p.testDeliveryLimits)
			t.Run("own subscriptions", p.testDeliveryOwn)
		})
	}
}

func (p *platform) testDeliveryLimits(t *testing.T) {
	ctx := context.Background()
	subscriber := func(rate float64, burst int, quota int64) exchange.Policy {
		return exchange.Policy{Operations: []exchange.Operation{exchange.OpSubscribe}, Fields: []string{"pin", "status"},
			RatePerSecond: rate, Burst: burst, DailyQuota: quota}
	}
	// The rate limit: two calls of the burst, then 429 with Retry-After,
	// on every delivery route.
	rated := p.addPartner("sub-rated", subscriber(0.5, 2, 0))
	for i, path := range []string{"/subscriptions", "/deliveries"} {
		if a := p.call("GET", partnerapi.Prefix+path, rated, nil); a.status != 200 {
			t.Fatalf("call %d within the burst: %d %s", i, a.status, a.body)
		}
	}
	for _, rt := range []struct{ method, path string }{
		{"GET", "/subscriptions"}, {"POST", "/subscriptions"}, {"DELETE", "/subscriptions/x"}, {"POST", "/subscriptions/x/secret"},
		{"GET", "/deliveries"}, {"POST", "/deliveries/replay"}, {"GET", "/delivery-log"},
	} {
		a := p.call(rt.method, partnerapi.Prefix+rt.path, rated, map[string]any{"types": []string{"died"}, "mode": "jetstream"})
		if a.status != http.StatusTooManyRequests || a.code() != "policy.rate_limited" || a.header.Get("Retry-After") == "" {
			t.Errorf("%s %s beyond the rate: %d Retry-After %q %s", rt.method, rt.path, a.status, a.header.Get("Retry-After"), a.body)
		}
	}
	// The daily quota counts delivery calls with the partner's others.
	quota := p.addPartner("sub-quota", subscriber(0, 0, 3))
	if a := p.call("GET", partnerapi.Prefix+"/me", quota, nil); a.status != 200 {
		t.Fatalf("me: %d %s", a.status, a.body)
	}
	if a := p.call("POST", partnerapi.Prefix+"/subscriptions", quota, map[string]any{"types": []string{"died"}, "mode": "jetstream"}); a.status != http.StatusCreated {
		t.Fatalf("subscribe within the quota: %d %s", a.status, a.body)
	}
	if a := p.call("GET", partnerapi.Prefix+"/delivery-log", quota, nil); a.status != 200 {
		t.Fatalf("delivery log within the quota: %d %s", a.status, a.body)
	}
	if a := p.call("GET", partnerapi.Prefix+"/subscriptions", quota, nil); a.status != http.StatusTooManyRequests || a.code() != "policy.quota_exhausted" {
		t.Errorf("beyond the quota: %d %s", a.status, a.body)
	}
	if err := p.env.App.PartnerLimits.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	day := time.Now().In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
	if n, err := p.env.App.PartnerLimits.Usage(ctx, "sub-quota", day); err != nil || n != 3 {
		t.Errorf("durable usage %d (%v), want 3", n, err)
	}
	// Without the subscribe operation: refused like any operation.
	verifier := p.addPartner("verifier-only", exchange.Policy{Operations: []exchange.Operation{exchange.OpVerify}})
	if a := p.call("GET", partnerapi.Prefix+"/subscriptions", verifier, nil); a.status != 403 || a.code() != "policy.operation_not_allowed" {
		t.Errorf("partner without subscribe: %d %s", a.status, a.body)
	}
}

func (p *platform) testDeliveryOwn(t *testing.T) {
	ctx := context.Background()
	if a := p.call("GET", partnerapi.Prefix+"/deliveries", "", nil); a.status != http.StatusUnauthorized || a.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("without a token: %d %s", a.status, a.body)
	}
	bhxh, hospital := p.partnerToken("bhxh"), p.partnerToken("bv-bachmai")
	// The hospital's policy has no status field: no death events, and the
	// refusal names the type before the URL is looked at.
	a := p.call("POST", partnerapi.Prefix+"/subscriptions", hospital, map[string]any{"types": []string{"moved", "died"}, "mode": "webhook", "url": "ftp://x"})
	if a.status != 403 || a.code() != "policy.event_type_not_allowed" || !strings.Contains(a.body, "died") {
		t.Errorf("hospital subscribes to deaths: %d %s", a.status, a.body)
	}
	mine := p.call("POST", partnerapi.Prefix+"/subscriptions", hospital, map[string]any{"partner_id": "bhxh", "types": []string{"moved"}, "mode": "jetstream"})
	if mine.status != http.StatusCreated || mine.json["partner_id"] != "bv-bachmai" || mine.json["subject"] != "dancu.partner.bv-bachmai.>" {
		t.Fatalf("hospital subscribes to moves for itself: %d %s", mine.status, mine.body)
	}
	theirs := p.call("POST", partnerapi.Prefix+"/subscriptions", bhxh, map[string]any{"types": []string{"died"}, "mode": "webhook", "url": "https://bhxh.example/hook"})
	if theirs.status != http.StatusCreated || !strings.HasPrefix(theirs.json["secret"].(string), "whsec_") {
		t.Fatalf("bhxh subscribes: %d %s", theirs.status, theirs.body)
	}
	if a := p.call("GET", partnerapi.Prefix+"/subscriptions", hospital, nil); strings.Contains(a.body, "bhxh.example") || !strings.Contains(a.body, mine.json["id"].(string)) {
		t.Errorf("hospital's list: %s", a.body)
	}
	if a := p.call("DELETE", partnerapi.Prefix+"/subscriptions/"+theirs.json["id"].(string), hospital, nil); a.status != 404 {
		t.Errorf("hospital ends bhxh's subscription: %d %s", a.status, a.body)
	}
	if a := p.call("POST", partnerapi.Prefix+"/subscriptions/"+mine.json["id"].(string)+"/secret", hospital, nil); a.status != 409 || a.code() != "delivery.not_webhook" {
		t.Errorf("rotate a JetStream subscription: %d %s", a.status, a.body)
	}
	if a := p.call("POST", partnerapi.Prefix+"/subscriptions/"+theirs.json["id"].(string)+"/secret", bhxh, nil); a.status != 200 || a.json["secret"] == theirs.json["secret"] {
		t.Errorf("rotate: %d %s", a.status, a.body)
	}
	// Dead letters: a partner lists and replays its own.
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000000Z")
	for _, id := range []string{"e1", "e2"} {
		if _, err := p.env.App.DB.W.ExecContext(ctx, `INSERT INTO delivery_queue (event_id, subscription_id, partner_id, event_type, body, status, attempts, next_at, created_at, updated_at)
			VALUES ($1, $2, 'bhxh', 'died', '{}', 'dead', 12, $3, $3, $3)`, id, theirs.json["id"], now); err != nil {
			t.Fatal(err)
		}
	}
	if a := p.call("GET", partnerapi.Prefix+"/deliveries?status=dead", hospital, nil); strings.Contains(a.body, "e1") {
		t.Errorf("the hospital sees bhxh's deliveries: %s", a.body)
	}
	if a := p.call("GET", partnerapi.Prefix+"/deliveries?status=dead", bhxh, nil); a.status != 200 || !strings.Contains(a.body, `"e1"`) {
		t.Errorf("bhxh's dead letters: %d %s", a.status, a.body)
	}
	if a := p.call("POST", partnerapi.Prefix+"/deliveries/replay", hospital, map[string]any{"partner_id": "bhxh", "all": true}); a.status != 200 || a.json["requeued"] != float64(0) {
		t.Errorf("the hospital replays bhxh's dead letters: %d %s", a.status, a.body)
	}
	if a := p.call("POST", partnerapi.Prefix+"/deliveries/replay", bhxh, map[string]any{"all": true}); a.status != 200 || a.json["requeued"] != float64(2) {
		t.Errorf("bhxh replays: %d %s", a.status, a.body)
	}
	if a := p.call("POST", partnerapi.Prefix+"/subscriptions", bhxh, "not an object"); a.status != 400 {
		t.Errorf("malformed body: %d %s", a.status, a.body)
	}
	entries, err := audit.BySubject(ctx, p.env.App.AuditDB, "partner:bhxh", 10)
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range entries {
		acts = append(acts, e.Actor+" "+e.Action)
	}
	if !slices.Contains(acts, "partner:bhxh delivery.subscribe") || !slices.Contains(acts, "partner:bhxh delivery.replay") {
		t.Errorf("audit of bhxh's acts: %v", acts)
	}
}
