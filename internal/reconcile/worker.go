package reconcile

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/match"
	"github.com/dancu-project/dancu/internal/reconcile/ingest"
	"github.com/dancu-project/dancu/internal/storage"
)

// WorkerOptions tune a worker; zero values take the defaults.
type WorkerOptions struct {
	ID    string        // lease owner name, for the log (a random suffix is added)
	Batch int           // rows per batch and per commit (default 1000)
	Lease time.Duration // how long a claim holds without a commit (default 2 min)
	Poll  time.Duration // how often an idle worker looks for jobs (default 2 s)
}

// Worker claims jobs and works through them.
type Worker struct {
	s          *Service
	m          Matcher
	id         string
	batch      int
	lease      time.Duration
	poll       time.Duration
	AfterBatch func(job string, rows int64) // test hook: called after each committed batch
}

// NewWorker makes a worker matching with m.
func (s *Service) NewWorker(m Matcher, o WorkerOptions) *Worker {
	if o.Batch <= 0 {
		o.Batch = 1000
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.ID == "" {
		o.ID = "worker"
	}
	return &Worker{s: s, m: m, id: o.ID + "-" + storage.NewID()[:8], batch: min(o.Batch, 2000), lease: o.Lease, poll: o.Poll}
}

// errLeaseLost means this worker no longer holds the job: another worker
// took it over (this one was too slow to commit) and redoes the batch, or
// the partner cancelled or deleted it. Either way the batch is dropped.
var errLeaseLost = errors.New("reconcile: lease lost")

// Run works until ctx ends. A job interrupted by ctx keeps its checkpoint
// and is released for the next worker.
func (w *Worker) Run(ctx context.Context) {
	for {
		// What deleted jobs left (a delete removes only a few seconds'
		// worth itself), before the next job.
		if err := w.s.PurgeDeleted(ctx); err != nil && ctx.Err() == nil {
			w.s.log.Error("reconcile purge", "worker", w.id, "err", err)
		}
		worked, err := w.RunOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			w.s.log.Error("reconcile worker", "worker", w.id, "err", err)
		}
		if worked && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(w.poll):
		}
	}
}

// RunOnce claims one job and works it to the end. It reports whether there
// was a job.
func (w *Worker) RunOnce(ctx context.Context) (bool, error) {
	id, err := w.claim(ctx)
	if err != nil || id == "" {
		return false, err
	}
	err = w.work(ctx, id)
	if ctx.Err() != nil || err != nil && !errors.Is(err, errLeaseLost) {
		// Let the next worker (after a restart, or another node) go on
		// from the checkpoint at once.
		w.release(id)
	}
	if errors.Is(err, errLeaseLost) {
		return true, nil
	}
	return true, err
}

