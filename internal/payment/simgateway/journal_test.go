package simgateway

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/payment"
)

// TestJournalSurvivesRestart: with a journal, a simulator started again
// over the same file still lists the day's payments and refunds in its
// statement and can refund a payment taken before the restart; a payment
// still waiting for the payer is forgotten, as a restarted gateway would.
func TestJournalSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.journal")
	ctx := context.Background()
	s, _, c := newSim(t, Config{Journal: path})
	create := func(c *Client, intent string, amount int64) payment.GatewayPayment {
		p, err := c.Create(ctx, payment.CreateRequest{IntentID: intent, Amount: amount, Description: "Lệ phí", ReturnURL: "https://portal.example/back",
			CallbackURL: "https://portal.example/cb", ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	paid := create(c, "intent-paid", 7000)
	refunded := create(c, "intent-refunded", 50000)
	waiting := create(c, "intent-waiting", 10000)
	for _, p := range []payment.GatewayPayment{paid, refunded} {
		if err := s.Pay(p.Ref, "card"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Refund(ctx, payment.RefundRequest{Ref: refunded.Ref, Amount: 50000, Reason: "từ chối"}); err != nil {
		t.Fatal(err)
	}
	before, err := c.Statement(ctx, today())
	if err != nil || len(before) != 3 {
		t.Fatalf("statement before the restart: %+v %v", before, err)
	}
	s.Close()

	s2, _, c2 := newSim(t, Config{Journal: path})
	after, err := c2.Statement(ctx, today())
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("statement after the restart: %d lines, want %d", len(after), len(before))
	}
	for i := range before {
		if after[i].Ref != before[i].Ref || after[i].Kind != before[i].Kind || after[i].Amount != before[i].Amount || !after[i].At.Equal(before[i].At) {
			t.Errorf("line %d: %+v, want %+v", i, after[i], before[i])
		}
	}
	if _, err := c2.Refund(ctx, payment.RefundRequest{Ref: paid.Ref, Amount: 7000, Reason: "từ chối"}); err != nil {
		t.Errorf("refund of a payment taken before the restart: %v", err)
	}
	again, _ := c2.Refund(ctx, payment.RefundRequest{Ref: refunded.Ref, Amount: 50000})
	if lines, _ := c2.Statement(ctx, today()); len(lines) != 4 || again.Ref == "" {
		t.Errorf("a refund made before the restart was made again: %d lines", len(lines))
	}
	if err := s2.Pay(waiting.Ref, "card"); err != ErrDecided {
		t.Errorf("a payment waiting at the restart: %v, want it forgotten", err)
	}
	if err := s2.JournalErr(); err != nil {
		t.Error(err)
	}

	// A line cut short by a crash is dropped; garbage elsewhere refuses to
	// start.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
	f.WriteString(`{"line":{"kind":"pay`)
	f.Close()
	if _, err := New(Config{Secret: key, Journal: path}); err != nil {
		t.Errorf("journal with a torn last line: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.journal")
	os.WriteFile(bad, []byte("not json\n{}\n"), 0o600)
	if _, err := New(Config{Secret: key, Journal: bad}); err == nil {
		t.Error("a journal of garbage was accepted")
	}
}
