package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/delivery"
	"github.com/dancu-project/dancu/internal/fold"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
)

// TestExchangeStory follows the sample partners of a fresh platform through
// the wiring between modules: the social-insurance agency verifies an
// insured person (a match links it to the person) and subscribes to
// deaths; when the register records the death, its webhook receives it
// signed, with the date its policy allows, while the bank — also
// subscribed, but never in contact with that person — receives nothing,
// and the hospital, whose policy has no status, cannot subscribe to deaths
// at all; the agency cleans a dirty list against the register; and the
// person's access log names the agency's verification and the disclosure
// of the death.
func TestExchangeStory(t *testing.T) {
	env := apptest.Start(t, storage.SQLite, 300)
	ctx := context.Background()
	creds, err := env.App.BootstrapPartners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	for _, c := range creds {
		cc := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.Secret, TokenURL: env.Server.URL + "/oidc/oauth/token"}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tokens[c.PartnerID] = tok.AccessToken
	}
	call := func(partner, method, path, contentType string, body []byte) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, env.Server.URL+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tokens[partner])
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, raw
	}
	callJSON := func(partner, method, path string, v any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(v)
		status, raw := call(partner, method, path, "application/json", b)
		var out map[string]any
		json.Unmarshal(raw, &out)
		return status, out
	}

	// Two webhook receivers that keep what they get.
	type hook struct {
		mu   sync.Mutex
		got  []*http.Request
		body [][]byte
	}
	receiver := func(h *hook) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			h.mu.Lock()
			h.got, h.body = append(h.got, r), append(h.body, b)
			h.mu.Unlock()
		}))
		t.Cleanup(s.Close)
		return s
	}
	var hospitalHook, bankHook hook
	hospitalURL, bankURL := receiver(&hospitalHook).URL, receiver(&bankHook).URL
	secrets := map[string]string{}
	if status, p := callJSON("bv-bachmai", "POST", "/api/partner/v1/subscriptions", map[string]any{"types": []string{"died"}, "mode": "webhook", "url": hospitalURL}); status != http.StatusForbidden || p["code"] != "policy.event_type_not_allowed" {
		t.Fatalf("the hospital, whose policy has no status, subscribes to deaths: %d %v", status, p)
	}
	for partner, url := range map[string]string{"bhxh": hospitalURL, "nganhang-a": bankURL} {
		status, sub := callJSON(partner, "POST", "/api/partner/v1/subscriptions", map[string]any{"types": []string{"died"}, "mode": "webhook", "url": url})
		secret, _ := sub["secret"].(string)
		if status != http.StatusCreated || secret == "" {
			t.Fatalf("%s subscribes: %d %v", partner, status, sub)
		}
		secrets[partner] = secret
	}

	// A patient who does not head a household (so the death needs no new head).
	var pin string
	if err := env.App.DB.R.QueryRowContext(ctx, `SELECT pin FROM persons WHERE status = 'alive' AND relation <> 'Chủ hộ' ORDER BY pin LIMIT 1`).Scan(&pin); err != nil {
		t.Fatal(err)
	}
	system := actor.SystemActor("e2e")
	person, err := env.App.Registry.Get(ctx, system, pin, "test")
	if err != nil {
		t.Fatal(err)
	}
	status, v := callJSON("bhxh", "POST", "/api/partner/v1/verify", map[string]any{
		"pin": pin, "full_name": person.FullName, "birth_date": person.BirthDate.String(), "purpose": "health-insurance"})
	if status != http.StatusOK || v["result"] != "match" {
		t.Fatalf("the agency verifies an insured person: %d %v", status, v)
	}
	if strings.Contains(fmt.Sprint(v), person.FullName) {
		t.Fatalf("verify disclosed the register's name: %v", v)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		linked, err := env.App.Partners.Linked(ctx, pin)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.Join(linked, ","), "bhxh") {
			if strings.Contains(strings.Join(linked, ","), "nganhang-a") {
				t.Fatalf("the bank is linked to a person it never asked about: %v", linked)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the verification did not link the agency: %v", linked)
		}
		time.Sleep(20 * time.Millisecond)
	}

	died := time.Now().AddDate(0, 0, -1).Format("2006-01-02")
	if _, err := env.App.Registry.RegisterDeath(ctx, system, registry.DeathInput{PIN: pin, DeathDate: died, Reason: "Báo tử tại bệnh viện"}); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(20 * time.Second)
	for {
		hospitalHook.mu.Lock()
		n := len(hospitalHook.got)
		hospitalHook.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the agency's webhook never received the death")
		}
		time.Sleep(50 * time.Millisecond)
	}
	hospitalHook.mu.Lock()
	req, body := hospitalHook.got[0], hospitalHook.body[0]
	hospitalHook.mu.Unlock()
	if err := delivery.Verify(secrets["bhxh"], req.Header, body, time.Now(), 5*time.Minute); err != nil {
		t.Fatalf("signature of the death webhook: %v", err)
	}
	if err := delivery.Verify(secrets["nganhang-a"], req.Header, body, time.Now(), 5*time.Minute); err == nil {
		t.Fatal("the webhook verifies with another partner's secret")
	}
	var event map[string]any
	json.Unmarshal(body, &event)
	if event["type"] != "died" || event["pin"] != pin || !strings.Contains(string(body), died) {
		t.Fatalf("death event: %s", body)
	}
	if strings.Contains(string(body), person.FullName) {
		t.Fatalf("the event carries the name: %s", body)
	}

	// The social-insurance agency cleans a list: register people written
	// without diacritics and in capitals, plus someone the register does not know.
	rows, err := env.App.DB.R.QueryContext(ctx, `SELECT pin FROM persons WHERE status = 'alive' ORDER BY pin DESC LIMIT 20`)
	if err != nil {
		t.Fatal(err)
	}
	var pins []string
	for rows.Next() {
		var p string
		rows.Scan(&p)
		pins = append(pins, p)
	}
	rows.Close()
	var csv strings.Builder
	csv.WriteString("ma;so_dinh_danh;ho_ten;ngay_sinh\n")
	for i, p := range pins {
		per, err := env.App.Registry.Get(ctx, system, p, "test")
		if err != nil {
			t.Fatal(err)
		}
		d := per.BirthDate
		fmt.Fprintf(&csv, "BH%03d;%s;%s;%02d/%02d/%04d\n", i, p, strings.ToUpper(fold.String(per.FullName)), d.Day, d.Month, d.Year)
	}
	csv.WriteString("BH999;;Người Không Có Thật;01/01/1901\n")
	st, raw := call("bhxh", "POST", "/api/partner/v1/reconcile/jobs?purpose=health-insurance&name=danh-sach", "text/csv", []byte(csv.String()))
	var job map[string]any
	json.Unmarshal(raw, &job)
	id, _ := job["id"].(string)
	if st != http.StatusAccepted || id == "" {
		t.Fatalf("upload: %d %s", st, raw)
	}
	deadline = time.Now().Add(30 * time.Second)
	for job["state"] != "done" {
		if time.Now().After(deadline) {
			t.Fatalf("job not done: %v", job)
		}
		time.Sleep(100 * time.Millisecond)
		_, job = callJSON("bhxh", "GET", "/api/partner/v1/reconcile/jobs/"+id, nil)
	}
	if job["matched"] != float64(len(pins)) || job["not_found"] != float64(1) {
		t.Fatalf("reconciliation: %v", job)
	}
	st, report := call("bhxh", "GET", "/api/partner/v1/reconcile/jobs/"+id+"/report", "", nil)
	if st != http.StatusOK || !strings.Contains(string(report), pins[0]) || !strings.Contains(string(report), "BH999") {
		t.Fatalf("report: %d\n%s", st, report)
	}

	// The person's access log: the agency's verification and the
	// disclosure of the death to it, nothing for the bank.
	entries, err := audit.BySubject(ctx, env.App.AuditDB, "person:"+pin, 100)
	if err != nil {
		t.Fatal(err)
	}
	var hospital []string
	for _, e := range entries {
		switch e.Actor {
		case "partner:bhxh":
			hospital = append(hospital, e.Action)
		case "partner:nganhang-a":
			t.Errorf("the bank appears in the access log: %+v", e)
		}
	}
	if got := strings.Join(hospital, " "); !strings.Contains(got, "person.verified") || !strings.Contains(got, "delivery.event") {
		t.Fatalf("the agency's entries in the access log: %q", got)
	}
	bankHook.mu.Lock()
	defer bankHook.mu.Unlock()
	if len(bankHook.got) != 0 {
		t.Fatalf("the bank received %d webhooks about a person it has no link with", len(bankHook.got))
	}
}
