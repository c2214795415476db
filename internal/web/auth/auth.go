// Package auth signs staff in for both the web pages (a session cookie plus a
// CSRF token on every form) and the API (a bearer token), and puts the
// session in the request context.
package auth

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/staff"
)

// CookieName is the session cookie.
const CookieName = "dancu_session"

// CSRFField is the form field (and X-CSRF-Token header) carrying the token.
const CSRFField = "csrf"

type ctxKey struct{}

// Sessions looks sessions up.
type Sessions interface {
	Session(ctx context.Context, token string) (staff.Session, error)
}

// Token returns the session token of a request: a bearer token, else the cookie.
// viaCookie reports which, since only cookie sessions need CSRF checks.
func Token(r *http.Request) (token string, viaCookie bool) {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimSpace(h[len("Bearer "):]), false
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return c.Value, true
	}
	return "", false
}

// Load resolves the request's session and stores it in the context. It
// returns the error from the store when there is no valid session.
func Load(r *http.Request, s Sessions) (*http.Request, staff.Session, error) {
	token, viaCookie := Token(r)
	sess, err := s.Session(r.Context(), token)
	if err != nil {
		return r, sess, err
	}
	return r.WithContext(context.WithValue(r.Context(), ctxKey{}, info{sess, viaCookie})), sess, nil
}

type info struct {
	sess      staff.Session
	viaCookie bool
}

// From returns the session stored by Load.
func From(ctx context.Context) (staff.Session, bool) {
	i, ok := ctx.Value(ctxKey{}).(info)
	return i.sess, ok
}

// CSRFOK reports whether an unsafe request carries the session's CSRF token.
// Bearer-token requests cannot be forged by another site and pass.
func CSRFOK(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	i, ok := r.Context().Value(ctxKey{}).(info)
	if !ok {
		return false
	}
	if !i.viaCookie {
		return true
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue(CSRFField)
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(i.sess.CSRF)) == 1
}

// SetCookie gives the browser its session cookie.
func SetCookie(w http.ResponseWriter, token string, expires time.Time, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
}

// ClearCookie removes the session cookie.
func ClearCookie(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
}
