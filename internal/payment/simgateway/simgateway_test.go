package simgateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/payment"
)

var key = []byte("sim-test-secret-0123456789")

func header(ts time.Time, sig string) http.Header {
	h := http.Header{}
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return h
}

func TestParseCallback(t *testing.T) {
	now := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	good := `{"event_id":"EV1","ref":"SIM1","intent_id":"abc","status":"paid","amount":50000,"method":"qr","at":"2026-03-10T02:00:00Z"}`
	cb, err := ParseCallback(header(now, Sign(key, now, []byte(good))), []byte(good), key, now)
	if err != nil {
		t.Fatal(err)
	}
	want := payment.Callback{EventID: "EV1", Ref: "SIM1", IntentID: "abc", Status: "paid", Amount: 50000, Method: "qr", At: now}
	if cb != want {
		t.Errorf("got %+v, want %+v", cb, want)
	}
	for _, tc := range []struct {
		name string
		body string
		ts   time.Time
		sig  string // "" signs body at ts with key
	}{
		{"wrong signature", good, now, strings.Repeat("00", 32)},
		{"signature not hex", good, now, "zz"},
		{"signature of another body", good, now, Sign(key, now, []byte(good+" "))},
		{"too old", good, now.Add(-MaxSkew - time.Second), ""},
		{"from the future", good, now.Add(MaxSkew + time.Second), ""},
		{"unknown field", `{"event_id":"EV1","ref":"SIM1","intent_id":"abc","status":"paid","amount":1,"method":"qr","at":"2026-03-10T02:00:00Z","x":1}`, now, ""},
		{"trailing data", good + `{}`, now, ""},
		{"status", strings.Replace(good, `"paid"`, `"maybe"`, 1), now, ""},
		{"zero amount", strings.Replace(good, `50000`, `0`, 1), now, ""},
		{"amount too large", strings.Replace(good, `50000`, `1000000000001`, 1), now, ""},
		{"amount as text", strings.Replace(good, `50000`, `"50000"`, 1), now, ""},
		{"method", strings.Replace(good, `"qr"`, `"cash"`, 1), now, ""},
		{"id with a quote", strings.Replace(good, `"abc"`, `"a'c"`, 1), now, ""},
		{"empty event id", strings.Replace(good, `"EV1"`, `""`, 1), now, ""},
		{"time", strings.Replace(good, `2026-03-10T02:00:00Z`, `10/03/2026`, 1), now, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig := tc.sig
			if sig == "" {
				sig = Sign(key, tc.ts, []byte(tc.body))
			}
			if _, err := ParseCallback(header(tc.ts, sig), []byte(tc.body), key, now); err == nil {
				t.Error("accepted")
			}
		})
	}
	if _, err := ParseCallback(http.Header{}, []byte(good), key, now); err == nil {
		t.Error("accepted without headers")
	}
	big := bytes.Repeat([]byte(" "), maxBody+1)
	if _, err := ParseCallback(header(now, Sign(key, now, big)), big, key, now); err == nil {
		t.Error("accepted a huge body")
	}
}

// FuzzParseCallback: no input panics; whatever is accepted was signed with
// the key and holds valid fields; a body signed with another key never is.
func FuzzParseCallback(f *testing.F) {
	now := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	f.Add([]byte(`{"event_id":"EV1","ref":"SIM1","intent_id":"abc","status":"paid","amount":50000,"method":"qr","at":"2026-03-10T02:00:00Z"}`), int64(0), true)
	f.Add([]byte(`{"event_id":"EV1","ref":"SIM1","intent_id":"abc","status":"failed","amount":1,"reason":"timeout","at":"2026-03-10T02:00:00.5+07:00"}`), int64(-30), true)
	f.Add([]byte(`{"status":"paid"}`), int64(400), false)
	f.Fuzz(func(t *testing.T, body []byte, skew int64, rightKey bool) {
		ts := now.Add(time.Duration(skew) * time.Second)
		k := key
		if !rightKey {
			k = []byte("another-key-of-the-attacker")
		}
		cb, err := ParseCallback(header(ts, Sign(k, ts, body)), body, key, now)
		if err != nil {
			return
		}
		if !rightKey {
			t.Fatal("accepted a callback signed with another key")
		}
		if skew > int64(MaxSkew/time.Second) || skew < -int64(MaxSkew/time.Second) {
			t.Fatalf("accepted a timestamp %d s off", skew)
		}
		if !id(cb.EventID) || !id(cb.Ref) || !id(cb.IntentID) || cb.Amount <= 0 || cb.Amount > payment.MaxAmount ||
			(cb.Status != payment.CallbackPaid && cb.Status != payment.CallbackFailed) || cb.At.IsZero() {
			t.Fatalf("accepted invalid fields: %+v", cb)
		}
	})
}

func newSim(t *testing.T, cfg Config) (*Server, *httptest.Server, *Client) {
	t.Helper()
	cfg.Secret, cfg.Prefix = key, "/sim/pay"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	t.Cleanup(s.Close)
	return s, ts, &Client{BaseURL: ts.URL + "/sim/pay", Secret: key}
}

