// Package synth generates a deterministic, realistic-looking synthetic
// population of Vietnam: households with kinship links, Vietnamese names
// (NFC), ethnicity, religion, birth registration places, addresses and a
// few deaths. It contains no real personal data: every table is an
// approximation of published aggregate statistics (see tables.go and
// names.go) and all people are invented.
//
// The same Config always yields the same stream, byte for byte.
//
// How it works: each household is first built as a demographic skeleton
// (head, spouse, children still at home, sometimes a married child with
// spouse and grandchildren, a widowed parent, siblings...) from
// cohort-dependent fertility, marriage-age gaps and leaving-home
// probabilities. The age distribution of household heads is not given; it is
// fitted once per (Today, AgePyramid) by simulation and a smoothed EM
// iteration so that the whole population follows the target pyramid
// (cached; about 150 ms). The same fit scales, per age band, the odds
// that the choices the census does not pin down (which adult children stay
// in the parents' household, the sex of single heads) fall on a man, so
// that every cohort's sex ratio matches the census (sexRatioTarget).
// Weddings are never before the legal ages (20 for men, 18 for women) and
// children come after them. Names, ethnicity, religion, places (birth
// registration, hometown, the dwelling's unit before the 2025 reform and
// when each member's residence began) and deaths are then drawn.
//
// Notable approximations: minority naming customs are modelled only for the
// largest groups (Hmông, Thái, Tày, Nùng, Mường, Dao, Hoa, Khmer, Jrai, Cham);
// Ê-đê and other groups get Kinh-style names. Surname shares are kept near
// the national figures for the whole population (Nguyễn ~38 %), which forces
// minority families to carry common surnames fairly often. The age fit is
// approximate (under 15 comes out around 23 % for the 24.3 % target).
// Commune choice within a province is uniform.
package synth

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// Area is one province of residence, supplied by the caller from the
// administrative-unit catalogue.
type Area struct {
	ProvinceCode       string   // post-2025 province code, 2 digits ("01")
	Weight             float64  // population share (e.g. population in thousands)
	CommuneCodes       []string // 5-digit commune codes in force in this province
	BirthProvinceCodes []string // legacy (pre-2025) 2-digit province codes merged into this one

	// Predecessors[i], when given, lists the units of the map before
	// 1 July 2025 that CommuneCodes[i] was formed from, the largest part
	// first: communes, or the island district a special zone replaced.
	// They give residence periods before the reform their old code and tie
	// each birth-registration commune to the legacy province in the PIN.
	// nil: no residence period carries an old code.
	Predecessors [][]LegacyUnit
}

// LegacyUnit is a unit of the map in force until 30 June 2025.
type LegacyUnit struct {
	Code         string // 5-digit commune code, or 3-digit district code
	ProvinceCode string // legacy 2-digit province code
}

// Reform is the first day of the two-level map (Resolution 202/2025/QH15):
// a residence period that began before it began under the old units.
func Reform() time.Time { return time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC) }

// Config parameterises Generate.
type Config struct {
	Seed    int64
	Persons int // total persons to generate
	Areas   []Area
	Today   time.Time // reference date for ages; zero → 2026-01-01

	// AgePyramid is the target age structure: relative weights of the
	// 5-year bands 0–4, 5–9, …, 95–99, with the last element 100+ (at most
	// 21 elements; missing bands weigh 0). nil → DefaultAgePyramid() (2019
	// census shape). Household composition is fitted to it, so the result
	// matches it approximately.
	AgePyramid []float64
}

