package adminunit

import (
	"fmt"
	"slices"
	"time"
)

// Catalog holds both maps and the links between them. It is immutable after
// [Load] and safe for concurrent use; every method returns copies.
type Catalog struct {
	fold  *folder
	units []Unit     // every unit of both maps; the maps below hold indexes
	eras  [2]eraData // indexed by era

	districts   map[string]id   // old districts by code
	districtsOf map[string][]id // old province code → districts, by code
	communeless map[string]bool // old districts that had no communes

	successors    map[string][]id // old commune code → new communes, best first
	districtSucc  map[string][]id // communeless old district → new communes
	predecessors  map[string][]id // new commune code → old units, table order
	successorProv map[string]id   // old province code → new province
	legacyProvsOf map[string][]id // new province code → old provinces, by code

	snapshotCommunes int               // communes read from the old catalogue
	interimCommunes  int               // old communes known only from the conversion table
	orphans          []string          // old communes the conversion table does not mention, by code
	noSuccessor      map[string]string // those of them without a known successor → why
}

// id is the index of a unit in Catalog.units.
type id = int32

type eraData struct {
	provinces    map[string]id
	provinceList []id // by code
	communes     map[string]id
	communeList  []id            // by code
	communesOf   map[string][]id // province code → communes, by code
	index        []entry         // search keys, parallel to communeList
}

