// Package noisy makes a dirty partner copy of the register with noise
// independent of package partnercopy's: other kinds (letters transposed,
// inserted or deleted inside a word, given name first, birth year off by
// one, no commune, old commune names), other rates, most rows without a
// PIN (a bank's customer file rarely has it), a third of the dirty rows
// with two differences at once, and 5 % people not in the register. The
// matcher's thresholds were not tuned on it, so its figures say how the
// model holds on data the project did not make.
package noisy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fold"
	"github.com/dancu-project/dancu/internal/match"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
)

// Kinds of noise, as named in Truth.Kinds.
const (
	Transposed   = "transposed"    // two neighbouring letters of a word swapped ("Nâgn")
	Inserted     = "inserted"      // a letter inserted inside a word
	Deleted      = "deleted"       // a letter of a word left out
	GivenFirst   = "given_first"   // the given name written first
	NoDiacritics = "no_diacritics" // the name typed without diacritics
	YearOff      = "year_off"      // birth year one off
	DaySwap      = "day_swap"      // day and month exchanged
	NoCommune    = "no_commune"    // no address at all
	OldCommune   = "old_commune"   // the address in the units before the 2025 reform
	Stranger     = "stranger"      // not in the register
)

// kinds that make one difference each; two may be combined.
var kinds = []string{Transposed, Inserted, Deleted, GivenFirst, NoDiacritics, YearOff, DaySwap, NoCommune, OldCommune}

// Options of Generate.
type Options struct {
	Rows int
	Seed uint64
	Now  time.Time // the day addresses are written on
	// Clean is the share of register rows without noise (default 0.3);
	// Double the share of noisy rows with two kinds (default 0.35).
	Clean, Double float64
	// WithPIN is the share of rows carrying the person's PIN (default 0.2).
	WithPIN float64
	// Strangers is the share of rows for people not in the register
	// (default 0.05).
	Strangers float64
}

// Truth is what was done to a row.
type Truth struct {
	TruePIN string   // "" for a stranger
	Kinds   []string // noise applied
}

type person struct {
	pin, name, birth, sex, commune string
}

