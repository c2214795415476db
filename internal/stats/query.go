package stats

import (
	"context"
	"fmt"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/civildate"
)

// Nation is the code of the whole country in Unit.
const Nation = "VN"

// Unit levels.
const (
	LevelNation   = "nation"
	LevelProvince = "province"
	LevelCommune  = "commune"
)

// Band is the living people of an age band by sex. Age is the age reached
// in the current calendar year (the counters keep the year of birth, not
// the day).
type Band struct {
	Label  string `json:"label"` // "0-13", "14-17", "18-59", "60-79", "80+"
	Male   int64  `json:"male"`
	Female int64  `json:"female"`
}

// Figures are one unit's indicators.
type Figures struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Level  string `json:"level"`
	Living int64  `json:"living"`
	Male   int64  `json:"male"`
	Female int64  `json:"female"`
	Bands  []Band `json:"age_bands"`
	// Aged14 is the living people reaching 14 or more this year, Carded14
	// those of them holding a valid card.
	Aged14   int64 `json:"aged_14_plus"`
	Carded14 int64 `json:"aged_14_plus_with_card"`
	// Born … MovedOut are the events of the last 12 months (by effective
	// month, the current month included).
	Born     int64 `json:"births_12m"`
	Died     int64 `json:"deaths_12m"`
	MovedIn  int64 `json:"moves_in_12m"`
	MovedOut int64 `json:"moves_out_12m"`
	// EID1 and EID2 are the e-ID accounts activated at level 1 and 2 by
	// people living in the unit when they were activated (all time).
	EID1 int64 `json:"eid_level1_activations"`
	EID2 int64 `json:"eid_level2_activations"`
}

// Coverage is Carded14 / Aged14 in percent, 0 when nobody is 14 or more.
func (f Figures) Coverage() float64 {
	if f.Aged14 == 0 {
		return 0
	}
	return 100 * float64(f.Carded14) / float64(f.Aged14)
}

var bandEdges = []struct {
	label    string
	from, to int // ages, to exclusive (0 = no end)
}{{"0-13", 0, 14}, {"14-17", 14, 18}, {"18-59", 18, 60}, {"60-79", 60, 80}, {"80+", 80, 0}}

func newBands() []Band {
	b := make([]Band, len(bandEdges))
	for i, e := range bandEdges {
		b[i].Label = e.label
	}
	return b
}

func bandOf(age int) int {
	for i, e := range bandEdges {
		if age >= e.from && (e.to == 0 || age < e.to) {
			return i
		}
	}
	return 0
}

// ErrUnknownUnit is returned for a code that names no unit of the 2025 map.
var ErrUnknownUnit = fmt.Errorf("stats: unknown unit")

// Unit returns the figures of the unit code names (Nation, a province or a
// commune of the 2025 map) and of the units directly below it, by name.
func (s *Service) Unit(ctx context.Context, code string) (Figures, []Figures, error) {
	now := s.now()
	var self Figures
	var children []adminunit.Unit
	// The nation's page reads the provinces' totals; a province's and a
	// commune's read the communes' counters.
	counts, flows := "stats_counts", "stats_flows"
	var where, group string
	var args []any
	switch {
	case code == Nation || code == "":
		self = Figures{Code: Nation, Name: "Việt Nam", Level: LevelNation}
		children = s.units.Provinces(now)
		group = "province"
		counts, flows = "stats_province_counts", "stats_province_flows"
	default:
		if u, err := s.units.Province(code, now); err == nil {
			self = Figures{Code: u.Code, Name: u.Name, Level: LevelProvince}
			children = s.units.Communes(u.Code, now)
			where, group, args = ` WHERE province = $1`, "commune", []any{u.Code}
		} else if u, err := s.units.Commune(code, now); err == nil {
			self = Figures{Code: u.Code, Name: u.Name, Level: LevelCommune}
			where, group, args = ` WHERE commune = $1`, "commune", []any{u.Code}
		} else {
			return Figures{}, nil, ErrUnknownUnit
		}
	}
	self.Bands = newBands()
	kids := make([]Figures, len(children))
	index := map[string]*Figures{}
	for i, u := range children {
		kids[i] = Figures{Code: u.Code, Name: u.Name, Level: LevelCommune, Bands: newBands()}
		if self.Level == LevelNation {
			kids[i].Level = LevelProvince
		}
		index[u.Code] = &kids[i]
	}
	year := civildate.Today(now).Year
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+group+`, sex, birth_year, SUM(living), SUM(carded) FROM `+counts+where+
		` GROUP BY `+group+`, sex, birth_year`, args...)
	if err != nil {
		return Figures{}, nil, fmt.Errorf("stats counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var unit, sex string
		var by int
		var living, carded int64
		if err := rows.Scan(&unit, &sex, &by, &living, &carded); err != nil {
			return Figures{}, nil, fmt.Errorf("stats counts: %w", err)
		}
		targets := []*Figures{&self}
		if k := index[unit]; k != nil {
			targets = append(targets, k)
		}
		for _, f := range targets {
			f.add(sex, year-by, living, carded)
		}
	}
	if err := rows.Err(); err != nil {
		return Figures{}, nil, fmt.Errorf("stats counts: %w", err)
	}
	since := monthStart(now, -11)
	fargs := append(append([]any{}, args...), since)
	fwhere := where + " AND"
	if where == "" {
		fwhere = " WHERE"
	}
	frows, err := s.db.R.QueryContext(ctx, fmt.Sprintf(`SELECT %s, kind, SUM(n) FROM %s%s month >= $%d GROUP BY %s, kind`, group, flows, fwhere, len(fargs), group), fargs...)
	if err != nil {
		return Figures{}, nil, fmt.Errorf("stats flows: %w", err)
	}
	defer frows.Close()
	for frows.Next() {
		var unit, kind string
		var n int64
		if err := frows.Scan(&unit, &kind, &n); err != nil {
			return Figures{}, nil, fmt.Errorf("stats flows: %w", err)
		}
		targets := []*Figures{&self}
		if k := index[unit]; k != nil {
			targets = append(targets, k)
		}
		for _, f := range targets {
			f.addFlow(kind, n)
		}
	}
	if err := frows.Err(); err != nil {
		return Figures{}, nil, fmt.Errorf("stats flows: %w", err)
	}
	eg := group
	if self.Level == LevelNation {
		eg = "province"
	}
	erows, err := s.db.R.QueryContext(ctx, `SELECT `+eg+`, level, SUM(n) FROM stats_eid`+where+` GROUP BY `+eg+`, level`, args...)
	if err != nil {
		return Figures{}, nil, fmt.Errorf("stats e-ID: %w", err)
	}
	defer erows.Close()
	for erows.Next() {
		var unit string
		var level int
		var n int64
		if err := erows.Scan(&unit, &level, &n); err != nil {
			return Figures{}, nil, fmt.Errorf("stats e-ID: %w", err)
		}
		targets := []*Figures{&self}
		if k := index[unit]; k != nil {
			targets = append(targets, k)
		}
		for _, f := range targets {
			if level == 1 {
				f.EID1 += n
			} else {
				f.EID2 += n
			}
		}
	}
	if err := erows.Err(); err != nil {
		return Figures{}, nil, fmt.Errorf("stats e-ID: %w", err)
	}
	return self, kids, nil
}

