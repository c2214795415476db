package oidcop

import (
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// opClient presents a Client to the op library.
type opClient struct {
	Client
	loginPath string // where the login page is, e.g. "/oidc/login"
	// asserted: the assertion gate authenticated this client for the
	// request, so the library is told it needs no authentication.
	asserted bool
}

func (c opClient) GetID() string                    { return c.ID }
func (c opClient) RedirectURIs() []string           { return c.Client.RedirectURIs }
func (c opClient) PostLogoutRedirectURIs() []string { return c.Client.PostLogoutRedirectURIs }

// ApplicationType: a client with a secret is a web (confidential) client;
// one without is native, which the library allows loopback redirects for.
func (c opClient) ApplicationType() op.ApplicationType {
	if c.Confidential() {
		return op.ApplicationTypeWeb
	}
	return op.ApplicationTypeNative
}

func (c opClient) AuthMethod() oidc.AuthMethod {
	if c.asserted {
		return oidc.AuthMethodNone
	}
	if c.JWKS != "" {
		return oidc.AuthMethodPrivateKeyJWT
	}
	if c.Confidential() {
		return oidc.AuthMethodBasic
	}
	return oidc.AuthMethodNone
}

func (c opClient) ResponseTypes() []oidc.ResponseType {
	if c.Allows(GrantAuthorizationCode) {
		return []oidc.ResponseType{oidc.ResponseTypeCode}
	}
	return nil
}

func (c opClient) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, 0, len(c.Client.GrantTypes))
	for _, g := range c.Client.GrantTypes {
		out = append(out, oidc.GrantType(g))
	}
	return out
}

func (c opClient) LoginURL(id string) string { return c.loginPath + "?authRequestID=" + id }

// AccessTokenType: JWTs, so resource servers can verify tokens offline
// against the JWKS; introspection remains for revocation checks.
func (c opClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (c opClient) IDTokenLifetime() time.Duration      { return 10 * time.Minute }
func (c opClient) DevMode() bool                       { return c.Client.DevMode }
func (c opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c opClient) IsScopeAllowed(scope string) bool     { return slices.Contains(c.Scopes, scope) }
func (c opClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c opClient) ClockSkew() time.Duration             { return 0 }
