package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/delivery"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/platform"
)

// The operator's commands: subscribe (secret shown once), list the dead
// letters, replay them, read the log; bad input answers in plain words.
func TestDeliveriesCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	env := func(string) string { return "" }
	cli := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(ctx, append([]string{"deliveries"}, append(args, "--data", dir)...), env, &out, &errb)
		return out.String() + errb.String(), err
	}
	// The partners, whose policies bound what they may subscribe to.
	cfg := platform.Config{DataDir: dir}
	db, auditDB, err := app.OpenStores(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	partners := exchange.NewStore(db, time.Now)
	for id, fields := range map[string][]string{"bank-a": {"pin", "status", "permanent_address"}, "bank-b": {"status"}, "tax": {"status"}} {
		if _, err := partners.AddPartner(ctx, exchange.Partner{ID: id, Name: id, Kind: exchange.KindOther,
			Policy: exchange.Policy{Operations: []exchange.Operation{exchange.OpSubscribe}, Fields: fields}}); err != nil {
			t.Fatal(err)
		}
	}
	app.CloseStores(db, auditDB)
	out, err := cli("subscribe", "--partner", "tax", "--types", "name_changed", "--jetstream")
	if err == nil || !strings.Contains(out, "policy does not allow this event type. (name_changed)") {
		t.Fatalf("subscribe to a type the policy withholds: %v\n%s", err, out)
	}
	out, err = cli("subscribe", "--partner", "bank-a", "--types", "died,moved", "--url", "https://bank.example/hook")
	if err != nil || !regexp.MustCompile(`signing secret \(shown only now\): whsec_\S{43}`).MatchString(out) {
		t.Fatalf("subscribe: %v\n%s", err, out)
	}
	out, err = cli("subscribe", "--partner", "bank-b", "--types", "married", "--jetstream")
	if err == nil || !strings.Contains(out, "types: Unknown event type") {
		t.Fatalf("subscribe to an unknown type: %v\n%s", err, out)
	}
	out, err = cli("subscribe", "--partner", "tax", "--types", "died", "--jetstream")
	if err != nil || !strings.Contains(out, "subject dancu.partner.tax.>") {
		t.Fatalf("JetStream subscribe: %v\n%s", err, out)
	}

	// Two deaths queued for bank-a, then given up on.
	db, auditDB, err = app.OpenStores(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := cfg.LoadEIDSecret()
	store, err := delivery.NewStore(db, []byte(secret), time.Now, delivery.Egress{Development: true})
	if err != nil {
		t.Fatal(err)
	}
	f := &delivery.Fanout{Store: store, Policies: exchange.NewStore(db, time.Now), Log: slog.New(slog.DiscardHandler),
		Audience: delivery.AudienceFunc(func(context.Context, string) ([]string, error) { return []string{"bank-a"}, nil })}
	var msgs []delivery.Message
	for i, p := range []string{"001080000011", "001080000012"} {
		body, _ := json.Marshal(map[string]string{"event_id": "ev-" + string(rune('1'+i)), "pin": p, "effective_date": "2026-01-0" + string(rune('1'+i)), "recorded_at": "2026-01-05T00:00:00Z"})
		msgs = append(msgs, delivery.Message{Subject: "dancu.person.died", Data: body})
	}
	if err := f.Handle(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	db.W.ExecContext(ctx, `UPDATE delivery_queue SET status = 'dead', attempts = 12, last_status = 500, last_error = 'HTTP 500'`)
	app.CloseStores(db, auditDB)

	out, err = cli("list", "--status", "dead")
	if err != nil || strings.Count(out, "bank-a") != 2 || !strings.Contains(out, "500 HTTP 500") || !strings.Contains(out, "dead 2") {
		t.Fatalf("list dead letters: %v\n%s", err, out)
	}
	if strings.Contains(out, "001080000011") {
		t.Fatalf("the listing shows a PIN:\n%s", out)
	}
	out, err = cli("replay", "--partner", "bank-a", "--event", "ev-1")
	if err != nil || !strings.Contains(out, "1 dead letters queued again") {
		t.Fatalf("replay one: %v\n%s", err, out)
	}
	out, err = cli("replay", "--partner", "bank-a", "--all")
	if err != nil || !strings.Contains(out, "1 dead letters queued again") {
		t.Fatalf("replay the rest: %v\n%s", err, out)
	}
	if _, err = cli("replay", "--partner", "bank-a"); err == nil || !strings.Contains(err.Error(), "delivery.replay_target") {
		t.Fatalf("replay without a target: %v", err)
	}
	out, err = cli("list", "--partner", "bank-a")
	if err != nil || !strings.Contains(out, "pending 2, delivered 0, dead 0") {
		t.Fatalf("after replay: %v\n%s", err, out)
	}
	if _, err := cli("frobnicate"); err == nil {
		t.Fatal("an unknown subcommand was accepted")
	}
}
