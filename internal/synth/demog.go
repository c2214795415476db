package synth

import (
	"math"
	"strconv"
	"sync"
)

// The demographic "skeleton" of a household: who lives there, their sex,
// birth day and kinship, without names or places. Ages are handled as day
// numbers (days since 1970-01-01).

const (
	yd          = 365.2425 // mean Gregorian year in days
	maxMembers  = 16
	maxLines    = 16
	nBands      = 21 // 0–4 … 95–99, 100+
	minHeadAge  = 18
	maxAge      = 100
	nHeadAges   = maxAge - minHeadAge + 1
	maxChildren = 4
)

// Relations to the household head, as written in Vietnamese household
// registers.
const (
	relHead uint8 = iota
	relWife
	relHusband
	relChild
	relDaughterInLaw
	relSonInLaw
	relGrandchild
	relFather
	relMother
	relOlderBrother
	relOlderSister
	relYounger
	relGrandfather
	relGrandmother
)

var relNames = [...]string{
	relHead:          "Chủ hộ",
	relWife:          "Vợ",
	relHusband:       "Chồng",
	relChild:         "Con",
	relDaughterInLaw: "Con dâu",
	relSonInLaw:      "Con rể",
	relGrandchild:    "Cháu",
	relFather:        "Cha",
	relMother:        "Mẹ",
	relOlderBrother:  "Anh",
	relOlderSister:   "Chị",
	relYounger:       "Em",
	relGrandfather:   "Ông",
	relGrandmother:   "Bà",
}

// smem is one member of a skeleton. father/mother/spouse are positions in
// the same household or -1. line identifies a surname line: members sharing
// a line share surname and ethnicity (a father and his children).
type smem struct {
	birth                  int32
	married                int32 // wedding day when the spouse is in the household, else 0
	since                  int32 // day the permanent residence in this household began
	rel                    uint8
	sex                    byte
	line                   uint8
	father, mother, spouse int8
}

type skeleton struct {
	m      [maxMembers]smem
	n      int
	nLines int
}

func (s *skeleton) add(rel uint8, sex byte, birth int32, line uint8) int8 {
	i := s.n
	s.m[i] = smem{birth: birth, rel: rel, sex: sex, line: line, father: -1, mother: -1, spouse: -1}
	s.n++
	return int8(i)
}

func (s *skeleton) newLine() uint8 {
	l := uint8(s.nLines)
	s.nLines++
	return l
}

func (s *skeleton) marry(a, b int8, wedding int32) {
	s.m[a].spouse, s.m[a].married = b, wedding
	s.m[b].spouse, s.m[b].married = a, wedding
}

// demog builds skeletons relative to a reference day.
type demog struct {
	today int32
	// maleOdds multiplies, per age band today, the odds that a choice the
	// census does not pin down falls on a man: which adult children stay in
	// the parents' household, the sex of single heads and of the head's
	// siblings. 0 means 1. Fitted by calibrate.
	maleOdds [nBands]float64
}

// oddsFor is the male odds factor for someone born on b.
func (d *demog) oddsFor(b int32) float64 {
	if k := d.maleOdds[bandOf(d.today-b)]; k > 0 {
		return k
	}
	return 1
}

// sexFor draws the sex of someone born on b whom the model would make a man
// with probability p, before the calibration.
func (d *demog) sexFor(r *rng, b int32, p float64) byte {
	return sexP(r, withOdds(p, d.oddsFor(b)))
}

func days(years float64) int32 { return int32(years * yd) }

func (d *demog) ageOf(birth int32) float64 { return float64(d.today-birth) / yd }

// birthFor returns a birth day for someone aged `years` (fractional) today.
func (d *demog) birthFor(years float64) int32 { return d.today - 1 - days(years) }

