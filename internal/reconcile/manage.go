package reconcile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dancu-project/dancu/internal/audit"
)

// Audit actions of a partner managing its jobs.
const (
	ActCancel = "reconcile.cancel"
	ActDelete = "reconcile.delete"
)

// Cancel stops a queued or running job of partnerID on behalf of by (the
// audit actor, "partner:<id>"). In the transaction that marks it cancelled
// the partner's upload (its raw personal data) is deleted and the job's
// open review items leave the registrars' queue. A worker working the job
// loses its claim with it: its next commit finds the job no longer running
// and drops the batch, so no row is ever stored after the cancel. The rows
// already stored stay, with their counters, until the job is deleted.
func (s *Service) Cancel(ctx context.Context, partnerID, by, jobID string) (Job, error) {
	j, err := s.Job(ctx, partnerID, jobID)
	if err != nil {
		return Job{}, err
	}
	switch j.State {
	case Uploading:
		return Job{}, ErrJobUploading
	case Queued, Running:
	default:
		return Job{}, ErrJobEnded
	}
	if err := s.audit.Record(ctx, audit.Entry{Actor: by, Action: ActCancel, Subject: "reconcile:" + jobID, Purpose: Purpose,
		Detail: "job " + jobID + " " + j.State}); err != nil {
		return Job{}, fmt.Errorf("reconcile: audit cancel: %w", err)
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		// The job row first: it is the row every batch commit updates, so
		// the cancel and a worker's commit take turns on it (PostgreSQL
		// row lock; SQLite's single writer).
		now := fmtTime(s.now())
		res, err := tx.ExecContext(ctx, `UPDATE reconcile_jobs SET state = $1, lease_owner = '', lease_until = '', updated_at = $2, finished_at = $2
			WHERE id = $3 AND state IN ('queued', 'running')`, Cancelled, now, jobID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrJobEnded // finished in the meantime
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM reconcile_chunks WHERE job_id = $1`, jobID); err != nil {
			return err
		}
		return deleteOpenReviews(ctx, tx, jobID)
	})
	if err != nil {
		if errors.Is(err, ErrJobEnded) {
			return Job{}, err
		}
		return Job{}, fmt.Errorf("reconcile: cancel: %w", err)
	}
	s.log.Info("reconcile job cancelled", "job", jobID)
	return s.Job(ctx, partnerID, jobID)
}

// deleteOpenReviews takes a stopped job's undecided rows out of the review
// queue. Decided ones stay with the job's results (they are its report).
func deleteOpenReviews(ctx context.Context, tx *sql.Tx, jobID string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM reconcile_review_units WHERE job_id = $1 AND row_num IN
		(SELECT row_num FROM reconcile_reviews WHERE job_id = $1 AND state = 'open')`, jobID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM reconcile_reviews WHERE job_id = $1 AND state = 'open'`, jobID)
	return err
}

// Delete removes a job of partnerID with everything it holds — results,
// review items (open or decided), the upload — on behalf of by. A queued
// or running job is cancelled by the delete itself, in the same
// transaction, so a partner needs one call; a worker working it drops its
// batch at its next commit. The audit log keeps that the job existed and
// what was disclosed from it.
func (s *Service) Delete(ctx context.Context, partnerID, by, jobID string) error {
	j, err := s.Job(ctx, partnerID, jobID)
	if err != nil {
		return err
	}
	if j.State == Uploading {
		return ErrJobUploading
	}
	if err := s.audit.Record(ctx, audit.Entry{Actor: by, Action: ActDelete, Subject: "reconcile:" + jobID, Purpose: Purpose,
		Detail: "job " + jobID + " " + j.State}); err != nil {
		return fmt.Errorf("reconcile: audit delete: %w", err)
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		// Lock the job row first, as a batch commit does (see Cancel).
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM reconcile_jobs WHERE id = $1`+s.db.ForUpdate(), jobID).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrJobNotFound // deleted in the meantime
		}
		if err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM reconcile_jobs WHERE id = $1`,
			`DELETE FROM reconcile_chunks WHERE job_id = $1`,
			`DELETE FROM reconcile_review_units WHERE job_id = $1`,
			`DELETE FROM reconcile_reviews WHERE job_id = $1`,
			`DELETE FROM reconcile_rows WHERE job_id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, jobID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrJobNotFound) {
			return err
		}
		return fmt.Errorf("reconcile: delete: %w", err)
	}
	s.log.Info("reconcile job deleted", "job", jobID, "state", j.State)
	return nil
}
