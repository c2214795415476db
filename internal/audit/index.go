package audit

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
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
	// CompactionShare bounds the time merges and deletes hold the writer:
	// after such a step the indexer rests so that it worked at most this
	// share of the time (0 or 1: no rest). On SQLite the index shares the
	// audit file's single writer with the group commit that every audited
	// request waits for, and a merge of the larger levels is hundreds of
	// steps: back to back they made each commit wait behind one, for
	// seconds. Runs of new entries are built without rest, so readers'
	// unindexed tail stays short; a merge that lags costs readers one more
	// run to look into, nothing more.
	CompactionShare float64
}

// NewIndexer returns an indexer with the sizes used in production.
func NewIndexer(db *storage.DB, log *slog.Logger) *Indexer {
	return &Indexer{DB: db, Log: log, RunSize: 1024, Fanout: 16, Chunk: 512, Interval: 500 * time.Millisecond, CompactionShare: 0.25}
}

// Run works until ctx ends: step after step while there is work, else it
// looks again a quarter of Interval later; a tail younger than Interval
// waits to fill a run.
func (ix *Indexer) Run(ctx context.Context) {
	last := time.Now()
	for ctx.Err() == nil {
		flush := time.Since(last) >= ix.Interval
		began := time.Now()
		did, err := ix.step(ctx, flush)
		if err != nil && ctx.Err() == nil {
			ix.Log.Warn("audit subject index", "err", err)
			did = idle
		}
		if flush {
			last = time.Now()
		}
		rest := ix.rest(did, time.Since(began))
		if rest == 0 {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(rest):
		}
	}
}

// rest is how long to wait after a step of kind did that took took: none
// after a run of new entries, enough after a merge or delete step that
// compaction holds the writer at most CompactionShare of the time, and a
// quarter of Interval when there was nothing to do.
func (ix *Indexer) rest(did stepKind, took time.Duration) time.Duration {
	switch did {
	case built:
		return 0
	case compacted:
		if ix.CompactionShare <= 0 || ix.CompactionShare >= 1 {
			return 0
		}
		return time.Duration(float64(took) * (1/ix.CompactionShare - 1))
	}
	return ix.Interval / 4
}

// Step does one short transaction of work and reports whether there was
// any. With flush, a tail shorter than RunSize is indexed too.
func (ix *Indexer) Step(ctx context.Context, flush bool) (bool, error) {
	did, err := ix.step(ctx, flush)
	return did != idle, err
}

// stepKind is what a step did: nothing, a run of new entries, or part of a
// merge or delete.
type stepKind int

const (
	idle stepKind = iota
	built
	compacted
)

func (ix *Indexer) step(ctx context.Context, flush bool) (stepKind, error) {
	did := idle
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
		if head-upto >= int64(ix.RunSize) || flush && head > upto {
			if worked, err := ix.buildRun(ctx, tx, upto, head, next); worked || err != nil {
				did = built
				return err
			}
		}
		worked, err := ix.mergeChunk(ctx, tx)
		if !worked && err == nil {
			worked, err = ix.startMerge(ctx, tx, next)
		}
		if !worked && err == nil {
			worked, err = ix.deleteDead(ctx, tx)
		}
		if worked {
			did = compacted
		}
		return err
	})
	if err != nil {
		return idle, fmt.Errorf("audit index: %w", err)
	}
	return did, nil
}

type pair struct {
	subject string
	seq     int64
}

func comparePairs(a, b pair) int {
	return cmp.Or(strings.Compare(a.subject, b.subject), cmp.Compare(a.seq, b.seq))
}

