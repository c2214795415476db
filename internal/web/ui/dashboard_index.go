package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/stats"
	"github.com/dancu-project/dancu/internal/web/page"
)

// The dossier figures and the Decision 766 service index on a leader's
// dashboard: the unit's index by group with its bar chart and table, the
// ranking of the units below, the unit among its peers, the what-if of its
// overdue dossiers and the early warning. Read from stats, which keeps
// them from the dossier events.

// indexView is the service-index part of a leader's page.
type indexView struct {
	Score, Points, Possible string
	Measured                bool
	Groups                  []groupRow
	Chart                   chartView
	Counts                  []countRow
	Ranking                 []rankRow
	RankChart               chartView
	Peers                   []rankRow
	WhatIf                  []openRow
	WhatIfAll               string
	Warning                 []openRow
}

type groupRow struct {
	Name, Points, Weight, Possible string
	Indicators                     []indicatorRow
}

type indicatorRow struct{ Name, Value, Points, Weight string }

type countRow struct{ Name, Value string }

type rankRow struct {
	Rank, Name, Href, Score, Filed, OnTime, Overdue string
	Self                                            bool
}

type openRow struct{ Code, Procedure, Unit, Due, Days, Gain string }

// scaledChart is chart with the full width standing for top rather than
// the largest value, so scores of different pages compare.
func scaledChart(title string, labels []string, values []int64, shown []string, top int64) chartView {
	c := chart(title, append(labels, ""), append(values, top), append(shown, ""))
	c.Bars, c.Height = c.Bars[:len(values)], 24*len(values)+4
	return c
}

