package delivery

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	secret := NewSecret()
	body := []byte(`{"id":"e1","type":"died","occurred_on":"2026-03-01","pin":"001080000001","date_of_death":"2026-02-27"}`)
	sent := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	signed := func() http.Header {
		h := http.Header{}
		Sign(h, secret, "e1", TypeDied, 1, body, sent)
		return h
	}
	cases := []struct {
		name   string
		secret string
		header func() http.Header
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, signed, body, sent.Add(30 * time.Second), nil},
		{"valid at the window's edge", secret, signed, body, sent.Add(DefaultWindow), nil},
		{"replayed after the window", secret, signed, body, sent.Add(DefaultWindow + time.Second), ErrOutsideWindow},
		{"timestamp from the future", secret, signed, body, sent.Add(-DefaultWindow - time.Second), ErrOutsideWindow},
		{"body changed", secret, signed, []byte(strings.Replace(string(body), "001080000001", "001080000002", 1)), sent, ErrBadSignature},
		{"other secret", NewSecret(), signed, body, sent, ErrBadSignature},
		{"timestamp changed", secret, func() http.Header {
			h := signed()
			h.Set(HeaderTimestamp, strconv.FormatInt(sent.Unix()+1, 10))
			return h
		}, body, sent, ErrBadSignature},
		{"no signature", secret, func() http.Header {
			h := signed()
			h.Del(HeaderSignature)
			return h
		}, body, sent, ErrMissingHeaders},
		{"timestamp not a number", secret, func() http.Header {
			h := signed()
			h.Set(HeaderTimestamp, "yesterday")
			return h
		}, body, sent, ErrBadTimestamp},
		{"two signatures during a secret change, one good", secret, func() http.Header {
			h := signed()
			h.Set(HeaderSignature, Signature(NewSecret(), sent.Unix(), body)+", "+h.Get(HeaderSignature))
			return h
		}, body, sent, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Verify(c.secret, c.header(), c.body, c.now, DefaultWindow)
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
	if h := signed(); h.Get(HeaderEventID) != "e1" || h.Get(HeaderEventType) != TypeDied || h.Get(HeaderAttempt) != "1" {
		t.Fatalf("headers %v", h)
	}
}

// FuzzVerify feeds Verify headers as a hostile sender could write them: it
// must never panic, and accept only what the secret really signed.
func FuzzVerify(f *testing.F) {
	secret := "whsec_fuzz"
	now := time.Unix(1_780_000_000, 0)
	body := []byte(`{"id":"e"}`)
	f.Add(strconv.FormatInt(now.Unix(), 10), Signature(secret, now.Unix(), body), body)
	f.Add("", "", []byte{})
	f.Add("-1", "v1=", []byte("x"))
	f.Add("99999999999999999999", "v1=00,v1=zz", []byte("{}"))
	f.Add(strconv.FormatInt(now.Unix(), 10), " , ,v1=", body)
	f.Fuzz(func(t *testing.T, ts, sig string, b []byte) {
		h := http.Header{}
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		if err := Verify(secret, h, b, now, DefaultWindow); err == nil {
			n, _ := strconv.ParseInt(ts, 10, 64)
			if !strings.Contains(sig, Signature(secret, n, b)) {
				t.Fatalf("accepted a signature the secret did not make: ts=%q sig=%q", ts, sig)
			}
		}
	})
}
