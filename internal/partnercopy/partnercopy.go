// Package partnercopy writes the dirty copy of the register a partner would
// hold — missing diacritics, typos, day and month swapped, pre-2025
// addresses, dead people still listed, people the register does not know,
// mistyped PINs, names in another order or case, old tone-mark placement,
// duplicated rows — together with the ground truth, so that reconciliation
// can be measured (precision, recall) rather than eyeballed.
package partnercopy

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fold"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/seed"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/synth"
)

// Corruptions, as written in the truth file.
const (
	NoDiacritics  = "missing_diacritics"
	UpperCase     = "upper_case"
	LowerCase     = "lower_case"
	NameTypo      = "name_typo"
	TonePlacement = "tone_placement"
	NameOrder     = "name_order"
	SwappedDate   = "swapped_day_month"
	DateTypo      = "date_typo"
	PINTypo       = "pin_typo"
	NoPIN         = "missing_pin"
	OldAddress    = "old_address"
	NoAddress     = "missing_address"
	Dead          = "dead"
	NotInRegister = "not_in_register"
	Duplicate     = "duplicate"
)

// Rates of each kind of dirt, per row. The defaults give a copy where about
// two rows in three have something wrong, as in a partner database that was
// never cleaned.
type Rates struct {
	NoDiacritics, UpperCase, LowerCase, NameTypo, TonePlacement, NameOrder float64
	SwappedDate, DateTypo, PINTypo, NoPIN, OldAddress, NoAddress           float64
	Dead, NotInRegister, Duplicate                                         float64
}

// DefaultRates are the rates Run uses when none are given.
func DefaultRates() Rates {
	return Rates{
		NoDiacritics: 0.20, UpperCase: 0.10, LowerCase: 0.03, NameTypo: 0.05, TonePlacement: 0.30, NameOrder: 0.03,
		SwappedDate: 0.04, DateTypo: 0.02, PINTypo: 0.04, NoPIN: 0.05, OldAddress: 0.25, NoAddress: 0.05,
		Dead: 0.03, NotInRegister: 0.05, Duplicate: 0.02,
	}
}

// Options of a copy.
type Options struct {
	Rows  int   // rows to write, duplicates and strangers included
	Seed  int64 // same seed and register → same copy
	Now   time.Time
	Rates *Rates // nil = DefaultRates()
}

// Row is one line of the partner's file.
type Row struct {
	Ref, PIN, FullName, BirthDate, Sex, Address, CardNumber string
}

// Truth is what the row really is.
type Truth struct {
	Ref         string
	TruePIN     string   // "" when the person is not in the register
	Corruptions []string // what was done to the row
}

// Header is the first line of the partner file.
var Header = []string{"ref", "pin", "full_name", "birth_date", "sex", "address", "card_number"}

// TruthHeader is the first line of the truth file.
var TruthHeader = []string{"ref", "true_pin", "corruptions"}

// Recorder writes audit entries (audit.Log).
type Recorder interface {
	Record(ctx context.Context, e audit.Entry) error
}

// Summary of a written copy.
type Summary struct {
	Rows, FromRegister, Dead, NotInRegister, Duplicates, Dirty int
	File, TruthFile                                            string
}

// TruthPath is where the truth of file is written: "x.csv" → "x.truth.csv".
func TruthPath(file string) string {
	return strings.TrimSuffix(file, ".csv") + ".truth.csv"
}