// Person is one synthetic resident.
type Person struct {
	Index                  int // 0-based position in the generated stream; stable for a given Config
	Surname, Middle, Given string
	FullName               string // "Nguyễn Văn An" (NFC, single spaces)
	Sex                    byte   // 'M' or 'F'
	BirthDate              string // "YYYY-MM-DD", or "YYYY" / "YYYY-MM" for some people born before 1960
	BirthYear              int
	EthnicityCode          string // "01" … "54"
	Religion               string // "" meaning none, else a name from Religions()
	BirthProvince          string // legacy 2-digit province code where the birth was registered
	ProvinceCode           string // permanent residence (post-2025 units)
	CommuneCode            string
	AddressDetail          string // "Số 12, ngõ 34, đường Lê Lợi" / "Thôn 3" / "Tổ 5" style, synthetic
	Household              int    // household index (0-based, stable)
	Relation               string // relation to the household head: "Chủ hộ", "Vợ", "Chồng", "Con", ...
	Father, Mother, Spouse int    // Index of that person in the stream, or -1
	Dead                   bool
	DeathDate              string // "YYYY-MM-DD" when Dead

	// BirthplaceCommune is the commune (current map) where the birth was
	// registered; when the areas give predecessors, one of its
	// predecessors lies in BirthProvince.
	BirthplaceCommune string
	// HometownCommune is the quê quán (current map): the origin of the
	// father's line, shared by a father and his children.
	HometownCommune string
	// MarriageDate is the wedding day ("YYYY-MM-DD") of a person whose
	// spouse lives in the household (Spouse >= 0 unless the end of the
	// stream cut the spouse off): never before the man was 20 and the
	// woman 18.
	MarriageDate string
	// ResidentSince is the day ("YYYY-MM-DD") the permanent residence in
	// this household began: at birth, at the wedding for a spouse who
	// married in, when the household was set up or a relative joined it.
	ResidentSince string
	// LegacyCommuneCode is the household's unit under the old map
	// (Household.LegacyCommuneCode) when ResidentSince is before Reform:
	// the residence ran under that code until 30 June 2025. "" otherwise,
	// or when the area gives no predecessors.
	LegacyCommuneCode string
}

// Household is a group of persons sharing a permanent residence. Members[0]
// is the head. Members is freshly allocated for every household, so callers
// may keep it.
type Household struct {
	Index                                    int
	ProvinceCode, CommuneCode, AddressDetail string
	// LegacyCommuneCode is the unit of the old map the dwelling lay in
	// until 30 June 2025 (one of the commune's predecessors), "" when the
	// area gives none.
	LegacyCommuneCode string
	Members           []Person
}

// Relations returns the relation-to-head labels the generator uses.
func Relations() []string { return append([]string(nil), relNames[:]...) }

var defaultToday = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (c Config) today() time.Time {
	if c.Today.IsZero() {
		return defaultToday
	}
	return c.Today
}

// Validate checks the configuration and returns a descriptive error for
// the first problem found.
func (c Config) Validate() error {
	if c.Persons < 0 {
		return fmt.Errorf("synth: Config.Persons must be >= 0, got %d", c.Persons)
	}
	if len(c.Areas) == 0 {
		return errors.New("synth: Config.Areas is empty: at least one Area with communes is required")
	}
	for i, a := range c.Areas {
		if a.ProvinceCode == "" {
			return fmt.Errorf("synth: Config.Areas[%d] has an empty ProvinceCode", i)
		}
		if math.IsNaN(a.Weight) || math.IsInf(a.Weight, 0) || a.Weight <= 0 {
			return fmt.Errorf("synth: Config.Areas[%d] (province %q): Weight must be a finite number > 0, got %v",
				i, a.ProvinceCode, a.Weight)
		}
		if len(a.CommuneCodes) == 0 {
			return fmt.Errorf("synth: Config.Areas[%d] (province %q) has no CommuneCodes", i, a.ProvinceCode)
		}
		for j, cc := range a.CommuneCodes {
			if cc == "" {
				return fmt.Errorf("synth: Config.Areas[%d] (province %q): CommuneCodes[%d] is empty",
					i, a.ProvinceCode, j)
			}
		}
		if a.Predecessors != nil && len(a.Predecessors) != len(a.CommuneCodes) {
			return fmt.Errorf("synth: Config.Areas[%d] (province %q): %d Predecessors for %d CommuneCodes",
				i, a.ProvinceCode, len(a.Predecessors), len(a.CommuneCodes))
		}
		for j, ps := range a.Predecessors {
			for _, u := range ps {
				if u.Code == "" || !isTwoDigits(u.ProvinceCode) {
					return fmt.Errorf("synth: Config.Areas[%d] (province %q): Predecessors[%d] has %+v",
						i, a.ProvinceCode, j, u)
				}
			}
		}
		for j, bp := range a.BirthProvinceCodes {
			if !isTwoDigits(bp) {
				return fmt.Errorf("synth: Config.Areas[%d] (province %q): BirthProvinceCodes[%d] = %q is not a 2-digit code",
					i, a.ProvinceCode, j, bp)
			}
		}
	}
	if y := c.today().Year(); y < 1980 || y > 2100 {
		return fmt.Errorf("synth: Config.Today year must be within 1980–2100, got %d", y)
	}
	if c.AgePyramid != nil {
		if len(c.AgePyramid) > nBands {
			return fmt.Errorf("synth: Config.AgePyramid has %d bands, at most %d (0–4 … 95–99, 100+) allowed",
				len(c.AgePyramid), nBands)
		}
		sum := 0.0
		for i, x := range c.AgePyramid {
			if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
				return fmt.Errorf("synth: Config.AgePyramid[%d] must be a finite number >= 0, got %v", i, x)
			}
			sum += x
		}
		if sum <= 0 {
			return errors.New("synth: Config.AgePyramid must have a positive total")
		}
	}
	return nil
}

