package exchange

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dancu-project/dancu/internal/storage"

	"github.com/dancu-project/dancu/internal/fault"
)

// limitError is a refusal the partner may retry after a wait.
type limitError struct {
	f    *fault.Error
	wait time.Duration
}

func (e *limitError) Error() string { return e.f.Error() }
func (e *limitError) Unwrap() error { return e.f }

// RetryAfter returns how long a partner refused by its rate limit or quota
// should wait before retrying.
func RetryAfter(err error) (time.Duration, bool) {
	var le *limitError
	if errors.As(err, &le) {
		return le.wait, true
	}
	return 0, false
}

// Limits enforces partners' rate limits (a token bucket per partner shared
// by the nodes, ratebucket.go) and daily quotas (counted across nodes in exchange_usage). A counted
// call is durable before Admit returns, so a crash (kill -9) right after an
// answer never loses its count: calls waiting at the same time share one
// transaction (group commit, at most one every commitEvery), which keeps the
// write off most calls' path at thousands of calls a second. The audit entry
// lives in another database (its own SQLite file), so the count cannot
// join its transaction; counting first and answering after gives the same
// guarantee, and a count whose call then fails errs on the partner's side
// of the quota only.
type Limits struct {
	db  *storage.DB
	now func() time.Time
	loc *time.Location

	mu       sync.Mutex
	buckets  map[string]*bucket     // tokens granted to this node (ratebucket.go)
	grantMu  map[string]*sync.Mutex // per partner, held by the one taking a grant
	usage    map[usageKey]*usage
	admitted uint64 // counted calls so far, on this node

	commitMu  sync.Mutex // held by the one writing the counts
	committed uint64     // admitted when the last successful write started
	lastWrite time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

type usageKey struct{ partner, day string }

type usage struct {
	durable int64 // the table's count when last read or written
	pending int64 // admitted here since
}

// FlushInterval is how often Run writes counts left by a failed write.
const FlushInterval = time.Second

// commitEvery paces the writes of counts: a call waits at most this much
// longer, and a busy node writes at most this often.
const commitEvery = time.Millisecond

// vietnam is UTC+7 all year; quotas reset at midnight there.
var vietnam = time.FixedZone("ICT", 7*3600)

// NewLimits returns the limiter; Run writes counts a failed write left.
func NewLimits(db *storage.DB, now func() time.Time) *Limits {
	return &Limits{db: db, now: now, loc: vietnam, buckets: map[string]*bucket{}, grantMu: map[string]*sync.Mutex{}, usage: map[usageKey]*usage{}}
}

// Admit counts one call of the partner, or refuses it with a wait. The
// count is in the database when Admit returns without error.
func (l *Limits) Admit(ctx context.Context, p Partner) error {
	pol := p.Policy
	now := l.now()
	if pol.RatePerSecond > 0 {
		if err := l.takeToken(ctx, p, now); err != nil {
			return err
		}
	}
	if pol.DailyQuota <= 0 {
		return nil
	}
	local := now.In(l.loc)
	key := usageKey{p.ID, local.Format(time.DateOnly)}
	l.mu.Lock()
	u := l.usage[key]
	l.mu.Unlock()
	if u == nil {
		// First call of the day on this node: learn what other nodes
		// counted.
		n, err := l.read(ctx, key.partner, key.day)
		if err != nil {
			return err
		}
		l.mu.Lock()
		if u = l.usage[key]; u == nil {
			u = &usage{durable: n}
			l.usage[key] = u
		}
		l.mu.Unlock()
	}
	l.mu.Lock()
	if u.durable+u.pending >= pol.DailyQuota {
		l.mu.Unlock()
		midnight := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, l.loc)
		return &limitError{f: ErrQuotaExhausted, wait: midnight.Sub(now)}
	}
	u.pending++
	l.admitted++
	mine := l.admitted
	l.mu.Unlock()
	return l.commit(ctx, mine)
}

// commit returns once the calls counted up to mine are in the table. One
// caller writes every count pending at that moment; the others wait for it
// and find theirs written.
func (l *Limits) commit(ctx context.Context, mine uint64) error {
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	if l.committed >= mine {
		return nil
	}
	if wait := commitEvery - time.Since(l.lastWrite); wait > 0 {
		time.Sleep(wait) // let more calls join this write
	}
	l.lastWrite = time.Now()
	return l.writeLocked(ctx)
}

