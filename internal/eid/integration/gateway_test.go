package integration

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/gateway"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// gatewayService is the SMS gateway or the face-verification service of
// the documented contract: it checks the signature, keeps the requests, and
// the face service answers with match.
type gatewayService struct {
	secret string
	mu     sync.Mutex
	match  bool
	bodies []map[string]any
}

func (g *gatewayService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := gateway.Verify(g.secret, r.Header, body, time.Now()); err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.bodies = append(g.bodies, m)
	json.NewEncoder(w).Encode(map[string]any{"match": g.match, "score": 0.5})
}

func (g *gatewayService) requests() []map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]map[string]any(nil), g.bodies...)
}

// TestRegistrationThroughGateways registers a citizen in production mode
// with the HTTP adapters: a face the service does not match is refused
// with eid.face_mismatch before any code is sent or enrolment kept; a
// matched face gets its code through the SMS gateway, and the code from
// the gateway's request completes the registration. No phone number or
// code reaches the log.
func TestRegistrationThroughGateways(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env, p, _, _ := start(t, string(d))
			ctx := context.Background()
			smsSvc := &gatewayService{secret: strings.Repeat("s", 32)}
			faceSvc := &gatewayService{secret: strings.Repeat("f", 32)}
			smsSrv, faceSrv := httptest.NewServer(smsSvc), httptest.NewServer(faceSvc)
			defer smsSrv.Close()
			defer faceSrv.Close()
			svc, err := eid.NewService(eid.Deps{DB: env.App.DB, Register: env.App.Registry, Secret: secret, Log: env.App.Log, Now: time.Now, Production: true,
				SMS:  gateway.NewSMS(smsSrv.URL, smsSvc.secret, "DANCU", nil, nil),
				Face: gateway.NewFace(faceSrv.URL, faceSvc.secret, nil, nil)})
			if err != nil {
				t.Fatal(err)
			}
			const phone = "0912345678"
			in := eid.RegistrationInput{PIN: p.pin, CardNumber: p.pin, FullName: p.name, BirthDate: p.birth, Phone: phone, Face: []byte("live image"), ClientIP: "127.0.0.9"}
			enrolments := func() int {
				var n int
				env.App.DB.R.QueryRowContext(ctx, `SELECT count(*) FROM eid_enrolments WHERE pin = $1`, p.pin).Scan(&n)
				return n
			}

			// The service says the face is someone else's.
			_, err = svc.StartRegistration(ctx, in)
			if !errors.Is(err, eid.ErrFaceMismatch) {
				t.Fatalf("face mismatch: %v", err)
			}
			if faces := faceSvc.requests(); len(faces) != 1 || faces[0]["pin"] != p.pin || faces[0]["image"] == "" {
				t.Fatalf("face service requests: %v", faces)
			}
			if n := len(smsSvc.requests()); n != 0 || enrolments() != 0 {
				t.Fatalf("after a face mismatch: %d messages sent, %d enrolments kept", n, enrolments())
			}
			// No image is no match, without asking the service.
			noFace := in
			noFace.Face = nil
			if _, err := svc.StartRegistration(ctx, noFace); !errors.Is(err, eid.ErrFaceMismatch) || len(faceSvc.requests()) != 1 {
				t.Fatalf("no face image: %v", err)
			}

			// A face the service matches: the code goes through the gateway.
			faceSvc.mu.Lock()
			faceSvc.match = true
			faceSvc.mu.Unlock()
			// A gateway that is down is an error naming the gateway, not a
			// code silently lost.
			down := httptest.NewServer(smsSvc)
			down.Close()
			svcDown, err := eid.NewService(eid.Deps{DB: env.App.DB, Register: env.App.Registry, Secret: secret, Log: env.App.Log, Now: time.Now, Production: true,
				SMS:  gateway.NewSMS(down.URL, smsSvc.secret, "", nil, nil),
				Face: gateway.NewFace(faceSrv.URL, faceSvc.secret, nil, nil)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svcDown.StartRegistration(ctx, in); err == nil || !strings.Contains(err.Error(), "SMS gateway") || strings.Contains(err.Error(), "912345678") {
				t.Fatalf("SMS gateway down: %v", err)
			}
			enr, err := svc.StartRegistration(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			msgs := smsSvc.requests()
			if len(msgs) != 1 || msgs[0]["to"] != "+84912345678" || msgs[0]["sender"] != "DANCU" {
				t.Fatalf("SMS gateway requests: %v", msgs)
			}
			code := regexp.MustCompile(`\d{6}`).FindString(msgs[0]["text"].(string))
			if _, err := svc.CompleteRegistration(ctx, enr.ID, code, password); err != nil {
				t.Fatalf("the code from the gateway does not complete the registration: %v", err)
			}
			if logs := env.Logs.String(); strings.Contains(logs, "912345678") || strings.Contains(logs, code) {
				t.Fatal("the phone number or the code is in the log")
			}

		})
	}
}