func isTwoDigits(s string) bool {
	return len(s) == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9'
}

// ---- generator state ----

type styleTables struct {
	pOwnSurname        float64
	surnames           strTable
	maleMid, femaleMid *strTable
	pOwnGiven          float64
	maleGiv, femaleGiv *strTable
}

type areaInfo struct {
	code      string
	communes  []string
	preds     [][]LegacyUnit
	south     bool
	eth       cumTable
	rel       cumTable
	birth     []string
	birthCum  cumTable
	addr      addrProfile
	ruralKind cumTable
}

type gen struct {
	d       demog
	r       *rng
	headAge cumTable
	areas   []areaInfo
	areaCum cumTable

	surnames  [2]strTable // north, south (compensated for minority surnames)
	styles    [len(ethnicities)]*styleTables
	ethRel    [len(ethnicities)]cumTable
	maleMid   [3]strTable
	femaleMid [3]strTable
	male2     strTable
	female2   strTable
	maleGiv   [2]strTable
	femaleGiv [2]strTable
	migrant   cumTable
	// byLegacy lists, per legacy province, the current communes formed
	// (in part) from its communes: where births registered there are now.
	byLegacy map[string][]string

	cut1960 int32
	reform  int32
	buf     []byte
}

func newGen(cfg Config) *gen {
	ty, tm, td := cfg.today().Date()
	today := int32(daysFromCivil(ty, int(tm), td))
	pyr := cfg.AgePyramid
	if pyr == nil {
		pyr = defaultPyramid[:]
	}
	f := headAgeTable(today, pyr)
	g := &gen{
		d:       demog{today: today, maleOdds: f.maleOdds},
		r:       newRNG(cfg.Seed, 0x9e3779b97f4a7c15),
		headAge: f.headAge,
		cut1960: int32(daysFromCivil(1960, 1, 1)),
		reform:  int32(daysFromCivil(2025, 7, 1)),
		buf:     make([]byte, 0, 128),
	}
	g.initNames()
	g.initAreas(cfg.Areas)
	return g
}

func (g *gen) initNames() {
	for c := 0; c < 3; c++ {
		mw := make([]wstr, len(maleMiddles))
		for i, x := range maleMiddles {
			mw[i] = wstr{x.s, [3]float64{x.w0, x.w1, x.w2}[c]}
		}
		g.maleMid[c] = newStrTable(mw)
		fw := make([]wstr, len(femaleMiddles))
		for i, x := range femaleMiddles {
			fw[i] = wstr{x.s, [3]float64{x.w0, x.w1, x.w2}[c]}
		}
		g.femaleMid[c] = newStrTable(fw)
	}
	g.male2 = newStrTable(maleSecondMiddles)
	g.female2 = newStrTable(femaleSecondMiddles)
	for e := 0; e < 2; e++ {
		mw := make([]wstr, len(maleGiven))
		for i, x := range maleGiven {
			mw[i] = wstr{x.s, [2]float64{x.old, x.young}[e]}
		}
		g.maleGiv[e] = newStrTable(mw)
		fw := make([]wstr, len(femaleGiven))
		for i, x := range femaleGiven {
			fw[i] = wstr{x.s, [2]float64{x.old, x.young}[e]}
		}
		g.femaleGiv[e] = newStrTable(fw)
	}
	for e, st := range ethnicNameStyles {
		t := &styleTables{pOwnSurname: st.pOwnSurname, surnames: newStrTable(st.surnames), pOwnGiven: st.pOwnGiven}
		if st.maleMid != nil {
			x := newStrTable(st.maleMid)
			t.maleMid = &x
		}
		if st.femaleMid != nil {
			x := newStrTable(st.femaleMid)
			t.femaleMid = &x
		}
		if st.maleGiven != nil {
			x := newStrTable(st.maleGiven)
			t.maleGiv = &x
		}
		if st.femaleGiven != nil {
			x := newStrTable(st.femaleGiven)
			t.femaleGiv = &x
		}
		g.styles[e] = t
	}
	for e, rs := range ethnicReligion {
		g.ethRel[e] = religionTable(rs)
	}
	w := make([]float64, len(legacyProvinces))
	for i, p := range legacyProvinces {
		w[i] = p.pop
	}
	g.migrant = makeCum(w)
}

