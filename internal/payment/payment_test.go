package payment_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/payment"
	"github.com/dancu-project/dancu/internal/payment/simgateway"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

var secret = []byte("test-secret-0123456789abcdef")

// clock is the test's time, shared by the platform and the simulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a platform's payment service wired to a simulator over real HTTP:
// the simulator posts its callbacks to the platform's callback server.
type env struct {
	db     *storage.DB
	svc    *payment.Service
	sim    *simgateway.Server
	simURL string
	clk    *clock
	down   *atomic.Bool // the gateway answers 503 while set
}

func setup(t *testing.T, d storage.Dialect, cfg simgateway.Config) *env {
	t.Helper()
	db := storagetest.Open(t, d, []storage.Migrations{payment.Migrations(), audit.Migrations()})
	clk := &clock{t: time.Date(2026, 3, 10, 9, 0, 0, 0, civildate.Location())}
	log := audit.NewLog(db, clk.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(log.Close)
	cfg.Secret, cfg.Prefix, cfg.Now = secret, "/sim/pay", clk.Now
	sim, err := simgateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, sim: sim, clk: clk, down: &atomic.Bool{}}
	h := sim.Handler()
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(gw.Close)
	e.simURL = gw.URL + "/sim/pay"
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		_, err := e.svc.HandleCallback(r.Context(), r.Header, body)
		writeOutcome(w, err)
	}))
	t.Cleanup(platform.Close)
	t.Cleanup(sim.Close) // runs first: no callback after the platform closes
	e.svc, err = payment.New(payment.Deps{DB: db, Audit: log, Now: clk.Now, CallbackURL: platform.URL + "/callback",
		Gateway: &simgateway.Client{BaseURL: e.simURL, Secret: secret, Now: clk.Now}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// writeOutcome answers a callback as the web layer does: 200, or the
// fault's status with its code.
func writeOutcome(w http.ResponseWriter, err error) {
	if err == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	f := fault.As(err)
	status := map[fault.Kind]int{fault.Forbidden: 403, fault.NotFound: 404, fault.Conflict: 409, fault.Invalid: 400}[f.Kind]
	if status == 0 {
		status = 500
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": f.Code})
}

func request(dossier string, amount int64) payment.Request {
	return payment.Request{Dossier: dossier, Amount: amount, Payer: "citizen:001090123456", Description: "Lệ phí đăng ký tạm trú",
		ReturnURL: "https://dichvucong.example/ho-so/" + dossier}
}

func waitState(t *testing.T, e *env, id string, want payment.State) payment.Intent {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		in, err := e.svc.Get(context.Background(), id)
		if err == nil && in.State == want {
			return in
		}
		if time.Now().After(deadline) {
			t.Fatalf("intent %s: state %s, %v; want %s", id, in.State, err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// browserPay does what the payer's browser does: open the page, pick a
// method, press a button; it returns where the gateway sends it back.
func browserPay(t *testing.T, payURL, action, method string) *url.URL {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(payURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Thanh toán") {
		t.Fatalf("payment page: %d %s", resp.StatusCode, page)
	}
	m := regexp.MustCompile(`name="token" value="([0-9a-f]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatal("no token on the page")
	}
	resp, err = client.PostForm(payURL, url.Values{"token": {string(m[1])}, "action": {action}, "method": {method}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay: %d", resp.StatusCode)
	}
	u, _ := url.Parse(resp.Header.Get("Location"))
	return u
}

type auditRow struct{ actor, action, subject, detail string }

func auditRows(t *testing.T, db *storage.DB, action string) []auditRow {
	t.Helper()
	rows, err := db.R.Query(`SELECT actor, action, subject, detail FROM audit_log WHERE action = $1 ORDER BY seq`, action)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		rows.Scan(&r.actor, &r.action, &r.subject, &r.detail)
		out = append(out, r)
	}
	return out
}

func code(err error) string {
	if err == nil {
		return ""
	}
	return fault.As(err).Code
}

// TestPaymentFlow: a citizen pays through the simulator's page; the
// duplicated callbacks give one payment, one receipt, one audit entry.
func TestPaymentFlow(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := setup(t, d, simgateway.Config{Duplicates: 2, Delay: 20 * time.Millisecond})
			ctx := context.Background()
			dossier := "000.00.01.H26-260310-0001"
			in, err := e.svc.Create(ctx, request(dossier, 50000))
			if err != nil {
				t.Fatal(err)
			}
			if in.State != payment.Pending || in.GatewayRef == "" || !strings.HasPrefix(in.PayURL, e.simURL+"/pay/") || in.Gateway != "sim" {
				t.Fatalf("created: %+v", in)
			}
			again, err := e.svc.Create(ctx, request(dossier, 50000))
			if err != nil || again.ID != in.ID || again.GatewayRef != in.GatewayRef {
				t.Fatalf("double submit made another payment: %+v %v", again, err)
			}
			if _, err := e.svc.Create(ctx, request(dossier, 70000)); code(err) != "payment.amount_changed" {
				t.Errorf("other amount while pending: %v", err)
			}
			back := browserPay(t, in.PayURL, "pay", "qr")
			if back.Host != "dichvucong.example" || back.Query().Get("payment") != in.ID {
				t.Errorf("returned to %s", back)
			}
			paid := waitState(t, e, in.ID, payment.Paid)
			e.sim.Wait() // every duplicate has landed
			rec, err := e.svc.Receipt(ctx, in.ID)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Number != "BL-20260310-000001" || rec.Amount != 50000 || rec.Method != "qr" || rec.Dossier != dossier || !rec.PaidAt.Equal(e.clk.Now()) {
				t.Errorf("receipt %+v", rec)
			}
			var callbacks int
			e.db.R.QueryRow(`SELECT COUNT(*) FROM payment_callbacks`).Scan(&callbacks)
			if callbacks != 1 {
				t.Errorf("%d callbacks recorded, want 1 (duplicates share the event id)", callbacks)
			}
			if got := auditRows(t, e.db, "payment.paid"); len(got) != 1 || got[0].subject != "payment:"+in.ID || got[0].actor != "gateway:sim" {
				t.Errorf("audit of the payment: %+v", got)
			}
			if cur, _ := e.svc.Get(ctx, in.ID); !cur.UpdatedAt.Equal(paid.UpdatedAt) || cur.ReceiptNo != paid.ReceiptNo {
				t.Errorf("a duplicate changed the intent: %+v", cur)
			}
			if _, err := e.svc.Create(ctx, request(dossier, 50000)); code(err) != "payment.already_paid" {
				t.Errorf("paying a paid dossier: %v", err)
			}
			// The next payment of the day gets the next number.
			other, _ := e.svc.Create(ctx, request("000.00.01.H26-260310-0002", 30000))
			if err := e.sim.Pay(other.GatewayRef, "card"); err != nil {
				t.Fatal(err)
			}
			waitState(t, e, other.ID, payment.Paid)
			if rec, _ := e.svc.Receipt(ctx, other.ID); rec.Number != "BL-20260310-000002" {
				t.Errorf("second receipt %s", rec.Number)
			}
			if list, _ := e.svc.ByDossier(ctx, dossier); len(list) != 1 {
				t.Errorf("ByDossier: %d intents", len(list))
			}
		})
	}
}

// signed posts body to the platform's callback endpoint signed at ts with key.
func signed(key []byte, ts time.Time, body []byte) http.Header {
	h := http.Header{}
	h.Set(simgateway.HeaderTimestamp, strconvI(ts.Unix()))
	h.Set(simgateway.HeaderSignature, simgateway.Sign(key, ts, body))
	return h
}

func strconvI(n int64) string { b, _ := json.Marshal(n); return string(b) }

func cbBody(ev, ref, intent, status string, amount int64, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{"event_id": ev, "ref": ref, "intent_id": intent, "status": status, "amount": amount, "method": "card",
		"at": at.UTC().Format(time.RFC3339Nano)})
	return b
}

// TestCallbackReplayAndForgery: a replay changes nothing; a forged,
// altered, stale, unknown or contradictory callback is refused with its
// code, audited, and leaves the intent as it was.
func TestCallbackReplayAndForgery(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := setup(t, d, simgateway.Config{})
			ctx := context.Background()
			in, err := e.svc.Create(ctx, request("000.00.01.H26-260310-0003", 50000))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.sim.Pay(in.GatewayRef, "card"); err != nil {
				t.Fatal(err)
			}
			paid := waitState(t, e, in.ID, payment.Paid)
			if err := e.sim.Resend(in.GatewayRef); err != nil {
				t.Errorf("a replayed callback is not acknowledged: %v", err)
			}
			now := e.clk.Now()
			good := cbBody("EVx1", in.GatewayRef, in.ID, "paid", 50000, now)
			altered := cbBody("EVx1", in.GatewayRef, in.ID, "paid", 5000, now)
			pending, _ := e.svc.Create(ctx, request("000.00.01.H26-260310-0004", 20000))
			for _, tc := range []struct {
				name   string
				header http.Header
				body   []byte
				code   string
			}{
				{"no signature", http.Header{}, good, "payment.callback_forged"},
				{"another key", signed([]byte("not-the-shared-secret-000"), now, good), good, "payment.callback_forged"},
				{"altered amount", signed(secret, now, good), altered, "payment.callback_forged"},
				{"stale timestamp", signed(secret, now.Add(-10*time.Minute), good), good, "payment.callback_forged"},
				{"unknown intent", nil, cbBody("EVx2", in.GatewayRef, "ffffffffffffffffffffffffffffffff", "paid", 50000, now), "payment.callback_unknown"},
				{"signed but another amount", nil, cbBody("EVx3", in.GatewayRef, in.ID, "paid", 5000, now), "payment.callback_mismatch"},
				{"signed but another payment's ref", nil, cbBody("EVx4", "SIMother", pending.ID, "paid", 20000, now), "payment.callback_mismatch"},
				{"failed after paid", nil, cbBody("EVx5", in.GatewayRef, in.ID, "failed", 50000, now), "payment.callback_state"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := len(auditRows(t, e.db, "payment.callback_refused"))
					h := tc.header
					if h == nil {
						h = signed(secret, now, tc.body)
					}
					if _, err := e.svc.HandleCallback(ctx, h, tc.body); code(err) != tc.code {
						t.Fatalf("HandleCallback = %v, want %s", err, tc.code)
					}
					rows := auditRows(t, e.db, "payment.callback_refused")
					if len(rows) != before+1 || rows[len(rows)-1].detail != tc.code {
						t.Errorf("refusal not audited: %+v", rows)
					}
					if cur, _ := e.svc.Get(ctx, in.ID); cur.State != payment.Paid || !cur.UpdatedAt.Equal(paid.UpdatedAt) {
						t.Errorf("intent changed: %+v", cur)
					}
					if cur, _ := e.svc.Get(ctx, pending.ID); cur.State != payment.Pending {
						t.Errorf("other intent changed: %+v", cur)
					}
				})
			}
			var n int
			e.db.R.QueryRow(`SELECT COUNT(*) FROM payment_callbacks`).Scan(&n)
			if n != 1 {
				t.Errorf("%d callbacks recorded; refused ones must leave none", n)
			}
		})
	}
}

// TestFailuresAndExpiry: a failed payment and an expired intent make way
// for a new one; money arriving after expiry is taken; the page's cancel
// fails the payment.
func TestFailuresAndExpiry(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := setup(t, d, simgateway.Config{Fail: func(_ string, amount int64) string {
				if amount == 66000 {
					return "insufficient_funds"
				}
				return ""
			}})
			ctx := context.Background()
			in, _ := e.svc.Create(ctx, request("000.00.01.H26-260310-0010", 66000))
			browserPay(t, in.PayURL, "pay", "card")
			failed := waitState(t, e, in.ID, payment.Failed)
			if failed.FailReason != "insufficient_funds" || failed.ReceiptNo != "" {
				t.Errorf("failed intent %+v", failed)
			}
			if _, err := e.svc.Receipt(ctx, in.ID); code(err) != "payment.no_receipt" {
				t.Errorf("receipt of a failed payment: %v", err)
			}
			retry, err := e.svc.Create(ctx, request("000.00.01.H26-260310-0010", 66000))
			if err != nil || retry.ID == in.ID || retry.State != payment.Pending {
				t.Errorf("retry after failure: %+v %v", retry, err)
			}

			c, _ := e.svc.Create(ctx, request("000.00.01.H26-260310-0011", 10000))
			browserPay(t, c.PayURL, "cancel", "")
			if got := waitState(t, e, c.ID, payment.Failed); got.FailReason != "cancelled_by_payer" {
				t.Errorf("cancelled: %+v", got)
			}

			late, _ := e.svc.Create(ctx, request("000.00.01.H26-260310-0012", 10000))
			e.clk.Add(31 * time.Minute)
			if n, err := e.svc.Expire(ctx); err != nil || n != 2 { // retry and late
				t.Errorf("Expire = %d, %v; want 2", n, err)
			}
			waitState(t, e, late.ID, payment.Expired)
			e.sim.Pay(late.GatewayRef, "transfer")
			if got := waitState(t, e, late.ID, payment.Paid); got.ReceiptNo == "" {
				t.Errorf("late payment without receipt: %+v", got)
			}

			// Create expires a stale intent on the spot and opens a new one.
			stale, _ := e.svc.Create(ctx, request("000.00.01.H26-260310-0013", 10000))
			e.clk.Add(31 * time.Minute)
			fresh, err := e.svc.Create(ctx, request("000.00.01.H26-260310-0013", 10000))
			if err != nil || fresh.ID == stale.ID {
				t.Errorf("stale intent reused: %v", err)
			}
			if s, _ := e.svc.Get(ctx, stale.ID); s.State != payment.Expired {
				t.Errorf("stale intent %s", s.State)
			}
			// The payer then pays the stale one after all: the late money pays
			// the dossier and closes the newer intent; paying that one too is
			// refused (and left to the reconciliation).
			e.sim.Pay(stale.GatewayRef, "card")
			waitState(t, e, stale.ID, payment.Paid)
			if f, _ := e.svc.Get(ctx, fresh.ID); f.State != payment.Failed || f.FailReason != "superseded_by_late_payment" {
				t.Errorf("newer intent after a late payment: %+v", f)
			}
			third, _ := e.svc.Create(ctx, request("000.00.01.H26-260310-0014", 10000))
			e.clk.Add(31 * time.Minute)
			fourth, _ := e.svc.Create(ctx, request("000.00.01.H26-260310-0014", 10000))
			e.sim.Pay(fourth.GatewayRef, "card")
			waitState(t, e, fourth.ID, payment.Paid)
			body := cbBody("EVlate", third.GatewayRef, third.ID, "paid", 10000, e.clk.Now())
			if _, err := e.svc.HandleCallback(ctx, signed(secret, e.clk.Now(), body), body); code(err) != "payment.callback_state" {
				t.Errorf("second payment of a paid dossier: %v", err)
			}
			if th, _ := e.svc.Get(ctx, third.ID); th.State != payment.Expired {
				t.Errorf("second payment changed the expired intent: %+v", th)
			}
		})
	}
}

// TestGatewayDown: when the gateway does not answer the intent stays
// created and nothing is lost; the retry reaches the same payment.
func TestGatewayDown(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := setup(t, d, simgateway.Config{})
			ctx := context.Background()
			e.down.Store(true)
			in, err := e.svc.Create(ctx, request("000.00.01.H26-260310-0020", 10000))
			if code(err) != "payment.gateway_unavailable" || in.State != payment.Created {
				t.Fatalf("gateway down: %+v %v", in, err)
			}
			e.down.Store(false)
			again, err := e.svc.Create(ctx, request("000.00.01.H26-260310-0020", 10000))
			if err != nil || again.ID != in.ID || again.State != payment.Pending {
				t.Fatalf("retry: %+v %v", again, err)
			}
		})
	}
}

func TestCreateRefusesBadInput(t *testing.T) {
	e := setup(t, storage.SQLite, simgateway.Config{})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		req  payment.Request
		want string
	}{
		{"zero", request("D-1", 0), "payment.amount"},
		{"negative", request("D-1", -5), "payment.amount"},
		{"too large", request("D-1", payment.MaxAmount+1), "payment.amount"},
		{"dossier with a space", request("D 1", 10), "payment.dossier"},
		{"empty dossier", request("", 10), "payment.dossier"},
		{"no payer", payment.Request{Dossier: "D-1", Amount: 10}, "payment.payer"},
		{"control character", payment.Request{Dossier: "D-1", Amount: 10, Payer: "x", Description: "a\nb"}, "payment.text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Create(ctx, tc.req)
			if code(err) != tc.want || fault.As(err).Kind != fault.Invalid {
				t.Errorf("Create = %v, want %s", err, tc.want)
			}
		})
	}
	var n int
	e.db.R.QueryRow(`SELECT COUNT(*) FROM payment_intents`).Scan(&n)
	if n != 0 {
		t.Errorf("%d intents written for bad requests", n)
	}
}

// TestRefundOnRejection: the fee rule decides; a refund happens once; an
// unpaid intent of a rejected dossier is closed.
func TestRefundOnRejection(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := setup(t, d, simgateway.Config{})
			ctx := context.Background()
			dossier := "000.00.01.H26-260310-0030"
			in, _ := e.svc.Create(ctx, request(dossier, 50000))
			if _, err := e.svc.Refund(ctx, in.ID, "thử", ""); code(err) != "payment.text" {
				t.Errorf("refund by nobody: %v", err)
			}
			if _, err := e.svc.Refund(ctx, in.ID, "thử", "staff:tuan.nv"); code(err) != "payment.not_paid" {
				t.Errorf("refund of an unpaid intent: %v", err)
			}
			e.sim.Pay(in.GatewayRef, "card")
			waitState(t, e, in.ID, payment.Paid)
			kept, refunded, err := e.svc.Rejected(ctx, dossier, payment.FeeRule{RefundOnRejection: false}, "staff:tuan.nv")
			if err != nil || refunded || kept.State != payment.Paid {
				t.Errorf("a charge that is kept was refunded: %+v %v %v", kept, refunded, err)
			}
			got, refunded, err := e.svc.Rejected(ctx, dossier, payment.FeeRule{RefundOnRejection: true}, "staff:tuan.nv")
			if err != nil || !refunded || got.State != payment.Refunded || got.RefundRef == "" || got.RefundReason != "Hồ sơ bị từ chối" {
				t.Fatalf("refund on rejection: %+v %v %v", got, refunded, err)
			}
			again, refunded, err := e.svc.Rejected(ctx, dossier, payment.FeeRule{RefundOnRejection: true}, "staff:tuan.nv")
			if err != nil || refunded || again.RefundRef != got.RefundRef {
				t.Errorf("second rejection refunded again: %+v %v %v", again, refunded, err)
			}
			if r, _ := e.svc.Receipt(ctx, in.ID); !r.Refunded {
				t.Errorf("receipt does not say refunded: %+v", r)
			}
			if rows := auditRows(t, e.db, "payment.refund"); len(rows) != 1 || rows[0].actor != "staff:tuan.nv" {
				t.Errorf("refund audit: %+v", rows)
			}
			if _, err := e.svc.Create(ctx, request(dossier, 50000)); code(err) != "payment.already_paid" {
				t.Errorf("a refunded dossier opened a new payment: %v", err)
			}

			open, _ := e.svc.Create(ctx, request("000.00.01.H26-260310-0031", 50000))
			closed, refunded, err := e.svc.Rejected(ctx, "000.00.01.H26-260310-0031", payment.FeeRule{RefundOnRejection: true}, "staff:tuan.nv")
			if err != nil || refunded || closed.ID != open.ID || closed.State != payment.Failed || closed.FailReason != "dossier_rejected" {
				t.Errorf("unpaid intent of a rejected dossier: %+v %v %v", closed, refunded, err)
			}
			if in, refunded, err := e.svc.Rejected(ctx, "000.00.01.H26-260310-0099", payment.FeeRule{RefundOnRejection: true}, "staff:x"); err != nil || refunded || in.ID != "" {
				t.Errorf("dossier without fee: %+v %v %v", in, refunded, err)
			}
		})
	}
}

// TestReconcile builds every kind of mismatch between the simulator's
// statement and the intents and expects each exactly once.
func TestReconcile(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := setup(t, d, simgateway.Config{})
			ctx := context.Background()
			pay := func(dossier string, amount int64) payment.Intent {
				in, err := e.svc.Create(ctx, request(dossier, amount))
				if err != nil {
					t.Fatal(err)
				}
				e.sim.Pay(in.GatewayRef, "card")
				return waitState(t, e, in.ID, payment.Paid)
			}
			a := pay("RC-A", 10000)
			b := pay("RC-B", 20000)
			c := pay("RC-C", 30000)
			r := pay("RC-R", 40000)
			ok := pay("RC-OK", 50000)
			if _, err := e.svc.Refund(ctx, r.ID, "sai phí", "staff:lan.pt"); err != nil {
				t.Fatal(err)
			}
			// F failed here (the gateway's failure callback) but the gateway
			// booked the money anyway.
			f, _ := e.svc.Create(ctx, request("RC-F", 60000))
			e.sim.Decline(f.GatewayRef, "timeout")
			waitState(t, e, f.ID, payment.Failed)
			at := e.clk.Now().UTC()
			e.sim.AddStatementLine(payment.StatementLine{Kind: payment.LinePayment, Ref: f.GatewayRef, IntentID: f.ID, Amount: 60000, At: at})
			e.sim.AddStatementLine(payment.StatementLine{Kind: payment.LinePayment, Ref: "SIMstranger", Amount: 70000, At: at})
			e.sim.EditStatement(func(ls []payment.StatementLine) []payment.StatementLine {
				var out []payment.StatementLine
				for _, l := range ls {
					switch {
					case l.Ref == c.GatewayRef: // lost at the gateway
						continue
					case l.Ref == b.GatewayRef:
						l.Amount = 2000
					case l.Ref == a.GatewayRef:
						out = append(out, l)
					}
					out = append(out, l)
				}
				// A line of another day does not count.
				return append(out, payment.StatementLine{Kind: payment.LinePayment, Ref: "SIMyesterday", Amount: 1, At: at.AddDate(0, 0, -1)})
			})
			day := civildate.Of(e.clk.Now())
			rep, err := e.svc.Reconcile(ctx, day)
			if err != nil {
				t.Fatal(err)
			}
			type m struct {
				kind payment.MismatchKind
				line string
				ref  string
			}
			want := map[m]bool{
				{payment.AmountDiffers, payment.LinePayment, b.GatewayRef}: true,
				{payment.Duplicate, payment.LinePayment, a.GatewayRef}:     true,
				{payment.GatewayOnly, payment.LinePayment, f.GatewayRef}:   true,
				{payment.GatewayOnly, payment.LinePayment, "SIMstranger"}:  true,
				{payment.LocalOnly, payment.LinePayment, c.GatewayRef}:     true,
			}
			if len(rep.Mismatches) != len(want) {
				t.Errorf("%d mismatches, want %d: %+v", len(rep.Mismatches), len(want), rep.Mismatches)
			}
			for _, mm := range rep.Mismatches {
				if !want[m{mm.Kind, mm.Line, mm.Ref}] {
					t.Errorf("unexpected mismatch %+v", mm)
				}
				switch {
				case mm.Kind == payment.AmountDiffers && (mm.GatewayAmount != 2000 || mm.LocalAmount != 20000 || mm.Dossier != "RC-B"):
					t.Errorf("amount mismatch %+v", mm)
				case mm.Kind == payment.Duplicate && mm.Count != 2:
					t.Errorf("duplicate %+v", mm)
				case mm.Kind == payment.GatewayOnly && mm.Ref == f.GatewayRef && (mm.LocalState != payment.Failed || mm.Dossier != "RC-F"):
					t.Errorf("paid there, failed here: %+v", mm)
				case mm.Kind == payment.LocalOnly && mm.IntentID != c.ID:
					t.Errorf("local only %+v", mm)
				}
			}
			// a (counted once despite the duplicate), r's payment and refund, ok; of 8 lines today (c dropped).
			if rep.Matched != 4 || rep.Lines != 8 {
				t.Errorf("matched %d of %d lines; want 4 of 8", rep.Matched, rep.Lines)
			}
			_ = ok
			runs, err := e.svc.Reconciliations(ctx, day)
			if err != nil || len(runs) != 1 || len(runs[0].Mismatches) != len(want) || runs[0].ID != rep.ID {
				t.Errorf("stored runs: %+v %v", runs, err)
			}
			if rows := auditRows(t, e.db, "payment.reconcile"); len(rows) != 1 || !strings.Contains(rows[0].detail, "mismatches=5") {
				t.Errorf("reconcile audit: %+v", rows)
			}
			// A clean day has nothing to report.
			clean, err := e.svc.Reconcile(ctx, civildate.Date{Year: 2026, Month: 3, Day: 1})
			if err != nil || len(clean.Mismatches) != 0 || clean.Lines != 0 {
				t.Errorf("empty day: %+v %v", clean, err)
			}
		})
	}
}

func TestNewNeedsDeps(t *testing.T) {
	if _, err := payment.New(payment.Deps{}); err == nil || !errors.Is(err, fault.As(err)) {
		t.Errorf("New without deps: %v", err)
	}
}
