package stats

import (
	"context"
	"fmt"
	"slices"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/workday"
)

// The service index of Decision 766/QĐ-TTg (23/06/2022): five groups,
// 100 points, each scored from sub-indicators the platform holds data for.
// docs/service-index.md gives each formula and its source; the weights of
// the sub-indicators within a group are the platform's (the decision's
// detailed method is not reproduced here).

// Group identifiers and their points.
const (
	GroupOpenness     = "openness"     // công khai, minh bạch: 18
	GroupProgress     = "progress"     // tiến độ, kết quả giải quyết: 20
	GroupDigitization = "digitization" // số hóa hồ sơ, kết quả: 22
	GroupOnline       = "online"       // cung cấp dịch vụ trực tuyến: 22
	GroupSatisfaction = "satisfaction" // mức độ hài lòng: 18
)

// Indicator is one sub-indicator of the index: Num / Den of the unit's
// dossiers, worth Weight points at 100 %. It is not measured (and counts
// toward neither the points nor the possible points) when Den is 0.
type Indicator struct {
	ID       string  `json:"id"`
	Weight   float64 `json:"weight"`
	Num      int64   `json:"numerator"`
	Den      int64   `json:"denominator"`
	Measured bool    `json:"measured"`
	Points   float64 `json:"points"`
}

// Group is one of the five groups.
type Group struct {
	ID         string      `json:"id"`
	Weight     float64     `json:"weight"`
	Points     float64     `json:"points"`
	Possible   float64     `json:"possible"` // the weight of its measured sub-indicators
	Indicators []Indicator `json:"indicators"`
}

// Index is a unit's service index: Points of Possible (the weights of the
// sub-indicators measured), and Score = 100 × Points / Possible, the figure
// units are ranked by. Measured is false for a unit without dossiers.
type Index struct {
	Score    float64 `json:"score"`
	Points   float64 `json:"points"`
	Possible float64 `json:"possible"`
	Measured bool    `json:"measured"`
	Groups   []Group `json:"groups"`
}

// Index computes the unit's service index from its counts.
func (d Dossiers) Index() Index {
	ind := func(id string, w float64, num, den int64) Indicator {
		i := Indicator{ID: id, Weight: w, Num: num, Den: den, Measured: den > 0}
		if i.Measured {
			i.Points = w * float64(min(max(num, 0), den)) / float64(den)
		}
		return i
	}
	groups := []Group{
		{ID: GroupOpenness, Weight: 18, Indicators: []Indicator{
			ind("openness.published", 18, d.Filed, d.Filed),
		}},
		{ID: GroupProgress, Weight: 20, Indicators: []Indicator{
			ind("progress.on_time", 20, d.OnTime, d.Finished+d.Overdue),
		}},
		{ID: GroupDigitization, Weight: 22, Indicators: []Indicator{
			ind("digitization.dossiers", 8, d.Digitized, d.Received),
			ind("digitization.results", 7, d.Returned, d.Approved),
			ind("digitization.reuse", 7, d.Reused, d.Documents),
		}},
		{ID: GroupOnline, Weight: 22, Indicators: []Indicator{
			ind("online.dossiers", 10, d.Online, d.Filed),
			ind("online.full", 6, d.FullOnline, d.Returned),
			ind("online.payment", 6, d.PaidOnline, d.FeeDue),
		}},
		{ID: GroupSatisfaction, Weight: 18, Indicators: []Indicator{
			ind("satisfaction.rating", 18, d.Stars-d.Rated, 4*d.Rated),
		}},
	}
	var x Index
	for gi := range groups {
		g := &groups[gi]
		for _, i := range g.Indicators {
			if i.Measured {
				g.Points += i.Points
				g.Possible += i.Weight
			}
		}
		x.Points += g.Points
		x.Possible += g.Possible
	}
	x.Groups = groups
	x.Measured = x.Possible > 0
	if x.Measured {
		x.Score = 100 * x.Points / x.Possible
	}
	return x
}

// UnitDossiers are a unit's dossier counts and index, by name.
type UnitDossiers struct {
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	Level    string   `json:"level"`
	Dossiers Dossiers `json:"dossiers"`
	Index    Index    `json:"index"`
	// Rank is the place among the units listed with it (1 the best; 0 for
	// a unit without dossiers, listed last).
	Rank int `json:"rank,omitempty"`
}

// scope is the rows of the counters a unit's figures sum: where picks
// them, group names each row's unit below.
type scope struct {
	self             UnitDossiers
	children         []UnitDossiers
	where            string
	args             []any
	group            func(province, commune string) string
	matches          func(province, commune string) bool
	province, parent string
}