func (f *Figures) add(sex string, age int, living, carded int64) {
	f.Living += living
	b := &f.Bands[bandOf(age)]
	switch sex {
	case "M":
		f.Male += living
		b.Male += living
	case "F":
		f.Female += living
		b.Female += living
	}
	if age >= 14 {
		f.Aged14 += living
		f.Carded14 += carded
	}
}

func (f *Figures) addFlow(kind string, n int64) {
	switch kind {
	case Born:
		f.Born += n
	case Died:
		f.Died += n
	case MovedIn:
		f.MovedIn += n
	case MovedOut:
		f.MovedOut += n
	}
}

// RebuiltAt is when the counters were last rebuilt from the register.
func (s *Service) RebuiltAt(ctx context.Context) (time.Time, error) {
	var v string
	if err := s.db.R.QueryRowContext(ctx, `SELECT value FROM stats_state WHERE name = 'rebuilt_at'`).Scan(&v); err != nil {
		return time.Time{}, fmt.Errorf("stats state: %w", err)
	}
	return time.Parse(time.RFC3339Nano, v)
}

// Month is one month's events in a unit.
type Month struct {
	Month    string `json:"month"` // yyyy-mm
	Born     int64  `json:"births"`
	Died     int64  `json:"deaths"`
	MovedIn  int64  `json:"moves_in"`
	MovedOut int64  `json:"moves_out"`
}

// Trend is the unit's births, deaths and moves of the last 12 months, oldest
// first, months without events included. code is as Unit's; the caller has
// authorized it.
func (s *Service) Trend(ctx context.Context, code string) ([]Month, error) {
	now := s.now()
	q, args := `SELECT month, kind, SUM(n) FROM stats_province_flows WHERE month >= $1 GROUP BY month, kind`, []any{}
	switch {
	case code == Nation || code == "":
	default:
		if _, err := s.units.Province(code, now); err == nil {
			q, args = `SELECT month, kind, SUM(n) FROM stats_province_flows WHERE province = $2 AND month >= $1 GROUP BY month, kind`, []any{code}
		} else if _, err := s.units.Commune(code, now); err == nil {
			q, args = `SELECT month, kind, SUM(n) FROM stats_flows WHERE commune = $2 AND month >= $1 GROUP BY month, kind`, []any{code}
		} else {
			return nil, ErrUnknownUnit
		}
	}
	out := make([]Month, 12)
	at := map[string]*Month{}
	for i := range out {
		out[i].Month = monthStart(now, i-11)
		at[out[i].Month] = &out[i]
	}
	rows, err := s.db.R.QueryContext(ctx, q, append([]any{out[0].Month}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("stats trend: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var month, kind string
		var n int64
		if err := rows.Scan(&month, &kind, &n); err != nil {
			return nil, fmt.Errorf("stats trend: %w", err)
		}
		m := at[month]
		if m == nil {
			continue // a month ahead of today (an effective date in the future)
		}
		switch kind {
		case Born:
			m.Born += n
		case Died:
			m.Died += n
		case MovedIn:
			m.MovedIn += n
		case MovedOut:
			m.MovedOut += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stats trend: %w", err)
	}
	return out, nil
}

// monthStart is the month (yyyy-mm) add months from now's month in
// Vietnam, counted from the month's first day so that no month is skipped.
func monthStart(now time.Time, add int) string {
	d := civildate.Today(now)
	return time.Date(d.Year, time.Month(d.Month)+time.Month(add), 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
}
