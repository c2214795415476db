package registry

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/fold"
	"github.com/dancu-project/dancu/internal/pin"
)

// BirthInput is a birth registration (đăng ký khai sinh).
type BirthInput struct {
	FullName          string `json:"full_name"`
	Sex               string `json:"sex"` // "M" or "F"
	BirthDate         string `json:"birth_date"`
	Ethnicity         string `json:"ethnicity"`
	Religion          string `json:"religion"`
	Nationality       string `json:"nationality"`
	BirthplaceCommune string `json:"birthplace_commune"`
	BirthplaceDetail  string `json:"birthplace_detail"`
	FatherPIN         string `json:"father_pin"`
	MotherPIN         string `json:"mother_pin"`
	// HouseholdID is the household the child joins; empty means the mother's,
	// or else the father's.
	HouseholdID string `json:"household_id"`
	Relation    string `json:"relation_to_head"`
	Reason      string `json:"reason"`
	// ConfirmTwin confirms a child born the same day (or the day before or
	// after) as a sibling already registered: twins, not the same birth
	// registered twice (checkSiblings).
	ConfirmTwin bool `json:"confirm_twin,omitempty"`
	// ConfirmImplausible confirms a birth the register finds implausible:
	// the mother under MinMotherAge or over MaxMotherAge, or a sibling born
	// less than BirthInterval months before or after.
	ConfirmImplausible bool `json:"confirm_implausible,omitempty"`
}

// Plausibility of a birth (checkSiblings): a birth outside these bounds is
// registered only when the registrar confirms it, and stays flagged on the
// child's record (Person.BirthFlags) for staff to see. The bounds are the
// register's, not the law's: a mother's age at birth outside 14–60 full
// years, or two births of one mother less than nine months apart (a
// pregnancy's length) without being twins, is far more often a typing
// error than a fact.
const (
	MinMotherAge  = 14
	MaxMotherAge  = 60
	BirthInterval = 9 // months
)

// Flags of a birth registered on confirmation (Person.BirthFlags).
const (
	FlagTwin          = "twin"           // confirmed twin of a sibling born within a day
	FlagMotherAge     = "mother_age"     // mother under MinMotherAge or over MaxMotherAge
	FlagBirthInterval = "birth_interval" // a sibling born less than BirthInterval months apart
)

// Faults of a birth's plausibility.
var (
	ErrBirthDuplicate = fault.New(fault.Conflict, "birth.duplicate", "Người mẹ đã có con được đăng ký khai sinh cùng ngày sinh (hoặc liền kề); nếu là sinh đôi, hãy xác nhận sinh đôi.", "The mother already has a child registered born the same day (or the day next to it); if these are twins, confirm twins.")
	ErrMotherAge      = fault.New(fault.Invalid, "birth.mother_age", "Tuổi của mẹ khi sinh dưới 14 hoặc trên 60: kiểm tra lại, nếu đúng hãy xác nhận.", "The mother's age at the birth is under 14 or over 60: check it, and confirm if it is right.")
	ErrBirthInterval  = fault.New(fault.Invalid, "birth.interval", "Người mẹ có con khác sinh cách nhau dưới 9 tháng: kiểm tra lại, nếu đúng hãy xác nhận.", "The mother has another child born less than nine months apart: check it, and confirm if it is right.")
)