// TestAPI: the API wants a signature; a create is idempotent by intent id;
// a refund by payment reference; statements list the day's movements.
func TestAPI(t *testing.T) {
	s, ts, c := newSim(t, Config{})
	ctx := context.Background()
	for _, path := range []string{"/sim/pay/api/payments", "/sim/pay/api/refunds"} {
		resp, err := http.Post(ts.URL+path, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("unsigned %s: %d", path, resp.StatusCode)
		}
	}
	resp, _ := http.Get(ts.URL + "/sim/pay/api/statements/2026-03-10")
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned statement: %d", resp.StatusCode)
	}
	wrong := &Client{BaseURL: c.BaseURL, Secret: []byte("not-the-key-0123456789")}
	if _, err := wrong.Statement(ctx, today()); err == nil {
		t.Error("statement with the wrong key")
	}
	req := payment.CreateRequest{IntentID: "intent1", Amount: 1250000, Description: `<script>alert(1)</script>`, ReturnURL: "https://portal.example/back",
		CallbackURL: "https://portal.example/cb", ExpiresAt: time.Now().Add(time.Hour)}
	p1, err := c.Create(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := c.Create(ctx, req)
	if p1.Ref != p2.Ref || p1.PayURL != ts.URL+"/sim/pay/pay/"+p1.Ref {
		t.Errorf("create twice: %+v %+v", p1, p2)
	}
	bad := req
	bad.IntentID, bad.CallbackURL = "intent2", "javascript:alert(1)"
	if _, err := c.Create(ctx, bad); err == nil {
		t.Error("accepted a callback URL that is not http(s)")
	}
	page := get(t, p1.PayURL)
	if strings.Contains(page, "<script>") || !strings.Contains(page, "1.250.000 ₫") {
		t.Errorf("page does not escape or format: %s", page)
	}
	// A forged form (no token) is refused and sends nobody anywhere.
	resp, _ = http.PostForm(p1.PayURL, url.Values{"action": {"pay"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("form without token: %d", resp.StatusCode)
	}
	if _, err := c.Refund(ctx, payment.RefundRequest{Ref: p1.Ref, Amount: 1250000}); err == nil {
		t.Error("refund of an unpaid payment")
	}
	if err := s.Pay(p1.Ref, "wallet"); err != nil {
		t.Fatal(err)
	}
	if err := s.Pay(p1.Ref, "wallet"); err != ErrDecided {
		t.Errorf("paid twice: %v", err)
	}
	if _, err := c.Refund(ctx, payment.RefundRequest{Ref: p1.Ref, Amount: 1}); err == nil {
		t.Error("refund of another amount")
	}
	r1, err := c.Refund(ctx, payment.RefundRequest{Ref: p1.Ref, Amount: 1250000, Reason: "x"})
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := c.Refund(ctx, payment.RefundRequest{Ref: p1.Ref, Amount: 1250000, Reason: "x"})
	if r1.Ref != r2.Ref || r1.Ref == "" {
		t.Errorf("refund twice: %+v %+v", r1, r2)
	}
	lines, err := c.Statement(ctx, today())
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0].Kind != payment.LinePayment || lines[1].Kind != payment.LineRefund || lines[0].Amount != 1250000 {
		t.Errorf("statement %+v", lines)
	}
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestCallbacks: delay, duplicates with one event id, retries until the
// platform answers 2xx, a forced failure.
func TestCallbacks(t *testing.T) {
	type got struct {
		cb  payment.Callback
		err error
	}
	calls := make(chan got, 20)
	var fails atomic.Int32
	fails.Store(2)
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		cb, err := ParseCallback(r.Header, body, key, time.Now())
		calls <- got{cb, err}
		if fails.Add(-1) >= 0 { // the platform is briefly down: the gateway retries
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer platform.Close()
	s, _, c := newSim(t, Config{Delay: 30 * time.Millisecond, Duplicates: 1, Fail: func(_ string, amount int64) string {
		if amount == 13 {
			return "card_blocked"
		}
		return ""
	}})
	ctx := context.Background()
	p, err := c.Create(ctx, payment.CreateRequest{IntentID: "i1", Amount: 500, ReturnURL: "https://p.example/", CallbackURL: platform.URL})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.Pay(p.Ref, "card")
	s.Wait()
	if time.Since(start) < 30*time.Millisecond {
		t.Error("no delay")
	}
	close(calls)
	var n int
	var ids = map[string]bool{}
	for g := range calls {
		if g.err != nil || g.cb.Status != payment.CallbackPaid || g.cb.IntentID != "i1" {
			t.Errorf("callback %+v %v", g.cb, g.err)
		}
		ids[g.cb.EventID] = true
		n++
	}
	if n != 4 || len(ids) != 1 { // 2 refused + the first accepted, then the duplicate
		t.Errorf("%d callbacks with %d event ids; want 4 with 1", n, len(ids))
	}

	calls = make(chan got, 20)
	p, _ = c.Create(ctx, payment.CreateRequest{IntentID: "i2", Amount: 13, ReturnURL: "https://p.example/", CallbackURL: platform.URL})
	s.Pay(p.Ref, "card")
	s.Wait()
	close(calls)
	for g := range calls {
		if g.cb.Status != payment.CallbackFailed || g.cb.Reason != "card_blocked" {
			t.Errorf("forced failure: %+v", g.cb)
		}
	}
	if lines, _ := c.Statement(ctx, today()); len(lines) != 1 {
		t.Errorf("a failed payment is in the statement: %+v", lines)
	}
}

func TestNewNeedsSecret(t *testing.T) {
	if _, err := New(Config{Secret: []byte("short")}); err == nil {
		t.Error("short secret accepted")
	}
}

// today is the statement day of what the simulator, on the wall clock, books now.
func today() civildate.Date { return civildate.Of(time.Now()) }