// Run samples the register, writes the partner file and its truth file, and
// records one audit entry for the sampling. Files are written to temporary
// names and renamed, so a failure leaves no half-written copy.
func Run(ctx context.Context, db *storage.DB, units *adminunit.Catalog, rec Recorder, file string, opts Options) (Summary, error) {
	rows, truth, err := Generate(ctx, db, units, opts)
	if err != nil {
		return Summary{}, err
	}
	if err := rec.Record(ctx, audit.Entry{Actor: "system:partner-copy", Action: "registry.sample", Subject: "registry",
		Purpose: "synthetic partner copy", Detail: fmt.Sprintf("%d rows, seed %d", len(rows), opts.Seed), At: opts.Now}); err != nil {
		return Summary{}, fmt.Errorf("partner copy: audit: %w", err)
	}
	s := Summary{Rows: len(rows), File: file, TruthFile: TruthPath(file)}
	for _, t := range truth {
		if t.TruePIN != "" {
			s.FromRegister++
		}
		for _, c := range t.Corruptions {
			switch c {
			case Dead:
				s.Dead++
			case NotInRegister:
				s.NotInRegister++
			case Duplicate:
				s.Duplicates++
			}
		}
		if len(t.Corruptions) > 0 {
			s.Dirty++
		}
	}
	if err := writeFile(file, func(w io.Writer) error { return WriteRows(w, rows) }); err != nil {
		return Summary{}, err
	}
	if err := writeFile(s.TruthFile, func(w io.Writer) error { return WriteTruth(w, truth) }); err != nil {
		os.Remove(file)
		return Summary{}, err
	}
	return s, nil
}

func writeFile(path string, fn func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("partner copy: %w", err)
	}
	if err := fn(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("partner copy: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("partner copy: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("partner copy: %w", err)
	}
	return nil
}

