package servicesweb_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/workday"
)

func stayForm(extra map[string]any) map[string]any {
	m := map[string]any{"host_commune": "00004", "host_address": "Khách sạn Hoa Sen, 5 Hàng Bài", "guest_name": "Nguyễn Văn Khách",
		"guest_id": "B1234567", "reason": "Du lịch", "from": time.Now().Format("2006-01-02"), "to": time.Now().AddDate(0, 0, 3).Format("2006-01-02")}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func workdayDate(t *testing.T, s string) civildate.Date {
	t.Helper()
	d, err := civildate.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func problemCode(a answer) string {
	c, _ := a.body["code"].(string)
	return c
}

// TestOrganisationFiling: a lodging company's delegated staff files a stay
// notification for it: the organisation is checked first (an outsider is
// refused before anything else of the request is looked at), the form is
// pre-filled with the company's data and locks it, a procedure for
// individuals is refused for an organisation, the dossier records the
// company and the person who filed, and a revoked delegation stops at once.
func TestOrganisationFiling(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := appFixture(t, d)
			ctx := context.Background()
			base := f.srv.URL
			e := f.env.App.EID
			repPIN, repTok := f.citizen(t, 3)
			delPIN, delTok := f.citizen(t, 4)
			_, outTok := f.citizen(t, 5)
			registrar := actor.Actor{ID: "staff:test", Role: actor.Registrar}
			if _, err := e.Activate(ctx, registrar, repPIN); err != nil {
				t.Fatal(err)
			}
			org, err := e.RegisterOrg(ctx, registrar, eid.OrgInput{Kind: eid.OrgCompany, Code: "0312345678", Name: "Công ty TNHH Khách sạn Hoa Sen", RepresentativePIN: repPIN})
			if err != nil {
				t.Fatal(err)
			}
			m, err := e.Delegate(ctx, eid.Session{PIN: repPIN, Level: eid.Level2}, org.ID, delPIN, eid.RoleStaff, time.Now().Add(24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}

			a := call(t, "GET", base+"/api/v1/organisations", delTok, nil)
			if a.status != 200 || !strings.Contains(string(a.raw), org.ID) || !strings.Contains(string(a.raw), `"role":"staff"`) {
				t.Fatalf("organisations: %d %s", a.status, a.raw)
			}
			if a = call(t, "GET", base+"/api/v1/organisations", outTok, nil); a.status != 200 || strings.Contains(string(a.raw), org.ID) {
				t.Fatalf("an outsider's organisations: %d %s", a.status, a.raw)
			}
			// An outsider is refused on the organisation before the
			// procedure, the idempotency key or the form are looked at.
			a = call(t, "POST", base+"/api/v1/dossiers", outTok, map[string]any{"procedure": "NO.SUCH", "organisation": org.ID, "form": map[string]any{}})
			if a.status != 403 || problemCode(a) != "dossier.org_not_acting" {
				t.Fatalf("outsider: %d %s", a.status, a.raw)
			}
			if a = call(t, "GET", base+"/api/v1/procedures/CT.LT.01/form?organisation="+org.ID, outTok, nil); a.status != 403 {
				t.Fatalf("outsider's form: %d %s", a.status, a.raw)
			}
			// The form carries the company's data, with the filer's own name.
			a = call(t, "GET", base+"/api/v1/procedures/CT.LT.01/form?organisation="+org.ID, delTok, nil)
			vals, _ := a.body["values"].(map[string]any)
			if a.status != 200 || vals["establishment_name"] != org.Name || vals["establishment_code"] != "0312345678" || vals["notifier_name"] == "" {
				t.Fatalf("form: %d %s", a.status, a.raw)
			}
			// A procedure for individuals only.
			a = call(t, "POST", base+"/api/v1/dossiers", delTok, map[string]any{"procedure": "CT.TAT.01", "organisation": org.ID, "form": tempForm("00004")},
				"Idempotency-Key", "org-temp-1")
			if a.status != 422 || problemCode(a) != "dossier.org_procedure" {
				t.Fatalf("individual procedure for an organisation: %d %s", a.status, a.raw)
			}
			// The company's data is the account's, not the filer's to change.
			a = call(t, "POST", base+"/api/v1/dossiers", delTok, map[string]any{"procedure": "CT.LT.01", "organisation": org.ID,
				"form": stayForm(map[string]any{"establishment_name": "Công ty khác"})}, "Idempotency-Key", "org-stay-0")
			if a.status != 422 || !strings.Contains(string(a.raw), "form.locked") || !strings.Contains(string(a.raw), "establishment_name") {
				t.Fatalf("changed company name: %d %s", a.status, a.raw)
			}
			a = call(t, "POST", base+"/api/v1/dossiers", delTok, map[string]any{"procedure": "CT.LT.01", "organisation": org.ID, "form": stayForm(nil)},
				"Idempotency-Key", "org-stay-1")
			if a.status != 201 {
				t.Fatalf("file for the company: %d %s", a.status, a.raw)
			}
			code := a.body["code"].(string)
			o, _ := a.body["organisation"].(map[string]any)
			if o["id"] != org.ID || o["name"] != org.Name || o["role"] != "staff" || a.body["filed_by"] != delPIN {
				t.Errorf("receipt's organisation %v, filed by %v", o, a.body["filed_by"])
			}
			if form := a.body["form"].(map[string]any); form["establishment_code"] != "0312345678" {
				t.Errorf("stored form %v", form)
			}
			// Stored: read back after the fact.
			a = call(t, "GET", base+"/api/v1/dossiers/"+code, delTok, nil)
			if got := a.body["dossier"].(map[string]any); a.status != 200 || got["organisation"] == nil || got["filed_by"] != delPIN {
				t.Errorf("dossier read back: %d %s", a.status, a.raw)
			}
			// The same person files for themself: no organisation recorded.
			a = call(t, "POST", base+"/api/v1/dossiers", delTok, map[string]any{"procedure": "CT.LT.01", "form": stayForm(nil)}, "Idempotency-Key", "self-stay-1")
			if a.status != 201 || a.body["organisation"] != nil || a.body["filed_by"] != nil || a.body["form"].(map[string]any)["establishment_name"] != nil {
				t.Fatalf("file for oneself: %d %s", a.status, a.raw)
			}
			// The representative revokes the delegation: refused at once.
			if err := e.RevokeDelegation(ctx, eid.Session{PIN: repPIN, Level: eid.Level2}, org.ID, m.ID); err != nil {
				t.Fatal(err)
			}
			a = call(t, "POST", base+"/api/v1/dossiers", delTok, map[string]any{"procedure": "CT.LT.01", "organisation": org.ID, "form": stayForm(nil)},
				"Idempotency-Key", "org-stay-2")
			if a.status != 403 || problemCode(a) != "dossier.org_not_acting" {
				t.Fatalf("after revocation: %d %s", a.status, a.raw)
			}
			// The representative files in their own right.
			a = call(t, "POST", base+"/api/v1/dossiers", repTok, map[string]any{"procedure": "CT.LT.01", "organisation": org.ID, "form": stayForm(nil)},
				"Idempotency-Key", "rep-stay-1")
			if a.status != 201 || a.body["organisation"].(map[string]any)["role"] != "representative" {
				t.Fatalf("representative: %d %s", a.status, a.raw)
			}
		})
	}
}

