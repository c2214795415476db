package ui_test

import (
	"bytes"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/reconcile/ingest"
	"github.com/dancu-project/dancu/internal/stats"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

var dashLinkRE = regexp.MustCompile(`<a href="(/dashboard/\d{5})">([^<]+)</a>`)

// TestLeaderDashboard: Hà Nội's leader opens the dashboard at the
// province, drills down to a commune by its name, downloads the XLSX (read
// back with excelize: the province's population) and the CSV, in
// Vietnamese and English; another province, the nation and a commune
// elsewhere are refused before anything is looked up; a registrar-only
// desk role and a stranger are refused; the public page shows the nation
// and provinces without sign-in, with counts below 10 suppressed, and no
// commune.
func TestLeaderDashboard(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 400)
			hn, communes, err := env.App.Stats.Unit(t.Context(), "01")
			if err != nil {
				t.Fatal(err)
			}
			c := signInStaff(t, env, "lanhdao.hanoi")
			p := c.do(http.MethodGet, "/dashboard", nil)
			if p.status != http.StatusSeeOther || p.location != "/dashboard/01" {
				t.Fatalf("/dashboard: %d → %q", p.status, p.location)
			}
			p = c.do(http.MethodGet, "/dashboard/01", nil)
			if p.status != http.StatusOK || !strings.Contains(p.body, "Thành phố Hà Nội") || !strings.Contains(p.body, `<svg role="img"`) || !strings.Contains(p.body, `id="dash-units"`) {
				t.Fatalf("province page %d:\n%s", p.status, p.body)
			}
			if !strings.Contains(p.body, `id="dash-trend"`) || !strings.Contains(p.body, `<th scope="row">`+time.Now().In(time.FixedZone("ICT", 7*3600)).Format("01/2006")+`</th>`) {
				t.Errorf("no 12 months' trend ending this month")
			}
			if !strings.Contains(p.body, `id="dash-living">`+vnCount(hn.Living)+`<`) {
				t.Errorf("the page does not show Hà Nội's %d people", hn.Living)
			}
			// Drill down by name: every link names a commune, never a code.
			links := dashLinkRE.FindAllStringSubmatch(p.body, -1)
			if len(links) != len(communes) {
				t.Fatalf("%d commune links, %d communes", len(links), len(communes))
			}
			var target stats.Figures
			for _, k := range communes {
				if k.Living > target.Living {
					target = k
				}
			}
			var href string
			for _, l := range links {
				if regexp.MustCompile(`^\d+$`).MatchString(l[2]) {
					t.Errorf("a commune shown by its code: %s", l[2])
				}
				if l[2] == target.Name {
					href = l[1]
				}
			}
			p = c.do(http.MethodGet, href, nil)
			if p.status != http.StatusOK || !strings.Contains(p.body, `<h1 id="dash-unit">`+target.Name+`</h1>`) || !strings.Contains(p.body, `<a href="/dashboard/01">Thành phố Hà Nội</a>`) {
				t.Fatalf("commune page %s: %d\n%s", href, p.status, p.body)
			}
			// XLSX read back.
			x := c.do(http.MethodGet, "/dashboard/01/export.xlsx", nil)
			if x.status != http.StatusOK {
				t.Fatalf("xlsx: %d", x.status)
			}
			f, err := excelize.OpenReader(bytes.NewReader([]byte(x.body)))
			if err != nil {
				t.Fatal(err)
			}
			rows, err := f.GetRows(f.GetSheetName(0))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2+len(communes) || rows[0][0] != "Đơn vị" || rows[1][0] != "Thành phố Hà Nội" || rows[1][2] != strconv.FormatInt(hn.Living, 10) {
				t.Errorf("xlsx rows: %d, first %v %v", len(rows), rows[0], rows[1])
			}
			csv := c.do(http.MethodGet, "/dashboard/01/export.csv", nil)
			if csv.status != http.StatusOK || !strings.Contains(csv.body, "Thành phố Hà Nội,01,"+strconv.FormatInt(hn.Living, 10)+",") {
				t.Errorf("csv %d:\n%s", csv.status, csv.body)
			}
			// English, the export too.
			if p := c.do(http.MethodGet, "/dashboard/01?lang=en", nil); !strings.Contains(p.body, "Card coverage") || !strings.Contains(p.body, "Download Excel") {
				t.Errorf("the English page:\n%s", p.body)
			}
			if csv := c.do(http.MethodGet, "/dashboard/01/export.csv", nil); !strings.HasPrefix(csv.body, "Unit,Unit code,Population,") {
				t.Errorf("English csv:\n%s", csv.body)
			}
			// Out of scope, refused alike whether the unit exists or not.
			for _, path := range []string{"/dashboard/79", "/dashboard/VN", "/dashboard/99", "/dashboard/79/export.xlsx", "/dashboard/26734"} {
				if p := c.do(http.MethodGet, path, nil); p.status != http.StatusForbidden {
					t.Errorf("%s: %d, want 403", path, p.status)
				}
			}
			// A role without dashboards.
			if p := signInStaff(t, env, "dangky.badinh").do(http.MethodGet, "/dashboard/01", nil); p.status != http.StatusForbidden {
				t.Errorf("a commune registrar on the province's dashboard: %d", p.status)
			}
			// The nation's page, for national staff, with today's exchange
			// volume per partner by name; not on a province's page.
			if _, err := env.App.Partners.AddPartner(t.Context(), exchange.Partner{ID: "ngan-hang-thu", Name: "Ngân hàng Thử nghiệm", Kind: exchange.KindBank}); err != nil {
				t.Fatal(err)
			}
			partners, err := env.App.Partners.Partners(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			p = signInStaff(t, env, "admin").do(http.MethodGet, "/dashboard/VN", nil)
			if p.status != http.StatusOK || len(partners) == 0 || strings.Count(p.body, `<tr><th scope="row">`) < 34+len(partners) || !strings.Contains(p.body, `id="dash-exchange"`) ||
				!strings.Contains(p.body, partners[0].Name) {
				t.Errorf("nation page %d, %d partners:\n%s", p.status, len(partners), p.body)
			}
			if p := c.do(http.MethodGet, "/dashboard/01", nil); strings.Contains(p.body, `id="dash-exchange"`) {
				t.Errorf("exchange volume on a province's page")
			}
			// The public page.
			pub := &staffClient{t: t, base: env.Server.URL, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
			p = pub.do(http.MethodGet, "/public/stats", nil)
			if p.status != http.StatusOK || !strings.Contains(p.body, "Toàn quốc") || !strings.Contains(p.body, `<a href="/public/stats/01">Thành phố Hà Nội</a>`) {
				t.Fatalf("public page %d:\n%s", p.status, p.body)
			}
			nation, provinces, _ := env.App.Stats.Unit(t.Context(), stats.Nation)
			small := 0
			for _, pr := range provinces {
				if pr.Living > 0 && pr.Living < 10 {
					small++
				}
			}
			if small == 0 || !strings.Contains(p.body, "&lt; 10") {
				t.Errorf("no province with 1–9 people (%d) or none suppressed", small)
			}
			if strings.Contains(p.body, "export.xlsx") || !strings.Contains(p.body, vnCount(nation.Living)) {
				t.Errorf("public page: exports offered or the nation's count missing")
			}
			p = pub.do(http.MethodGet, "/public/stats/01", nil)
			if p.status != http.StatusOK || strings.Contains(p.body, `id="dash-units"`) {
				t.Errorf("the public province page lists communes (%d)", p.status)
			}
			if p := pub.do(http.MethodGet, "/public/stats/"+target.Code, nil); p.status != http.StatusNotFound {
				t.Errorf("a commune on the public page: %d", p.status)
			}
			if p := pub.do(http.MethodGet, "/dashboard/01", nil); p.status != http.StatusSeeOther {
				t.Errorf("the leader's dashboard without sign-in: %d", p.status)
			}
		})
	}
}

