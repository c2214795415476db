package registry

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
)

// TemporaryInput registers a temporary residence (đăng ký tạm trú, Law on
// Residence 2020 Art. 27–28): at a place outside the commune of permanent
// residence, for at most two years at a time.
type TemporaryInput struct {
	PIN     string `json:"pin"`
	Commune string `json:"commune_code"`
	Detail  string `json:"address_detail"`
	From    string `json:"from"`
	To      string `json:"to"`
	Reason  string `json:"reason"`
	// Arrival is the evidence that a person from outside the registrar's
	// unit is staying there; not needed for a person of the unit.
	Arrival *Arrival `json:"arrival,omitempty"`
}

// Faults of temporary residence.
var (
	ErrTempSameCommune = fault.New(fault.Invalid, "temporary.same_commune", "Nơi tạm trú phải ở ngoài xã/phường nơi thường trú.", "A temporary residence is outside the commune of permanent residence.")
	ErrTempTooLong     = fault.New(fault.Invalid, "temporary.too_long", "Thời hạn tạm trú tối đa 2 năm; hết hạn thì gia hạn.", "A temporary residence lasts at most two years; renew it after.")
	ErrTempOrder       = fault.New(fault.Invalid, "temporary.order", "Ngày kết thúc phải sau ngày bắt đầu.", "The end date must be after the start date.")
)

// RegisterTemporary records a temporary residence and emits
// person.temporary_residence. The registrar of the place of stay records it.
func (s *Service) RegisterTemporary(ctx context.Context, a actor.Actor, in TemporaryInput) (Person, error) {
	if !a.CanRegister() {
		return Person{}, fault.ErrForbidden
	}
	// Scope before any other check: a person of the unit, or one arriving
	// there on evidence. A refusal must not depend on the rest.
	_, acc, err := s.reachArrival(ctx, a, strings.TrimSpace(in.PIN), "pin", s.destination(ctx, "", in.Commune), ArrivalTemporary, in.Arrival)
	if err != nil {
		return Person{}, err
	}
	var problems fault.List
	from, err := civildate.Parse(in.From)
	if err != nil || from.Partial() {
		problems.Add("from", fault.As(orFull(err)))
	}
	to, err := civildate.Parse(in.To)
	if err != nil || to.Partial() {
		problems.Add("to", fault.As(orFull(err)))
	}
	if len(problems) == 0 {
		switch {
		case !to.Earliest().After(from.Earliest()):
			problems.Add("to", ErrTempOrder)
		case to.Earliest().After(from.Earliest().AddDate(2, 0, 0)):
			problems.Add("to", ErrTempTooLong)
		}
	}
	province, err := s.places.CommuneProvince(in.Commune, s.now())
	if err != nil {
		problems.Add("commune_code", ErrUnknownCommune)
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
		if !a.Covers(province, in.Commune) {
			return fault.ErrOutOfScope
		}
		if old.Status == Dead {
			return ErrDead.WithField("pin")
		}
		if old.Permanent.CommuneCode == in.Commune {
			return ErrTempSameCommune.WithField("commune_code")
		}
		p = old
		p.Temporary = &TempResidence{Address: Address{ProvinceCode: province, CommuneCode: in.Commune, Detail: strings.TrimSpace(in.Detail)}, From: from, To: to}
		if err := s.save(ctx, tx, a, old, &p, reason); err != nil {
			return err
		}
		var prev *Address
		if old.Temporary != nil {
			prev = &old.Temporary.Address
		}
		ev := LifeEvent{Kind: EventTemporary, Effective: from, Reason: reason, From: prev, Evidence: acc.String()}
		if err := s.recordEvent(ctx, tx, a, &ev, &p); err != nil {
			return err
		}
		if err := s.useEvidence(ctx, tx, acc, ev.ID); err != nil {
			return err
		}
		// A temporary residence replaces the one still running: the history
		// keeps it, ended where the new one starts (loaded in bulk, it is
		// written first).
		if err := keepResidences(ctx, tx, old); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE residences SET to_date = $1 WHERE pin = $2 AND kind = $3 AND (to_date = '' OR to_date > $1)`, from.String(), p.PIN, Temporary); err != nil {
			return fmt.Errorf("close temporary residence: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO residences (pin, kind, province, commune, detail, from_date, to_date, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			p.PIN, Temporary, province, in.Commune, p.Temporary.Detail, from.String(), to.String(), ev.ID)
		if err != nil {
			return fmt.Errorf("insert temporary residence: %w", err)
		}
		return nil
	})
	if err != nil {
		return Person{}, fmt.Errorf("register temporary residence: %w", err)
	}
	s.describe(&p)
	return p, nil
}

// orFull turns a missing error on a partial date into the full-date fault.
func orFull(err error) error {
	if err == nil {
		return ErrDateIncomplete
	}
	return err
}

// ErrDateIncomplete asks for day, month and year.
var ErrDateIncomplete = fault.New(fault.Invalid, "date.incomplete", "Nhập đủ ngày, tháng, năm.", "Enter the day, month and year.")
