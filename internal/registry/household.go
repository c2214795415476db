package registry

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/civildate"
)

// AdultAge is the age of majority (Civil Code 2015 Art. 20): the youngest a
// member chosen head by the default rule is, when an adult remains.
const AdultAge = 18

// HeadPeriod is one period of a household's head (household_heads).
type HeadPeriod struct {
	PIN    string         `json:"pin"`
	From   civildate.Date `json:"from,omitzero"`
	To     civildate.Date `json:"to,omitzero"`
	By     string         `json:"changed_by,omitempty"`
	Reason string         `json:"reason,omitempty"`
}

// nextHead picks who heads a household after leaving (who died or moved
// away) on date, among the living members other than leaving. The rule:
//
//  1. the member the registrar named (named), who must be one of them;
//  2. else leaving's spouse, when a member;
//  3. else the eldest adult member (AdultAge on date);
//  4. else the eldest member: a household is never left without a head.
//
// It reports "" when no living member remains, and ErrNewHeadInvalid when
// named is not a living member.
func nextHead(members []Member, leaving Person, named string, date civildate.Date) (string, error) {
	var others []Member
	for _, m := range members {
		if m.PIN != leaving.PIN && m.Status == Alive {
			others = append(others, m)
		}
	}
	if named = strings.TrimSpace(named); named != "" {
		for _, m := range others {
			if m.PIN == named {
				return named, nil
			}
		}
		return "", ErrNewHeadInvalid.WithField("new_head_pin")
	}
	if len(others) == 0 {
		return "", nil
	}
	if leaving.SpousePIN != "" {
		for _, m := range others {
			if m.PIN == leaving.SpousePIN {
				return m.PIN, nil
			}
		}
	}
	eldest, eldestAdult := -1, -1
	for i, m := range others {
		if eldest < 0 || older(m, others[eldest]) {
			eldest = i
		}
		adult := !m.BirthDate.Earliest().AddDate(AdultAge, 0, 0).After(date.Earliest())
		if adult && (eldestAdult < 0 || older(m, others[eldestAdult])) {
			eldestAdult = i
		}
	}
	if eldestAdult >= 0 {
		return others[eldestAdult].PIN, nil
	}
	return others[eldest].PIN, nil
}

// older orders members by birth date (the earliest day a partial date can
// be), then PIN, so the choice is the same on every run.
func older(a, b Member) bool {
	ea, eb := a.BirthDate.Earliest(), b.BirthDate.Earliest()
	if !ea.Equal(eb) {
		return ea.Before(eb)
	}
	return a.PIN < b.PIN
}

// handOverHead makes the next head (nextHead) head of the household that
// leaving heads, when living members remain: the household row, the new
// head's record (a new version, relation "Chủ hộ") and the head history
// change in tx. A household is never left without a head.
func (s *Service) handOverHead(ctx context.Context, tx *sql.Tx, a actor.Actor, leaving Person, named string, date civildate.Date, reason string) error {
	if leaving.Relation != RelHead || leaving.HouseholdID == "" {
		return nil
	}
	members, err := householdMembers(ctx, tx, leaving.HouseholdID)
	if err != nil {
		return err
	}
	head, err := nextHead(members, leaving, named, date)
	if err != nil {
		return err
	}
	if err := changeHead(ctx, tx, leaving.HouseholdID, leaving.PIN, head, date, a.ID, reason); err != nil {
		return err
	}
	if head == "" {
		return nil
	}
	old, err := loadPerson(ctx, tx, head, s.db.ForUpdate())
	if err != nil {
		return fmt.Errorf("load new head: %w", err)
	}
	p := old
	p.Relation = RelHead
	return s.save(ctx, tx, a, old, &p, reason)
}

// changeHead records in the head history that from stopped heading the
// household on date and head ("" for nobody: the household has no living
// member) started, and sets the household's head.
func changeHead(ctx context.Context, tx *sql.Tx, household, from, head string, date civildate.Date, by, reason string) error {
	res, err := tx.ExecContext(ctx, `UPDATE household_heads SET to_date = $1 WHERE household_id = $2 AND to_date = ''`, date.String(), household)
	if err != nil {
		return fmt.Errorf("close head period: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// A household loaded in bulk has no history yet: its first head's
		// period starts on a day the register does not know.
		if _, err := tx.ExecContext(ctx, `INSERT INTO household_heads (household_id, head_pin, to_date) VALUES ($1, $2, $3)`, household, from, date.String()); err != nil {
			return fmt.Errorf("record head period: %w", err)
		}
	}
	if head == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO household_heads (household_id, head_pin, from_date, changed_by, reason) VALUES ($1, $2, $3, $4, $5)`,
		household, head, date.String(), by, reason); err != nil {
		return fmt.Errorf("record head period: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE households SET head_pin = $1 WHERE id = $2`, head, household); err != nil {
		return fmt.Errorf("change household head: %w", err)
	}
	return nil
}

// householdHeads is a household's head history, newest first.
func householdHeads(ctx context.Context, q querier, id string) ([]HeadPeriod, error) {
	rows, err := q.QueryContext(ctx, `SELECT head_pin, from_date, to_date, changed_by, reason FROM household_heads WHERE household_id = $1 ORDER BY id DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("household heads: %w", err)
	}
	defer rows.Close()
	var out []HeadPeriod
	for rows.Next() {
		var h HeadPeriod
		var from, to string
		if err := rows.Scan(&h.PIN, &from, &to, &h.By, &h.Reason); err != nil {
			return nil, fmt.Errorf("household heads: %w", err)
		}
		h.From, h.To = parseOptional(from), parseOptional(to)
		out = append(out, h)
	}
	return out, rows.Err()
}

// keepResidences writes the periods p's row holds but the residence history
// does not (records loaded in bulk carry them on the row only), so that an
// act closing them leaves the earlier address in the history.
func keepResidences(ctx context.Context, tx *sql.Tx, p Person) error {
	var open int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM residences WHERE pin = $1 AND kind = $2 AND to_date = ''`, p.PIN, Permanent).Scan(&open); err != nil {
		return fmt.Errorf("residence history: %w", err)
	}
	if open == 0 && p.Permanent.CommuneCode != "" {
		if err := insertResidence(ctx, tx, p.PIN, Permanent, p.Permanent, p.PermSince, ""); err != nil {
			return err
		}
	}
	if t := p.Temporary; t != nil {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM residences WHERE pin = $1 AND kind = $2 AND commune = $3 AND from_date = $4`,
			p.PIN, Temporary, t.CommuneCode, t.From.String()).Scan(&n); err != nil {
			return fmt.Errorf("residence history: %w", err)
		}
		if n == 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO residences (pin, kind, province, commune, detail, from_date, to_date) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				p.PIN, Temporary, t.ProvinceCode, t.CommuneCode, t.Detail, t.From.String(), t.To.String()); err != nil {
				return fmt.Errorf("residence history: %w", err)
			}
		}
	}
	return nil
}