func religionTable(rs []relShare) cumTable {
	w := make([]float64, nReligions)
	none := 100.0
	for _, x := range rs {
		w[x.rel] += x.pct
		none -= x.pct
	}
	w[rNone] = math.Max(none, 0)
	return makeCum(w)
}

// ethnicMix returns the ethnic shares (summing to 1) of a province.
func ethnicMix(code string) []float64 {
	w := make([]float64, len(ethnicities))
	if mix, ok := provinceEthnicMix[code]; ok {
		kinh := 100.0
		for _, x := range mix {
			w[x.eth] += x.pct
			kinh -= x.pct
		}
		w[eKinh] += math.Max(kinh, 0)
	} else {
		for i, e := range ethnicities {
			w[i] = e.pop19
		}
	}
	s := 0.0
	for _, x := range w {
		s += x
	}
	for i := range w {
		w[i] /= s
	}
	return w
}

func (g *gen) initAreas(areas []Area) {
	legacyPop := make(map[string]float64, len(legacyProvinces))
	for _, p := range legacyProvinces {
		legacyPop[p.code] = p.pop
	}
	g.areas = make([]areaInfo, len(areas))
	g.byLegacy = make(map[string][]string, len(legacyProvinces))
	aw := make([]float64, len(areas))
	var regionW [2]float64
	var regionEth [2][]float64
	regionEth[0] = make([]float64, len(ethnicities))
	regionEth[1] = make([]float64, len(ethnicities))
	for i, a := range areas {
		ai := &g.areas[i]
		ai.code = a.ProvinceCode
		ai.communes = a.CommuneCodes
		ai.preds = a.Predecessors
		for j, ps := range a.Predecessors {
			for k, u := range ps {
				if l := g.byLegacy[u.ProvinceCode]; k == slices.IndexFunc(ps, func(v LegacyUnit) bool { return v.ProvinceCode == u.ProvinceCode }) &&
					(len(l) == 0 || l[len(l)-1] != a.CommuneCodes[j]) {
					g.byLegacy[u.ProvinceCode] = append(l, a.CommuneCodes[j])
				}
			}
		}
		num, err := strconv.Atoi(a.ProvinceCode)
		if err != nil {
			num = 1
		}
		ai.south = num >= 47
		mix := ethnicMix(a.ProvinceCode)
		ai.eth = makeCum(mix)
		reg := 0
		if ai.south {
			reg = 1
		}
		regionW[reg] += a.Weight
		for e, x := range mix {
			regionEth[reg][e] += a.Weight * x
		}
		rs, ok := provinceReligion[a.ProvinceCode]
		if !ok {
			rs = defaultReligion
		}
		ai.rel = religionTable(rs)
		bp := a.BirthProvinceCodes
		if len(bp) == 0 {
			if m, ok := mergedLegacy[a.ProvinceCode]; ok {
				bp = m
			} else if isTwoDigits(a.ProvinceCode) {
				bp = []string{a.ProvinceCode}
			}
		}
		if len(bp) > 0 {
			ai.birth = bp
			bw := make([]float64, len(bp))
			for j, c := range bp {
				bw[j] = legacyPop[c]
				if bw[j] == 0 {
					bw[j] = 1000
				}
			}
			ai.birthCum = makeCum(bw)
		}
		p, ok := addrProfiles[a.ProvinceCode]
		if !ok {
			p = defaultAddrProfile(num)
		}
		ai.addr = p
		ai.ruralKind = makeCum(p.rural[:])
		aw[i] = a.Weight
	}
	g.areaCum = makeCum(aw)
	for reg := 0; reg < 2; reg++ {
		g.surnames[reg] = g.regionSurnames(reg == 1, regionW[reg], regionEth[reg])
	}
}

