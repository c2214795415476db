package reconcile

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/match"
	"github.com/dancu-project/dancu/internal/registry"
)

// Review is an ambiguous row waiting for (or settled by) a registrar.
type Review struct {
	JobID     string
	Row       int64
	PartnerID string
	// Record is the row as the partner holds it.
	Record     match.Record
	Candidates []ReviewCandidate
	State      string // "open" or "decided"
	Decision   string // chosen PIN; "" for none
	DecidedBy  string
	DecidedAt  string
}

// Reason is why the row needs a registrar (match.ReasonCompeting or
// match.ReasonWeak), as the matcher gave it with the candidates.
func (r Review) Reason() string {
	for _, c := range r.Candidates {
		if c.Reason != "" {
			return c.Reason
		}
	}
	return ""
}

// ReviewCandidate is one person the row may be. Person is filled (and the
// read audited) only on the review page and only inside the registrar's
// scope; InScope says whether the registrar may choose it.
type ReviewCandidate struct {
	match.Candidate
	Places  []Place
	InScope bool
	Person  *registry.Person
}

// Review states.
const (
	ReviewOpen    = "open"
	ReviewDecided = "decided"
)

// scopeFilter is the SQL condition limiting reviews to an actor's unit.
func scopeFilter(a actor.Actor, arg string) string {
	switch len(a.Unit) {
	case 0:
		return ""
	case 2:
		return ` AND EXISTS (SELECT 1 FROM reconcile_review_units u WHERE u.job_id = v.job_id AND u.row_num = v.row_num AND u.province = ` + arg + `)`
	default:
		return ` AND EXISTS (SELECT 1 FROM reconcile_review_units u WHERE u.job_id = v.job_id AND u.row_num = v.row_num AND u.commune = ` + arg + `)`
	}
}

// Queue lists open reviews with at least one candidate in the actor's
// unit, oldest first. It shows the partner's data only, not the register's.
func (s *Service) Queue(ctx context.Context, a actor.Actor, limit int) ([]Review, error) {
	q := `SELECT v.job_id, v.row_num, v.partner_id, v.record, v.candidates, v.state FROM reconcile_reviews v WHERE v.state = 'open'`
	args := []any{}
	if a.Unit != "" {
		q += scopeFilter(a, "$1")
		args = append(args, a.Unit)
	}
	q += fmt.Sprintf(` ORDER BY v.created_at, v.job_id, v.row_num LIMIT %d`, max(1, min(limit, 500)))
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reconcile: review queue: %w", err)
	}
	defer rows.Close()
	var out []Review
	for rows.Next() {
		var r Review
		var rec, cands string
		if err := rows.Scan(&r.JobID, &r.Row, &r.PartnerID, &rec, &cands, &r.State); err != nil {
			return nil, fmt.Errorf("reconcile: review queue: %w", err)
		}
		r.Record, r.Candidates = decodeReview(rec, cands)
		out = append(out, r)
	}
	return out, rows.Err()
}

// OpenReviews counts the open reviews in the actor's unit.
func (s *Service) OpenReviews(ctx context.Context, a actor.Actor) (int, error) {
	q := `SELECT count(*) FROM reconcile_reviews v WHERE v.state = 'open'`
	args := []any{}
	if a.Unit != "" {
		q += scopeFilter(a, "$1")
		args = append(args, a.Unit)
	}
	var n int
	if err := s.db.R.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("reconcile: count reviews: %w", err)
	}
	return n, nil
}

func decodeReview(rec, cands string) (match.Record, []ReviewCandidate) {
	var r match.Record
	json.Unmarshal([]byte(rec), &r)
	var cs []match.Candidate
	json.Unmarshal([]byte(cands), &cs)
	out := make([]ReviewCandidate, len(cs))
	for i, c := range cs {
		out[i] = ReviewCandidate{Candidate: c}
	}
	return r, out
}

