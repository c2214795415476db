package payment

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
)

// Scheduled jobs. Each node runs RunExpire and RunReconcile under a lease
// (internal/lease), so one node at a time does the work; every run is
// stored (payment_job_runs) for the administrators (JobRuns).
const (
	JobExpire    = "expire"
	JobReconcile = "reconcile"
)

// ErrSchedule refuses a reconciliation time that is not HH:MM.
var ErrSchedule = fault.New(fault.Invalid, "payment.schedule", "Giờ đối soát phải có dạng GG:PP (giờ Việt Nam).", "The reconciliation time must be HH:MM (Vietnam time).")

// DefaultReconcileAt is when the daily reconciliation of the day before
// runs, Vietnam time: after the gateways publish the previous day's
// statement (they close their day at midnight).
const DefaultReconcileAt = "01:30"

// ParseClock reads "HH:MM" as minutes after midnight.
func ParseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(h) != 2 || len(m) != 2 || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, ErrSchedule
	}
	return hh*60 + mm, nil
}

// JobRun is one run of a scheduled job.
type JobRun struct {
	ID     string    `json:"id"`
	Job    string    `json:"job"`
	Day    string    `json:"day,omitempty"` // the reconciled day (Vietnam's)
	RanAt  time.Time `json:"ran_at"`
	OK     bool      `json:"ok"`
	Detail string    `json:"detail"`
}

func (s *Service) recordRun(ctx context.Context, job, day string, err error, detail string) error {
	ok := 1
	if err != nil {
		ok, detail = 0, "error: "+faultCode(err)
	}
	_, e := s.db.W.ExecContext(ctx, `INSERT INTO payment_job_runs (id, job, day, ran_at, ok, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
		storage.NewID(), job, day, stamp(s.now()), ok, detail)
	if e != nil {
		return fmt.Errorf("payment: record job run: %w", e)
	}
	return nil
}

// faultCode is what a failed run says: a fault's stable code, or that the
// failure was internal (its text may hold details kept out of the table).
func faultCode(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return "internal"
}

// RunExpire expires stale intents and records the run when it expired
// any or failed (a run every few minutes that found nothing is not worth a
// row).
func (s *Service) RunExpire(ctx context.Context) (int, error) {
	n, err := s.Expire(ctx)
	if n == 0 && err == nil {
		return 0, nil
	}
	if rerr := s.recordRun(ctx, JobExpire, "", err, fmt.Sprintf("expired=%d", n)); rerr != nil && err == nil {
		err = rerr
	}
	return n, err
}

// RunReconcile reconciles the day before today (Vietnam's) once the
// clock has passed at (minutes after midnight, Vietnam time) and that day
// has no stored reconciliation yet; it reports whether it ran. A failed
// run is recorded and tried again at the next call.
func (s *Service) RunReconcile(ctx context.Context, at int) (bool, Report, error) {
	now := s.now().In(civildate.Location())
	if now.Hour()*60+now.Minute() < at {
		return false, Report{}, nil
	}
	day := civildate.Of(now.AddDate(0, 0, -1))
	done, err := s.Reconciliations(ctx, day)
	if err != nil {
		return false, Report{}, err
	}
	if len(done) > 0 {
		return false, Report{}, nil
	}
	rep, err := s.Reconcile(ctx, day)
	detail := ""
	if err == nil {
		detail = fmt.Sprintf("reconciliation=%s lines=%d matched=%d mismatches=%d", rep.ID, rep.Lines, rep.Matched, len(rep.Mismatches))
	}
	if rerr := s.recordRun(ctx, JobReconcile, day.String(), err, detail); rerr != nil && err == nil {
		err = rerr
	}
	return true, rep, err
}

// JobRuns lists the latest runs of the scheduled jobs (job "" for all),
// newest first, at most limit (1 to 500).
func (s *Service) JobRuns(ctx context.Context, job string, limit int) ([]JobRun, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	where, args := ``, []any{}
	if job != "" {
		where, args = `WHERE job = $1`, append(args, job)
	}
	args = append(args, limit)
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, job, day, ran_at, ok, detail FROM payment_job_runs `+where+
		` ORDER BY ran_at DESC, id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("payment: job runs: %w", err)
	}
	defer rows.Close()
	out := []JobRun{}
	for rows.Next() {
		var r JobRun
		var at string
		var ok int
		if err := rows.Scan(&r.ID, &r.Job, &r.Day, &at, &ok, &r.Detail); err != nil {
			return nil, fmt.Errorf("payment: job runs: %w", err)
		}
		r.RanAt, r.OK = parseStamp(at), ok == 1
		out = append(out, r)
	}
	return out, rows.Err()
}
