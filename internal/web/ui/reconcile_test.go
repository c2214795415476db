package ui_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/match"
	"github.com/dancu-project/dancu/internal/reconcile"
	"github.com/dancu-project/dancu/internal/reconcile/ingest"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/page/pagetest"
	"github.com/dancu-project/dancu/internal/web/ui"
)

// TestReconcilePages: a bank's file names "Đỗ Song Sinh" born 15/01/1995,
// and two such people are registered, one in Ba Đình and one in Ngọc Hà.
// The Ba Đình registrar finds the row in the queue, sees only the
// namesake of their unit, picks them with the form (CSRF checked), and the
// jobs page shows the bank's progress.
func TestReconcilePages(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return today }
	db, units, alog, reg, staffStore := reconcileBase(t, storage.SQLite, exchange.Migrations())
	partners := exchange.NewStore(db, now)
	for _, p := range exchange.Samples() {
		if _, err := partners.AddPartner(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	l, err := registry.NewLoader(ctx, db, alog, actor.SystemActor("test"), today)
	if err != nil {
		t.Fatal(err)
	}
	birth := civildate.Date{Year: 1995, Month: 1, Day: 15}
	var people []registry.Person
	for i, commune := range []string{baDinh, ngocHa} {
		pin, err := l.AllocatePIN("001", 1995, 'M')
		if err != nil {
			t.Fatal(err)
		}
		addr := registry.Address{ProvinceCode: "01", CommuneCode: commune, Detail: "Số 1"}
		hh := registry.Household{ID: "HH-" + commune, HeadPIN: pin, Address: addr}
		if err := l.Household(ctx, hh); err != nil {
			t.Fatal(err)
		}
		people = append(people, registry.Person{PIN: pin, FullName: "Đỗ Song Sinh", BirthDate: birth, Sex: "M", Ethnicity: "01",
			Permanent: addr, HouseholdID: hh.ID, Relation: registry.RelHead})
		if err := l.Person(ctx, &people[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	b := match.NewBuilder(units, match.Options{Now: today})
	for _, p := range people {
		b.Add(match.Person{PIN: p.PIN, FullName: p.FullName, BirthDate: p.BirthDate, Sex: p.Sex, ProvinceCode: "01", CommuneCode: p.Permanent.CommuneCode})
	}
	ix := b.Finish()
	svc, err := reconcile.New(reconcile.Deps{DB: db, Audit: alog, Places: reconcile.IndexPlaces{Index: ix}, Partners: partners, Registry: reg, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	job, err := svc.Upload(ctx, "nganhang-a", "aml-cdd", "partner:nganhang-a", "kh.csv", strings.NewReader("ma,ho_ten,ngay_sinh\nKH1,Đỗ Song Sinh,15/01/1995\n"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if worked, err := svc.NewWorker(ix, reconcile.WorkerOptions{}).RunOnce(ctx); !worked || err != nil {
		t.Fatalf("worker: %v %v", worked, err)
	}
	pages, err := ui.New(ui.Deps{Registry: reg, Staff: staffStore, Units: units, Now: now, Reconcile: svc})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	pages.Mount(mux)
	st := &stack{srv: httptest.NewServer(mux)}
	t.Cleanup(st.srv.Close)

	c := st.client(t)
	c.signIn("lan.nt")
	jobs := c.get("/reconcile")
	mustContain(t, "jobs page", jobs, "Làm sạch dữ liệu", "nganhang-a", "Đã làm sạch 0/1 bản ghi (0%)", "kh.csv")
	queue := c.get("/reconcile/review")
	mustContain(t, "queue", queue, "Dòng cần xem xét", "Đỗ Song Sinh", "/reconcile/review/"+job.ID+"/1")
	path := "/reconcile/review/" + job.ID + "/1"
	page := c.get(path)
	mustContain(t, "review page", page, people[0].PIN, "Ứng viên ngoài địa bàn bạn quản lý", "Không ai trong số này")
	// Names and dd/mm/yyyy, and the match differences in words, not codes
	// (TestMatchDifferenceNames: every field and kind has its words).
	pagetest.SpeaksToPeople(t, "review page", page.body, "15/01/1995", "Nam")
	if codes := regexp.MustCompile(`\b[a-z]+_[a-z_]+\b|\bmissing\b|\bfull_name\b`).FindAllString(pagetest.Visible(page.body), -1); codes != nil {
		t.Errorf("the review page shows codes %q", codes)
	}
	if strings.Contains(page.body, people[1].PIN) {
		t.Errorf("the review page shows the candidate outside the unit")
	}
	if r := c.post(path, url.Values{"choice": {people[0].PIN}}); r.status != http.StatusForbidden {
		t.Errorf("decision without CSRF: %d", r.status)
	}
	if r := c.post(path, url.Values{"csrf": {c.csrf(path)}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Chọn một công dân") {
		t.Errorf("decision without a choice: %d", r.status)
	}
	if r := c.post(path, url.Values{"csrf": {c.csrf(path)}, "choice": {people[1].PIN}}); r.status != http.StatusForbidden {
		t.Errorf("choosing the candidate outside the unit: %d", r.status)
	}
	if r := c.post(path, url.Values{"csrf": {c.csrf(path)}, "choice": {people[0].PIN}}); r.status != http.StatusSeeOther || r.location != "/reconcile/review?done=1" {
		t.Fatalf("decision: %d %s", r.status, r.location)
	}
	mustContain(t, "queue after", c.get("/reconcile/review?done=1"), "Đã lưu quyết định.", "Không có dòng nào cần xem xét")
	mustContain(t, "jobs after", c.get("/reconcile"), "Đã làm sạch 1/1 bản ghi (100%)")

	// A leader reads the progress but cannot decide.
	leader := st.client(t)
	leader.signIn("hung.lv")
	mustContain(t, "leader jobs", leader.get("/reconcile"), "Đã làm sạch 1/1 bản ghi (100%)")
	if r := leader.post(path, url.Values{"csrf": {leader.csrf("/reconcile/review/" + job.ID + "/1")}, "choice": {"none"}}); r.status != http.StatusForbidden {
		t.Errorf("leader decides: %d", r.status)
	}

	// The report: staff scoped to a unit see no download link and are
	// refused the file (it names people anywhere in the country); an
	// administrator with national scope downloads it, and the disclosed PIN
	// is in the audit log under the administrator's name.
	reportPath := "/reconcile/jobs/" + job.ID + "/report"
	for _, who := range []*client{c, leader} {
		if strings.Contains(who.get("/reconcile").body, reportPath) {
			t.Errorf("staff scoped to a unit are offered the report")
		}
		if r := who.get(reportPath); r.status != http.StatusForbidden || strings.Contains(r.body, people[0].PIN) {
			t.Errorf("staff scoped to a unit download the report: %d", r.status)
		}
	}
	admin := st.client(t)
	admin.signIn("quantri")
	mustContain(t, "admin jobs", admin.get("/reconcile"), reportPath, "Tải báo cáo")
	rep := admin.get(reportPath)
	if rep.status != http.StatusOK || !strings.HasPrefix(rep.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("admin report: %d %s", rep.status, rep.body)
	}
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(rep.body, "\uFEFF")), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "row,line,ref,outcome,pin") || !strings.HasPrefix(lines[1], "1,2,KH1,matched,"+people[0].PIN+",") {
		t.Errorf("admin report: %q", lines)
	}
	var staffActor string
	var disclosed int
	db.R.QueryRow(`SELECT count(*), max(actor) FROM audit_log WHERE action = 'reconcile.disclose' AND subject = $1 AND purpose = 'data cleaning'`,
		"person:"+people[0].PIN).Scan(&disclosed, &staffActor)
	if disclosed != 1 || staffActor != "staff:quantri" {
		t.Errorf("the PIN disclosed to the administrator: %d audit entries, actor %q; want 1 by staff:quantri", disclosed, staffActor)
	}
	if r := admin.get("/reconcile/jobs/no-such-job/report"); r.status != http.StatusNotFound {
		t.Errorf("report of no job: %d", r.status)
	}
	queued, err := svc.Upload(ctx, "nganhang-a", "aml-cdd", "partner:nganhang-a", "kh2.csv", strings.NewReader("ma,ho_ten,ngay_sinh\nKH1,Đỗ Song Sinh,15/01/1995\n"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := admin.get("/reconcile/jobs/" + queued.ID + "/report"); r.status != http.StatusConflict || !strings.Contains(r.body, "chưa xong") {
		t.Errorf("report of a queued job: %d", r.status)
	}
}

// reconcileBase opens a database with the tables of the reconciliation
// pages (and extra ones), an audit log, the register and the staff store
// holding the Ba Đình registrar, the Hà Nội leader and an administrator.
func reconcileBase(t *testing.T, d storage.Dialect, extra ...storage.Migrations) (*storage.DB, *adminunit.Catalog, *audit.Log, *registry.Service, *staff.Store) {
	t.Helper()
	ctx := context.Background()
	now := func() time.Time { return today }
	db := storagetest.Open(t, d, append([]storage.Migrations{audit.Migrations(), registry.Migrations(), staff.Migrations(), reconcile.Migrations()}, extra...))
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	alog := audit.NewLog(db, now, slog.New(slog.DiscardHandler))
	t.Cleanup(alog.Close)
	reg := registry.NewService(db, units, alog, now)
	staffStore, err := staff.NewStore(db, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []staff.Account{
		{Username: "lan.nt", DisplayName: "Nguyễn Thị Lan", Role: actor.Registrar, Unit: baDinh, Province: "01"},
		{Username: "hung.lv", DisplayName: "Lê Văn Hùng", Role: actor.Leader, Unit: "01", Province: "01"},
		{Username: "quantri", DisplayName: "Quản Trị", Role: actor.Admin},
	} {
		if err := staffStore.Create(ctx, a, password); err != nil {
			t.Fatal(err)
		}
	}
	return db, units, alog, reg, staffStore
}
