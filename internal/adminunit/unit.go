package adminunit

import (
	"errors"
	"time"
)

// Reform is the day the two-level map took effect (Resolution 202/2025/QH15):
// 1 July 2025. Units of the old map are valid before it, units of the new map
// on and after it.
func Reform() time.Time { return time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC) }

// Level is the tier of a unit in the administrative hierarchy.
type Level string

// Levels. Districts exist only on the map before [Reform].
const (
	LevelProvince Level = "province"
	LevelDistrict Level = "district"
	LevelCommune  Level = "commune"
)

// Type words, as they begin official names. "Thành phố" is a province
// (Thành phố Hà Nội) or, before the reform, a district (Thành phố Thủ Đức).
const (
	KindProvince      = "Tỉnh"
	KindCity          = "Thành phố"
	KindUrbanDistrict = "Quận"
	KindRuralDistrict = "Huyện"
	KindTown          = "Thị xã"
	KindWard          = "Phường"
	KindCommune       = "Xã"
	KindTownship      = "Thị trấn"
	KindSpecialZone   = "Đặc khu"
)

// ErrUnknownUnit is returned, wrapped, when a code is malformed or names no
// unit of the requested level on the requested day. Test with errors.Is.
var ErrUnknownUnit = errors.New("adminunit: unknown administrative unit")

// ErrNoSuccessor is returned, wrapped, by [Catalog.Current] for an old commune
// whose successor is not known: six communes merged into a neighbour before
// the reform, which the catalogue still lists but the conversion table names
// only in merged form, and for which no source says which unit took them
// (data/successors-missing-2025.csv; the error gives the reason). The
// address needs a person's decision; [Catalog.SuccessorProvince] still
// gives its province.
var ErrNoSuccessor = errors.New("adminunit: no successor in the conversion table")

// Unit is one administrative unit in one era. Units are values; the catalogue
// hands out copies.
type Unit struct {
	Code         string    // official code: "01", "001", "00004"
	Name         string    // full official name with its type word, NFC: "Phường Ba Đình", "Thành phố Hà Nội"
	Kind         string    // the type word(s): "Phường", "Xã", "Đặc khu", "Thị trấn", "Thành phố", "Tỉnh", "Quận", "Huyện", "Thị xã"
	Level        Level     // province, district or commune
	ProvinceCode string    // for districts and communes; own code for provinces
	DistrictCode string    // legacy communes only (and own code for districts)
	ValidFrom    time.Time // zero = since ever (legacy units); Reform for the new map
	ValidTo      time.Time // zero = still valid; legacy units end at Reform (exclusive)
}

// ValidOn reports whether the unit was in force on the calendar day of t.
func (u Unit) ValidOn(t time.Time) bool {
	d := dayOf(t)
	if !u.ValidFrom.IsZero() && d < dayOf(u.ValidFrom) {
		return false
	}
	if !u.ValidTo.IsZero() && d >= dayOf(u.ValidTo) {
		return false
	}
	return true
}

// Legacy reports whether the unit belongs to the map before [Reform].
func (u Unit) Legacy() bool { return !u.ValidTo.IsZero() }

// String returns the name, for logs and templates.
func (u Unit) String() string { return u.Name }

// dayOf is the calendar day of t in t's own location, as yyyymmdd.
func dayOf(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// era is one of the two maps.
type era int

const (
	legacy  era = iota // before Reform: province, district, commune
	current            // from Reform: province, commune
)

var reformDay = dayOf(Reform())

func eraOf(t time.Time) era {
	if dayOf(t) < reformDay {
		return legacy
	}
	return current
}

func eraOfUnit(u Unit) era {
	if u.Legacy() {
		return legacy
	}
	return current
}
