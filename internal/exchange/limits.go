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
// by the nodes, ratebucket.go) and daily quotas (counted across nodes in
// exchange_usage).
//
// A call is counted in the table before it is admitted, so a crash (kill
// -9) right after an answer never loses its count; but the table is not
// written for every call. A node reserves a block of the day's quota in
// one write (quotaBlock: one call for a small quota, up to maxQuotaBlock
// for a large one) and admits calls out of it from memory, so a bank at
// 10,000 calls a second writes the count about forty times a second
// instead of a thousand (one group commit a millisecond before), and no
// call waits for a write that another call's block already covers. What a
// crash loses is the unspent part of a block, counted as used: it errs on
// the partner's side of the quota, by at most one block per node, never
// beyond it. A block unspent for quotaBlockTTL is given back (Flush, which
// Run calls every second), so a node that stopped calling does not hold
// calls another node needs. The audit entry lives in another database
// (its own SQLite file), so the count cannot join its transaction;
// counting first and answering after gives the same guarantee.
type Limits struct {
	db  *storage.DB
	now func() time.Time
	loc *time.Location

	mu      sync.Mutex
	buckets map[string]*bucket     // tokens granted to this node (ratebucket.go)
	grantMu map[string]*sync.Mutex // per partner, held by the one taking a grant
	usage   map[usageKey]*usage
	blockMu map[usageKey]*sync.Mutex // per partner and day, held by the one reserving
}

type bucket struct {
	tokens float64
	last   time.Time
}

type usageKey struct{ partner, day string }

// usage is a partner's day on this node.
type usage struct {
	spare    int64     // calls reserved in the table, not yet admitted
	reserved time.Time // when the last block was reserved
}

// FlushInterval is how often Run gives back blocks left unspent.
const FlushInterval = time.Second

// maxQuotaBlock bounds the calls one reservation covers, and quotaBlockTTL
// how long a block's unspent calls stay on this node.
const (
	maxQuotaBlock = 256
	quotaBlockTTL = time.Second
)

// quotaBlock is how many calls a node reserves at once: at most a
// hundredth of the quota (a small quota is counted call by call, exactly)
// and about a tenth of a second of the partner's rate.
func quotaBlock(p Policy) int64 {
	n := min(int64(maxQuotaBlock), p.DailyQuota/100)
	if p.RatePerSecond > 0 {
		n = min(n, int64(p.RatePerSecond/10))
	}
	return max(1, n)
}

// vietnam is UTC+7 all year; quotas reset at midnight there.
var vietnam = time.FixedZone("ICT", 7*3600)

// NewLimits returns the limiter; Run gives back unspent blocks.
func NewLimits(db *storage.DB, now func() time.Time) *Limits {
	return &Limits{db: db, now: now, loc: vietnam, buckets: map[string]*bucket{}, grantMu: map[string]*sync.Mutex{},
		usage: map[usageKey]*usage{}, blockMu: map[usageKey]*sync.Mutex{}}
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
	if l.spend(key) {
		return nil
	}
	// One reservation at a time per partner and day on this node: calls
	// arriving meanwhile spend the block it brings.
	l.mu.Lock()
	bm := l.blockMu[key]
	if bm == nil {
		bm = &sync.Mutex{}
		l.blockMu[key] = bm
	}
	l.mu.Unlock()
	bm.Lock()
	defer bm.Unlock()
	if l.spend(key) {
		return nil
	}
	got, err := l.reserve(ctx, key, quotaBlock(pol), pol.DailyQuota)
	if err != nil {
		return err
	}
	if got < 1 {
		midnight := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, l.loc)
		return &limitError{f: ErrQuotaExhausted, wait: midnight.Sub(now)}
	}
	l.mu.Lock()
	u := l.usage[key]
	if u == nil {
		u = &usage{}
		l.usage[key] = u
	}
	u.spare += got - 1
	u.reserved = l.now()
	l.mu.Unlock()
	return nil
}

// spend admits a call out of this node's block, when it has one.
func (l *Limits) spend(key usageKey) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if u := l.usage[key]; u != nil && u.spare > 0 {
		u.spare--
		return true
	}
	return false
}

// reserve adds up to n calls to the partner's count of the day, no more
// than the quota leaves, and returns how many it added.
func (l *Limits) reserve(ctx context.Context, key usageKey, n, quota int64) (got int64, err error) {
	err = l.db.Tx(ctx, func(tx *sql.Tx) error {
		// Insert first: on SQLite it takes the write lock, so the read
		// below sees every other node's count.
		if _, err := tx.ExecContext(ctx, `INSERT INTO exchange_usage (partner_id, day, calls) VALUES ($1, $2, 0)
			ON CONFLICT (partner_id, day) DO NOTHING`, key.partner, key.day); err != nil {
			return err
		}
		var calls int64
		if err := tx.QueryRowContext(ctx, `SELECT calls FROM exchange_usage WHERE partner_id = $1 AND day = $2`+l.db.ForUpdate(), key.partner, key.day).Scan(&calls); err != nil {
			return err
		}
		got = max(0, min(n, quota-calls))
		if got == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE exchange_usage SET calls = $1 WHERE partner_id = $2 AND day = $3`, calls+got, key.partner, key.day)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("count usage: %w", err)
	}
	return got, nil
}

// Flush gives back the calls of blocks unspent for quotaBlockTTL (all of
// them when ctx is done: the node is stopping), so other nodes may admit
// them, and forgets past days.
func (l *Limits) Flush(ctx context.Context) error {
	return l.giveBack(ctx, ctx.Err() != nil)
}

func (l *Limits) giveBack(ctx context.Context, all bool) error {
	now := l.now()
	today := now.In(l.loc).Format(time.DateOnly)
	type item struct {
		key usageKey
		n   int64
	}
	var items []item
	l.mu.Lock()
	for k, u := range l.usage {
		past := k.day < today
		if u.spare > 0 && (all || past || now.Sub(u.reserved) >= quotaBlockTTL) {
			items = append(items, item{k, u.spare})
			u.spare = 0
		}
		if past {
			// The day's count ends exact; no call spends from it again.
			delete(l.usage, k)
			delete(l.blockMu, k)
		}
	}
	l.mu.Unlock()
	if len(items) == 0 {
		return nil
	}
	err := l.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, it := range items {
			if _, err := tx.ExecContext(ctx, `UPDATE exchange_usage SET calls = calls - $1 WHERE partner_id = $2 AND day = $3`, it.n, it.key.partner, it.key.day); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// Kept as used: the quota errs on the partner's side.
		return fmt.Errorf("give back unspent quota: %w", err)
	}
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

// Run gives back unspent blocks every FlushInterval until ctx ends, then
// all of them.
func (l *Limits) Run(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := l.giveBack(context.Background(), true); err != nil {
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

// Usage returns a partner's calls on a day (yyyy-mm-dd, Vietnam time): the
// table's count less the calls this node reserved and has not admitted.
// Blocks other nodes hold unspent count as used until they are spent or
// given back (within quotaBlockTTL of their last call).
func (l *Limits) Usage(ctx context.Context, partner, day string) (int64, error) {
	n, err := l.read(ctx, partner, day)
	if err != nil {
		return 0, err
	}
	l.mu.Lock()
	if u := l.usage[usageKey{partner, day}]; u != nil {
		n -= u.spare
	}
	l.mu.Unlock()
	return max(0, n), nil
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
