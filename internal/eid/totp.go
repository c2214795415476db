package eid

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"time"
)

// TOTP parameters of RFC 6238 that every authenticator app supports:
// HMAC-SHA1, 30-second steps, 6 digits. One step of drift either way is
// accepted for clocks that are slightly off.
const (
	totpStep   = 30
	totpDigits = 6
	totpSkew   = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// newTOTPSecret returns a 160-bit secret in base32, the form apps expect.
func newTOTPSecret() string {
	b := make([]byte, 20)
	rand.Read(b)
	return b32.EncodeToString(b)
}

// totpCode computes the code of a secret for a time step (RFC 4226 §5.3).
func totpCode(secret string, step int64) (string, error) {
	key, err := b32.DecodeString(secret)
	if err != nil {
		return "", fmt.Errorf("totp secret: %w", err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, v%1_000_000), nil
}

// totpStepAt is the time step containing t.
func totpStepAt(t time.Time) int64 { return t.Unix() / totpStep }

// totpMatch returns the step whose code equals code within the skew window,
// or 0. Steps at or before lastUsed are refused so that a code is good once.
func totpMatch(secret, code string, now time.Time, lastUsed int64) int64 {
	if len(code) != totpDigits {
		return 0
	}
	cur := totpStepAt(now)
	for d := -totpSkew; d <= totpSkew; d++ {
		step := cur + int64(d)
		if step <= lastUsed {
			continue
		}
		want, err := totpCode(secret, step)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step
		}
	}
	return 0
}

// totpURI is the otpauth:// URI an app scans as a QR code.
func totpURI(secret, subject string) string {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", "dancu")
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	v.Set("period", "30")
	return "otpauth://totp/dancu:" + url.PathEscape(subject) + "?" + v.Encode()
}

// TOTPAt is the code an authenticator app shows for secret at t, for tools
// and tests that act as the citizen's app.
func TOTPAt(secret string, t time.Time) (string, error) {
	return totpCode(secret, totpStepAt(t))
}
