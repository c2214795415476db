package oidcop

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dancu-project/dancu/internal/storage"
)

// Kinds of one-time values in the replay cache.
const (
	replayDPoP      = "dpop"
	replayAssertion = "client_assertion"
)

// errReplayed is a one-time value presented a second time.
var errReplayed = errors.New("one-time value already used")

// replayCache remembers one-time values (jtis of DPoP proofs and of client
// assertions) in the database until they expire, so a value one node has
// accepted is refused by every node.
type replayCache struct {
	db  *storage.DB
	now func() time.Time
}

// use records value under kind until exp, or reports errReplayed when it is
// recorded already and not yet expired. An expired row with the same value
// (not purged yet) is taken over: the value could not be accepted anymore
// anyway, the caller checked its freshness.
func (c replayCache) use(ctx context.Context, kind, value string, exp time.Time) error {
	res, err := c.db.W.ExecContext(ctx, `INSERT INTO eid_oidc_jti (kind, hash, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (kind, hash) DO UPDATE SET expires_at = excluded.expires_at WHERE eid_oidc_jti.expires_at <= $4`,
		kind, hashToken(value), exp.Unix(), c.now().Unix())
	if err != nil {
		return fmt.Errorf("record %s jti: %w", kind, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errReplayed
	}
	return nil
}

// purgeOneTime deletes expired one-time values and pushed requests.
func purgeOneTime(ctx context.Context, db *storage.DB, now time.Time) error {
	for _, q := range []string{
		`DELETE FROM eid_oidc_jti WHERE expires_at < $1`,
		`DELETE FROM eid_oidc_par WHERE expires_at < $1`,
	} {
		if _, err := db.W.ExecContext(ctx, q, now.Unix()); err != nil {
			return fmt.Errorf("purge one-time values: %w", err)
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
