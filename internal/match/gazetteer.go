package match

import (
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
)

// Gazetteer finds the commune a free-text address names, written in the
// units in force or in those before the 2025 reform, with or without
// diacritics and with the usual abbreviations ("P. Trúc Bạch, Q. Ba Đình,
// HN"). It is built once from the catalogue (about 14,000 communes of both
// maps) and is safe for concurrent use.
type Gazetteer struct {
	units  *adminunit.Catalog
	now    time.Time
	byWord map[string][]int // first word of a commune's name (without type word), or "phuong 1" for numbered ones
	all    []gazEntry
}

type gazEntry struct {
	code      string
	legacy    bool
	full      string   // "phuong truc bach"
	base      string   // "truc bach"; "" for numbered ones
	district  string   // "quan ba dinh", old map only
	provinces []string // folded names of its province and their common variants
}

// NewGazetteer indexes the communes of both maps; now picks the map in force.
func NewGazetteer(units *adminunit.Catalog, now time.Time) *Gazetteer {
	g := &Gazetteer{units: units, now: now, byWord: map[string][]int{}}
	before := adminunit.Reform().AddDate(0, 0, -1)
	for _, era := range []struct {
		on     time.Time
		legacy bool
	}{{now, false}, {before, true}} {
		provs := map[string][]string{}
		for _, p := range units.Provinces(era.on) {
			_, b := unitKeys(p)
			provs[p.Code] = provinceAliases(b)
		}
		districts := map[string]string{}
		for _, c := range units.AllCommunes(era.on) {
			e := gazEntry{code: c.Code, legacy: era.legacy, provinces: provs[c.ProvinceCode]}
			e.full, e.base = unitKeys(c)
			if era.legacy && c.DistrictCode != "" {
				d, ok := districts[c.DistrictCode]
				if !ok {
					if du, err := units.District(c.DistrictCode); err == nil {
						d = strings.TrimSpace(addressWords(du.Name))
					}
					districts[c.DistrictCode] = d
				}
				e.district = d
			}
			key := e.base
			if key == "" {
				key = e.full
			} else if i := strings.IndexByte(key, ' '); i > 0 {
				key = key[:i]
			}
			g.byWord[key] = append(g.byWord[key], len(g.all))
			g.all = append(g.all, e)
		}
	}
	return g
}

// Resolve returns the code of the commune in force that text names, and
// whether text names it in the old units (then the code is the successor
// that took the old commune whole or its largest part). ok is false when no
// commune, or more than one equally well, fits.
func (g *Gazetteer) Resolve(text string) (code string, outdated, ok bool) {
	words := addressWords(text)
	fields := strings.Fields(words)
	best, second, bestAt := 0, 0, -1
	seen := map[int]bool{}
	try := func(key string) {
		for _, i := range g.byWord[key] {
			if seen[i] {
				continue
			}
			seen[i] = true
			e := &g.all[i]
			s := 0
			switch {
			case has(words, e.full):
				s = 6
			case e.base != "" && has(words, e.base):
				s = 2
			default:
				continue
			}
			if hasAny(words, e.provinces) {
				s += 8
			}
			if e.district != "" && has(words, e.district) {
				s += 8
			}
			if !e.legacy {
				s++ // an address without its old district is more likely new
			}
			switch {
			case s > best:
				second, best, bestAt = best, s, i
			case s > second:
				second = s
			}
		}
	}
	for i, w := range fields {
		try(w)
		if i+1 < len(fields) {
			try(w + " " + fields[i+1]) // numbered wards: "phuong 1"
		}
	}
	if bestAt < 0 || best == second {
		return "", false, false
	}
	e := &g.all[bestAt]
	if !e.legacy {
		return e.code, false, true
	}
	us, err := g.units.Current(e.code, adminunit.Reform().AddDate(0, 0, -1))
	if err != nil || len(us) == 0 {
		return "", true, false
	}
	return us[0].Code, true, true
}