// regionSurnames builds the surname table used for Kinh (and minorities
// without their own surnames) in a region. Minority groups draw part of their
// surnames from their own lists; the general table is corrected so that the
// overall regional shares stay near the published national ones (Nguyễn
// ~38 % of everybody, not only of the Kinh).
func (g *gen) regionSurnames(south bool, W float64, ethW []float64) strTable {
	target := make(map[string]float64, 128)
	var order []string
	add := func(s string, w float64) {
		if _, ok := target[s]; !ok {
			order = append(order, s)
		}
		target[s] += w
	}
	for _, x := range kinhSurnames {
		if south {
			add(x.name, x.south/100)
		} else {
			add(x.name, x.north/100)
		}
	}
	restTot := 0.0
	for _, x := range restSurnames {
		restTot += x.w
	}
	for _, x := range restSurnames {
		add(x.s, x.w/restTot*restSurnameShare/100)
	}
	if W > 0 {
		f := 0.0
		own := make(map[string]float64)
		for e := range ethnicities { // fixed order: float sums must be deterministic
			st := ethnicNameStyles[e]
			if st == nil {
				continue
			}
			share := ethW[e] / W * st.pOwnSurname
			if share == 0 {
				continue
			}
			f += share
			tot := 0.0
			for _, x := range st.surnames {
				tot += x.w
			}
			for _, x := range st.surnames {
				own[x.s] += share * x.w / tot
			}
		}
		if f > 0 && f < 0.9 {
			// The main names keep their overall share exactly; the long
			// tail absorbs the surnames only minorities use (Giàng, Lò...).
			mainSum, restSum := 0.0, 0.0
			for i, s := range order {
				target[s] = math.Max(target[s]-own[s], target[s]*0.05) / (1 - f)
				if i < len(kinhSurnames) {
					mainSum += target[s]
				} else {
					restSum += target[s]
				}
			}
			if k := (1 - mainSum) / restSum; k > 0.05 && k < 1 {
				for _, s := range order[len(kinhSurnames):] {
					target[s] *= k
				}
			}
		}
	}
	ws := make([]wstr, len(order))
	for i, s := range order {
		ws[i] = wstr{s, target[s]}
	}
	return newStrTable(ws)
}

// ---- names ----

func (g *gen) kinhMiddle(sex byte, by int) (string, string) {
	r := g.r
	coh := 2
	if by < 1975 {
		coh = 0
	} else if by < 1990 {
		coh = 1
	}
	var m1, m2 string
	var p4 float64
	if sex == 'M' {
		m1 = g.maleMid[coh].draw(r)
		p4 = 0.06
		if coh == 2 {
			p4 = 0.12
		}
	} else {
		m1 = g.femaleMid[coh].draw(r)
		p4 = 0.08
		if m1 == "Thị" {
			p4 = 0.25
		} else if coh == 2 {
			p4 = 0.15
		}
	}
	if r.chance(p4) {
		t := &g.male2
		if sex == 'F' {
			t = &g.female2
		}
		for k := 0; k < 3; k++ {
			if x := t.draw(r); x != m1 {
				m2 = x
				break
			}
		}
	}
	return m1, m2
}

// personName draws middle name(s) and given name for a person of ethnic
// index eth, sex and birth year by.
func (g *gen) personName(eth int, sex byte, by int) (m1, m2, given string) {
	r := g.r
	st := g.styles[eth]
	var mid, giv *strTable
	if st != nil {
		if sex == 'M' {
			mid, giv = st.maleMid, st.maleGiv
		} else {
			mid, giv = st.femaleMid, st.femaleGiv
		}
		if giv != nil && !r.chance(st.pOwnGiven) {
			giv = nil
		}
	}
	if mid != nil {
		m1 = mid.draw(r)
	} else {
		m1, m2 = g.kinhMiddle(sex, by)
	}
	if giv == nil {
		era := 1
		if by < 1985 {
			era = 0
		}
		if sex == 'M' {
			giv = &g.maleGiv[era]
		} else {
			giv = &g.femaleGiv[era]
		}
	}
	for k := 0; k < 5; k++ {
		given = giv.draw(r)
		if given != m1 && given != m2 {
			break
		}
	}
	return
}

