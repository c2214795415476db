package synth

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"
)

// testAreas builds the 34 provinces with PopulationWeights, 25 fake
// 5-digit commune codes each and their merged legacy provinces.
func testAreas() []Area {
	pw := PopulationWeights()
	ml := MergedLegacyProvinces()
	codes := make([]string, 0, len(pw))
	for c := range pw {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	areas := make([]Area, 0, len(codes))
	for _, c := range codes {
		cc := make([]string, 25)
		for i := range cc {
			cc[i] = c + strconv.Itoa(100+i)
		}
		// Fake predecessors: each commune formed from one or two old
		// communes of the merged legacy provinces.
		legacy := ml[c]
		if len(legacy) == 0 {
			legacy = []string{c}
		}
		preds := make([][]LegacyUnit, len(cc))
		for i := range cc {
			preds[i] = []LegacyUnit{{Code: fmt.Sprintf("%s%03d", legacy[0], i), ProvinceCode: legacy[0]}}
			if i%3 == 0 {
				l := legacy[(i/3)%len(legacy)]
				preds[i] = append(preds[i], LegacyUnit{Code: fmt.Sprintf("%s%03d", l, 500+i), ProvinceCode: l})
			}
		}
		areas = append(areas, Area{ProvinceCode: c, Weight: pw[c], CommuneCodes: cc, BirthProvinceCodes: ml[c], Predecessors: preds})
	}
	return areas
}

func collect(t testing.TB, cfg Config) []Household {
	t.Helper()
	var out []Household
	if err := Generate(cfg, func(h Household) error {
		out = append(out, h)
		return nil
	}); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return out
}

const bigN = 100_000

var (
	bigOnce sync.Once
	bigHH   []Household
	bigCfg  = Config{Seed: 20260101, Persons: bigN, Areas: testAreas()}
)

// big returns a shared 100,000-person population.
func big(t testing.TB) []Household {
	bigOnce.Do(func() { bigHH = collect(t, bigCfg) })
	return bigHH
}

func persons(hh []Household) []Person {
	var ps []Person
	for _, h := range hh {
		ps = append(ps, h.Members...)
	}
	return ps
}

func pct(n, d int) float64 { return 100 * float64(n) / float64(d) }

func parseDay(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.Parse("2006-01-02", s)
	if err != nil || d.Format("2006-01-02") != s {
		t.Fatalf("invalid calendar date %q", s)
	}
	return d
}

// approxBirth returns the birth date, taking the middle of the period for
// partial dates.
func approxBirth(t testing.TB, p Person) time.Time {
	switch len(p.BirthDate) {
	case 10:
		return parseDay(t, p.BirthDate)
	case 7:
		return parseDay(t, p.BirthDate+"-15")
	}
	return parseDay(t, p.BirthDate+"-07-01")
}

func completedYears(from, to time.Time) int {
	y := to.Year() - from.Year()
	if to.Month() < from.Month() || (to.Month() == from.Month() && to.Day() < from.Day()) {
		y--
	}
	return y
}

func TestEthnicities(t *testing.T) {
	es := Ethnicities()
	if len(es) != 54 {
		t.Fatalf("Ethnicities() has %d entries, want 54", len(es))
	}
	want := map[string]string{"01": "Kinh", "02": "Tày", "04": "Hoa", "05": "Khơ-me", "08": "Hmông",
		"23": "Bru-Vân Kiều", "47": "Co Lao", "53": "Ơ-đu", "54": "Rơ-măm"}
	seen := map[string]bool{}
	for i, e := range es {
		code := string([]byte{byte('0' + (i+1)/10), byte('0' + (i+1)%10)})
		if e.Code != code {
			t.Errorf("Ethnicities()[%d].Code = %q, want %q (official order)", i, e.Code, code)
		}
		if seen[e.Code] || seen[e.Name] {
			t.Errorf("duplicate ethnicity %v", e)
		}
		seen[e.Code], seen[e.Name] = true, true
		if e.Name == "" || !norm.NFC.IsNormalString(e.Name) {
			t.Errorf("ethnicity %s name %q empty or not NFC", e.Code, e.Name)
		}
		if w, ok := want[e.Code]; ok && w != e.Name {
			t.Errorf("ethnicity %s = %q, want %q", e.Code, e.Name, w)
		}
	}
	es[0].Name = "changed"
	if Ethnicities()[0].Name != "Kinh" {
		t.Error("Ethnicities() must return a fresh slice")
	}
}

func TestReligionsAndWeights(t *testing.T) {
	rs := Religions()
	if len(rs) < 6 || !slices.Contains(rs, "Công giáo") || !slices.Contains(rs, "Phật giáo") ||
		!slices.Contains(rs, "Tin lành") || !slices.Contains(rs, "Cao Đài") || !slices.Contains(rs, "Phật giáo Hòa Hảo") {
		t.Errorf("Religions() = %q, missing main religions", rs)
	}
	for _, r := range rs {
		if r == "" || !norm.NFC.IsNormalString(r) {
			t.Errorf("religion %q empty or not NFC", r)
		}
	}
	rs[0] = "x"
	if Religions()[0] == "x" {
		t.Error("Religions() must return a fresh slice")
	}

	pw := PopulationWeights()
	want := strings.Fields("01 04 08 11 12 14 15 19 20 22 24 25 31 33 37 38 40 42 44 46 48 51 52 56 66 68 75 79 80 82 86 91 92 96")
	if len(pw) != len(want) {
		t.Fatalf("PopulationWeights has %d provinces, want %d", len(pw), len(want))
	}
	total := 0.0
	for _, c := range want {
		if pw[c] <= 0 {
			t.Errorf("PopulationWeights()[%q] = %v, want > 0", c, pw[c])
		}
		total += pw[c]
	}
	if pw["79"] < pw["01"] || pw["01"] < pw["04"] {
		t.Errorf("implausible weights: HCMC %v, Hà Nội %v, Cao Bằng %v", pw["79"], pw["01"], pw["04"])
	}
	if total < 95_000 || total > 125_000 {
		t.Errorf("total population %v thousand, want roughly 100–120 million", total)
	}
	ml := MergedLegacyProvinces()
	legacy := map[string]bool{}
	for _, c := range want {
		if len(ml[c]) == 0 {
			t.Errorf("no legacy provinces for %s", c)
		}
		for _, l := range ml[c] {
			if legacy[l] {
				t.Errorf("legacy province %s merged twice", l)
			}
			legacy[l] = true
		}
	}
	if len(legacy) != 63 {
		t.Errorf("%d legacy provinces, want 63", len(legacy))
	}
}

func TestValidate(t *testing.T) {
	good := Area{ProvinceCode: "01", Weight: 1, CommuneCodes: []string{"00004"}, BirthProvinceCodes: []string{"01"}}
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" = valid
	}{
		{"valid", Config{Persons: 10, Areas: []Area{good}}, ""},
		{"zero persons", Config{Persons: 0, Areas: []Area{good}}, ""},
		{"negative persons", Config{Persons: -1, Areas: []Area{good}}, "Persons must be >= 0"},
		{"no areas", Config{Persons: 1}, "Areas is empty"},
		{"zero weight", Config{Persons: 1, Areas: []Area{{ProvinceCode: "01", CommuneCodes: []string{"1"}}}}, "Weight must be"},
		{"negative weight", Config{Persons: 1, Areas: []Area{good, {ProvinceCode: "79", Weight: -3, CommuneCodes: []string{"1"}}}}, `Areas[1] (province "79"): Weight`},
		{"NaN weight", Config{Persons: 1, Areas: []Area{{ProvinceCode: "01", Weight: math.NaN(), CommuneCodes: []string{"1"}}}}, "Weight must be"},
		{"no communes", Config{Persons: 1, Areas: []Area{{ProvinceCode: "04", Weight: 2}}}, `province "04") has no CommuneCodes`},
		{"empty commune", Config{Persons: 1, Areas: []Area{{ProvinceCode: "04", Weight: 2, CommuneCodes: []string{""}}}}, "CommuneCodes[0] is empty"},
		{"empty province", Config{Persons: 1, Areas: []Area{{Weight: 2, CommuneCodes: []string{"1"}}}}, "empty ProvinceCode"},
		{"bad birth province", Config{Persons: 1, Areas: []Area{{ProvinceCode: "01", Weight: 1, CommuneCodes: []string{"1"}, BirthProvinceCodes: []string{"001"}}}}, "not a 2-digit code"},
		{"today too early", Config{Persons: 1, Areas: []Area{good}, Today: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)}, "Today year"},
		{"pyramid too long", Config{Persons: 1, Areas: []Area{good}, AgePyramid: make([]float64, 22)}, "at most 21"},
		{"pyramid negative", Config{Persons: 1, Areas: []Area{good}, AgePyramid: []float64{1, -1}}, "AgePyramid[1]"},
		{"pyramid zero", Config{Persons: 1, Areas: []Area{good}, AgePyramid: []float64{0, 0}}, "positive total"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "synth: ") {
				t.Errorf("error %q should start with the package name", err)
			}
			called := false
			if gerr := Generate(tc.cfg, func(Household) error { called = true; return nil }); gerr == nil || called {
				t.Errorf("Generate with invalid config: err=%v called=%v", gerr, called)
			}
		})
	}
}

