// Package throttle limits guessing at sign-in forms: it counts failed
// attempts per key (an identifier typed, a client address), blocks a key for
// a time that doubles with each further failure, and can lock a key until an
// administrator lifts the lock. Counters live in the database, so a block
// holds across restarts and on every node.
//
// Each module keeps its counters in its own table (its migrations own it),
// with this shape:
//
//	CREATE TABLE <name> (
//	    key TEXT PRIMARY KEY,          -- a keyed hash of what was typed, never the value
//	    failures INTEGER NOT NULL,     -- attempts counted since the counter was last quiet
//	    window_start TEXT NOT NULL,    -- RFC 3339 time of the latest counted attempt
//	    blocked_until TEXT NOT NULL DEFAULT '',
//	    locked INTEGER NOT NULL DEFAULT 0
//	);
//
// Callers pass keys that are already hashed: the table then holds neither
// identifiers nor addresses, and a key for an identifier that has no account
// is counted exactly like one that has, so throttling reveals nothing.
package throttle

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/dancu-project/dancu/internal/storage"
)

// Rule is how failures against one kind of key are limited.
type Rule struct {
	// Limit is the failures after which the key is blocked.
	Limit int
	// Window is how long a counter must stay quiet (no attempt, no block)
	// before its count is forgotten. Quiet is measured from the end of the
	// latest block, so waiting a block out does not reset the count.
	Window time.Duration
	// Block is the first block; each further failure doubles it.
	Block time.Duration
	// MaxBlock caps a block.
	MaxBlock time.Duration
	// LockAfter is the count at which the key is locked until Lift; 0 never
	// locks. Attempts refused while the key is blocked count towards it,
	// so hammering a blocked account locks it sooner rather than later.
	LockAfter int
}

// Key is one counter: ID is the hashed key, Rule its limits.
type Key struct {
	ID   string
	Rule Rule
}

// Verdict is the state of the most restrictive key of an attempt.
type Verdict struct {
	// Locked means a key is locked until an administrator lifts it.
	Locked bool
	// Until is the end of the longest block, zero when there is none.
	Until time.Time
}

// Refused reports whether the attempt must be refused at now.
func (v Verdict) Refused(now time.Time) bool { return v.Locked || now.Before(v.Until) }

// Wait is how long the caller should wait before trying again (0 when
// locked or not blocked).
func (v Verdict) Wait(now time.Time) time.Duration {
	if v.Locked || !now.Before(v.Until) {
		return 0
	}
	return v.Until.Sub(now)
}

// Limiter counts attempts in one table.
type Limiter struct {
	db    *storage.DB
	table string
}

// New returns a limiter on table, which must have the shape in the package
// documentation. table is a constant of the calling module, never input.
func New(db *storage.DB, table string) *Limiter {
	return &Limiter{db: db, table: table}
}

// Hash returns the key for value of a kind ("acct", "ip"), keyed with
// secret so the table cannot be reversed by hashing guesses.
func Hash(secret []byte, kind, value string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

type state struct {
	failures int
	last     time.Time // latest counted attempt
	until    time.Time // end of the block, zero if none
	locked   bool
}

const stampFormat = time.RFC3339Nano

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(stampFormat)
}

func parse(s string) time.Time {
	t, err := time.Parse(stampFormat, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// quiet reports whether a counter has been quiet long enough to forget.
func (st state) quiet(r Rule, now time.Time) bool {
	if st.locked {
		return false
	}
	from := st.last
	if st.until.After(from) {
		from = st.until
	}
	return now.Sub(from) > r.Window
}

// Check returns the verdict of keys at now. An attempt on a key that is
// blocked is refused and counted towards that key's lock (when its rule
// locks) in the same step, so the caller has nothing to forget.
func (l *Limiter) Check(ctx context.Context, keys []Key, now time.Time) (Verdict, error) {
	var v Verdict
	var lockable []Key
	for _, k := range keys {
		st, found, err := l.read(ctx, l.db.R, k.ID, "")
		if err != nil {
			return Verdict{}, err
		}
		if !found {
			continue
		}
		merge(&v, st)
		if k.Rule.LockAfter > 0 && !st.locked && now.Before(st.until) {
			lockable = append(lockable, k)
		}
	}
	if len(lockable) == 0 {
		return v, nil
	}
	after, err := l.count(ctx, lockable, now, true)
	if err != nil {
		return Verdict{}, err
	}
	v.Locked = v.Locked || after.Locked
	return v, nil
}

func merge(v *Verdict, st state) {
	v.Locked = v.Locked || st.locked
	if st.until.After(v.Until) {
		v.Until = st.until
	}
}

// Fail counts a failed attempt against every key and returns the verdict
// after it: a key blocks once its count reaches Limit, for Block doubled
// per failure beyond it, and locks at LockAfter.
func (l *Limiter) Fail(ctx context.Context, keys []Key, now time.Time) (Verdict, error) {
	return l.count(ctx, keys, now, false)
}

// count adds one attempt to each key in one transaction. refused attempts
// (made while blocked) only move the count towards the lock; they neither
// start nor lengthen a block.
func (l *Limiter) count(ctx context.Context, keys []Key, now time.Time, refused bool) (Verdict, error) {
	var v Verdict
	err := l.db.Tx(ctx, func(tx *sql.Tx) error {
		v = Verdict{}
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+l.table+` (key, failures, window_start) VALUES ($1, 0, $2) ON CONFLICT (key) DO NOTHING`, k.ID, stamp(now)); err != nil {
				return fmt.Errorf("throttle: %w", err)
			}
			st, _, err := l.read(ctx, tx, k.ID, l.db.ForUpdate())
			if err != nil {
				return err
			}
			st = next(st, k.Rule, now, refused)
			locked := 0
			if st.locked {
				locked = 1
			}
			if _, err := tx.ExecContext(ctx, `UPDATE `+l.table+` SET failures = $1, window_start = $2, blocked_until = $3, locked = $4 WHERE key = $5`,
				st.failures, stamp(st.last), stamp(st.until), locked, k.ID); err != nil {
				return fmt.Errorf("throttle: %w", err)
			}
			merge(&v, st)
		}
		return nil
	})
	return v, err
}

