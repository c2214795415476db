package adminunit

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

//go:embed data/communes-before-2025-07-01.csv
var legacyCSV []byte

//go:embed data/conversion-2025-07-01.csv
var conversionCSV []byte

//go:embed data/successors-missing-2025.csv
var missingCSV []byte

var legacyHeader = []string{"Tỉnh Thành Phố", "Mã TP", "Quận Huyện", "Mã QH", "Phường Xã", "Mã PX", "Cấp", "Tên Tiếng Anh"}

// Load parses the embedded data into a catalogue. It takes a few tens of
// milliseconds; call it once at start and share the result, which is
// immutable and safe for concurrent use.
//
// The conversion table is joined to the old catalogue by old commune code,
// with these repairs, all driven by the data itself:
//
//   - Names are made NFC, spaces collapsed, type words spelt canonically.
//   - An old commune's province is taken from the old catalogue, not from the
//     table's last column, which is wrong in a few rows (Tân An's Phường 4 is
//     labelled Tiền Giang, Hà Tiên's Tiên Hải labelled An Giang (89)).
//   - Where a row's old code names a different commune than the row says
//     (for example Đặng Xá typed with Cổ Bi's code 00553) and exactly one
//     commune of that name exists in the row's old district, the row is
//     about that commune. Wards of Bình Thạnh, Phú Nhuận, District 6 and 11
//     whose codes the table gives differently are matched the same way.
//   - An old commune that no row mentions inherits the rows that name it
//     (same district, same name), or, failing that, the rows that were moved
//     away from its code by the previous rule (Viêng Lán, 04075).
//   - Old codes found only in the table (three wards of the town of Mộc Châu,
//     formed in 2025 after the catalogue's snapshot) become old communes too.
//   - The five island districts that had no communes (Bạch Long Vĩ, Cồn Cỏ,
//     Hoàng Sa, Lý Sơn, Côn Đảo) are linked, as districts, to the special
//     zones that replaced them.
//
// Seventeen old communes remain that no row mentions in any form: merged
// into a neighbour before the reform (most in the 2019–2021 and 2023–2025
// rounds) while the catalogue still lists them, so the table names only the
// merged unit. data/successors-missing-2025.csv gives each its successor
// with the evidence, or the reason none can be given; for those six
// [Catalog.Current] reports [ErrNoSuccessor] with that reason.
func Load() (*Catalog, error) {
	c := newCatalog()
	if err := c.loadLegacy(bytes.NewReader(legacyCSV)); err != nil {
		return nil, fmt.Errorf("adminunit: %s: %w", "communes-before-2025-07-01.csv", err)
	}
	if err := c.loadConversion(bytes.NewReader(conversionCSV)); err != nil {
		return nil, fmt.Errorf("adminunit: %s: %w", "conversion-2025-07-01.csv", err)
	}
	if err := c.loadMissing(bytes.NewReader(missingCSV)); err != nil {
		return nil, fmt.Errorf("adminunit: %s: %w", "successors-missing-2025.csv", err)
	}
	c.finish()
	return c, nil
}

func newCatalog() *Catalog {
	c := &Catalog{
		fold:          newFolder(),
		units:         make([]Unit, 0, 14200),
		districts:     make(map[string]id, 700),
		districtsOf:   make(map[string][]id, 64),
		communeless:   make(map[string]bool),
		successors:    make(map[string][]id, 10100),
		districtSucc:  make(map[string][]id),
		predecessors:  make(map[string][]id, 3400),
		successorProv: make(map[string]id, 64),
		legacyProvsOf: make(map[string][]id, 34),
		noSuccessor:   make(map[string]string),
	}
	c.eras[legacy] = eraData{
		provinces:  make(map[string]id, 64),
		communes:   make(map[string]id, 10100),
		communesOf: make(map[string][]id, 64),
	}
	c.eras[current] = eraData{
		provinces:  make(map[string]id, 34),
		communes:   make(map[string]id, 3400),
		communesOf: make(map[string][]id, 34),
	}
	return c
}

func (c *Catalog) add(u Unit) id {
	c.units = append(c.units, u)
	return id(len(c.units) - 1)
}

func newReader(r io.Reader) *csv.Reader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return cr
}