func TestDeterminism(t *testing.T) {
	cfg := Config{Seed: 42, Persons: 20_000, Areas: testAreas()}
	a, b := collect(t, cfg), collect(t, cfg)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs with the same Config differ")
	}
	cfg.Seed = 43
	c := collect(t, cfg)
	if reflect.DeepEqual(a, c) {
		t.Fatal("a different seed gave the same stream")
	}
	same := 0
	pa, pc := persons(a), persons(c)
	for i := 0; i < min(len(pa), len(pc)); i++ {
		if pa[i].FullName == pc[i].FullName {
			same++
		}
	}
	if pct(same, len(pa)) > 5 {
		t.Errorf("%.1f %% of names identical across seeds", pct(same, len(pa)))
	}
}

func TestExactCountAndTruncation(t *testing.T) {
	areas := testAreas()[:3]
	for _, n := range []int{0, 1, 2, 3, 5, 7, 11, 50, 333, 1001} {
		hh := collect(t, Config{Seed: int64(n), Persons: n, Areas: areas})
		ps := persons(hh)
		if len(ps) != n {
			t.Fatalf("Persons=%d: got %d persons", n, len(ps))
		}
		checkStructure(t, hh)
	}
	// A prefix of a longer stream is the same stream.
	long := persons(collect(t, Config{Seed: 9, Persons: 500, Areas: areas}))
	short := persons(collect(t, Config{Seed: 9, Persons: 200, Areas: areas}))
	for i := range short {
		a, b := long[i], short[i]
		a.Father, a.Mother, a.Spouse, b.Father, b.Mother, b.Spouse = 0, 0, 0, 0, 0, 0
		if a != b {
			t.Fatalf("person %d differs between Persons=500 and Persons=200", i)
		}
	}
}