// clampAdult keeps a birth day within ages [minAge, 100] today.
func (d *demog) clampAdult(r *rng, b int32, minAge float64) int32 {
	if d.ageOf(b) < minAge {
		return d.birthFor(minAge + 5*r.float()) // spread, not a pile-up at minAge
	}
	if d.ageOf(b) > maxAge+0.9 {
		return d.birthFor(maxAge + 0.9*r.float())
	}
	return b
}

// ageDay is the day someone born on b reaches the age of years (full
// calendar years; a 29 February birthday counts from 1 March).
func ageDay(b int32, years int) int32 {
	y, m, dd := civilFromDays(int(b))
	return int32(daysFromCivil(y+years, m, dd))
}

// The legal minimum ages at marriage: a man from full 20, a woman from
// full 18 (Law on Marriage and Family 52/2014/QH13 Art. 8; the same ages
// since the 1959 law).
const (
	minMarriageAgeM = 20
	minMarriageAgeF = 18
)

// wife's age at marriage, 18..35 (mean about 23; the 2019 census puts the
// singulate mean age at first marriage of women near 23 and of men near
// 27, which the husband's age gap reproduces).
var wifeMarriageAge = makeCum([]float64{6, 8, 10, 11, 11, 10, 9, 8, 6, 5, 4, 3, 2.5, 2, 1.5, 1, 0.7, 0.5})

// marriageDay draws the wedding day of a man born on hb and a woman born
// on wb: not before both reached the legal age, before today. ok is false
// when they cannot yet have married lawfully.
func (d *demog) marriageDay(r *rng, hb, wb int32) (day int32, ok bool) {
	lo := max(ageDay(hb, minMarriageAgeM), ageDay(wb, minMarriageAgeF))
	if lo >= d.today {
		return 0, false
	}
	m := wb + days(float64(18+wifeMarriageAge.pick(r.float()))+r.float())
	if m < lo {
		m = lo + int32(r.intn(int(min(days(2), d.today-lo))))
	}
	if m >= d.today {
		m = lo + int32(r.intn(int(d.today-lo)))
	}
	return m, true
}

func yearOfDay(z int32) int {
	y, _, _ := civilFromDays(int(z))
	return y
}

// ---- probability tables (approximate, shaped after the 2019 census) ----

// children ever born (0..6) by mother's birth cohort. Slightly above the
// census fertility of recent cohorts, because the model has no other source
// of children (fostering, remarriage...).
var cebTables = [5]cumTable{
	makeCum([]float64{4, 4, 8, 12, 17, 20, 35}),  // born before 1945
	makeCum([]float64{4, 5, 12, 20, 22, 17, 20}), // 1945–1959
	makeCum([]float64{5, 8, 30, 30, 15, 7, 5}),   // 1960–1974
	makeCum([]float64{4, 9, 43, 30, 11, 3, 0}),   // 1975–1989
	makeCum([]float64{5, 10, 42, 30, 11, 2, 0}),  // from 1990
}

func cohortIndex(y int) int {
	switch {
	case y < 1945:
		return 0
	case y < 1960:
		return 1
	case y < 1975:
		return 2
	case y < 1990:
		return 3
	}
	return 4
}

// mother's age at first birth, 18..35
var firstBirthAge = makeCum([]float64{2, 4, 7, 9, 10, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1.5, 1, 0.7, 0.5})

// husband's age minus wife's age, -3..12 years
var spouseGapTable = makeCum([]float64{1, 2, 4, 7, 10, 11, 10, 8, 6, 5, 3, 2, 1.5, 1, 0.6, 0.5})

func spouseGap(r *rng) float64 {
	return float64(spouseGapTable.pick(r.float())-3) + r.float() - 0.5
}

// pNever: probability that a head of this age has never married.
func pNever(h float64) float64 {
	switch {
	case h < 23:
		return 0.7
	case h < 28:
		return 0.4
	case h < 35:
		return 0.16
	case h < 50:
		return 0.07
	}
	return 0.04
}

