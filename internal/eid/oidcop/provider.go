// Package oidcop is the OpenID Connect provider of the electronic ID, built
// on github.com/zitadel/oidc/v3/pkg/op: authorization code with PKCE for
// every client, refresh tokens with rotation and reuse detection, client
// credentials for partner systems, introspection and revocation, ES256
// tokens whose keys live in the database, acr values for levels 1 and 2,
// and the sign-in and consent steps, whose pages the web layer draws
// (Pages).
package oidcop

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/storage"
)

// Deps are what the provider is built from.
type Deps struct {
	DB       *storage.DB
	Accounts Accounts
	Register eid.Register
	// Pages draws the sign-in, organisation and consent pages (web/portal).
	Pages Pages
	// Issuer is the provider's public URL including its path, e.g.
	// "https://id.dancu.gov.vn/oidc"; Mount serves under that path.
	Issuer string
	// Secret (configuration, at least 32 bytes) seals signing keys at rest
	// and keys the library's code encryption and the pages' cookies.
	Secret          []byte
	Log             *slog.Logger
	Now             func() time.Time
	SecureCookies   bool
	AccessTokenTTL  time.Duration // 10 min
	RefreshTokenTTL time.Duration // 30 days
	// LogoutClient sends back-channel logout tokens (backchannel.go); in
	// production one that refuses internal addresses, as webhooks'
	// (delivery.NewClient). nil: no back-channel logout is sent.
	LogoutClient *http.Client
	// LogoutRedirect is where a logout without a registered
	// post_logout_redirect_uri ends ("/" when empty).
	LogoutRedirect string
}

// Provider is the OpenID Connect provider.
type Provider struct {
	op      *op.Provider
	store   *opStorage
	clients *Clients
	seal    *eid.Sealer
	pages   Pages
	issuer  string
	prefix  string
	log     *slog.Logger
	now     func() time.Time
	secure  bool
	// logoutClient posts back-channel logout tokens (nil: none).
	logoutClient *http.Client
}

// New builds the provider; signing keys are made on first use.
func New(d Deps) (*Provider, error) {
	if d.DB == nil || d.Accounts == nil || d.Register == nil || d.Pages == nil {
		return nil, errors.New("oidcop: DB, Accounts, Register and Pages are required")
	}
	u, err := url.Parse(d.Issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("oidcop: issuer %q is not an absolute URL", d.Issuer)
	}
	prefix := strings.TrimSuffix(u.Path, "/")
	if prefix == "" {
		return nil, errors.New("oidcop: the issuer needs a path (e.g. /oidc) to mount under")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.AccessTokenTTL <= 0 {
		d.AccessTokenTTL = 10 * time.Minute
	}
	if d.RefreshTokenTTL <= 0 {
		d.RefreshTokenTTL = 30 * 24 * time.Hour
	}
	seal, err := eid.NewSealer(d.Secret)
	if err != nil {
		return nil, err
	}
	clients := NewClients(d.DB, d.Now)
	p := &Provider{clients: clients, seal: seal, pages: d.Pages, issuer: strings.TrimSuffix(d.Issuer, "/"), prefix: prefix,
		log: d.Log, now: d.Now, secure: d.SecureCookies, logoutClient: d.LogoutClient}
	if d.LogoutRedirect == "" {
		d.LogoutRedirect = "/"
	}
	p.store = &opStorage{
		keyStore:   &keyStore{db: d.DB, seal: seal, now: d.Now},
		db:         d.DB,
		clients:    clients,
		accounts:   d.Accounts,
		claims:     &claimSource{accounts: d.Accounts, register: d.Register, clients: clients},
		now:        d.Now,
		loginPath:  prefix + "/login",
		accessTTL:  d.AccessTokenTTL,
		refreshTTL: d.RefreshTokenTTL,
		revs:       newRevocations(d.DB, d.Now, d.Log),
		status:     newAccountCache(d.Accounts, d.Now),
		log:        d.Log,
		logout:     p.logoutBrowser,
	}
	p.store.signer = &signer{keys: p.store.keyStore}
	p.store.tokens = newTokenChecker(p.issuer, func(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
		k, err := p.verificationKey(ctx, kid)
		if err != nil {
			return nil, err
		}
		return &k.priv.PublicKey, nil
	})
	var cryptoKey [32]byte
	k, _ := hex.DecodeString(seal.Hash("oidc code encryption"))
	copy(cryptoKey[:], k)
	cfg := &op.Config{
		CryptoKey:      cryptoKey,
		CodeMethodS256: true,
		AuthMethodPost: true,
		// private_key_jwt (RFC 7523) for clients that registered a JWK Set.
		AuthMethodPrivateKeyJWT: true,
		GrantTypeRefreshToken:   true,
		SupportedUILocales:      []language.Tag{language.Vietnamese, language.English},
		SupportedScopes:         []string{oidc.ScopeOpenID, ScopeProfile, ScopeAddress, ScopePIN, ScopeOrg, oidc.ScopeOfflineAccess},
		SupportedClaims:         []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "at_hash", "c_hash", "sid", "name", "birthdate", "gender", "address", "pin"},
		// RP-initiated logout (end_session_endpoint in discovery).
		DefaultLogoutRedirectURI: d.LogoutRedirect,
	}
	opts := []op.Option{op.WithAccessTokenKeySet(keySet{p.store.tokens})}
	if u.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure())
	}
	installLibraryLog() // the library logs through slog.Default (liblog.go)
	if p.op, err = op.NewOpenIDProvider(p.issuer, cfg, p.store, opts...); err != nil {
		return nil, fmt.Errorf("oidcop: %w", err)
	}
	return p, nil
}

