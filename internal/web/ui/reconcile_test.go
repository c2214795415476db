package ui_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/match"
	"github.com/dancu-project/dancu/internal/reconcile"
	"github.com/dancu-project/dancu/internal/reconcile/ingest"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
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
	db := storagetest.Open(t, storage.SQLite, []storage.Migrations{audit.Migrations(), registry.Migrations(), staff.Migrations(), reconcile.Migrations()})
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
	} {
		if err := staffStore.Create(ctx, a, password); err != nil {
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
	svc, err := reconcile.New(reconcile.Deps{DB: db, Audit: alog, Places: reconcile.IndexPlaces{Index: ix}, Registry: reg, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	job, err := svc.Upload(ctx, "nganhang-a", "partner:nganhang-a", "kh.csv", strings.NewReader("ma,ho_ten,ngay_sinh\nKH1,Đỗ Song Sinh,15/01/1995\n"), ingest.Options{})
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
}