// pWidowed: probability that a head of this age is widowed, divorced or
// separated (no spouse in the household).
func pWidowed(h float64) float64 {
	switch {
	case h < 35:
		return 0.04
	case h < 50:
		return 0.09
	case h < 60:
		return 0.17
	case h < 70:
		return 0.32
	case h < 80:
		return 0.5
	}
	return 0.68
}

// pParentOfHead: probability that a (widowed) parent of the head lives in.
func pParentOfHead(h float64) float64 {
	switch {
	case h < 25:
		return 0.03
	case h < 35:
		return 0.07
	case h < 45:
		return 0.10
	case h < 55:
		return 0.11
	case h < 65:
		return 0.07
	}
	return 0.02
}

// Who lives in the parents' household. Everyone under 18 does. An
// unmarried adult child mostly keeps the permanent residence there
// (students and workers away register a temporary residence elsewhere). A
// married son stays fairly often — the patrilocal custom of one son living
// with his parents — and his wife moves in (Con dâu); a married daughter
// rarely stays, and then her husband moves in (Con rể, "ở rể"). Whether an
// adult child is married follows the marriage ages above. The sex-specific
// odds are then scaled per age band by the calibration (sexFit) so that the
// sex ratio of every cohort matches the census.

// marriedBy is the share of people of an age who have married.
func marriedBy(age float64, sex byte) float64 {
	if sex == 'M' {
		return interp(age, menMarried[:])
	}
	return interp(age, womenMarried[:])
}

// stayProb is the probability that an adult child of this age, sex and
// marital status still lives in the parents' household, before the
// calibration's odds factor.
func stayProb(age float64, sex byte, married bool) float64 {
	switch {
	case married && sex == 'M':
		return 0.3
	case married:
		return 0.06
	case sex == 'M':
		return interp(age, sonStay[:])
	}
	return interp(age, daughterStay[:])
}

type pt struct{ x, y float64 }

var (
	menMarried   = [...]pt{{20, 0}, {22, 0.1}, {24, 0.25}, {26, 0.42}, {28, 0.58}, {30, 0.7}, {33, 0.82}, {40, 0.9}, {50, 0.94}}
	womenMarried = [...]pt{{18, 0}, {20, 0.2}, {22, 0.42}, {24, 0.6}, {26, 0.73}, {28, 0.82}, {30, 0.88}, {35, 0.94}, {45, 0.96}}
	sonStay      = [...]pt{{18, 0.97}, {25, 0.93}, {30, 0.9}, {40, 0.85}, {50, 0.8}}
	daughterStay = [...]pt{{18, 0.95}, {25, 0.9}, {30, 0.85}, {40, 0.8}}
)

// withOdds scales the odds of probability p by k.
func withOdds(p, k float64) float64 {
	if k == 1 || p <= 0 || p >= 1 {
		return p
	}
	o := p / (1 - p) * k
	return o / (1 + o)
}

// interp evaluates a piecewise-linear function, constant beyond its ends.
func interp(x float64, f []pt) float64 {
	if x <= f[0].x {
		return f[0].y
	}
	for i := 1; i < len(f); i++ {
		if x < f[i].x {
			a, b := f[i-1], f[i]
			return a.y + (b.y-a.y)*(x-a.x)/(b.x-a.x)
		}
	}
	return f[len(f)-1].y
}

// birthSex draws a sex; the sex ratio at birth rose to about 112 boys per
// 100 girls after 2005.
func birthSex(r *rng, birth int32) byte {
	p := 0.512
	if birth >= int32(daysFromCivil(2005, 1, 1)) {
		p = 0.528
	}
	if r.chance(p) {
		return 'M'
	}
	return 'F'
}

func sexP(r *rng, pMale float64) byte {
	if r.chance(pMale) {
		return 'M'
	}
	return 'F'
}

