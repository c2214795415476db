package oidcop

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/storage"
)

// authRequestTTL bounds how long a citizen may take to sign in and consent.
const authRequestTTL = 10 * time.Minute

// opStorage implements op.Storage and op.ClientCredentialsStorage on the
// database, so any node serves any step.
type opStorage struct {
	*keyStore
	db         *storage.DB
	clients    *Clients
	accounts   Accounts
	claims     *claimSource
	now        func() time.Time
	loginPath  string
	accessTTL  time.Duration
	refreshTTL time.Duration
	// Self-contained access tokens (tokens.go, revocation.go): the
	// checker remembers verified tokens, revs is the revocation list,
	// status caches citizens' account status, signer signs tokens issued
	// outside the library (the client-credentials fast path).
	tokens *tokenChecker
	revs   *revocations
	status *accountCache
	signer *signer
	log    *slog.Logger
	// logout ends the sign-in session of the browser logging out (sso.go).
	logout func(ctx context.Context, userID string) error
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseStamp(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

func jsonList(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func parseList(s string) []string {
	var v []string
	json.Unmarshal([]byte(s), &v)
	return v
}

// notFound is a storage miss the library recognises.
type notFound struct{ what string }

func (e notFound) Error() string { return e.what + " not found" }
func (notFound) IsNotFound()     {}

// CreateAuthRequest stores an authorization request. PKCE with S256 is
// required of every client, confidential ones too (OAuth 2.1, RFC 9700), and
// scopes the client is not registered for are dropped.
func (s *opStorage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method=S256 is required")
	}
	if req.ResponseType != oidc.ResponseTypeCode {
		return nil, oidc.ErrInvalidRequest().WithDescription("only the authorization code flow is supported")
	}
	c, err := s.clients.Get(ctx, req.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithParent(err)
	}
	var scopes []string
	for _, sc := range req.Scopes {
		if sc == oidc.ScopeOpenID || slices.Contains(c.Scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	a := &authRequest{ID: storage.NewID(), ClientID: req.ClientID, Created: s.now(), Req: storedRequest{
		RedirectURI: req.RedirectURI, Scopes: scopes, State: req.State, Nonce: req.Nonce, ResponseType: string(req.ResponseType),
		ResponseMode: string(req.ResponseMode), CodeChallenge: req.CodeChallenge, CodeChallengeMethod: string(req.CodeChallengeMethod),
		ACRValues: req.ACRValues, UILocales: localeTags(req.UILocales), Prompt: req.Prompt, MaxAge: req.MaxAge,
	}}
	body, _ := json.Marshal(a.Req)
	_, err = s.db.W.ExecContext(ctx, `INSERT INTO eid_oidc_auth_requests (id, client_id, request, created_at) VALUES ($1, $2, $3, $4)`,
		a.ID, a.ClientID, string(body), stamp(a.Created))
	if err != nil {
		return nil, fmt.Errorf("store auth request: %w", err)
	}
	return a, nil
}

// codeMemory is how long an exchanged code is remembered, so that its
// replay revokes the tokens issued from it. A code is valid for
// authRequestTTL; a replay later than codeMemory only fails.
const codeMemory = 24 * time.Hour

// loadAuthRequest loads a request in flight. An exchanged one is returned
// only when withExchanged (AuthRequestByCode), for codeMemory.
func (s *opStorage) loadAuthRequest(ctx context.Context, where string, arg string, withExchanged bool) (*authRequest, error) {
	var a authRequest
	var body, amr, authTime, created string
	var level, done, exchanged int
	err := s.db.R.QueryRowContext(ctx, `SELECT id, client_id, request, subject, level, amr, auth_time, done, created_at, family, exchanged, sid FROM eid_oidc_auth_requests WHERE `+where+` = $1`, arg).
		Scan(&a.ID, &a.ClientID, &body, &a.Subject, &level, &amr, &authTime, &done, &created, &a.Family, &exchanged, &a.SID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound{"auth request"}
	}
	if err != nil {
		return nil, fmt.Errorf("load auth request: %w", err)
	}
	if err := json.Unmarshal([]byte(body), &a.Req); err != nil {
		return nil, fmt.Errorf("load auth request: %w", err)
	}
	a.Level, a.IsDone, a.Created = eid.Level(level), done != 0, parseStamp(created)
	if amr != "" {
		a.AMR = parseList(amr)
	}
	if authTime != "" {
		a.AuthTime = parseStamp(authTime)
	}
	a.exchanged = exchanged != 0
	ttl := authRequestTTL
	if a.exchanged {
		if !withExchanged {
			return nil, notFound{"auth request"}
		}
		ttl = codeMemory
	}
	if s.now().Sub(a.Created) > ttl {
		return nil, notFound{"auth request"}
	}
	return &a, nil
}

func (s *opStorage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	return s.loadAuthRequest(ctx, "id", id, false)
}

// errCodeReplayed refuses a code presented a second time.
var errCodeReplayed = oidc.ErrInvalidGrant().WithDescription("the code was used already; the tokens issued from it are revoked")

// AuthRequestByCode finds the request a code was issued for. A code that
// was exchanged already means it leaked (or the client misbehaves): the
// tokens issued from it are revoked and the request refused (RFC 6749
// §4.1.2, RFC 9700 §4.5). The token gate authenticated the client before
// (gates.go), so a caller without the client's credentials cannot use a
// code to revoke a citizen's tokens.
func (s *opStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	if code == "" {
		return nil, notFound{"code"}
	}
	a, err := s.loadAuthRequest(ctx, "code_hash", hashToken(code), true)
	if err != nil {
		return nil, err
	}
	if a.exchanged {
		if err := s.revokeFamily(ctx, a.Family); err != nil {
			return nil, err
		}
		s.log.Warn("authorization code replayed; its tokens are revoked", "code", "eid.code_replayed", "client", a.ClientID)
		return nil, errCodeReplayed
	}
	return a, nil
}

// claimCode marks a request's code exchanged, with the token family it is
// about to produce, in tx when given. Only one exchange claims a code: a
// second one, even concurrent, finds it claimed, revokes the first one's
// family and is refused.
func (s *opStorage) claimCode(ctx context.Context, q execer, a *authRequest) error {
	family := storage.NewID()
	res, err := q.ExecContext(ctx, `UPDATE eid_oidc_auth_requests SET exchanged = 1, family = $1 WHERE id = $2 AND exchanged = 0`, family, a.ID)
	if err != nil {
		return fmt.Errorf("claim code: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errCodeReplayed
	}
	a.Family = family
	return nil
}

// revokeReplayed revokes the family of a request whose code a concurrent
// exchange claimed first.
func (s *opStorage) revokeReplayed(ctx context.Context, id string) error {
	var family string
	if err := s.db.R.QueryRowContext(ctx, `SELECT family FROM eid_oidc_auth_requests WHERE id = $1`, id).Scan(&family); err != nil {
		return fmt.Errorf("code replay: %w", err)
	}
	return s.revokeFamily(ctx, family)
}

func (s *opStorage) SaveAuthCode(ctx context.Context, id, code string) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE eid_oidc_auth_requests SET code_hash = $1 WHERE id = $2 AND exchanged = 0`, hashToken(code), id)
	if err != nil {
		return fmt.Errorf("save code: %w", err)
	}
	return nil
}

// DeleteAuthRequest ends a request; one whose code was exchanged stays
// (exchanged) until Purge, so a replay of the code is recognised.
func (s *opStorage) DeleteAuthRequest(ctx context.Context, id string) error {
	_, err := s.db.W.ExecContext(ctx, `DELETE FROM eid_oidc_auth_requests WHERE id = $1 AND exchanged = 0`, id)
	if err != nil {
		return fmt.Errorf("delete auth request: %w", err)
	}
	return nil
}

// completeLogin records who signed in for a request, at what level.
func (s *opStorage) completeLogin(ctx context.Context, id string, auth eid.Authentication, sid string) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE eid_oidc_auth_requests SET subject = $1, level = $2, amr = $3, auth_time = $4, sid = $5 WHERE id = $6 AND done = 0`,
		auth.Account.Subject, int(auth.Level), jsonList(auth.AMR), stamp(auth.At), sid, id)
	if err != nil {
		return fmt.Errorf("complete login: %w", err)
	}
	return nil
}

// markDone lets the library issue the code.
func (s *opStorage) markDone(ctx context.Context, id string) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE eid_oidc_auth_requests SET done = 1 WHERE id = $1 AND subject <> ''`, id)
	if err != nil {
		return fmt.Errorf("complete auth request: %w", err)
	}
	return nil
}

// tokenFacts is who a token is for and at what level.
type tokenFacts struct {
	clientID, subject, family string
	scopes, audience          []string
	level                     eid.Level
	user                      bool
	jkt                       string // DPoP key thumbprint the token is bound to (dpop.go)
}

func facts(req op.TokenRequest) (tokenFacts, error) {
	switch r := req.(type) {
	case *authRequest:
		return tokenFacts{clientID: r.ClientID, subject: r.Subject, family: r.Family, scopes: r.GetScopes(), audience: r.GetAudience(), level: r.Level, user: true}, nil
	case *refreshGrant:
		return tokenFacts{clientID: r.ClientID, subject: r.Subject, family: r.Family, scopes: r.Scopes, audience: r.Audience, level: r.Level, user: true}, nil
	case *serviceRequest:
		return tokenFacts{clientID: r.ClientID, subject: r.ClientID, scopes: r.Scopes, audience: r.GetAudience()}, nil
	}
	return tokenFacts{}, oidc.ErrServerError().WithDescription("unexpected token request")
}

// checkUser refuses tokens below the client's level and for accounts that
// are no longer active (locked, revoked on death).
func (s *opStorage) checkUser(ctx context.Context, f tokenFacts) error {
	if !f.user {
		return nil
	}
	c, err := s.clients.Get(ctx, f.clientID)
	if err != nil {
		return oidc.ErrInvalidClient().WithParent(err)
	}
	if f.level < c.MinLevel || f.level < eid.Level1 {
		return oidc.ErrAccessDenied().WithDescription("the client requires a higher assurance level")
	}
	a, err := s.accounts.AccountBySubject(ctx, f.subject)
	if err != nil || a.Status != eid.StatusActive {
		return oidc.ErrInvalidGrant().WithDescription("the account cannot sign in")
	}
	return nil
}

// newAccess names an access token (its jti) and its expiry. Access tokens
// are self-contained JWTs and get no row: the token carries client, subject,
// scopes, level (acr), family (sid) and DPoP key (cnf), and the revocation
// list (revocation.go) ends it early.
//
// The id starts with the issue time in milliseconds (as a UUIDv7 does), so
// a logout or consent withdrawal ends exactly the tokens issued before it,
// not those of a sign-in a moment later in the same second (iat has whole
// seconds).
func (s *opStorage) newAccess() (string, time.Time) {
	now := s.now()
	return fmt.Sprintf("%012x", now.UnixMilli()) + storage.NewID()[:20], now.Add(s.accessTTL)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *opStorage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	f, err := facts(req)
	if err != nil {
		return "", time.Time{}, err
	}
	if err := s.checkUser(ctx, f); err != nil {
		return "", time.Time{}, err
	}
	if f.jkt, _, err = s.dpopBinding(ctx, f.clientID); err != nil {
		return "", time.Time{}, err
	}
	if r, ok := req.(*authRequest); ok {
		// The access token gets the code's family as sid, by which a
		// replay of the code revokes it.
		if err := s.claimCode(ctx, s.db.W, r); err != nil {
			if errors.Is(err, errCodeReplayed) {
				if rerr := s.revokeReplayed(ctx, r.ID); rerr != nil {
					return "", time.Time{}, rerr
				}
			}
			return "", time.Time{}, err
		}
	}
	id, exp := s.newAccess()
	return id, exp, nil
}

// CreateAccessAndRefreshTokens issues an access token and a new refresh
// token. On refresh the presented token is spent in the same transaction; if
// it was spent already, someone replayed it, and its family is revoked.
func (s *opStorage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	f, err := facts(req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	if err := s.checkUser(ctx, f); err != nil {
		return "", "", time.Time{}, err
	}
	var refreshJKT string
	if f.jkt, refreshJKT, err = s.dpopBinding(ctx, f.clientID); err != nil {
		return "", "", time.Time{}, err
	}
	var amr []string
	var authTime time.Time
	var code *authRequest // the request whose code is exchanged, if any
	switch r := req.(type) {
	case *authRequest:
		amr, authTime = r.AMR, r.AuthTime
		code = r
	case *refreshGrant:
		amr, authTime = r.AMR, r.AuthTime
	}
	token := storage.NewID() + storage.NewID()
	var accessID string
	var exp time.Time
	reused, replayed := false, false
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if code != nil {
			// Claimed in the transaction that stores the refresh token, so
			// a concurrent replay that finds the code claimed revokes a
			// family whose refresh token exists.
			if err := s.claimCode(ctx, tx, code); errors.Is(err, errCodeReplayed) {
				replayed = true
				return nil
			} else if err != nil {
				return err
			}
			f.family = code.Family // the access token's sid (GetPrivateClaimsFromRequest)
		}
		if current != "" {
			res, err := tx.ExecContext(ctx, `UPDATE eid_oidc_refresh SET used = 1 WHERE hash = $1 AND used = 0 AND revoked = 0`, hashToken(current))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				reused = true
				return nil
			}
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO eid_oidc_refresh (hash, family, client_id, subject, scopes, audience, amr, level, auth_time, created_at, expires_at, jkt)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, hashToken(token), f.family, f.clientID, f.subject, jsonList(f.scopes), jsonList(f.audience),
			jsonList(amr), int(f.level), stamp(authTime), stamp(now), stamp(now.Add(s.refreshTTL)), refreshJKT); err != nil {
			return err
		}
		accessID, exp = s.newAccess()
		return nil
	})
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("issue tokens: %w", err)
	}
	if replayed {
		if err := s.revokeReplayed(ctx, code.ID); err != nil {
			return "", "", time.Time{}, err
		}
		return "", "", time.Time{}, errCodeReplayed
	}
	if code != nil {
		// An organisation chosen at sign-in follows the family (org_acting.go).
		if err := s.bindActing(ctx, code.ID, f.family); err != nil {
			return "", "", time.Time{}, err
		}
	}
	if reused {
		if err := s.revokeFamily(ctx, f.family); err != nil {
			return "", "", time.Time{}, err
		}
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token already used")
	}
	return accessID, token, exp, nil
}

// revokeFamily revokes a refresh-token family: its refresh tokens, and its
// access tokens through their sid on the revocation list.
func (s *opStorage) revokeFamily(ctx context.Context, family string) error {
	now := s.now()
	var k revKey
	var e revEntry
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE eid_oidc_refresh SET revoked = 1 WHERE family = $1`, family); err != nil {
			return fmt.Errorf("revoke token family: %w", err)
		}
		var err error
		k, e, err = s.revs.add(ctx, tx, revokeSID, family, now, now.Add(s.accessTTL))
		return err
	})
	if err != nil {
		return err
	}
	s.revs.apply(k, e)
	return nil
}

