package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/gateway"
)

const secret = "a shared secret of at least thirty-two bytes"

var (
	_ eid.SMSGateway   = (*gateway.SMS)(nil)
	_ eid.FaceVerifier = (*gateway.Face)(nil)
)

// service is the outside service as its documented contract says: it
// checks the signature and records what it was sent.
type service struct {
	mu     sync.Mutex
	bodies [][]byte
	status int
	answer string
}

func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if err := gateway.Verify(secret, r.Header, body, time.Now()); err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, body)
	status, answer := s.status, s.answer
	s.mu.Unlock()
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	io.WriteString(w, answer)
}

func (s *service) last(t *testing.T, v any) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bodies) == 0 {
		t.Fatal("the service received nothing")
	}
	if err := json.Unmarshal(s.bodies[len(s.bodies)-1], v); err != nil {
		t.Fatal(err)
	}
}

func TestSMSSendsASignedMessage(t *testing.T) {
	svc := &service{answer: `{"accepted":true}`}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	sms := gateway.NewSMS(srv.URL+"/sms", secret, "DANCU", nil, nil)
	ctx := context.Background()
	const phone, text = "+84912345678", "Ma xac thuc: 123456."
	if err := sms.Send(ctx, phone, text); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	svc.last(t, &got)
	if got["to"] != phone || got["text"] != text || got["sender"] != "DANCU" || len(got["id"].(string)) != 32 || len(got) != 4 {
		t.Fatalf("request body: %v", got)
	}

	// A wrong secret is refused by the service, and that is an error here.
	if err := gateway.NewSMS(srv.URL, strings.Repeat("x", 32), "", nil, nil).Send(ctx, phone, text); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("wrong secret: %v", err)
	}
	// Any status outside 2xx is an error that names neither the phone nor
	// the text (the code).
	for _, status := range []int{http.StatusBadRequest, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway} {
		svc.mu.Lock()
		svc.status, svc.answer = status, `{"error":"rejected +84912345678 123456"}`
		svc.mu.Unlock()
		err := sms.Send(ctx, phone, text)
		if err == nil || !strings.Contains(err.Error(), "HTTP "+strconv.Itoa(status)) {
			t.Fatalf("status %d: %v", status, err)
		}
		if msg := err.Error(); strings.Contains(msg, "912345678") || strings.Contains(msg, "123456") {
			t.Fatalf("the error discloses the message: %s", msg)
		}
	}
	// An unreachable gateway is an error too.
	srv.Close()
	if err := sms.Send(ctx, phone, text); err == nil || strings.Contains(err.Error(), "912345678") {
		t.Fatalf("gateway down: %v", err)
	}
}

func TestFaceVerification(t *testing.T) {
	svc := &service{}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	face := gateway.NewFace(srv.URL, secret, nil, nil)
	ctx := context.Background()
	image := []byte{0xff, 0xd8, 0xff, 0xe0, 1, 2, 3}
	for _, c := range []struct {
		name    string
		status  int
		answer  string
		match   bool
		wantErr bool
	}{
		{"match", 200, `{"match":true,"score":0.97}`, true, false},
		{"no match", 200, `{"match":false,"score":0.12}`, false, false},
		{"answer without match", 200, `{"score":0.99}`, false, true},
		{"not JSON", 200, `<html>`, false, true},
		{"service error", 503, `{"match":true}`, false, true},
		{"refused", 403, ``, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			svc.mu.Lock()
			svc.status, svc.answer = c.status, c.answer
			svc.mu.Unlock()
			ok, err := face.Verify(ctx, "001090000001", image)
			if ok != c.match || (err != nil) != c.wantErr {
				t.Fatalf("got %v, %v; want %v, error %v", ok, err, c.match, c.wantErr)
			}
			var req struct {
				ID, PIN string
				Image   []byte
			}
			svc.last(t, &req)
			if req.PIN != "001090000001" || string(req.Image) != string(image) || req.ID == "" {
				t.Fatalf("request: %+v", req)
			}
		})
	}
	svc.mu.Lock()
	n := len(svc.bodies)
	svc.mu.Unlock()
	if ok, err := face.Verify(ctx, "001090000001", nil); ok || err != nil {
		t.Fatalf("no image: %v %v", ok, err)
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if len(svc.bodies) != n {
		t.Fatal("an empty image was sent to the service")
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"x"}`)
	signed := func(ts int64, sig string) http.Header {
		h := http.Header{}
		h.Set(gateway.HeaderTimestamp, strconv.FormatInt(ts, 10))
		h.Set(gateway.HeaderSignature, sig)
		return h
	}
	good := gateway.Signature(secret, now.Unix(), body)
	for _, c := range []struct {
		name string
		h    http.Header
		body []byte
		want error
	}{
		{"good", signed(now.Unix(), good), body, nil},
		{"4 minutes old", signed(now.Unix()-240, gateway.Signature(secret, now.Unix()-240, body)), body, nil},
		{"6 minutes old", signed(now.Unix()-360, gateway.Signature(secret, now.Unix()-360, body)), body, gateway.ErrOutsideWindow},
		{"from the future", signed(now.Unix()+360, gateway.Signature(secret, now.Unix()+360, body)), body, gateway.ErrOutsideWindow},
		{"other body", signed(now.Unix(), good), []byte(`{"id":"y"}`), gateway.ErrBadSignature},
		{"other secret", signed(now.Unix(), gateway.Signature(secret+"!", now.Unix(), body)), body, gateway.ErrBadSignature},
		{"timestamp changed", signed(now.Unix()-1, good), body, gateway.ErrBadSignature},
		{"unsigned", http.Header{}, body, gateway.ErrUnsigned},
	} {
		if err := gateway.Verify(secret, c.h, c.body, now); err != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for _, c := range []struct {
		url, secret string
		ok          bool
	}{
		{"https://sms.example.vn/send", secret, true},
		{"http://127.0.0.1:9000/send", secret, true},
		{"http://[::1]:9000/send", secret, true},
		{"http://localhost:9000/send", secret, true},
		{"http://sms.example.vn/send", secret, false}, // plain text across a network
		{"https://user:pw@sms.example.vn/send", secret, false},
		{"ftp://sms.example.vn", secret, false},
		{"sms.example.vn/send", secret, false},
		{"", secret, false},
		{"https://sms.example.vn/send", "short", false},
	} {
		if err := gateway.CheckURL("SMS gateway", c.url, c.secret); (err == nil) != c.ok {
			t.Errorf("%q: %v", c.url, err)
		}
	}
}
