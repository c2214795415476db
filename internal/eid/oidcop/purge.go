package oidcop

import (
	"context"
	"fmt"
	"time"
)

// Purge deletes expired authorization requests (exchanged ones after
// codeMemory), sign-in sessions and tokens, keeping a day of
// expired refresh tokens so a late reuse is still recognised as reuse. The
// composition root runs it periodically.
func (p *Provider) Purge(ctx context.Context) error {
	now := p.now()
	for _, q := range []struct{ sql, at string }{
		{`DELETE FROM eid_oidc_auth_requests WHERE created_at < $1 AND exchanged = 0`, stamp(now.Add(-authRequestTTL))},
		{`DELETE FROM eid_oidc_auth_requests WHERE created_at < $1`, stamp(now.Add(-codeMemory))}, // exchanged codes, kept to catch a replay
		{`DELETE FROM eid_oidc_tokens WHERE expires_at < $1`, stamp(now)},                         // rows of tokens issued before they became self-contained
		{`DELETE FROM eid_oidc_refresh WHERE expires_at < $1`, stamp(now.Add(-24 * time.Hour))},
		// Sign-in sessions (sso.go) a day after they expired or ended, and
		// the record of the clients they signed in to.
		{`DELETE FROM eid_oidc_sessions WHERE expires_at < $1 OR (ended_at <> '' AND ended_at < $1)`, stamp(now.Add(-24 * time.Hour))},
	} {
		if _, err := p.store.db.W.ExecContext(ctx, q.sql, q.at); err != nil {
			return fmt.Errorf("purge: %w", err)
		}
	}
	if _, err := p.store.db.W.ExecContext(ctx, `DELETE FROM eid_oidc_session_clients WHERE sid NOT IN (SELECT sid FROM eid_oidc_sessions)`); err != nil {
		return fmt.Errorf("purge: %w", err)
	}
	if err := p.store.revs.purge(ctx, now); err != nil {
		return err
	}
	return purgeOneTime(ctx, p.store.db, now)
}
