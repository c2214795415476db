package match

import (
	"context"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/dancu-project/dancu/internal/civildate"
)

// Model is a Fellegi–Sunter model: for each field and each level of
// agreement, m = P(level | same person) and u = P(level | two different
// persons). A candidate's score is the sum over fields of log2(m/u), its
// weight of evidence in bits; a level with no information (a field the
// partner does not have) weighs 0.
//
// m describes how partners' data differs from the register's: calibrated
// on a synthetic partner copy with ground truth (Calibrate) as the start,
// and re-estimated by EM on every file of at least emMinRows records that
// Match is given (estimateM), so that it follows the partner's own errors.
// u describes the register and is measured on it when the index is built,
// from random pairs of persons (a U left zero here), except for a name that
// agrees, whose u is that name's own frequency in the register, so that
// sharing "Nguyễn Văn Hùng" counts for less than sharing "Tạ Đình Phong".
type Model struct {
	PIN  [pinLevels]MU
	Name [nameLevels]MU
	Date [dateLevels]MU
	Sex  [sexLevels]MU
	Addr [addrLevels]MU
	// InRegister is the prior probability that a record's person is in
	// the register; the prior odds of one candidate are InRegister/N for a
	// register of N persons.
	InRegister float64
	// Upper and Lower are the decision thresholds on the posterior
	// probability of the best candidate: at or above Upper the record is
	// Matched, below Lower NotFound, in between Ambiguous.
	Upper, Lower float64
}

// MU is the pair of probabilities of one level.
type MU struct{ M, U float64 }

// weight is log2(m/u), 0 when either is unknown.
func (x MU) weight() float64 {
	if x.M <= 0 || x.U <= 0 {
		return 0
	}
	return math.Log2(x.M / x.U)
}

// weights is a Model turned into per-level weights once.
type weights struct {
	pin     [pinLevels]float64
	name    [nameLevels]float64
	nameM   [nameLevels]float64 // log2 m of the levels where the names agree, for frequency-based weights
	date    [dateLevels]float64
	sex     [sexLevels]float64
	addr    [addrLevels]float64
	lo      float64 // log2 of one candidate's prior odds
	log2N   float64
	maxAddr float64 // the largest address weight
}

func (m *Model) weights(n int) weights {
	var w weights
	for i, x := range m.PIN {
		w.pin[i] = x.weight()
	}
	for i, x := range m.Name {
		w.name[i] = x.weight()
		if x.M > 0 {
			w.nameM[i] = math.Log2(x.M)
		}
	}
	for i, x := range m.Date {
		w.date[i] = x.weight()
	}
	for i, x := range m.Sex {
		w.sex[i] = x.weight()
	}
	for i, x := range m.Addr {
		w.addr[i] = x.weight()
	}
	// The partner leaving a field out says nothing about the pair.
	w.pin[pinMissing], w.name[nameMissing], w.date[dateMissing], w.sex[sexMissing], w.addr[addrMissing] = 0, 0, 0, 0, 0
	n = max(n, 1)
	w.log2N = math.Log2(float64(n))
	// Prior odds of "the record is this person" against "the record's
	// person is not in the register": (π/N) / (1-π).
	pi := min(max(m.InRegister, 0.01), 0.99)
	w.lo = math.Log2(pi/(1-pi)) - w.log2N
	w.maxAddr = slices.Max(w.addr[:])
	return w
}

// nameAgrees reports the levels where the folded names are the same words.
func nameAgrees(l nameLevel) bool {
	return l == nameExact || l == nameReordered || l == nameUnmarked || l == nameRemarked
}

// score sums the weights; log2U is log2 of the frequency of the record's
// name in the register, used when the names agree.
func (w *weights) score(l levels, log2U float64) float64 {
	name := w.name[l.name]
	if nameAgrees(l.name) {
		name = w.nameM[l.name] - log2U
	}
	return w.pin[l.pin] + name + w.date[l.date] + w.sex[l.sex] + w.addr[l.addr]
}

// maxCandidates is how many candidates a Result lists.
const maxCandidates = 5