// Generate samples the register (one streaming scan in PIN order, so a
// seed is reproducible) and writes Rows records with their truth.
func Generate(ctx context.Context, db *storage.DB, units *adminunit.Catalog, opts Options) ([]match.Record, []Truth, error) {
	if opts.Rows <= 0 {
		return nil, nil, fmt.Errorf("noisy copy: rows must be positive, got %d", opts.Rows)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	def := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	def(&opts.Clean, 0.3)
	def(&opts.Double, 0.35)
	def(&opts.WithPIN, 0.2)
	def(&opts.Strangers, 0.05)
	r := rand.New(rand.NewPCG(opts.Seed, 0x6e6f697379))
	nStrangers := int(float64(opts.Rows) * opts.Strangers)
	nReg := opts.Rows - nStrangers
	// Every (folded name, birth date) of the register, so that no
	// invented stranger is somebody after all.
	known := map[string]struct{}{}
	var sample []person
	seen := 0
	err := registry.ScanPersons(ctx, db, true, func(p *registry.PersonRow) error {
		known[fold.String(string(p.FullName))+"|"+string(p.BirthDate)] = struct{}{}
		if p.Dead() {
			return nil
		}
		seen++
		s := person{string(p.PIN), string(p.FullName), string(p.BirthDate), string(p.Sex), string(p.Commune)}
		switch {
		case len(sample) < nReg+2*nStrangers:
			sample = append(sample, s)
		default:
			if j := r.IntN(seen); j < len(sample) {
				sample[j] = s
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("noisy copy: %w", err)
	}
	if len(sample) == 0 {
		return nil, nil, fmt.Errorf("noisy copy: the register is empty")
	}
	g := &gen{r: r, units: units, now: opts.Now, opts: opts}
	recs := make([]match.Record, 0, opts.Rows)
	truth := make([]Truth, 0, opts.Rows)
	for i := 0; i < nReg && i < len(sample); i++ {
		rec, t := g.row(sample[i])
		recs, truth = append(recs, rec), append(truth, t)
	}
	// Strangers: a real surname and a real given name of two other people,
	// a random birth date — common names, as real strangers have.
	for len(recs) < opts.Rows {
		a, b := sample[r.IntN(len(sample))], sample[r.IntN(len(sample))]
		wa, wb := strings.Fields(a.name), strings.Fields(b.name)
		if len(wa) == 0 || len(wb) < 2 {
			continue
		}
		name := wa[0] + " " + strings.Join(wb[1:], " ")
		birth := civildate.Date{Year: 1950 + r.IntN(60), Month: 1 + r.IntN(12), Day: 1 + r.IntN(28)}.String()
		if _, ok := known[fold.String(name)+"|"+birth]; ok {
			continue
		}
		s := person{pin: "", name: name, birth: birth, sex: b.sex, commune: a.commune}
		rec, t := g.row(s)
		t.TruePIN = ""
		t.Kinds = append(t.Kinds, Stranger)
		recs, truth = append(recs, rec), append(truth, t)
	}
	r.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i]; truth[i], truth[j] = truth[j], truth[i] })
	for i := range recs {
		recs[i].Ref = fmt.Sprintf("N%07d", i+1)
	}
	return recs, truth, nil
}

type gen struct {
	r     *rand.Rand
	units *adminunit.Catalog
	now   time.Time
	opts  Options
}

func (g *gen) row(p person) (match.Record, Truth) {
	t := Truth{TruePIN: p.pin}
	var chosen []string
	if g.r.Float64() >= g.opts.Clean {
		n := 1
		if g.r.Float64() < g.opts.Double {
			n = 2
		}
		for len(chosen) < n {
			k := kinds[g.r.IntN(len(kinds))]
			if !contains(chosen, k) && !(k == OldCommune && contains(chosen, NoCommune)) && !(k == NoCommune && contains(chosen, OldCommune)) {
				chosen = append(chosen, k)
			}
		}
	}
	rec := match.Record{}
	if p.pin != "" && g.r.Float64() < g.opts.WithPIN {
		rec.PIN = p.pin
	}
	name := p.name
	d, _ := civildate.Parse(p.birth)
	y, m, day := d.Year, d.Month, d.Day
	address := g.units.Path(p.commune, g.now)
	for _, k := range chosen {
		switch k {
		case Transposed, Inserted, Deleted:
			name = misspell(g.r, name, k)
		case GivenFirst:
			if w := strings.Fields(name); len(w) > 1 {
				name = strings.Join(append(w[len(w)-1:], w[:len(w)-1]...), " ")
			}
		case NoDiacritics:
			name = fold.String(name)
			if g.r.IntN(2) == 0 {
				name = strings.ToUpper(name)
			}
		case YearOff:
			if g.r.IntN(2) == 0 {
				y++
			} else {
				y--
			}
		case DaySwap:
			if day == 0 || day > 12 || day == m {
				continue // not possible on this date
			}
			m, day = day, m
		case NoCommune:
			address = ""
		case OldCommune:
			if a := g.oldAddress(p.commune); a != "" {
				address = a
			} else {
				continue
			}
		}
		t.Kinds = append(t.Kinds, k)
	}
	rec.FullName = name
	switch {
	case m == 0:
		rec.BirthDate = fmt.Sprint(y)
	case day == 0:
		rec.BirthDate = fmt.Sprintf("%02d/%d", m, y)
	case g.r.IntN(3) == 0:
		rec.BirthDate = fmt.Sprintf("%d-%02d-%02d", y, m, day)
	default:
		rec.BirthDate = fmt.Sprintf("%02d/%02d/%d", day, m, y)
	}
	if g.r.Float64() < 0.9 {
		rec.Sex = map[string]string{"M": "Nam", "F": "Nữ"}[p.sex]
	}
	rec.Address = address
	return rec, t
}

// oldAddress is one of the communes before the reform that the person's
// commune was formed from, with its district and province of the time.
func (g *gen) oldAddress(commune string) string {
	var olds []adminunit.Unit
	for _, u := range g.units.Predecessors(commune) {
		if u.Level == adminunit.LevelCommune {
			olds = append(olds, u)
		}
	}
	if len(olds) == 0 {
		return ""
	}
	return g.units.Path(olds[g.r.IntN(len(olds))].Code, adminunit.Reform().AddDate(0, 0, -1))
}

// misspell transposes, inserts or deletes a letter inside one word of
// the name (not only at its ends, as keyboard slips fall anywhere).
func misspell(r *rand.Rand, name, kind string) string {
	words := strings.Fields(name)
	if len(words) == 0 {
		return name
	}
	wi := r.IntN(len(words))
	w := []rune(words[wi])
	switch kind {
	case Transposed:
		if len(w) < 2 {
			return name
		}
		i := r.IntN(len(w) - 1)
		w[i], w[i+1] = w[i+1], w[i]
		if i == 0 { // keep the capital at the front, as "uHyền" shows it need not
			if r.IntN(2) == 0 {
				w[0], w[1] = unicode.ToUpper(w[0]), unicode.ToLower(w[1])
			}
		}
	case Inserted:
		i := 1 + r.IntN(len(w))
		c := []rune("aeiouhnmtgc")[r.IntN(11)]
		w = append(w[:i], append([]rune{c}, w[i:]...)...)
	case Deleted:
		if len(w) < 3 {
			return name
		}
		i := 1 + r.IntN(len(w)-1)
		w = append(w[:i], w[i+1:]...)
	}
	words[wi] = string(w)
	return strings.Join(words, " ")
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
