package match

import (
	"sync"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/civildate"
)

// Person is the register's side of a comparison: the few fields a partner
// may hold. Callers fill it from registry.Person; the index keeps a compact
// form of it for every person.
type Person struct {
	PIN          string
	FullName     string
	BirthDate    civildate.Date
	Sex          string // "M" or "F"
	ProvinceCode string // permanent residence, units in force
	CommuneCode  string
	Dead         bool
}

// Difference kinds.
const (
	KindMissingDiacritics = "missing_diacritics" // the same letters without the diacritics
	KindMisspelt          = "misspelt"           // a typo, other diacritics, a dropped middle name, one PIN digit
	KindSwappedDayMonth   = "swapped_day_month"  // day and month exchanged
	KindDifferent         = "different"          // another value
	KindOutdatedUnit      = "outdated_unit"      // an address in the units before 1 July 2025
	KindMissing           = "missing"            // the partner has no value
	KindWordOrder         = "word_order"         // the name's words in another order ("An Nguyễn Văn")
)

// Fields named in a Difference.
const (
	FieldPIN        = "pin"
	FieldCardNumber = "card_number"
	FieldFullName   = "full_name"
	FieldBirthDate  = "birth_date"
	FieldSex        = "sex"
	FieldAddress    = "address"
)

// levels are the comparison outcomes of one record against one person, the
// input both of Compare's differences and of the score.
type levels struct {
	pin  pinLevel
	name nameLevel
	date dateLevel
	sex  sexLevel
	addr addrLevel
	card cardLevel
}

type sexLevel uint8

const (
	sexMissing sexLevel = iota
	sexSame
	sexDifferent
	sexLevels
)

type cardLevel uint8

const (
	cardMissing   cardLevel = iota // none, or an old 9-digit ID the register cannot check
	cardSame                       // the chip card number is the PIN
	cardDifferent                  // a 12-digit number that is not the PIN
)

// prepared is a record parsed once, compared against many persons.
type prepared struct {
	pin     string
	card    string
	name    Name
	date    RawDate
	dateOK  bool
	sex     string
	words   string // addressWords of the address
	commune string
}

func prepare(r Record) prepared {
	p := prepared{pin: digits(r.PIN), card: digits(r.CardNumber), name: ParseName(r.FullName), sex: ParseSex(r.Sex), commune: r.Commune}
	p.date, p.dateOK = ParseDate(r.BirthDate)
	if r.Address != "" {
		p.words = addressWords(r.Address)
	}
	if p.pin == "" && len(p.card) == 12 {
		p.pin = p.card // the chip card number is the PIN
	}
	return p
}

// compareTo computes the levels of q against a person whose name is parsed
// in name and whose place is pl (nil when unknown).
func (q *prepared) compareTo(pin string, name Name, birth civildate.Date, sex string, pl *place) levels {
	var l levels
	l.pin = comparePINs(q.pin, pin)
	l.name = compareNames(q.name, name)
	l.date = compareDates(q.date, q.dateOK, birth)
	switch {
	case q.sex == "":
		l.sex = sexMissing
	case q.sex == sex:
		l.sex = sexSame
	default:
		l.sex = sexDifferent
	}
	if pl != nil {
		l.addr = compareAddress(q.words, q.commune, pl)
	}
	switch {
	case len(q.card) != 12:
		l.card = cardMissing
	case q.card == pin:
		l.card = cardSame
	default:
		l.card = cardDifferent
	}
	return l
}

// differences lists the fields of l that disagree, in a fixed order.
func (l levels) differences(q *prepared) []Difference {
	var out []Difference
	add := func(field, kind string) { out = append(out, Difference{Field: field, Kind: kind}) }
	switch l.pin {
	case pinTypo:
		add(FieldPIN, KindMisspelt)
	case pinDifferent:
		add(FieldPIN, KindDifferent)
	}
	if l.card == cardDifferent && q.card != q.pin {
		add(FieldCardNumber, KindDifferent)
	}
	switch l.name {
	case nameMissing:
		add(FieldFullName, KindMissing)
	case nameReordered:
		add(FieldFullName, KindWordOrder)
	case nameUnmarked:
		add(FieldFullName, KindMissingDiacritics)
	case nameRemarked, nameSimilar, nameSlip:
		add(FieldFullName, KindMisspelt)
	case nameDifferent:
		add(FieldFullName, KindDifferent)
	}
	switch l.date {
	case dateMissing:
		add(FieldBirthDate, KindMissing)
	case dateSwapped:
		add(FieldBirthDate, KindSwappedDayMonth)
	case dateNear, dateDifferent, dateYearOff:
		add(FieldBirthDate, KindDifferent)
	}
	if l.sex == sexDifferent {
		add(FieldSex, KindDifferent)
	}
	switch l.addr {
	case addrOutdated:
		add(FieldAddress, KindOutdatedUnit)
	case addrProvince, addrDifferent:
		add(FieldAddress, KindDifferent)
	}
	return out
}

// Compare lists the fields of the partner's record r that disagree with the
// register's person p, each with the kind of disagreement: a name without
// its diacritics or with a typo, a birth date with day and month swapped, an
// address in the units before the 2025 reform, and so on. Case, spacing,
// Unicode form and the placement of tone marks ("Hoà"/"Hòa") are not
// differences. A missing name or birth date is reported as missing; a
// missing PIN, card number, sex or address is not (partners often do not
// hold them). The register's values are never part of the result. now
// decides which administrative map a bare commune code is read on.
func Compare(r Record, p Person, units *adminunit.Catalog, now time.Time) []Difference {
	q := prepare(r)
	var pl *place
	var u adminunit.Unit
	if units != nil && (q.words != "" || q.commune != "") {
		if x, unit, ok := placeNew(units, p.CommuneCode, now); ok {
			pl, u = &x, unit
		}
	}
	l := q.compareTo(p.PIN, ParseName(p.FullName), p.BirthDate, p.Sex, pl)
	if l.addr == addrUnknown {
		pl.addPredecessors(units, u)
		l.addr = compareAddress(q.words, q.commune, pl)
	}
	return l.differences(&q)
}

// Comparer is Compare with the address knowledge of each commune kept after
// first use, for callers that compare many records (the verify API): a
// comparison then costs a few microseconds. Safe for concurrent use.
type Comparer struct {
	units  *adminunit.Catalog
	now    func() time.Time
	places sync.Map // commune code → *place (nil *place: unknown code)
}

// NewComparer returns a Comparer reading addresses with units on the day
// now returns.
func NewComparer(units *adminunit.Catalog, now func() time.Time) *Comparer {
	return &Comparer{units: units, now: now}
}

// Compare is [Compare] with cached address knowledge.
func (c *Comparer) Compare(r Record, p Person) []Difference {
	q := prepare(r)
	var pl *place
	if c.units != nil && (q.words != "" || q.commune != "") {
		if v, ok := c.places.Load(p.CommuneCode); ok {
			pl = v.(*place)
		} else {
			if x, ok := placeOf(c.units, p.CommuneCode, c.now()); ok {
				pl = &x
			}
			c.places.Store(p.CommuneCode, pl)
		}
	}
	l := q.compareTo(p.PIN, ParseName(p.FullName), p.BirthDate, p.Sex, pl)
	return l.differences(&q)
}
