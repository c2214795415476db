package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// policyAbusePartner registers a partner with one system and returns its
// access token.
func policyAbusePartner(t *testing.T, env *apptest.Env, id string, pol exchange.Policy) string {
	t.Helper()
	ctx := context.Background()
	if _, err := env.App.Partners.AddPartner(ctx, exchange.Partner{ID: id, Name: "Đối tác " + id, Kind: exchange.KindOther, Policy: pol}); err != nil {
		t.Fatal(err)
	}
	sys, secret, err := env.App.Partners.NewSystem(ctx, env.App.OIDC.Clients(), exchange.SystemInput{PartnerID: id})
	if err != nil {
		t.Fatal(err)
	}
	cc := clientcredentials.Config{ClientID: sys.ClientID, ClientSecret: secret, TokenURL: env.Server.URL + "/oidc/oauth/token"}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// policyAbuseCall sends a request to the partner API and returns the
// status, the headers and the body.
func policyAbuseCall(t *testing.T, env *apptest.Env, token, method, path, contentType string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, env.Server.URL+"/api/partner/v1"+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw
}

// TestAbusePolicyReconcile: a partner allowed only full_name in one
// commune uploads a reconciliation file of people of its commune and of
// other provinces, some of them dead, to learn their PINs and deaths (the
// report used to carry both, for anyone in the country). Against a
// running platform on SQLite and PostgreSQL: the upload needs a declared
// purpose, and the report has no PIN, no death flag, and nothing of the
// people outside the commune — their rows read exactly as a row naming
// nobody, in the report and in the job's counters — and only the people of
// the commune are in the access log, under the declared purpose.
func TestAbusePolicyReconcile(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 300)
			ctx := context.Background()
			db := env.App.DB
			// The commune with the most people, and people elsewhere.
			var commune, province string
			if err := db.R.QueryRowContext(ctx, `SELECT perm_commune, perm_province FROM persons WHERE status = 'alive'
				GROUP BY perm_commune, perm_province ORDER BY count(*) DESC, perm_commune LIMIT 1`).Scan(&commune, &province); err != nil {
				t.Fatal(err)
			}
			type person struct{ pin, name, birth, commune string }
			pick := func(q string, args ...any) []person {
				rows, err := db.R.QueryContext(ctx, `SELECT pin, full_name, birth_date, perm_commune FROM persons WHERE status = 'alive' AND relation <> 'Chủ hộ' AND `+q+` ORDER BY pin LIMIT 6`, args...)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var out []person
				for rows.Next() {
					var p person
					rows.Scan(&p.pin, &p.name, &p.birth, &p.commune)
					out = append(out, p)
				}
				return out
			}
			inside, outside := pick(`perm_commune = $1`, commune), pick(`perm_province <> $1`, province)
			if len(inside) < 2 || len(outside) < 3 {
				t.Fatalf("%d people in %s, %d outside %s", len(inside), commune, len(outside), province)
			}
			// One of each dies first: the report must not tell.
			died := time.Now().AddDate(0, 0, -3).Format(time.DateOnly)
			for _, p := range []person{inside[0], outside[0]} {
				if _, err := env.App.Registry.RegisterDeath(ctx, actor.SystemActor("e2e"), registry.DeathInput{PIN: p.pin, DeathDate: died, Reason: "Bệnh"}); err != nil {
					t.Fatal(err)
				}
			}
			token := policyAbusePartner(t, env, "xa-mot", exchange.Policy{Operations: []exchange.Operation{exchange.OpReconcile},
				Fields: []string{"full_name"}, Scope: commune,
				Purposes: []exchange.Purpose{{Code: "clean-up", Description: "Làm sạch danh sách", Basis: exchange.BasisLaw, Citation: "Luật thử nghiệm, Điều 1"}}})

			var file strings.Builder
			file.WriteString("Mã;Họ và tên;Số định danh;Ngày sinh\n")
			all := append(append([]person{}, inside...), outside...)
			for i, p := range all {
				fmt.Fprintf(&file, "R%02d;%s;%s;%s\n", i, p.name, p.pin, p.birth)
			}
			file.WriteString("R99;Người Không Có Thật;;1901-01-01\n")

			// No purpose: refused before the file is read.
			if st, _, raw := policyAbuseCall(t, env, token, "POST", "/reconcile/jobs", "text/csv", []byte(file.String())); st != 422 || !strings.Contains(string(raw), "policy.purpose_required") {
				t.Fatalf("upload without a purpose: %d %s", st, raw)
			}
			if st, _, raw := policyAbuseCall(t, env, token, "POST", "/reconcile/jobs?purpose=marketing", "text/csv", []byte(file.String())); st != 403 || !strings.Contains(string(raw), "policy.purpose_not_declared") {
				t.Fatalf("upload for an undeclared purpose: %d %s", st, raw)
			}
			st, _, raw := policyAbuseCall(t, env, token, "POST", "/reconcile/jobs?purpose=clean-up", "text/csv", []byte(file.String()))
			var job map[string]any
			json.Unmarshal(raw, &job)
			id, _ := job["id"].(string)
			if st != http.StatusAccepted || id == "" {
				t.Fatalf("upload: %d %s", st, raw)
			}
			for deadline := time.Now().Add(60 * time.Second); job["state"] != "done"; {
				if time.Now().After(deadline) {
					t.Fatalf("job not done: %v", job)
				}
				time.Sleep(100 * time.Millisecond)
				_, _, raw = policyAbuseCall(t, env, token, "GET", "/reconcile/jobs/"+id, "", nil)
				job = map[string]any{}
				json.Unmarshal(raw, &job)
			}
			if job["matched"] != float64(len(inside)) || job["not_found"] != float64(len(outside)+1) {
				t.Errorf("the job's counters tell about people outside the commune: %v", job)
			}
			st, _, report := policyAbuseCall(t, env, token, "GET", "/reconcile/jobs/"+id+"/report", "", nil)
			recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(report), "\uFEFF"))).ReadAll()
			if st != 200 || err != nil || len(recs) != len(all)+2 {
				t.Fatalf("report: %d %v\n%s", st, err, report)
			}
			for _, p := range all {
				if strings.Contains(string(report), p.pin) {
					t.Errorf("the report discloses the PIN of a person of %s", p.commune)
				}
			}
			nobody := strings.Join(recs[len(recs)-1][3:], ",")
			for i, r := range recs[1 : len(all)+1] {
				if r[7] != "" {
					t.Errorf("row %d: the report discloses a death: %v", i+1, r)
				}
				if i < len(inside) && r[3] != "matched" {
					t.Errorf("row %d, a person of the commune: %v", i+1, r)
				}
				if i >= len(inside) && strings.Join(r[3:], ",") != nobody {
					t.Errorf("row %d, a person of another province: %v; a row naming nobody: %s", i+1, r, nobody)
				}
			}
			// The access log: the commune's people, under the purpose; no
			// one outside.
			for i, p := range all {
				var n int
				env.App.AuditDB.R.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE actor = 'partner:xa-mot' AND action = 'reconcile.disclose'
					AND subject = $1 AND purpose = 'clean-up'`, "person:"+p.pin).Scan(&n)
				if want := map[bool]int{true: 1, false: 0}[i < len(inside)]; n != want {
					t.Errorf("%d access-log entries for a person of %s, want %d", n, p.commune, want)
				}
			}
		})
	}
}

// TestAbusePolicyDeliveryLimits: the subscription and delivery routes used
// to be mounted beside the partner API, past its rate limit and quota; a
// partner could call them without bound. Now they answer 429 with
// Retry-After past the partner's rate, like every partner route.
func TestAbusePolicyDeliveryLimits(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 20)
			token := policyAbusePartner(t, env, "hook-flood", exchange.Policy{Operations: []exchange.Operation{exchange.OpSubscribe},
				Fields: []string{"status"}, RatePerSecond: 0.2, Burst: 3})
			for i := range 3 {
				if st, _, raw := policyAbuseCall(t, env, token, "GET", "/subscriptions", "", nil); st != 200 {
					t.Fatalf("call %d within the burst: %d %s", i, st, raw)
				}
			}
			for _, rt := range []struct{ method, path string }{
				{"GET", "/subscriptions"}, {"POST", "/subscriptions"}, {"GET", "/deliveries"},
				{"POST", "/deliveries/replay"}, {"GET", "/delivery-log"}, {"DELETE", "/subscriptions/x"},
			} {
				st, h, raw := policyAbuseCall(t, env, token, rt.method, rt.path, "application/json", []byte(`{"types":["died"],"mode":"jetstream"}`))
				if st != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(string(raw), "policy.rate_limited") {
					t.Errorf("%s %s past the rate: %d Retry-After %q %s", rt.method, rt.path, st, h.Get("Retry-After"), raw)
				}
			}
		})
	}
}
