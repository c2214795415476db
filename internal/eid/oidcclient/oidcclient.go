// Package oidcclient owns what a relying party of the e-ID provider is: the
// registration (Client), the grant types it may hold, its secret and the
// faults of registering one. The provider (eid/oidcop) stores and
// authenticates clients; modules that register clients for their own
// records (exchange's partner systems) depend on this package, not on the
// protocol package.
package oidcclient

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
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
	// BackchannelLogoutURI is where the provider posts a signed logout
	// token when a citizen's sign-in session ends (OpenID Connect
	// Back-Channel Logout 1.0); empty: the client is not told.
	BackchannelLogoutURI string
	// OptionalScopes are the scopes of Scopes a citizen may untick on the
	// consent page; the others are required for the service.
	OptionalScopes []string

	// SecretHash is the stored hash of the secret (HashSecret), filled in
	// when the provider loads a client; never the secret itself.
	SecretHash string
}

// Confidential reports whether the client has a secret.
func (c Client) Confidential() bool { return c.SecretHash != "" || c.Secret != "" || c.JWKS != "" }

// Allows reports whether the client is registered for a grant type.
func (c Client) Allows(grant string) bool { return slices.Contains(c.GrantTypes, grant) }

// PublicKey returns the client's key with the id, or its only key when kid
// is empty.
func (c Client) PublicKey(kid string) (*jose.JSONWebKey, error) {
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

// Faults of registering and finding clients.
var (
	ErrClientExists   = fault.New(fault.Conflict, "eid.client_exists", "Mã ứng dụng đã tồn tại.", "The client id is taken.")
	ErrClientNotFound = fault.New(fault.NotFound, "eid.client_not_found", "Không tìm thấy ứng dụng.", "No such client.")
	ErrClientInvalid  = fault.New(fault.Invalid, "eid.client_invalid", "Thông tin ứng dụng không hợp lệ.", "The client registration is not valid.")
)

// NewSecret makes a client secret (256 bits) for the operator to hand over.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret is a plain SHA-256: client secrets are 256-bit random values,
// so a slow password hash would add cost per token request and no safety.
func HashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
