package page

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
)

// NewToken is a fresh random token (256 bits, URL-safe): a CSRF token, a
// session token.
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SameToken compares a token sent with the one expected, in constant time;
// an empty one never matches.
func SameToken(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// FormToken returns the browser's double-submit CSRF token for forms shown
// before there is a session, setting the cookie (name, path) when new.
func FormToken(w http.ResponseWriter, r *http.Request, name, path string, secure bool) string {
	if c, err := r.Cookie(name); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	v := NewToken()
	http.SetCookie(w, &http.Cookie{Name: name, Value: v, Path: path, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	return v
}

// FormTokenOK checks a form's csrf field against the double-submit cookie
// name.
func FormTokenOK(r *http.Request, name string) bool {
	c, err := r.Cookie(name)
	return err == nil && SameToken(r.PostFormValue("csrf"), c.Value)
}
