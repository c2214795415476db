package registry

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/fault"
)

// DeathInput is a death registration (đăng ký khai tử).
type DeathInput struct {
	PIN       string `json:"pin"`
	DeathDate string `json:"death_date"`
	Reason    string `json:"reason"`
	// NewHeadPIN names the next household head when the deceased headed a
	// household with living members.
	NewHeadPIN string `json:"new_head_pin"`
}

// RegisterDeath records a death and emits person.died. A second death of the
// same person is refused.
func (s *Service) RegisterDeath(ctx context.Context, a actor.Actor, in DeathInput) (Person, error) {
	if !a.CanRegister() {
		return Person{}, fault.ErrForbidden
	}
	// Scope before any other check: a refusal must not depend on the rest.
	if _, err := s.reach(ctx, a, strings.TrimSpace(in.PIN), "pin"); err != nil {
		return Person{}, err
	}
	var problems fault.List
	date := pastDate(in.DeathDate, "death_date", s.now(), &problems)
	reason := checkReason(in.Reason, &problems)
	if err := problems.Err(); err != nil {
		return Person{}, err
	}
	var p Person
	err := s.write(ctx, func(tx *sql.Tx) error {
		old, err := s.lockPerson(ctx, tx, a, strings.TrimSpace(in.PIN), "pin")
		if err != nil {
			return err
		}
		if old.Status == Dead {
			return ErrAlreadyDead.WithField("pin")
		}
		if date.Earliest().Before(old.BirthDate.Earliest()) {
			return ErrBeforeBirth.WithField("death_date")
		}
		if err := s.handOverHead(ctx, tx, a, old, in.NewHeadPIN, date, reason); err != nil {
			return err
		}
		if err := keepResidences(ctx, tx, old); err != nil {
			return err
		}
		p = old
		p.Status, p.DeathDate = Dead, date
		// A death closes the household membership (the record's history
		// keeps which household it was) and every residence.
		p.HouseholdID, p.Relation = "", ""
		if t := p.Temporary; t != nil && (t.To.IsZero() || t.To.Earliest().After(date.Earliest())) {
			closed := *t
			closed.To = date
			p.Temporary = &closed
		}
		if err := s.save(ctx, tx, a, old, &p, reason); err != nil {
			return err
		}
		ev := LifeEvent{Kind: EventDeath, Effective: date, Reason: reason}
		if err := s.recordEvent(ctx, tx, a, &ev, &p); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE residences SET to_date = $1 WHERE pin = $2 AND (to_date = '' OR to_date > $1)`, date.String(), p.PIN); err != nil {
			return fmt.Errorf("close residences: %w", err)
		}
		// The marriage ends with the death; the survivor is free to marry.
		return s.endMarriage(ctx, tx, a, old, date, endByDeath, ev.ID, reason)
	})
	if err != nil {
		return Person{}, fmt.Errorf("register death: %w", err)
	}
	s.describe(&p)
	return p, nil
}