// checkStructure verifies indices, links and relations.
func checkStructure(t *testing.T, hh []Household) {
	t.Helper()
	ps := persons(hh)
	byIndex := func(i int) *Person { return &ps[i] }
	next := 0
	for hi, h := range hh {
		if h.Index != hi {
			t.Fatalf("household %d has Index %d", hi, h.Index)
		}
		if len(h.Members) == 0 {
			t.Fatalf("household %d is empty", hi)
		}
		head := h.Members[0]
		if head.Relation != "Chủ hộ" {
			t.Fatalf("household %d: first member is %q, want Chủ hộ", hi, head.Relation)
		}
		lo, hiIdx := head.Index, head.Index+len(h.Members)
		inHH := func(i int) bool { return i == -1 || (i >= lo && i < hiIdx) }
		for k, p := range h.Members {
			if p.Index != next {
				t.Fatalf("person index %d, want %d", p.Index, next)
			}
			next++
			if k > 0 && p.Relation == "Chủ hộ" {
				t.Errorf("household %d has two heads", hi)
			}
			if p.Household != hi || p.ProvinceCode != h.ProvinceCode || p.CommuneCode != h.CommuneCode ||
				p.AddressDetail != h.AddressDetail {
				t.Errorf("person %d does not share household %d's residence", p.Index, hi)
			}
			if p.Sex != 'M' && p.Sex != 'F' {
				t.Errorf("person %d: Sex %q", p.Index, p.Sex)
			}
			for _, l := range []int{p.Father, p.Mother, p.Spouse} {
				if !inHH(l) || l == p.Index {
					t.Fatalf("person %d: link %d outside its household [%d,%d)", p.Index, l, lo, hiIdx)
				}
			}
			if p.Spouse >= 0 {
				s := byIndex(p.Spouse)
				if s.Spouse != p.Index {
					t.Errorf("spouse link not symmetric: %d -> %d -> %d", p.Index, p.Spouse, s.Spouse)
				}
				if s.Sex == p.Sex {
					t.Errorf("spouses %d and %d have the same sex", p.Index, s.Index)
				}
			}
			for _, par := range []int{p.Father, p.Mother} {
				if par < 0 {
					continue
				}
				pp := byIndex(par)
				if p.BirthYear-pp.BirthYear < 15 {
					t.Errorf("parent %d (%s) less than 15 years older than child %d (%s)", par, pp.BirthDate, p.Index, p.BirthDate)
				}
			}
			if p.Father >= 0 && byIndex(p.Father).Sex != 'M' || p.Mother >= 0 && byIndex(p.Mother).Sex != 'F' {
				t.Errorf("person %d: father/mother of wrong sex", p.Index)
			}
			if p.Mother >= 0 && len(p.BirthDate) == 10 && len(byIndex(p.Mother).BirthDate) == 10 {
				a := completedYears(parseDay(t, byIndex(p.Mother).BirthDate), parseDay(t, p.BirthDate))
				if a < 18 || a > 45 {
					t.Errorf("person %d born when the mother was %d", p.Index, a)
				}
			}
			checkRelation(t, ps, head, p)
		}
	}
	if next != len(ps) {
		t.Fatalf("index gap")
	}
}

