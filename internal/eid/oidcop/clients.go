package oidcop

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcclient"
	"github.com/dancu-project/dancu/internal/storage"
)

// The client registration lives in eid/oidcclient so that modules
// registering clients do not import the protocol package; these names keep
// the provider's own API whole.
const (
	GrantAuthorizationCode = oidcclient.GrantAuthorizationCode
	GrantRefreshToken      = oidcclient.GrantRefreshToken
	GrantClientCredentials = oidcclient.GrantClientCredentials
)

// Client is a relying party (oidcclient.Client).
type Client = oidcclient.Client

// Faults of the client store (oidcclient's).
var (
	ErrClientExists   = oidcclient.ErrClientExists
	ErrClientNotFound = oidcclient.ErrClientNotFound
	ErrClientInvalid  = oidcclient.ErrClientInvalid
)

// Clients stores relying parties. Reads are cached briefly because every
// token request looks its client up.
type Clients struct {
	db  *storage.DB
	now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedClient
}

type cachedClient struct {
	c  Client
	at time.Time
}

const clientCacheTTL = 30 * time.Second

// NewClients returns the client store.
func NewClients(db *storage.DB, now func() time.Time) *Clients {
	return &Clients{db: db, now: now, cache: map[string]cachedClient{}}
}

// NewSecret makes a client secret (256 bits) for the operator to hand over.
func NewSecret() string { return oidcclient.NewSecret() }

var hashSecret = oidcclient.HashSecret

// Add registers a client.
func (cs *Clients) Add(ctx context.Context, c Client) error {
	if c.ID == "" || c.Name == "" || c.Purpose == "" || len(c.GrantTypes) == 0 {
		return ErrClientInvalid
	}
	for _, g := range c.GrantTypes {
		switch g {
		case GrantAuthorizationCode, GrantRefreshToken:
			if len(c.RedirectURIs) == 0 {
				return ErrClientInvalid.WithField("redirect_uris")
			}
		case GrantClientCredentials:
			if c.Secret == "" && c.JWKS == "" {
				// A partner system authenticates by secret or private_key_jwt.
				return ErrClientInvalid.WithField("secret")
			}
		default:
			return ErrClientInvalid.WithField("grant_types")
		}
	}
	if c.Secret != "" && len(c.Secret) < 32 {
		return ErrClientInvalid.WithField("secret")
	}
	if c.JWKS != "" {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal([]byte(c.JWKS), &set); err != nil || len(set.Keys) == 0 {
			return ErrClientInvalid.WithField("jwks")
		}
		for _, k := range set.Keys {
			if !k.IsPublic() || !k.Valid() {
				return ErrClientInvalid.WithField("jwks")
			}
		}
	}
	for _, sc := range c.OptionalScopes {
		if !slices.Contains(c.Scopes, sc) {
			return ErrClientInvalid.WithField("optional_scopes")
		}
	}
	if c.BackchannelLogoutURI != "" {
		// An absolute https URL without fragment (Back-Channel Logout §2.2);
		// http only for a development client.
		u, err := url.Parse(c.BackchannelLogoutURI)
		if err != nil || u.Host == "" || u.Fragment != "" || !(u.Scheme == "https" || (u.Scheme == "http" && c.DevMode)) {
			return ErrClientInvalid.WithField("backchannel_logout_uri")
		}
	}
	if c.MinLevel == 0 {
		c.MinLevel = eid.Level1
	}
	hash := ""
	if c.Secret != "" {
		hash = hashSecret(c.Secret)
	}
	js := func(v []string) string {
		if v == nil {
			v = []string{}
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	dev := 0
	if c.DevMode {
		dev = 1
	}
	_, err := cs.db.W.ExecContext(ctx, `INSERT INTO eid_oidc_clients (id, secret_hash, name, purpose, redirect_uris, post_logout_uris, grant_types, scopes, min_level, dev_mode, jwks, created_at, require_par, require_dpop, backchannel_logout_uri, optional_scopes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`, c.ID, hash, c.Name, c.Purpose, js(c.RedirectURIs), js(c.PostLogoutRedirectURIs),
		js(c.GrantTypes), js(c.Scopes), int(c.MinLevel), dev, c.JWKS, cs.now().UTC().Format(time.RFC3339), boolInt(c.RequirePAR), boolInt(c.RequireDPoP),
		c.BackchannelLogoutURI, js(c.OptionalScopes))
	if storage.IsUniqueViolation(err) {
		return ErrClientExists
	}
	if err != nil {
		return fmt.Errorf("add client: %w", err)
	}
	return nil
}

// Get returns a client without its secret.
func (cs *Clients) Get(ctx context.Context, id string) (Client, error) {
	now := cs.now()
	cs.mu.Lock()
	cc, ok := cs.cache[id]
	cs.mu.Unlock()
	if ok && now.Sub(cc.at) < clientCacheTTL {
		return cc.c, nil
	}
	var c Client
	var redirects, logouts, grants, scopes, optional string
	var level, dev, par, dpop int
	err := cs.db.R.QueryRowContext(ctx, `SELECT id, secret_hash, name, purpose, redirect_uris, post_logout_uris, grant_types, scopes, min_level, dev_mode, jwks, require_par, require_dpop, backchannel_logout_uri, optional_scopes FROM eid_oidc_clients WHERE id = $1 AND disabled = 0`, id).
		Scan(&c.ID, &c.SecretHash, &c.Name, &c.Purpose, &redirects, &logouts, &grants, &scopes, &level, &dev, &c.JWKS, &par, &dpop, &c.BackchannelLogoutURI, &optional)
	if errors.Is(err, sql.ErrNoRows) {
		return Client{}, ErrClientNotFound
	}
	if err != nil {
		return Client{}, fmt.Errorf("load client: %w", err)
	}
	c.MinLevel, c.DevMode, c.RequirePAR, c.RequireDPoP = eid.Level(level), dev != 0, par != 0, dpop != 0
	for _, p := range []struct {
		s string
		v *[]string
	}{{redirects, &c.RedirectURIs}, {logouts, &c.PostLogoutRedirectURIs}, {grants, &c.GrantTypes}, {scopes, &c.Scopes}, {optional, &c.OptionalScopes}} {
		if err := json.Unmarshal([]byte(p.s), p.v); err != nil {
			return Client{}, fmt.Errorf("load client: %w", err)
		}
	}
	cs.mu.Lock()
	if len(cs.cache) > 10000 {
		clear(cs.cache)
	}
	cs.cache[id] = cachedClient{c: c, at: now}
	cs.mu.Unlock()
	return c, nil
}

// Authenticate checks a client's secret; every failure is the same error.
func (cs *Clients) Authenticate(ctx context.Context, id, secret string) (Client, error) {
	c, err := cs.Get(ctx, id)
	if err != nil || c.SecretHash == "" || secret == "" {
		return Client{}, errBadClient
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(c.SecretHash)) != 1 {
		return Client{}, errBadClient
	}
	return c, nil
}

var errBadClient = errors.New("client authentication failed")