// notices polls the citizen's notifications until one of kind arrives (the
// events travel through the outbox and JetStream) and its copies are sent.
func notices(t *testing.T, url, tok, kind string) answer {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		a := call(t, "GET", url+"/api/v1/notifications", tok, nil)
		// The SMS copy is sent once the notification is committed: wait
		// for it to leave "pending" too.
		if a.status == 200 && strings.Contains(string(a.raw), `"kind":"`+kind+`"`) && !strings.Contains(string(a.raw), `"sms":"pending"`) {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s notification: %d %s", kind, a.status, a.raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func noticeOf(a answer, kind string) map[string]any {
	for _, n := range a.body["notifications"].([]any) {
		if m := n.(map[string]any); m["kind"] == kind {
			return m
		}
	}
	return nil
}

// TestNotifications: the citizen is told, in the portal and by SMS, when
// their fee is received, a supplement is requested (with what is missing)
// and the dossier is rejected (with the reason); each event makes one
// notification even when delivered again; the list is the citizen's own.
func TestNotifications(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := appFixture(t, d)
			ctx := context.Background()
			base := f.srv.URL
			_, tok := f.citizen(t, 6)
			_, other := f.citizen(t, 7)
			a := call(t, "POST", base+"/api/v1/dossiers", tok, map[string]any{"procedure": "CT.TAT.01", "form": tempForm("00004"),
				"uploads": []map[string]any{{"document": "dwelling_proof", "content": b64(cleanPDF)}}}, "Idempotency-Key", "notify-1")
			if a.status != 201 {
				t.Fatalf("submit: %d %s", a.status, a.raw)
			}
			code := a.body["code"].(string)
			payOnPage(t, a.body["pay_url"].(string))
			// The dossier moves to received once the payment is seen, by the
			// leased job (SyncPayments), without anybody reading it.
			deadline := time.Now().Add(10 * time.Second)
			for {
				n, err := f.env.App.Services.SyncPayments(ctx)
				if err != nil {
					t.Fatal(err)
				}
				// (the app's own minute job may have moved it first)
				if nf, _ := f.env.App.Services.NoticeOf(ctx, code); n == 1 || nf.Status == services.Received {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("not received after payment")
				}
				time.Sleep(50 * time.Millisecond)
			}
			if n, _ := f.env.App.Services.SyncPayments(ctx); n != 0 {
				t.Errorf("a received dossier synced again: %d", n)
			}
			a = notices(t, base, tok, "payment_received")
			n := noticeOf(a, "payment_received")
			body := n["body"].(map[string]any)
			if n["dossier"] != code || !strings.Contains(body["vi"].(string), "7.000 đồng") || !strings.Contains(body["vi"].(string), "Hạn giải quyết") ||
				!strings.Contains(body["en"].(string), code) || n["sms"] != "sent" || a.body["unread"].(float64) != 1 {
				t.Errorf("payment notification %v (unread %v)", n, a.body["unread"])
			}
			officer := f.staff(t, "dangky.badinh")
			if x := call(t, "POST", base+"/api/v1/desk/dossiers/"+code+"/start", officer, nil); x.status != 200 {
				t.Fatalf("start: %d %s", x.status, x.raw)
			}
			if x := call(t, "POST", base+"/api/v1/desk/dossiers/"+code+"/supplement", officer, map[string]any{"reason": "Thiếu bản sao hợp đồng thuê nhà có công chứng"}); x.status != 200 {
				t.Fatalf("supplement: %d %s", x.status, x.raw)
			}
			n = noticeOf(notices(t, base, tok, "supplement_requested"), "supplement_requested")
			if b := n["body"].(map[string]any); !strings.Contains(b["vi"].(string), "Thiếu bản sao hợp đồng thuê nhà có công chứng") {
				t.Errorf("supplement notification does not say what is missing: %v", n)
			}
			if x := call(t, "POST", base+"/api/v1/desk/dossiers/"+code+"/reject", officer, map[string]any{"reason": "Địa chỉ không có thật"}); x.status != 200 {
				t.Fatalf("reject: %d %s", x.status, x.raw)
			}
			a = notices(t, base, tok, "rejected")
			n = noticeOf(a, "rejected")
			if b := n["body"].(map[string]any); !strings.Contains(b["vi"].(string), "Địa chỉ không có thật") || n["title"].(map[string]any)["en"] != "Dossier rejected" {
				t.Errorf("rejection notification %v", n)
			}
			if got := len(a.body["notifications"].([]any)); got != 3 {
				t.Errorf("%d notifications, want 3: %s", got, a.raw)
			}

			// Another citizen sees none of them and cannot mark them read.
			if x := call(t, "GET", base+"/api/v1/notifications", other, nil); x.status != 200 || len(x.body["notifications"].([]any)) != 0 {
				t.Errorf("another citizen's list: %d %s", x.status, x.raw)
			}
			if x := call(t, "POST", base+"/api/v1/notifications/"+n["id"].(string)+"/read", other, nil); x.status != 404 {
				t.Errorf("another citizen marks read: %d", x.status)
			}
			if x := call(t, "POST", base+"/api/v1/notifications/"+n["id"].(string)+"/read", tok, nil); x.status != 204 {
				t.Errorf("mark read: %d %s", x.status, x.raw)
			}
			if x := call(t, "GET", base+"/api/v1/notifications", tok, nil); x.body["unread"].(float64) != 2 {
				t.Errorf("unread after marking one: %v", x.body["unread"])
			}
			if x := call(t, "GET", base+"/api/v1/notifications", "", nil); x.status != 401 {
				t.Errorf("without a session: %d", x.status)
			}

			// A redelivered event (same message id) makes no second
			// notification; a new event id does.
			data, _ := json.Marshal(events.DossierEvent{Code: code, Procedure: "CT.TAT.01", Unit: "000.04.00.H01", Status: "rejected", At: time.Now()})
			msg := events.Msg{Subject: events.DossierRejected.String(), ID: "redelivered-1", Data: data, Delivered: 2}
			for range 2 {
				if err := f.env.App.Notify.Handle(ctx, []events.Msg{msg}); err != nil {
					t.Fatal(err)
				}
			}
			if x := call(t, "GET", base+"/api/v1/notifications", tok, nil); len(x.body["notifications"].([]any)) != 4 {
				t.Errorf("after a delivery twice: %d notifications, want 4", len(x.body["notifications"].([]any)))
			}
			// Nothing personal in the logs: no reason text, no phone.
			if logs := f.env.Logs.String(); strings.Contains(logs, "Địa chỉ không có thật") || strings.Contains(logs, "Thiếu bản sao") {
				t.Error("a notification's text is in the logs")
			}
		})
	}
}

