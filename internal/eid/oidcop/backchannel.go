package oidcop

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/dancu-project/dancu/internal/storage"
)

// OpenID Connect Back-Channel Logout 1.0: when a sign-in session ends, each
// relying party it signed in to that registered a backchannel_logout_uri is
// sent a logout token — a JWT signed with the provider's key (verifiable
// with its JWKS), typ logout+jwt, with iss, aud, iat, exp, jti, sub, sid and
// the back-channel logout event, and no nonce (§2.4).
//
// The POSTs go out through Deps.LogoutClient, which in production refuses
// internal addresses as webhooks do (delivery.NewClient with the
// platform's egress rule): a client's registered URI must not make the
// provider call inside its own network.

// backchannelEvent is the event member of a logout token (§2.4).
const backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutTimeout bounds each back-channel POST: a relying party that does
// not answer delays the logout page by at most this.
const logoutTimeout = 5 * time.Second

// logoutTokenTTL is how long a logout token is valid (its exp).
const logoutTokenTTL = 2 * time.Minute

// backchannelLogout tells the clients a session signed in to that it
// ended, in parallel, waiting for them (bounded by logoutTimeout). A
// failure is logged and does not stop the logout.
func (p *Provider) backchannelLogout(ctx context.Context, sid, subject string) {
	if p.logoutClient == nil {
		return
	}
	rows, err := p.store.db.R.QueryContext(ctx, `SELECT client_id FROM eid_oidc_session_clients WHERE sid = $1`, sid)
	if err != nil {
		p.log.Error("back-channel logout", "code", "eid.backchannel_failed", "err", err)
		return
	}
	var ids []string
	for rows.Next() {
		var id string
		if rows.Scan(&id) == nil {
			ids = append(ids, id)
		}
	}
	rows.Close()
	ctx = context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for _, id := range ids {
		c, err := p.clients.Get(ctx, id)
		if err != nil || c.BackchannelLogoutURI == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.sendLogout(ctx, c, sid, subject); err != nil {
				p.log.Warn("back-channel logout not delivered", "code", "eid.backchannel_failed", "client", c.ID, "err", err)
			}
		}()
	}
	wg.Wait()
}

// sendLogout posts one logout token.
func (p *Provider) sendLogout(ctx context.Context, c Client, sid, subject string) error {
	tok, err := p.logoutToken(ctx, c.ID, sid, subject)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, logoutTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BackchannelLogoutURI, strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
	if err != nil {
		return fmt.Errorf("logout request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.logoutClient.Do(req)
	if err != nil {
		return fmt.Errorf("logout request: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("logout request: status %d", resp.StatusCode)
	}
	return nil
}

// logoutToken signs a logout token for a client.
func (p *Provider) logoutToken(ctx context.Context, clientID, sid, subject string) (string, error) {
	k, err := p.store.SigningKey(ctx)
	if err != nil {
		return "", err
	}
	key := k.(signingKey)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key.priv},
		(&jose.SignerOptions{}).WithType("logout+jwt").WithHeader("kid", key.id))
	if err != nil {
		return "", fmt.Errorf("logout token: %w", err)
	}
	now := p.now()
	claims, _ := json.Marshal(map[string]any{
		"iss": p.issuer, "aud": clientID, "iat": now.Unix(), "exp": now.Add(logoutTokenTTL).Unix(), "jti": storage.NewID(),
		"sub": subject, "sid": sid, "events": map[string]any{backchannelEvent: map[string]any{}},
	})
	jws, err := signer.Sign(claims)
	if err != nil {
		return "", fmt.Errorf("logout token: %w", err)
	}
	return jws.CompactSerialize()
}