func checkRelation(t *testing.T, ps []Person, head, p Person) {
	t.Helper()
	bad := func(why string) {
		t.Errorf("person %d (%s, %c) relation %q: %s", p.Index, p.FullName, p.Sex, p.Relation, why)
	}
	isChildOfHead := func(i int) bool {
		return i >= 0 && (ps[i].Father == head.Index || ps[i].Mother == head.Index)
	}
	switch p.Relation {
	case "Chủ hộ":
		if p.Index != head.Index {
			bad("not first")
		}
	case "Vợ", "Chồng":
		if (p.Relation == "Vợ") != (p.Sex == 'F') {
			bad("sex does not match")
		}
		if p.Spouse != head.Index || head.Spouse != p.Index {
			bad("not linked to the head as spouse")
		}
	case "Con":
		if p.Father != head.Index && p.Mother != head.Index {
			bad("not a child of the head")
		}
	case "Cha", "Mẹ":
		if (p.Relation == "Cha") != (p.Sex == 'M') {
			bad("sex does not match")
		}
		if head.Father != p.Index && head.Mother != p.Index {
			bad("head does not link to this parent")
		}
	case "Con dâu", "Con rể":
		if (p.Relation == "Con dâu") != (p.Sex == 'F') {
			bad("sex does not match")
		}
		if p.Spouse >= 0 && !isChildOfHead(p.Spouse) {
			bad("not married to a child of the head")
		}
	case "Cháu":
		for _, par := range []int{p.Father, p.Mother} {
			if par >= 0 && !isChildOfHead(par) && ps[par].Relation != "Con dâu" && ps[par].Relation != "Con rể" {
				bad("parent is not a child (in-law) of the head")
			}
		}
		if head.BirthYear > p.BirthYear-30 {
			bad("grandparent too young")
		}
	case "Anh", "Chị", "Em":
		older := p.BirthDate < head.BirthDate
		if p.Relation == "Em" && older || p.Relation != "Em" && !older {
			bad("age order does not match")
		}
		if p.Relation == "Anh" && p.Sex != 'M' || p.Relation == "Chị" && p.Sex != 'F' {
			bad("sex does not match")
		}
	case "Ông", "Bà":
		if (p.Relation == "Ông") != (p.Sex == 'M') {
			bad("sex does not match")
		}
		if p.BirthYear > head.BirthYear-30 {
			bad("too young for a grandparent")
		}
	default:
		bad("unknown relation")
	}
	if !slices.Contains(Relations(), p.Relation) {
		bad("not listed in Relations()")
	}
}