// buildRun turns the oldest unindexed entries into a live level-0 run.
// Sequence numbers have no gaps, so the run is the entries in (upto, last];
// SQLite or PostgreSQL sorts them, no row passes through Go.
func (ix *Indexer) buildRun(ctx context.Context, tx *sql.Tx, upto, head, next int64) (bool, error) {
	last := min(head, upto+int64(ix.RunSize))
	res, err := tx.ExecContext(ctx, `INSERT INTO audit_subject (run, subject, seq)
		SELECT $1, subject, seq FROM audit_log WHERE seq > $2 AND seq <= $3 ORDER BY subject, seq`, next, upto, last)
	if err != nil {
		return false, fmt.Errorf("write run %d: %w", next, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if n != last-upto {
		return false, fmt.Errorf("write run %d: entries %d to %d are %d rows, not %d", next, upto+1, last, n, last-upto)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_subject_runs (id, level, state, entries) VALUES ($1, 0, $2, $3)`, next, runLive, n); err != nil {
		return false, fmt.Errorf("add run: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_index_head SET upto = $1, next_run = $2 WHERE id = 1`, last, next+1); err != nil {
		return false, fmt.Errorf("move index head: %w", err)
	}
	return true, nil
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

// mergeChunk moves the next pairs of the runs being merged into the run
// being built, and makes it live when the sources are used up. A step
// moves every pair up to a bound: the smallest, over the sources, of the
// key Chunk/Fanout pairs after the cursor — so it moves between Chunk/Fanout
// and Chunk pairs, in one INSERT … SELECT.
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
	step := max(1, ix.Chunk/max(1, len(sources)))
	var bound *pair
	for _, src := range sources {
		var p pair
		err := tx.QueryRowContext(ctx, `SELECT subject, seq FROM audit_subject
			WHERE run = $1 AND subject >= $2 AND (subject > $2 OR seq > $3) ORDER BY subject, seq LIMIT 1 OFFSET $4`,
			src, cursor.subject, cursor.seq, step-1).Scan(&p.subject, &p.seq)
		if errors.Is(err, sql.ErrNoRows) {
			continue // fewer than step pairs left: they all go below any bound
		}
		if err != nil {
			return false, fmt.Errorf("read run %d: %w", src, err)
		}
		if bound == nil || comparePairs(p, *bound) < 0 {
			bound = &p
		}
	}
	list := inList(sources)
	moved, err := ix.copyPairs(ctx, tx, run, list, cursor, bound)
	if err != nil {
		return false, err
	}
	entries += moved
	if bound != nil {
		_, err := tx.ExecContext(ctx, `UPDATE audit_subject_runs SET entries = $1, cursor_subject = $2, cursor_seq = $3 WHERE id = $4`,
			entries, bound.subject, bound.seq, run)
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

// copyPairs copies the sources' pairs after the cursor, up to and with the
// bound (nil: all of them), into run, in key order.
func (ix *Indexer) copyPairs(ctx context.Context, tx *sql.Tx, run int64, sources string, after pair, bound *pair) (int64, error) {
	q := `INSERT INTO audit_subject (run, subject, seq) SELECT $1, subject, seq FROM audit_subject
		WHERE run IN (` + sources + `) AND subject >= $2 AND (subject > $2 OR seq > $3)`
	args := []any{run, after.subject, after.seq}
	if bound != nil {
		q += ` AND subject <= $4 AND (subject < $4 OR seq <= $5)`
		args = append(args, bound.subject, bound.seq)
	}
	res, err := tx.ExecContext(ctx, q+` ORDER BY subject, seq`, args...)
	if err != nil {
		return 0, fmt.Errorf("merge into run %d: %w", run, err)
	}
	return res.RowsAffected()
}

// inList writes ids as an SQL list; they are integers read from the
// database, never text from outside.
func inList(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
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
	Upto     int64 // entries up to this one are in live runs
	Head     int64 // the newest entry
	LiveRuns int
	Building bool
	DeadRuns int
	Indexed  int64 // pairs in live runs
}

// Unindexed is how many entries readers find by scanning the tail.
func (s IndexState) Unindexed() int64 { return s.Head - s.Upto }

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
	return s, nil
}
