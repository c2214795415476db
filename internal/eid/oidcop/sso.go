package oidcop

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/storage"
)

// Single sign-on: a citizen who signed in at the provider has a session
// there, so a second relying party signs them in without the password.
//
//   - The browser holds an opaque random id (cookie eid_sso: HttpOnly,
//     SameSite=Lax so the top-level redirect from a relying party carries
//     it, Secure when configured, path the issuer's). The database holds
//     its hash with the subject, the level reached, the methods and the
//     time of the sign-in (auth_time), and when it ends; every node serves
//     every session.
//   - An authorization request is signed in silently when the session is
//     in force, its auth_time is within the request's max_age, prompt is
//     not login, and its level reaches the client's (MinLevel, acr_values).
//     A level-1 session made with the password, asked for level 2, is
//     stepped up: the form asks the authenticator code alone
//     (eid.Service.StepUp, throttled like a sign-in), or a full sign-in
//     as someone else; either raises the session's level and auth_time.
//   - prompt=none never shows a page (OpenID Connect Core §3.1.2.1): with
//     no usable session the relying party gets login_required at its
//     redirect URI, consent_required when consent is missing, and
//     interaction_required when the citizen must choose an organisation.
//   - A sign-in with credentials updates the browser's session (same
//     subject) or replaces it (another subject: the old one ends).
//   - The session ends on RP-initiated logout (end_session_endpoint) and
//     when replaced; each relying party it signed in to that registered a
//     backchannel_logout_uri is then sent a logout token (backchannel.go).
const (
	ssoCookie = "eid_sso"
	// SessionTTL is how long a sign-in session lasts without a new sign-in.
	SessionTTL = 8 * time.Hour
)

// sessionSignInRecorder records a sign-in answered from the session in
// the citizen's history; *eid.Service provides it.
type sessionSignInRecorder interface {
	RecordSessionSignIn(ctx context.Context, auth eid.Authentication, channel string) error
}

// session is a sign-in session at the provider.
type session struct {
	idHash   string
	SID      string
	Subject  string
	Level    eid.Level
	AMR      []string
	AuthTime time.Time
	Expires  time.Time
}

// currentSession is the browser's session in force, or nil.
func (p *Provider) currentSession(ctx context.Context, r *http.Request) (*session, error) {
	c, err := r.Cookie(ssoCookie)
	if err != nil || len(c.Value) < 32 {
		return nil, nil
	}
	var s session
	var level int
	var amr, authTime, expires string
	err = p.store.db.R.QueryRowContext(ctx, `SELECT id_hash, sid, subject, level, amr, auth_time, expires_at FROM eid_oidc_sessions WHERE id_hash = $1 AND ended_at = ''`,
		hashToken(c.Value)).Scan(&s.idHash, &s.SID, &s.Subject, &level, &amr, &authTime, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load sign-in session: %w", err)
	}
	s.Level, s.AMR, s.AuthTime, s.Expires = eid.Level(level), parseList(amr), parseStamp(authTime), parseStamp(expires)
	if !p.now().Before(s.Expires) {
		return nil, nil
	}
	return &s, nil
}