func TestStructure(t *testing.T) {
	hh := big(t)
	if n := len(persons(hh)); n != bigN {
		t.Fatalf("got %d persons, want %d", n, bigN)
	}
	checkStructure(t, hh)
}

func TestHouseholdComposition(t *testing.T) {
	hh := big(t)
	ps := persons(hh)
	single, withKids, threeGen := 0, 0, 0
	for _, h := range hh[:len(hh)-1] {
		if len(h.Members) == 1 {
			single++
		}
		hasKid, hasGrand := false, false
		for _, p := range h.Members {
			hasKid = hasKid || p.Relation == "Con"
			hasGrand = hasGrand || p.Relation == "Cháu"
		}
		if hasKid {
			withKids++
		}
		if hasKid && hasGrand {
			threeGen++
		}
	}
	n := len(hh) - 1
	avg := float64(len(ps)) / float64(len(hh))
	t.Logf("avg size %.2f, single %.1f %%, with children %.1f %%, three generations %.1f %%",
		avg, pct(single, n), pct(withKids, n), pct(threeGen, n))
	if avg < 3.0 || avg > 4.0 {
		t.Errorf("average household size %.2f, want about 3.5 (2019 census)", avg)
	}
	if s := pct(single, n); s < 5 || s > 20 {
		t.Errorf("single-person households %.1f %%, want 5–20 %%", s)
	}
	if k := pct(withKids, n); k < 50 || k > 85 {
		t.Errorf("households with children %.1f %%, want 50–85 %%", k)
	}
	if g := pct(threeGen, n); g < 2 || g > 25 {
		t.Errorf("three-generation households %.1f %%, want 2–25 %%", g)
	}
	// Children carry their father's surname; heads are adults.
	for _, p := range ps {
		if p.Father >= 0 && ps[p.Father].Surname != p.Surname {
			t.Fatalf("%s (%d) does not carry the surname of father %s", p.FullName, p.Index, ps[p.Father].FullName)
		}
		if p.Relation == "Chủ hộ" && 2026-p.BirthYear < 18 {
			t.Errorf("head %d born %s is a minor", p.Index, p.BirthDate)
		}
	}
}

