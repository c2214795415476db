package registry

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
)

// MoveInput is a registration of a new permanent residence (đăng ký thường
// trú at a new place).
type MoveInput struct {
	PIN     string `json:"pin"`
	Date    string `json:"date"`
	Commune string `json:"commune_code"`
	Detail  string `json:"address_detail"`
	// HouseholdID is the household the person joins there; empty starts a
	// new household with the person as its head.
	HouseholdID string `json:"household_id"`
	Relation    string `json:"relation_to_head"`
	NewHeadPIN  string `json:"new_head_pin"`
	Reason      string `json:"reason"`
	// Arrival is the evidence that a person from outside the registrar's
	// unit is there and asks to move in; not needed for a person of the unit.
	Arrival *Arrival `json:"arrival,omitempty"`
}

// ErrRelationRequired asks for the relation to the head of the household joined.
var ErrRelationRequired = fault.New(fault.Invalid, "move.relation_required", "Nhập quan hệ với chủ hộ của hộ chuyển đến.", "Enter the relation to the head of the household joined.")

// RegisterMove moves a person's permanent residence and emits person.moved.
// The registrar of the destination records it, so the destination must be in
// the actor's scope.
func (s *Service) RegisterMove(ctx context.Context, a actor.Actor, in MoveInput) (Person, error) {
	if !a.CanRegister() {
		return Person{}, fault.ErrForbidden
	}
	in.HouseholdID = strings.TrimSpace(in.HouseholdID)
	in.Relation = strings.TrimSpace(in.Relation)
	// Scope before any other check: a person of the unit, or one arriving
	// there on evidence. A refusal must not depend on the rest.
	_, acc, err := s.reachArrival(ctx, a, strings.TrimSpace(in.PIN), "pin", s.destination(ctx, in.HouseholdID, in.Commune), ArrivalMove, in.Arrival)
	if err != nil {
		return Person{}, err
	}
	var problems fault.List
	date := pastDate(in.Date, "date", s.now(), &problems)
	if in.HouseholdID == "" {
		if _, err := s.places.CommuneProvince(in.Commune, s.now()); err != nil {
			problems.Add("commune_code", ErrUnknownCommune)
		}
	} else if in.Relation == "" {
		problems.Add("relation_to_head", ErrRelationRequired)
	}
	reason := checkReason(in.Reason, &problems)
	if err := problems.Err(); err != nil {
		return Person{}, err
	}
	var p Person
	err = s.write(ctx, func(tx *sql.Tx) error {
		old, err := s.lockPersonArriving(ctx, tx, a, strings.TrimSpace(in.PIN), "pin", acc.kind != "")
		if err != nil {
			return err
		}
		if old.Status == Dead {
			return ErrDead.WithField("pin")
		}
		if date.Earliest().Before(old.BirthDate.Earliest()) {
			return ErrBeforeBirth.WithField("date")
		}
		if in.HouseholdID != "" && in.HouseholdID == old.HouseholdID {
			return ErrSameHousehold.WithField("household_id")
		}
		p = old
		if in.HouseholdID != "" {
			h, err := lockHousehold(ctx, tx, s.db.ForUpdate(), in.HouseholdID)
			if err != nil {
				return err
			}
			p.Permanent = h.Address
			p.HouseholdID, p.Relation = h.ID, in.Relation
		} else {
			prov, _ := s.places.CommuneProvince(in.Commune, s.now())
			p.Permanent = Address{ProvinceCode: prov, CommuneCode: in.Commune, Detail: strings.TrimSpace(in.Detail)}
			p.HouseholdID, p.Relation = storage.NewID()[:16], RelHead
			if _, err := tx.ExecContext(ctx, `INSERT INTO households (id, head_pin, province, commune, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
				p.HouseholdID, p.PIN, prov, in.Commune, p.Permanent.Detail, s.now().UTC().Format(time.RFC3339Nano)); err != nil {
				return fmt.Errorf("create household: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO household_heads (household_id, head_pin, from_date, changed_by, reason) VALUES ($1, $2, $3, $4, $5)`,
				p.HouseholdID, p.PIN, date.String(), a.ID, reason); err != nil {
				return fmt.Errorf("record head period: %w", err)
			}
		}
		if !a.Covers(p.Permanent.ProvinceCode, p.Permanent.CommuneCode) {
			return fault.ErrOutOfScope
		}
		p, err = s.relocate(ctx, tx, a, old, p, in.NewHeadPIN, date, reason, acc)
		return err
	})
	if err != nil {
		return Person{}, fmt.Errorf("register move: %w", err)
	}
	s.describe(&p)
	return p, nil
}

// destination is the unit an arrival goes to, for the scope rule: the
// household's address when one is joined, else the commune's. It is empty
// when neither is known; the act then says why after scope.
func (s *Service) destination(ctx context.Context, householdID, commune string) Address {
	if householdID != "" {
		var addr Address
		err := s.db.R.QueryRowContext(ctx, `SELECT province, commune FROM households WHERE id = $1`, householdID).Scan(&addr.ProvinceCode, &addr.CommuneCode)
		if err != nil {
			return Address{}
		}
		return addr
	}
	prov, err := s.places.CommuneProvince(commune, s.now())
	if err != nil {
		return Address{}
	}
	return Address{ProvinceCode: prov, CommuneCode: commune}
}

// relocate writes a change of permanent residence in tx: old is the record
// before, p the record with its new address and household set. The
// household old headed gets its next head (handOverHead), the residence
// history keeps the address left (closed on date) beside the new one, and
// person.moved names the commune left.
func (s *Service) relocate(ctx context.Context, tx *sql.Tx, a actor.Actor, old, p Person, newHead string, date civildate.Date, reason string, acc accepted) (Person, error) {
	if err := s.handOverHead(ctx, tx, a, old, newHead, date, reason); err != nil {
		return Person{}, err
	}
	if err := keepResidences(ctx, tx, old); err != nil {
		return Person{}, err
	}
	p.PermSince = date
	if err := s.save(ctx, tx, a, old, &p, reason); err != nil {
		return Person{}, err
	}
	from := old.Permanent
	ev := LifeEvent{Kind: EventMove, Effective: date, Reason: reason, From: &from, Evidence: acc.String()}
	if err := s.recordEvent(ctx, tx, a, &ev, &p); err != nil {
		return Person{}, err
	}
	if err := s.useEvidence(ctx, tx, acc, ev.ID); err != nil {
		return Person{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE residences SET to_date = $1 WHERE pin = $2 AND kind = $3 AND to_date = ''`, date.String(), p.PIN, Permanent); err != nil {
		return Person{}, fmt.Errorf("close residence: %w", err)
	}
	if err := insertResidence(ctx, tx, p.PIN, Permanent, p.Permanent, date, ev.ID); err != nil {
		return Person{}, err
	}
	return p, nil
}
