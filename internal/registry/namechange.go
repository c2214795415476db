package registry

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/fault"
)

// NameChangeInput is a change of name (thay đổi họ, chữ đệm, tên).
type NameChangeInput struct {
	PIN      string `json:"pin"`
	FullName string `json:"full_name"`
	Date     string `json:"date"`
	Reason   string `json:"reason"`
}

// ErrSameName refuses a change to the name already recorded.
var ErrSameName = fault.New(fault.Invalid, "name.unchanged", "Họ tên mới trùng với họ tên hiện tại.", "The new name is the current name.")

// ChangeName records a new full name; the old one stays in other names and in
// the history. Emits person.name_changed.
func (s *Service) ChangeName(ctx context.Context, a actor.Actor, in NameChangeInput) (Person, error) {
	if !a.CanRegister() {
		return Person{}, fault.ErrForbidden
	}
	// Scope before any other check: a refusal must not depend on the rest.
	if _, err := s.reach(ctx, a, strings.TrimSpace(in.PIN), "pin"); err != nil {
		return Person{}, err
	}
	var problems fault.List
	name, err := NormalizeName(in.FullName)
	if err != nil {
		problems.Add("full_name", fault.As(err))
	}
	date := pastDate(in.Date, "date", s.now(), &problems)
	reason := checkReason(in.Reason, &problems)
	if err := problems.Err(); err != nil {
		return Person{}, err
	}
	var p Person
	err = s.write(ctx, func(tx *sql.Tx) error {
		old, err := s.lockPerson(ctx, tx, a, strings.TrimSpace(in.PIN), "pin")
		if err != nil {
			return err
		}
		if old.Status == Dead {
			return ErrDead.WithField("pin")
		}
		if old.FullName == name {
			return ErrSameName.WithField("full_name")
		}
		p = old
		p.FullName = name
		if p.OtherNames == "" {
			p.OtherNames = old.FullName
		} else {
			p.OtherNames = old.FullName + "; " + p.OtherNames
		}
		if err := s.save(ctx, tx, a, old, &p, reason); err != nil {
			return err
		}
		ev := LifeEvent{Kind: EventNameChange, Effective: date, Reason: reason}
		return s.recordEvent(ctx, tx, a, &ev, &p)
	})
	if err != nil {
		return Person{}, fmt.Errorf("change name: %w", err)
	}
	s.describe(&p)
	return p, nil
}