// TestTrackLimit: public tracking answers a wrong check code and an
// unknown dossier alike; a dossier code that failed too often is locked for
// the window even with the right check code, and a client that looks up too
// often is refused with Retry-After.
func TestTrackLimit(t *testing.T) {
	f := appFixture(t, "sqlite")
	base := f.srv.URL
	_, tok := f.citizen(t, 8)
	a := call(t, "POST", base+"/api/v1/dossiers", tok, map[string]any{"procedure": "CT.LT.01", "form": stayForm(nil)}, "Idempotency-Key", "track-key-1")
	if a.status != 201 {
		t.Fatalf("submit: %d %s", a.status, a.raw)
	}
	code, check := a.body["code"].(string), a.body["check_code"].(string)
	track := func(code, check string) answer {
		return call(t, "GET", base+"/api/v1/dossiers/track?code="+code+"&check="+check, "", nil)
	}
	if x := track(code, check); x.status != 200 || x.body["status"] != "received" {
		t.Fatalf("track: %d %s", x.status, x.raw)
	}
	wrong, unknown := track(code, "AAAAAAAA"), track("000.04.00.H01-260101-9999", check)
	if wrong.status != 404 || unknown.status != 404 || problemCode(wrong) != problemCode(unknown) || wrong.body["detail"] != unknown.body["detail"] {
		t.Errorf("wrong check code %d %s, unknown dossier %d %s", wrong.status, wrong.raw, unknown.status, unknown.raw)
	}
	for i := 0; i < services.MaxUploads; i++ { // 9 more failures: 10 in all
		track(code, fmt.Sprintf("AAAAAAA%d", i))
	}
	if x := track(code, check); x.status != 429 || problemCode(x) != "dossier.track_limited" || x.header.Get("Retry-After") == "" {
		t.Errorf("after 10 failures on the code: %d %s", x.status, x.raw)
	}
	// The client's own budget: 120 a minute in all.
	var last answer
	for i := 0; i < 120; i++ {
		last = track("000.04.00.H01-260101-0001", "X")
	}
	if last.status != 429 {
		t.Errorf("the 133rd lookup in a minute: %d", last.status)
	}
}

