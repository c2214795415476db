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

func (s *skeleton) marry(a, b int8) {
	s.m[a].spouse = b
	s.m[b].spouse = a
}

// demog builds skeletons relative to a reference day.
type demog struct {
	today int32
}

func days(years float64) int32 { return int32(years * yd) }

func (d *demog) ageOf(birth int32) float64 { return float64(d.today-birth) / yd }

// birthFor returns a birth day for someone aged `years` (fractional) today.
func (d *demog) birthFor(years float64) int32 { return d.today - 1 - days(years) }

// clampAdult keeps a birth day within ages [18, 100] today.
func (d *demog) clampAdult(r *rng, b int32) int32 {
	if d.ageOf(b) < 18 {
		return d.birthFor(18 + 5*r.float()) // spread, not a pile-up at 18
	}
	if d.ageOf(b) > maxAge+0.9 {
		return d.birthFor(maxAge + 0.9*r.float())
	}
	return b
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
		return 0.07
	case h < 60:
		return 0.11
	case h < 70:
		return 0.2
	case h < 80:
		return 0.38
	}
	return 0.6
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

// stayAtHome returns the probability that a child of the given age still
// lives with the parents, and the probability that such a child is married
// (bringing a spouse and children: three-generation household). Sons more
// often stay (patrilocal custom). Piecewise linear, so that the age
// structure has no steps.
func stayAtHome(age float64, sex byte) (stay, married float64) {
	if age < 18 {
		return 1, 0
	}
	if sex == 'M' {
		return interp(age, sonStay[:]), interp(age, sonMarried[:])
	}
	return interp(age, daughterStay[:]), interp(age, daughterMarried[:])
}

type pt struct{ x, y float64 }

var (
	sonStay         = [...]pt{{18, 0.95}, {22, 0.8}, {26, 0.6}, {30, 0.45}, {40, 0.25}, {50, 0.15}}
	sonMarried      = [...]pt{{21, 0}, {27, 0.5}, {33, 0.75}, {40, 0.85}}
	daughterStay    = [...]pt{{18, 0.9}, {22, 0.65}, {26, 0.3}, {30, 0.15}, {40, 0.08}}
	daughterMarried = [...]pt{{21, 0}, {27, 0.15}, {35, 0.3}}
)

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
// mb has had up to today: at ages 18–45, and (if hasFather) when the father,
// born on fb, was at least 18.
func (d *demog) fertility(r *rng, mb, fb int32, hasFather bool, out *[8]int32) int {
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
	limit := mb + days(45)
	fmin := fb + days(18) + 2
	cnt := 0
	for i := 0; i < n; i++ {
		if t > limit || t >= d.today {
			break
		}
		if !hasFather || t >= fmin {
			out[cnt] = t
			cnt++
		}
		u := r.float()
		t += days(1.3 + 4*u*u)
	}
	return cnt
}

