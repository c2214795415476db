package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/storage"
)

// ReadUnaudited returns a person's record inside the actor's scope without
// writing to the audit log. It is for modules that audit the act themselves
// with their own action and detail (a partner's verification, an eKYC
// disclosure): the caller must record the entry before it discloses
// anything derived from the record, and must record it even when it
// discloses nothing.
func (s *Service) ReadUnaudited(ctx context.Context, a actor.Actor, pinText string) (Person, error) {
	return s.read(ctx, a, pinText)
}

// Core is the part of a person's record that checking what a partner holds
// needs (a partner's verify): reading nine columns instead of the whole
// record with its unit names halves the cost of the busiest partner call.
type Core struct {
	PIN       string
	FullName  string
	BirthDate civildate.Date
	Sex       string
	// Permanent and Temporary hold unit codes only; Temporary is empty
	// when the person has no registered temporary residence.
	Permanent, Temporary Address
	// TempTo is the last day of the temporary residence (zero when open).
	TempTo civildate.Date
	Status string
}

// ReadCoreUnaudited is ReadUnaudited for the Core of a person, under the
// same scope rule and the same duty to audit.
func (s *Service) ReadCoreUnaudited(ctx context.Context, a actor.Actor, pinText string) (Core, error) {
	id, err := pin.Parse(pinText)
	if err != nil {
		return Core{}, err
	}
	c, ok, gen := s.cores.get(string(id))
	if !ok {
		c, err = readCore(ctx, s.db, string(id))
		if errors.Is(err, errNoPerson) {
			return Core{}, judge(a, false, false, "pin")
		}
		if err != nil {
			return Core{}, err
		}
		s.cores.put(c, gen)
	}
	if err := judge(a, true, resides(a, c.Permanent, c.Temporary, c.TempTo, today(s.now())), "pin"); err != nil {
		return Core{}, err
	}
	return c, nil
}

const selectCore = `SELECT pin, full_name, birth_date, sex, perm_province, perm_commune, temp_province, temp_commune, temp_to, status FROM persons WHERE pin = $1`

func readCore(ctx context.Context, db *storage.DB, pin string) (Core, error) {
	stmt, err := db.ReadStmt(ctx, selectCore)
	if err != nil {
		return Core{}, err
	}
	var c Core
	var birth, tempTo string
	err = stmt.QueryRowContext(ctx, pin).Scan(&c.PIN, &c.FullName, &birth, &c.Sex, &c.Permanent.ProvinceCode, &c.Permanent.CommuneCode,
		&c.Temporary.ProvinceCode, &c.Temporary.CommuneCode, &tempTo, &c.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return c, errNoPerson
	}
	if err != nil {
		return c, fmt.Errorf("load person: %w", err)
	}
	c.BirthDate, _ = civildate.Parse(birth)
	c.TempTo = parseOptional(tempTo)
	return c, nil
}