// loadLegacy reads the three-level catalogue valid until 30 June 2025.
func (c *Catalog) loadLegacy(r io.Reader) error {
	cr := newReader(r)
	head, err := cr.Read()
	if err != nil {
		return err
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	if !slices.Equal(head, legacyHeader) {
		return fmt.Errorf("unexpected header %q", head)
	}
	ld := &c.eras[legacy]
	to := Reform()
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		line, _ := cr.FieldPos(0)
		if len(rec) < 7 {
			return fmt.Errorf("line %d: %d fields, want 8", line, len(rec))
		}
		pName, pCode := rec[0], strings.TrimSpace(rec[1])
		dName, dCode := rec[2], strings.TrimSpace(rec[3])
		cName, cCode := rec[4], strings.TrimSpace(rec[5])
		if !isCode(pCode, 2) || !isCode(dCode, 3) || (cCode != "" && !isCode(cCode, 5)) {
			return fmt.Errorf("line %d: malformed codes %q %q %q", line, pCode, dCode, cCode)
		}
		if _, ok := ld.provinces[pCode]; !ok {
			name, kind := normalizeName(pName, provinceKinds)
			ld.provinces[pCode] = c.add(Unit{Code: pCode, Name: name, Kind: kind, Level: LevelProvince,
				ProvinceCode: pCode, ValidTo: to})
		}
		if d, ok := c.districts[dCode]; !ok {
			name, kind := normalizeName(dName, districtKinds)
			c.districts[dCode] = c.add(Unit{Code: dCode, Name: name, Kind: kind, Level: LevelDistrict,
				ProvinceCode: pCode, DistrictCode: dCode, ValidTo: to})
		} else if p := c.units[d].ProvinceCode; p != pCode {
			return fmt.Errorf("line %d: district %s in provinces %s and %s", line, dCode, p, pCode)
		}
		if cCode == "" {
			// An island district without communes (Côn Đảo, Lý Sơn, ...).
			c.communeless[dCode] = true
			continue
		}
		if _, dup := ld.communes[cCode]; dup {
			return fmt.Errorf("line %d: commune %s listed twice", line, cCode)
		}
		name, kind := normalizeName(cName, legacyCommuneKinds)
		ld.communes[cCode] = c.add(Unit{Code: cCode, Name: name, Kind: kind, Level: LevelCommune,
			ProvinceCode: pCode, DistrictCode: dCode, ValidTo: to})
		c.snapshotCommunes++
	}
	return nil
}

// row is one (new commune, old commune) pair of the conversion table.
type row struct {
	newCommune id
	oldCode    string // "" for the island districts and one stretch of mudflat
	oldRaw     string // the old commune's name as published
	oldName    string // cleaned, once needed
	oldDist    string
	rank       int
}

func (r *row) name() string {
	if r.oldName == "" {
		r.oldName = clean(r.oldRaw)
	}
	return r.oldName
}

// spelling is one way the table spells a new commune's name.
type spelling struct {
	raw string
	n   int
}

type nameCode struct {
	name, code string
	ok         bool
}

// loadConversion reads the two-level map and links it to the old one.
func (c *Catalog) loadConversion(r io.Reader) error {
	cr := newReader(r)
	for range 2 { // two header rows
		if _, err := cr.Read(); err != nil {
			return err
		}
	}
	cd := &c.eras[current]
	from := Reform()
	spellings := make(map[id][]spelling, 3400)
	ranks := make(map[string]int, 32)       // note → rank
	split := make(map[string]nameCode, 800) // "Name (code)" → parts
	splitNC := func(s string) (string, string, bool) {
		nc, ok := split[s]
		if !ok {
			nc.name, nc.code, nc.ok = splitNameCode(s)
			split[s] = nc
		}
		return nc.name, nc.code, nc.ok
	}
	rows := make([]row, 0, 10600)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		line, _ := cr.FieldPos(0)
		if len(rec) < 8 {
			return fmt.Errorf("line %d: %d fields, want 8", line, len(rec))
		}
		newCode := strings.TrimSpace(rec[2])
		if !isDigits(newCode) {
			continue // a section title such as "THÀNH PHỐ HÀ NỘI"
		}
		pName, pCode, ok := splitNC(rec[0])
		if !ok || !isCode(pCode, 2) || !isCode(newCode, 5) {
			return fmt.Errorf("line %d: malformed province %q or commune code %q", line, rec[0], newCode)
		}
		if _, ok := cd.provinces[pCode]; !ok {
			name, kind := normalizeName(pName, provinceKinds)
			cd.provinces[pCode] = c.add(Unit{Code: pCode, Name: name, Kind: kind, Level: LevelProvince,
				ProvinceCode: pCode, ValidFrom: from})
		}
		n, ok := cd.communes[newCode]
		if !ok {
			n = c.add(Unit{Code: newCode, Level: LevelCommune, ProvinceCode: pCode, ValidFrom: from})
			cd.communes[newCode] = n
		} else if p := c.units[n].ProvinceCode; p != pCode {
			return fmt.Errorf("line %d: commune %s in provinces %s and %s", line, newCode, p, pCode)
		}
		sp := spellings[n]
		if i := slices.IndexFunc(sp, func(s spelling) bool { return s.raw == rec[1] }); i >= 0 {
			sp[i].n++
		} else {
			spellings[n] = append(sp, spelling{rec[1], 1})
		}

		oldCode := strings.TrimSpace(rec[4])
		_, oldDist, ok := splitNC(rec[6])
		if (oldCode != "" && !isCode(oldCode, 5)) || !ok || !isCode(oldDist, 3) {
			return fmt.Errorf("line %d: malformed old commune %q or district %q", line, oldCode, rec[6])
		}
		rank, ok := ranks[rec[5]]
		if !ok {
			rank = rankNote(c.fold.key(rec[5]))
			ranks[rec[5]] = rank
		}
		rows = append(rows, row{
			newCommune: n,
			oldCode:    oldCode,
			oldRaw:     rec[3],
			oldDist:    oldDist,
			rank:       rank,
		})
	}

	// Names of new communes: the most frequent spelling once normalised, the
	// first in the table on a tie.
	for n, sp := range spellings {
		var names []string
		var counts []int
		for _, s := range sp {
			name, _ := normalizeName(s.raw, currentCommuneKinds)
			if i := slices.Index(names, name); i >= 0 {
				counts[i] += s.n
			} else {
				names, counts = append(names, name), append(counts, s.n)
			}
		}
		best := 0
		for i := range names {
			if counts[i] > counts[best] {
				best = i
			}
		}
		c.units[n].Name, c.units[n].Kind = names[best], kindOf(names[best], currentCommuneKinds)
	}
	return c.link(rows)
}