// RegisterBirth registers a newborn: allocates a PIN, adds the child to the
// household, records permanent residence there and emits person.born — all in
// one transaction.
func (s *Service) RegisterBirth(ctx context.Context, a actor.Actor, in BirthInput) (Person, error) {
	if !a.CanRegister() {
		return Person{}, fault.ErrForbidden
	}
	var problems fault.List
	name, err := NormalizeName(in.FullName)
	if err != nil {
		problems.Add("full_name", fault.As(err))
	}
	sex := strings.ToUpper(strings.TrimSpace(in.Sex))
	if sex != "M" && sex != "F" {
		problems.Add("sex", ErrSexInvalid)
	}
	birth, err := civildate.Parse(in.BirthDate)
	switch {
	case err != nil:
		problems.Add("birth_date", fault.As(err))
	case birth.Partial():
		problems.Add("birth_date", ErrBirthDateFull)
	default:
		if err := birth.NotFuture(s.now()); err != nil {
			problems.Add("birth_date", fault.As(err))
		}
	}
	if in.FatherPIN == "" && in.MotherPIN == "" && in.HouseholdID == "" {
		problems.Add("mother_pin", ErrParentRequired)
	}
	for field, v := range map[string]string{"father_pin": in.FatherPIN, "mother_pin": in.MotherPIN} {
		if v != "" {
			if _, err := pin.Parse(v); err != nil {
				problems.Add(field, fault.As(err))
			}
		}
	}
	if in.BirthplaceCommune != "" {
		if _, err := s.places.CommuneProvince(in.BirthplaceCommune, s.now()); err != nil {
			problems.Add("birthplace_commune", ErrUnknownCommune)
		}
	}
	if strings.TrimSpace(in.Ethnicity) == "" {
		in.Ethnicity = "01"
	}
	if strings.TrimSpace(in.Nationality) == "" {
		in.Nationality = "VNM"
	}
	codes := checkCodes(Codes{Ethnicity: in.Ethnicity, Religion: in.Religion, Nationality: in.Nationality}, &problems)
	reason := checkReason(in.Reason, &problems)
	if err := problems.Err(); err != nil {
		return Person{}, err
	}

	var child Person
	err = s.write(ctx, func(tx *sql.Tx) error {
		var father, mother *Person
		var problems fault.List
		for _, pp := range []struct {
			field, pin, sex string
			dst             **Person
		}{{"father_pin", in.FatherPIN, "M", &father}, {"mother_pin", in.MotherPIN, "F", &mother}} {
			if pp.pin == "" {
				continue
			}
			// Parents may live outside the registrar's unit: read them
			// unscoped. Of a parent outside the unit (or a PIN of nobody) the
			// registrar learns only that the PIN does not fit, not which of
			// existence, sex or age failed: the form is no probe of people
			// elsewhere.
			par, err := s.lockPerson(ctx, tx, actor.Actor{}, pp.pin, pp.field)
			if err != nil {
				f := fault.As(err)
				switch {
				case f.Kind == fault.Internal:
					return err
				case f.Kind == fault.NotFound && a.Level() != actor.LevelNational:
					problems.Add(pp.field, ErrParentMismatch)
				default:
					problems = append(problems, f)
				}
				continue
			}
			sexOK, ageOK := par.Sex == pp.sex, birth.Year-par.BirthDate.Year >= 12
			switch {
			case sexOK && ageOK:
			case !covers(a, &par, today(s.now())):
				problems.Add(pp.field, ErrParentMismatch)
			default:
				if !sexOK {
					problems.Add(pp.field, ErrParentSex)
				}
				if !ageOK {
					problems.Add(pp.field, ErrParentAge)
				}
			}
			*pp.dst = &par
		}
		if err := problems.Err(); err != nil {
			return err
		}
		hhID := in.HouseholdID
		var parentInHH *Person
		for _, par := range []*Person{mother, father} {
			if par != nil && (hhID == "" || par.HouseholdID == hhID) && par.HouseholdID != "" {
				hhID, parentInHH = par.HouseholdID, par
				break
			}
		}
		h, err := lockHousehold(ctx, tx, s.db.ForUpdate(), hhID)
		if err != nil {
			return err
		}
		if !a.Covers(h.Address.ProvinceCode, h.Address.CommuneCode) {
			return fault.ErrOutOfScope
		}
		flags, err := s.checkSiblings(ctx, tx, a, mother, father, name, birth, in)
		if err != nil {
			return err
		}
		relation := strings.TrimSpace(in.Relation)
		if relation == "" {
			relation = RelGrand
			if parentInHH != nil && parentInHH.Relation == RelHead {
				relation = RelChild
			}
			if parentInHH != nil && parentInHH.PIN != h.HeadPIN && parentInHH.SpousePIN == h.HeadPIN {
				relation = RelChild
			}
		}
		id, err := allocatePIN(ctx, tx, "0"+h.Address.ProvinceCode, birth.Year, sex[0])
		if err != nil {
			return err
		}
		now := s.now().UTC()
		child = Person{
			PIN: string(id), FullName: name, BirthDate: birth, Sex: sex, Ethnicity: codes.Ethnicity,
			Religion: codes.Religion, Nationality: codes.Nationality,
			Birthplace:  Address{CommuneCode: in.BirthplaceCommune, Detail: strings.TrimSpace(in.BirthplaceDetail)},
			Permanent:   Address{ProvinceCode: h.Address.ProvinceCode, CommuneCode: h.Address.CommuneCode, Detail: h.Address.Detail},
			PermSince:   birth,
			HouseholdID: h.ID, Relation: relation, Status: Alive,
			Version: 1, UpdatedAt: now, UpdatedBy: a.ID, UpdateReason: reason, BirthFlags: flags,
		}
		if father != nil {
			child.FatherPIN = father.PIN
		}
		if mother != nil {
			child.MotherPIN = mother.PIN
		}
		if child.Birthplace.CommuneCode != "" {
			child.Birthplace.ProvinceCode, _ = s.places.CommuneProvince(child.Birthplace.CommuneCode, now)
		}
		if err := insertPerson(ctx, tx, &child); err != nil {
			return err
		}
		ev := LifeEvent{Kind: EventBirth, Effective: birth, Reason: reason}
		if err := s.recordEvent(ctx, tx, a, &ev, &child); err != nil {
			return err
		}
		return insertResidence(ctx, tx, child.PIN, Permanent, child.Permanent, birth, ev.ID)
	})
	if err != nil {
		return Person{}, fmt.Errorf("register birth: %w", err)
	}
	s.describe(&child)
	return child, nil
}