// rememberSignIn records a sign-in with credentials in the browser's
// session: the same subject's session takes the new level and time, another
// subject's ends and a new one starts. It returns the session's sid.
func (p *Provider) rememberSignIn(w http.ResponseWriter, r *http.Request, auth eid.Authentication) (string, error) {
	ctx := r.Context()
	cur, err := p.currentSession(ctx, r)
	if err != nil {
		return "", err
	}
	now := p.now()
	if cur != nil && cur.Subject == auth.Account.Subject {
		if _, err := p.store.db.W.ExecContext(ctx, `UPDATE eid_oidc_sessions SET level = $1, amr = $2, auth_time = $3, expires_at = $4 WHERE id_hash = $5`,
			int(auth.Level), jsonList(auth.AMR), stamp(auth.At), stamp(now.Add(SessionTTL)), cur.idHash); err != nil {
			return "", fmt.Errorf("update sign-in session: %w", err)
		}
		return cur.SID, nil
	}
	if cur != nil {
		if err := p.endSession(ctx, cur.SID); err != nil {
			return "", err
		}
	}
	b := make([]byte, 32)
	rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	sid := storage.NewID()
	if _, err := p.store.db.W.ExecContext(ctx, `INSERT INTO eid_oidc_sessions (id_hash, sid, subject, level, amr, auth_time, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		hashToken(id), sid, auth.Account.Subject, int(auth.Level), jsonList(auth.AMR), stamp(auth.At), stamp(now), stamp(now.Add(SessionTTL))); err != nil {
		return "", fmt.Errorf("start sign-in session: %w", err)
	}
	// A browser-session cookie: the server's expiry decides.
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: id, Path: p.prefix, HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
	return sid, nil
}

// endSession ends a session and tells the relying parties it signed in to
// that registered for back-channel logout. Ending an ended session changes
// nothing and tells no one again.
func (p *Provider) endSession(ctx context.Context, sid string) error {
	var subject string
	err := p.store.db.R.QueryRowContext(ctx, `SELECT subject FROM eid_oidc_sessions WHERE sid = $1 AND ended_at = ''`, sid).Scan(&subject)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("end sign-in session: %w", err)
	}
	res, err := p.store.db.W.ExecContext(ctx, `UPDATE eid_oidc_sessions SET ended_at = $1 WHERE sid = $2 AND ended_at = ''`, stamp(p.now()), sid)
	if err != nil {
		return fmt.Errorf("end sign-in session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // another request ended it and tells the clients
	}
	p.backchannelLogout(ctx, sid, subject)
	return nil
}

// sessionClient records that a session signed the citizen in to a client.
func (p *Provider) sessionClient(ctx context.Context, sid, clientID string) error {
	q := `INSERT INTO eid_oidc_session_clients (sid, client_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`
	if _, err := p.store.db.W.ExecContext(ctx, q, sid, clientID); err != nil {
		return fmt.Errorf("record session client: %w", err)
	}
	return nil
}

// reauthNeeded reports whether a request needs a new sign-in although a
// session is in force: prompt=login, or max_age passed since its
// auth_time (max_age=0: always).
func (p *Provider) reauthNeeded(ar *authRequest, s *session) bool {
	return ar.Req.MaxAge != nil && p.now().Sub(s.AuthTime) >= time.Duration(*ar.Req.MaxAge)*time.Second
}

// StepUpAccounts raises a password sign-in to level 2 with the
// authenticator code alone; *eid.Service provides it.
type StepUpAccounts interface {
	StepUp(ctx context.Context, in eid.StepUpInput) (eid.Authentication, error)
}

// stepUpSession is the browser's session when it may be raised to the
// level a request needs with the second factor alone: a level-1 session
// made with the password, in force for this request (no prompt=login,
// max_age not passed), the request needing level 2. nil otherwise.
func (p *Provider) stepUpSession(r *http.Request, ar *authRequest, c Client) (*session, error) {
	if _, ok := p.store.accounts.(StepUpAccounts); !ok {
		return nil, nil
	}
	s, err := p.currentSession(r.Context(), r)
	if err != nil || s == nil {
		return nil, err
	}
	need := max(c.MinLevel, levelAsked(ar.Req.ACRValues))
	if need < eid.Level2 || s.Level >= need || !slices.Contains(s.AMR, "pwd") ||
		slices.Contains(ar.Req.Prompt, oidc.PromptLogin) || p.reauthNeeded(ar, s) {
		return nil, nil
	}
	return s, nil
}

// trySession answers a sign-in step from the browser's session. It
// returns true when it answered: a silent sign-in (redirect to the next
// step), or, for prompt=none, an error sent to the relying party's
// redirect URI. false: show the sign-in form.
func (p *Provider) trySession(w http.ResponseWriter, r *http.Request, ar *authRequest, c Client) bool {
	ctx := r.Context()
	none := slices.Contains(ar.Req.Prompt, oidc.PromptNone)
	s, err := p.currentSession(ctx, r)
	if err != nil {
		p.pages.Fail(w, r, err, p.page(ar, c))
		return true
	}
	need := max(c.MinLevel, levelAsked(ar.Req.ACRValues))
	if s == nil || slices.Contains(ar.Req.Prompt, oidc.PromptLogin) || p.reauthNeeded(ar, s) || s.Level < need {
		if none {
			op.AuthRequestError(w, r, ar, oidc.ErrLoginRequired().WithDescription("the citizen must sign in"), p.op)
			return true
		}
		return false
	}
	acct, err := p.store.accounts.AccountBySubject(ctx, s.Subject)
	if err != nil || acct.Status != eid.StatusActive {
		// A locked, revoked or dead account's session signs no one in.
		if err != nil && !errors.Is(err, eid.ErrNoAccount) {
			p.pages.Fail(w, r, err, p.page(ar, c))
			return true
		}
		if err := p.endSession(ctx, s.SID); err != nil {
			p.pages.Fail(w, r, err, p.page(ar, c))
			return true
		}
		if none {
			op.AuthRequestError(w, r, ar, oidc.ErrLoginRequired().WithDescription("the citizen must sign in"), p.op)
			return true
		}
		return false
	}
	auth := eid.Authentication{Account: acct, Level: s.Level, AMR: s.AMR, At: s.AuthTime}
	// In the citizen's sign-in history as a sign-in at this client.
	if rec, ok := p.store.accounts.(sessionSignInRecorder); ok {
		if err := rec.RecordSessionSignIn(ctx, auth, "oidc:"+c.ID); err != nil {
			p.pages.Fail(w, r, err, p.page(ar, c))
			return true
		}
	}
	next, err := p.signedIn(w, r, ar, c, auth, s.SID)
	if err != nil {
		p.pages.Fail(w, r, err, p.page(ar, c))
		return true
	}
	if none && next != p.callbackURL(ar.ID) {
		// The next step is a page: consent, or the organisation choice.
		e := oidc.ErrInteractionRequired().WithDescription("the citizen must choose an organisation")
		if strings.HasPrefix(next, p.prefix+"/consent") {
			// The library has no constructor for consent_required.
			e = &oidc.Error{ErrorType: "consent_required", Description: "the citizen must consent"}
		}
		op.AuthRequestError(w, r, ar, e, p.op)
		return true
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return true
}

// logoutCtx carries the browser of an RP-initiated logout to the storage's
// TerminateSessionFromRequest, which the library calls once the request
// (id_token_hint, post_logout_redirect_uri) is valid.
type logoutCtx struct {
	w http.ResponseWriter
	r *http.Request
}

type logoutKey struct{}

// endSessionGate serves the end_session_endpoint (OpenID Connect
// RP-Initiated Logout 1.0) through the library, which checks the
// id_token_hint and that post_logout_redirect_uri is one the client
// registered; the browser's session then ends (logoutBrowser).
func (p *Provider) endSessionGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), logoutKey{}, &logoutCtx{w: w, r: r})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// logoutBrowser ends the session of the browser logging out and drops its
// cookie. A session of another citizen than the id_token_hint's is left
// alone (the hint's holder may not end it).
func (p *Provider) logoutBrowser(ctx context.Context, userID string) error {
	lc, ok := ctx.Value(logoutKey{}).(*logoutCtx)
	if !ok {
		return nil
	}
	s, err := p.currentSession(ctx, lc.r)
	if err != nil {
		return err
	}
	if s == nil || (userID != "" && userID != s.Subject) {
		return nil
	}
	http.SetCookie(lc.w, &http.Cookie{Name: ssoCookie, Value: "", Path: p.prefix, MaxAge: -1, HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
	return p.endSession(ctx, s.SID)
}

// TerminateSessionFromRequest ends the browser's sign-in session and the
// tokens of the citizen at the client named by the id_token_hint, and
// answers where the browser goes.
func (s *opStorage) TerminateSessionFromRequest(ctx context.Context, es *op.EndSessionRequest) (string, error) {
	if err := s.logout(ctx, es.UserID); err != nil {
		return "", err
	}
	if es.UserID != "" && es.ClientID != "" {
		if err := s.TerminateSession(ctx, es.UserID, es.ClientID); err != nil {
			return "", err
		}
	}
	return es.RedirectURI, nil
}

var _ op.CanTerminateSessionFromRequest = (*opStorage)(nil)