// decimal formats f with one decimal in the page's language.
func decimal(l string, f float64) string {
	s := strconv.FormatFloat(f, 'f', 1, 64)
	if l == page.VI {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// share is num / den in per cent, "–" when den is 0.
func share(l string, num, den int64) string {
	if den <= 0 {
		return "–"
	}
	return decimal(l, 100*float64(num)/float64(den)) + " %"
}

func (u *UI) scoreText(l string, x stats.Index) string {
	if !x.Measured {
		return u.tr(l, "dash.idx.unmeasured")
	}
	return decimal(l, x.Score)
}

// indexView builds the index part of unit code's page; link is as
// dashView's.
func (u *UI) indexView(r *http.Request, code string, link func(string) string) (indexView, error) {
	ctx := r.Context()
	l := page.Lang(r)
	self, kids, err := u.stats.DossierFigures(ctx, code)
	if err != nil {
		return indexView{}, err
	}
	x := self.Index
	v := indexView{Score: u.scoreText(l, x), Points: decimal(l, x.Points), Possible: decimal(l, x.Possible), Measured: x.Measured}
	var labels, shown []string
	var values []int64
	for _, g := range x.Groups {
		row := groupRow{Name: u.tr(l, "dash.idx."+g.ID), Points: decimal(l, g.Points), Weight: decimal(l, g.Weight), Possible: decimal(l, g.Possible)}
		for _, i := range g.Indicators {
			ir := indicatorRow{Name: u.tr(l, "dash.ind."+i.ID), Weight: decimal(l, i.Weight), Value: "–", Points: u.tr(l, "dash.idx.unmeasured")}
			if i.Measured {
				ir.Value, ir.Points = share(l, i.Num, i.Den), decimal(l, i.Points)
				if i.ID == "satisfaction.rating" && self.Dossiers.Rated > 0 {
					ir.Value = decimal(l, float64(self.Dossiers.Stars)/float64(self.Dossiers.Rated)) + " / 5"
				}
			}
			row.Indicators = append(row.Indicators, ir)
		}
		v.Groups = append(v.Groups, row)
		// The chart shows each group's points in tenths, of its weight.
		label := row.Points + " / " + row.Weight
		if g.Possible == 0 {
			label = u.tr(l, "dash.idx.unmeasured")
		}
		labels, values, shown = append(labels, row.Name), append(values, int64(10*g.Points)), append(shown, label)
	}
	v.Chart = scaledChart(u.tr(l, "dash.idx.chart"), labels, values, shown, 10*22) // the largest group's 22 points
	d := self.Dossiers
	for _, c := range []struct {
		id   string
		text string
	}{
		{"dash.cnt.online", count(l, d.Online, false)},
		{"dash.cnt.desk", count(l, d.Desk, false)},
		{"dash.cnt.full", share(l, d.FullOnline, d.Returned)},
		{"dash.cnt.digitized", share(l, d.Digitized, d.Received)},
		{"dash.cnt.reuse", share(l, d.Reused, d.Documents)},
		{"dash.cnt.ontime", count(l, d.OnTime, false)},
		{"dash.cnt.late", count(l, d.Late, false)},
		{"dash.cnt.overdue", count(l, d.Overdue, false)},
		{"dash.cnt.soon", count(l, d.DueSoon, false)},
		{"dash.cnt.paid", share(l, d.PaidOnline, d.FeeDue)},
		{"dash.cnt.rated", count(l, d.Rated, false)},
	} {
		v.Counts = append(v.Counts, countRow{Name: u.tr(l, c.id), Value: c.text})
	}
	labels, values, shown = nil, nil, nil
	for _, k := range kids {
		v.Ranking = append(v.Ranking, u.rankRow(l, k, link, false))
		if k.Index.Measured {
			labels, values, shown = append(labels, k.Name), append(values, int64(10*k.Index.Score)), append(shown, decimal(l, k.Index.Score))
		}
	}
	if len(values) > 0 {
		v.RankChart = scaledChart(u.tr(l, "dash.idx.rankchart"), labels, values, shown, 1000) // 100 points, in tenths
	}
	peers, err := u.stats.Peers(ctx, code)
	if err != nil {
		return indexView{}, err
	}
	for _, p := range peers {
		v.Peers = append(v.Peers, u.rankRow(l, p, link, p.Code == self.Code))
	}
	late, all, err := u.stats.WhatIf(ctx, code)
	if err != nil {
		return indexView{}, err
	}
	for _, o := range late {
		row := u.openRow(r, o)
		row.Days, row.Gain = strconv.Itoa(-o.Left), "+"+decimal(l, o.Gain)
		v.WhatIf = append(v.WhatIf, row)
	}
	if len(late) > 0 {
		v.WhatIfAll = "+" + decimal(l, all)
	}
	soon, err := u.stats.EarlyWarning(ctx, code)
	if err != nil {
		return indexView{}, err
	}
	for _, o := range soon {
		row := u.openRow(r, o)
		row.Days = strconv.Itoa(o.Left)
		v.Warning = append(v.Warning, row)
	}
	return v, nil
}

func (u *UI) rankRow(l string, k stats.UnitDossiers, link func(string) string, self bool) rankRow {
	rr := rankRow{Name: k.Name, Score: u.scoreText(l, k.Index), Filed: count(l, k.Dossiers.Filed, false),
		OnTime: share(l, k.Dossiers.OnTime, k.Dossiers.Finished+k.Dossiers.Overdue), Overdue: count(l, k.Dossiers.Overdue, false), Self: self}
	if k.Rank > 0 {
		rr.Rank = strconv.Itoa(k.Rank)
	}
	if h := link(k.Code); h != "" && !self {
		rr.Href = h + "#dash-index-h"
	}
	return rr
}

// openRow shows an open dossier: its code (what the desk finds it by), the
// procedure's and the unit's names, the due date as dd/mm/yyyy.
func (u *UI) openRow(r *http.Request, o stats.OpenDossier) openRow {
	l := page.Lang(r)
	row := openRow{Code: o.Code, Procedure: u.stats.ProcedureName(r.Context(), o.Procedure, l), Unit: u.unitName(l, o.Province)}
	if o.Commune != "" {
		row.Unit = u.unitName(l, o.Commune)
	}
	if d, err := civildate.Parse(o.Due); err == nil {
		row.Due = d.Display()
	}
	return row
}
