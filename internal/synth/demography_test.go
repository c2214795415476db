package synth

import (
	"math"
	"os"
	"slices"
	"testing"
	"time"
)

// The demographic checks of issue 15 item 4, against census figures.
//
// Sources. DOMAIN.md §10 gives the age structure (about 24 % under 15 and
// 12 % aged 60+ at the 1 April 2019 census; TestAgePyramid) but no sex
// ratio. The sex ratios below are therefore:
//   - born 2000–2009: 106–111 men per 100 women, the "real" range issue 15
//     states for the census;
//   - the other cohorts: the 2019 Population and Housing Census (GSO)
//     age-sex table as widely cited — sex ratio at birth 111.5 in 2019,
//     about 110 at ages 0–9, 107 at 10–19, 101–103 at 20–39, below 100 from
//     the late forties, about 85 at 60–69, 70–75 at 70–79 and near 60 past
//     80, overall 99.1 — aged to 2026. These are UNVERIFIED here (no
//     census table in ../shared); the ranges are wide enough for that.
//
// A sample of n people carries sampling noise: each range is widened by
// three standard errors of the ratio. The default run uses the shared
// 100,000-person population; DANCU_BIG_POPULATION=1 checks 1,000,000
// people, where the noise is about a third.

// censusSexRatio: men per 100 women among the living, by five-year birth
// cohort, on 1 January 2026.
var censusSexRatio = []struct {
	from     int // first birth year of the cohort
	lo, hi   float64
	fromText string
}{
	{2020, 108, 114, "2019 census, sex ratio at birth 111.5"},
	{2015, 108, 114, "2019 census, ages 0–4"},
	{2010, 108, 114, "2019 census, ages 5–9"},
	{2005, 106, 111, "issue 15 (born 2000–2009)"},
	{2000, 106, 111, "issue 15 (born 2000–2009)"},
	{1995, 100, 106, "2019 census, ages 20–24"},
	{1990, 100, 106, "2019 census, ages 25–29"},
	{1985, 98, 104, "2019 census, ages 30–34"},
	{1980, 98, 104, "2019 census, ages 35–39"},
	{1975, 94, 102, "2019 census, ages 40–44"},
	{1970, 94, 102, "2019 census, ages 45–49"},
	{1965, 86, 97, "2019 census, ages 50–54"},
	{1960, 84, 96, "2019 census, ages 55–59"},
	{1955, 76, 92, "2019 census, ages 60–64"},
	{1950, 70, 88, "2019 census, ages 65–69"},
	{1945, 58, 78, "2019 census, ages 70–74"},
	{1940, 50, 72, "2019 census, ages 75–79"},
}

// censusOverallSexRatio: 2019 census, 99.1 men per 100 women.
const censusOverallSexRatio, overallTolerance = 99.1, 3.0