func (s *Service) scopeOf(code string) (scope, error) {
	now := s.now()
	var sc scope
	switch {
	case code == Nation || code == "":
		sc.self = UnitDossiers{Code: Nation, Name: "Việt Nam", Level: LevelNation}
		for _, p := range s.units.Provinces(now) {
			sc.children = append(sc.children, UnitDossiers{Code: p.Code, Name: p.Name, Level: LevelProvince})
		}
		sc.group = func(province, _ string) string { return province }
		sc.matches = func(string, string) bool { return true }
	default:
		if u, err := s.units.Province(code, now); err == nil {
			sc.self = UnitDossiers{Code: u.Code, Name: u.Name, Level: LevelProvince}
			for _, c := range s.units.Communes(u.Code, now) {
				sc.children = append(sc.children, UnitDossiers{Code: c.Code, Name: c.Name, Level: LevelCommune})
			}
			sc.where, sc.args, sc.province, sc.parent = ` WHERE province = $1`, []any{u.Code}, u.Code, Nation
			sc.group = func(_, commune string) string { return commune }
			sc.matches = func(province, _ string) bool { return province == u.Code }
		} else if u, err := s.units.Commune(code, now); err == nil {
			sc.self = UnitDossiers{Code: u.Code, Name: u.Name, Level: LevelCommune}
			sc.where, sc.args, sc.province, sc.parent = ` WHERE province = $1 AND commune = $2`, []any{u.ProvinceCode, u.Code}, u.ProvinceCode, u.ProvinceCode
			sc.group = func(string, string) string { return "" }
			sc.matches = func(province, commune string) bool { return province == u.ProvinceCode && commune == u.Code }
		} else {
			return scope{}, ErrUnknownUnit
		}
	}
	return sc, nil
}