// vnCount is n with Vietnamese thousands separators.
func vnCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// TestDashboardCleaning: a bank uploads a file to clean; the nation's
// dashboard names the bank and shows its records and how many are linked
// to the register.
func TestDashboardCleaning(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 50)
			ctx := t.Context()
			var bank exchange.Partner
			for _, p := range exchange.Samples() {
				if _, err := env.App.Partners.AddPartner(ctx, p); err != nil {
					t.Fatal(err)
				}
				if p.ID == "nganhang-a" {
					bank = p
				}
			}
			if _, err := env.App.Reconcile.Upload(ctx, bank.ID, "aml-cdd", "partner:"+bank.ID, "kh.csv",
				strings.NewReader("ma,ho_ten,ngay_sinh\nKH1,Đỗ Song Sinh,15/01/1995\nKH2,Trần Văn Không Có,01/01/1960\n"), ingest.Options{}); err != nil {
				t.Fatal(err)
			}
			c := signInStaff(t, env, "admin")
			deadline := time.Now().Add(15 * time.Second)
			for {
				p := c.do(http.MethodGet, "/dashboard/VN", nil)
				if p.status != http.StatusOK {
					t.Fatalf("nation page %d", p.status)
				}
				i := strings.Index(p.body, `id="dash-cleaning"`)
				if i >= 0 && strings.Contains(p.body[i:], "<th scope=\"row\">"+bank.Name+"</th><td>Hoàn thành</td><td class=\"num\">2</td>") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the nation's page does not show %s's finished job of 2 records", bank.Name)
				}
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
}
