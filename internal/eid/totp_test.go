package eid

import (
	"encoding/base32"
	"testing"
	"time"
)

// RFC 6238 appendix B vectors for HMAC-SHA1 (8 digits there; the last six
// digits are the 6-digit code).
func TestTOTPVectors(t *testing.T) {
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))
	cases := []struct {
		unix int64
		want string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
		{20000000000, "353130"},
	}
	for _, c := range cases {
		got, err := totpCode(secret, totpStepAt(time.Unix(c.unix, 0)))
		if err != nil || got != c.want {
			t.Errorf("t=%d: got %s, want %s (%v)", c.unix, got, c.want, err)
		}
	}
}

func TestTOTPWindowAndReplay(t *testing.T) {
	secret := newTOTPSecret()
	now := time.Unix(1_800_000_000, 0)
	code := func(d time.Duration) string { c, _ := totpCode(secret, totpStepAt(now.Add(d))); return c }
	cases := []struct {
		name string
		code string
		last int64
		ok   bool
	}{
		{"current", code(0), 0, true},
		{"one step early", code(-30 * time.Second), 0, true},
		{"one step late", code(30 * time.Second), 0, true},
		{"two steps early", code(-60 * time.Second), 0, false},
		{"already used", code(0), totpStepAt(now), false},
		{"short", "12345", 0, false},
	}
	for _, c := range cases {
		if got := totpMatch(secret, c.code, now, c.last) != 0; got != c.ok {
			t.Errorf("%s: got %v", c.name, got)
		}
	}
}