// DossierFigures returns the dossier counts and service index of the unit
// code names and of the units directly below it, ranked by index (the
// best first; units without dossiers last, by name order). The caller has
// authorized code (Authorize).
func (s *Service) DossierFigures(ctx context.Context, code string) (UnitDossiers, []UnitDossiers, error) {
	sc, err := s.scopeOf(code)
	if err != nil {
		return UnitDossiers{}, nil, err
	}
	index := map[string]*UnitDossiers{}
	for i := range sc.children {
		index[sc.children[i].Code] = &sc.children[i]
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT province, commune, `+dossierCols+` FROM stats_dossier_counts`+sc.where, sc.args...)
	if err != nil {
		return UnitDossiers{}, nil, fmt.Errorf("stats dossiers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var province, commune string
		var c Dossiers
		dest := []any{&province, &commune}
		for _, v := range []*int64{&c.Filed, &c.Desk, &c.Received, &c.Digitized, &c.Documents, &c.Reused, &c.FeeDue, &c.PaidOnline, &c.Finished, &c.OnTime, &c.Late,
			&c.Approved, &c.Returned, &c.FullOnline, &c.Rated, &c.Stars} {
			dest = append(dest, v)
		}
		if err := rows.Scan(dest...); err != nil {
			return UnitDossiers{}, nil, fmt.Errorf("stats dossiers: %w", err)
		}
		c.Online = c.Filed - c.Desk
		sc.self.Dossiers.plus(c)
		if k := index[sc.group(province, commune)]; k != nil {
			k.Dossiers.plus(c)
		}
	}
	if err := rows.Err(); err != nil {
		return UnitDossiers{}, nil, fmt.Errorf("stats dossiers: %w", err)
	}
	open, err := s.openDossiers(ctx, sc, 0)
	if err != nil {
		return UnitDossiers{}, nil, err
	}
	for _, o := range open {
		targets := []*UnitDossiers{&sc.self}
		if k := index[sc.group(o.Province, o.Commune)]; k != nil {
			targets = append(targets, k)
		}
		for _, t := range targets {
			switch {
			case o.Left < 0:
				t.Dossiers.Overdue++
			case o.Left <= s.warning.Days:
				t.Dossiers.DueSoon++
			}
		}
	}
	sc.self.Index = sc.self.Dossiers.Index()
	for i := range sc.children {
		sc.children[i].Index = sc.children[i].Dossiers.Index()
	}
	rank(sc.children)
	return sc.self, sc.children, nil
}

// rank orders units by index, the best first, and numbers them; units
// without dossiers follow, unnumbered, in their original order.
func rank(us []UnitDossiers) {
	slices.SortStableFunc(us, func(a, b UnitDossiers) int {
		switch {
		case a.Index.Measured != b.Index.Measured:
			if a.Index.Measured {
				return -1
			}
			return 1
		case a.Index.Score > b.Index.Score:
			return -1
		case a.Index.Score < b.Index.Score:
			return 1
		}
		return 0
	})
	for i := range us {
		if us[i].Index.Measured {
			us[i].Rank = i + 1
		}
	}
}

// Peers are the unit and the other units of its level within its parent
// (the communes of its province, the provinces of the nation), ranked by
// index; the nation has none.
func (s *Service) Peers(ctx context.Context, code string) ([]UnitDossiers, error) {
	sc, err := s.scopeOf(code)
	if err != nil {
		return nil, err
	}
	if sc.self.Level == LevelNation {
		return nil, nil
	}
	_, peers, err := s.DossierFigures(ctx, sc.parent)
	return peers, err
}

// OpenDossier is an open dossier past or near its due date.
type OpenDossier struct {
	Code      string `json:"code"`
	Procedure string `json:"procedure"`
	Province  string `json:"province_code"`
	Commune   string `json:"commune_code,omitempty"`
	Due       string `json:"due_date"` // YYYY-MM-DD
	// Left is the working days left after today; negative, the working
	// days it is overdue.
	Left int `json:"working_days_left"`
	// Gain is how many points the unit's index would rise by had this
	// dossier been finished on time (WhatIf).
	Gain float64 `json:"index_gain,omitempty"`
}

// openDossiers lists the unit's open dossiers whose clock runs (received,
// no supplement awaited) and that are overdue, or due within the early
// warning plus horizon working days, the latest due first among the
// overdue... ordered by due date.
func (s *Service) openDossiers(ctx context.Context, sc scope, horizon int) ([]OpenDossier, error) {
	now := s.now()
	today := civildate.Today(now)
	// Calendar days bound the working days: the window reaches far enough
	// for the warning's working days across a long holiday (Tết).
	until := civildate.Of(today.Time().AddDate(0, 0, 7*(s.warning.Days+horizon)+14)).String()
	rows, err := s.db.R.QueryContext(ctx, `SELECT code, procedure_code, province, commune, due, status FROM stats_dossiers
		WHERE finished_on = '' AND due <> '' AND due <= $1 ORDER BY due, code`, until)
	if err != nil {
		return nil, fmt.Errorf("stats open dossiers: %w", err)
	}
	defer rows.Close()
	var out []OpenDossier
	for rows.Next() {
		var o OpenDossier
		var status string
		if err := rows.Scan(&o.Code, &o.Procedure, &o.Province, &o.Commune, &o.Due, &status); err != nil {
			return nil, fmt.Errorf("stats open dossiers: %w", err)
		}
		if status == dossierSupplement || status == dossierAwaitingPayment || status == "" || !sc.matches(o.Province, o.Commune) {
			continue
		}
		due, err := civildate.Parse(o.Due)
		if err != nil {
			continue
		}
		o.Left, err = s.daysLeft(today, due)
		if err != nil {
			return nil, err
		}
		if o.Left <= s.warning.Days+horizon {
			out = append(out, o)
		}
	}
	return out, rows.Err()
}

// daysLeft is the working days from today to due (negative: overdue by
// that many), as workday.Calendar.Status counts them.
func (s *Service) daysLeft(today, due civildate.Date) (int, error) {
	if s.cal == nil {
		return int(due.Time().Sub(today.Time()).Hours() / 24), nil
	}
	if today.Time().After(due.Time()) {
		n, err := s.cal.WorkingDaysBetween(due, today)
		return -n, err
	}
	return s.cal.WorkingDaysBetween(today, due)
}

// WhatIf lists the unit's open overdue dossiers, each with the points the
// unit's index would gain had it been finished on time, the most overdue
// first, and the gain had all of them been.
func (s *Service) WhatIf(ctx context.Context, code string) ([]OpenDossier, float64, error) {
	self, _, err := s.DossierFigures(ctx, code)
	if err != nil {
		return nil, 0, err
	}
	sc, err := s.scopeOf(code)
	if err != nil {
		return nil, 0, err
	}
	open, err := s.openDossiers(ctx, sc, 0)
	if err != nil {
		return nil, 0, err
	}
	base := self.Index.Score
	one := self.Dossiers
	one.Overdue--
	one.OnTime++
	one.Finished++
	gain := one.Index().Score - base
	all := self.Dossiers
	all.OnTime += all.Overdue
	all.Finished += all.Overdue
	all.Overdue = 0
	var late []OpenDossier
	for _, o := range open {
		if o.Left < 0 {
			o.Gain = gain
			late = append(late, o)
		}
	}
	if len(late) == 0 {
		return nil, 0, nil
	}
	slices.SortStableFunc(late, func(a, b OpenDossier) int { return a.Left - b.Left })
	return late, all.Index().Score - base, nil
}

// EarlyWarning lists the unit's open dossiers not yet overdue that the
// early warning names (workday.DefaultWarning: due within a working day),
// the soonest first.
func (s *Service) EarlyWarning(ctx context.Context, code string) ([]OpenDossier, error) {
	sc, err := s.scopeOf(code)
	if err != nil {
		return nil, err
	}
	open, err := s.openDossiers(ctx, sc, 0)
	if err != nil {
		return nil, err
	}
	var out []OpenDossier
	for _, o := range open {
		if o.Left >= 0 {
			out = append(out, o)
		}
	}
	return out, nil
}

// newCalendar is the working-day calendar the overdue counts use; without
// one (its data did not load) days are counted as calendar days.
func newCalendar() (*workday.Calendar, workday.Warning) {
	cal, err := workday.Default()
	if err != nil {
		return nil, workday.DefaultWarning()
	}
	return cal, workday.DefaultWarning()
}

// ProcedureName is the procedure's name in lang ("vi" or "en") by
// ProcedureNames, or its code when there is no name.
func (s *Service) ProcedureName(ctx context.Context, code, lang string) string {
	if s.ProcedureNames == nil {
		return code
	}
	vi, en, err := s.ProcedureNames(ctx, code)
	if err != nil || vi == "" {
		return code
	}
	if lang == "en" && en != "" {
		return en
	}
	return vi
}