// deathProb is the chance that a non-head member of this age is recorded as
// dead (deaths over the last ten years of a register; older people far more
// likely; men about twice as likely as women of the same age, as in the
// life tables). Scaled so that about 0.5 % of all people are dead.
func deathProb(age float64, sex byte) float64 {
	if sex == 'M' {
		return 1.35 * deathRate(age)
	}
	return 0.7 * deathRate(age)
}

func deathRate(age float64) float64 {
	switch {
	case age < 1:
		return 0.01
	case age < 40:
		return 0.0015
	case age < 60:
		return 0.005
	case age < 70:
		return 0.02
	case age < 80:
		return 0.05
	case age < 90:
		return 0.12
	}
	return 0.25
}

// ---- generation ----

// Generate calls fn for each household in order until cfg.Persons persons
// were produced (the last household may be cut short, never leaving a
// household without its head; links to members cut off become -1).
// It is deterministic: the same Config gives the same stream, byte for byte.
// It returns the validation error, or fn's error if fn returns one.
func Generate(cfg Config, fn func(Household) error) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Persons == 0 {
		return nil
	}
	g := newGen(cfg)
	var s skeleton
	produced := 0
	for hh := 0; produced < cfg.Persons; hh++ {
		h := float64(minHeadAge+g.headAge.pick(g.r.float())) + g.r.float()
		g.d.build(&s, g.r, h)
		n := s.n
		if rest := cfg.Persons - produced; n > rest {
			n = rest
		}
		if err := fn(g.decorate(&s, n, hh, produced)); err != nil {
			return err
		}
		produced += n
	}
	return nil
}

