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

// Limits enforces partners' rate limits (a token bucket per partner on this
// node) and daily quotas (counted across nodes in exchange_usage). Calls are
// counted in memory and added to the table in one statement per partner
// every FlushInterval, so a quota costs no write per call; a node may let
// through at most what it admitted since its last flush beyond the quota,
// and a crash loses at most that many counts.
type Limits struct {
	db  *storage.DB
	now func() time.Time
	loc *time.Location

	mu      sync.Mutex
	buckets map[string]*bucket
	usage   map[string]*usage
}

type bucket struct {
	tokens float64
	last   time.Time
}

type usage struct {
	day     string
	durable int64 // the table's count when last read or flushed
	pending int64 // admitted here since
}

// FlushInterval is how often Run writes the counted calls.
const FlushInterval = time.Second

// vietnam is UTC+7 all year; quotas reset at midnight there.
var vietnam = time.FixedZone("ICT", 7*3600)

// NewLimits returns the limiter; Run writes its counts.
func NewLimits(db *storage.DB, now func() time.Time) *Limits {
	return &Limits{db: db, now: now, loc: vietnam, buckets: map[string]*bucket{}, usage: map[string]*usage{}}
}

// Admit counts one call of the partner, or refuses it with a wait.
func (l *Limits) Admit(ctx context.Context, p Partner) error {
	pol := p.Policy
	now := l.now()
	if pol.RatePerSecond > 0 {
		l.mu.Lock()
		b := l.buckets[p.ID]
		if b == nil {
			b = &bucket{tokens: float64(pol.Burst), last: now}
			l.buckets[p.ID] = b
		}
		b.tokens = min(float64(max(pol.Burst, 1)), b.tokens+now.Sub(b.last).Seconds()*pol.RatePerSecond)
		b.last = now
		if b.tokens < 1 {
			wait := time.Duration((1 - b.tokens) / pol.RatePerSecond * float64(time.Second))
			l.mu.Unlock()
			return &limitError{f: ErrRateLimited, wait: wait}
		}
		b.tokens--
		l.mu.Unlock()
	}
	if pol.DailyQuota <= 0 {
		return nil
	}
	local := now.In(l.loc)
	day := local.Format(time.DateOnly)
	l.mu.Lock()
	u := l.usage[p.ID]
	fresh := u == nil || u.day != day
	l.mu.Unlock()
	if fresh {
		// First call of the day on this node: learn what other nodes
		// counted. The pending counts of yesterday are flushed separately.
		n, err := l.read(ctx, p.ID, day)
		if err != nil {
			return err
		}
		l.mu.Lock()
		if u = l.usage[p.ID]; u == nil || u.day != day {
			if u != nil && u.pending > 0 {
				l.flushOne(ctx, p.ID, u)
			}
			u = &usage{day: day, durable: n}
			l.usage[p.ID] = u
		}
		l.mu.Unlock()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if u.durable+u.pending >= pol.DailyQuota {
		midnight := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, l.loc)
		return &limitError{f: ErrQuotaExhausted, wait: midnight.Sub(now)}
	}
	u.pending++
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

// flushOne adds u's pending calls to the table; called with l.mu held.
func (l *Limits) flushOne(ctx context.Context, partner string, u *usage) error {
	var total int64
	err := l.db.W.QueryRowContext(ctx, `INSERT INTO exchange_usage (partner_id, day, calls) VALUES ($1, $2, $3)
		ON CONFLICT (partner_id, day) DO UPDATE SET calls = exchange_usage.calls + excluded.calls RETURNING calls`, partner, u.day, u.pending).Scan(&total)
	if err != nil {
		return fmt.Errorf("count usage: %w", err)
	}
	u.durable, u.pending = total, 0
	return nil
}

// Flush writes the calls counted since the last flush.
func (l *Limits) Flush(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var first error
	for id, u := range l.usage {
		if u.pending == 0 {
			continue
		}
		if err := l.flushOne(ctx, id, u); err != nil && first == nil {
			first = err
		}
	}
	return first
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
