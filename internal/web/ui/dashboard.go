package ui

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/stats"
	"github.com/dancu-project/dancu/internal/web/page"
)

// The leaders' dashboard (/dashboard/{unit}: a unit's figures and its units
// below, drill-down by name, CSV and XLSX exports) and the public one
// (/public/stats: the nation and its provinces, small counts suppressed).
// Figures are tables first; the bar chart is server-side SVG drawn from
// the same rows, so nothing needs JavaScript or the internet.

func (u *UI) mountDashboard(mux *http.ServeMux, s func(string, handler)) {
	s("GET /dashboard", func(w http.ResponseWriter, r *http.Request, ss staff.Session) {
		a := actorOf(ss)
		if err := u.stats.Authorize(a, stats.Home(a)); err != nil {
			u.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/dashboard/"+stats.Home(a), http.StatusSeeOther)
	})
	s("GET /dashboard/{code}", u.dashboard)
	s("GET /dashboard/{code}/export.csv", u.dashboardExport("csv"))
	s("GET /dashboard/{code}/export.xlsx", u.dashboardExport("xlsx"))
	mux.Handle("GET /public/stats", u.headers(http.HandlerFunc(u.publicStats)))
	mux.Handle("GET /public/stats/{code}", u.headers(http.HandlerFunc(u.publicStats)))
}

// dashRow is one unit's figures formatted for the page.
type dashRow struct {
	Name, Href                                       string
	Living, Male, Female, Aged14, Carded14, Coverage string
	Born, Died, MovedIn, MovedOut                    string
	EID1, EID2                                       string
}

type bandRow struct{ Label, Male, Female string }

type bar struct {
	Label, Value string
	Y, Width     int
}

type chartView struct {
	Title  string
	Height int
	Bars   []bar
}

type crumb struct{ Name, Href string }

type dashView struct {
	Public    bool
	Unit      dashRow
	Level     string
	Crumbs    []crumb
	Rows      []dashRow
	Bands     []bandRow
	Chart     chartView
	CSV, XLSX string
	// Exchange is today's calls per data-exchange partner, on the
	// nation's page (national staff only, by stats.Authorize).
	Exchange []exchangeRow
	// Cleaning is each partner dataset's cleaning progress, on the
	// nation's page.
	Cleaning []cleaningRow
	// Trend is the last 12 months' events, oldest first.
	Trend []trendRow
	// Index is the dossiers' figures and the service index, on a
	// leader's page (dashboard_index.go).
	Index *indexView
}

type exchangeRow struct{ Name, Calls string }

// cleaningRow is a partner dataset's cleaning progress (its latest
// reconciliation job): records, those linked to a register person, the share.
type cleaningRow struct{ Name, State, Records, Cleaned, Share string }

// trendRow is one month's events, the month as mm/yyyy.
type trendRow struct{ Month, Born, Died, MovedIn, MovedOut string }

// count formats n in the page's language; on the public page a count from
// 1 to 9 is shown as "< 10".
func count(l string, n int64, public bool) string {
	if public && n > 0 && n < stats.Suppressed {
		return "< " + strconv.Itoa(stats.Suppressed)
	}
	s := strconv.FormatInt(n, 10)
	sep := "."
	if l == page.EN {
		sep = ","
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	return b.String()
}

func percent(l string, f stats.Figures, public bool) string {
	if f.Aged14 == 0 || public && (f.Aged14 < stats.Suppressed || f.Carded14 < stats.Suppressed) {
		return "–"
	}
	s := strconv.FormatFloat(f.Coverage(), 'f', 1, 64)
	if l == page.VI {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + " %"
}

func row(l string, f stats.Figures, href string, public bool) dashRow {
	c := func(n int64) string { return count(l, n, public) }
	return dashRow{Name: f.Name, Href: href, Living: c(f.Living), Male: c(f.Male), Female: c(f.Female), Aged14: c(f.Aged14), Carded14: c(f.Carded14),
		Coverage: percent(l, f, public), Born: c(f.Born), Died: c(f.Died), MovedIn: c(f.MovedIn), MovedOut: c(f.MovedOut),
		EID1: c(f.EID1), EID2: c(f.EID2)}
}

// chart draws one bar per value, the longest 400 px wide.
func chart(title string, labels []string, values []int64, shown []string) chartView {
	var top int64 = 1
	for _, v := range values {
		top = max(top, v)
	}
	c := chartView{Title: title, Height: 24*len(values) + 4}
	for i, v := range values {
		c.Bars = append(c.Bars, bar{Label: labels[i], Value: shown[i], Y: 24 * i, Width: int(400 * v / top)})
	}
	return c
}

// dashView builds the page of unit code; link is the address of a unit's
// page, "" where the reader may not go.
func (u *UI) dashView(r *http.Request, code string, public bool, link func(code string) string) (dashView, error) {
	l := page.Lang(r)
	self, kids, err := u.stats.Unit(r.Context(), code)
	if err != nil {
		return dashView{}, err
	}
	if public && self.Level == stats.LevelProvince {
		kids = nil // the public dashboard stops at provinces
	}
	v := dashView{Public: public, Unit: row(l, self, "", public), Level: self.Level}
	months, err := u.stats.Trend(r.Context(), self.Code)
	if err != nil {
		return dashView{}, err
	}
	for _, m := range months {
		c := func(n int64) string { return count(l, n, public) }
		v.Trend = append(v.Trend, trendRow{Month: m.Month[5:] + "/" + m.Month[:4], Born: c(m.Born), Died: c(m.Died), MovedIn: c(m.MovedIn), MovedOut: c(m.MovedOut)})
	}
	if self.Level != stats.LevelNation {
		nation := crumb{Name: u.tr(l, "dash.nation"), Href: link(stats.Nation)}
		v.Crumbs = append(v.Crumbs, nation)
		if self.Level == stats.LevelCommune {
			if p, err := u.units.Commune(self.Code, u.now()); err == nil {
				if pr, err := u.units.Province(p.ProvinceCode, u.now()); err == nil {
					v.Crumbs = append(v.Crumbs, crumb{Name: pr.Name, Href: link(pr.Code)})
				}
			}
		}
	}
	if self.Level == stats.LevelNation {
		v.Unit.Name = u.tr(l, "dash.nation")
	}
	var labels, shown []string
	var values []int64
	for _, k := range kids {
		v.Rows = append(v.Rows, row(l, k, link(k.Code), public))
		labels, values, shown = append(labels, k.Name), append(values, k.Living), append(shown, count(l, k.Living, public))
	}
	for _, b := range self.Bands {
		v.Bands = append(v.Bands, bandRow{Label: b.Label, Male: count(l, b.Male, public), Female: count(l, b.Female, public)})
	}
	if len(kids) > 0 {
		v.Chart = chart(u.tr(l, "dash.chart.units"), labels, values, shown)
	} else {
		labels, values, shown = nil, nil, nil
		for _, b := range self.Bands {
			labels, values, shown = append(labels, b.Label), append(values, b.Male+b.Female), append(shown, count(l, b.Male+b.Female, public))
		}
		v.Chart = chart(u.tr(l, "dash.chart.ages"), labels, values, shown)
	}
	if public {
		for i := range v.Chart.Bars { // a suppressed count draws no bar
			if strings.HasPrefix(v.Chart.Bars[i].Value, "<") {
				v.Chart.Bars[i].Width = 0
			}
		}
	}
	return v, nil
}

// dashboard is a leader's page of one unit.
func (u *UI) dashboard(w http.ResponseWriter, r *http.Request, s staff.Session) {
	a := actorOf(s)
	code := r.PathValue("code")
	if err := u.stats.Authorize(a, code); err != nil {
		u.fail(w, r, err)
		return
	}
	link := func(c string) string {
		if u.stats.Authorize(a, c) != nil {
			return ""
		}
		return "/dashboard/" + c
	}
	dv, err := u.dashView(r, code, false, link)
	if err != nil {
		u.fail(w, r, unitErr(err))
		return
	}
	dv.CSV, dv.XLSX = "/dashboard/"+code+"/export.csv", "/dashboard/"+code+"/export.xlsx"
	iv, err := u.indexView(r, code, link)
	if err != nil {
		u.fail(w, r, unitErr(err))
		return
	}
	dv.Index = &iv
	if dv.Level == stats.LevelNation {
		if dv.Exchange, err = u.exchangeVolume(r); err != nil {
			u.fail(w, r, err)
			return
		}
		if dv.Cleaning, err = u.cleaningProgress(r); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	v := u.page(r, &s, "dash.title", "")
	v.Title = u.tr(v.Lang, "dash.title") + ": " + dv.Unit.Name
	v.Nav = "dashboard"
	v.Page = dv
	u.render(w, r, http.StatusOK, "dashboard", v)
}

// exchangeVolume is today's calls of each partner (exchange.Limits' daily
// counters), when the platform has partners.
func (u *UI) exchangeVolume(r *http.Request) ([]exchangeRow, error) {
	if u.admin.Partners == nil || u.admin.Usage == nil {
		return nil, nil
	}
	ps, err := u.admin.Partners.Partners(r.Context())
	if err != nil {
		return nil, err
	}
	day := u.now().In(vietnam).Format(time.DateOnly)
	out := make([]exchangeRow, 0, len(ps))
	for _, p := range ps {
		n, err := u.admin.Usage.Usage(r.Context(), p.ID, day)
		if err != nil {
			return nil, err
		}
		out = append(out, exchangeRow{Name: p.Name, Calls: count(page.Lang(r), n, false)})
	}
	return out, nil
}

// cleaningProgress is each partner's latest reconciliation job, by the
// partner's name: the data-cleaning progress of its dataset.
func (u *UI) cleaningProgress(r *http.Request) ([]cleaningRow, error) {
	if u.recon == nil {
		return nil, nil
	}
	figs, err := u.recon.Partners(r.Context())
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	if u.admin.Partners != nil {
		ps, err := u.admin.Partners.Partners(r.Context())
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			names[p.ID] = p.Name
		}
	}
	l := page.Lang(r)
	out := make([]cleaningRow, 0, len(figs))
	for _, f := range figs {
		name := names[f.PartnerID]
		if name == "" {
			name = f.PartnerID
		}
		p := f.Job.Progress
		out = append(out, cleaningRow{Name: name, State: u.tr(l, "recon.state."+p.State), Records: count(l, p.Records(), false),
			Cleaned: count(l, p.Cleaned(), false), Share: share(l, p.Cleaned(), p.Records())})
	}
	return out, nil
}

func unitErr(err error) error {
	if errors.Is(err, stats.ErrUnknownUnit) {
		return fault.ErrNotFound
	}
	return err
}

// publicStats is the public dashboard: the nation and its provinces, no
// sign-in, counts below stats.Suppressed hidden.
func (u *UI) publicStats(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if code == "" {
		code = stats.Nation
	}
	if code != stats.Nation {
		if _, err := u.units.Province(code, u.now()); err != nil {
			u.fail(w, r, fault.ErrNotFound) // communes are not public
			return
		}
	}
	dv, err := u.dashView(r, code, true, func(c string) string { return "/public/stats/" + c })
	if err != nil {
		u.fail(w, r, unitErr(err))
		return
	}
	v := u.page(r, nil, "dash.public.title", "")
	v.Title = u.tr(v.Lang, "dash.public.title") + ": " + dv.Unit.Name
	v.Page = dv
	u.render(w, r, http.StatusOK, "dashboard", v)
}

// dashboardExport writes the unit's and its units' figures as CSV or XLSX:
// plain numbers, the header in the page's language.
func (u *UI) dashboardExport(format string) handler {
	return func(w http.ResponseWriter, r *http.Request, s staff.Session) {
		code := r.PathValue("code")
		if err := u.stats.Authorize(actorOf(s), code); err != nil {
			u.fail(w, r, err)
			return
		}
		self, kids, err := u.stats.Unit(r.Context(), code)
		if err != nil {
			u.fail(w, r, unitErr(err))
			return
		}
		l := page.Lang(r)
		if self.Level == stats.LevelNation {
			self.Name = u.tr(l, "dash.nation")
		}
		dself, dkids, err := u.stats.DossierFigures(r.Context(), code)
		if err != nil {
			u.fail(w, r, unitErr(err))
			return
		}
		byCode := map[string]stats.UnitDossiers{dself.Code: dself}
		for _, k := range dkids {
			byCode[k.Code] = k
		}
		head := []string{"dash.col.unit", "dash.col.code", "dash.col.living", "dash.col.male", "dash.col.female", "dash.col.aged14", "dash.col.carded14",
			"dash.col.born", "dash.col.died", "dash.col.in", "dash.col.out", "dash.col.eid1", "dash.col.eid2",
			"dash.col.index", "dash.col.rank", "dash.cnt.online", "dash.cnt.desk", "dash.cnt.ontime", "dash.cnt.late", "dash.cnt.overdue", "dash.cnt.soon"}
		for i, id := range head {
			head[i] = u.tr(l, id)
		}
		table := [][]any{}
		for _, f := range append([]stats.Figures{self}, kids...) {
			d := byCode[f.Code]
			var score any = ""
			if d.Index.Measured {
				score = float64(int64(d.Index.Score*10+0.5)) / 10
			}
			var rank any = ""
			if d.Rank > 0 {
				rank = d.Rank
			}
			x := d.Dossiers
			table = append(table, []any{f.Name, f.Code, f.Living, f.Male, f.Female, f.Aged14, f.Carded14, f.Born, f.Died, f.MovedIn, f.MovedOut, f.EID1, f.EID2,
				score, rank, x.Online, x.Desk, x.OnTime, x.Late, x.Overdue, x.DueSoon})
		}
		name := "dancu-" + self.Code
		var body bytes.Buffer
		switch format {
		case "csv":
			cw := csv.NewWriter(&body)
			cw.Write(head)
			for _, t := range table {
				rec := make([]string, len(t))
				for i, c := range t {
					rec[i] = fmt.Sprint(c)
				}
				cw.Write(rec)
			}
			cw.Flush()
			if err := cw.Error(); err != nil {
				u.fail(w, r, fmt.Errorf("dashboard csv: %w", err))
				return
			}
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		default:
			if err := writeXLSX(&body, u.tr(l, "dash.sheet"), head, table); err != nil {
				u.fail(w, r, err)
				return
			}
			w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		}
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+"."+format+`"`)
		w.Write(body.Bytes())
	}
}

func writeXLSX(out *bytes.Buffer, sheet string, head []string, table [][]any) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("dashboard xlsx: %w", err)
	}
	put := func(rowNo int, cells []any) error {
		ref, err := excelize.CoordinatesToCellName(1, rowNo)
		if err != nil {
			return err
		}
		return f.SetSheetRow(sheet, ref, &cells)
	}
	h := make([]any, len(head))
	for i, s := range head {
		h[i] = s
	}
	if err := put(1, h); err != nil {
		return fmt.Errorf("dashboard xlsx: %w", err)
	}
	for i, t := range table {
		if err := put(i+2, t); err != nil {
			return fmt.Errorf("dashboard xlsx: %w", err)
		}
	}
	if err := f.Write(out); err != nil {
		return fmt.Errorf("dashboard xlsx: %w", err)
	}
	return nil
}