// Match finds each record's person. Records are spread over all cores;
// results are in the order of recs. It stops early when ctx is done.
//
// With at least emMinRows records the model's m probabilities (and the
// share of records whose person is in the register) are first estimated
// from the records themselves by expectation–maximisation over their
// blocked candidates (estimateM), so that the thresholds hold on a
// partner's file whose kinds and rates of error the default model was not
// calibrated on; u stays the register's own, measured on random pairs.
func (ix *Index) Match(ctx context.Context, recs []Record) ([]Result, error) {
	gs := make([]gathered, len(recs))
	err := parallel(ctx, len(recs), func(s *scratch, i int) { gs[i] = ix.gather(recs[i], s) })
	if err != nil {
		return nil, err
	}
	w := &ix.w
	if len(recs) >= emMinRows {
		m := ix.estimateM(gs)
		ew := m.weights(len(ix.pins))
		w = &ew
	}
	out := make([]Result, len(recs))
	err = parallel(ctx, len(recs), func(_ *scratch, i int) {
		out[i] = ix.decide(recs[i].Ref, &gs[i], w)
		gs[i] = gathered{}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parallel calls fn for 0..n-1 on all cores in chunks, each worker with
// its own scratch, and stops early when ctx is done.
func parallel(ctx context.Context, n int, fn func(s *scratch, i int)) error {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/64))
	const chunk = 256
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newScratch()
			for {
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				start := next
				next += chunk
				mu.Unlock()
				if start >= n {
					return
				}
				for i := start; i < min(start+chunk, n); i++ {
					fn(s, i)
				}
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// MatchOne matches a single record with the index's model (no estimate
// from other records).
func (ix *Index) MatchOne(r Record) Result {
	g := ix.gather(r, newScratch())
	return ix.decide(r.Ref, &g, &ix.w)
}

// scratch is one worker's reusable memory.
type scratch struct {
	seen  map[uint32]struct{}
	cands []uint32
}

func newScratch() *scratch {
	return &scratch{seen: make(map[uint32]struct{}, 256)}
}

type scored struct {
	pos   uint32
	score float64
	l     levels
}

// candidates gathers the positions the record's blocking keys and its PIN
// point to.
func (ix *Index) candidates(q *prepared, s *scratch) []uint32 {
	clear(s.seen)
	s.cands = s.cands[:0]
	if i, ok := ix.findPIN(q.pin); ok {
		s.add(uint32(i))
	}
	if q.dateOK {
		for _, k := range ix.queryKeys(q.name.Folded, q.date.Year, q.date.Month, q.date.Day) {
			for _, e := range ix.block(k) {
				s.add(uint32(e))
			}
		}
		if q.date.Month != 0 {
			// The register may hold only the year (people born before 1960).
			for _, e := range ix.block(blockKey{keyName, ix.hash(sortedJoin(q.name.Folded), q.date.Year, 0, 0)}) {
				s.add(uint32(e))
			}
		}
	}
	return s.cands
}

// pinNeighbours adds everyone whose PIN is one typo away from the record's:
// a digit changed, or two neighbouring digits swapped (119 look-ups).
func (ix *Index) pinNeighbours(q *prepared, s *scratch) []uint32 {
	pn, ok := pinNumber(q.pin)
	if !ok {
		return s.cands
	}
	pow := uint64(1)
	for k := 0; k < 12; k++ {
		dk := pn / pow % 10
		for v := uint64(0); v < 10; v++ {
			if v == dk {
				continue
			}
			if i, ok := ix.findPINNumber(pn - dk*pow + v*pow); ok {
				s.add(uint32(i))
			}
		}
		if k < 11 {
			dn := pn / (pow * 10) % 10
			if dn != dk {
				sw := pn - dk*pow - dn*pow*10 + dn*pow + dk*pow*10
				if i, ok := ix.findPINNumber(sw); ok {
					s.add(uint32(i))
				}
			}
		}
		pow *= 10
	}
	return s.cands
}

func (s *scratch) add(pos uint32) {
	if _, ok := s.seen[pos]; !ok {
		s.seen[pos] = struct{}{}
		s.cands = append(s.cands, pos)
	}
}

// levelsOf compares the record with the person at pos, the address only
// when withAddr.
func (ix *Index) levelsOf(q *prepared, pos uint32, withAddr bool) levels {
	i := int(pos)
	y, m, d := unpackDate(ix.birth[i])
	sex := "M"
	if ix.flags[i]&flagFemale != 0 {
		sex = "F"
	}
	var pl *place
	if withAddr {
		pl = ix.places[ix.commune[i]]
	}
	name := ParseName(ix.name(i))
	l := q.compareTo(pinText(ix.pins[i]), name, dateOf(y, m, d), sex, pl)
	if l.name == nameSimilar && ix.unknownWords(q.name.Folded, name.Folded) {
		l.name = nameSlip
	}
	return l
}

// unknownWords reports whether the partner's words a that are not among
// the register name's words b are at least one, and all words no one in
// the register has.
func (ix *Index) unknownWords(a, b []string) bool {
	if len(a) > 8 {
		return false
	}
	var used [8]bool
	differ := 0
outer:
	for _, w := range a {
		for j, v := range b {
			if j < len(used) && !used[j] && v == w {
				used[j] = true
				continue outer
			}
		}
		if _, known := ix.words[w]; known {
			return false
		}
		differ++
	}
	return differ > 0
}

// settled reports whether the exact-PIN candidate agrees so well that no
// mistyped PIN can beat it, which spares the 119 look-ups of pinNeighbours.
func settled(l levels) bool {
	return l.pin == pinExact && (l.name == nameExact || l.name == nameReordered || l.name == nameUnmarked) &&
		(l.date == dateExact || l.date == dateSwapped || l.date == datePartial)
}

// gathered is one record's candidates with their comparison levels: the
// work of blocking and comparing, done once and scored afterwards with the
// index's model or with one estimated on the whole file.
type gathered struct {
	q     prepared
	log2U float64  // log2 of the record's name's frequency in the register
	cands []scored // at most maxKept, best first under the index's model
}

// maxKept is how many candidates of a record gather keeps: the best few
// decide the outcome; the rest weigh nothing next to them.
const maxKept = 8

func (ix *Index) gather(r Record, s *scratch) gathered {
	w := &ix.w
	g := gathered{q: prepare(r)}
	q := &g.q
	cands := ix.candidates(q, s)
	g.log2U = ix.nameLog2Freq(q.name.Folded)
	all := make([]scored, 0, len(cands)+4)
	done := false
	top := math.Inf(-1)
	consider := func(pos uint32) {
		// The address costs most to compare: skip it for a candidate that
		// stays 2^-30 below the best one even with the best address.
		l := ix.levelsOf(q, pos, false)
		part := w.score(l, g.log2U) + w.lo
		if part+w.maxAddr < top-30 {
			return
		}
		if pl := ix.places[ix.commune[pos]]; pl != nil {
			l.addr = compareAddress(q.words, q.commune, pl)
		}
		sc := part + w.addr[l.addr]
		top = max(top, sc)
		done = done || settled(l)
		all = append(all, scored{pos, sc, l})
	}
	for _, pos := range cands {
		consider(pos)
	}
	if !done {
		n := len(cands)
		for _, pos := range ix.pinNeighbours(q, s)[n:] {
			consider(pos)
		}
	}
	sortScored(all)
	if len(all) > maxKept {
		all = slices.Clip(all[:maxKept])
	}
	g.cands = all
	return g
}

func sortScored(all []scored) {
	slices.SortFunc(all, func(a, b scored) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return int(a.pos) - int(b.pos)
	})
}

// Reasons a record goes to a registrar (Result.Reason).
const (
	// ReasonCompeting: two or more people fit nearly as well; the
	// candidates' differences show where they part.
	ReasonCompeting = "competing_candidates"
	// ReasonWeak: one person fits best, but the agreeing fields are too
	// common (or too few) to be sure it is them.
	ReasonWeak = "weak_evidence"
)

// decide scores g's candidates with w and sets the outcome.
func (ix *Index) decide(ref string, g *gathered, w *weights) Result {
	res := Result{Ref: ref, Outcome: NotFound}
	all := g.cands
	if len(all) == 0 {
		return res
	}
	for i := range all {
		all[i].score = w.score(all[i].l, g.log2U) + w.lo
	}
	sortScored(all)
	q := &g.q
	// Posterior of each candidate being the person, with "none of them" as
	// the alternative: p_i = odds_i / (1 + Σ odds_j). A record is one person
	// at most, so two strong candidates share the probability.
	// Computed relative to the best score, so that no power overflows.
	top := all[0].score
	sum := math.Exp2(-top)
	for _, c := range all {
		sum += math.Exp2(c.score - top)
	}
	n := min(len(all), maxCandidates)
	res.Candidates = make([]Candidate, 0, n)
	for _, c := range all[:n] {
		post := math.Exp2(c.score-top) / sum
		if post < 1e-6 && len(res.Candidates) > 0 {
			break
		}
		res.Candidates = append(res.Candidates, Candidate{PIN: pinText(ix.pins[c.pos]), Score: round(c.score - w.lo),
			Confidence: round(post), Differences: c.l.differences(q)})
	}
	bestPost := 1 / sum // the best candidate's unrounded posterior
	best := res.Candidates[0]
	res.Confidence = best.Confidence
	switch {
	case bestPost >= ix.model.Upper:
		res.Outcome = Matched
		res.PIN = best.PIN
		res.Differences = best.Differences
		res.Dead = ix.flags[all[0].pos]&flagDead != 0
	case bestPost >= ix.model.Lower:
		res.Outcome = Ambiguous
		// Competing when the runner-up holds a real share of the
		// probability (at least a tenth of the best's).
		res.Reason = ReasonWeak
		if len(all) > 1 && all[1].score-top > -math.Log2(10) {
			res.Reason = ReasonCompeting
		}
		for i := range res.Candidates {
			res.Candidates[i].Reason = res.Reason
		}
	default:
		res.Outcome = NotFound
		for len(res.Candidates) > 0 && res.Candidates[len(res.Candidates)-1].Confidence < 0.001 {
			res.Candidates = res.Candidates[:len(res.Candidates)-1]
		}
	}
	return res
}

func dateOf(y, m, d int) civildate.Date { return civildate.Date{Year: y, Month: m, Day: d} }

func round(x float64) float64 { return math.Round(x*1e4) / 1e4 }
