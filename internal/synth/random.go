package synth

import (
	"math/bits"
	"math/rand/v2"
	"strconv"
	"sync"
)

// rng is a thin, allocation-free wrapper over a math/rand/v2 PCG source.
type rng struct{ src rand.PCG }

func newRNG(seed int64, stream uint64) *rng {
	r := &rng{}
	r.src.Seed(uint64(seed), stream)
	return r
}

// float returns a uniform float64 in [0, 1).
func (r *rng) float() float64 { return float64(r.src.Uint64()>>11) * 0x1p-53 }

// intn returns a uniform int in [0, n) for n > 0 (Lemire's multiply-high;
// the bias is below 2^-32 for the small n used here).
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.src.Uint64(), uint64(n))
	return int(hi)
}

func (r *rng) chance(p float64) bool { return r.float() < p }

// cumTable is a normalised cumulative distribution; pick maps a uniform
// number in [0,1) to an index by binary search. Zero-weight entries are
// never picked.
type cumTable []float64

func makeCum(w []float64) cumTable {
	c := make(cumTable, len(w))
	s := 0.0
	last := -1
	for i, x := range w {
		if x > 0 {
			s += x
			last = i
		}
		c[i] = s
	}
	if last < 0 {
		panic("synth: empty weight table")
	}
	for i := range c {
		c[i] /= s
	}
	for i := last; i < len(c); i++ {
		c[i] = 1
	}
	return c
}

func (c cumTable) pick(u float64) int {
	lo, hi := 0, len(c)-1
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if u < c[m] {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

type wstr struct {
	s string
	w float64
}

// strTable draws strings with given weights.
type strTable struct {
	s []string
	c cumTable
}

func newStrTable(ws []wstr) strTable {
	t := strTable{s: make([]string, len(ws))}
	w := make([]float64, len(ws))
	for i, x := range ws {
		t.s[i] = x.s
		w[i] = x.w
	}
	t.c = makeCum(w)
	return t
}

func (t *strTable) draw(r *rng) string { return t.s[t.c.pick(r.float())] }

// ---- calendar ----

// daysFromCivil returns the number of days since 1970-01-01 of a proleptic
// Gregorian date (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int) (y, m, d int) {
	z += 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return
}

// All "YYYY-MM-DD" strings from 1880-01-01 to 2100-12-31 live in one shared
// string so that dates cost no allocation; prefixes give "YYYY" and "YYYY-MM".
var (
	dateOnce  sync.Once
	dateBlob  string
	dateFirst = daysFromCivil(1880, 1, 1)
	dateLast  = daysFromCivil(2100, 12, 31)
)

func buildDates() {
	n := dateLast - dateFirst + 1
	b := make([]byte, 0, n*10)
	for z := dateFirst; z <= dateLast; z++ {
		b = appendDate(b, z)
	}
	dateBlob = string(b)
}

func appendDate(b []byte, z int) []byte {
	y, m, d := civilFromDays(z)
	if y >= 1000 && y <= 9999 {
		b = strconv.AppendInt(b, int64(y), 10)
	} else {
		b = append(b, '0', '0', '0', '0')
	}
	b = append(b, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
	return b
}

// dateString returns "YYYY-MM-DD" for day number z.
func dateString(z int) string {
	if z < dateFirst || z > dateLast {
		return string(appendDate(nil, z))
	}
	dateOnce.Do(buildDates)
	i := (z - dateFirst) * 10
	return dateBlob[i : i+10]
}
