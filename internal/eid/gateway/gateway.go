// Package gateway holds the e-ID module's adapters to services outside the
// platform, both spoken over HTTPS with a shared secret:
//
//   - SMS sends one-time codes through a telecom's SMS gateway
//     (eid.SMSGateway);
//   - Face asks a face-verification service whether a live image is the
//     person whose portrait it holds (eid.FaceVerifier).
//
// Every request is a POST of a JSON body signed like the platform's
// webhooks: the header Dancu-Timestamp carries the Unix time in seconds and
// Dancu-Signature carries "v1=" and the hex HMAC-SHA256, keyed with the
// shared secret's bytes, of timestamp + "." + body. The service checks the
// signature in constant time and refuses a timestamp more than five minutes
// away from its clock (Verify is the reference). Each body has an "id", a
// fresh random value the service may deduplicate on.
//
// The adapters never log or put into errors a phone number, a message text,
// a PIN or an image: an error names the service and the HTTP status only.
package gateway

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Request headers.
const (
	HeaderTimestamp = "Dancu-Timestamp" // Unix seconds
	HeaderSignature = "Dancu-Signature" // "v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>"
)

// Window is how far a request's timestamp may be from the service's clock.
const Window = 5 * time.Minute

// MinSecretLen is the shortest shared secret accepted, in bytes.
const MinSecretLen = 32

// Signature returns the v1 signature of body sent at ts.
func Signature(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Errors of Verify.
var (
	ErrUnsigned      = errors.New("gateway: signature or timestamp header missing")
	ErrOutsideWindow = errors.New("gateway: timestamp missing or outside the window")
	ErrBadSignature  = errors.New("gateway: signature does not match")
)

// Verify checks a request as the SMS gateway or face service should: the
// timestamp within Window of now and the signature right.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	tsText, sig := h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if tsText == "" || sig == "" {
		return ErrUnsigned
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || len(tsText) > 12 {
		return ErrOutsideWindow
	}
	if d := now.Sub(time.Unix(ts, 0)); d > Window || d < -Window {
		return ErrOutsideWindow
	}
	if !hmac.Equal([]byte(sig), []byte(Signature(secret, ts, body))) {
		return ErrBadSignature
	}
	return nil
}

// CheckURL accepts a service address: https, or http to this machine's
// loopback (a relay or sidecar on the same host, and tests), with no user
// information; the secret must be at least MinSecretLen bytes. what names
// the setting in the error.
func CheckURL(what, raw, secret string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return fmt.Errorf("%s URL is not an absolute http(s) URL without user information", what)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return fmt.Errorf("%s URL must be https (http only to a loopback address)", what)
		}
	default:
		return fmt.Errorf("%s URL must be https", what)
	}
	if len(secret) < MinSecretLen {
		return fmt.Errorf("%s secret has fewer than %d bytes", what, MinSecretLen)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// client is one endpoint and its secret.
type client struct {
	name   string // for errors: "SMS gateway", "face verification"
	url    string
	secret string
	http   *http.Client
	now    func() time.Time
}

func newClient(name, url, secret string, hc *http.Client, now func() time.Time) client {
	if hc == nil {
		// A bounded wait: a registration waits on the answer, and a hung
		// service must not hold it (or a connection) for ever.
		hc = &http.Client{Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if now == nil {
		now = time.Now
	}
	return client{name: name, url: url, secret: secret, http: hc, now: now}
}

// post sends body signed and decodes a 2xx answer's JSON into out (unless
// nil). Other statuses are errors naming only the status.
func (c client) post(ctx context.Context, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: build request: %w", c.name, err)
	}
	ts := c.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Signature(c.secret, ts, body))
	resp, err := c.http.Do(req)
	if err != nil {
		// The transport error names the URL (the operator's, no secret in
		// it) and never the body.
		return fmt.Errorf("%s: %w", c.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return fmt.Errorf("%s answered HTTP %d", c.name, resp.StatusCode)
	}
	if out == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(out); err != nil {
		return fmt.Errorf("%s: malformed answer: %w", c.name, err)
	}
	return nil
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// SMSRequest is the body POSTed to the SMS gateway.
type SMSRequest struct {
	ID     string `json:"id"`               // random, unique per message
	To     string `json:"to"`               // E.164, e.g. "+84912345678"
	Text   string `json:"text"`             // ASCII (no diacritics), one SMS
	Sender string `json:"sender,omitempty"` // brand name, when configured
}

// SMS is an eid.SMSGateway over HTTPS. Any 2xx answer means accepted for
// delivery; its body is ignored.
type SMS struct {
	c      client
	sender string
}

// NewSMS builds the adapter. sender is the brand name (may be empty); hc
// and now may be nil (a client with a 10 s timeout, time.Now).
func NewSMS(url, secret, sender string, hc *http.Client, now func() time.Time) *SMS {
	return &SMS{c: newClient("SMS gateway", url, secret, hc, now), sender: sender}
}

// Send posts one message.
func (s *SMS) Send(ctx context.Context, phone, text string) error {
	body, err := json.Marshal(SMSRequest{ID: newID(), To: phone, Text: text, Sender: s.sender})
	if err != nil {
		return fmt.Errorf("SMS gateway: encode: %w", err)
	}
	return s.c.post(ctx, body, nil)
}

// FaceRequest is the body POSTed to the face-verification service: the
// service compares image with the portrait it holds for pin.
type FaceRequest struct {
	ID    string `json:"id"`    // random, unique per request
	PIN   string `json:"pin"`   // the person's identification number
	Image []byte `json:"image"` // the live image (JPEG), base64 in JSON
}

// FaceResponse is the service's 200 answer. Match is required: an answer
// without it is an error, never a match.
type FaceResponse struct {
	Match *bool   `json:"match"`
	Score float64 `json:"score,omitempty"` // informative only
}

// Face is an eid.FaceVerifier over HTTPS.
type Face struct{ c client }

// NewFace builds the adapter; hc and now may be nil.
func NewFace(url, secret string, hc *http.Client, now func() time.Time) *Face {
	return &Face{c: newClient("face verification", url, secret, hc, now)}
}

// Verify asks the service. An empty image is no match without a call:
// there is nothing to compare.
func (f *Face) Verify(ctx context.Context, pin string, image []byte) (bool, error) {
	if len(image) == 0 || strings.TrimSpace(pin) == "" {
		return false, nil
	}
	body, err := json.Marshal(FaceRequest{ID: newID(), PIN: pin, Image: image})
	if err != nil {
		return false, fmt.Errorf("face verification: encode: %w", err)
	}
	var out FaceResponse
	if err := f.c.post(ctx, body, &out); err != nil {
		return false, err
	}
	if out.Match == nil {
		return false, errors.New("face verification: answer has no \"match\"")
	}
	return *out.Match, nil
}
