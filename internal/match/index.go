package match

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
)

// Index is an in-memory snapshot of the register built for matching: a
// compact record of every person (about 20 bytes plus the name), sorted
// blocking keys (8 bytes each, about seven per person), name frequencies
// and the set of words in names: about 120 bytes a person in all, so
// 10,000,000 people take about 1.2 GB. It is immutable
// and safe for concurrent use; rebuild it to see later changes.
//
// Blocking keys, each a 32-bit hash with the person's position:
//
//	name    the folded name's words in sorted order + birth year and month (diacritics, case, word order, a wrong day)
//	given   the given name + full birth date (typos in surname or middle name)
//	drop    the folded, sorted name with one word left out + full birth date, one key per word (a typo,
//	        transposed, inserted or missing letter in any one word; looked up with the year ±1 too)
//	nameMD  the folded, sorted name + day and month (a wrong year)
//	initials the words' first letters, sorted + full birth date (slips inside two words)
//
// Partner dates are looked up with day and month both ways (swapped). A
// record's candidates are the union of what its keys find (each key's
// block bounded by maxBlock) and the PIN itself, searched exactly and with every single-digit change
// and swap of neighbouring digits (a mistyped PIN).
type Index struct {
	units *adminunit.Catalog
	now   time.Time
	model Model
	seed  maphash.Seed

	pins    []uint64 // PIN as a number, by position
	names   []byte   // NFC names, one after another
	nameEnd []uint32 // end of each name in names
	birth   []uint32 // packed date: year<<10 | month<<5 | day
	commune []uint16 // position in communes
	flags   []uint8  // flagFemale, flagDead

	communes []string // commune codes as recorded
	places   []*place // address knowledge per commune (nil: unknown code)

	byPIN []pinEntry        // sorted by PIN
	keys  [numKeys][]uint64 // hash<<32 | position, sorted
	// starts[k][b] is where keys[k]'s entries with the hash's top 16 bits
	// b begin: a look-up searches only that bucket (a record makes some
	// 40 look-ups; a search of the whole array misses the cache ~20 times).
	starts [numKeys][]uint32
	w      weights // the model's weights, computed once
	// words are the folded words of every name in the register: a
	// partner's word outside them is a slip, not another name.
	words map[string]struct{}
	// nameHashes are the hashes of every person's folded name (words
	// sorted), sorted: the name frequencies of frequency-based weights.
	nameHashes []uint32
}

type pinEntry struct {
	pin uint64
	pos uint32
}

const (
	flagFemale = 1 << iota
	flagDead
)

const (
	keyName = iota
	keyGiven
	keyDrop
	keyNameMD
	keyInitials
	numKeys
)

// maxBlock bounds the candidates one key may add: a very common name and
// year ("Nguyễn Văn Hùng", 1990) would otherwise bring hundreds of people.
const maxBlock = 256

// Options of Load and NewBuilder.
type Options struct {
	// Now is the day addresses are read on (units in force); zero = time.Now().
	Now time.Time
	// Model scores candidates; zero = DefaultModel().
	Model *Model
}

// Builder adds persons to a new Index.
type Builder struct {
	ix        *Index
	communeAt map[string]uint16
}

// NewBuilder starts an index. units resolves addresses of both maps.
func NewBuilder(units *adminunit.Catalog, opts Options) *Builder {
	ix := &Index{units: units, now: opts.Now, seed: maphash.MakeSeed()}
	if ix.now.IsZero() {
		ix.now = time.Now()
	}
	if opts.Model != nil {
		ix.model = *opts.Model
	} else {
		ix.model = DefaultModel()
	}
	return &Builder{ix: ix, communeAt: map[string]uint16{}}
}

// Add appends one person. PINs must be 12 digits; others are skipped and
// reported false.
func (b *Builder) Add(p Person) bool {
	return b.add(p.PIN, []byte(p.FullName), p.BirthDate, p.Sex == "F", p.Dead, p.CommuneCode)
}