// TestHolidayOverrides: a platform administrator stores an extra day off
// and a make-up Saturday for a year; the calendar is public, every node
// applies the override (a second node reading the same database), other
// staff are refused first, a bad list is refused whole, and it is audited.
func TestHolidayOverrides(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := appFixture(t, d)
			ctx := context.Background()
			base := f.srv.URL
			admin := f.staff(t, "admin")
			officer := f.staff(t, "dangky.badinh")
			body := map[string]any{"source": "Thông báo nghỉ bù (thử nghiệm)",
				"off":  []map[string]string{{"date": "2026-12-14", "name": "Nghỉ bù"}},
				"work": []map[string]string{{"date": "2026-12-19", "name": "Làm bù"}}}
			if a := call(t, "PUT", base+"/api/v1/admin/holidays/2026", officer, body); a.status != 403 || problemCode(a) != "services.admin_required" {
				t.Fatalf("officer: %d %s", a.status, a.raw)
			}
			bad := map[string]any{"off": []map[string]string{{"date": "2026-12-14", "name": "x"}}, "work": []map[string]string{{"date": "2026-12-15", "name": "a Tuesday"}}}
			if a := call(t, "PUT", base+"/api/v1/admin/holidays/2026", admin, bad); a.status != 422 || !strings.Contains(string(a.raw), `"code":"workday.file_day"`) {
				t.Fatalf("make-up day on a Tuesday: %d %s", a.status, a.raw)
			}
			if a := call(t, "PUT", base+"/api/v1/admin/holidays/2026", admin, map[string]any{"off": []map[string]string{{"date": "2027-01-01", "name": "x"}}}); a.status != 422 {
				t.Fatalf("a day of another year: %d %s", a.status, a.raw)
			}
			if a := call(t, "GET", base+"/api/v1/holidays/2026", "", nil); a.status != 200 || a.body["status"] != "official" {
				t.Fatalf("refused lists changed the year: %d %s", a.status, a.raw)
			}
			a := call(t, "PUT", base+"/api/v1/admin/holidays/2026", admin, body)
			if a.status != 200 || a.body["status"] != "override" || !strings.Contains(string(a.raw), "2026-12-19") {
				t.Fatalf("put: %d %s", a.status, a.raw)
			}
			if a = call(t, "GET", base+"/api/v1/holidays/2026", "", nil); a.status != 200 || !strings.Contains(string(a.raw), "Nghỉ bù") {
				t.Fatalf("public calendar: %d %s", a.status, a.raw)
			}
			cal := f.env.App.Services // this node: at once
			y, _ := cal.HolidayYear(2026)
			if y.Status != workday.StatusOverride {
				t.Errorf("this node's calendar: %+v", y.Status)
			}
			// Another node on the same database: its own calendar, loaded
			// from the stored overrides.
			other, err := workday.Default()
			if err != nil {
				t.Fatal(err)
			}
			cat, _ := services.NewCatalogue(f.env.App.DB, f.env.App.Audit, time.Now)
			node2, err := services.New(services.Deps{DB: f.env.App.DB, Catalogue: cat, Register: f.env.App.Registry, Documents: f.env.App.Documents,
				Calendar: other, Audit: f.env.App.Audit, Secret: []byte("another node's secret, 32 bytes")})
			if err != nil {
				t.Fatal(err)
			}
			if err := node2.LoadHolidays(ctx); err != nil {
				t.Fatal(err)
			}
			mon := workdayDate(t, "2026-12-14")
			if ok, name, _ := other.IsWorkingDay(mon); ok || name != "Nghỉ bù" {
				t.Errorf("second node: 14/12 working %v (%q)", ok, name)
			}
			// Audited under the administrator.
			var n int
			err = f.env.App.AuditDB.R.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'holidays.put' AND subject = 'holidays:2026' AND actor LIKE 'staff:%'`).Scan(&n)
			if err != nil || n != 1 {
				t.Errorf("audit entries: %d %v", n, err)
			}
			if a = call(t, "DELETE", base+"/api/v1/admin/holidays/2026", admin, nil); a.status != 204 {
				t.Fatalf("reset: %d %s", a.status, a.raw)
			}
			if a = call(t, "DELETE", base+"/api/v1/admin/holidays/2026", admin, nil); a.status != 404 {
				t.Errorf("reset twice: %d %s", a.status, a.raw)
			}
			if a = call(t, "GET", base+"/api/v1/holidays/2026", "", nil); a.body["status"] != "official" {
				t.Errorf("after reset: %s", a.raw)
			}
			if a = call(t, "GET", base+"/api/v1/holidays/1999", "", nil); a.status != 422 {
				t.Errorf("year 1999: %d", a.status)
			}
			// The payment jobs' runs are for administrators only.
			if a = call(t, "GET", base+"/api/v1/admin/payments/jobs", officer, nil); a.status != 403 {
				t.Errorf("officer reads payment jobs: %d", a.status)
			}
			if a = call(t, "GET", base+"/api/v1/admin/payments/jobs", admin, nil); a.status != 200 || a.body["runs"] == nil {
				t.Errorf("payment jobs: %d %s", a.status, a.raw)
			}
			if a = call(t, "GET", base+"/api/v1/admin/payments/reconciliations?day=2026-12-06", admin, nil); a.status != 200 || a.body["reconciliations"] == nil {
				t.Errorf("reconciliations: %d %s", a.status, a.raw)
			}
			if a = call(t, "GET", base+"/api/v1/admin/payments/reconciliations?day=2026-13-45", admin, nil); a.status != 422 {
				t.Errorf("reconciliations of a malformed day: %d %s", a.status, a.raw)
			}
		})
	}
}

// processCPU is the CPU time (user and system) the test process has used:
// the benchmarks report it per operation, since on a loaded machine the
// wall-clock rate says more about the other processes than about ours.
// Client and server share the process, so it is an upper bound of the
// server's cost.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
