package registry

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dancu-project/dancu/internal/storage"
)

// The partner verify path reads a person's Core thousands of times a
// second, and an SQLite point read costs 35–75 µs here — more than the
// rest of the call. cores keeps the Cores read recently in memory and stays
// exact the way a cache shared by several nodes can:
//
//   - every change of a person's row adds a row to person_changes in its own
//     transaction; each node polls that table every coresPoll and drops the
//     persons changed, and a node polls at once after its own changes, so
//     its own writes are seen by its next read;
//   - a read that started before a drop does not put its (maybe old) copy
//     in (the generation check in put);
//   - when polling has failed for coresStale, reads bypass the cache.
//
// On PostgreSQL change ids can commit out of order (a sequence hands them
// out before commit), so a poll looks back coresLookback ids and remembers
// which of them it has seen.
type cores struct {
	db  *storage.DB
	now func() time.Time
	max int

	mu    sync.Mutex
	m     map[string]Core
	gen   uint64
	last  int64
	seen  map[int64]bool
	fresh time.Time

	hits, misses atomic.Int64
}

const (
	coresPoll     = 100 * time.Millisecond
	coresStale    = time.Second
	coresLookback = 1000
	coresMax      = 200_000 // ≈ 40 MB
)

func newCores(db *storage.DB, now func() time.Time) *cores {
	return &cores{db: db, now: now, max: coresMax, m: map[string]Core{}, seen: map[int64]bool{}}
}

// get returns the cached Core of pin when the cache is fresh, and the
// generation a reader must hand to put after reading the database.
func (c *cores) get(pin string) (Core, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now().Sub(c.fresh) > coresStale {
		return Core{}, false, 0
	}
	core, ok := c.m[pin]
	if ok {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return core, ok, c.gen
}

// put keeps a Core read from the database, unless a change was noticed
// since the read began (gen).
func (c *cores) put(core Core, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || c.fresh.IsZero() {
		return
	}
	if len(c.m) >= c.max {
		// Map order is random: this drops a random tenth.
		n := c.max / 10
		for k := range c.m {
			delete(c.m, k)
			if n--; n <= 0 {
				break
			}
		}
	}
	c.m[core.PIN] = core
}

// poll drops the persons changed since the last poll.
func (c *cores) poll(ctx context.Context) error {
	c.mu.Lock()
	from, first := c.last, c.fresh.IsZero()
	c.mu.Unlock()
	if first {
		// Nothing is cached yet: start from the newest change.
		if err := c.db.R.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM person_changes`).Scan(&from); err != nil {
			return fmt.Errorf("poll person changes: %w", err)
		}
		c.mu.Lock()
		c.last = max(c.last, from)
		c.mu.Unlock()
	}
	if c.db.Dialect == storage.Postgres {
		from -= coresLookback
	}
	rows, err := c.db.R.QueryContext(ctx, `SELECT id, pin FROM person_changes WHERE id > $1 ORDER BY id`, from)
	if err != nil {
		return fmt.Errorf("poll person changes: %w", err)
	}
	defer rows.Close()
	type change struct {
		id  int64
		pin string
	}
	var changes []change
	for rows.Next() {
		var ch change
		if err := rows.Scan(&ch.id, &ch.pin); err != nil {
			return fmt.Errorf("poll person changes: %w", err)
		}
		changes = append(changes, ch)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("poll person changes: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range changes {
		if c.seen[ch.id] {
			continue
		}
		c.seen[ch.id] = true
		c.last = max(c.last, ch.id)
		delete(c.m, ch.pin)
		c.gen++
	}
	for id := range c.seen {
		if id <= c.last-coresLookback {
			delete(c.seen, id)
		}
	}
	c.fresh = c.now()
	return nil
}

// coresKeep is how many change rows stay in the table: far more than any
// poll looks back.
const coresKeep = 100_000

// run polls until ctx ends, and trims the change table now and then.
func (c *cores) run(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(coresPoll)
	defer t.Stop()
	var trimmed time.Time
	for {
		if err := c.poll(ctx); err != nil && ctx.Err() == nil {
			log.Warn("register cache", "err", err)
		}
		if c.now().Sub(trimmed) > time.Hour {
			trimmed = c.now()
			if _, err := c.db.W.ExecContext(ctx, `DELETE FROM person_changes WHERE id < (SELECT max(id) FROM person_changes) - $1`, coresKeep); err != nil && ctx.Err() == nil {
				log.Warn("register cache: trim changes", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// noteChange records that pin's row changed, in the change's transaction.
func noteChange(ctx context.Context, tx *sql.Tx, pin string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO person_changes (pin) VALUES ($1)`, pin); err != nil {
		return fmt.Errorf("note change: %w", err)
	}
	return nil
}

// CoreCacheStats are the hits and misses of the in-memory Cores since start.
type CoreCacheStats struct{ Hits, Misses int64 }

// CoreCacheStats reports the verify path's cache use, for metrics.
func (s *Service) CoreCacheStats() CoreCacheStats {
	return CoreCacheStats{Hits: s.cores.hits.Load(), Misses: s.cores.misses.Load()}
}

// RunCache keeps the in-memory Cores exact until ctx ends; without it
// every read goes to the database.
func (s *Service) RunCache(ctx context.Context, log *slog.Logger) { s.cores.run(ctx, log) }

// write runs fn as a register change and then polls the change table, so
// that this node's next read sees the change.
func (s *Service) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := s.db.Tx(ctx, fn); err != nil {
		return err
	}
	// The change is committed: a failed poll only delays the drop until
	// the next one, or until reads bypass the stale cache.
	_ = s.cores.poll(ctx)
	return nil
}