// fertility returns birth days (ascending) of the children a woman born on
// mb has had up to today: at ages 18–45 and not before start (her wedding,
// when the children's father is known).
func (d *demog) fertility(r *rng, mb, start int32, out *[8]int32) int {
	k := cohortIndex(yearOfDay(mb))
	n := cebTables[k].pick(r.float())
	if n == 0 {
		return 0
	}
	a := 18 + float64(firstBirthAge.pick(r.float())) + r.float()
	if k == 4 {
		a += 1 // later first births among young cohorts
	}
	if a > 44 {
		a = 44
	}
	// +2 days: days(18) may fall a day short of 18 calendar years.
	t := mb + days(a) + 2
	if start > 0 {
		u := r.float()
		t = max(t, start+days(0.75+2*u*u))
	}
	limit := mb + days(45)
	cnt := 0
	for i := 0; i < n; i++ {
		if t > limit || t >= d.today {
			break
		}
		out[cnt] = t
		cnt++
		u := r.float()
		t += days(1.3 + 4*u*u)
	}
	return cnt
}

// addChildren adds the children of mother mi / father fi (either may be -1
// when absent; mb is the mother's birth day, wedding the parents' wedding
// day or 0) who still live at home.
func (d *demog) addChildren(s *skeleton, r *rng, mi, fi int8, mb, wedding int32,
	line uint8, rel uint8, allowMarried bool, limit int) int {
	var births [8]int32
	n := d.fertility(r, mb, wedding, &births)
	if n == 0 {
		return 0
	}
	var sexes [8]byte
	var keep [8]bool
	married, kept := -1, 0
	for i := 0; i < n; i++ {
		sex := birthSex(r, births[i])
		sexes[i] = sex
		if age := d.ageOf(births[i]); age >= 18 {
			wed := r.chance(marriedBy(age, sex))
			if wed && (!allowMarried || married >= 0) {
				continue // a married child beyond the one the household keeps has left
			}
			k := d.oddsFor(births[i])
			if sex == 'F' {
				k = 1 / k
			}
			if !r.chance(withOdds(stayProb(age, sex, wed), k)) {
				continue
			}
			if wed {
				married = i
			}
		}
		keep[i] = true
		kept++
	}
	for i := 0; i < n && kept > limit; i++ { // the eldest have left
		if keep[i] {
			keep[i] = false
			kept--
			if married == i {
				married = -1
			}
		}
	}
	if s.n+kept > maxMembers-6 {
		return 0
	}
	mc := int8(-1)
	for i := 0; i < n; i++ {
		if !keep[i] {
			continue
		}
		c := s.add(rel, sexes[i], births[i], line)
		s.m[c].mother, s.m[c].father = mi, fi
		if i == married {
			mc = c
		}
	}
	if mc >= 0 {
		d.addChildFamily(s, r, mc)
	}
	return kept
}

// addChildFamily adds the spouse (Con dâu / Con rể, who married in) and
// young children (Cháu) of a married child c living with the head.
func (d *demog) addChildFamily(s *skeleton, r *rng, c int8) {
	ch := s.m[c]
	gap := spouseGap(r)
	if ch.sex == 'M' {
		wb := d.clampAdult(r, ch.birth+days(gap), minMarriageAgeF)
		m, ok := d.marriageDay(r, ch.birth, wb)
		if !ok {
			return
		}
		w := s.add(relDaughterInLaw, 'F', wb, s.newLine())
		s.marry(c, w, m)
		d.addChildren(s, r, w, c, wb, m, ch.line, relGrandchild, false, 3)
		return
	}
	hb := d.clampAdult(r, ch.birth-days(gap), minMarriageAgeM)
	m, ok := d.marriageDay(r, hb, ch.birth)
	if !ok {
		return
	}
	l := s.newLine()
	h := s.add(relSonInLaw, 'M', hb, l)
	s.marry(c, h, m)
	d.addChildren(s, r, c, h, ch.birth, m, l, relGrandchild, false, 3)
}

