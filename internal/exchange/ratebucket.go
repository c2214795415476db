package exchange

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sync"
	"time"
)

// A partner's rate limit is one token bucket in the database
// (exchange_rate_buckets), shared by every node: N nodes together admit
// the partner's burst plus its rate, not N times it. A node takes tokens
// in grants of about a tenth of a second of the rate (at least one, at
// most the burst) and spends them locally for at most grantTTL, so the
// table is written once per grant rather than once per call.
//
// The trade-off: the total admitted never exceeds the shared bucket (a
// grant is taken out of it before any call it covers is admitted), but a
// node holding unspent tokens makes the others wait for them: with
// traffic split unevenly, a partner may be refused up to one grant per
// node early, for at most grantTTL (the unspent tokens then lapse, which
// errs on the strict side). A partner at 1000 calls a second costs about
// ten bucket writes a second per node.
const grantTTL = time.Second

// grantSize is how many tokens a node asks for at once.
func grantSize(p Policy) float64 {
	return math.Max(1, math.Min(math.Floor(p.RatePerSecond/10), float64(max(p.Burst, 1))))
}

// takeToken admits one call under the partner's rate or refuses it with
// the wait until a token is due.
func (l *Limits) takeToken(ctx context.Context, p Partner, now time.Time) error {
	l.mu.Lock()
	b := l.buckets[p.ID]
	if b != nil && b.tokens >= 1 && now.Before(b.last.Add(grantTTL)) {
		b.tokens--
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()
	// One grant at a time per partner and node: calls arriving meanwhile
	// find the tokens it brought; other partners' grants go on.
	l.mu.Lock()
	gm := l.grantMu[p.ID]
	if gm == nil {
		gm = &sync.Mutex{}
		l.grantMu[p.ID] = gm
	}
	l.mu.Unlock()
	gm.Lock()
	defer gm.Unlock()
	l.mu.Lock()
	if b := l.buckets[p.ID]; b != nil && b.tokens >= 1 && now.Before(b.last.Add(grantTTL)) {
		b.tokens--
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()
	got, wait, err := l.grant(ctx, p, now)
	if err != nil {
		return err
	}
	if got < 1 {
		return &limitError{f: ErrRateLimited, wait: wait}
	}
	l.mu.Lock()
	l.buckets[p.ID] = &bucket{tokens: got - 1, last: now}
	l.mu.Unlock()
	return nil
}

// grant takes up to grantSize whole tokens from the partner's shared
// bucket, refilled at its rate since it was last taken from; with none
// to take, it returns the wait until one is due.
func (l *Limits) grant(ctx context.Context, p Partner, now time.Time) (float64, time.Duration, error) {
	pol := p.Policy
	burst := float64(max(pol.Burst, 1))
	var got float64
	var wait time.Duration
	err := l.db.Tx(ctx, func(tx *sql.Tx) error {
		// A new partner's bucket starts full.
		if _, err := tx.ExecContext(ctx, `INSERT INTO exchange_rate_buckets (partner_id, tokens, updated_ms) VALUES ($1, $2, $3)
			ON CONFLICT (partner_id) DO NOTHING`, p.ID, burst, now.UnixMilli()); err != nil {
			return err
		}
		var tokens float64
		var updated int64
		if err := tx.QueryRowContext(ctx, `SELECT tokens, updated_ms FROM exchange_rate_buckets WHERE partner_id = $1`+l.db.ForUpdate(), p.ID).Scan(&tokens, &updated); err != nil {
			return err
		}
		// Another node's clock a little ahead must not refill the bucket
		// backwards.
		elapsed := math.Max(0, float64(now.UnixMilli()-updated)/1000)
		tokens = math.Min(burst, tokens+elapsed*pol.RatePerSecond)
		got = math.Min(grantSize(pol), math.Floor(tokens))
		if got < 1 {
			got = 0
			wait = time.Duration((1 - tokens) / pol.RatePerSecond * float64(time.Second))
		}
		_, err := tx.ExecContext(ctx, `UPDATE exchange_rate_buckets SET tokens = $1, updated_ms = $2 WHERE partner_id = $3`,
			tokens-got, max(now.UnixMilli(), updated), p.ID)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("rate limit: %w", err)
	}
	return got, wait, nil
}
