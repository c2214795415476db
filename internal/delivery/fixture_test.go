package delivery

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/storage"
)

var testSecret = []byte("a test platform secret of at least 32 bytes")

func migrations() []storage.Migrations {
	return []storage.Migrations{Migrations(), audit.Migrations()}
}

func newStore(t testing.TB, db *storage.DB) *Store {
	t.Helper()
	s, err := NewStore(db, testSecret, time.Now, Egress{Development: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testPIN returns a valid-looking PIN for person n.
func testPIN(n int) string {
	prefix, _ := pin.Prefix("001", 1980, pin.Male)
	return pin.FromSerial(prefix, n).String()
}

// links is the Audience of a test: which partners are linked to a PIN.
type links map[string][]string

func (l links) Linked(_ context.Context, p string) ([]string, error) { return l[p], nil }

// lifeEvent is a message as the register publishes it, of a person living
// in Hà Nội (commune 00004).
func lifeEvent(id, subject, p, effective string) Message {
	return lifeEventIn(id, subject, p, effective, "01", "00004")
}

// lifeEventIn is lifeEvent for a person living in (province, commune).
func lifeEventIn(id, subject, p, effective, province, commune string) Message {
	body, _ := json.Marshal(map[string]any{"event_id": id, "kind": "x", "pin": p, "effective_date": effective,
		"province_code": province, "commune_code": commune, "recorded_at": time.Date(2026, 3, 1, 20, 30, 0, 0, time.UTC)})
	return Message{Subject: subject, ID: "outbox-" + id, Data: body}
}

// receiver is a partner's webhook endpoint that checks every signature
// and counts each event id it sees, as an idempotent receiver would.
type receiver struct {
	t      testing.TB
	secret func() string
	srv    *httptest.Server

	mu       sync.Mutex
	behave   func(r *http.Request) int // status to answer; nil: 200
	seen     map[string]int
	bodies   map[string]Payload
	badSig   int
	requests []*http.Request
	rawBody  map[string][]byte
}

func newReceiver(t testing.TB) *receiver {
	rc := &receiver{t: t, seen: map[string]int{}, bodies: map[string]Payload{}, rawBody: map[string][]byte{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	behave := rc.behave
	rc.mu.Unlock()
	if behave != nil {
		if code := behave(r); code != 0 {
			w.WriteHeader(code)
			return
		}
	}
	if err := Verify(rc.secret(), r.Header, body, time.Now(), DefaultWindow); err != nil {
		rc.mu.Lock()
		rc.badSig++
		rc.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var p Payload
	json.Unmarshal(body, &p)
	rc.mu.Lock()
	id := r.Header.Get(HeaderEventID)
	rc.seen[id]++
	rc.bodies[id] = p
	rc.rawBody[id] = body
	rc.requests = append(rc.requests, r)
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// counts returns how many distinct events arrived and how many copies
// beyond the first.
func (rc *receiver) counts() (distinct, duplicates int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, n := range rc.seen {
		distinct++
		duplicates += n - 1
	}
	return
}

func (rc *receiver) ids() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for id := range rc.seen {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// openPolicy allows every event type and field.
var openPolicy = exchange.Policy{Operations: []exchange.Operation{exchange.OpSubscribe},
	Fields: []string{"pin", "full_name", "birth_date", "permanent_address", "temporary_address", "status", "death_date"}}

// policyTable gives the partners' policies of a test; a partner not in it
// has openPolicy, one set to nil does not exist.
type policyTable map[string]*exchange.Policy

func (t policyTable) Partner(_ context.Context, id string) (exchange.Partner, error) {
	pol, ok := t[id]
	switch {
	case !ok:
		return exchange.Partner{ID: id, Policy: openPolicy}, nil
	case pol == nil:
		return exchange.Partner{}, exchange.ErrPartnerNotFound
	}
	return exchange.Partner{ID: id, Policy: *pol}, nil
}