// list copies the units xs refer to.
func (c *Catalog) list(xs []id) []Unit {
	if len(xs) == 0 {
		return nil
	}
	out := make([]Unit, len(xs))
	for i, x := range xs {
		out[i] = c.units[x]
	}
	return out
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

// Provinces lists the provinces in force on the day of on, by code: 63 before
// [Reform], 34 from it.
func (c *Catalog) Provinces(on time.Time) []Unit {
	return c.list(c.eras[eraOf(on)].provinceList)
}

// Province returns the province with the 2-digit code in force on the day of
// on. Codes of provinces that were merged into another are unknown after the
// reform; see [Catalog.SuccessorProvince].
func (c *Catalog) Province(code string, on time.Time) (Unit, error) {
	if isCode(code, 2) {
		if x, ok := c.eras[eraOf(on)].provinces[code]; ok {
			return c.units[x], nil
		}
	}
	return Unit{}, fmt.Errorf("province %q on %s: %w", code, day(on), ErrUnknownUnit)
}

// Commune returns the commune with the 5-digit code in force on the day of on.
func (c *Catalog) Commune(code string, on time.Time) (Unit, error) {
	if isCode(code, 5) {
		if x, ok := c.eras[eraOf(on)].communes[code]; ok {
			return c.units[x], nil
		}
	}
	return Unit{}, fmt.Errorf("commune %q on %s: %w", code, day(on), ErrUnknownUnit)
}

// Communes lists the communes of a province in force on the day of on, by
// code; nil for an unknown province. Before the reform they span all the
// province's districts.
func (c *Catalog) Communes(provinceCode string, on time.Time) []Unit {
	return c.list(c.eras[eraOf(on)].communesOf[provinceCode])
}

// AllCommunes lists every commune in force on the day of on, by code.
func (c *Catalog) AllCommunes(on time.Time) []Unit {
	return c.list(c.eras[eraOf(on)].communeList)
}

// Districts lists the districts of a province of the old map (valid until
// 30 June 2025), by code; nil for an unknown province.
func (c *Catalog) Districts(provinceCode string) []Unit {
	return c.list(c.districtsOf[provinceCode])
}

// District returns the district of the old map with the 3-digit code.
func (c *Catalog) District(code string) (Unit, error) {
	if isCode(code, 3) {
		if x, ok := c.districts[code]; ok {
			return c.units[x], nil
		}
	}
	return Unit{}, fmt.Errorf("district %q: %w", code, ErrUnknownUnit)
}

// Current resolves a commune code recorded on the day recorded to the units
// in force now. For a code recorded before [Reform] it is an old commune,
// and the result is the new commune(s) it went into: several when it was
// split, first the one that took it whole or the largest part (by the
// conversion table's note; the table gives no figures). For a code recorded
// on or after the reform the result is the unit itself.
//
// Unknown and malformed codes give [ErrUnknownUnit]; an old commune the
// conversion table does not mention gives [ErrNoSuccessor].
func (c *Catalog) Current(communeCode string, recorded time.Time) ([]Unit, error) {
	u, err := c.Commune(communeCode, recorded)
	if err != nil {
		return nil, err
	}
	if !u.Legacy() {
		return []Unit{u}, nil
	}
	succ := c.successors[communeCode]
	if len(succ) == 0 {
		return nil, fmt.Errorf("commune %q (%s) on %s: %s: %w", communeCode, u.Name, day(recorded), c.noSuccessor[communeCode], ErrNoSuccessor)
	}
	return c.list(succ), nil
}

// DistrictSuccessors gives the new communes that took the territory of an
// old district: for the island districts that had no communes (Côn Đảo, Lý
// Sơn, Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa) the special zone that replaced them,
// otherwise every successor of its communes, by code. Use it for addresses
// recorded with a district but no commune.
func (c *Catalog) DistrictSuccessors(districtCode string) ([]Unit, error) {
	d, err := c.District(districtCode)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(c.districtSucc[d.Code])
	for _, x := range c.eras[legacy].communesOf[d.ProvinceCode] {
		if u := &c.units[x]; u.DistrictCode == d.Code {
			for _, s := range c.successors[u.Code] {
				if !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		}
	}
	c.sortByCode(out)
	return c.list(out), nil
}

// SuccessorProvince gives the province of the new map that an old province
// (2-digit code of the 63-province list, as in personal identification
// numbers) went into: "74" Bình Dương → "79" Thành phố Hồ Chí Minh.
func (c *Catalog) SuccessorProvince(legacyCode string) (Unit, error) {
	if x, ok := c.successorProv[legacyCode]; ok && isCode(legacyCode, 2) {
		return c.units[x], nil
	}
	return Unit{}, fmt.Errorf("old province %q: %w", legacyCode, ErrUnknownUnit)
}

// Predecessors gives the old units a new commune was formed from, in the
// conversion table's order; nil for an unknown code. They are communes,
// except for the five special zones made from whole island districts,
// whose predecessor is that district.
func (c *Catalog) Predecessors(newCommuneCode string) []Unit {
	return c.list(c.predecessors[newCommuneCode])
}

// LegacyProvincesOf lists the old provinces a province of the new map was
// formed from, by code; nil for an unknown code.
func (c *Catalog) LegacyProvincesOf(newProvinceCode string) []Unit {
	return c.list(c.legacyProvsOf[newProvinceCode])
}

// Path returns the full name of a commune for display, smallest unit first:
// "Phường Ba Đình, Thành phố Hà Nội" on the new map, "Phường Trúc Bạch,
// Quận Ba Đình, Thành phố Hà Nội" on the old one. It is "" for an unknown
// code.
func (c *Catalog) Path(communeCode string, on time.Time) string {
	u, err := c.Commune(communeCode, on)
	if err != nil {
		return ""
	}
	return c.path(u)
}

func (c *Catalog) path(u Unit) string {
	s := u.Name
	if d, ok := c.districts[u.DistrictCode]; ok && u.Legacy() {
		s += ", " + c.units[d].Name
	}
	if p, ok := c.eras[eraOfUnit(u)].provinces[u.ProvinceCode]; ok {
		s += ", " + c.units[p].Name
	}
	return s
}

// CommuneProvince returns the province code of the commune in force on the
// day, the question a register asks of every address it records.
func (c *Catalog) CommuneProvince(code string, on time.Time) (string, error) {
	u, err := c.Commune(code, on)
	return u.ProvinceCode, err
}
