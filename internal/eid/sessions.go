package eid

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/fault"
)

// SignInRecord is one entry of an account's sign-in history.
type SignInRecord struct {
	At      time.Time
	Level   Level
	AMR     []string
	Channel string // "portal", "oidc:<client id>", or "" when the caller named none
}

// recordSignIn appends a successful sign-in to the owner's history. It keeps
// no address or device data: the history is for the owner to spot a use of
// their account they do not recognise.
func (s *Service) recordSignIn(ctx context.Context, auth Authentication, channel string) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO eid_signins (pin, at, level, amr, channel) VALUES ($1, $2, $3, $4, $5)`,
		auth.Account.PIN, auth.At.UTC().Format(time.RFC3339Nano), int(auth.Level), strings.Join(auth.AMR, " "), channel)
	if err != nil {
		return fmt.Errorf("record sign-in: %w", err)
	}
	return nil
}

// RecordSessionSignIn records in the owner's sign-in history a sign-in the
// OpenID provider answered from its sign-in session (no credentials typed
// now): the session's level and methods, at this time, on channel.
func (s *Service) RecordSessionSignIn(ctx context.Context, auth Authentication, channel string) error {
	auth.At = s.now()
	return s.recordSignIn(ctx, auth, channel)
}

// SignIns returns the newest sign-ins of an account, newest first. Callers
// show it to the account's owner only.
func (s *Service) SignIns(ctx context.Context, pin string, limit int) ([]SignInRecord, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT at, level, amr, channel FROM eid_signins WHERE pin = $1 ORDER BY id DESC LIMIT $2`, pin, limit)
	if err != nil {
		return nil, fmt.Errorf("sign-in history: %w", err)
	}
	defer rows.Close()
	var out []SignInRecord
	for rows.Next() {
		var r SignInRecord
		var at, amr string
		if err := rows.Scan(&at, &r.Level, &amr, &r.Channel); err != nil {
			return nil, fmt.Errorf("sign-in history: %w", err)
		}
		r.At, _ = time.Parse(time.RFC3339Nano, at)
		r.AMR = strings.Fields(amr)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Session is a citizen's signed-in session on the platform's own pages (the
// citizen portal). The level is the one reached at sign-in, so a level-2
// account signed in with its password only holds a level-1 session.
type Session struct {
	PIN     string
	Level   Level
	CSRF    string // token every form of the session carries
	Expires time.Time
}

// ErrNoSession means the session cookie is missing, unknown, expired or
// belongs to an account that can no longer sign in.
var ErrNoSession = fault.New(fault.Unauthenticated, "eid.no_session", "Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại.", "Your session has ended; please sign in again.")

// StartSession opens a session for a successful sign-in and returns the
// token for the cookie. Only a keyed hash of the token is stored.
func (s *Service) StartSession(ctx context.Context, auth Authentication, ttl time.Duration) (string, Session, error) {
	token, csrf := randomToken(), randomToken()
	now := s.now()
	sess := Session{PIN: auth.Account.PIN, Level: auth.Level, CSRF: csrf, Expires: now.Add(ttl)}
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO eid_sessions (token_hash, pin, level, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		s.seal.Hash("session", token), sess.PIN, int(sess.Level), csrf, now.UTC().Format(time.RFC3339Nano), sess.Expires.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return "", Session{}, fmt.Errorf("start session: %w", err)
	}
	return token, sess, nil
}

// Session returns the live session of a token. A session ends early when
// its account is locked or revoked (for instance on the owner's death).
func (s *Service) Session(ctx context.Context, token string) (Session, error) {
	if token == "" {
		return Session{}, ErrNoSession
	}
	var sess Session
	var expires, status string
	err := s.db.R.QueryRowContext(ctx, `SELECT s.pin, s.level, s.csrf, s.expires_at, a.status FROM eid_sessions s JOIN eid_accounts a ON a.pin = s.pin WHERE s.token_hash = $1`,
		s.seal.Hash("session", token)).Scan(&sess.PIN, &sess.Level, &sess.CSRF, &expires, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("load session: %w", err)
	}
	sess.Expires, _ = time.Parse(time.RFC3339Nano, expires)
	if !s.now().Before(sess.Expires) || status != StatusActive {
		return Session{}, ErrNoSession
	}
	return sess, nil
}

// EndSession signs a session out; an unknown token is not an error.
func (s *Service) EndSession(ctx context.Context, token string) error {
	if _, err := s.db.W.ExecContext(ctx, `DELETE FROM eid_sessions WHERE token_hash = $1`, s.seal.Hash("session", token)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// randomToken is 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
