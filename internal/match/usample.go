package match

import (
	"math"
	"math/rand/v2"
	"slices"
)

// uPairs is how many random pairs of persons estimate u.
const uPairs = 200_000

// estimateU fills every u the model leaves zero from the register itself:
// the share of random pairs of different persons at each level. Small
// registers use every pair. A PIN agrees by chance with probability 1/N,
// and is one typo from another person's with the measured density of such
// neighbours; an address in old units is taken to be as likely by chance
// as the same commune.
func (ix *Index) estimateU() {
	n := len(ix.pins)
	if n < 2 {
		ix.fillU(func(*levelCounts) {}, 1, n)
		return
	}
	var c levelCounts
	total := 0
	compare := func(i, j int) {
		a, b := ix.parsed(i), ix.parsed(j)
		ya, ma, da := unpackDate(ix.birth[i])
		yb, mb, db := unpackDate(ix.birth[j])
		c.name[compareNames(a, b)]++
		c.date[compareDates(RawDate{ya, ma, da}, ya != 0, dateOf(yb, mb, db))]++
		if ix.flags[i]&flagFemale == ix.flags[j]&flagFemale {
			c.sex[sexSame]++
		} else {
			c.sex[sexDifferent]++
		}
		pa, pb := ix.places[ix.commune[i]], ix.places[ix.commune[j]]
		switch {
		case pa == nil || pb == nil:
			c.addr[addrDifferent]++
		case pa.code == pb.code:
			c.addr[addrSame]++
		case pa.province2 == pb.province2:
			c.addr[addrProvince]++
		default:
			c.addr[addrDifferent]++
		}
		total++
	}
	if n*(n-1) <= uPairs {
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if i != j {
					compare(i, j)
				}
			}
		}
	} else {
		r := rand.New(rand.NewPCG(1, 2))
		for range uPairs {
			i, j := r.IntN(n), r.IntN(n)
			if i != j {
				compare(i, j)
			}
		}
	}
	// Neighbours one PIN typo away, on a sample of persons.
	s := newScratch()
	neighbours, sampled := 0, 0
	step := max(1, n/2000)
	for i := 0; i < n; i += step {
		q := prepared{pin: pinText(ix.pins[i])}
		clear(s.seen)
		s.cands = s.cands[:0]
		s.add(uint32(i))
		neighbours += len(ix.pinNeighbours(&q, s)) - 1
		sampled++
	}
	density := float64(neighbours) / float64(sampled)
	ix.fillU(func(c2 *levelCounts) { *c2 = c }, total, n)
	if ix.model.PIN[pinTypo].U == 0 {
		ix.model.PIN[pinTypo].U = max(density, 1) / float64(n)
	}
}

type levelCounts struct {
	name [nameLevels]float64
	date [dateLevels]float64
	sex  [sexLevels]float64
	addr [addrLevels]float64
}

// fillU sets the zero u's from the counts of total pairs, each level at
// least half a pair, for a register of n persons.
func (ix *Index) fillU(count func(*levelCounts), total, n int) {
	var c levelCounts
	count(&c)
	floor := 0.5 / float64(max(total, 1))
	set := func(dst []MU, counts []float64) {
		for k := 1; k < len(dst); k++ {
			if dst[k].U == 0 {
				dst[k].U = max(counts[k]/float64(max(total, 1)), floor)
			}
		}
	}
	set(ix.model.Name[:], c.name[:])
	set(ix.model.Date[:], c.date[:])
	set(ix.model.Sex[:], c.sex[:])
	set(ix.model.Addr[:], c.addr[:])
	if ix.model.Addr[addrOutdated].U == floor {
		ix.model.Addr[addrOutdated].U = ix.model.Addr[addrSame].U
	}
	nf := float64(max(n, 1))
	if ix.model.PIN[pinExact].U == 0 {
		ix.model.PIN[pinExact].U = 1 / nf
	}
	if ix.model.PIN[pinTypo].U == 0 {
		ix.model.PIN[pinTypo].U = 1 / nf
	}
	if ix.model.PIN[pinDifferent].U == 0 {
		ix.model.PIN[pinDifferent].U = 1 - 2/nf
	}
}

// parsed is the parsed name of the person at i.
func (ix *Index) parsed(i int) Name { return ParseName(ix.name(i)) }

// nameLog2Freq is log2 of the share of the register with these folded name
// words (in any order), at least one person's share.
func (ix *Index) nameLog2Freq(words []string) float64 {
	n := len(ix.nameHashes)
	if n == 0 || len(words) == 0 {
		return 0
	}
	h := ix.hash(sortedJoin(words), 0, 0, 0)
	lo, _ := slices.BinarySearch(ix.nameHashes, h)
	hi := lo
	for hi < n && ix.nameHashes[hi] == h {
		hi++
	}
	return math.Log2(float64(max(hi-lo, 1)) / float64(n))
}
