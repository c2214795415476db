package audit

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/storage"
)

// The subject index answers "who read this person's data" without slowing
// down the appends. A B-tree keyed by subject and written with each entry
// dirties one random page per entry, which on SQLite cost about 45 µs of the
// 55 µs an audited read spent in the log. Instead the index is built behind
// the chain, in runs:
//
//   - a level-0 run holds the (subject, seq) pairs of up to RunSize entries
//     after the head's upto, sorted, under a run id larger than any before,
//     so its rows go to the right edge of the table (sequential pages);
//   - when a level holds Fanout live runs, they are merged into one run of
//     the next level, a chunk at a time (each chunk a short transaction, so
//     the group commit never waits long), and become dead once the new run
//     is live; dead runs' rows are deleted a chunk at a time.
//
// A reader sees the live runs plus the entries after upto, in one statement
// and so in one snapshot: the index is never needed for correctness, only
// for speed, and an entry is in the subject's log the moment it commits.

// Run states.
const (
	runBuilding = "building"
	runLive     = "live"
	runDead     = "dead"
)

// Indexer keeps the subject index up to date. Several nodes may run one on
// the same database: each step locks the index head first.
type Indexer struct {
	DB  *storage.DB
	Log *slog.Logger
	// RunSize is the most entries of a level-0 run; Fanout how many runs of
	// a level are merged; Chunk the rows one merge or delete step moves.
	RunSize, Fanout, Chunk int
	// Interval is how long a small tail may wait before it becomes a run.
	Interval time.Duration
}

// NewIndexer returns an indexer with the sizes used in production.
func NewIndexer(db *storage.DB, log *slog.Logger) *Indexer {
	return &Indexer{DB: db, Log: log, RunSize: 4096, Fanout: 8, Chunk: 2048, Interval: 500 * time.Millisecond}
}

// Run works until ctx ends: whenever there is work it does it step by
// step, else it waits Interval.
func (ix *Indexer) Run(ctx context.Context) {
	last := time.Now()
	for ctx.Err() == nil {
		flush := time.Since(last) >= ix.Interval
		worked, err := ix.Step(ctx, flush)
		if err != nil && ctx.Err() == nil {
			ix.Log.Warn("audit subject index", "err", err)
			worked = false
		}
		if flush {
			last = time.Now()
		}
		if worked {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(ix.Interval / 4):
		}
	}
}

