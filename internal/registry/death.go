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
		if err := s.handOverHead(ctx, tx, old, in.NewHeadPIN); err != nil {
			return err
		}
		p = old
		p.Status, p.DeathDate = Dead, date
		if err := s.save(ctx, tx, a, old, &p, reason); err != nil {
			return err
		}
		ev := LifeEvent{Kind: EventDeath, Effective: date, Reason: reason}
		return s.recordEvent(ctx, tx, a, &ev, &p)
	})
	if err != nil {
		return Person{}, fmt.Errorf("register death: %w", err)
	}
	s.describe(&p)
	return p, nil
}

// handOverHead makes newHead the head of the household that leaving (who dies
// or moves away) heads, when living members remain. A household is never left
// without a head.
func (s *Service) handOverHead(ctx context.Context, tx *sql.Tx, leaving Person, newHead string) error {
	if leaving.Relation != RelHead || leaving.HouseholdID == "" {
		return nil
	}
	members, err := householdMembers(ctx, tx, leaving.HouseholdID)
	if err != nil {
		return err
	}
	var others []Member
	for _, m := range members {
		if m.PIN != leaving.PIN && m.Status == Alive {
			others = append(others, m)
		}
	}
	if len(others) == 0 {
		return nil
	}
	newHead = strings.TrimSpace(newHead)
	if newHead == "" {
		return ErrHeadRequired.WithField("new_head_pin")
	}
	found := false
	for _, m := range others {
		found = found || m.PIN == newHead
	}
	if !found {
		return ErrNewHeadInvalid.WithField("new_head_pin")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE households SET head_pin = $1 WHERE id = $2`, newHead, leaving.HouseholdID); err != nil {
		return fmt.Errorf("change household head: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE persons SET relation = $1 WHERE pin = $2`, RelHead, newHead); err != nil {
		return fmt.Errorf("change household head: %w", err)
	}
	return noteChange(ctx, tx, newHead)
}