// next is the counter after one more attempt at now.
func next(st state, r Rule, now time.Time, refused bool) state {
	if st.quiet(r, now) {
		st = state{}
	}
	st.failures++
	st.last = now
	if r.LockAfter > 0 && st.failures >= r.LockAfter {
		st.locked = true
	}
	if refused || r.Limit <= 0 || st.failures < r.Limit {
		return st
	}
	block := r.Block
	for n := st.failures - r.Limit; n > 0 && block < r.MaxBlock; n-- {
		block *= 2
	}
	st.until = now.Add(min(block, r.MaxBlock))
	return st
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (l *Limiter) read(ctx context.Context, q queryer, id, suffix string) (state, bool, error) {
	var st state
	var last, until string
	var locked int
	err := q.QueryRowContext(ctx, `SELECT failures, window_start, blocked_until, locked FROM `+l.table+` WHERE key = $1`+suffix, id).
		Scan(&st.failures, &last, &until, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		return state{}, false, nil
	}
	if err != nil {
		return state{}, false, fmt.Errorf("throttle: %w", err)
	}
	st.last, st.until, st.locked = parse(last), parse(until), locked != 0
	return st, true, nil
}

// Reset forgets a key's count after a successful attempt. A locked key stays
// locked: only Lift opens it.
func (l *Limiter) Reset(ctx context.Context, id string) error {
	if _, err := l.db.W.ExecContext(ctx, `DELETE FROM `+l.table+` WHERE key = $1 AND locked = 0`, id); err != nil {
		return fmt.Errorf("throttle reset: %w", err)
	}
	return nil
}

// State returns the verdict of one key without counting anything, for an
// administrator's view.
func (l *Limiter) State(ctx context.Context, id string) (Verdict, error) {
	st, _, err := l.read(ctx, l.db.R, id, "")
	if err != nil {
		return Verdict{}, err
	}
	var v Verdict
	merge(&v, st)
	return v, nil
}

// LiftTx forgets a key's count, block and lock inside tx, so the caller can
// audit the lift in the same transaction. It reports whether the key was
// blocked or locked at now.
func (l *Limiter) LiftTx(ctx context.Context, tx *sql.Tx, id string, now time.Time) (bool, error) {
	st, found, err := l.read(ctx, tx, id, l.db.ForUpdate())
	if err != nil || !found {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+l.table+` WHERE key = $1`, id); err != nil {
		return false, fmt.Errorf("throttle lift: %w", err)
	}
	return st.locked || now.Before(st.until), nil
}

// Purge deletes counters with no attempt since before and no lock; a
// caller passes a time at least Window and MaxBlock ago.
func (l *Limiter) Purge(ctx context.Context, before time.Time) error {
	if _, err := l.db.W.ExecContext(ctx, `DELETE FROM `+l.table+` WHERE window_start < $1 AND locked = 0`, stamp(before)); err != nil {
		return fmt.Errorf("throttle purge: %w", err)
	}
	return nil
}

// Refusal is a refused attempt: Err is the caller's fault (throttled or
// locked), Wait how long to wait before retrying (0 when locked).
type Refusal struct {
	Err  error
	Wait time.Duration
}

func (r *Refusal) Error() string { return r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }

// RetryAfter returns how long a refused attempt should wait before the
// next, for a Retry-After header; false when err is no timed refusal.
func RetryAfter(err error) (time.Duration, bool) {
	var r *Refusal
	if errors.As(err, &r) && r.Wait > 0 {
		return r.Wait, true
	}
	return 0, false
}