type refreshRow struct {
	refreshGrant
	used, revoked bool
	expires       time.Time
	jkt           string
}

func (s *opStorage) loadRefresh(ctx context.Context, token string) (refreshRow, error) {
	var r refreshRow
	var scopes, aud, amr, authTime, expires string
	var level, used, revoked int
	err := s.db.R.QueryRowContext(ctx, `SELECT family, client_id, subject, scopes, audience, amr, level, auth_time, expires_at, used, revoked, jkt FROM eid_oidc_refresh WHERE hash = $1`, hashToken(token)).
		Scan(&r.Family, &r.ClientID, &r.Subject, &scopes, &aud, &amr, &level, &authTime, &expires, &used, &revoked, &r.jkt)
	if errors.Is(err, sql.ErrNoRows) {
		return r, op.ErrInvalidRefreshToken
	}
	if err != nil {
		return r, fmt.Errorf("load refresh token: %w", err)
	}
	r.Token = token
	r.Scopes, r.Audience, r.AMR = parseList(scopes), parseList(aud), parseList(amr)
	r.Level, r.AuthTime, r.expires = eid.Level(level), parseStamp(authTime), parseStamp(expires)
	r.used, r.revoked = used != 0, revoked != 0
	return r, nil
}

// TokenRequestByRefreshToken returns what a refresh token stands for. A
// spent token presented again means it leaked: the family is revoked.
func (s *opStorage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	r, err := s.loadRefresh(ctx, token)
	if err != nil {
		return nil, oidc.ErrInvalidGrant().WithParent(err)
	}
	if err := checkRefreshBinding(ctx, r.jkt); err != nil {
		return nil, err
	}
	if r.used && !r.revoked {
		if err := s.revokeFamily(ctx, r.Family); err != nil {
			return nil, err
		}
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token already used; its family is revoked")
	}
	if r.revoked || !s.now().Before(r.expires) {
		return nil, oidc.ErrInvalidGrant()
	}
	g := r.refreshGrant
	return &g, nil
}

