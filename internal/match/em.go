package match

import "math"

// emMinRows is the smallest file whose own m probabilities Match
// estimates; a smaller one is scored with the index's model.
const emMinRows = 200

// emIterations bounds the EM loop; it settles in a handful.
const emIterations = 10

// emPrior is the weight, in records, of the starting model in every
// estimate (a Dirichlet prior): a small file moves the model a little, a
// large one as far as its data says, and a level the file never shows
// keeps the starting model's view of it.
const emPrior = 200

// estimateM estimates the model's m probabilities and the share of
// records whose person is in the register from the records' own blocked
// candidates by expectation–maximisation, as Splink does: u stays the
// register's (random pairs, and each name's own frequency); each E step
// gives every candidate its posterior probability of being the record's
// person under the current m, each M step sets m of a level to the
// posterior-weighted share of candidates at that level. The thresholds are
// the index's model's.
func (ix *Index) estimateM(gs []gathered) Model {
	base := ix.model
	m := base
	n := len(ix.pins)
	type counts struct {
		pin  [pinLevels]float64
		name [nameLevels]float64
		date [dateLevels]float64
		sex  [sexLevels]float64
		addr [addrLevels]float64
	}
	var scores []float64
	for range emIterations {
		w := m.weights(n)
		var c counts
		var inReg float64
		for gi := range gs {
			g := &gs[gi]
			if len(g.cands) == 0 {
				continue
			}
			scores = scores[:0]
			top := math.Inf(-1)
			for _, x := range g.cands {
				sc := w.score(x.l, g.log2U) + w.lo
				scores = append(scores, sc)
				top = max(top, sc)
			}
			sum := math.Exp2(-top)
			for _, sc := range scores {
				sum += math.Exp2(sc - top)
			}
			for i, x := range g.cands {
				p := math.Exp2(scores[i]-top) / sum
				if p < 1e-9 {
					continue
				}
				inReg += p
				c.pin[x.l.pin] += p
				c.name[x.l.name] += p
				c.date[x.l.date] += p
				c.sex[x.l.sex] += p
				c.addr[x.l.addr] += p
			}
		}
		next := m
		update := func(dst, start []MU, am []float64) {
			var total, prior float64
			for k := 1; k < len(am); k++ { // level 0 is "missing": no weight
				total += am[k]
				prior += start[k].M
			}
			if prior <= 0 {
				return
			}
			for k := 1; k < len(am); k++ {
				dst[k].M = max((am[k]+emPrior*start[k].M/prior)/(total+emPrior), minM)
			}
		}
		update(next.PIN[:], base.PIN[:], c.pin[:])
		update(next.Name[:], base.Name[:], c.name[:])
		update(next.Date[:], base.Date[:], c.date[:])
		update(next.Sex[:], base.Sex[:], c.sex[:])
		update(next.Addr[:], base.Addr[:], c.addr[:])
		// A file of people nearly all in the register should not make a
		// stranger's weak candidate a match, nor one of strangers hide the rest.
		next.InRegister = min(max((inReg+emPrior*base.InRegister)/(float64(len(gs))+emPrior), 0.5), 0.97)
		m = next
	}
	return m
}

// EstimateM is the model Match would score recs with: the index's model
// with m and the in-register share estimated on recs by EM (the model
// unchanged for fewer than emMinRows records). For benchmarks and
// diagnostics.
func (ix *Index) EstimateM(recs []Record) Model {
	if len(recs) < emMinRows {
		return ix.model
	}
	s := newScratch()
	gs := make([]gathered, len(recs))
	for i, r := range recs {
		gs[i] = ix.gather(r, s)
	}
	return ix.estimateM(gs)
}
