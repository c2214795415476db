package delivery

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook headers. A receiver checks the signature with Verify (or its own
// code: hex HMAC-SHA256 with the secret's bytes as key over
// timestamp + "." + body) and deduplicates on the event id.
const (
	HeaderEventID   = "Dancu-Event-Id"
	HeaderEventType = "Dancu-Event-Type"
	HeaderTimestamp = "Dancu-Timestamp" // Unix seconds
	HeaderSignature = "Dancu-Signature" // "v1=<hex>", several comma-separated during a secret change
	HeaderAttempt   = "Dancu-Delivery-Attempt"
)

// DefaultWindow is the replay window receivers should use: a signed request
// older or newer than this is refused.
const DefaultWindow = 5 * time.Minute

// NewSecret returns a fresh webhook signing secret: "whsec_" and 32 random
// bytes in base64url. The whole string is the HMAC key.
func NewSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// Signature returns the v1 signature of body sent at ts.
func Signature(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Sign sets the webhook headers of one attempt on h.
func Sign(h http.Header, secret, eventID, typ string, attempt int, body []byte, now time.Time) {
	ts := now.Unix()
	h.Set(HeaderEventID, eventID)
	h.Set(HeaderEventType, typ)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, Signature(secret, ts, body))
	h.Set(HeaderAttempt, strconv.Itoa(attempt))
}

// Errors from Verify.
var (
	ErrMissingHeaders = errors.New("delivery: signature or timestamp header missing")
	ErrBadTimestamp   = errors.New("delivery: timestamp is not a Unix time")
	ErrOutsideWindow  = errors.New("delivery: timestamp outside the replay window")
	ErrBadSignature   = errors.New("delivery: signature does not match")
)

// Verify checks a webhook request as a receiver should: the timestamp is
// within window of now (so a captured request cannot be replayed later) and
// one of the v1 signatures matches HMAC-SHA256(secret, timestamp + "." +
// body). It compares in constant time.
func Verify(secret string, h http.Header, body []byte, now time.Time, window time.Duration) error {
	tsText, sigs := h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if tsText == "" || sigs == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || ts <= 0 || len(tsText) > 12 {
		return ErrBadTimestamp
	}
	if d := now.Sub(time.Unix(ts, 0)); d > window || d < -window {
		return ErrOutsideWindow
	}
	want := []byte(Signature(secret, ts, body))
	for _, s := range strings.Split(sigs, ",") {
		if hmac.Equal([]byte(strings.TrimSpace(s)), want) {
			return nil
		}
	}
	return ErrBadSignature
}
