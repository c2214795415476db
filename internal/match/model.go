package match

import (
	"context"
	"fmt"
	"strings"
)

// DefaultModel has the m probabilities calibrated with Calibrate on a
// synthetic register of 20,000 people (seed 1) and a 10,000-row partner
// copy of it (package partnercopy, seed 1, default rates); reproduce with
// DANCU_CALIBRATE=1 go test ./internal/match -run TestQuality -v. Its u are
// zero: the index measures them on the register it is built from.
// Levels, in order: PIN missing/exact/typo/different; name
// missing/exact/reordered/unmarked/remarked/similar/different/slip (the
// similar m split between similar and slip by hand: EM on the partner's
// file sets both); date
// missing/exact/partial/swapped/near/different/year-off (not in
// partnercopy's dirt: a start for the estimate on the partner's file); sex missing/same/different;
// address missing/same/outdated/province/different.
//
// Thresholds on the posterior probability of the best candidate: Matched
// at 0.95 or more, Ambiguous from 0.05, NotFound below. The posterior
// shares probability among candidates (p_i = odds_i / (1 + Σ odds_j)), so
// two people who fit equally well both stay below 0.95 and go to review.
func DefaultModel() Model {
	return Model{
		PIN:        [...]MU{{}, {M: 0.9623}, {M: 0.03768}, {M: 0.002}},
		Name:       [...]MU{{}, {M: 0.7427}, {M: 0.02081}, {M: 0.1871}, {M: 0.002}, {M: 0.02}, {M: 0.002}, {M: 0.03}},
		Date:       [...]MU{{}, {M: 0.9372}, {M: 0.002}, {M: 0.04062}, {M: 0.02207}, {M: 0.002}, {M: 0.01}},
		Sex:        [...]MU{{}, {M: 0.9999}, {M: 0.002}},
		Addr:       [...]MU{{}, {M: 0.7527}, {M: 0.2472}, {M: 0.002}, {M: 0.002}},
		InRegister: 0.95,
		Upper:      0.95,
		Lower:      0.05,
	}
}

// Calibrate estimates m from records whose true person is known: truth[i]
// is the PIN of recs[i], "" when the person is not in the register. m of a
// level is the share of records, among those whose true person blocking
// brings up, that compare at that level, with add-one-half smoothing and a
// floor (the synthetic dirt has no example of some errors real data has,
// such as a completely different birth date on the right person, which
// must cost a lot but not everything). u and the thresholds are kept from
// base.
func (ix *Index) Calibrate(ctx context.Context, recs []Record, truth []string, base Model) (Model, error) {
	if len(recs) != len(truth) {
		return Model{}, fmt.Errorf("calibrate: %d records, %d truths", len(recs), len(truth))
	}
	var cm struct {
		pin  [pinLevels]float64
		name [nameLevels]float64
		date [dateLevels]float64
		sex  [sexLevels]float64
		addr [addrLevels]float64
	}
	s := newScratch()
	for i, r := range recs {
		if i%1024 == 0 && ctx.Err() != nil {
			return Model{}, ctx.Err()
		}
		if truth[i] == "" {
			continue
		}
		q := prepare(r)
		ix.candidates(&q, s)
		for _, pos := range ix.pinNeighbours(&q, s) {
			if pinText(ix.pins[pos]) != truth[i] {
				continue
			}
			l := ix.levelsOf(&q, pos, true)
			cm.pin[l.pin]++
			cm.name[l.name]++
			cm.date[l.date]++
			cm.sex[l.sex]++
			cm.addr[l.addr]++
		}
	}
	m := base
	fill := func(dst []MU, am []float64) {
		var tm float64
		for k := 1; k < len(am); k++ { // level 0 is "missing": no weight
			tm += am[k] + 0.5
		}
		for k := 1; k < len(am); k++ {
			dst[k].M = max((am[k]+0.5)/tm, minM)
		}
	}
	fill(m.PIN[:], cm.pin[:])
	fill(m.Name[:], cm.name[:])
	fill(m.Date[:], cm.date[:])
	fill(m.Sex[:], cm.sex[:])
	fill(m.Addr[:], cm.addr[:])
	return m, nil
}

// minM is the floor of a calibrated m.
const minM = 0.002

// GoString prints the model as Go source, to paste into DefaultModel.
func (m Model) GoString() string {
	var b strings.Builder
	row := func(name string, xs []MU) {
		fmt.Fprintf(&b, "\t\t%s: [...]MU{", name)
		for i, x := range xs {
			if i > 0 {
				b.WriteString(", ")
			}
			if x == (MU{}) {
				b.WriteString("{}")
			} else {
				fmt.Fprintf(&b, "{%.4g, %.4g}", x.M, x.U)
			}
		}
		b.WriteString("},\n")
	}
	row("PIN", m.PIN[:])
	row("Name", m.Name[:])
	row("Date", m.Date[:])
	row("Sex", m.Sex[:])
	row("Addr", m.Addr[:])
	fmt.Fprintf(&b, "\t\tInRegister: %.4g,\n", m.InRegister)
	return b.String()
}
