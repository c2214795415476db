package oidcop

import (
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/dancu-project/dancu/internal/eid"
)

// ACR values. Level 1 corresponds to eIDAS "substantial" (self-registration
// checked against the register with a face check), level 2 to eIDAS "high"
// (in-person check, equal to the chip card). A relying party asks for level 2
// with acr_values=urn:dancu:acr:level2 or by being registered with MinLevel 2.
const (
	ACRLevel1 = "urn:dancu:acr:level1"
	ACRLevel2 = "urn:dancu:acr:level2"
)

func acrFor(l eid.Level) string {
	switch l {
	case eid.Level2:
		return ACRLevel2
	case eid.Level1:
		return ACRLevel1
	}
	return ""
}

// levelAsked is the level acr_values ask for (the highest named).
func levelAsked(acrValues []string) eid.Level {
	if slices.Contains(acrValues, ACRLevel2) {
		return eid.Level2
	}
	return eid.Level1
}

// storedRequest is the part of an authorization request kept between the
// authorize call and the code exchange.
type storedRequest struct {
	RedirectURI         string   `json:"redirect_uri"`
	Scopes              []string `json:"scopes"`
	State               string   `json:"state"`
	Nonce               string   `json:"nonce"`
	ResponseType        string   `json:"response_type"`
	ResponseMode        string   `json:"response_mode,omitempty"`
	CodeChallenge       string   `json:"code_challenge"`
	CodeChallengeMethod string   `json:"code_challenge_method"`
	ACRValues           []string `json:"acr_values,omitempty"`
	// UILocales are the languages the relying party asked the pages in
	// (ui_locales), preferred first.
	UILocales []string `json:"ui_locales,omitempty"`
	// Prompt and MaxAge decide whether the sign-in session may answer
	// (sso.go); prompt=login arrives as max_age 0 too.
	Prompt []string `json:"prompt,omitempty"`
	MaxAge *uint    `json:"max_age,omitempty"`
}

// authRequest is an authorization request in flight; it implements
// op.AuthRequest. Subject, Level and AMR are set by the login page.
type authRequest struct {
	ID       string
	ClientID string
	Req      storedRequest
	Subject  string
	Level    eid.Level
	AMR      []string
	AuthTime time.Time
	IsDone   bool
	Created  time.Time
	// Family is set when the code is exchanged for tokens: the tokens'
	// sid, by which a replay of the code revokes them.
	Family string
	// SID is the sign-in session that answered (sso.go), the ID token's sid.
	SID string
	// exchanged: the code was exchanged already; only AuthRequestByCode
	// sees such a request, to revoke what it produced.
	exchanged bool
}

func (a *authRequest) GetID() string          { return a.ID }
func (a *authRequest) GetACR() string         { return acrFor(a.Level) }
func (a *authRequest) GetAMR() []string       { return a.AMR }
func (a *authRequest) GetAudience() []string  { return []string{a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time { return a.AuthTime }
func (a *authRequest) GetClientID() string    { return a.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	return &oidc.CodeChallenge{Challenge: a.Req.CodeChallenge, Method: oidc.CodeChallengeMethod(a.Req.CodeChallengeMethod)}
}
func (a *authRequest) GetNonce() string       { return a.Req.Nonce }
func (a *authRequest) GetRedirectURI() string { return a.Req.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseType(a.Req.ResponseType)
}
func (a *authRequest) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseMode(a.Req.ResponseMode)
}
func (a *authRequest) GetScopes() []string { return a.Req.Scopes }
func (a *authRequest) GetState() string    { return a.Req.State }
func (a *authRequest) GetSubject() string  { return a.Subject }
func (a *authRequest) Done() bool          { return a.IsDone }

// refreshGrant is what a refresh token stands for; it implements
// op.RefreshTokenRequest.
type refreshGrant struct {
	Token    string
	Family   string
	ClientID string
	Subject  string
	Scopes   []string
	Audience []string
	AMR      []string
	Level    eid.Level
	AuthTime time.Time
}

func (g *refreshGrant) GetAMR() []string            { return g.AMR }
func (g *refreshGrant) GetAudience() []string       { return g.Audience }
func (g *refreshGrant) GetAuthTime() time.Time      { return g.AuthTime }
func (g *refreshGrant) GetClientID() string         { return g.ClientID }
func (g *refreshGrant) GetScopes() []string         { return g.Scopes }
func (g *refreshGrant) GetSubject() string          { return g.Subject }
func (g *refreshGrant) SetCurrentScopes(s []string) { g.Scopes = s }

// serviceRequest is a client-credentials request: the subject is the client.
type serviceRequest struct {
	ClientID string
	Scopes   []string
}

func (s *serviceRequest) GetSubject() string    { return s.ClientID }
func (s *serviceRequest) GetAudience() []string { return []string{s.ClientID} }
func (s *serviceRequest) GetScopes() []string   { return s.Scopes }
