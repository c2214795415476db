package delivery

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func TestDeliveryAPI(t *testing.T) {
	storagetest.Run(t, append(migrations(), staff.Migrations()), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		st, err := staff.NewStore(db, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		tokens := map[string]string{}
		for _, a := range []staff.Account{
			{Username: "admin", Role: actor.Admin},
			{Username: "admin.hanoi", Role: actor.Admin, Unit: "01", Province: "01"},
			{Username: "dangky", Role: actor.Registrar, Unit: "01", Province: "01"},
		} {
			if err := st.Create(ctx, a, "mật khẩu thử nghiệm"); err != nil {
				t.Fatal(err)
			}
			acc, _ := st.Authenticate(ctx, a.Username, "mật khẩu thử nghiệm")
			tokens[a.Username], _, _ = st.StartSession(ctx, acc)
		}
		partnerAuth := PartnerAuthFunc(func(r *http.Request) (string, error) {
			if p := r.Header.Get("X-Test-Partner"); p != "" {
				return p, nil
			}
			return "", fault.ErrUnauthorized
		})
		mux := http.NewServeMux()
		auditLog := audit.NewLog(db, time.Now, quietLog())
		defer auditLog.Close()
		(&Handler{Store: s, Staff: st, Partners: partnerAuth, Audit: auditLog, Log: quietLog()}).Mount(mux)
		srv := httptest.NewServer(mux)
		defer srv.Close()
		call := func(method, path, token, partner, body string, out any) int {
			t.Helper()
			req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			if partner != "" {
				req.Header.Set("X-Test-Partner", partner)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if out != nil {
				json.NewDecoder(resp.Body).Decode(out)
			}
			return resp.StatusCode
		}
		admin := tokens["admin"]

		var sub Subscription
		if code := call("POST", "/api/v1/admin/subscriptions", admin, "", `{"partner_id":"bank-a","types":["died","moved"],"mode":"webhook","url":"https://bank.example/hook"}`, &sub); code != 201 {
			t.Fatalf("admin subscribe: %d", code)
		}
		if !strings.HasPrefix(sub.Secret, "whsec_") {
			t.Fatalf("the secret is not shown once on creation: %+v", sub)
		}
		var problem struct{ Code string }
		for _, c := range []struct {
			name, token, partner, body string
			status                     int
			code                       string
		}{
			{"registrar", tokens["dangky"], "", `{"partner_id":"x1","types":["died"],"mode":"jetstream"}`, 403, "forbidden"},
			{"province admin", tokens["admin.hanoi"], "", `{"partner_id":"x1","types":["died"],"mode":"jetstream"}`, 403, "forbidden"},
			{"signed out", "", "", `{"partner_id":"x1","types":["died"],"mode":"jetstream"}`, 401, ""},
			{"unknown field", admin, "", `{"partner_id":"x1","types":["died"],"mode":"jetstream","extra":1}`, 400, "request.malformed_json"},
			{"bad type", admin, "", `{"partner_id":"x1","types":["married"],"mode":"jetstream"}`, 422, ""},
		} {
			problem.Code = ""
			code := call("POST", "/api/v1/admin/subscriptions", c.token, c.partner, c.body, &problem)
			if code != c.status || (c.code != "" && problem.Code != c.code) {
				t.Fatalf("%s: %d %q, want %d %q", c.name, code, problem.Code, c.status, c.code)
			}
		}

		// A partner manages only its own subscriptions.
		var mine Subscription
		if code := call("POST", "/api/partner/v1/subscriptions", "", "insurer", `{"partner_id":"bank-a","types":["died"],"mode":"jetstream"}`, &mine); code != 201 || mine.PartnerID != "insurer" || mine.Subject != "dancu.partner.insurer.>" {
			t.Fatalf("partner subscribe: %d %+v", code, mine)
		}
		var list struct{ Subscriptions []Subscription }
		call("GET", "/api/partner/v1/subscriptions", "", "insurer", "", &list)
		if len(list.Subscriptions) != 1 || list.Subscriptions[0].ID != mine.ID {
			t.Fatalf("insurer sees %+v", list.Subscriptions)
		}
		if code := call("DELETE", "/api/partner/v1/subscriptions/"+sub.ID, "", "insurer", "", nil); code != 404 {
			t.Fatalf("a partner ended another's subscription: %d", code)
		}
		if code := call("GET", "/api/partner/v1/subscriptions", "", "", "", nil); code != 401 {
			t.Fatalf("unauthenticated partner: %d", code)
		}
		call("GET", "/api/v1/admin/subscriptions", admin, "", "", &list)
		if len(list.Subscriptions) != 2 {
			t.Fatalf("admin sees %d subscriptions", len(list.Subscriptions))
		}
		for _, s := range list.Subscriptions {
			if s.Secret != "" {
				t.Fatal("a listing shows a secret")
			}
		}
		var rotated struct{ Secret string }
		if code := call("POST", "/api/v1/admin/subscriptions/"+sub.ID+"/secret", admin, "", "", &rotated); code != 200 || rotated.Secret == sub.Secret || rotated.Secret == "" {
			t.Fatalf("rotate: %d", code)
		}
		if code := call("POST", "/api/partner/v1/subscriptions/"+mine.ID+"/secret", "", "insurer", "", &problem); code != 409 || problem.Code != "delivery.not_webhook" {
			t.Fatalf("rotate a JetStream subscription: %d %s", code, problem.Code)
		}

		// Dead letters: listed and replayed by the admin; the log is the
		// partner's own.
		f := &Fanout{Store: s, Audience: everyone("bank-a", "insurer"), Log: quietLog()}
		deaths(t, f, 0, 3)
		db.W.ExecContext(ctx, `UPDATE delivery_queue SET status = 'dead', attempts = 12 WHERE partner_id = 'bank-a'`)
		var dl struct {
			Deliveries []Delivery
			Counts     map[string]int
		}
		call("GET", "/api/v1/admin/deliveries?partner=bank-a&status=dead", admin, "", "", &dl)
		if len(dl.Deliveries) != 3 || dl.Counts["dead"] != 3 {
			t.Fatalf("dead letters: %+v", dl)
		}
		var rep struct{ Requeued int }
		if code := call("POST", "/api/v1/admin/deliveries/replay", admin, "", `{"partner_id":"bank-a","all":true}`, &rep); code != 200 || rep.Requeued != 3 {
			t.Fatalf("replay: %d %+v", code, rep)
		}
		call("GET", "/api/partner/v1/deliveries", "", "insurer", "", &dl)
		for _, d := range dl.Deliveries {
			if d.PartnerID != "insurer" {
				t.Fatalf("insurer sees bank-a's deliveries: %+v", d)
			}
		}
		var raw map[string]any
		call("GET", "/api/partner/v1/deliveries", "", "insurer", "", &raw)
		if b, _ := json.Marshal(raw); strings.Contains(string(b), testPIN(1)) {
			t.Fatalf("the delivery list shows a PIN: %s", b)
		}
		if code := call("GET", "/api/v1/admin/delivery-log", admin, "", "", &problem); code != 422 {
			t.Fatalf("admin log without a partner: %d", code)
		}
		// The operators' acts are in the audit chain, under the partner.
		entries, err := audit.BySubject(ctx, db, "partner:bank-a", 10)
		if err != nil {
			t.Fatal(err)
		}
		var acts []string
		for _, e := range entries {
			acts = append(acts, e.Actor+" "+e.Action)
		}
		if len(acts) != 2 || !slices.Contains(acts, "staff:admin delivery.subscribe") || !slices.Contains(acts, "staff:admin delivery.replay") {
			t.Fatalf("audit of bank-a's subscriptions: %v", acts)
		}
	})
}

type noSessions struct{}

func (noSessions) Session(context.Context, string) (staff.Session, error) {
	return staff.Session{}, fault.ErrUnauthorized
}

// TestMountServesExactlyRoutes checks that the published table is what Mount
// registers: every route answers under both prefixes (a signed-out caller
// gets the 401 problem, not the mux's 404 or 405), and a method or path
// outside the table is not served.
func TestMountServesExactlyRoutes(t *testing.T) {
	mux := http.NewServeMux()
	(&Handler{Staff: noSessions{}, Log: quietLog()}).Mount(mux)
	if len(Routes()) == 0 {
		t.Fatal("no routes published")
	}
	for _, prefix := range []string{AdminPrefix, PartnerPrefix} {
		for _, rt := range Routes() {
			path := prefix + strings.ReplaceAll(rt.Path, "{id}", "sub-1")
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(rt.Method, path, strings.NewReader("{}")))
			var p struct{ Code string }
			json.NewDecoder(rec.Body).Decode(&p)
			if rec.Code != http.StatusUnauthorized || p.Code != "unauthenticated" || rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s: %d %q %q, want the 401 problem of a signed-out caller", rt.Method, path, rec.Code, p.Code, rec.Header().Get("Content-Type"))
			}
		}
	}
	for _, tt := range []struct{ method, path string }{
		{"PUT", AdminPrefix + "/subscriptions"},
		{"GET", PartnerPrefix + "/subscriptions/sub-1"},
		{"GET", AdminPrefix + "/deliveries/replay"},
		{"GET", "/api/v2/admin/subscriptions"},
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s %s is not in the table but answers %d", tt.method, tt.path, rec.Code)
		}
	}
}