// rankNote orders the successors of a split commune by the table's note
// (given as a key): whole (merged whole, kept, renamed) first, then the part
// that took the whole population, then "the rest after a part was split
// off", then plain parts and parts of population, and last parts of area
// only.
func rankNote(note string) int {
	switch {
	case strings.Contains(note, "toan bo dan so"):
		return 1
	case strings.Contains(note, "phan con lai"):
		return 2
	case strings.Contains(note, "mot phan") && strings.Contains(note, "dien tich") && !strings.Contains(note, "dan so"):
		return 4
	case strings.Contains(note, "mot phan"):
		return 3
	default: // Nhập toàn bộ, Giữ nguyên, Đổi tên, Đổi loại hình, Sắp xếp toàn bộ ...
		return 0
	}
}

// link resolves each row's old side to a unit of the old map and builds the
// succession maps. See Load for the rules.
func (c *Catalog) link(rows []row) error {
	ld := &c.eras[legacy]
	to := Reform()

	// Old communes by district, with their name keys computed for the few
	// districts where a row's name and code disagree.
	byDistrict := c.unitsOf(LevelCommune, legacy)
	slices.SortStableFunc(byDistrict, func(a, b id) int {
		return cmp.Or(strings.Compare(c.units[a].DistrictCode, c.units[b].DistrictCode), cmp.Compare(a, b))
	})
	keys := make(map[id]string) // old commune → key of its name
	keyOf := func(x id) string {
		k, ok := keys[x]
		if !ok {
			k = c.fold.key(c.units[x].Name)
			keys[x] = k
		}
		return k
	}
	named := func(dist, k string) (xs []id) {
		i, _ := slices.BinarySearchFunc(byDistrict, dist, func(x id, d string) int {
			return strings.Compare(c.units[x].DistrictCode, d)
		})
		for _, x := range byDistrict[i:] {
			if c.units[x].DistrictCode != dist {
				break
			}
			if keyOf(x) == k {
				xs = append(xs, x)
			}
		}
		return xs
	}

	type pair struct {
		old id  // old commune
		row int // row of the table, giving the new commune
	}
	pairs := make([]pair, 0, len(rows)+64)
	displaced := make(map[id][]int) // old commune → rows moved away from it
	for i := range rows {
		r := &rows[i]
		if r.oldCode == "" {
			if d := c.districts[r.oldDist]; c.communeless[r.oldDist] {
				c.districtSucc[r.oldDist] = append(c.districtSucc[r.oldDist], r.newCommune)
				code := c.units[r.newCommune].Code
				c.predecessors[code] = append(c.predecessors[code], d)
			}
			// Otherwise the coastal mudflat of Kim Sơn, which had no code:
			// nothing to link.
			continue
		}
		x, known := ld.communes[r.oldCode]
		target := x
		if !known || (c.units[x].Name != r.oldRaw && c.units[x].Name != r.name() && keyOf(x) != c.fold.key(r.name())) {
			if m := named(r.oldDist, c.fold.key(r.name())); len(m) == 1 {
				target = m[0]
				if known {
					displaced[x] = append(displaced[x], i)
				}
			} else if !known {
				// A commune formed after the snapshot: known only from here.
				d, ok := c.districts[r.oldDist]
				if !ok {
					return fmt.Errorf("old commune %s in unknown district %s", r.oldCode, r.oldDist)
				}
				name, kind := normalizeName(r.name(), legacyCommuneKinds)
				target = c.add(Unit{Code: r.oldCode, Name: name, Kind: kind, Level: LevelCommune,
					ProvinceCode: c.units[d].ProvinceCode, DistrictCode: r.oldDist, ValidTo: to})
				ld.communes[r.oldCode] = target
				c.interimCommunes++
			}
		}
		pairs = append(pairs, pair{target, i})
	}
	linked := make([]bool, len(c.units))
	for _, p := range pairs {
		linked[p.old] = true
	}
	for code, x := range ld.communes {
		if linked[x] {
			continue
		}
		// Rows naming this commune in its district, whatever their code;
		// failing that, rows moved away from its code.
		n := len(pairs)
		u := &c.units[x]
		for i := range rows {
			if r := &rows[i]; r.oldDist == u.DistrictCode && r.oldCode != "" && c.fold.key(r.name()) == keyOf(x) {
				pairs = append(pairs, pair{x, i})
			}
		}
		if len(pairs) == n {
			for _, i := range displaced[x] {
				pairs = append(pairs, pair{x, i})
			}
		}
		if len(pairs) == n {
			c.orphans = append(c.orphans, code)
		}
	}
	slices.Sort(c.orphans)

	// Successors, best first, sharing one array.
	pairs = groupBy(pairs, len(c.units), func(p pair) id { return p.old })
	flat := make([]id, 0, len(pairs))
	kept := make([]pair, 0, len(pairs))
	for i := 0; i < len(pairs); {
		j := i + 1
		for j < len(pairs) && pairs[j].old == pairs[i].old {
			j++
		}
		group := pairs[i:j]
		slices.SortFunc(group, func(a, b pair) int {
			return cmp.Or(cmp.Compare(rows[a.row].rank, rows[b.row].rank), cmp.Compare(a.row, b.row))
		})
		start := len(flat)
		for _, p := range group {
			if n := rows[p.row].newCommune; !slices.Contains(flat[start:], n) {
				flat = append(flat, n)
				kept = append(kept, p)
			}
		}
		c.successors[c.units[group[0].old].Code] = flat[start:len(flat):len(flat)]
		i = j
	}

	// Predecessors in table order, sharing another.
	kept = groupBy(kept, len(c.units), func(p pair) id { return rows[p.row].newCommune })
	flat = make([]id, 0, len(kept))
	for i := 0; i < len(kept); {
		n := rows[kept[i].row].newCommune
		j := i + 1
		for j < len(kept) && rows[kept[j].row].newCommune == n {
			j++
		}
		group := kept[i:j]
		slices.SortFunc(group, func(a, b pair) int { return cmp.Or(cmp.Compare(a.row, b.row), cmp.Compare(a.old, b.old)) })
		start := len(flat)
		for _, p := range group {
			flat = append(flat, p.old)
		}
		code := c.units[n].Code
		c.predecessors[code] = append(c.predecessors[code], flat[start:len(flat):len(flat)]...)
		i = j
	}

	// Provinces: each old province went whole into one new province.
	var errs []error
	addProv := func(oldProv, newProv string) {
		if prev, ok := c.successorProv[oldProv]; ok {
			if p := c.units[prev].Code; p != newProv {
				errs = append(errs, fmt.Errorf("old province %s went into both %s and %s", oldProv, p, newProv))
			}
			return
		}
		c.successorProv[oldProv] = c.eras[current].provinces[newProv]
		c.legacyProvsOf[newProv] = append(c.legacyProvsOf[newProv], ld.provinces[oldProv])
	}
	for _, p := range kept {
		addProv(c.units[p.old].ProvinceCode, c.units[rows[p.row].newCommune].ProvinceCode)
	}
	for d, succ := range c.districtSucc {
		for _, s := range succ {
			addProv(c.units[c.districts[d]].ProvinceCode, c.units[s].ProvinceCode)
		}
	}
	return errors.Join(errs...)
}