// decorate turns the first n members of skeleton s into a Household.
func (g *gen) decorate(s *skeleton, n, hhIndex, base int) Household {
	r := g.r
	a := &g.areas[g.areaCum.pick(r.float())]
	ci := 0
	if len(a.communes) > 1 {
		ci = r.intn(len(a.communes))
	}
	commune := a.communes[ci]
	hh := Household{
		Index:         hhIndex,
		ProvinceCode:  a.code,
		CommuneCode:   commune,
		AddressDetail: g.address(&a.addr, a.ruralKind),
		Members:       make([]Person, n),
	}
	// The dwelling's unit before the reform, and its legacy province.
	homeProv := ""
	if a.preds != nil {
		if ps := a.preds[ci]; len(ps) > 0 {
			u := ps[0]
			if len(ps) > 1 && r.chance(0.4) {
				u = ps[r.intn(len(ps))]
			}
			hh.LegacyCommuneCode, homeProv = u.Code, u.ProvinceCode
		}
	}
	reg := 0
	if a.south {
		reg = 1
	}
	// Surname lines: ethnicity and surname.
	var lineEth [maxLines]uint8
	var lineSur [maxLines]string
	for l := 0; l < s.nLines; l++ {
		e := 0
		if l > 0 && r.chance(0.93) {
			e = int(lineEth[0])
		} else {
			e = a.eth.pick(r.float())
		}
		lineEth[l] = uint8(e)
		if st := g.styles[e]; st != nil && r.chance(st.pOwnSurname) {
			lineSur[l] = st.surnames.draw(r)
		} else {
			lineSur[l] = g.surnames[reg].draw(r)
		}
	}
	// Each line's hometown: the family home for the head's line when the
	// head was born there, else where the line's forebears were registered.
	var lineHome [maxLines]string
	for l := 0; l < s.nLines; l++ {
		if l == int(s.m[0].line) && s.m[0].since == s.m[0].birth {
			lineHome[l] = commune
			continue
		}
		lineHome[l], _ = g.communeIn(g.birthProvince(a, 40), commune, homeProv)
	}
	headEth := int(lineEth[s.m[0].line])
	relT := a.rel
	if t := g.ethRel[headEth]; t != nil {
		relT = t
	}
	religion := religionNames[relT.pick(r.float())]
	today := g.d.today
	link := func(i int8) int {
		if i < 0 || int(i) >= n {
			return -1
		}
		return base + int(i)
	}
	for i := 0; i < n; i++ {
		m := &s.m[i]
		p := &hh.Members[i]
		p.Index = base + i
		p.Household = hhIndex
		p.Sex = m.sex
		p.Relation = relNames[m.rel]
		p.ProvinceCode, p.CommuneCode, p.AddressDetail = a.code, commune, hh.AddressDetail
		p.Religion = religion
		e := int(lineEth[m.line])
		p.EthnicityCode = ethCodes[e]
		p.Father, p.Mother, p.Spouse = link(m.father), link(m.mother), link(m.spouse)

		bd := dateString(int(m.birth))
		by := int(bd[0]-'0')*1000 + int(bd[1]-'0')*100 + int(bd[2]-'0')*10 + int(bd[3]-'0')
		p.BirthYear = by
		p.BirthDate = bd
		if m.birth < g.cut1960 && r.chance(0.02) {
			if r.chance(0.6) {
				p.BirthDate = bd[:4]
			} else {
				p.BirthDate = bd[:7]
			}
		}

		sur := lineSur[m.line]
		var m1, m2, given string
		for try := 0; try < 4; try++ {
			m1, m2, given = g.personName(e, m.sex, by)
			if !usedGiven(hh.Members[:i], given) { // no one shares a given name with a relative in the house
				break
			}
		}
		b := append(g.buf[:0], sur...)
		if m1 != "" {
			b = append(b, ' ')
			b = append(b, m1...)
		}
		if m2 != "" {
			b = append(b, ' ')
			b = append(b, m2...)
		}
		b = append(b, ' ')
		b = append(b, given...)
		g.buf = b
		full := string(b)
		p.Surname, p.Given, p.FullName = sur, given, full
		if m2 != "" {
			p.Middle = full[len(sur)+1 : len(sur)+1+len(m1)+1+len(m2)]
		} else {
			p.Middle = m1
		}

		age := float64(today-m.birth) / yd
		if m.birth >= m.since && homeProv != "" && r.chance(0.9) {
			// Born while the family lived here: registered at home.
			p.BirthProvince, p.BirthplaceCommune = homeProv, commune
		} else {
			p.BirthplaceCommune, p.BirthProvince = g.communeIn(g.birthProvince(a, age), commune, homeProv)
		}
		p.HometownCommune = lineHome[m.line]
		p.ResidentSince = dateString(int(m.since))
		if m.since < g.reform {
			p.LegacyCommuneCode = hh.LegacyCommuneCode
		}
		if m.spouse >= 0 { // also when the end of the stream cut the spouse off
			p.MarriageDate = dateString(int(m.married))
		}

		if i > 0 && r.chance(deathProb(age, m.sex)) {
			// After the residence here began and after the wedding.
			lo := max(m.birth+1, today-days(10), m.since+1, m.married+1)
			for j := 0; j < s.n; j++ { // after the birth of their children
				if (s.m[j].father == int8(i) || s.m[j].mother == int8(i)) && s.m[j].birth >= lo {
					lo = s.m[j].birth + 1
				}
			}
			if hi := today - 1; lo <= hi {
				p.Dead = true
				p.DeathDate = dateString(int(lo) + r.intn(int(hi-lo)+1))
			}
		}
	}
	return hh
}

func usedGiven(ps []Person, given string) bool {
	for i := range ps {
		if ps[i].Given == given {
			return true
		}
	}
	return false
}

// communeIn picks a commune of the current map formed from communes of the
// legacy province prov: the home commune when its own legacy unit was in
// prov, else any such commune. When the areas name no commune of prov,
// it is the home commune and its legacy province (homeProv, or prov when
// no predecessors are known at all).
func (g *gen) communeIn(prov, home, homeProv string) (commune, province string) {
	if prov == homeProv {
		return home, prov
	}
	if l := g.byLegacy[prov]; len(l) > 0 {
		return l[g.r.intn(len(l))], prov
	}
	if homeProv != "" {
		return home, homeProv
	}
	return home, prov
}

// birthProvince draws the legacy province where a person's birth was
// registered: mostly one of the area's legacy provinces, else (migrants)
// any province weighted by population.
func (g *gen) birthProvince(a *areaInfo, age float64) string {
	r := g.r
	p := 0.04
	if age >= 18 {
		p = 0.13
	}
	if len(a.birth) == 0 || r.chance(p) {
		return legacyProvinces[g.migrant.pick(r.float())].code
	}
	if len(a.birth) == 1 {
		return a.birth[0]
	}
	return a.birth[a.birthCum.pick(r.float())]
}