func lockHousehold(ctx context.Context, tx *sql.Tx, forUpdate, id string) (Household, error) {
	var h Household
	if id == "" {
		return h, ErrHouseholdNotFound.WithField("household_id")
	}
	err := tx.QueryRowContext(ctx, `SELECT id, head_pin, province, commune, detail FROM households WHERE id = $1`+forUpdate, id).
		Scan(&h.ID, &h.HeadPIN, &h.Address.ProvinceCode, &h.Address.CommuneCode, &h.Address.Detail)
	if err == sql.ErrNoRows {
		return h, ErrHouseholdNotFound.WithField("household_id")
	}
	if err != nil {
		return h, fmt.Errorf("load household: %w", err)
	}
	return h, nil
}

func insertResidence(ctx context.Context, tx *sql.Tx, pinText, kind string, addr Address, from civildate.Date, eventID string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO residences (pin, kind, province, commune, detail, from_date, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		pinText, kind, addr.ProvinceCode, addr.CommuneCode, addr.Detail, from.String(), eventID)
	if err != nil {
		return fmt.Errorf("insert residence: %w", err)
	}
	return nil
}

// checkSiblings compares the birth with the children registered to the
// same mother (the father's when no mother is named):
//
//   - a sibling born the same day or the day before or after is either a
//     second registration of the same birth or a twin: refused
//     (ErrBirthDuplicate, naming the sibling's PIN when the actor reaches
//     the sibling) unless in.ConfirmTwin;
//   - a sibling born less than BirthInterval months apart, or a mother
//     younger than MinMotherAge or older than MaxMotherAge at the birth,
//     needs in.ConfirmImplausible.
//
// It returns the flags the confirmed birth carries.
func (s *Service) checkSiblings(ctx context.Context, tx *sql.Tx, a actor.Actor, mother, father *Person, name string, birth civildate.Date, in BirthInput) ([]string, error) {
	var flags []string
	var problems fault.List
	if mother != nil {
		age := fullYears(mother.BirthDate, birth)
		if age < MinMotherAge || age > MaxMotherAge {
			if !in.ConfirmImplausible {
				problems.Add("confirm_implausible", ErrMotherAge)
			}
			flags = append(flags, FlagMotherAge)
		}
	}
	column, parent := "mother_pin", mother
	if mother == nil {
		column, parent = "father_pin", father
	}
	if parent == nil {
		return flags, problems.Err()
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+personColumns+` FROM persons WHERE `+column+` = $1`, parent.PIN)
	if err != nil {
		return nil, fmt.Errorf("siblings: %w", err)
	}
	var siblings []Person
	for rows.Next() {
		sib, err := scanPerson(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("siblings: %w", err)
		}
		siblings = append(siblings, sib)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("siblings: %w", err)
	}
	day := birth.Earliest()
	interval := false
	for _, sib := range siblings {
		if sib.BirthDate.Partial() {
			continue // a year or a month alone places no birth within days or months
		}
		other := sib.BirthDate.Earliest()
		gap := day.Sub(other)
		if gap < 0 {
			gap = -gap
		}
		switch {
		case gap <= 24*time.Hour:
			if in.ConfirmTwin {
				if !slices.Contains(flags, FlagTwin) {
					flags = append(flags, FlagTwin)
				}
				continue
			}
			f := ErrBirthDuplicate.WithField("confirm_twin")
			if covers(a, &sib, today(s.now())) {
				// The registrar reaches the sibling: say which record it is.
				f.Message += " Số định danh đã đăng ký: " + sib.PIN + " (" + sib.FullName + ")."
				f.English += " Registered identification number: " + sib.PIN + " (" + sib.FullName + ")."
				if fold.String(sib.FullName) == fold.String(name) {
					f.Message += " Trùng cả họ tên."
					f.English += " The name is the same too."
				}
			}
			return nil, f
		case day.Before(other.AddDate(0, BirthInterval, 0)) && other.Before(day.AddDate(0, BirthInterval, 0)):
			interval = true
		}
	}
	if interval {
		if !in.ConfirmImplausible {
			problems.Add("confirm_implausible", ErrBirthInterval)
		}
		flags = append(flags, FlagBirthInterval)
	}
	return flags, problems.Err()
}

// fullYears is the age in full years on day of a person born on birth (a
// partial birth date counts from its earliest day).
func fullYears(birth, day civildate.Date) int {
	b, d := birth.Earliest(), day.Earliest()
	age := d.Year() - b.Year()
	if d.Month() < b.Month() || d.Month() == b.Month() && d.Day() < b.Day() {
		age--
	}
	return age
}