// build fills s with a household whose head is h years old (fractional).
func (d *demog) build(s *skeleton, r *rng, h float64) {
	s.n, s.nLines = 0, 1
	hb := d.birthFor(h)
	u := r.float()
	pn, pw := pNever(h), pWidowed(h)
	never := u < pn
	childLine := uint8(0)
	nChildren := 0
	minAdultAge := h
	if !never && u >= pn+pw { // married couple
		sex := sexP(r, 0.8)
		gap := spouseGap(r)
		var mb, wb int32 // husband, wife
		if sex == 'M' {
			mb, wb = hb, d.clampAdult(r, hb+days(gap), minMarriageAgeF)
		} else {
			mb, wb = d.clampAdult(r, hb-days(gap), minMarriageAgeM), hb
		}
		if m, ok := d.marriageDay(r, mb, wb); ok {
			s.add(relHead, sex, hb, 0)
			spLine := s.newLine()
			if sex == 'M' {
				w := s.add(relWife, 'F', wb, spLine)
				s.marry(0, w, m)
				minAdultAge = math.Min(h, d.ageOf(wb))
				nChildren = d.addChildren(s, r, w, 0, wb, m, 0, relChild, true, maxChildren)
			} else {
				hu := s.add(relHusband, 'M', mb, spLine)
				s.marry(0, hu, m)
				childLine = spLine
				nChildren = d.addChildren(s, r, 0, hu, hb, m, spLine, relChild, true, maxChildren)
			}
		} else {
			never = true // too young to have married lawfully
		}
	}
	switch {
	case s.n > 0: // the couple above
	case never:
		s.add(relHead, d.sexFor(r, hb, 0.55), hb, 0)
	default: // widowed, divorced or separated
		sex := d.sexFor(r, hb, 0.28)
		s.add(relHead, sex, hb, 0)
		gap := spouseGap(r)
		if sex == 'F' {
			childLine = s.newLine() // the absent father's surname
			if m, ok := d.marriageDay(r, hb-days(gap), hb); ok {
				nChildren = d.addChildren(s, r, 0, -1, hb, m, childLine, relChild, true, maxChildren)
			}
		} else if wb := hb + days(gap); d.ageOf(wb) >= minMarriageAgeF {
			if m, ok := d.marriageDay(r, hb, wb); ok {
				nChildren = d.addChildren(s, r, -1, 0, wb, m, 0, relChild, true, maxChildren)
			}
		}
	}

	// Grandchildren left with grandparents while the parents work elsewhere.
	if !never && h >= 50 && nChildren == 0 && r.chance(0.12) {
		maxA := math.Min(17, minAdultAge-38)
		if maxA > 0 {
			l := childLine // through a son of the head...
			if r.chance(0.5) {
				l = s.newLine() // ...or through a daughter
			}
			k := 1
			if r.chance(0.4) {
				k = 2
			}
			for j := 0; j < k; j++ {
				b := d.birthFor(r.float() * maxA)
				s.add(relGrandchild, birthSex(r, b), b, l)
			}
		}
	}

	// Parents of the head.
	hasParents := false
	if h <= maxAge-20 && r.chance(pParentOfHead(h)) {
		hasParents = d.addParents(s, r, h, hb)
	}

	// Unmarried siblings of the head.
	if h < 40 {
		p := 0.03
		if never {
			p = 0.15
		}
		if r.chance(p) {
			k := 1
			if r.chance(0.25) {
				k = 2
			}
			d.addSiblings(s, r, hb, k)
		}
	}

	// A grandparent of a young head.
	if h < 36 && !hasParents && r.chance(0.015) {
		ga := h + 38 + r.float()*22
		if ga > maxAge {
			ga = maxAge + 0.9*r.float()
		}
		if ga-h >= 36 {
			if r.chance(0.2) {
				s.add(relGrandfather, 'M', d.birthFor(ga), 0)
			} else {
				s.add(relGrandmother, 'F', d.birthFor(ga), s.newLine())
			}
		}
	}
	d.settle(s, r, hasParents)
}