// demographyPopulation is the population the demographic checks run on.
func demographyPopulation(t *testing.T) []Person {
	if os.Getenv("DANCU_BIG_POPULATION") == "" {
		return persons(big(t))
	}
	var ps []Person
	if err := Generate(Config{Seed: 20260101, Persons: 1_000_000, Areas: testAreas()}, func(h Household) error {
		ps = append(ps, h.Members...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestSexRatioByCohort(t *testing.T) {
	ps := demographyPopulation(t)
	var men, women [2100]int
	allM, allF := 0, 0
	for _, p := range ps {
		if p.Dead {
			continue
		}
		if p.Sex == 'M' {
			men[p.BirthYear]++
			allM++
		} else {
			women[p.BirthYear]++
			allF++
		}
	}
	ratio := func(m, f int) (r, se float64) {
		r = 100 * float64(m) / float64(f)
		return r, r * math.Sqrt(1/float64(m)+1/float64(f))
	}
	for _, c := range censusSexRatio {
		t.Run(time.Date(c.from, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006"), func(t *testing.T) {
			m, f := 0, 0
			for y := c.from; y < c.from+5; y++ {
				m, f = m+men[y], f+women[y]
			}
			r, se := ratio(m, f)
			t.Logf("born %d–%d: %.1f men per 100 women (%d/%d), census %g–%g (%s)", c.from, c.from+4, r, m, f, c.lo, c.hi, c.fromText)
			if r < c.lo-3*se || r > c.hi+3*se {
				t.Errorf("born %d–%d: %.1f men per 100 women, census %g–%g (%s), sampling noise ±%.1f",
					c.from, c.from+4, r, c.lo, c.hi, c.fromText, 3*se)
			}
		})
	}
	// Issue 15 names the ten-year cohort 2000–2009 as a whole.
	m, f := 0, 0
	for y := 2000; y < 2010; y++ {
		m, f = m+men[y], f+women[y]
	}
	if r, se := ratio(m, f); r < 106-3*se || r > 111+3*se {
		t.Errorf("born 2000–2009: %.1f men per 100 women, want 106–111 (issue 15), noise ±%.1f", r, 3*se)
	}
	if r, _ := ratio(allM, allF); math.Abs(r-censusOverallSexRatio) > overallTolerance {
		t.Errorf("overall %.1f men per 100 women, 2019 census %.1f ± %.0f", r, censusOverallSexRatio, overallTolerance)
	}
}

// legalMarriageAge: Law on Marriage and Family 52/2014/QH13 Art. 8 (men
// from full 20, women from full 18).
var legalMarriageAge = map[byte]int{'M': 20, 'F': 18}

func TestMarriage(t *testing.T) {
	ps := demographyPopulation(t)
	today := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	byRel := map[string]int{}
	for _, p := range ps {
		byRel[p.Relation]++
		if p.Spouse < 0 {
			if p.MarriageDate != "" && !(p.Relation == "Chủ hộ" || p.Index == len(ps)-1 || p.Index+16 >= len(ps)) {
				t.Errorf("person %d has a wedding %s but no spouse", p.Index, p.MarriageDate)
			}
			continue
		}
		sp := ps[p.Spouse]
		if p.MarriageDate == "" || p.MarriageDate != sp.MarriageDate {
			t.Fatalf("spouses %d and %d: wedding %q and %q", p.Index, sp.Index, p.MarriageDate, sp.MarriageDate)
		}
		w := parseDay(t, p.MarriageDate)
		if !w.Before(today) {
			t.Errorf("person %d married on %s, not before today", p.Index, p.MarriageDate)
		}
		// A partial birth date gets the benefit of the doubt: its first day.
		b := parseDay(t, (p.BirthDate + "-01-01")[:10])
		if a := completedYears(b, w); a < legalMarriageAge[p.Sex] {
			t.Errorf("person %d (%c, born %s) married at %d on %s, below the legal age %d",
				p.Index, p.Sex, p.BirthDate, a, p.MarriageDate, legalMarriageAge[p.Sex])
		}
		// A spouse who married in lives in the household from the wedding on.
		if rel := p.Relation; (rel == "Vợ" || rel == "Chồng" || rel == "Con dâu" || rel == "Con rể") && p.ResidentSince < p.MarriageDate {
			t.Errorf("%s %d resident since %s, before the wedding %s", rel, p.Index, p.ResidentSince, p.MarriageDate)
		}
	}
	// Married-in spouses of either sex: husbands of female heads and sons-in-law
	// exist, but the patrilocal custom makes wives and daughters-in-law far
	// more common.
	for _, c := range []struct {
		more, less string
		min        float64
	}{{"Vợ", "Chồng", 2}, {"Con dâu", "Con rể", 2}} {
		t.Logf("%s %d, %s %d", c.more, byRel[c.more], c.less, byRel[c.less])
		if byRel[c.less] == 0 || float64(byRel[c.more]) < c.min*float64(byRel[c.less]) {
			t.Errorf("%s %d, %s %d: want both, %s at least %g times as many", c.more, byRel[c.more], c.less, byRel[c.less], c.more, c.min)
		}
	}
}

// TestWhoStaysHome: unmarried adult children keep their residence with the
// parents; married sons stay more often than married daughters.
func TestWhoStaysHome(t *testing.T) {
	ps := persons(big(t))
	var unmarried, married [2]int // sons, daughters aged 20–34 living as "Con"
	for _, p := range ps {
		if p.Relation != "Con" || 2026-p.BirthYear < 20 || 2026-p.BirthYear > 34 {
			continue
		}
		s := 0
		if p.Sex == 'F' {
			s = 1
		}
		if p.Spouse >= 0 {
			married[s]++
		} else {
			unmarried[s]++
		}
	}
	t.Logf("children 20–34 at home: unmarried sons %d, daughters %d; married sons %d, daughters %d",
		unmarried[0], unmarried[1], married[0], married[1])
	if married[0] < 2*married[1] || married[1] == 0 {
		t.Errorf("married sons %d, married daughters %d at home: want both, sons at least twice as many", married[0], married[1])
	}
	if unmarried[0] < married[0] {
		t.Errorf("unmarried sons %d fewer than married sons %d at home", unmarried[0], married[0])
	}
}

func TestResidenceHistory(t *testing.T) {
	hh := big(t)
	today := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reform := Reform().Format(time.DateOnly)
	areas := map[string]Area{}
	for _, a := range bigCfg.Areas {
		areas[a.ProvinceCode] = a
	}
	legacy, current := 0, 0
	for _, h := range hh {
		a := areas[h.ProvinceCode]
		i := slices.Index(a.CommuneCodes, h.CommuneCode)
		if !slices.ContainsFunc(a.Predecessors[i], func(u LegacyUnit) bool { return u.Code == h.LegacyCommuneCode }) {
			t.Fatalf("household %d: old unit %q is not a predecessor of %s", h.Index, h.LegacyCommuneCode, h.CommuneCode)
		}
		head := h.Members[0]
		for _, p := range h.Members {
			since := parseDay(t, p.ResidentSince)
			if since.Before(approxBirth(t, p)) && len(p.BirthDate) == 10 || since.Year() < p.BirthYear {
				t.Errorf("person %d resident since %s, born %s", p.Index, p.ResidentSince, p.BirthDate)
			}
			if !since.Before(today) {
				t.Errorf("person %d resident since %s, not before today", p.Index, p.ResidentSince)
			}
			if p.Dead && p.DeathDate < p.ResidentSince {
				t.Errorf("person %d resident since %s, after death %s", p.Index, p.ResidentSince, p.DeathDate)
			}
			// The period before the reform carries the old unit's code, the
			// one from 1 July 2025 the new one.
			if p.ResidentSince < reform {
				legacy++
				if p.LegacyCommuneCode != h.LegacyCommuneCode {
					t.Errorf("person %d resident since %s: old unit %q, want %q", p.Index, p.ResidentSince, p.LegacyCommuneCode, h.LegacyCommuneCode)
				}
			} else {
				current++
				if p.LegacyCommuneCode != "" {
					t.Errorf("person %d resident since %s (after the reform) has old unit %q", p.Index, p.ResidentSince, p.LegacyCommuneCode)
				}
			}
			// Children born after the head settled there live there since birth.
			if p.Relation == "Con" && len(p.BirthDate) == 10 && p.BirthDate >= head.ResidentSince && p.ResidentSince != p.BirthDate {
				t.Errorf("child %d born %s in a household settled %s is resident since %s", p.Index, p.BirthDate, head.ResidentSince, p.ResidentSince)
			}
		}
	}
	t.Logf("residence began before the reform for %d, after for %d", legacy, current)
	if legacy == 0 || current == 0 {
		t.Errorf("residence periods: %d before the reform, %d after; want both", legacy, current)
	}
}

func TestBirthplaceAndHometown(t *testing.T) {
	hh := big(t)
	areas := bigCfg.Areas
	where := map[string]Area{} // commune → area
	for _, a := range areas {
		for _, c := range a.CommuneCodes {
			where[c] = a
		}
	}
	ps := persons(hh)
	home := 0
	for _, p := range ps {
		a, ok := where[p.BirthplaceCommune]
		if !ok {
			t.Fatalf("person %d: birth registered in %q, not a commune", p.Index, p.BirthplaceCommune)
		}
		// The PIN's province (BirthProvince) is where the commune's old unit lay.
		preds := a.Predecessors[slices.Index(a.CommuneCodes, p.BirthplaceCommune)]
		if !slices.ContainsFunc(preds, func(u LegacyUnit) bool { return u.ProvinceCode == p.BirthProvince }) {
			t.Fatalf("person %d: birth registered in %s, none of whose old units %v lay in province %s",
				p.Index, p.BirthplaceCommune, preds, p.BirthProvince)
		}
		if _, ok := where[p.HometownCommune]; !ok {
			t.Fatalf("person %d: hometown %q, not a commune", p.Index, p.HometownCommune)
		}
		if p.Father >= 0 && ps[p.Father].HometownCommune != p.HometownCommune {
			t.Errorf("person %d: hometown %s, father's %s", p.Index, p.HometownCommune, ps[p.Father].HometownCommune)
		}
		if p.BirthplaceCommune == p.CommuneCode {
			home++
		}
	}
	if s := pct(home, len(ps)); s < 30 || s > 90 {
		t.Errorf("%.1f %% registered at birth in the commune they live in, want 30–90", s)
	}
}
