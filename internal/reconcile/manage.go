package reconcile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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
//
// The job leaves every list and lookup in that first transaction (state
// deleting); what it holds is then removed in short transactions
// (PurgeDeleted), a few seconds' worth before Delete returns and the rest
// by the workers: one transaction for a 10-million-row job would hold
// SQLite's single writer, and with it every registration, for minutes.
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
		// The job row, as a batch commit does (see Cancel): a worker's
		// next commit finds the job no longer running.
		res, err := tx.ExecContext(ctx, `UPDATE reconcile_jobs SET state = $1, lease_owner = '', lease_until = '', updated_at = $2
			WHERE id = $3 AND state <> $1`, Deleting, fmtTime(s.now()), jobID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrJobNotFound // deleted in the meantime
		}
		// Out of the registrars' queue at once, as a cancel does.
		return deleteOpenReviews(ctx, tx, jobID)
	})
	if err != nil {
		if errors.Is(err, ErrJobNotFound) {
			return err
		}
		return fmt.Errorf("reconcile: delete: %w", err)
	}
	s.log.Info("reconcile job deleted", "job", jobID, "state", j.State)
	// The caller's request may end first; the workers finish the rest.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.purgeFor)
	defer cancel()
	if err := s.purgeJob(pctx, jobID); err != nil && pctx.Err() == nil {
		s.log.Warn("reconcile: purge deleted job", "job", jobID, "err", err)
	}
	return nil
}

// Deleted jobs are removed in batches: purgeFor is how long Delete itself
// removes, purgeBatch the rows of one transaction — short enough that a
// commit of the register waiting behind it is not noticed. An upload's
// chunks are far larger than rows: purgeChunks of them at a time.
const (
	purgeFor    = 5 * time.Second
	purgeBatch  = 5000
	purgeChunks = 16
)

// purgeTables are what a deleted job leaves, in the order removed, with
// the key a batch is taken by; chunks says the table holds upload chunks.
var purgeTables = []struct {
	table, key string
	chunks     bool
}{
	{"reconcile_review_units", "row_num", false},
	{"reconcile_reviews", "row_num", false},
	{"reconcile_rows", "row_num", false},
	{"reconcile_chunks", "seq", true},
}

// PurgeDeleted removes, a batch per transaction, what deleted jobs still
// hold, and then the jobs. Workers call it between jobs; it is safe on
// several nodes at once (a batch deletes what is there).
func (s *Service) PurgeDeleted(ctx context.Context) error {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id FROM reconcile_jobs WHERE state = $1`, Deleting)
	if err != nil {
		return fmt.Errorf("reconcile: purge: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("reconcile: purge: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reconcile: purge: %w", err)
	}
	for _, id := range ids {
		if err := s.purgeJob(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) purgeJob(ctx context.Context, id string) error {
	for _, t := range purgeTables {
		batch := s.purgeBatch
		if t.chunks {
			batch = purgeChunks
		}
		q := fmt.Sprintf(`DELETE FROM %[1]s WHERE job_id = $1 AND %[2]s IN (SELECT %[2]s FROM %[1]s WHERE job_id = $1 ORDER BY %[2]s LIMIT %[3]d)`,
			t.table, t.key, batch)
		for {
			res, err := s.db.W.ExecContext(ctx, q, id)
			if err != nil {
				return fmt.Errorf("reconcile: purge %s: %w", t.table, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				break
			}
		}
	}
	if _, err := s.db.W.ExecContext(ctx, `DELETE FROM reconcile_jobs WHERE id = $1 AND state = $2`, id, Deleting); err != nil {
		return fmt.Errorf("reconcile: purge job: %w", err)
	}
	return nil
}