var missingHeader = []string{"old_code", "old_name", "successor_code", "successor_name", "evidence"}

// loadMissing links the old communes the conversion table does not mention
// to the successors data/successors-missing-2025.csv gives, and keeps the
// reason for those it cannot. Every row must name one of those communes by
// code and name, and a successor must be a new commune of the province its
// old province went into, so a change of either data file shows here.
func (c *Catalog) loadMissing(r io.Reader) error {
	cr := newReader(r)
	head, err := cr.Read()
	if err != nil {
		return err
	}
	if !slices.Equal(head, missingHeader) {
		return fmt.Errorf("unexpected header %q", head)
	}
	ld, cd := &c.eras[legacy], &c.eras[current]
	seen := make(map[string]bool, len(c.orphans))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(missingHeader) {
			return fmt.Errorf("line %d: %d fields, want %d", line, len(rec), len(missingHeader))
		}
		code, name, succ, succName, why := rec[0], rec[1], rec[2], rec[3], rec[4]
		x, ok := ld.communes[code]
		if !ok || !slices.Contains(c.orphans, code) || seen[code] {
			return fmt.Errorf("line %d: %s is not an old commune without successor (or listed twice)", line, code)
		}
		seen[code] = true
		if c.units[x].Name != name {
			return fmt.Errorf("line %d: %s is %q, not %q", line, code, c.units[x].Name, name)
		}
		if why == "" {
			return fmt.Errorf("line %d: no evidence or reason for %s", line, code)
		}
		if succ == "" {
			c.noSuccessor[code] = why
			continue
		}
		n, ok := cd.communes[succ]
		if !ok || c.units[n].Name != succName {
			return fmt.Errorf("line %d: successor %s %q is not a commune of the new map", line, succ, succName)
		}
		if p := c.successorProv[c.units[x].ProvinceCode]; c.units[p].Code != c.units[n].ProvinceCode {
			return fmt.Errorf("line %d: %s of old province %s cannot have gone into %s of province %s",
				line, code, c.units[x].ProvinceCode, succ, c.units[n].ProvinceCode)
		}
		c.successors[code] = []id{n}
		c.predecessors[succ] = append(c.predecessors[succ], x)
	}
	if len(seen) != len(c.orphans) {
		return fmt.Errorf("%d of the %d old communes without successor listed", len(seen), len(c.orphans))
	}
	return nil
}

