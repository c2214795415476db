package simgateway

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/dancu-project/dancu/internal/payment"
)

// Headers of a signed message, callback or API call.
const (
	HeaderTimestamp = "X-Sim-Timestamp" // Unix seconds
	HeaderSignature = "X-Sim-Signature" // hex HMAC-SHA256 over timestamp "." message
)

// MaxSkew is how far a signed message's timestamp may be from the
// receiver's clock: an older callback is a replay, not a resend (resends
// are signed anew).
const MaxSkew = 5 * time.Minute

// maxBody bounds a callback or API body; a real one is a few hundred bytes.
const maxBody = 16 << 10

// Sign is the signature of msg at ts under secret: hex HMAC-SHA256 over
// "<unix seconds>.<msg>". Callbacks and POSTs sign their body; GETs sign
// "GET <path>".
func Sign(secret []byte, ts time.Time, msg []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	m.Write([]byte{'.'})
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

func setSigned(h http.Header, secret []byte, now time.Time, msg []byte) {
	h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(HeaderSignature, Sign(secret, now, msg))
}

// verify checks the timestamp's freshness and the signature over msg.
func verify(h http.Header, secret []byte, now time.Time, msg []byte) error {
	tsText := h.Get(HeaderTimestamp)
	if len(tsText) == 0 || len(tsText) > 12 {
		return errors.New("no timestamp")
	}
	sec, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || sec <= 0 {
		return errors.New("bad timestamp")
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > MaxSkew || d < -MaxSkew {
		return errors.New("stale timestamp")
	}
	got, err := hex.DecodeString(h.Get(HeaderSignature))
	if err != nil {
		return errors.New("bad signature encoding")
	}
	want, _ := hex.DecodeString(Sign(secret, ts, msg))
	if !hmac.Equal(got, want) {
		return errors.New("signature mismatch")
	}
	return nil
}

// callback is the wire form of a callback.
type callback struct {
	EventID  string `json:"event_id"`
	Ref      string `json:"ref"`
	IntentID string `json:"intent_id"`
	Status   string `json:"status"`
	Amount   int64  `json:"amount"`
	Method   string `json:"method"`
	Reason   string `json:"reason,omitempty"`
	At       string `json:"at"`
}

// method is a payment method a payer can pick on the page, and its label.
type method struct{ Key, Label string }

// methods lists the payment methods in the page's order.
func methods() []method {
	return []method{{"card", "Thẻ ngân hàng"}, {"transfer", "Chuyển khoản"}, {"wallet", "Ví điện tử"}, {"qr", "Mã QR"}}
}

// knownMethod reports whether k is one of methods.
func knownMethod(k string) bool {
	for _, m := range methods() {
		if m.Key == k {
			return true
		}
	}
	return false
}

// ParseCallback verifies a callback's signature and timestamp under secret
// at now, then reads its body strictly: one JSON object with known fields,
// ids of safe characters, a status of paid or failed, an amount in range,
// a known method for a payment and an RFC 3339 time. The body is
// authenticated before it is parsed, so an unsigned body never reaches the
// JSON decoder.
func ParseCallback(header http.Header, body []byte, secret []byte, now time.Time) (payment.Callback, error) {
	if len(body) > maxBody {
		return payment.Callback{}, errors.New("body too large")
	}
	if err := verify(header, secret, now, body); err != nil {
		return payment.Callback{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var c callback
	if err := dec.Decode(&c); err != nil {
		return payment.Callback{}, fmt.Errorf("body: %w", err)
	}
	if dec.More() {
		return payment.Callback{}, errors.New("trailing data")
	}
	if !id(c.EventID) || !id(c.Ref) || !id(c.IntentID) {
		return payment.Callback{}, errors.New("bad id")
	}
	if c.Amount <= 0 || c.Amount > payment.MaxAmount {
		return payment.Callback{}, errors.New("bad amount")
	}
	switch c.Status {
	case payment.CallbackPaid:
		if !knownMethod(c.Method) {
			return payment.Callback{}, errors.New("bad method")
		}
	case payment.CallbackFailed:
		if c.Method != "" {
			if !knownMethod(c.Method) {
				return payment.Callback{}, errors.New("bad method")
			}
		}
	default:
		return payment.Callback{}, errors.New("bad status")
	}
	if !reason(c.Reason) {
		return payment.Callback{}, errors.New("bad reason")
	}
	at, err := time.Parse(time.RFC3339Nano, c.At)
	if err != nil {
		return payment.Callback{}, errors.New("bad time")
	}
	return payment.Callback{EventID: c.EventID, Ref: c.Ref, IntentID: c.IntentID, Status: c.Status, Amount: c.Amount,
		Method: c.Method, Reason: c.Reason, At: at.UTC()}, nil
}

// id accepts the gateway's and the platform's identifiers: 1–64 letters,
// digits, '-' and '_'.
func id(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// reason accepts a short machine reason: up to 64 of [a-z0-9_].
func reason(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