// WriteRows writes the partner file: UTF-8 CSV with a header line.
func WriteRows(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Header); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write([]string{r.Ref, r.PIN, r.FullName, r.BirthDate, r.Sex, r.Address, r.CardNumber}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTruth writes the truth file; corruptions are separated by ";".
func WriteTruth(w io.Writer, truth []Truth) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(TruthHeader); err != nil {
		return err
	}
	for _, t := range truth {
		if err := cw.Write([]string{t.Ref, t.TruePIN, strings.Join(t.Corruptions, ";")}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadTruth reads a truth file back: ref → truth.
func ReadTruth(r io.Reader) (map[string]Truth, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(TruthHeader)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("truth: %w", err)
	}
	if strings.Join(head, ",") != strings.Join(TruthHeader, ",") {
		return nil, fmt.Errorf("truth: header %q, want %q", head, TruthHeader)
	}
	out := map[string]Truth{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("truth: %w", err)
		}
		t := Truth{Ref: rec[0], TruePIN: rec[1]}
		if rec[2] != "" {
			t.Corruptions = strings.Split(rec[2], ";")
		}
		out[t.Ref] = t
	}
}

// source is one sampled register person.
type source struct {
	pin, name, birth, sex, commune, detail string
	dead                                   bool
}

// Generate builds the rows and their truth without writing anything.
func Generate(ctx context.Context, db *storage.DB, units *adminunit.Catalog, opts Options) ([]Row, []Truth, error) {
	if opts.Rows <= 0 {
		return nil, nil, fmt.Errorf("partner copy: rows must be positive, got %d", opts.Rows)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	rates := DefaultRates()
	if opts.Rates != nil {
		rates = *opts.Rates
	}
	r := rand.New(rand.NewPCG(uint64(opts.Seed), 0x9a77e4c09))
	nDup := int(float64(opts.Rows) * rates.Duplicate)
	nStranger := int(float64(opts.Rows) * rates.NotInRegister)
	nRegister := opts.Rows - nDup - nStranger
	deadInRegister, err := registry.CountDead(ctx, db)
	if err != nil {
		return nil, nil, fmt.Errorf("partner copy: %w", err)
	}
	nDead := min(int(float64(nRegister)*rates.Dead), deadInRegister)
	alive, dead, err := sample(ctx, db, r, nRegister-nDead, nDead)
	if err != nil {
		return nil, nil, err
	}
	if len(alive)+len(dead) == 0 {
		return nil, nil, errors.New("partner copy: the register is empty; seed it first (dancu seed --persons N)")
	}
	srcs := append(alive, dead...)
	strangers, err := strangers(ctx, db, units, opts, nStranger)
	if err != nil {
		return nil, nil, err
	}
	srcs = append(srcs, strangers...)
	r.Shuffle(len(srcs), func(i, j int) { srcs[i], srcs[j] = srcs[j], srcs[i] })
	g := &dirtier{r: r, units: units, now: opts.Now, rates: rates}
	rows := make([]Row, 0, opts.Rows)
	truth := make([]Truth, 0, opts.Rows)
	for i, s := range srcs {
		row, t := g.row(s)
		row.Ref = fmt.Sprintf("P%07d", i+1)
		t.Ref = row.Ref
		rows = append(rows, row)
		truth = append(truth, t)
	}
	for i := 0; i < nDup && len(rows) > 0; i++ {
		k := r.IntN(len(srcs))
		row, t := rows[k], truth[k]
		row.Ref = fmt.Sprintf("P%07d", len(rows)+1)
		t.Ref = row.Ref
		t.Corruptions = append(append([]string(nil), t.Corruptions...), Duplicate)
		rows = append(rows, row)
		truth = append(truth, t)
	}
	return rows, truth, nil
}

// sample draws nAlive living and nDead dead persons uniformly from the
// register with one streaming scan in PIN order (reservoir sampling; the
// order makes a seed's sample reproducible), through the register's bulk
// read. The sampling is audited once by Run.
func sample(ctx context.Context, db *storage.DB, r *rand.Rand, nAlive, nDead int) (alive, dead []source, err error) {
	var seenAlive, seenDead int
	err = registry.ScanPersons(ctx, db, true, func(p *registry.PersonRow) error {
		s := source{pin: string(p.PIN), name: string(p.FullName), birth: string(p.BirthDate), sex: string(p.Sex),
			commune: string(p.Commune), detail: string(p.Detail), dead: p.Dead()}
		res, seen, n := &alive, &seenAlive, nAlive
		if s.dead {
			res, seen, n = &dead, &seenDead, nDead
		}
		*seen++
		switch {
		case len(*res) < n:
			*res = append(*res, s)
		case n > 0:
			if j := r.IntN(*seen); j < n {
				(*res)[j] = s
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("partner copy: sample: %w", err)
	}
	return alive, dead, nil
}

// strangers are n invented people the register does not hold, from
// synth with another seed, each with a well-formed PIN nobody has.
func strangers(ctx context.Context, db *storage.DB, units *adminunit.Catalog, opts Options, n int) ([]source, error) {
	if n <= 0 {
		return nil, nil
	}
	cfg := synth.Config{Seed: opts.Seed ^ 0x5eed0f57a, Persons: n * 2, Areas: seed.Areas(units, opts.Now), Today: opts.Now}
	var people []synth.Person
	err := synth.Generate(cfg, func(h synth.Household) error {
		for _, m := range h.Members {
			if !m.Dead && len(people) < n && m.BirthYear >= 1900 {
				people = append(people, m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("partner copy: strangers: %w", err)
	}
	r := rand.New(rand.NewPCG(uint64(opts.Seed), 0x57a96e5))
	out := make([]source, 0, len(people))
	for _, m := range people {
		prefix, err := pin.Prefix("0"+m.BirthProvince, m.BirthYear, m.Sex)
		if err != nil {
			continue
		}
		var id string
		for try := 0; try < 20 && id == ""; try++ {
			cand := string(pin.FromSerial(prefix, 1+r.IntN(pin.MaxSerial)))
			taken, err := registry.Exists(ctx, db, cand)
			if err != nil {
				return nil, fmt.Errorf("partner copy: strangers: %w", err)
			}
			if !taken {
				id = cand
			}
		}
		if id == "" {
			continue
		}
		out = append(out, source{pin: "~" + id, name: m.FullName, birth: m.BirthDate, sex: string(m.Sex), commune: m.CommuneCode, detail: m.AddressDetail})
	}
	return out, nil
}

// dirtier makes rows dirty.
type dirtier struct {
	r     *rand.Rand
	units *adminunit.Catalog
	now   time.Time
	rates Rates
}

func (g *dirtier) chance(p float64) bool { return g.r.Float64() < p }

func (g *dirtier) row(s source) (Row, Truth) {
	var t Truth
	did := func(c string) { t.Corruptions = append(t.Corruptions, c) }
	stranger := strings.HasPrefix(s.pin, "~")
	pinText := strings.TrimPrefix(s.pin, "~")
	if stranger {
		did(NotInRegister)
	} else {
		t.TruePIN = s.pin
	}
	if s.dead {
		did(Dead)
	}
	row := Row{}
	// PIN and card number.
	switch {
	case g.chance(g.rates.NoPIN):
		did(NoPIN)
	case g.chance(g.rates.PINTypo):
		row.PIN = mistypePIN(g.r, pinText)
		did(PINTypo)
	default:
		row.PIN = pinText
	}
	switch x := g.r.Float64(); {
	case x < 0.6:
		row.CardNumber = pinText
		if row.PIN != pinText && row.PIN != "" {
			row.CardNumber = row.PIN // the same mistyped number in both columns
		}
	case x < 0.8:
		row.CardNumber = fmt.Sprintf("%09d", g.r.IntN(1_000_000_000)) // old 9-digit CMND
	}
	// Name.
	name := s.name
	if g.chance(g.rates.TonePlacement) {
		if n2 := oldTones(name); n2 != name {
			name = n2
			did(TonePlacement)
		}
	}
	if g.chance(g.rates.NameTypo) {
		name = typo(g.r, name)
		did(NameTypo)
	}
	if g.chance(g.rates.NameOrder) {
		if w := strings.Fields(name); len(w) > 1 {
			name = strings.Join(append(w[len(w)-1:], w[:len(w)-1]...), " ")
			did(NameOrder)
		}
	}
	if g.chance(g.rates.NoDiacritics) {
		name = stripDiacritics(name)
		did(NoDiacritics)
	}
	switch {
	case g.chance(g.rates.UpperCase):
		name = strings.ToUpper(name)
		did(UpperCase)
	case g.chance(g.rates.LowerCase):
		name = strings.ToLower(name)
		did(LowerCase)
	}
	row.FullName = name
	// Birth date, in one of the formats partners use.
	d, _ := civildate.Parse(s.birth)
	y, m, day := d.Year, d.Month, d.Day
	if day != 0 && m != 0 && day != m && g.chance(g.rates.SwappedDate) {
		m, day = day, m
		did(SwappedDate)
	} else if day != 0 && g.chance(g.rates.DateTypo) {
		day = day%28 + 1 // another day of the same month
		did(DateTypo)
	}
	row.BirthDate = formatDate(g.r, y, m, day)
	// Sex, written in several ways.
	if s.sex == "F" {
		row.Sex = []string{"Nữ", "F", "nu", "NỮ"}[g.r.IntN(4)]
	} else {
		row.Sex = []string{"Nam", "M", "nam", "NAM"}[g.r.IntN(4)]
	}
	// Address.
	switch {
	case g.chance(g.rates.NoAddress):
		did(NoAddress)
	case g.chance(g.rates.OldAddress):
		if a := g.oldAddress(s); a != "" {
			row.Address = a
			did(OldAddress)
		} else {
			row.Address = joinAddr(s.detail, g.units.Path(s.commune, g.now))
		}
	default:
		row.Address = joinAddr(s.detail, g.units.Path(s.commune, g.now))
		if g.chance(0.2) {
			row.Address = fold.String(row.Address) // typed without diacritics
		}
	}
	return row, t
}

func joinAddr(detail, path string) string {
	switch {
	case detail == "":
		return path
	case path == "":
		return detail
	}
	return detail + ", " + path
}

// oldAddress writes the address in the units before the 2025 reform: one
// of the old communes the person's commune was formed from, with its
// district and old province. "" when there is none.
func (g *dirtier) oldAddress(s source) string {
	var olds []adminunit.Unit
	for _, u := range g.units.Predecessors(s.commune) {
		if u.Level == adminunit.LevelCommune {
			olds = append(olds, u)
		}
	}
	if len(olds) == 0 {
		return ""
	}
	u := olds[g.r.IntN(len(olds))]
	path := g.units.Path(u.Code, adminunit.Reform().AddDate(0, 0, -1))
	if path == "" {
		return ""
	}
	return joinAddr(s.detail, path)
}

// formatDate writes a date as partners do: dd/mm/yyyy mostly, sometimes
// yyyy-mm-dd or d/m/yyyy; partial dates as mm/yyyy or yyyy.
func formatDate(r *rand.Rand, y, m, d int) string {
	switch {
	case m == 0:
		return strconv.Itoa(y)
	case d == 0:
		return fmt.Sprintf("%02d/%d", m, y)
	}
	switch x := r.Float64(); {
	case x < 0.7:
		return fmt.Sprintf("%02d/%02d/%d", d, m, y)
	case x < 0.9:
		return fmt.Sprintf("%d-%02d-%02d", y, m, d)
	default:
		return fmt.Sprintf("%d/%d/%d", d, m, y)
	}
}

// mistypePIN changes one digit or swaps two neighbouring digits.
func mistypePIN(r *rand.Rand, p string) string {
	b := []byte(p)
	for {
		if r.IntN(4) == 0 {
			i := r.IntN(len(b) - 1)
			if b[i] == b[i+1] {
				continue
			}
			b[i], b[i+1] = b[i+1], b[i]
		} else {
			i := r.IntN(len(b))
			b[i] = byte('0' + (int(b[i]-'0')+1+r.IntN(9))%10)
		}
		return string(b)
	}
}

// oldTones moves tone marks to the old ("classic") position on the
// syllables where the two styles differ: hòa → hoà, thúy → thuý.
func oldTones(s string) string {
	return toneReplacer.Replace(s)
}

var toneReplacer = strings.NewReplacer(
	"òa", "oà", "óa", "oá", "ỏa", "oả", "õa", "oã", "ọa", "oạ",
	"òe", "oè", "óe", "oé", "ỏe", "oẻ", "õe", "oẽ", "ọe", "oẹ",
	"ùy", "uỳ", "úy", "uý", "ủy", "uỷ", "ũy", "uỹ", "ụy", "uỵ",
	"Òa", "Oà", "Óa", "Oá", "Úy", "Uý",
)

// stripDiacritics removes diacritics but keeps case: "Đặng Thị Hoa" → "Dang Thi Hoa".
func stripDiacritics(s string) string {
	var b strings.Builder
	for _, r := range s {
		f := fold.String(string(r))
		if f == "" || utf8.RuneCountInString(f) != 1 {
			b.WriteRune(r)
			continue
		}
		fr, _ := utf8.DecodeRuneInString(f)
		if unicode.IsUpper(r) {
			fr = unicode.ToUpper(fr)
		}
		b.WriteRune(fr)
	}
	return b.String()
}

// typo makes one keyboard slip in a word of the name: a letter changed,
// dropped, doubled, or two letters swapped.
func typo(r *rand.Rand, s string) string {
	words := strings.Fields(s)
	if len(words) == 0 {
		return s
	}
	wi := r.IntN(len(words))
	w := []rune(words[wi])
	if len(w) < 2 {
		w = append(w, 'h')
	} else {
		i := r.IntN(len(w))
		switch r.IntN(4) {
		case 0: // change, keeping the case
			c := rune("aeioubcdghklmnpqrstvxy"[r.IntN(22)])
			if unicode.IsUpper(w[i]) {
				c = unicode.ToUpper(c)
			}
			w[i] = c
		case 1: // drop
			w = append(w[:i], w[i+1:]...)
		case 2: // double
			w = append(w[:i+1], w[i:]...)
		default: // swap
			if i == len(w)-1 {
				i--
			}
			w[i], w[i+1] = w[i+1], w[i]
		}
	}
	if string(w) == words[wi] {
		w = append(w, 'h')
	}
	words[wi] = string(w)
	return strings.Join(words, " ")
}