// addParents adds a widowed parent of the head, or both parents.
func (d *demog) addParents(s *skeleton, r *rng, h float64, hb int32) bool {
	a := 20 + r.float()*18 // mother's age at the head's birth
	if h+a > maxAge+0.9 {
		a = maxAge + 0.9*r.float() - h
		if a < 20 {
			return false
		}
	}
	mb := hb - days(a)
	gap := spouseGap(r)
	if gap < -1 {
		gap = -1
	}
	fb := mb - days(gap)
	if hb-fb < days(21) { // married at 20 or older, before the head's birth
		fb = hb - days(21+r.float())
	}
	u := r.float()
	wantF, wantM := u >= 0.62, u < 0.62 || u >= 0.82
	if wantF && d.ageOf(fb) > maxAge+0.9 {
		wantF, wantM = false, true
	}
	f, m := int8(-1), int8(-1)
	if wantF {
		f = s.add(relFather, 'M', fb, 0)
		s.m[0].father = f
	}
	if wantM {
		m = s.add(relMother, 'F', mb, s.newLine())
		s.m[0].mother = m
	}
	if f >= 0 && m >= 0 {
		u := r.float()
		w := max(ageDay(fb, minMarriageAgeM), ageDay(mb, minMarriageAgeF), hb-days(0.75+6*u*u))
		s.marry(f, m, min(w, hb-1))
	}
	return true
}

// settle sets the day each member's permanent residence in the household
// began. A head lives in the family home since birth when a parent lives
// in, or by inheritance; otherwise the household was set up after the
// head's wedding, or at some time after 18 for a single head. Spouses moved
// in at the wedding, children at birth (or with the head), married-in
// children's spouses at their wedding; relatives who joined later, later.
func (d *demog) settle(s *skeleton, r *rng, parentsIn bool) {
	head := &s.m[0]
	last := d.today - 1
	later := func(from int32) int32 { // a day between from and yesterday
		if from >= last {
			return last
		}
		return from + int32(r.intn(int(last-from)+1))
	}
	pHome := 0.1 // the family home passes mostly to a son
	if head.sex == 'M' {
		pHome = 0.3
	}
	home := parentsIn || r.chance(pHome)
	switch {
	case home:
		head.since = head.birth
	case head.spouse >= 0:
		u := r.float()
		head.since = min(head.married+days(8*u*u), last)
	default:
		lo := ageDay(head.birth, 18)
		u := r.float()
		head.since = min(lo+int32(float64(last-lo)*u*u), last)
	}
	hs := head.since
	for i := 1; i < s.n; i++ {
		m := &s.m[i]
		switch m.rel {
		case relWife, relHusband:
			m.since = max(m.married, hs)
		case relChild:
			m.since = max(m.birth, hs)
		case relDaughterInLaw, relSonInLaw:
			m.since = max(m.married, s.m[m.spouse].since)
		case relGrandchild:
			from := hs
			for _, p := range [2]int8{m.father, m.mother} {
				if p >= 0 && s.m[p].rel != relHead {
					from = max(from, s.m[p].since)
				}
			}
			m.since = max(m.birth, from)
		case relFather, relMother:
			if !home {
				m.since = max(m.birth, later(hs))
				break
			}
			// The parents' home, since before the head's birth.
			if m.married > 0 && m.rel == relMother {
				m.since = m.married
			} else if m.rel == relFather && r.chance(0.5) {
				m.since = m.birth
			} else {
				m.since = max(ageDay(m.birth, 18), head.birth-days(1+5*r.float()))
			}
			m.since = min(m.since, head.birth)
		case relOlderBrother, relOlderSister, relYounger:
			if home {
				m.since = m.birth
			} else {
				m.since = max(m.birth, later(hs))
			}
		default:
			m.since = max(m.birth, later(hs))
		}
		m.since = min(max(m.since, m.birth), last)
	}
}