func (b *Builder) add(pinText string, name []byte, birth civildate.Date, female, dead bool, commune string) bool {
	ix := b.ix
	pn, ok := pinNumber(pinText)
	if !ok || len(ix.pins) >= 1<<32-1 {
		return false
	}
	c, ok := b.communeAt[commune]
	if !ok {
		if len(ix.communes) >= 1<<16-1 {
			c = 0 // cannot happen with the ~14,000 units of both maps
		} else {
			c = uint16(len(ix.communes))
			ix.communes = append(ix.communes, commune)
			b.communeAt[commune] = c
		}
	}
	var f uint8
	if female {
		f |= flagFemale
	}
	if dead {
		f |= flagDead
	}
	ix.pins = append(ix.pins, pn)
	ix.names = append(ix.names, name...)
	ix.nameEnd = append(ix.nameEnd, uint32(len(ix.names)))
	ix.birth = append(ix.birth, packDate(birth.Year, birth.Month, birth.Day))
	ix.commune = append(ix.commune, c)
	ix.flags = append(ix.flags, f)
	return true
}

// Finish builds the keys and returns the index; the builder must not be
// used again.
func (b *Builder) Finish() *Index {
	ix := b.ix
	n := len(ix.pins)
	ix.byPIN = make([]pinEntry, n)
	for i, p := range ix.pins {
		ix.byPIN[i] = pinEntry{p, uint32(i)}
	}
	slices.SortFunc(ix.byPIN, func(a, b pinEntry) int { return cmp.Compare(a.pin, b.pin) })
	for k := range ix.keys {
		c := n
		if k == keyDrop {
			c = 3 * n // one per word: most names have three
		}
		ix.keys[k] = make([]uint64, 0, c)
	}
	var words []string
	var keys []blockKey
	ix.nameHashes = make([]uint32, n)
	ix.words = map[string]struct{}{}
	for i := 0; i < n; i++ {
		name := ParseName(ix.name(i))
		words = append(words[:0], name.Folded...)
		for _, w := range words {
			if _, ok := ix.words[w]; !ok {
				ix.words[strings.Clone(w)] = struct{}{}
			}
		}
		ix.nameHashes[i] = ix.hash(sortedJoin(words), 0, 0, 0)
		y, m, d := unpackDate(ix.birth[i])
		keys = ix.personKeys(keys[:0], words, y, m, d)
		for _, k := range keys {
			ix.keys[k.kind] = append(ix.keys[k.kind], uint64(k.hash)<<32|uint64(i))
		}
	}
	for k := range ix.keys {
		radixSortHigh(ix.keys[k])
		ix.starts[k] = bucketStarts(ix.keys[k])
	}
	slices.Sort(ix.nameHashes)
	ix.places = make([]*place, len(ix.communes))
	for i, code := range ix.communes {
		if pl, ok := placeOf(ix.units, code, ix.now); ok {
			ix.places[i] = &pl
		}
	}
	ix.estimateU()
	ix.w = ix.model.weights(n)
	b.ix = nil
	return ix
}