// writeLocked adds the pending counts to the table in one transaction;
// called with commitMu held. Counts admitted meanwhile stay pending.
func (l *Limits) writeLocked(ctx context.Context) error {
	type item struct {
		key usageKey
		u   *usage
		n   int64
	}
	l.mu.Lock()
	upto := l.admitted
	today := l.now().In(l.loc).Format(time.DateOnly)
	var items []item
	for k, u := range l.usage {
		switch {
		case u.pending > 0:
			items = append(items, item{k, u, u.pending})
		case k.day != today:
			delete(l.usage, k) // a past day, all written
		}
	}
	l.mu.Unlock()
	totals := make([]int64, len(items))
	err := l.db.Tx(ctx, func(tx *sql.Tx) error {
		for i, it := range items {
			if err := tx.QueryRowContext(ctx, `INSERT INTO exchange_usage (partner_id, day, calls) VALUES ($1, $2, $3)
				ON CONFLICT (partner_id, day) DO UPDATE SET calls = exchange_usage.calls + excluded.calls RETURNING calls`, it.key.partner, it.key.day, it.n).Scan(&totals[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("count usage: %w", err)
	}
	l.mu.Lock()
	for i, it := range items {
		it.u.pending -= it.n
		it.u.durable = totals[i]
	}
	l.mu.Unlock()
	l.committed = upto
	return nil
}

func (l *Limits) read(ctx context.Context, partner, day string) (int64, error) {
	var n int64
	err := l.db.R.QueryRowContext(ctx, `SELECT calls FROM exchange_usage WHERE partner_id = $1 AND day = $2`, partner, day).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read usage: %w", err)
	}
	return n, nil
}

// Flush writes the calls counted but not yet written (a failed write
// leaves them pending).
func (l *Limits) Flush(ctx context.Context) error {
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	return l.writeLocked(ctx)
}

// Run flushes every FlushInterval until ctx ends, then once more.
func (l *Limits) Run(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := l.Flush(context.Background()); err != nil {
				log.Warn("partner usage flush", "err", err)
			}
			return
		case <-t.C:
			if err := l.Flush(ctx); err != nil {
				log.Warn("partner usage flush", "err", err)
			}
		}
	}
}

// Usage returns a partner's calls on a day (yyyy-mm-dd, Vietnam time) as
// the table has them.
func (l *Limits) Usage(ctx context.Context, partner, day string) (int64, error) {
	return l.read(ctx, partner, day)
}

// ErrVerifyLimited refuses a verify that tries yet another set of values
// against a person the partner already verified with as many different
// sets as its policy allows today.
var ErrVerifyLimited = fault.New(fault.Limited, "policy.verify_values_exhausted",
	"Đối tác đã đối chiếu quá nhiều bộ thông tin khác nhau cho công dân này trong ngày; vui lòng thử lại vào ngày mai.",
	"Too many different values verified against this person today; retry tomorrow.")

// Probes bound the different values a partner verifies against one person
// per day (Policy.VerifyValuesPerPerson): without a bound, a partner that
// may only check a birth date could find it by trying dates one after
// another. Each different set of values is a row of
// exchange_verify_probes, so the bound holds across restarts and nodes;
// this node remembers the rows it has seen, so verifying the same values
// again (a bank checking its customers every day) costs no write.
// Concurrent first tries of different values on two PostgreSQL nodes may
// each see the other's row missing: the bound can be passed by as many
// calls as run at the same moment, never by a sequence of calls.
type Probes struct {
	db  *storage.DB
	now func() time.Time

	mu      sync.Mutex
	seen    map[probeKey]struct{}
	cleaned string // the day old rows were last deleted
}

type probeKey struct{ partner, pin, day, digest string }

// NewProbes returns the probe limiter on db.
func NewProbes(db *storage.DB, now func() time.Time) *Probes {
	return &Probes{db: db, now: now, seen: map[probeKey]struct{}{}}
}

// Admit records that the partner verified values with digest against the
// person and refuses when they are new and the partner already used limit
// different ones today. The refusal carries the wait until midnight.
func (pr *Probes) Admit(ctx context.Context, partner, pin, digest string, limit int) error {
	now := pr.now().In(vietnam)
	day := now.Format(time.DateOnly)
	k := probeKey{partner, pin, day, digest}
	pr.mu.Lock()
	_, seen := pr.seen[k]
	clean := pr.cleaned != day
	pr.mu.Unlock()
	if seen {
		return nil
	}
	if clean {
		if _, err := pr.db.W.ExecContext(ctx, `DELETE FROM exchange_verify_probes WHERE day < $1`, day); err != nil {
			return fmt.Errorf("verify probes: %w", err)
		}
		pr.mu.Lock()
		pr.cleaned = day
		pr.mu.Unlock()
	}
	refused := false
	err := pr.db.Tx(ctx, func(tx *sql.Tx) error {
		// Insert first: on SQLite it takes the write lock, so the count
		// below sees every other node's rows.
		res, err := tx.ExecContext(ctx, `INSERT INTO exchange_verify_probes (partner_id, pin, day, digest) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, partner, pin, day, digest)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // tried before, maybe on another node
		}
		var count int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM exchange_verify_probes WHERE partner_id = $1 AND pin = $2 AND day = $3`, partner, pin, day).Scan(&count); err != nil {
			return err
		}
		if count > limit {
			refused = true
			return errRollback
		}
		return nil
	})
	if refused {
		midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, vietnam)
		return &limitError{f: ErrVerifyLimited, wait: midnight.Sub(now)}
	}
	if err != nil {
		return fmt.Errorf("verify probes: %w", err)
	}
	pr.mu.Lock()
	if len(pr.seen) > 200_000 {
		clear(pr.seen)
	}
	pr.seen[k] = struct{}{}
	pr.mu.Unlock()
	return nil
}

// errRollback ends a transaction that must leave nothing behind.
var errRollback = errors.New("rollback")
