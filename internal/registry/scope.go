package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/pin"
)

// The register has one scope rule, applied here and nowhere else:
//
//   - an actor reaches a person who lives in the actor's unit: the
//     permanent residence is there, or a registered temporary residence
//     there has not ended (resides);
//   - a person who does not exist is, to an actor scoped to a unit,
//     exactly as unreachable as one who lives elsewhere (out_of_scope, not
//     not_found), so a PIN cannot be probed for existence;
//   - the rule is applied before anything else of a request is looked at
//     (dates, the person's status, households), so a refused request
//     answers the same whatever else it carries;
//   - the only way to act on a person from outside is an arrival (a move
//     or a temporary residence into the unit) on the evidence that the
//     person is there (evidence.go).
//
// Reads (Get, History, Residences, Events, ReadUnaudited, the Core) and
// acts (death, name change, move, temporary residence) call reach, or
// lockPerson, which applies the same judge inside the write.
//
// After a move the person is the destination's. The unit left no longer
// reads the person, nor their history (that would reopen the hole the rule
// closes: reading whoever once lived there); it sees the change through
// Departures (who left, when, to where — each listing audited) and the
// person.moved event, which names the commune left. The person's own
// history keeps the move, with the evidence it was registered on, for
// the unit that now holds the record.

// resides reports whether a person whose residences are perm and temp
// (temp empty when none; tempTo its last day, zero when open) lives in a's
// unit on today.
func resides(a actor.Actor, perm, temp Address, tempTo civildate.Date, today civildate.Date) bool {
	if a.Covers(perm.ProvinceCode, perm.CommuneCode) {
		return true
	}
	if temp.CommuneCode == "" || !a.Covers(temp.ProvinceCode, temp.CommuneCode) {
		return false
	}
	// An ended temporary residence no longer places the person in the unit.
	return tempTo.IsZero() || !tempTo.Earliest().Before(today.Earliest())
}

// covers is resides for a full record.
func covers(a actor.Actor, p *Person, today civildate.Date) bool {
	var temp Address
	var to civildate.Date
	if p.Temporary != nil {
		temp, to = p.Temporary.Address, p.Temporary.To
	}
	return resides(a, p.Permanent, temp, to, today)
}

// judge turns a lookup's outcome into the rule's answer. found is false
// when no person has the PIN; in is whether the actor reaches the person.
func judge(a actor.Actor, found, in bool, field string) error {
	switch {
	case !found && a.Level() == actor.LevelNational:
		// A national actor reaches everyone, so "nobody" is all it learns.
		return ErrPersonNotFound.WithField(field)
	case !found, !in:
		return fault.ErrOutOfScope
	}
	return nil
}

// today is the civil date in Vietnam (UTC+7, no daylight saving) at t.
func today(t time.Time) civildate.Date {
	return civildate.Of(t.In(time.FixedZone("ICT", 7*60*60)))
}

// parsePIN reads a PIN typed in a request. A malformed PIN names nobody,
// so refusing it first discloses nothing (its structure is public, see the
// API's /pins/{pin}).
func parsePIN(text, field string) (pin.PIN, error) {
	id, err := pin.Parse(text)
	if err != nil {
		return "", fault.As(err).WithField(field)
	}
	return id, nil
}

// reach loads the person a read or an act is about and applies the scope
// rule. It runs before any other check of the request.
func (s *Service) reach(ctx context.Context, a actor.Actor, pinText, field string) (Person, error) {
	id, err := parsePIN(pinText, field)
	if err != nil {
		return Person{}, err
	}
	p, err := readPerson(ctx, s.db, string(id))
	found := !errors.Is(err, errNoPerson)
	if err != nil && found {
		return Person{}, err
	}
	if err := judge(a, found, found && covers(a, &p, today(s.now())), field); err != nil {
		return Person{}, err
	}
	return p, nil
}

// reachArrival is reach for a person arriving in the actor's unit at dest:
// a person outside the unit is reached only on evidence that they are
// there, which ev must carry. It returns the person and the evidence
// accepted ("" when the person was already in the unit).
func (s *Service) reachArrival(ctx context.Context, a actor.Actor, pinText, field string, dest Address, kind string, ev *Arrival) (Person, accepted, error) {
	id, err := parsePIN(pinText, field)
	if err != nil {
		return Person{}, accepted{}, err
	}
	p, err := readPerson(ctx, s.db, string(id))
	found := !errors.Is(err, errNoPerson)
	if err != nil && found {
		return Person{}, accepted{}, err
	}
	if found && covers(a, &p, today(s.now())) {
		return p, accepted{}, nil
	}
	if !found || dest.CommuneCode == "" || !a.Covers(dest.ProvinceCode, dest.CommuneCode) {
		return Person{}, accepted{}, judge(a, found, false, field)
	}
	acc, err := s.checkEvidence(ctx, p, dest, kind, ev)
	if err != nil {
		return Person{}, accepted{}, err
	}
	return p, acc, nil
}

// lockPerson reads a person for update inside tx under the scope rule: the
// person may have moved between reach and the write. An actor with an
// accepted arrival reaches the person through it (the evidence was checked
// by reachArrival; a recorded application is consumed in the same tx).
func (s *Service) lockPerson(ctx context.Context, tx *sql.Tx, a actor.Actor, pinText, field string) (Person, error) {
	return s.lockPersonArriving(ctx, tx, a, pinText, field, false)
}

func (s *Service) lockPersonArriving(ctx context.Context, tx *sql.Tx, a actor.Actor, pinText, field string, arriving bool) (Person, error) {
	id, err := parsePIN(pinText, field)
	if err != nil {
		return Person{}, err
	}
	p, err := loadPerson(ctx, tx, string(id), s.db.ForUpdate())
	found := err != errNoPerson
	if err != nil && found {
		return p, err
	}
	if err := judge(a, found, found && (arriving || covers(a, &p, today(s.now()))), field); err != nil {
		return Person{}, err
	}
	return p, nil
}

// scopeSQL is the scope rule as an SQL condition on persons for the
// search, with arg adding a bind value: nothing for national scope, and
// false for a unit of a shape that covers nobody.
func scopeSQL(a actor.Actor, day civildate.Date, arg func(any) string) (string, error) {
	var perm, temp string
	switch a.Level() {
	case actor.LevelNational:
		return "", nil
	case actor.LevelProvince:
		perm, temp = "perm_province", "temp_province"
	case actor.LevelCommune:
		perm, temp = "perm_commune", "temp_commune"
	case actor.LevelNone:
		return "1 = 0", nil
	default:
		return "", fmt.Errorf("scope level %d", a.Level())
	}
	u := arg(a.Unit)
	return "(" + perm + " = " + u + " OR (" + temp + " = " + u + " AND (temp_to = '' OR temp_to >= " + arg(day.String()) + ")))", nil
}