func TestNames(t *testing.T) {
	ps := persons(big(t))
	counts := map[string]int{}
	four := 0
	for _, p := range ps {
		parts := []string{p.Surname}
		if p.Middle != "" {
			parts = append(parts, p.Middle)
		}
		parts = append(parts, p.Given)
		if want := strings.Join(parts, " "); p.FullName != want {
			t.Fatalf("FullName %q, want %q", p.FullName, want)
		}
		for _, s := range []string{p.FullName, p.Surname, p.Middle, p.Given, p.AddressDetail, p.Religion, p.Relation} {
			if !norm.NFC.IsNormalString(s) {
				t.Fatalf("%q is not NFC", s)
			}
			if strings.Contains(s, "  ") || strings.TrimSpace(s) != s {
				t.Fatalf("%q has stray spaces", s)
			}
		}
		if p.Surname == "" || p.Given == "" {
			t.Fatalf("person %d has an empty surname or given name", p.Index)
		}
		words := strings.Fields(p.Middle)
		if p.Sex == 'M' && slices.Contains(words, "Thị") {
			t.Errorf("male %q has middle name Thị", p.FullName)
		}
		if p.Sex == 'F' && slices.Contains(words, "Văn") {
			t.Errorf("female %q has male middle name Văn", p.FullName)
		}
		if len(words) == 2 {
			four++
		}
		counts[p.Surname]++
	}
	tests := []struct {
		name      string
		want, tol float64
	}{
		{"Nguyễn", 38.4, 1.5}, {"Trần", 11, 1}, {"Lê", 9.5, 1}, {"Phạm", 7.1, 1}, {"Phan", 4.5, 0.8},
		{"Hoàng", 3, 0.8}, {"Huỳnh", 2.1, 0.6}, {"Vũ", 2, 0.6}, {"Võ", 1.9, 0.6}, {"Đặng", 2.1, 0.6},
		{"Bùi", 2, 0.6}, {"Đỗ", 1.4, 0.5}, {"Hồ", 1.3, 0.5}, {"Ngô", 1.3, 0.5}, {"Dương", 1, 0.4}, {"Lý", 0.5, 0.3},
	}
	for _, tc := range tests {
		if got := pct(counts[tc.name], len(ps)); math.Abs(got-tc.want) > tc.tol {
			t.Errorf("surname %s: %.2f %%, want %.1f ± %.1f", tc.name, got, tc.want, tc.tol)
		}
	}
	if len(counts) < 60 {
		t.Errorf("only %d distinct surnames", len(counts))
	}
	if f := pct(four, len(ps)); f < 3 || f > 30 {
		t.Errorf("four-word names %.1f %%, want some (3–30 %%)", f)
	}
	// Văn / Thị are the most common middle names, less so among the young.
	share := func(sex byte, mid string, from, to int) float64 {
		n, k := 0, 0
		for _, p := range ps {
			if p.Sex == sex && p.BirthYear >= from && p.BirthYear < to && p.EthnicityCode == "01" {
				n++
				if strings.HasPrefix(p.Middle, mid) {
					k++
				}
			}
		}
		return pct(k, n)
	}
	if o, y := share('F', "Thị", 1900, 1975), share('F', "Thị", 1995, 2100); o < 70 || y > 50 || y < 15 {
		t.Errorf("Thị share: %.0f %% born before 1975, %.0f %% born after 1995", o, y)
	}
	if o, y := share('M', "Văn", 1900, 1975), share('M', "Văn", 1995, 2100); o < 50 || y > 40 || y < 10 {
		t.Errorf("Văn share: %.0f %% born before 1975, %.0f %% born after 1995", o, y)
	}
}

func TestAgePyramid(t *testing.T) {
	ps := persons(big(t))
	today := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var bands [21]int
	for _, p := range ps {
		a := completedYears(approxBirth(t, p), today)
		if a < 0 || a > 101 {
			t.Fatalf("person %d aged %d", p.Index, a)
		}
		bands[min(a/5, 20)]++
	}
	under15 := pct(bands[0]+bands[1]+bands[2], len(ps))
	over60 := 0.0
	for b := 12; b < 21; b++ {
		over60 += pct(bands[b], len(ps))
	}
	t.Logf("under 15: %.1f %%, 60+: %.1f %%", under15, over60)
	if math.Abs(under15-24) > 3 {
		t.Errorf("under-15 share %.1f %%, want 24 ± 3", under15)
	}
	if math.Abs(over60-12) > 3 {
		t.Errorf("60+ share %.1f %%, want 12 ± 3", over60)
	}
	pyr := DefaultAgePyramid()
	for b, c := range bands {
		if got := pct(c, len(ps)); math.Abs(got-pyr[b]) > 1.5 {
			t.Errorf("band %d–%d: %.1f %%, target %.1f", 5*b, 5*b+4, got, pyr[b])
		}
	}
}