// TerminateSession revokes every token of a subject at a client: the
// refresh tokens, and the access tokens issued until now through the
// revocation list.
func (s *opStorage) TerminateSession(ctx context.Context, subject, clientID string) error {
	now := s.now()
	var k revKey
	var e revEntry
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE eid_oidc_refresh SET revoked = 1 WHERE subject = $1 AND client_id = $2`, subject, clientID); err != nil {
			return fmt.Errorf("terminate session: %w", err)
		}
		var err error
		k, e, err = s.revs.add(ctx, tx, revokeSession, sessionKey(subject, clientID), now, now.Add(s.accessTTL))
		return err
	})
	if err != nil {
		return err
	}
	s.revs.apply(k, e)
	return nil
}

// revokeAccess puts one access token on the revocation list until it
// expires.
func (s *opStorage) revokeAccess(ctx context.Context, t *tokenInfo) error {
	k, e, err := s.revs.add(ctx, s.db.W, revokeJTI, t.jti, s.now(), time.Unix(t.exp, 0))
	if err != nil {
		return err
	}
	s.revs.apply(k, e)
	return nil
}

// RevokeToken revokes a refresh token (with its family) or an access token
// by id. Unknown tokens are not an error (RFC 7009 §2.2).
func (s *opStorage) RevokeToken(ctx context.Context, tokenOrID, _ string, clientID string) *oidc.Error {
	if r, err := s.loadRefresh(ctx, tokenOrID); err == nil {
		if r.ClientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was issued to another client")
		}
		if err := s.revokeFamily(ctx, r.Family); err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		return nil
	}
	// An access token: the library verified it and passes its id; the
	// checker remembers its claims (keySet). Another client's token is left
	// alone, as an unknown one.
	if t := s.tokens.byJTI(tokenOrID); t != nil && t.clientID == clientID {
		if err := s.revokeAccess(ctx, t); err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
	}
	return nil
}

func (s *opStorage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	r, err := s.loadRefresh(ctx, token)
	if err != nil || r.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return r.Subject, token, nil
}

func (s *opStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256}, nil
}

func (s *opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.clients.Get(ctx, id)
	if err != nil {
		return nil, notFound{"client"}
	}
	// A client whose assertion the gate checked is authenticated for this
	// request (assertion.go).
	return opClient{Client: c, loginPath: s.loginPath, asserted: assertedClient(ctx) == id}, nil
}

func (s *opStorage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	if _, err := s.clients.Authenticate(ctx, id, secret); err != nil {
		return oidc.ErrInvalidClient()
	}
	return nil
}

// ClientCredentials authenticates a partner system for the client
// credentials grant.
func (s *opStorage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	var c Client
	var err error
	if secret == "" && id != "" && assertedClient(ctx) == id {
		c, err = s.clients.Get(ctx, id) // private_key_jwt, checked by the token gate
	} else {
		c, err = s.clients.Authenticate(ctx, id, secret)
	}
	if err != nil {
		return nil, oidc.ErrInvalidClient()
	}
	if !c.Allows(GrantClientCredentials) {
		return nil, oidc.ErrUnauthorizedClient()
	}
	return opClient{Client: c, loginPath: s.loginPath}, nil
}

func (s *opStorage) ClientCredentialsTokenRequest(ctx context.Context, id string, scopes []string) (op.TokenRequest, error) {
	c, err := s.clients.Get(ctx, id)
	if err != nil {
		return nil, oidc.ErrInvalidClient()
	}
	var allowed []string
	for _, sc := range scopes {
		if slices.Contains(c.Scopes, sc) {
			allowed = append(allowed, sc)
		}
	}
	return &serviceRequest{ClientID: id, Scopes: allowed}, nil
}

// tokenByID is an access token the library verified (keySet remembered its
// claims) if it is still active.
func (s *opStorage) tokenByID(ctx context.Context, id string) (*tokenInfo, error) {
	t := s.tokens.byJTI(id)
	if t == nil {
		return nil, notFound{"token"}
	}
	if _, _, err := s.stillActive(ctx, t); err != nil {
		return nil, notFound{"token"}
	}
	return t, nil
}

func (s *opStorage) SetUserinfoFromScopes(ctx context.Context, ui *oidc.UserInfo, subject, clientID string, scopes []string) error {
	ui.Subject = subject
	return s.claims.fill(ctx, ui, subject, clientID, scopes)
}

// SetUserinfoFromRequest adds the acr to ID tokens issued on refresh, which
// the library takes only from authorization requests.
func (s *opStorage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, _ []string) error {
	if g, ok := req.(*refreshGrant); ok {
		ui.AppendClaims("acr", acrFor(g.Level))
	}
	// The sign-in session's id (sid, Back-Channel Logout §2.4), by which a
	// relying party matches a logout token to its own session. Access
	// tokens' sid is their token family (revocation), not this.
	if a, ok := req.(*authRequest); ok && a.SID != "" {
		ui.AppendClaims("sid", a.SID)
	}
	return s.addActingClaims(ctx, ui, req) // org_acting.go
}

// SetUserinfoFromToken serves the library's userinfo endpoint; the
// provider's own (endpoints.go) answers first.
func (s *opStorage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, _, _ string) error {
	t, err := s.tokenByID(ctx, tokenID)
	if err != nil {
		return err
	}
	if t.level == 0 {
		return oidc.ErrAccessDenied().WithDescription("not a user token")
	}
	ui.Subject = t.subject
	return s.claims.fill(ctx, ui, t.subject, t.clientID, t.scopes)
}

// SetIntrospectionFromToken serves the library's introspection endpoint;
// the provider's own (endpoints.go) answers first. Only the client the token
// was issued to, or one in its audience, learns about it.
func (s *opStorage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, _, clientID string) error {
	t, err := s.tokenByID(ctx, tokenID)
	if err != nil {
		return err
	}
	if t.clientID != clientID && !slices.Contains(t.audience, clientID) {
		return oidc.ErrAccessDenied()
	}
	resp.Scope = t.scopes
	resp.ClientID = t.clientID
	resp.TokenType = oidc.BearerToken
	resp.Subject = t.subject
	resp.Audience = t.audience
	resp.IssuedAt = oidc.FromTime(time.Unix(t.iat, 0))
	resp.Expiration = oidc.FromTime(time.Unix(t.exp, 0))
	resp.JWTID = tokenID
	if t.level > 0 {
		resp.Claims = map[string]any{"acr": acrFor(t.level)}
	}
	if t.jkt != "" {
		resp.TokenType = TokenTypeDPoP
		if resp.Claims == nil {
			resp.Claims = map[string]any{}
		}
		resp.Claims["cnf"] = cnfClaim(t.jkt)
	}
	return nil
}

func (s *opStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetPrivateClaimsFromRequest puts the acr in JWT access tokens, so resource
// servers check the level without introspection.
// A DPoP-bound token carries the key's thumbprint (cnf.jkt, RFC 9449 §6).
func (s *opStorage) GetPrivateClaimsFromRequest(ctx context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	claims := map[string]any{}
	if jkt := dpopFromContext(ctx); jkt != "" {
		claims["cnf"] = cnfClaim(jkt)
	}
	if f, err := facts(req); err == nil {
		// Scopes travel in the token so a check needs no row (RFC 9068).
		if len(f.scopes) > 0 {
			claims["scope"] = strings.Join(f.scopes, " ")
		}
		if f.user {
			claims["acr"] = acrFor(f.level)
			if f.family != "" {
				claims["sid"] = f.family // revoked with its refresh-token family
			}
			acting, err := s.actingClaims(ctx, req) // org_acting.go
			if err != nil {
				return nil, err
			}
			for k, v := range acting {
				claims[k] = v
			}
		}
	}
	if len(claims) == 0 {
		return nil, nil
	}
	return claims, nil
}

// GetKeyByIDAndClientID returns a client's public key, to check its
// private_key_jwt assertions.
func (s *opStorage) GetKeyByIDAndClientID(ctx context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	c, err := s.clients.Get(ctx, clientID)
	if err != nil || c.JWKS == "" {
		return nil, notFound{"client key"}
	}
	return c.PublicKey(keyID)
}

func (s *opStorage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile grant is not supported")
}

func (s *opStorage) Health(ctx context.Context) error { return s.db.Ping(ctx) }

var _ op.Storage = (*opStorage)(nil)
var _ op.ClientCredentialsStorage = (*opStorage)(nil)
var _ op.CanSetUserinfoFromRequest = (*opStorage)(nil)
var _ op.CanGetPrivateClaimsFromRequest = (*opStorage)(nil)

// localeTags are ui_locales as BCP 47 strings.
func localeTags(ls oidc.Locales) []string {
	var out []string
	for _, t := range ls {
		out = append(out, t.String())
	}
	return out
}
