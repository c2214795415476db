package match

import (
	"context"
	"fmt"
	"strings"
)

// DefaultModel is the model calibrated with Calibrate on a synthetic
// register of 20,000 people (seed 1) and a 10,000-row partner copy of it
// (package partnercopy, seed 1, default rates); reproduce with
// DANCU_CALIBRATE=1 go test ./internal/match -run TestQuality -v.
// Levels, in order: PIN missing/exact/typo/different; name
// missing/exact/reordered/unmarked/remarked/similar/different; date
// missing/exact/partial/swapped/near/different; sex missing/same/different;
// address missing/same/outdated/province/different.
//
// Thresholds on the posterior probability of the best candidate: Matched
// at 0.95 or more, Ambiguous from 0.05, NotFound below. The posterior
// shares probability among candidates (p_i = odds_i / (1 + Σ odds_j)), so
// two people who fit equally well both stay below 0.95 and go to review.
func DefaultModel() Model {
	return Model{
		PIN:       [...]MU{{}, {0.9623, 0.0001817}, {0.03768, 0.00527}, {0.002, 0.9945}},
		Name:      [...]MU{{}, {0.7424, 0.2309}, {0.0208, 0.01019}, {0.187, 0.07386}, {0.002, 0.01842}, {0.04955, 0.008047}, {0.002, 0.6586}},
		Date:      [...]MU{{}, {0.9372, 0.4724}, {0.002, 0.001252}, {0.0406, 0.1905}, {0.02207, 0.03559}, {0.002, 0.3003}},
		Sex:       [...]MU{{}, {0.9999, 0.6895}, {0.002, 0.3105}},
		Addr:      [...]MU{{}, {0.7526, 0.00363}, {0.2473, 0.002102}, {0.002, 0.04299}, {0.002, 0.9513}},
		PriorOdds: 3.398,
		Upper:     0.95,
		Lower:     0.05,
	}
}

// Calibrate estimates a model from records whose true person is known:
// truth[i] is the PIN of recs[i], "" when the person is not in the
// register. m is counted on the true person whenever blocking brings them
// up, u on every other candidate blocking brings up, each with add-one-half
// smoothing; PriorOdds is the ratio of the two pair counts. Thresholds are
// kept from base.
func (ix *Index) Calibrate(ctx context.Context, recs []Record, truth []string, base Model) (Model, error) {
	if len(recs) != len(truth) {
		return Model{}, fmt.Errorf("calibrate: %d records, %d truths", len(recs), len(truth))
	}
	var cm, cu struct {
		pin  [pinLevels]float64
		name [nameLevels]float64
		date [dateLevels]float64
		sex  [sexLevels]float64
		addr [addrLevels]float64
		n    float64
	}
	s := newScratch()
	for i, r := range recs {
		if i%1024 == 0 && ctx.Err() != nil {
			return Model{}, ctx.Err()
		}
		q := prepare(r)
		ix.candidates(&q, s)
		for _, pos := range ix.pinNeighbours(&q, s) {
			l := ix.levelsOf(&q, pos)
			c := &cu
			if pinText(ix.pins[pos]) == truth[i] {
				c = &cm
			}
			c.pin[l.pin]++
			c.name[l.name]++
			c.date[l.date]++
			c.sex[l.sex]++
			c.addr[l.addr]++
			c.n++
		}
	}
	m := base
	fill := func(dst []MU, am, au []float64) {
		var tm, tu float64
		for k := 1; k < len(am); k++ { // level 0 is "missing": no weight
			tm += am[k] + 0.5
			tu += au[k] + 0.5
		}
		for k := 1; k < len(am); k++ {
			// Floors: the synthetic dirt has no example of some errors real
			// data has (a completely different birth date on the right
			// person), which must cost a lot but not everything.
			dst[k] = MU{M: max((am[k]+0.5)/tm, minM), U: max((au[k]+0.5)/tu, minU)}
		}
	}
	fill(m.PIN[:], cm.pin[:], cu.pin[:])
	fill(m.Name[:], cm.name[:], cu.name[:])
	fill(m.Date[:], cm.date[:], cu.date[:])
	fill(m.Sex[:], cm.sex[:], cu.sex[:])
	fill(m.Addr[:], cm.addr[:], cu.addr[:])
	if cm.n > 0 && cu.n > 0 {
		m.PriorOdds = cm.n / cu.n
	}
	return m, nil
}

// Floors of the calibrated probabilities.
const (
	minM = 0.002
	minU = 0.0001
)

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
	fmt.Fprintf(&b, "\t\tPriorOdds: %.4g,\n", m.PriorOdds)
	return b.String()
}