// addSiblings adds up to k unmarried brothers or sisters of the head,
// consistent with the head's parents when they live in.
func (d *demog) addSiblings(s *skeleton, r *rng, hb int32, k int) {
	head := s.m[0]
	var taken [3]int32
	taken[0] = hb
	nt := 1
	for j := 0; j < k; j++ {
		lo, hi := hb-days(8), hb+days(8)
		if x := d.today - days(6); hi > x {
			hi = x
		}
		if head.mother >= 0 {
			mb := s.m[head.mother].birth
			lo = max(lo, mb+days(18)+2)
			hi = min(hi, mb+days(45))
		}
		if head.father >= 0 {
			lo = max(lo, s.m[head.father].birth+days(18)+2)
		}
		if hi <= lo {
			return
		}
		b := lo + int32(r.intn(int(hi-lo)))
		ok := true
		for i := 0; i < nt; i++ {
			if dd := b - taken[i]; dd > -300 && dd < 300 {
				ok = false
			}
		}
		if !ok {
			continue
		}
		taken[nt] = b
		nt++
		sex := d.sexFor(r, b, 0.5)
		rel := relYounger
		if b < hb {
			rel = relOlderSister
			if sex == 'M' {
				rel = relOlderBrother
			}
		}
		i := s.add(rel, sex, b, 0)
		s.m[i].father, s.m[i].mother = head.father, head.mother
	}
}

// ---- calibration of the head-age distribution ----

// The age of household heads is not observed directly; instead it is fitted
// so that the whole population matches the target pyramid. For every head
// age the household model is simulated (with a fixed seed) to get the
// expected age profile of the members; an EM (Richardson–Lucy) iteration
// with a smoothing step (EMS) then finds a smooth mixture of head ages whose
// population best matches the target.

func bandOf(ageDays int32) int {
	b := int(float64(ageDays)/yd) / 5
	if b >= nBands {
		b = nBands - 1
	}
	if b < 0 {
		b = 0
	}
	return b
}

// fit is the outcome of the calibration: the head-age distribution and the
// male odds factors (see demog.maleOdds).
type fit struct {
	headAge  cumTable
	maleOdds [nBands]float64
}

var (
	calibMu    sync.Mutex
	calibCache = map[string]fit{}
)

func calibKey(today int32, pyr []float64) string {
	b := strconv.AppendInt(nil, int64(today), 10)
	for _, x := range pyr {
		b = append(b, ',')
		b = strconv.AppendFloat(b, x, 'g', -1, 64)
	}
	return string(b)
}

// headAgeTable returns the fitted head-age distribution (index 0 = 18
// years) and sex odds for pyr.
func headAgeTable(today int32, pyr []float64) fit {
	key := calibKey(today, pyr)
	calibMu.Lock()
	defer calibMu.Unlock()
	if t, ok := calibCache[key]; ok {
		return t
	}
	t := calibrate(today, pyr)
	if len(calibCache) > 32 {
		clear(calibCache)
	}
	calibCache[key] = t
	return t
}

const (
	calibSamples = 400
	calibRounds  = 6
)

// sexRatioTarget is the census sex ratio (men per 100 women) of people born
// in year by, aged age: the sex ratio at birth of their cohort (about 106
// before 2000, rising to 111–112 after 2005 — 2019 census) times the ratio
// of male to female survival to that age (approximate, shaped after the
// 2019 census age-sex table, where the ratio falls below 100 in the
// fifties and to about 60 past 80). Coarse: see TestSexRatioByCohort for
// the ranges it is held to.
func sexRatioTarget(by, age float64) float64 {
	return interp(by, srbByYear[:]) * interp(age, survivalRatio[:])
}

var (
	srbByYear     = [...]pt{{1999, 106}, {2002, 108}, {2007, 110.5}, {2012, 111.5}}
	survivalRatio = [...]pt{{15, 0.995}, {25, 0.98}, {35, 0.965}, {45, 0.94}, {55, 0.89}, {65, 0.81}, {75, 0.7}, {85, 0.55}, {95, 0.4}}
)