// Review loads one review for the actor, with the register data of the
// candidates inside their scope (each read audited by the register). A
// review with no candidate in scope is not found for them.
func (s *Service) Review(ctx context.Context, a actor.Actor, jobID string, row int64) (Review, error) {
	r, err := s.loadReview(ctx, s.db.R, a, jobID, row)
	if err != nil {
		return r, err
	}
	if s.reg != nil {
		for i := range r.Candidates {
			c := &r.Candidates[i]
			if !c.InScope {
				continue
			}
			p, err := s.reg.Get(ctx, a, c.PIN, Purpose)
			if err != nil {
				if f := fault.As(err); f.Kind == fault.Forbidden || f.Kind == fault.NotFound {
					c.InScope = false
					continue
				}
				return Review{}, err
			}
			c.Person = &p
		}
	}
	return r, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Service) loadReview(ctx context.Context, q querier, a actor.Actor, jobID string, row int64) (Review, error) {
	r := Review{JobID: jobID, Row: row}
	var rec, cands string
	err := q.QueryRowContext(ctx, `SELECT partner_id, record, candidates, state, decision_pin, decided_by, decided_at
		FROM reconcile_reviews WHERE job_id = $1 AND row_num = $2`, jobID, row).
		Scan(&r.PartnerID, &rec, &cands, &r.State, &r.Decision, &r.DecidedBy, &r.DecidedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrReviewNotFound
	}
	if err != nil {
		return r, fmt.Errorf("reconcile: load review: %w", err)
	}
	r.Record, r.Candidates = decodeReview(rec, cands)
	rows, err := q.QueryContext(ctx, `SELECT pin, province, commune FROM reconcile_review_units WHERE job_id = $1 AND row_num = $2`, jobID, row)
	if err != nil {
		return r, fmt.Errorf("reconcile: review scope: %w", err)
	}
	places := map[string][]Place{}
	for rows.Next() {
		var pin string
		var p Place
		if err := rows.Scan(&pin, &p.Province, &p.Commune); err != nil {
			rows.Close()
			return r, fmt.Errorf("reconcile: review scope: %w", err)
		}
		places[pin] = append(places[pin], p)
	}
	rows.Close()
	any := false
	for i := range r.Candidates {
		c := &r.Candidates[i]
		c.Places = places[c.PIN]
		c.InScope = a.Unit == "" || slices.ContainsFunc(c.Places, func(p Place) bool { return a.Covers(p.Province, p.Commune) })
		any = any || c.InScope
	}
	if !any {
		return r, ErrReviewNotFound // outside the actor's unit: do not tell it exists
	}
	return r, nil
}

// Decide settles a review: pin is the chosen candidate, "" for "none of
// them". Only a registrar whose unit covers the chosen candidate (or, for
// "none", any candidate) may decide; the decision is kept with who and
// when, audited, and counted in the job's progress.
func (s *Service) Decide(ctx context.Context, a actor.Actor, jobID string, row int64, pin string) error {
	if !a.CanRegister() {
		return fault.ErrForbidden
	}
	r, err := s.loadReview(ctx, s.db.R, a, jobID, row)
	if err != nil {
		return err
	}
	if r.State != ReviewOpen {
		return ErrAlreadyDecided
	}
	var place Place
	if pin != "" {
		i := slices.IndexFunc(r.Candidates, func(c ReviewCandidate) bool { return c.PIN == pin })
		if i < 0 {
			return ErrNotACandidate.WithField("pin")
		}
		if !r.Candidates[i].InScope {
			return fault.ErrOutOfScope
		}
		// The decision names the person to the job's partner: its policy
		// as it stands now must let it be told about them.
		j, err := s.Job(ctx, "", jobID)
		if err != nil {
			return err
		}
		pol, err := s.policyOf(ctx, j.PartnerID, j.Purpose)
		if err != nil {
			return err
		}
		place = firstPlace(r.Candidates[i].Places)
		if !pol.disclose(Linked{PIN: pin, Place: place}).InScope {
			return ErrPartnerScope
		}
	}
	subject := "reconcile:" + jobID
	if pin != "" {
		subject = "person:" + pin
	}
	detail := fmt.Sprintf("job %s row %d", jobID, row)
	if pin == "" {
		detail += " none"
	}
	if err := s.audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "reconcile.decide", Subject: subject, Purpose: Purpose, Detail: detail}); err != nil {
		return fmt.Errorf("reconcile: audit decision: %w", err)
	}
	now := fmtTime(s.now())
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE reconcile_reviews SET state = 'decided', decision_pin = $1, decided_by = $2, decided_at = $3
			WHERE job_id = $4 AND row_num = $5 AND state = 'open'`, pin, a.ID, now, jobID, row)
		if err != nil {
			return fmt.Errorf("reconcile: decide: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrAlreadyDecided
		}
		if pin == "" {
			return nil
		}
		// Another row of the file already names this person — matched by
		// the worker or decided before: the decided row is the same person
		// as the first of them, as the worker marks matched rows.
		var first sql.NullInt64
		q := fmt.Sprintf(`SELECT min(row_num) FROM (`+rowsNaming+`) named WHERE row_num <> $3`, "$2")
		if err := tx.QueryRowContext(ctx, q, jobID, pin, row).Scan(&first); err != nil {
			return fmt.Errorf("reconcile: decide: same person: %w", err)
		}
		same, firstRow := 0, int64(0)
		if first.Valid {
			same, firstRow = 1, first.Int64
		}
		// The row keeps where the person lives, for the report's scope.
		if _, err := tx.ExecContext(ctx, `UPDATE reconcile_rows SET same_person_as = $1, province = $2, commune = $3 WHERE job_id = $4 AND row_num = $5`,
			firstRow, place.Province, place.Commune, jobID, row); err != nil {
			return fmt.Errorf("reconcile: decide: same person: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE reconcile_jobs SET decided = decided + 1, same_person = same_person + $1, updated_at = $2 WHERE id = $3`,
			same, now, jobID); err != nil {
			return fmt.Errorf("reconcile: decide: %w", err)
		}
		return nil
	})
}
