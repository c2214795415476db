package partnerapi_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// upload sends a dataset as the raw body of the upload operation.
func (p *platform) upload(token, query, body string) answer {
	p.t.Helper()
	req, _ := http.NewRequest("POST", p.env.Server.URL+"/api/partner/v1/reconcile/jobs"+query, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: string(raw)}
	json.Unmarshal(raw, &a.json)
	return a
}

// TestReconcileAPI: a bank uploads a dirty copy of some register people,
// the platform's own worker matches it, and the bank reads the progress
// and downloads the report; other partners cannot see the job, and each
// disclosed PIN is in the audit log for the bank.
func TestReconcileAPI(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			p := start(t, string(d))
			rows, err := p.env.App.DB.R.Query(`SELECT pin, full_name, birth_date FROM persons ORDER BY pin LIMIT 20`)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			b.WriteString("Mã khách hàng;Họ và tên;Số CCCD;Ngày sinh\n")
			var pins []string
			var again string // the first person under another customer code
			for i := 0; rows.Next(); i++ {
				var pin, name, birth string
				rows.Scan(&pin, &name, &birth)
				pins = append(pins, pin)
				fmt.Fprintf(&b, "KH%03d;%s;%s;%s\n", i, name, pin, birth)
				if i == 0 {
					again = fmt.Sprintf("KH998;%s;%s;%s\n", name, pin, birth)
				}
			}
			rows.Close()
			b.WriteString("KH999;Người Không Có;;1901-01-01\n")
			b.WriteString(again)
			// The social insurance agency: its law-based purpose allows the PIN
			// and the status in the report.
			bank := p.partnerToken("bhxh")

			up := p.upload(bank, "?purpose=health-insurance&name=khachhang.csv", b.String())
			if up.status != http.StatusAccepted || up.header.Get("Location") == "" {
				t.Fatalf("upload: %d %s", up.status, up.body)
			}
			loc := up.header.Get("Location")
			var job answer
			for deadline := time.Now().Add(30 * time.Second); ; {
				job = p.call("GET", loc, bank, nil)
				if job.json["state"] == "done" || time.Now().After(deadline) {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			if job.status != 200 || job.json["state"] != "done" || job.json["matched"] != float64(len(pins)+1) ||
				job.json["not_found"] != float64(1) || job.json["same_person"] != float64(1) {
				t.Fatalf("job: %d %s", job.status, job.body)
			}
			want := fmt.Sprintf("%d of %d records cleaned, %d%%", len(pins)+1, len(pins)+2, (len(pins)+1)*100/(len(pins)+2))
			if job.json["figure"] != want {
				t.Errorf("figure %v, want %q", job.json["figure"], want)
			}

			// Refusals: a bad file, a partner without the operation, another
			// partner's job, a report before the job exists.
			if a := p.upload(bank, "?purpose=health-insurance", "ma,dia_chi\n1,HN\n"); a.status != 422 || !strings.Contains(a.body, "reconcile.file.missing_columns") {
				t.Errorf("missing columns: %d %s", a.status, a.body)
			}
			if a := p.upload(bank, "?purpose=health-insurance", "\x00\x01\x02PK"); a.status != 422 || a.code() != "reconcile.file.binary" {
				t.Errorf("binary: %d %s", a.status, a.body)
			}
			if a := p.upload(bank, "?purpose=health-insurance&encoding=ebcdic", "ho_ten,ngay_sinh\nAn,1990\n"); a.status != 422 {
				t.Errorf("unknown encoding: %d %s", a.status, a.body)
			}
			// The purpose, checked before the file (here a binary one).
			for _, c := range []struct {
				token, query string
				status       int
				code         string
			}{
				{bank, "", 422, "policy.purpose_required"},
				{bank, "?purpose=account-opening", 403, "policy.purpose_not_declared"},
				{p.partnerToken("nganhang-a"), "?purpose=account-opening", 403, "reconcile.purpose.consent"},
			} {
				if a := p.upload(c.token, c.query, "\x00\x01\x02PK"); a.status != c.status || a.code() != c.code {
					t.Errorf("upload %s: %d %s, want %d %s", c.query, a.status, a.body, c.status, c.code)
				}
			}
			if a := p.call("GET", loc, p.partnerToken("bv-bachmai"), nil); a.status != 403 {
				t.Errorf("hospital without the operation: %d %s", a.status, a.body)
			}
			if a := p.call("GET", loc, p.partnerToken("nganhang-a"), nil); a.status != 404 || a.code() != "reconcile.job.not_found" {
				t.Errorf("another partner's job: %d %s", a.status, a.body)
			}
			if a := p.call("GET", loc+"/report", "", nil); a.status != 401 {
				t.Errorf("report without a token: %d", a.status)
			}

			// The report.
			rep := p.call("GET", loc+"/report", bank, nil)
			if rep.status != 200 || !strings.HasPrefix(rep.header.Get("Content-Type"), "text/csv") {
				t.Fatalf("report: %d %s", rep.status, rep.body)
			}
			recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(rep.body, "\uFEFF"))).ReadAll()
			if err != nil || len(recs) != len(pins)+3 || recs[0][11] != "same_person_as" {
				t.Fatalf("report has %d lines (%v)", len(recs), err)
			}
			for i, pin := range pins {
				r := recs[i+1]
				if r[2] != fmt.Sprintf("KH%03d", i) || r[3] != "matched" || r[4] != pin || r[11] != "" {
					t.Errorf("report line %d: %v", i+1, r)
				}
			}
			if unknown := recs[len(recs)-2]; unknown[3] != "not_found" || unknown[4] != "" {
				t.Errorf("unknown person: %v", unknown)
			}
			// The first customer again under another code: matched, and
			// pointed at row 1 as the same person.
			if last := recs[len(recs)-1]; last[2] != "KH998" || last[3] != "matched" || last[4] != pins[0] || last[11] != "1" {
				t.Errorf("the same person twice: %v", last)
			}
			var audited int
			p.env.App.AuditDB.R.QueryRow(`SELECT count(*) FROM audit_log WHERE actor = 'partner:bhxh' AND action = 'reconcile.disclose'`).Scan(&audited)
			if audited != len(pins)+1 {
				t.Errorf("%d disclosures audited, want %d", audited, len(pins)+1)
			}
			list := p.call("GET", "/api/partner/v1/reconcile/jobs", bank, nil)
			if jobs, _ := list.json["jobs"].([]any); list.status != 200 || len(jobs) != 1 {
				t.Errorf("job list: %d %s", list.status, list.body)
			}

			// Cancel: a second job is held by another node's worker (a
			// lease set here, so the app's own worker cannot finish it
			// first); the bank cancels it and the upload is gone at once.
			db := p.env.App.DB
			var held string
			for try := 0; try < 5 && held == ""; try++ {
				up2 := p.upload(bank, "?purpose=health-insurance&name=second.csv", b.String())
				if up2.status != http.StatusAccepted {
					t.Fatalf("second upload: %d %s", up2.status, up2.body)
				}
				res, err := db.W.Exec(`UPDATE reconcile_jobs SET state = 'running', lease_owner = 'node-b', lease_until = '9999-12-31T00:00:00.000000000Z'
					WHERE id = $1 AND state = 'queued' AND lease_until = ''`, up2.json["id"])
				if err != nil {
					t.Fatal(err)
				}
				if n, _ := res.RowsAffected(); n == 1 {
					held = up2.header.Get("Location")
				}
			}
			if held == "" {
				t.Fatal("the app's worker took every second job first")
			}
			heldID := held[strings.LastIndex(held, "/")+1:]
			if a := p.call("POST", held+"/cancel", p.partnerToken("nganhang-a"), nil); a.status != 404 || a.code() != "reconcile.job.not_found" {
				t.Errorf("another partner cancels: %d %s", a.status, a.body)
			}
			if a := p.call("DELETE", held, p.partnerToken("nganhang-a"), nil); a.status != 404 || a.code() != "reconcile.job.not_found" {
				t.Errorf("another partner deletes: %d %s", a.status, a.body)
			}
			if a := p.call("POST", held+"/cancel", bank, nil); a.status != 200 || a.json["state"] != "cancelled" {
				t.Fatalf("cancel: %d %s", a.status, a.body)
			}
			var chunks int
			db.R.QueryRow(`SELECT count(*) FROM reconcile_chunks WHERE job_id = $1`, heldID).Scan(&chunks)
			if chunks != 0 {
				t.Errorf("the cancelled job keeps %d chunks of the upload", chunks)
			}
			if a := p.call("GET", held, bank, nil); a.json["state"] != "cancelled" {
				t.Errorf("job after the cancel: %d %s", a.status, a.body)
			}
			if a := p.call("POST", held+"/cancel", bank, nil); a.status != 409 || a.code() != "reconcile.job.ended" {
				t.Errorf("cancel twice: %d %s", a.status, a.body)
			}
			if a := p.call("GET", held+"/report", bank, nil); a.status != 409 || a.code() != "reconcile.job.cancelled" {
				t.Errorf("report of a cancelled job: %d %s", a.status, a.body)
			}
			if a := p.call("POST", loc+"/cancel", bank, nil); a.status != 409 || a.code() != "reconcile.job.ended" {
				t.Errorf("cancel a finished job: %d %s", a.status, a.body)
			}

			// Delete both jobs: they are gone with their results.
			for _, l := range []string{held, loc} {
				if a := p.call("DELETE", l, bank, nil); a.status != 204 {
					t.Errorf("delete %s: %d %s", l, a.status, a.body)
				}
				if a := p.call("GET", l, bank, nil); a.status != 404 {
					t.Errorf("deleted job still answers: %d %s", a.status, a.body)
				}
			}
			var left int
			db.R.QueryRow(`SELECT count(*) FROM reconcile_rows`).Scan(&left)
			if left != 0 {
				t.Errorf("%d result rows left after deleting every job", left)
			}
			if list := p.call("GET", "/api/partner/v1/reconcile/jobs", bank, nil); list.status != 200 || len(list.json["jobs"].([]any)) != 0 {
				t.Errorf("job list after the deletes: %s", list.body)
			}
			for action, want := range map[string]int{"reconcile.cancel": 1, "reconcile.delete": 2} {
				var n int
				p.env.App.AuditDB.R.QueryRow(`SELECT count(*) FROM audit_log WHERE actor = 'partner:bhxh' AND action = $1`, action).Scan(&n)
				if n != want {
					t.Errorf("%d %s entries in the audit log, want %d", n, action, want)
				}
			}
		})
	}
}

// TestReconcileSlowUpload: the production server cuts a request that takes
// longer than its read timeout to arrive; a dataset upload over a slow
// link is given longer.
func TestReconcileSlowUpload(t *testing.T) {
	p := start(t, "sqlite")
	srv := httptest.NewUnstartedServer(p.env.App.Handler)
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	body, w := io.Pipe()
	go func() {
		w.Write([]byte("ho_ten;so_dinh_danh;ngay_sinh\n"))
		for i := range 4 {
			time.Sleep(250 * time.Millisecond)
			fmt.Fprintf(w, "Nguyễn Văn %c;;1980-01-0%d\n", 'A'+i, i+1)
		}
		w.Close()
	}()
	req, _ := http.NewRequest("POST", srv.URL+"/api/partner/v1/reconcile/jobs?purpose=aml-cdd", body)
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+p.partnerToken("nganhang-a"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("a one-second upload through a server with 0.3 s timeouts: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var j struct {
		Bytes int64 `json:"bytes"`
	}
	json.Unmarshal(raw, &j)
	if resp.StatusCode != http.StatusAccepted || j.Bytes < 100 {
		t.Fatalf("slow upload: %d %s", resp.StatusCode, raw)
	}
}
