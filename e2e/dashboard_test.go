package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/workday"
)

// dossierServicesAt is the services module of env's platform with its
// clock at at: a dossier filed through it was received then.
func dossierServicesAt(t *testing.T, env *apptest.Env, at time.Time) *services.Service {
	t.Helper()
	cal, err := workday.Default()
	if err != nil {
		t.Fatal(err)
	}
	s, err := services.New(services.Deps{DB: env.App.DB, Catalogue: env.App.Services.Catalogue(), Register: env.App.Registry, Documents: env.App.Documents,
		Results: env.App.Results, Calendar: cal, Units: env.App.Units, Audit: env.App.Audit, Secret: []byte("e2e dashboard check codes 0123456789"),
		Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fileConfirmation files CC.XN.01 (confirm the old ID number: 3 working
// days, no fee) for filer through s, as the portal does.
func fileConfirmation(t *testing.T, s *services.Service, filer, key string) services.Receipt {
	t.Helper()
	rc, err := s.Submit(context.Background(), services.Filer{PIN: filer, Level: 2}, services.SubmitRequest{Procedure: "CC.XN.01",
		Form: map[string]string{"old_id": "012345678"}, IdempotencyKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// TestDashboardInBrowser: Hà Nội's leader (lanhdao.hanoi) signs in, is
// taken to the province's dashboard with its service index, drills down to
// a commune by its name, downloads the commune's XLSX (read back with
// excelize: the commune's name and index score); a dossier of that
// commune filed 20 days ago shows in the what-if as overdue, and once it is
// decided — late — the commune's score on the page drops. SQLite and
// PostgreSQL.
func TestDashboardInBrowser(t *testing.T) {
	bin := needChromium(t)
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 300)
			ctx := context.Background()
			base := env.Server.URL
			var filer, commune string
			if err := env.App.DB.R.QueryRow(`SELECT pin, perm_commune FROM persons WHERE status = 'alive' AND perm_province = '01'
				AND birth_date < '2000' AND length(birth_date) = 10 ORDER BY pin LIMIT 1`).Scan(&filer, &commune); err != nil {
				t.Fatal(err)
			}
			unit, err := env.App.Units.Commune(commune, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			officer := actor.Actor{ID: "staff:e2e.desk", Role: actor.Desk, Unit: commune, Province: "01"}

			// A dossier decided on time and returned online.
			ok := fileConfirmation(t, env.App.Services, filer, "e2e-dash-on-time")
			for _, act := range []string{services.ActApprove, services.ActReturn} {
				if _, err := env.App.Services.Act(ctx, officer, ok.Code, act, ""); err != nil {
					t.Fatal(err)
				}
			}
			waitIndex(t, env, commune, func(filed, late, overdue int64) bool { return filed == 1 })

			b := newBrowser(t, bin)
			b.openStaffLogin(base)
			b.signInStaff("lanhdao.hanoi", "nav-dashboard")
			b.step("open the dashboard: the leader's province",
				chromedp.Navigate(base+"/dashboard"),
				chromedp.WaitVisible(chromedp.ID("dash-score")),
			)
			if got := b.text("dash-unit"); got != "Thành phố Hà Nội" {
				t.Fatalf("the dashboard opens at %q", got)
			}
			if ranking := b.text("dash-ranking"); !strings.Contains(ranking, unit.Name) {
				t.Errorf("the ranking does not name %s", unit.Name)
			}
			viewShot(b, "dashboard-province.png", chromedp.ID("dash-index-h"))

			b.step("drill down to the commune by its name",
				chromedp.Click(chromedp.CSS(`#dash-units a[href="/dashboard/`+commune+`"]`)),
				chromedp.WaitVisible(chromedp.ID("dash-score")),
			)
			if got := b.text("dash-unit"); got != unit.Name {
				t.Fatalf("drilled down to %q, want %q", got, unit.Name)
			}
			before := b.text("dash-score")
			if before != "100,0" {
				t.Errorf("one dossier on time, online, returned: score %q", before)
			}
			if peers := b.text("dash-peers"); !strings.Contains(peers, unit.Name) {
				t.Errorf("the commune is not among its peers")
			}

			// The XLSX export, read back with excelize.
			attr, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.ID("dash-xlsx"), "href"))
			if err != nil || !attr.Exists {
				t.Fatalf("no XLSX link: %v", err)
			}
			// The browser downloads it with the leader's session.
			b64, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`fetch(`+jsString(attr.Value)+`).then(r => r.arrayBuffer()).then(a => {
				let s = ""; const u = new Uint8Array(a); for (let i = 0; i < u.length; i++) s += String.fromCharCode(u[i]); return btoa(s); })`,
				chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("download the XLSX: %v", err)
			}
			raw, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				t.Fatal(err)
			}
			f, err := excelize.OpenReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("the XLSX does not open: %v", err)
			}
			rows, err := f.GetRows(f.GetSheetName(0))
			f.Close()
			if err != nil || len(rows) != 2 {
				t.Fatalf("XLSX rows %v (%v)", rows, err)
			}
			col := -1
			for i, h := range rows[0] {
				if h == "Điểm chỉ số" {
					col = i
				}
			}
			if rows[1][0] != unit.Name || col < 0 || rows[1][col] != "100" {
				t.Errorf("XLSX: header %q, row %q", rows[0], rows[1])
			}

			// A dossier filed 20 days ago is overdue: the what-if names it.
			late := fileConfirmation(t, dossierServicesAt(t, env, time.Now().AddDate(0, 0, -20)), filer, "e2e-dash-late-1")
			waitIndex(t, env, commune, func(filed, _, overdue int64) bool { return filed == 2 && overdue == 1 })
			// A second browser for the second half: each is bounded to a
			// minute, and the machine may be loaded.
			b = newBrowser(t, bin)
			b.openStaffLogin(base)
			b.signInStaff("lanhdao.hanoi", "nav-dashboard")
			b.step("open the commune's page: the what-if",
				chromedp.Navigate(base+"/dashboard/"+commune),
				chromedp.WaitVisible(chromedp.ID("dash-whatif")),
			)
			if w := b.text("dash-whatif"); !strings.Contains(w, late.Code) || !strings.Contains(w, "Xác nhận số Chứng minh nhân dân") {
				t.Errorf("the what-if does not list %s by its procedure: %q", late.Code, w)
			}
			overdueScore := b.text("dash-score")
			if overdueScore == before {
				t.Errorf("an overdue dossier left the score at %s", before)
			}
			viewShot(b, "dashboard-whatif.png", chromedp.ID("dash-whatif-h"))

			// Decided now, late: the score on the page changes.
			if _, err := env.App.Services.Act(ctx, officer, late.Code, services.ActApprove, ""); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			var after string
			for {
				b.step("reload the commune's page", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("dash-score")))
				after = b.text("dash-score")
				if after != overdueScore {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the score stayed %s after the late decision", after)
				}
				time.Sleep(200 * time.Millisecond)
			}
			if after == before {
				t.Errorf("a dossier finished late left the score at %s", after)
			}
			t.Logf("score: %s with one dossier on time, %s with one overdue, %s once it was decided late", before, overdueScore, after)
			viewShot(b, "dashboard-late.png", chromedp.ID("dash-index-h"))
		})
	}
}

// waitIndex waits until the commune's dossier counts satisfy ok (the
// consumer has applied the events), at most 10 s.
func waitIndex(t *testing.T, env *apptest.Env, commune string, ok func(filed, late, overdue int64) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		u, _, err := env.App.Stats.DossierFigures(context.Background(), commune)
		if err != nil {
			t.Fatal(err)
		}
		if ok(u.Dossiers.Filed, u.Dossiers.Late, u.Dossiers.Overdue) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("dossier counts not reached: %+v", u.Dossiers)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// viewShot saves what the window shows with the element sel at its top
// as screenshots/name (a full page of 126 communes' rows would be large).
func viewShot(b *browser, name string, sel chromedp.ID) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { document.getElementById(`+jsString(string(sel))+`).scrollIntoView({block: "start"}); return true })()`)); err != nil {
		b.t.Fatalf("scroll to %s: %v", sel, err)
	}
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join("screenshots", name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// jsString quotes s for a script.
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