// Step does one short transaction of work and reports whether there was
// any. With flush, a tail shorter than RunSize is indexed too.
func (ix *Indexer) Step(ctx context.Context, flush bool) (bool, error) {
	var worked bool
	err := ix.DB.Tx(ctx, func(tx *sql.Tx) error {
		var upto, next, head int64
		if err := tx.QueryRowContext(ctx, `SELECT upto, next_run FROM audit_index_head WHERE id = 1`+ix.DB.ForUpdate()).Scan(&upto, &next); err != nil {
			return fmt.Errorf("read index head: %w", err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM audit_head WHERE id = 1`).Scan(&head); err != nil {
			return fmt.Errorf("read log head: %w", err)
		}
		// New entries come first, so that a long merge never lets the
		// unindexed tail, which every reader scans, grow.
		var err error
		if head-upto >= int64(ix.RunSize) || flush && head > upto {
			if worked, err = ix.buildRun(ctx, tx, upto, next); worked || err != nil {
				return err
			}
		}
		if worked, err = ix.mergeChunk(ctx, tx); worked || err != nil {
			return err
		}
		if worked, err = ix.startMerge(ctx, tx, next); worked || err != nil {
			return err
		}
		worked, err = ix.deleteDead(ctx, tx)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("audit index: %w", err)
	}
	return worked, nil
}

type pair struct {
	subject string
	seq     int64
}

func comparePairs(a, b pair) int {
	return cmp.Or(strings.Compare(a.subject, b.subject), cmp.Compare(a.seq, b.seq))
}

// buildRun turns the oldest unindexed entries into a live level-0 run.
func (ix *Indexer) buildRun(ctx context.Context, tx *sql.Tx, upto, next int64) (bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, subject FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2`, upto, ix.RunSize)
	if err != nil {
		return false, fmt.Errorf("read tail: %w", err)
	}
	var ps []pair
	for rows.Next() {
		var p pair
		if err := rows.Scan(&p.seq, &p.subject); err != nil {
			rows.Close()
			return false, err
		}
		ps = append(ps, p)
	}
	if err := rows.Close(); err != nil {
		return false, err
	}
	if len(ps) == 0 {
		return false, nil
	}
	last := ps[len(ps)-1].seq
	slices.SortFunc(ps, comparePairs)
	if err := ix.insertPairs(ctx, tx, next, ps); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_subject_runs (id, level, state, entries) VALUES ($1, 0, $2, $3)`, next, runLive, len(ps)); err != nil {
		return false, fmt.Errorf("add run: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_index_head SET upto = $1, next_run = $2 WHERE id = 1`, last, next+1); err != nil {
		return false, fmt.Errorf("move index head: %w", err)
	}
	return true, nil
}

func (ix *Indexer) insertPairs(ctx context.Context, tx *sql.Tx, run int64, ps []pair) error {
	const perStatement = 1000
	for len(ps) > 0 {
		n := min(len(ps), perStatement)
		args := make([]any, 0, 3*n)
		for _, p := range ps[:n] {
			args = append(args, run, p.subject, p.seq)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_subject (run, subject, seq) VALUES `+ix.DB.Values(n, 3), args...); err != nil {
			return fmt.Errorf("write run %d: %w", run, err)
		}
		ps = ps[n:]
	}
	return nil
}

// startMerge picks the lowest level holding Fanout live runs and starts
// building their merge under a new run id.
func (ix *Indexer) startMerge(ctx context.Context, tx *sql.Tx, next int64) (bool, error) {
	var building int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM audit_subject_runs WHERE state = $1`, runBuilding).Scan(&building); err != nil {
		return false, err
	}
	if building > 0 {
		return false, nil
	}
	var level int
	err := tx.QueryRowContext(ctx, `SELECT level FROM audit_subject_runs WHERE state = $1 AND level < 99
		GROUP BY level HAVING count(*) >= $2 ORDER BY level LIMIT 1`, runLive, ix.Fanout).Scan(&level)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("find runs to merge: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_subject_runs (id, level, state, entries) VALUES ($1, $2, $3, 0)`, next, level+1, runBuilding); err != nil {
		return false, fmt.Errorf("start merge: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_subject_runs SET into_run = $1 WHERE id IN (
		SELECT id FROM audit_subject_runs WHERE state = $2 AND level = $3 ORDER BY id LIMIT $4)`, next, runLive, level, ix.Fanout); err != nil {
		return false, fmt.Errorf("start merge: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_index_head SET next_run = $1 WHERE id = 1`, next+1); err != nil {
		return false, fmt.Errorf("move index head: %w", err)
	}
	return true, nil
}

// mergeChunk moves the next Chunk pairs of the runs being merged into the
// run being built, and makes it live when the sources are used up.
func (ix *Indexer) mergeChunk(ctx context.Context, tx *sql.Tx) (bool, error) {
	var run, entries int64
	var cursor pair
	err := tx.QueryRowContext(ctx, `SELECT id, entries, cursor_subject, cursor_seq FROM audit_subject_runs WHERE state = $1 ORDER BY id LIMIT 1`,
		runBuilding).Scan(&run, &entries, &cursor.subject, &cursor.seq)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("find merge: %w", err)
	}
	sources, err := ix.sources(ctx, tx, run)
	if err != nil {
		return false, err
	}
	// The first Chunk pairs of the merge are among the first Chunk pairs
	// after the cursor of each source.
	var merged []pair
	exhausted := true
	for _, src := range sources {
		ps, err := ix.pairsAfter(ctx, tx, src, cursor, ix.Chunk)
		if err != nil {
			return false, err
		}
		if len(ps) == ix.Chunk {
			exhausted = false
		}
		merged = append(merged, ps...)
	}
	slices.SortFunc(merged, comparePairs)
	if len(merged) > ix.Chunk {
		merged, exhausted = merged[:ix.Chunk], false
	}
	if err := ix.insertPairs(ctx, tx, run, merged); err != nil {
		return false, err
	}
	entries += int64(len(merged))
	if len(merged) > 0 {
		cursor = merged[len(merged)-1]
	}
	if !exhausted {
		_, err := tx.ExecContext(ctx, `UPDATE audit_subject_runs SET entries = $1, cursor_subject = $2, cursor_seq = $3 WHERE id = $4`,
			entries, cursor.subject, cursor.seq, run)
		return true, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_subject_runs SET state = $1 WHERE into_run = $2`, runDead, run); err != nil {
		return false, fmt.Errorf("retire merged runs: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_subject_runs SET state = $1, entries = $2 WHERE id = $3`, runLive, entries, run); err != nil {
		return false, fmt.Errorf("finish merge: %w", err)
	}
	return true, nil
}

func (ix *Indexer) sources(ctx context.Context, tx *sql.Tx, run int64) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM audit_subject_runs WHERE into_run = $1 ORDER BY id`, run)
	if err != nil {
		return nil, fmt.Errorf("merge sources: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// pairsAfter reads up to n pairs of a run after a cursor, in key order.
func (ix *Indexer) pairsAfter(ctx context.Context, tx *sql.Tx, run int64, after pair, n int) ([]pair, error) {
	rows, err := tx.QueryContext(ctx, `SELECT subject, seq FROM audit_subject
		WHERE run = $1 AND subject >= $2 AND (subject > $2 OR seq > $3) ORDER BY subject, seq LIMIT $4`, run, after.subject, after.seq, n)
	if err != nil {
		return nil, fmt.Errorf("read run %d: %w", run, err)
	}
	defer rows.Close()
	ps := make([]pair, 0, n)
	for rows.Next() {
		var p pair
		if err := rows.Scan(&p.subject, &p.seq); err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// deleteDead removes up to Chunk rows of a dead run, and the run once it
// is empty.
func (ix *Indexer) deleteDead(ctx context.Context, tx *sql.Tx) (bool, error) {
	var run int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM audit_subject_runs WHERE state = $1 ORDER BY id LIMIT 1`, runDead).Scan(&run)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("find dead run: %w", err)
	}
	var last pair
	err = tx.QueryRowContext(ctx, `SELECT subject, seq FROM audit_subject WHERE run = $1 ORDER BY subject, seq LIMIT 1 OFFSET $2`,
		run, ix.Chunk-1).Scan(&last.subject, &last.seq)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM audit_subject WHERE run = $1`, run); err != nil {
			return false, fmt.Errorf("delete run %d: %w", run, err)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM audit_subject_runs WHERE id = $1`, run)
		return true, err
	}
	if err != nil {
		return false, fmt.Errorf("read dead run: %w", err)
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM audit_subject WHERE run = $1 AND subject <= $2 AND (subject < $2 OR seq <= $3)`, run, last.subject, last.seq)
	return true, err
}

// IndexState tells an operator how far the subject index is behind.
type IndexState struct {
	Upto      int64 // entries up to this one are in live runs
	Head      int64 // the newest entry
	LiveRuns  int
	Building  bool
	DeadRuns  int
	Indexed   int64 // pairs in live runs
	Unindexed int64 // Head - Upto
}

// ReadIndexState reads the index's progress, for metrics and tests.
func ReadIndexState(ctx context.Context, db *storage.DB) (IndexState, error) {
	var s IndexState
	var building int
	err := db.R.QueryRowContext(ctx, `SELECT (SELECT upto FROM audit_index_head WHERE id = 1), (SELECT seq FROM audit_head WHERE id = 1),
		(SELECT count(*) FROM audit_subject_runs WHERE state = 'live'), (SELECT count(*) FROM audit_subject_runs WHERE state = 'building'),
		(SELECT count(*) FROM audit_subject_runs WHERE state = 'dead'),
		(SELECT coalesce(sum(entries), 0) FROM audit_subject_runs WHERE state = 'live')`).Scan(&s.Upto, &s.Head, &s.LiveRuns, &building, &s.DeadRuns, &s.Indexed)
	if err != nil {
		return s, fmt.Errorf("audit index state: %w", err)
	}
	s.Building = building > 0
	s.Unindexed = s.Head - s.Upto
	return s, nil
}