// Load builds the index from the register with one streaming scan of the
// persons table, through the register's bulk read (registry.ScanPersons):
// a scan of millions of rows through registry.Person values would cost
// several times the memory and time.
func Load(ctx context.Context, db *storage.DB, units *adminunit.Catalog, opts Options) (*Index, error) {
	b := NewBuilder(units, opts)
	count, err := registry.CountPersons(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("load match index: %w", err)
	}
	b.grow(count)
	err = registry.ScanPersons(ctx, db, false, func(r *registry.PersonRow) error {
		d, _ := civildate.Parse(string(r.BirthDate))
		c, ok := b.communeAt[string(r.Commune)]
		code := ""
		if !ok {
			code = string(r.Commune)
		} else {
			code = b.ix.communes[c]
		}
		b.add(string(r.PIN), r.FullName, d, string(r.Sex) == "F", r.Dead(), code)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load match index: %w", err)
	}
	return b.Finish(), nil
}

func (b *Builder) grow(n int) {
	ix := b.ix
	ix.pins = slices.Grow(ix.pins, n)
	ix.names = slices.Grow(ix.names, n*20)
	ix.nameEnd = slices.Grow(ix.nameEnd, n)
	ix.birth = slices.Grow(ix.birth, n)
	ix.commune = slices.Grow(ix.commune, n)
	ix.flags = slices.Grow(ix.flags, n)
}

// Len is the number of persons in the index.
func (ix *Index) Len() int { return len(ix.pins) }

// SizeBytes estimates the memory the index holds.
func (ix *Index) SizeBytes() int {
	s := cap(ix.pins)*8 + cap(ix.nameHashes)*4 + cap(ix.names) + cap(ix.nameEnd)*4 + cap(ix.birth)*4 + cap(ix.commune)*2 + cap(ix.flags) + cap(ix.byPIN)*16
	for k := range ix.keys {
		s += cap(ix.keys[k])*8 + cap(ix.starts[k])*4
	}
	return s
}

func (ix *Index) name(i int) string {
	start := uint32(0)
	if i > 0 {
		start = ix.nameEnd[i-1]
	}
	return string(ix.names[start:ix.nameEnd[i]])
}

// person rebuilds the register view of position i.
func (ix *Index) person(i int) Person {
	y, m, d := unpackDate(ix.birth[i])
	p := Person{PIN: pinText(ix.pins[i]), FullName: ix.name(i), BirthDate: civildate.Date{Year: y, Month: m, Day: d},
		Sex: "M", CommuneCode: ix.communes[ix.commune[i]], Dead: ix.flags[i]&flagDead != 0}
	if ix.flags[i]&flagFemale != 0 {
		p.Sex = "F"
	}
	if pl := ix.places[ix.commune[i]]; pl != nil {
		p.ProvinceCode = pl.province2
		p.CommuneCode = pl.code
	}
	return p
}

// Lookup returns the person with the PIN, from memory.
func (ix *Index) Lookup(pin string) (Person, bool) {
	if i, ok := ix.findPIN(pin); ok {
		return ix.person(i), true
	}
	return Person{}, false
}

func (ix *Index) findPIN(pinText string) (int, bool) {
	pn, ok := pinNumber(pinText)
	if !ok {
		return 0, false
	}
	return ix.findPINNumber(pn)
}

func (ix *Index) findPINNumber(pn uint64) (int, bool) {
	j, ok := slices.BinarySearchFunc(ix.byPIN, pn, func(e pinEntry, t uint64) int { return cmp.Compare(e.pin, t) })
	if !ok {
		return 0, false
	}
	return int(ix.byPIN[j].pos), true
}

type blockKey struct {
	kind int
	hash uint32
}

// personKeys appends the blocking keys of a person with folded name words
// and birth date y-m-d (zero parts unknown).
func (ix *Index) personKeys(keys []blockKey, words []string, y, m, d int) []blockKey {
	if len(words) == 0 {
		return keys
	}
	sorted := sortedJoin(words)
	given := words[len(words)-1]
	keys = append(keys,
		blockKey{keyName, ix.hash(sorted, y, m, 0)},
		blockKey{keyGiven, ix.hash(given, y, m, d)},
		blockKey{keyNameMD, ix.hash(sorted, 0, m, d)})
	if d != 0 && len(words) > 1 {
		forEachDropped(words, func(s string) { keys = append(keys, blockKey{keyDrop, ix.hash(s, y, m, d)}) })
		keys = append(keys, blockKey{keyInitials, ix.hash(initials(words), y, m, d)})
	}
	return keys
}

// initials are the first letters of the words, sorted: "nguyen van an" →
// "anv". Slips inside words keep them.
func initials(words []string) string {
	var b [16]byte
	n := 0
	for _, w := range words {
		if n < len(b) && w != "" {
			b[n] = w[0]
			n++
		}
	}
	slices.Sort(b[:n])
	return string(b[:n])
}

// forEachDropped calls fn with the sorted name left without each of its
// words in turn (once per distinct result), at most eight words.
func forEachDropped(words []string, fn func(string)) {
	var buf [8]string
	n := copy(buf[:], words)
	w := buf[:n]
	slices.Sort(w)
	var rest [7]string
	for i := range w {
		if i > 0 && w[i] == w[i-1] {
			continue
		}
		r := append(append(rest[:0], w[:i]...), w[i+1:]...)
		fn(strings.Join(r, " "))
	}
}

// queryKeys are the keys to look up for a partner's record: the person's
// keys, also with the given name written first ("An Nguyễn Văn"), day and
// month both ways and the year one off. A partner date of only a year is
// looked up under every month.
func (ix *Index) queryKeys(words []string, y, m, d int) []blockKey {
	if len(words) == 0 || y == 0 {
		return nil
	}
	sorted := sortedJoin(words)
	var keys []blockKey
	if m == 0 {
		for mm := 0; mm <= 12; mm++ {
			keys = append(keys, blockKey{keyName, ix.hash(sorted, y, mm, 0)})
		}
		return keys
	}
	keys = append(keys, blockKey{keyName, ix.hash(sorted, y, m, 0)})
	if d == 0 {
		return keys
	}
	// The given name as written last, and as written first.
	givens := []string{words[len(words)-1]}
	if len(words) > 1 {
		givens = append(givens, words[0])
	}
	var dropped []string
	if len(words) > 1 {
		forEachDropped(words, func(s string) { dropped = append(dropped, s) })
	}
	dates := [][2]int{{m, d}}
	if m != d && d <= 12 {
		dates = append(dates, [2]int{d, m}) // day and month swapped
	}
	for _, md := range dates {
		mm, dd := md[0], md[1]
		if mm != m {
			keys = append(keys, blockKey{keyName, ix.hash(sorted, y, mm, 0)})
		}
		keys = append(keys, blockKey{keyNameMD, ix.hash(sorted, 0, mm, dd)})
		if len(words) > 1 {
			keys = append(keys, blockKey{keyInitials, ix.hash(initials(words), y, mm, dd)})
		}
		for _, g := range givens {
			keys = append(keys, blockKey{keyGiven, ix.hash(g, y, mm, dd)})
		}
		years := []int{y, y - 1, y + 1}
		if mm != m {
			years = years[:1] // a slip, a swap and a wrong year: too many at once
		}
		for _, yy := range years {
			// One word mistyped on either side, or one word more on the
			// register's (a middle name the partner left out).
			keys = append(keys, blockKey{keyDrop, ix.hash(sorted, yy, mm, dd)})
			for _, s := range dropped {
				keys = append(keys, blockKey{keyDrop, ix.hash(s, yy, mm, dd)})
				if yy == y {
					// One word more on the partner's side.
					keys = append(keys, blockKey{keyName, ix.hash(s, y, mm, 0)})
				}
			}
		}
	}
	return keys
}

func sortedJoin(words []string) string {
	if len(words) == 1 {
		return words[0]
	}
	if slices.IsSorted(words) {
		return strings.Join(words, " ")
	}
	w := slices.Clone(words)
	slices.Sort(w)
	return strings.Join(w, " ")
}

func (ix *Index) hash(s string, y, m, d int) uint32 {
	var h maphash.Hash
	h.SetSeed(ix.seed)
	h.WriteString(s)
	var b [4]byte
	v := packDate(y, m, d)
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	h.Write(b[:])
	return uint32(h.Sum64())
}

// block returns the positions under one key.
func (ix *Index) block(k blockKey) []uint64 {
	ks := ix.keys[k.kind]
	lo := uint64(k.hash) << 32
	var i int
	if st := ix.starts[k.kind]; st != nil {
		b := k.hash >> 16
		from, to := int(st[b]), int(st[b+1])
		i, _ = slices.BinarySearch(ks[from:to], lo)
		i += from
	} else {
		i, _ = slices.BinarySearch(ks, lo)
	}
	j := i
	for j < len(ks) && ks[j]>>32 == uint64(k.hash) {
		j++
	}
	if j-i > maxBlock {
		j = i + maxBlock
	}
	return ks[i:j]
}

// bucketStarts indexes sorted keys by the top 16 bits of their hash.
func bucketStarts(ks []uint64) []uint32 {
	st := make([]uint32, 1<<16+1)
	for _, x := range ks {
		st[x>>48+1]++
	}
	for b := 1; b < len(st); b++ {
		st[b] += st[b-1]
	}
	return st
}

func packDate(y, m, d int) uint32 {
	if y < 0 || y > 1<<20 || m < 0 || m > 31 || d < 0 || d > 31 {
		return 0
	}
	return uint32(y)<<10 | uint32(m)<<5 | uint32(d)
}

func unpackDate(v uint32) (y, m, d int) {
	return int(v >> 10), int(v >> 5 & 31), int(v & 31)
}

func pinNumber(s string) (uint64, bool) {
	if len(s) != 12 {
		return 0, false
	}
	var n uint64
	for i := 0; i < 12; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

func pinText(n uint64) string {
	var b [12]byte
	for i := 11; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[:])
}

// radixSortHigh sorts xs by their upper 32 bits, stably, so entries appended
// in position order stay in it: two passes of 16 bits.
func radixSortHigh(xs []uint64) {
	tmp := make([]uint64, len(xs))
	src, dst := xs, tmp
	for shift := 32; shift < 64; shift += 16 {
		var count [1 << 16]int
		for _, x := range src {
			count[x>>shift&0xffff]++
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, x := range src {
			b := x >> shift & 0xffff
			dst[count[b]] = x
			count[b]++
		}
		src, dst = dst, src
	}
	// Two passes: the result is back in xs.
}

// Model is the model the index scores with, its u measured on this register.
func (ix *Index) Model() Model { return ix.model }