// finish builds the sorted lists and the search index.
func (c *Catalog) finish() {
	x := &indexer{c: c, cache: make(map[string]string, 1024)}
	for e := range c.eras {
		ed := &c.eras[e]
		ed.provinceList = c.unitsOf(LevelProvince, era(e))
		c.sortByCode(ed.provinceList)
		ed.communeList = c.unitsOf(LevelCommune, era(e))
		c.sortByCode(ed.communeList)
		ed.index = make([]entry, len(ed.communeList))
		for i, n := range ed.communeList {
			p := c.units[n].ProvinceCode
			ed.communesOf[p] = append(ed.communesOf[p], n)
			ed.index[i] = x.entryOf(c.units[n])
		}
	}
	for _, d := range c.unitsOf(LevelDistrict, legacy) {
		p := c.units[d].ProvinceCode
		c.districtsOf[p] = append(c.districtsOf[p], d)
	}
	for _, ds := range c.districtsOf {
		c.sortByCode(ds)
	}
	for _, ps := range c.legacyProvsOf {
		c.sortByCode(ps)
	}
}

func (c *Catalog) sortByCode(xs []id) {
	slices.SortFunc(xs, func(a, b id) int { return strings.Compare(c.units[a].Code, c.units[b].Code) })
}

// unitsOf lists the units of one level and era in the order they were
// read, which is nearly by code, so that sorting them is quick.
func (c *Catalog) unitsOf(l Level, e era) []id {
	var xs []id
	for x := range c.units {
		if u := &c.units[x]; u.Level == l && eraOfUnit(*u) == e {
			xs = append(xs, id(x))
		}
	}
	return xs
}

// groupBy orders items by the key of each, a unit's index below n, keeping
// their order within a key: a counting sort, linear where a comparison sort
// of ten thousand items costs milliseconds.
func groupBy[T any](items []T, n int, key func(T) id) []T {
	start := make([]int, n+1)
	for _, it := range items {
		start[key(it)+1]++
	}
	for i := 1; i <= n; i++ {
		start[i] += start[i-1]
	}
	out := make([]T, len(items))
	for _, it := range items {
		k := key(it)
		out[start[k]] = it
		start[k]++
	}
	return out
}