func (w *Worker) claim(ctx context.Context) (string, error) {
	now := w.s.now()
	var id string
	err := w.s.db.Tx(ctx, func(tx *sql.Tx) error {
		q := `SELECT id FROM reconcile_jobs WHERE state IN ('queued', 'running') AND lease_until < $1 ORDER BY created_at, id LIMIT 1`
		if w.s.db.Dialect == storage.Postgres {
			q += ` FOR UPDATE SKIP LOCKED`
		}
		err := tx.QueryRowContext(ctx, q, fmtTime(now)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			id = ""
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE reconcile_jobs SET state = $1, lease_owner = $2, lease_until = $3, updated_at = $4 WHERE id = $5`,
			Running, w.id, fmtTime(now.Add(w.lease)), fmtTime(now), id)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("reconcile: claim: %w", err)
	}
	return id, nil
}

func (w *Worker) release(id string) {
	w.s.db.W.ExecContext(context.Background(), `UPDATE reconcile_jobs SET lease_until = '' WHERE id = $1 AND lease_owner = $2`, id, w.id)
}

// work parses the job's text from its checkpoint and commits batch after
// batch.
func (w *Worker) work(ctx context.Context, id string) error {
	var hdrText, partnerID, purpose string
	var pos ingest.Position
	err := w.s.db.R.QueryRowContext(ctx, `SELECT header, next_offset, next_line, rows_read, partner_id, purpose FROM reconcile_jobs WHERE id = $1`, id).
		Scan(&hdrText, &pos.Offset, &pos.Line, &pos.Row, &partnerID, &purpose)
	if err != nil {
		return fmt.Errorf("reconcile: load job: %w", err)
	}
	// The partner's policy as it stands now: a partner no longer allowed
	// to reconcile for this purpose gets no further row matched.
	pol, err := w.s.policyOf(ctx, partnerID, purpose)
	if f := (*fault.Error)(nil); errors.As(err, &f) {
		return w.fail(ctx, id, f.Code)
	}
	if err != nil {
		return err
	}
	var hdr ingest.Header
	if err := json.Unmarshal([]byte(hdrText), &hdr); err != nil {
		return w.fail(ctx, id, "reconcile.job.header")
	}
	src, err := openChunks(ctx, w.s.db, id, pos.Offset)
	if err != nil {
		return err
	}
	p := ingest.NewParser(src, hdr, pos)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// A cancelled or deleted job stops here, before its next batch is
		// matched; the commit checks again, so a cancel that lands during
		// the batch still keeps it out.
		if err := w.holds(ctx, id); err != nil {
			return err
		}
		rows, err := w.read(p)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return w.finish(ctx, id)
		}
		if err := w.commit(ctx, id, pol, rows); err != nil {
			return err
		}
		if w.AfterBatch != nil {
			w.AfterBatch(id, rows[len(rows)-1].Num)
		}
	}
}

// holds reports errLeaseLost unless this worker still holds the job and it
// is running.
func (w *Worker) holds(ctx context.Context, id string) error {
	var state, owner string
	err := w.s.db.R.QueryRowContext(ctx, `SELECT state, lease_owner FROM reconcile_jobs WHERE id = $1`, id).Scan(&state, &owner)
	if errors.Is(err, sql.ErrNoRows) || err == nil && (state != Running || owner != w.id) {
		return errLeaseLost
	}
	if err != nil {
		return fmt.Errorf("reconcile: job state: %w", err)
	}
	return nil
}

func (w *Worker) read(p *ingest.Parser) ([]ingest.Row, error) {
	rows := make([]ingest.Row, 0, w.batch)
	for len(rows) < w.batch {
		r, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reconcile: read rows: %w", err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// result is one row's outcome as stored.
type result struct {
	row         ingest.Row
	key         string
	outcome     string
	pin         string
	confidence  float64
	differences string
	dead        bool
	errCode     string
	dupOf       int64
	samePerson  int64 // the first row matched to the same PIN
	place       Place // where the matched person lives
	candidates  []match.Candidate
	places      map[string][]Place
}

func (w *Worker) commit(ctx context.Context, id string, pol jobPolicy, rows []ingest.Row) error {
	res := make([]result, len(rows))
	seen := map[string]int64{}
	var keys []string
	for i, r := range rows {
		res[i].row = r
		if r.Err != nil {
			res[i].outcome, res[i].errCode = OutcomeError, r.Err.Code
			continue
		}
		k := r.Key()
		res[i].key = k
		if first, ok := seen[k]; ok {
			res[i].outcome, res[i].dupOf = OutcomeDuplicate, first
			continue
		}
		seen[k] = r.Num
		keys = append(keys, k)
	}
	earlier, err := w.earlierKeys(ctx, id, keys)
	if err != nil {
		return err
	}
	var recs []match.Record
	var idx []int
	for i := range res {
		if res[i].outcome != "" {
			continue
		}
		if first, ok := earlier[res[i].key]; ok {
			res[i].outcome, res[i].dupOf = OutcomeDuplicate, first
			continue
		}
		recs = append(recs, res[i].row.Record)
		idx = append(idx, i)
	}
	if len(recs) > 0 {
		got, err := w.m.Match(ctx, recs)
		if err != nil {
			return fmt.Errorf("reconcile: match: %w", err)
		}
		if len(got) != len(recs) {
			return fmt.Errorf("reconcile: matcher returned %d results for %d records", len(got), len(recs))
		}
		// Where every person named lives, in one call: the partner's unit
		// scope applies to matches and to review candidates alike.
		var pins []string
		for _, m := range got {
			switch m.Outcome {
			case match.Matched:
				pins = append(pins, m.PIN)
			case match.Ambiguous:
				for _, c := range m.Candidates {
					pins = append(pins, c.PIN)
				}
			}
		}
		places := map[string][]Place{}
		if len(pins) > 0 {
			if places, err = w.s.places.Places(ctx, pins); err != nil {
				return fmt.Errorf("reconcile: units of the persons found: %w", err)
			}
		}
		var matchedPINs []string
		for k, m := range got {
			r := &res[idx[k]]
			r.outcome, r.confidence = string(m.Outcome), m.Confidence
			switch m.Outcome {
			case match.Matched:
				pl := firstPlace(places[m.PIN])
				if !pol.disclose(Linked{PIN: m.PIN, Place: pl}).InScope {
					// Outside the partner's unit: a row like one that
					// names nobody, in the counters and the report alike.
					r.outcome, r.confidence = string(match.NotFound), 0
					continue
				}
				r.pin, r.dead, r.place = m.PIN, m.Dead, pl
				r.differences = encodeDiffs(m.Differences)
				matchedPINs = append(matchedPINs, m.PIN)
			case match.Ambiguous:
				// Only candidates the partner may be told about go to a
				// registrar; with none left the row names nobody.
				for _, c := range m.Candidates {
					if pol.disclose(Linked{PIN: c.PIN, Place: firstPlace(places[c.PIN])}).InScope {
						r.candidates = append(r.candidates, c)
					}
				}
				if len(r.candidates) == 0 {
					r.outcome, r.confidence = string(match.NotFound), 0
					continue
				}
				r.places = places
			}
		}
		if err := w.samePerson(ctx, id, res, matchedPINs); err != nil {
			return err
		}
	}
	return w.s.db.Tx(ctx, func(tx *sql.Tx) error { return w.write(ctx, tx, id, res) })
}

// samePerson points each matched row of the batch whose PIN an earlier row
// of the job already named at the first such row: first the committed
// rows of earlier batches (the database, so it holds across workers and
// restarts: a batch and its rows commit together) and the rows registrars
// have decided meanwhile, then earlier rows of this batch.
func (w *Worker) samePerson(ctx context.Context, id string, res []result, pins []string) error {
	if len(pins) == 0 {
		return nil
	}
	first, err := w.earlier(ctx, id, `SELECT pin, min(row_num) FROM (`+rowsNaming+`) named GROUP BY pin`, pins)
	if err != nil {
		return fmt.Errorf("reconcile: same person: %w", err)
	}
	for i := range res {
		r := &res[i]
		if r.pin == "" {
			continue
		}
		if n, ok := first[r.pin]; ok {
			r.samePerson = n
			continue
		}
		first[r.pin] = r.row.Num
	}
	return nil
}

// earlierKeys finds which keys already occur in rows of earlier batches.
func (w *Worker) earlierKeys(ctx context.Context, id string, keys []string) (map[string]int64, error) {
	out, err := w.earlier(ctx, id, `SELECT dup_key, min(row_num) FROM reconcile_rows WHERE job_id = $1 AND outcome <> 'duplicate'
			AND dup_key IN (%s) GROUP BY dup_key`, keys)
	if err != nil {
		return nil, fmt.Errorf("reconcile: duplicates: %w", err)
	}
	return out, nil
}

// rowsNaming are the (pin, row_num) of a job's ($1) rows that name one of
// the persons listed at %[1]s: rows the worker matched and rows a
// registrar decided. The worker and a registrar's decision both look a
// person's first row up in it.
const rowsNaming = `SELECT pin, row_num FROM reconcile_rows WHERE job_id = $1 AND pin <> '' AND pin IN (%[1]s)
	UNION ALL
	SELECT decision_pin, row_num FROM reconcile_reviews WHERE job_id = $1 AND state = 'decided' AND decision_pin IN (%[1]s)`

// earlier runs query — job id as $1, "%[1]s" (once or more) for the list of values — over
// values 500 at a time and collects its (value, row) pairs.
func (w *Worker) earlier(ctx context.Context, id, query string, values []string) (map[string]int64, error) {
	out := map[string]int64{}
	keys := values
	for len(keys) > 0 {
		n := min(len(keys), 500)
		part := keys[:n]
		keys = keys[n:]
		args := []any{id}
		ph := make([]string, len(part))
		for i, k := range part {
			args = append(args, k)
			ph[i] = fmt.Sprintf("$%d", i+2)
		}
		rows, err := w.s.db.R.QueryContext(ctx, fmt.Sprintf(query, strings.Join(ph, ",")), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k string
			var n int64
			if err := rows.Scan(&k, &n); err != nil {
				rows.Close()
				return nil, err
			}
			out[k] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// write commits a batch: the checkpoint and counters move only if this
// worker still holds the lease, in the same transaction as the rows.
func (w *Worker) write(ctx context.Context, tx *sql.Tx, id string, res []result) error {
	var c Progress
	for _, r := range res {
		switch r.outcome {
		case string(match.Matched):
			c.Matched++
			if r.samePerson > 0 {
				c.SamePerson++
			}
		case string(match.Ambiguous):
			c.Ambiguous++
		case string(match.NotFound):
			c.NotFound++
		case OutcomeDuplicate:
			c.Duplicates++
		default:
			c.Errors++
		}
	}
	end := res[len(res)-1].row.End
	now := w.s.now()
	out, err := tx.ExecContext(ctx, `UPDATE reconcile_jobs SET next_offset = $1, next_line = $2, rows_read = $3,
		matched = matched + $4, ambiguous = ambiguous + $5, not_found = not_found + $6, errors = errors + $7, duplicates = duplicates + $8,
		same_person = same_person + $9, lease_until = $10, updated_at = $11 WHERE id = $12 AND lease_owner = $13 AND state = 'running'`,
		end.Offset, end.Line, end.Row, c.Matched, c.Ambiguous, c.NotFound, c.Errors, c.Duplicates, c.SamePerson,
		fmtTime(now.Add(w.lease)), fmtTime(now), id, w.id)
	if err != nil {
		return fmt.Errorf("reconcile: checkpoint: %w", err)
	}
	if n, _ := out.RowsAffected(); n != 1 {
		return errLeaseLost
	}
	args := make([]any, 0, len(res)*15)
	for _, r := range res {
		dead := 0
		if r.dead {
			dead = 1
		}
		args = append(args, id, r.row.Num, r.row.Line, r.row.Record.Ref, r.key, r.outcome, r.pin, r.confidence, r.differences,
			dead, r.errCode, r.dupOf, r.samePerson, r.place.Province, r.place.Commune)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO reconcile_rows (job_id, row_num, line, ref, dup_key, outcome, pin, confidence,
		differences, dead, error_code, duplicate_of, same_person_as, province, commune) VALUES `+w.s.db.Values(len(res), 15), args...); err != nil {
		return fmt.Errorf("reconcile: store rows: %w", err)
	}
	created := fmtTime(now)
	for _, r := range res {
		if r.outcome != string(match.Ambiguous) {
			continue
		}
		rec, _ := json.Marshal(r.row.Record)
		cands, _ := json.Marshal(r.candidates)
		if _, err := tx.ExecContext(ctx, `INSERT INTO reconcile_reviews (job_id, row_num, partner_id, record, candidates, state, created_at)
			SELECT $1, $2, partner_id, $3, $4, 'open', $5 FROM reconcile_jobs WHERE id = $1`,
			id, r.row.Num, string(rec), string(cands), created); err != nil {
			return fmt.Errorf("reconcile: queue review: %w", err)
		}
		for _, c := range r.candidates {
			for _, pl := range r.places[c.PIN] {
				if _, err := tx.ExecContext(ctx, `INSERT INTO reconcile_review_units (job_id, row_num, pin, province, commune)
					VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, id, r.row.Num, c.PIN, pl.Province, pl.Commune); err != nil {
					return fmt.Errorf("reconcile: review scope: %w", err)
				}
			}
		}
	}
	return nil
}

// finish marks the job done and drops its upload: the results hold all the
// report needs, and the partner's raw file — personal data — is kept no
// longer than its processing (and would otherwise fill the database with
// every 10-million-row file ever sent).
func (w *Worker) finish(ctx context.Context, id string) error {
	now := fmtTime(w.s.now())
	err := w.s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE reconcile_jobs SET state = $1, lease_owner = '', lease_until = '', updated_at = $2, finished_at = $2
			WHERE id = $3 AND lease_owner = $4 AND state = 'running'`, Done, now, id, w.id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil // another worker holds the job now and finishes it, or it was cancelled or deleted
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM reconcile_chunks WHERE job_id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("reconcile: finish: %w", err)
	}
	w.s.log.Info("reconcile job done", "job", id)
	return nil
}

func (w *Worker) fail(ctx context.Context, id, code string) error {
	_, err := w.s.db.W.ExecContext(ctx, `UPDATE reconcile_jobs SET state = $1, failure = $2, updated_at = $3 WHERE id = $4 AND lease_owner = $5 AND state = 'running'`,
		Failed, code, fmtTime(w.s.now()), id, w.id)
	return err
}

// encodeDiffs writes differences as "field:kind;field:kind", the report's
// column format.
func encodeDiffs(ds []match.Difference) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.Field + ":" + d.Kind
	}
	return strings.Join(parts, ";")
}
