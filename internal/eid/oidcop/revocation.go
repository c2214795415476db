package oidcop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dancu-project/dancu/internal/storage"
)

// Access tokens are self-contained JWTs: issuing one writes nothing, and
// checking one needs no database read. What ends a token before its expiry
// is the revocation list (table eid_oidc_revocations), which every node
// keeps in memory:
//
//   - a node applies its own revocations to memory as soon as they commit,
//     so on that node they take effect at once;
//   - every node rereads the rows written since its last read at most
//     revocationRefresh later (on the first token check after that), so
//     all nodes agree within about a second;
//   - if the list cannot be read for revocationMaxStale, tokens are
//     refused (fail closed) rather than trusted on stale knowledge.
//
// Rows live only until the tokens they concern have expired, so the list
// stays as small as the revocations of one access-token lifetime.

const (
	// revocationRefresh bounds how long a revocation made on another node
	// takes to reach this one.
	revocationRefresh = time.Second
	// revocationOverlap is how much of the past each read covers again: a
	// row stamped by a node whose clock is behind, or whose transaction
	// committed late, is still seen.
	revocationOverlap = time.Minute
	// revocationMaxStale is how long a node answers from a list it could
	// not refresh before it refuses every token.
	revocationMaxStale = 30 * time.Second
)

// Kinds of revocation rows.
const (
	revokeJTI     = "jti"     // one access token, by id
	revokeSID     = "sid"     // a refresh-token family and its access tokens
	revokeSession = "session" // a citizen's tokens at a client, up to a time
)

// errRevocationsStale means the revocation list could not be read for too
// long to trust tokens.
var errRevocationsStale = errors.New("oidc revocation list is stale")

type revKey struct{ kind, key string }

type revEntry struct {
	at  int64 // Unix ms: for sessions, tokens issued at or before it are revoked
	exp int64 // Unix s: the entry can be forgotten after this
}

// revocations is the in-memory copy of the revocation list.
type revocations struct {
	db  *storage.DB
	now func() time.Time
	log *slog.Logger

	mu      sync.RWMutex
	entries map[revKey]revEntry
	swept   time.Time

	loaded  atomic.Int64 // Unix ns of the start of the last successful read; 0 before the first
	reading atomic.Bool  // a refresh is under way
	first   sync.Mutex   // serialises the first read
}

func newRevocations(db *storage.DB, now func() time.Time, log *slog.Logger) *revocations {
	return &revocations{db: db, now: now, log: log, entries: map[revKey]revEntry{}}
}

// sessionKey names a citizen's tokens at a client.
func sessionKey(subject, clientID string) string { return subject + " " + clientID }

// fresh makes sure the list is recent enough to answer from. Only one
// caller at a time rereads; the others answer from the current list
// meanwhile.
func (r *revocations) fresh(ctx context.Context) error {
	now := r.now()
	loaded := r.loaded.Load()
	if loaded == 0 {
		r.first.Lock()
		defer r.first.Unlock()
		if r.loaded.Load() != 0 {
			return nil
		}
		return r.read(ctx, now, 0)
	}
	age := now.Sub(time.Unix(0, loaded))
	if age < revocationRefresh {
		return nil
	}
	if r.reading.CompareAndSwap(false, true) {
		err := r.read(ctx, now, loaded)
		r.reading.Store(false)
		if err == nil {
			return nil
		}
		r.log.Warn("oidc revocation list not refreshed", "code", "eid.revocations_unreadable", "err", err)
	}
	if age > revocationMaxStale {
		return errRevocationsStale
	}
	return nil
}

// read merges the rows written since the previous read (minus the overlap),
// or all live rows on the first read.
func (r *revocations) read(ctx context.Context, now time.Time, since int64) error {
	q, arg := `SELECT kind, key, revoked_at, expires_at FROM eid_oidc_revocations WHERE expires_at > $1`, now.Unix()
	if since != 0 {
		q, arg = `SELECT kind, key, revoked_at, expires_at FROM eid_oidc_revocations WHERE revoked_at >= $1`,
			time.Unix(0, since).Add(-revocationOverlap).UnixMilli()
	}
	rows, err := r.db.R.QueryContext(ctx, q, arg)
	if err != nil {
		return fmt.Errorf("read revocations: %w", err)
	}
	defer rows.Close()
	var got []struct {
		k revKey
		e revEntry
	}
	for rows.Next() {
		var k revKey
		var e revEntry
		if err := rows.Scan(&k.kind, &k.key, &e.at, &e.exp); err != nil {
			return fmt.Errorf("read revocations: %w", err)
		}
		got = append(got, struct {
			k revKey
			e revEntry
		}{k, e})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read revocations: %w", err)
	}
	r.mu.Lock()
	for _, g := range got {
		r.merge(g.k, g.e)
	}
	if now.Sub(r.swept) > time.Minute {
		r.swept = now
		for k, e := range r.entries {
			if e.exp < now.Unix() {
				delete(r.entries, k)
			}
		}
	}
	r.mu.Unlock()
	r.loaded.Store(now.UnixNano())
	return nil
}

// merge keeps the later cut and expiry; the caller holds mu.
func (r *revocations) merge(k revKey, e revEntry) {
	if old, ok := r.entries[k]; ok {
		e.at, e.exp = max(e.at, old.at), max(e.exp, old.exp)
	}
	r.entries[k] = e
}

// add records a revocation in the transaction or connection ex; apply
// puts it in memory once it is committed.
func (r *revocations) add(ctx context.Context, ex execer, kind, key string, at, exp time.Time) (revKey, revEntry, error) {
	k, e := revKey{kind, key}, revEntry{at: at.UnixMilli(), exp: exp.Unix() + 1}
	_, err := ex.ExecContext(ctx, `INSERT INTO eid_oidc_revocations (kind, key, revoked_at, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (kind, key) DO UPDATE SET revoked_at = excluded.revoked_at, expires_at = excluded.expires_at`, kind, key, e.at, e.exp)
	if err != nil {
		return k, e, fmt.Errorf("record revocation: %w", err)
	}
	return k, e, nil
}

func (r *revocations) apply(k revKey, e revEntry) {
	r.mu.Lock()
	r.merge(k, e)
	r.mu.Unlock()
}

// revoked reports whether the list ends the token.
func (r *revocations) revoked(t *tokenInfo) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.entries) == 0 {
		return false
	}
	if _, ok := r.entries[revKey{revokeJTI, t.jti}]; ok {
		return true
	}
	if t.sid != "" {
		if _, ok := r.entries[revKey{revokeSID, t.sid}]; ok {
			return true
		}
	}
	if t.level > 0 {
		if e, ok := r.entries[revKey{revokeSession, t.session}]; ok && t.issued <= e.at {
			return true
		}
	}
	return false
}

// purge deletes rows whose tokens have all expired.
func (r *revocations) purge(ctx context.Context, now time.Time) error {
	if _, err := r.db.W.ExecContext(ctx, `DELETE FROM eid_oidc_revocations WHERE expires_at < $1`, now.Unix()); err != nil {
		return fmt.Errorf("purge revocations: %w", err)
	}
	return nil
}