// Mount serves the provider under the issuer's path: the library's
// endpoints (discovery, authorize, token, introspect, revoke, userinfo,
// keys) and the login and consent pages.
func (p *Provider) Mount(mux *http.ServeMux) {
	inner := http.NewServeMux()
	inner.HandleFunc("GET /login", p.loginPage)
	inner.HandleFunc("POST /login", p.login)
	inner.HandleFunc("GET /consent", p.consentPage)
	inner.HandleFunc("POST /consent", p.consent)
	p.mountExtras(inner) // passkey sign-in, organisation choice (passkey_login.go)
	// The provider's own token (client credentials), introspection,
	// revocation and userinfo endpoints answer before the library
	// (endpoints.go); the gates go in front of both.
	lib := p.endpoints(p.op)
	p.mountGates(inner, lib) // PAR, DPoP, client assertions (gates.go)
	inner.Handle("/", lib)
	mux.Handle(p.prefix+"/", http.StripPrefix(p.prefix, p.withLibraryLog(inner)))
}

// Clients is the relying-party store, for `dancu client add`.
func (p *Provider) Clients() *Clients { return p.clients }

// RotateKey makes a new signing key; the previous ones stay in the JWKS for
// overlap, which must exceed the longest token lifetime.
func (p *Provider) RotateKey(ctx context.Context, overlap time.Duration) (string, error) {
	return p.store.rotate(ctx, overlap)
}

// RotateKeyIfOlder rotates the signing key (RotateKey) when the current
// one is older than maxAge, for a scheduled rotation; it reports the new
// key's id, "" when none was due. Callers on several nodes run it under a
// lease: two rotations at once would retire each other's new key.
func (p *Provider) RotateKeyIfOlder(ctx context.Context, maxAge, overlap time.Duration) (string, error) {
	age, err := p.store.keyStore.currentAge(ctx)
	if err != nil {
		return "", err
	}
	if age < maxAge {
		return "", nil
	}
	return p.RotateKey(ctx, overlap)
}

func (p *Provider) callbackURL(id string) string {
	return op.AuthCallbackURL(p.op)(op.ContextWithIssuer(context.Background(), p.issuer), id)
}
