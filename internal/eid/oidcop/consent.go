package oidcop

import (
	"context"
	"database/sql"
	"encoding/json"
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
	// Declined are the optional scopes the citizen unticked: not
	// released, and not asked again until the client asks anew after a
	// withdrawal.
	Declined []string
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

// consentState reports whether consents in force decide every scope asked
// that releases data — granted, or declined when optional — and which of
// them were declined (or withdrawn field by field), to be dropped from the
// request.
func (p *Provider) consentState(ctx context.Context, subject, clientID string, scopes []string) (bool, []string, error) {
	need := consentable(scopes)
	if len(need) == 0 {
		return true, nil, nil
	}
	rows, err := p.store.db.R.QueryContext(ctx, `SELECT scopes, declined FROM eid_consents WHERE subject = $1 AND client_id = $2 AND withdrawn_at = ''`, subject, clientID)
	if err != nil {
		return false, nil, fmt.Errorf("load consent: %w", err)
	}
	defer rows.Close()
	var have, declined []string
	for rows.Next() {
		var s, d string
		if err := rows.Scan(&s, &d); err != nil {
			return false, nil, fmt.Errorf("load consent: %w", err)
		}
		have, declined = append(have, parseList(s)...), append(declined, parseList(d)...)
	}
	if err := rows.Err(); err != nil {
		return false, nil, fmt.Errorf("load consent: %w", err)
	}
	var refused []string
	for _, s := range need {
		switch {
		case slices.Contains(have, s):
		case slices.Contains(declined, s):
			refused = append(refused, s)
		default:
			return false, nil, nil
		}
	}
	return true, refused, nil
}

// narrowScopes drops the refused scopes from a request in flight, so its
// tokens, ID token and userinfo carry only what was granted.
func (p *Provider) narrowScopes(ctx context.Context, ar *authRequest, refused []string) error {
	if len(refused) == 0 {
		return nil
	}
	ar.Req.Scopes = slices.DeleteFunc(slices.Clone(ar.Req.Scopes), func(s string) bool { return slices.Contains(refused, s) })
	body, _ := json.Marshal(ar.Req)
	if _, err := p.store.db.W.ExecContext(ctx, `UPDATE eid_oidc_auth_requests SET request = $1 WHERE id = $2 AND exchanged = 0`, string(body), ar.ID); err != nil {
		return fmt.Errorf("narrow scopes: %w", err)
	}
	return nil
}

// consentChoice splits the scopes a consent form was about into those
// granted and those declined: a required scope is granted whatever the
// form says (the page shows it without a box to untick), an optional one
// only when ticked.
func consentChoice(asked, optional, ticked []string) (granted, declined []string) {
	for _, s := range consentable(asked) {
		if slices.Contains(optional, s) && !slices.Contains(ticked, s) {
			declined = append(declined, s)
		} else {
			granted = append(granted, s)
		}
	}
	return granted, declined
}

func (p *Provider) grantConsent(ctx context.Context, subject string, c Client, granted, declined []string) error {
	_, err := p.store.db.W.ExecContext(ctx, `INSERT INTO eid_consents (subject, client_id, scopes, purpose, channel, granted_at, declined) VALUES ($1, $2, $3, $4, 'web', $5, $6)`,
		subject, c.ID, jsonList(granted), c.Purpose, stamp(p.now()), jsonList(declined))
	if err != nil {
		return fmt.Errorf("record consent: %w", err)
	}
	return p.recordConsent(ctx, subject, eid.ActionConsentGranted, c.ID)
}

// Consents lists a citizen's consents, in force and withdrawn, newest first.
func (p *Provider) Consents(ctx context.Context, subject string) ([]Consent, error) {
	rows, err := p.store.db.R.QueryContext(ctx, `SELECT client_id, scopes, purpose, channel, granted_at, withdrawn_at, declined FROM eid_consents WHERE subject = $1 ORDER BY id DESC`, subject)
	if err != nil {
		return nil, fmt.Errorf("list consents: %w", err)
	}
	defer rows.Close()
	var out []Consent
	for rows.Next() {
		var c Consent
		var scopes, given, withdrawn, declined string
		if err := rows.Scan(&c.ClientID, &scopes, &c.Purpose, &c.Channel, &given, &withdrawn, &declined); err != nil {
			return nil, fmt.Errorf("list consents: %w", err)
		}
		c.Scopes, c.Given, c.Declined = parseList(scopes), parseStamp(given), parseList(declined)
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

// WithdrawConsentScope withdraws one field (scope) of a citizen's consents
// to a client and revokes the client's tokens for that citizen, so the
// field flows no more; the rest of the consent stays. A consent left with
// no field is withdrawn whole. The client's next sign-in asks again.
func (p *Provider) WithdrawConsentScope(ctx context.Context, subject, clientID, scope string) error {
	now := stamp(p.now())
	err := p.store.db.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, scopes FROM eid_consents WHERE subject = $1 AND client_id = $2 AND withdrawn_at = ''`, subject, clientID)
		if err != nil {
			return err
		}
		type row struct {
			id     int64
			scopes []string
		}
		var rs []row
		for rows.Next() {
			var r row
			var s string
			if err := rows.Scan(&r.id, &s); err != nil {
				rows.Close()
				return err
			}
			r.scopes = parseList(s)
			rs = append(rs, r)
		}
		rows.Close()
		for _, r := range rs {
			if !slices.Contains(r.scopes, scope) {
				continue
			}
			rest := slices.DeleteFunc(r.scopes, func(s string) bool { return s == scope })
			withdrawn := ""
			if len(rest) == 0 {
				withdrawn = now
			}
			if _, err := tx.ExecContext(ctx, `UPDATE eid_consents SET scopes = $1, withdrawn_at = $2 WHERE id = $3`, jsonList(rest), withdrawn, r.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("withdraw consent field: %w", err)
	}
	if err := p.recordConsentDetail(ctx, subject, eid.ActionConsentWithdrawn, "client:"+clientID+" scope:"+scope); err != nil {
		return err
	}
	return p.store.TerminateSession(ctx, subject, clientID)
}