func TestCustomPyramidAndToday(t *testing.T) {
	// An ageing population (roughly Vietnam's projection for 2050).
	old := []float64{5, 5, 5.5, 5.5, 6, 6, 6.5, 6.5, 6.5, 7, 7, 7, 6.5, 5.5, 4.5, 3.5, 2.5, 1.5, 0.8, 0.3, 0.1}
	today := time.Date(2050, 7, 1, 12, 0, 0, 0, time.UTC)
	ps := persons(collect(t, Config{Seed: 5, Persons: 50_000, Areas: testAreas(), AgePyramid: old, Today: today}))
	o60, tgt := 0, 0.0
	for _, x := range old[12:] {
		tgt += x
	}
	sum := 0.0
	for _, x := range old {
		sum += x
	}
	tgt = 100 * tgt / sum
	for _, p := range ps {
		b := approxBirth(t, p)
		if !b.Before(today) {
			t.Fatalf("person %d born %s, not before Today", p.Index, p.BirthDate)
		}
		if completedYears(b, today) >= 60 {
			o60++
		}
		if p.Dead && p.DeathDate >= "2050-07-01" {
			t.Fatalf("death date %s not before Today", p.DeathDate)
		}
	}
	if got := pct(o60, len(ps)); math.Abs(got-tgt) > 4 {
		t.Errorf("60+ share %.1f %%, target %.1f ± 4", got, tgt)
	}
}

func TestProvinces(t *testing.T) {
	hh := big(t)
	areas := bigCfg.Areas
	byCode := map[string]Area{}
	total := 0.0
	for _, a := range areas {
		byCode[a.ProvinceCode] = a
		total += a.Weight
	}
	counts := map[string]int{}
	n, local := 0, 0
	for _, h := range hh {
		a, ok := byCode[h.ProvinceCode]
		if !ok {
			t.Fatalf("unknown province %q", h.ProvinceCode)
		}
		if !slices.Contains(a.CommuneCodes, h.CommuneCode) {
			t.Fatalf("commune %q not in province %s", h.CommuneCode, h.ProvinceCode)
		}
		for _, p := range h.Members {
			n++
			counts[p.ProvinceCode]++
			if !isTwoDigits(p.BirthProvince) {
				t.Fatalf("BirthProvince %q is not a 2-digit code", p.BirthProvince)
			}
			if slices.Contains(a.BirthProvinceCodes, p.BirthProvince) {
				local++
			}
		}
	}
	for _, a := range areas {
		want := 100 * a.Weight / total
		got := pct(counts[a.ProvinceCode], n)
		if math.Abs(got-want) > math.Max(0.6, want*0.12) {
			t.Errorf("province %s: %.2f %% of people, want %.2f", a.ProvinceCode, got, want)
		}
	}
	if l := pct(local, n); l < 85 || l > 95 {
		t.Errorf("%.1f %% born in a merged legacy province of their residence, want about 90", l)
	}
}

func TestAreasWithoutBirthProvinces(t *testing.T) {
	areas := []Area{
		{ProvinceCode: "79", Weight: 3, CommuneCodes: []string{"26734", "26737"}},
		{ProvinceCode: "XX", Weight: 1, CommuneCodes: []string{"99999"}},
	}
	for _, p := range persons(collect(t, Config{Seed: 1, Persons: 3000, Areas: areas})) {
		if !isTwoDigits(p.BirthProvince) {
			t.Fatalf("BirthProvince %q", p.BirthProvince)
		}
		if p.ProvinceCode == "XX" && p.CommuneCode != "99999" {
			t.Fatalf("wrong commune %q", p.CommuneCode)
		}
	}
}

func TestEthnicityAndReligion(t *testing.T) {
	ps := persons(big(t))
	valid := map[string]bool{}
	for _, e := range Ethnicities() {
		valid[e.Code] = true
	}
	religions := Religions()
	eth, rel := map[string]int{}, map[string]int{}
	for _, p := range ps {
		if !valid[p.EthnicityCode] {
			t.Fatalf("invalid ethnicity code %q", p.EthnicityCode)
		}
		if p.Religion != "" && !slices.Contains(religions, p.Religion) {
			t.Fatalf("religion %q not in Religions()", p.Religion)
		}
		eth[p.EthnicityCode]++
		rel[p.Religion]++
	}
	checks := []struct {
		what      string
		got       float64
		want, tol float64
	}{
		{"Kinh", pct(eth["01"], len(ps)), 85.3, 2},
		{"Tày", pct(eth["02"], len(ps)), 1.9, 0.6},
		{"Thái", pct(eth["03"], len(ps)), 1.9, 0.6},
		{"Khơ-me", pct(eth["05"], len(ps)), 1.4, 0.6},
		{"Hmông", pct(eth["08"], len(ps)), 1.5, 0.6},
		{"no religion", pct(rel[""], len(ps)), 86, 3},
		{"Công giáo", pct(rel["Công giáo"], len(ps)), 6, 2},
		{"Phật giáo", pct(rel["Phật giáo"], len(ps)), 5, 2},
		{"Tin lành", pct(rel["Tin lành"], len(ps)), 1, 0.7},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > c.tol {
			t.Errorf("%s: %.2f %%, want %.1f ± %.1f", c.what, c.got, c.want, c.tol)
		}
	}
	if len(eth) < 35 {
		t.Errorf("only %d ethnic groups appear in 100,000 people", len(eth))
	}
}