func calibrate(today int32, pyr []float64) fit {
	var target [nBands]float64
	tot := 0.0
	for i, x := range pyr {
		if i < nBands {
			target[i] += x
		} else {
			target[nBands-1] += x
		}
		tot += x
	}
	for b := range target {
		target[b] /= tot
	}
	ty := float64(yearOfDay(today))
	d := &demog{today: today}
	var out fit
	for round := 0; ; round++ {
		pi, size, male := fitHeads(d, &target)
		if round == calibRounds {
			w := make([]float64, nHeadAges)
			for h := range w {
				w[h] = pi[h] / size[h]
			}
			out.headAge = makeCum(w)
			out.maleOdds = d.maleOdds
			return out
		}
		// Adults only: below 20 everyone lives with their parents and the
		// sex ratio is the one at birth.
		for b := 4; b < nBands; b++ {
			age := 5*float64(b) + 2.5
			want := sexRatioTarget(ty-age, age) / 100
			if male[b] <= 0 || male[b] >= 1 {
				continue
			}
			got := male[b] / (1 - male[b])
			k := d.maleOdds[b]
			if k == 0 {
				k = 1
			}
			d.maleOdds[b] = math.Min(20, math.Max(0.05, k*math.Pow(want/got, 1.5)))
		}
	}
}

// fitHeads simulates households for every head age with d's sex odds and
// fits the mixture of head ages whose population best matches target. It
// returns pi (share of persons by head age), the mean household size by
// head age and the resulting share of men in each age band.
func fitHeads(d *demog, target *[nBands]float64) (pi, size [nHeadAges]float64, male [nBands]float64) {
	today := d.today
	r := newRNG(0x5eed5eed, 0xca11b)
	var prof, profM [nHeadAges][nBands]float64 // members per band per household, normalised
	var s skeleton
	for hi := 0; hi < nHeadAges; hi++ {
		for k := 0; k < calibSamples; k++ {
			h := float64(minHeadAge+hi) + (float64(k)+r.float())/calibSamples
			d.build(&s, r, h)
			for i := 0; i < s.n; i++ {
				b := bandOf(today - s.m[i].birth)
				prof[hi][b]++
				if s.m[i].sex == 'M' {
					profM[hi][b]++
				}
			}
			size[hi] += float64(s.n)
		}
		for b := range prof[hi] {
			prof[hi][b] /= size[hi]
			profM[hi][b] /= size[hi]
		}
		size[hi] /= calibSamples
	}
	for h := range pi {
		pi[h] = 1.0 / nHeadAges
	}
	for iter := 0; iter < 300; iter++ {
		var est [nBands]float64
		for h := range pi {
			for b := range est {
				est[b] += pi[h] * prof[h][b]
			}
		}
		sum := 0.0
		for h := range pi {
			f := 0.0
			for b := range est {
				if est[b] > 0 {
					f += prof[h][b] * target[b] / est[b]
				}
			}
			pi[h] *= f
			sum += pi[h]
		}
		for h := range pi {
			pi[h] /= sum
		}
		smooth(pi[:])
	}
	var all [nBands]float64
	for h := range pi {
		for b := range all {
			all[b] += pi[h] * prof[h][b]
			male[b] += pi[h] * profM[h][b]
		}
	}
	for b := range male {
		if all[b] > 0 {
			male[b] /= all[b]
		}
	}
	return pi, size, male
}

// smooth applies a [1 4 6 4 1]/16 kernel in place (renormalised at the
// edges), keeping the total.
func smooth(x []float64) {
	k := [5]float64{1, 4, 6, 4, 1}
	var tmp [nHeadAges]float64
	tot0, tot1 := 0.0, 0.0
	for i := range x {
		s, w := 0.0, 0.0
		for j := -2; j <= 2; j++ {
			if i+j >= 0 && i+j < len(x) {
				s += k[j+2] * x[i+j]
				w += k[j+2]
			}
		}
		tmp[i] = s / w
		tot0 += x[i]
		tot1 += tmp[i]
	}
	for i := range x {
		x[i] = tmp[i] * tot0 / tot1
	}
}