// addChildren adds the children of mother mi / father fi (either may be -1
// when absent; mb/fb are their birth days) who still live at home.
func (d *demog) addChildren(s *skeleton, r *rng, mi, fi int8, mb, fb int32, hasFather bool,
	line uint8, rel uint8, allowMarried bool, limit int) int {
	var births [8]int32
	n := d.fertility(r, mb, fb, hasFather, &births)
	if n == 0 {
		return 0
	}
	var sexes [8]byte
	var keep [8]bool
	married, kept := -1, 0
	for i := 0; i < n; i++ {
		sexes[i] = birthSex(r, births[i])
		stay, marr := stayAtHome(d.ageOf(births[i]), sexes[i])
		if stay < 1 && !r.chance(stay) {
			continue
		}
		if allowMarried && married < 0 && marr > 0 && r.chance(marr) {
			married = i
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

// addChildFamily adds the spouse (Con dâu / Con rể) and young children
// (Cháu) of a married child c living with the head.
func (d *demog) addChildFamily(s *skeleton, r *rng, c int8) {
	ch := s.m[c]
	gap := spouseGap(r)
	if ch.sex == 'M' {
		wb := d.clampAdult(r, ch.birth+days(gap))
		l := s.newLine()
		w := s.add(relDaughterInLaw, 'F', wb, l)
		s.marry(c, w)
		d.addChildren(s, r, w, c, wb, ch.birth, true, ch.line, relGrandchild, false, 3)
		return
	}
	hb := d.clampAdult(r, ch.birth-days(gap))
	l := s.newLine()
	h := s.add(relSonInLaw, 'M', hb, l)
	s.marry(c, h)
	d.addChildren(s, r, c, h, ch.birth, hb, true, l, relGrandchild, false, 3)
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
	switch {
	case never:
		s.add(relHead, sexP(r, 0.55), hb, 0)
	case u < pn+pw: // widowed, divorced or separated
		sex := sexP(r, 0.28)
		s.add(relHead, sex, hb, 0)
		gap := spouseGap(r)
		if sex == 'F' {
			childLine = s.newLine() // the absent father's surname
			nChildren = d.addChildren(s, r, 0, -1, hb, hb-days(gap), false, childLine, relChild, true, maxChildren)
		} else {
			nChildren = d.addChildren(s, r, -1, 0, hb+days(gap), hb, true, 0, relChild, true, maxChildren)
		}
	default: // married couple
		sex := sexP(r, 0.8)
		s.add(relHead, sex, hb, 0)
		gap := spouseGap(r)
		spLine := s.newLine()
		if sex == 'M' {
			wb := d.clampAdult(r, hb+days(gap))
			w := s.add(relWife, 'F', wb, spLine)
			s.marry(0, w)
			minAdultAge = math.Min(h, d.ageOf(wb))
			nChildren = d.addChildren(s, r, w, 0, wb, hb, true, 0, relChild, true, maxChildren)
		} else {
			mb := d.clampAdult(r, hb-days(gap))
			m := s.add(relHusband, 'M', mb, spLine)
			s.marry(0, m)
			childLine = spLine
			nChildren = d.addChildren(s, r, 0, m, hb, mb, true, spLine, relChild, true, maxChildren)
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
		s.marry(f, m)
	}
	return true
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
		sex := sexP(r, 0.5)
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

var (
	calibMu    sync.Mutex
	calibCache = map[string]cumTable{}
)

func calibKey(today int32, pyr []float64) string {
	b := strconv.AppendInt(nil, int64(today), 10)
	for _, x := range pyr {
		b = append(b, ',')
		b = strconv.AppendFloat(b, x, 'g', -1, 64)
	}
	return string(b)
}

// headAgeTable returns the cumulative distribution of head ages
// (index 0 = 18 years) fitted to pyr.
func headAgeTable(today int32, pyr []float64) cumTable {
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

const calibSamples = 400

func calibrate(today int32, pyr []float64) cumTable {
	d := &demog{today: today}
	r := newRNG(0x5eed5eed, 0xca11b)
	var prof [nHeadAges][nBands]float64 // members per band per household, normalised
	var size [nHeadAges]float64
	var s skeleton
	for hi := 0; hi < nHeadAges; hi++ {
		for k := 0; k < calibSamples; k++ {
			h := float64(minHeadAge+hi) + (float64(k)+r.float())/calibSamples
			d.build(&s, r, h)
			for i := 0; i < s.n; i++ {
				prof[hi][bandOf(today-s.m[i].birth)]++
			}
			size[hi] += float64(s.n)
		}
		for b := range prof[hi] {
			prof[hi][b] /= size[hi]
		}
		size[hi] /= calibSamples
	}
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
	// pi: share of persons living in households with head age h.
	var pi [nHeadAges]float64
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
	w := make([]float64, nHeadAges)
	for h := range w {
		w[h] = pi[h] / size[h]
	}
	return makeCum(w)
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
