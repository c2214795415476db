package oidcop

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
)

// Grant types a client may be registered for.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Client is a relying party: a public-service portal, a bank, a hospital.
type Client struct {
	ID string
	// Secret is given on Add only (from configuration or `dancu client add`)
	// and stored hashed. Empty means a public client (mobile or single-page
	// app), which authenticates with PKCE alone.
	Secret                 string
	Name                   string // shown to citizens
	Purpose                string // shown on the consent page, written to the audit log
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string
	// Scopes beyond "openid" the client may ask for: "profile", "address",
	// "pin", "offline_access".
	Scopes []string
	// MinLevel is the lowest assurance level the client accepts: a client
	// registered with Level2 never receives a level-1 token.
	MinLevel eid.Level
	// DevMode allows http redirect URIs, for development and tests only.
	DevMode bool
	// JWKS is the client's public JWK Set for private_key_jwt client
	// authentication (RFC 7523), preferred to a shared secret: the provider
	// then holds nothing that lets anyone act as the client.
	JWKS string
	// RequirePAR refuses the client's authorization requests unless pushed
	// first (RFC 9126), so their parameters never pass through a browser.
	RequirePAR bool
	// RequireDPoP refuses the client any token not bound to a key by a
	// DPoP proof (RFC 9449).
	RequireDPoP bool

	secretHash string
}

// Confidential reports whether the client has a secret.
func (c Client) Confidential() bool { return c.secretHash != "" || c.Secret != "" || c.JWKS != "" }

// publicKey returns the client's key with the id, or its only key when kid
// is empty.
func (c Client) publicKey(kid string) (*jose.JSONWebKey, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(c.JWKS), &set); err != nil {
		return nil, fmt.Errorf("client %s keys: %w", c.ID, err)
	}
	for i, k := range set.Keys {
		if k.KeyID == kid || (kid == "" && len(set.Keys) == 1) {
			return &set.Keys[i], nil
		}
	}
	return nil, fmt.Errorf("client %s has no key %q", c.ID, kid)
}

// Faults of the client store.
var (
	ErrClientExists   = fault.New(fault.Conflict, "eid.client_exists", "Mã ứng dụng đã tồn tại.", "The client id is taken.")
	ErrClientNotFound = fault.New(fault.NotFound, "eid.client_not_found", "Không tìm thấy ứng dụng.", "No such client.")
	ErrClientInvalid  = fault.New(fault.Invalid, "eid.client_invalid", "Thông tin ứng dụng không hợp lệ.", "The client registration is not valid.")
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
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret is a plain SHA-256: client secrets are 256-bit random values,
// so a slow password hash would add cost per token request and no safety.
func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

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
	_, err := cs.db.W.ExecContext(ctx, `INSERT INTO eid_oidc_clients (id, secret_hash, name, purpose, redirect_uris, post_logout_uris, grant_types, scopes, min_level, dev_mode, jwks, created_at, require_par, require_dpop)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, c.ID, hash, c.Name, c.Purpose, js(c.RedirectURIs), js(c.PostLogoutRedirectURIs),
		js(c.GrantTypes), js(c.Scopes), int(c.MinLevel), dev, c.JWKS, cs.now().UTC().Format(time.RFC3339), boolInt(c.RequirePAR), boolInt(c.RequireDPoP))
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
	var redirects, logouts, grants, scopes string
	var level, dev, par, dpop int
	err := cs.db.R.QueryRowContext(ctx, `SELECT id, secret_hash, name, purpose, redirect_uris, post_logout_uris, grant_types, scopes, min_level, dev_mode, jwks, require_par, require_dpop FROM eid_oidc_clients WHERE id = $1 AND disabled = 0`, id).
		Scan(&c.ID, &c.secretHash, &c.Name, &c.Purpose, &redirects, &logouts, &grants, &scopes, &level, &dev, &c.JWKS, &par, &dpop)
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
	}{{redirects, &c.RedirectURIs}, {logouts, &c.PostLogoutRedirectURIs}, {grants, &c.GrantTypes}, {scopes, &c.Scopes}} {
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
	if err != nil || c.secretHash == "" || secret == "" {
		return Client{}, errBadClient
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(c.secretHash)) != 1 {
		return Client{}, errBadClient
	}
	return c, nil
}

var errBadClient = errors.New("client authentication failed")

// allows reports whether the client is registered for a grant type.
func (c Client) allows(grant string) bool { return slices.Contains(c.GrantTypes, grant) }