func TestDatesAndDeaths(t *testing.T) {
	ps := persons(big(t))
	today := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	partial, pre1960, dead := 0, 0, 0
	deadAge, liveAge := 0.0, 0.0
	for _, p := range ps {
		if y, err := strconv.Atoi(p.BirthDate[:4]); err != nil || y != p.BirthYear {
			t.Fatalf("BirthDate %q does not start with BirthYear %d", p.BirthDate, p.BirthYear)
		}
		switch len(p.BirthDate) {
		case 10:
			parseDay(t, p.BirthDate)
		case 4, 7:
			partial++
			if p.BirthYear >= 1960 {
				t.Errorf("partial birth date %q for someone born in %d", p.BirthDate, p.BirthYear)
			}
			if len(p.BirthDate) == 7 {
				parseDay(t, p.BirthDate+"-01")
			}
		default:
			t.Fatalf("malformed BirthDate %q", p.BirthDate)
		}
		if p.BirthYear < 1960 {
			pre1960++
		}
		b := approxBirth(t, p)
		age := today.Sub(b).Hours() / 24 / 365.25
		if p.Dead {
			dead++
			deadAge += age
			d := parseDay(t, p.DeathDate)
			if !d.After(b) && !(len(p.BirthDate) < 10 && d.Year() > p.BirthYear) {
				t.Errorf("person %d died %s, before birth %s", p.Index, p.DeathDate, p.BirthDate)
			}
			if !d.Before(today) {
				t.Errorf("person %d died %s, not before Today", p.Index, p.DeathDate)
			}
			for _, c := range ps[max(0, p.Index-16):min(len(ps), p.Index+16)] {
				if (c.Father == p.Index || c.Mother == p.Index) && c.BirthDate > p.DeathDate {
					t.Errorf("person %d born %s after parent's death %s", c.Index, c.BirthDate, p.DeathDate)
				}
			}
		} else {
			liveAge += age
			if p.DeathDate != "" {
				t.Errorf("living person %d has DeathDate %q", p.Index, p.DeathDate)
			}
		}
	}
	if s := pct(partial, pre1960); s < 1 || s > 3.5 {
		t.Errorf("%.2f %% of people born before 1960 have partial dates, want about 2", s)
	}
	if d := pct(dead, len(ps)); d < 0.3 || d > 0.75 {
		t.Errorf("%.2f %% dead, want about 0.5", d)
	}
	if dead > 0 && deadAge/float64(dead) < liveAge/float64(len(ps)-dead)+15 {
		t.Errorf("dead people are not markedly older (%.0f vs %.0f)", deadAge/float64(dead), liveAge/float64(len(ps)-dead))
	}
}

func TestGenerateStopsOnError(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	err := Generate(Config{Persons: 1000, Areas: testAreas()}, func(Household) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Fatalf("Generate returned %v after %d calls, want fn's error after 3", err, calls)
	}
}

func BenchmarkGenerate(b *testing.B) {
	cfg := Config{Seed: 1, Persons: 1_000_000, Areas: testAreas()}
	if err := Generate(Config{Seed: 1, Persons: 1, Areas: cfg.Areas}, func(Household) error { return nil }); err != nil {
		b.Fatal(err) // warm the calibration cache
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	total := 0
	for i := 0; i < b.N; i++ {
		if err := Generate(cfg, func(h Household) error {
			total += len(h.Members)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "persons/s")
}
