package oidcop

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/dancu-project/dancu/internal/eid"
)

// Consent is a citizen's consent to release data to a relying party
// (Law 91/2025 Art. 9: which data, to whom, for what purpose, when; it can
// be withdrawn).
type Consent struct {
	ClientID  string
	Scopes    []string
	Purpose   string
	Channel   string // "web"
	Given     time.Time
	Withdrawn time.Time // zero while in force
}

// consentable are the scopes that release data and need consent.
func consentable(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if s != oidc.ScopeOpenID {
			out = append(out, s)
		}
	}
	return out
}

// hasConsent reports whether consents in force cover every scope asked.
func (p *Provider) hasConsent(ctx context.Context, subject, clientID string, scopes []string) (bool, error) {
	need := consentable(scopes)
	if len(need) == 0 {
		return true, nil
	}
	rows, err := p.store.db.R.QueryContext(ctx, `SELECT scopes FROM eid_consents WHERE subject = $1 AND client_id = $2 AND withdrawn_at = ''`, subject, clientID)
	if err != nil {
		return false, fmt.Errorf("load consent: %w", err)
	}
	defer rows.Close()
	var have []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return false, fmt.Errorf("load consent: %w", err)
		}
		have = append(have, parseList(s)...)
	}
	for _, s := range need {
		if !slices.Contains(have, s) {
			return false, rows.Err()
		}
	}
	return true, rows.Err()
}

func (p *Provider) grantConsent(ctx context.Context, subject string, c Client, scopes []string) error {
	_, err := p.store.db.W.ExecContext(ctx, `INSERT INTO eid_consents (subject, client_id, scopes, purpose, channel, granted_at) VALUES ($1, $2, $3, $4, 'web', $5)`,
		subject, c.ID, jsonList(consentable(scopes)), c.Purpose, stamp(p.now()))
	if err != nil {
		return fmt.Errorf("record consent: %w", err)
	}
	return p.recordConsent(ctx, subject, eid.ActionConsentGranted, c.ID)
}

// Consents lists a citizen's consents, in force and withdrawn, newest first.
func (p *Provider) Consents(ctx context.Context, subject string) ([]Consent, error) {
	rows, err := p.store.db.R.QueryContext(ctx, `SELECT client_id, scopes, purpose, channel, granted_at, withdrawn_at FROM eid_consents WHERE subject = $1 ORDER BY id DESC`, subject)
	if err != nil {
		return nil, fmt.Errorf("list consents: %w", err)
	}
	defer rows.Close()
	var out []Consent
	for rows.Next() {
		var c Consent
		var scopes, given, withdrawn string
		if err := rows.Scan(&c.ClientID, &scopes, &c.Purpose, &c.Channel, &given, &withdrawn); err != nil {
			return nil, fmt.Errorf("list consents: %w", err)
		}
		c.Scopes, c.Given = parseList(scopes), parseStamp(given)
		if withdrawn != "" {
			c.Withdrawn = parseStamp(withdrawn)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// WithdrawConsent withdraws a citizen's consents to a client and revokes the
// client's tokens for that citizen, so no further data flows.
func (p *Provider) WithdrawConsent(ctx context.Context, subject, clientID string) error {
	if _, err := p.store.db.W.ExecContext(ctx, `UPDATE eid_consents SET withdrawn_at = $1 WHERE subject = $2 AND client_id = $3 AND withdrawn_at = ''`,
		stamp(p.now()), subject, clientID); err != nil {
		return fmt.Errorf("withdraw consent: %w", err)
	}
	if err := p.recordConsent(ctx, subject, eid.ActionConsentWithdrawn, clientID); err != nil {
		return err
	}
	return p.store.TerminateSession(ctx, subject, clientID)
}
