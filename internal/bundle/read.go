package bundle

import (
	"context"
	"fmt"
	"strings"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
)

func auditEntry(who, action, subject, detail string) audit.Entry {
	return audit.Entry{Actor: who, Action: action, Subject: subject, Purpose: "bundle", Detail: detail}
}

// Mine lists the bundles the citizen follows (filed, or the child's other
// parent), newest first.
func (s *Service) Mine(ctx context.Context, citizenPIN string) ([]Bundle, error) {
	return s.list(ctx, `WHERE parties LIKE $1 ORDER BY filed_at DESC LIMIT 100`, "%,"+citizenPIN+",%")
}

func (s *Service) list(ctx context.Context, where string, args ...any) ([]Bundle, error) {
	rows, err := s.d.DB.R.QueryContext(ctx, `SELECT code FROM bundles `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("bundle: list: %w", err)
	}
	var codes []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return nil, err
		}
		codes = append(codes, c)
	}
	rows.Close()
	out := make([]Bundle, 0, len(codes))
	for _, c := range codes {
		b, err := s.load(ctx, s.d.DB.R, c)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// Get is one bundle the citizen follows; another's answers as unknown.
func (s *Service) Get(ctx context.Context, citizenPIN, code string) (Bundle, error) {
	b, err := s.load(ctx, s.d.DB.R, code)
	if err != nil {
		return Bundle{}, err
	}
	var parties string
	if err := s.d.DB.R.QueryRowContext(ctx, `SELECT parties FROM bundles WHERE code = $1`, code).Scan(&parties); err != nil {
		return Bundle{}, fmt.Errorf("bundle: parties: %w", err)
	}
	if !strings.Contains(parties, ","+citizenPIN+",") {
		return Bundle{}, ErrNotFound
	}
	return b, nil
}

// ForUnit lists the bundles whose steps an agency officer's unit handles
// (desk permission, the unit covering the step's commune), newest first,
// each audited as a read of the person it is about.
func (s *Service) ForUnit(ctx context.Context, a actor.Actor) ([]Bundle, error) {
	if !a.Can(actor.DeskActs) {
		return nil, ErrForbidden
	}
	where, args := `WHERE 1 = 1`, []any{}
	switch a.Level() {
	case actor.LevelNational:
	case actor.LevelProvince:
		where, args = where+` AND code IN (SELECT bundle_code FROM bundle_steps WHERE province = $1)`, append(args, a.Province)
	case actor.LevelCommune:
		where, args = where+` AND code IN (SELECT bundle_code FROM bundle_steps WHERE province = $1 AND commune = $2)`, append(args, a.Province, a.Unit)
	default:
		return nil, ErrForbidden
	}
	bs, err := s.list(ctx, where+` ORDER BY filed_at DESC LIMIT 200`, args...)
	if err != nil {
		return nil, err
	}
	var es []audit.Entry
	for _, b := range bs {
		if b.SubjectPIN != "" {
			es = append(es, auditEntry(a.ID, "bundle.read", "person:"+b.SubjectPIN, "bundle:"+b.Code))
		}
	}
	for _, e := range es {
		if err := s.d.Audit.Record(ctx, e); err != nil {
			return nil, err
		}
	}
	return bs, nil
}

// Counts is how many bundles are in each state and how many steps were
// done more than once (never, if the saga is right): the saga tests' and
// the benchmark's check.
func (s *Service) Counts(ctx context.Context) (map[string]int, int, error) {
	rows, err := s.d.DB.R.QueryContext(ctx, `SELECT status, COUNT(*) FROM bundles GROUP BY status`)
	if err != nil {
		return nil, 0, fmt.Errorf("bundle: counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, 0, err
		}
		out[st] = n
	}
	var twice int
	if err := s.d.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM bundle_steps WHERE done_count > 1`).Scan(&twice); err != nil {
		return nil, 0, fmt.Errorf("bundle: counts: %w", err)
	}
	return out, twice, rows.Err()
}
