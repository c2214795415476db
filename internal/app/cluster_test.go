package app_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/app/apptest"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestTwoNodes runs two platforms on one PostgreSQL database and one NATS
// (node 1's embedded server, which node 2 dials), each with a data
// directory of its own and nothing copied between them: a card produced
// on node 2 verifies against the PKI node 1 created, a document signer
// rotated on node 1 signs node 2's next card within seconds, a partner's
// rate limit holds across both nodes, and a leased job (the purge, the audit checkpointer) has one holder.
func TestTwoNodes(t *testing.T) {
	dbURL := storagetest.URL(t, storage.Postgres) // skips without PostgreSQL
	ctx := context.Background()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	natsAddr := l.Addr().String()
	l.Close()
	base := platform.Config{Addr: "127.0.0.1:0", DB: dbURL, LogLevel: "info", LogFormat: "text",
		EIDSecret: strings.Repeat("e", 32), PKIKey: strings.Repeat("p", 32), PublicURL: "http://127.0.0.1:1"}
	open := func(name string, cfg platform.Config) (*app.App, *apptest.Buffer) {
		t.Helper()
		cfg.DataDir = t.TempDir()
		logs := &apptest.Buffer{}
		a, err := app.Open(ctx, cfg, cfg.Logger(logs), time.Now)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(a.Close)
		return a, logs
	}
	cfg1 := base
	cfg1.NATSListen = natsAddr
	n1, _ := open("node 1", cfg1)
	cfg2 := base
	cfg2.NATSURL = "nats://" + natsAddr
	n2, logs2 := open("node 2", cfg2)
	if _, err := n1.Bootstrap(ctx, apptest.Password); err != nil {
		t.Fatal(err)
	}
	if _, err := n1.SeedIfEmpty(ctx, 40, 7, nil); err != nil {
		t.Fatal(err)
	}

	// One PKI: node 2 took node 1's from the database.
	read := func(a *app.App, name string) []byte {
		b, err := os.ReadFile(filepath.Join(app.PKIDir(a.Config), name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(read(n1, "csca.pem"), read(n2, "csca.pem")) {
		t.Fatal("node 2 made a CSCA of its own")
	}

	var pins []string
	rows, err := n1.DB.R.Query(`SELECT pin FROM persons WHERE status = 'alive' AND length(birth_date) = 10 ORDER BY pin LIMIT 2`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p string
		rows.Scan(&p)
		pins = append(pins, p)
	}
	rows.Close()
	if len(pins) != 2 {
		t.Fatalf("persons: %v", pins)
	}
	admin := actor.Actor{ID: "staff:test", Role: actor.Admin}
	produce := func(cards *cardservice.Service, pin string) cardservice.Card {
		t.Helper()
		c, err := cards.Apply(ctx, admin, pin)
		if err == nil {
			_, err = cards.Approve(ctx, admin, c.Serial)
		}
		if err == nil {
			c, err = cards.Produce(ctx, admin, c.Serial)
		}
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	verifyOn := func(cards *cardservice.Service, c cardservice.Card) {
		t.Helper()
		chip, err := cards.Chip(ctx, admin, c.Serial)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := cards.Verify(ctx, nil, cardservice.VerifyInput{DataGroups: chip.DataGroups, SOD: chip.SOD})
		if err != nil || !rep.OK {
			t.Fatalf("card %s: %v %+v", c.Serial, err, rep)
		}
	}
	first := produce(n2.Cards, pins[0])
	verifyOn(n1.Cards, first)

	// A signer rotated on node 1 signs node 2's next card within seconds.
	rotated, err := app.RotateCardSigner(ctx, n1.Config, n1.DB, n1.Log)
	if err != nil {
		t.Fatal(err)
	}
	serial := rotated.Signer.SerialNumber.Text(16)
	start := time.Now()
	for strings.TrimSpace(string(read(n2, "ds/current"))) != serial {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("node 2 still signs with %s 5 s after the rotation\n%s", read(n2, "ds/current"), logs2)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("node 2 took the rotated signer after %v", time.Since(start).Round(time.Millisecond))
	second := produce(n2.Cards, pins[1])
	if second.SignerSerial != serial {
		t.Fatalf("node 2 signed with %s, want the rotated %s", second.SignerSerial, serial)
	}
	verifyOn(n1.Cards, second)
	verifyOn(n2.Cards, first) // the old signer still verifies

	// An OpenID key rotated on node 1 is published and signed with by
	// node 2 within seconds; the old key stays published.
	jwks := func(a *app.App) string {
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/oidc/keys", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("JWKS: %d %s", rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	before := jwks(n2) // makes the first key
	kid, err := app.RotateOIDCKey(ctx, n1.Config, n1.DB, n1.Leases, 0)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	for !strings.Contains(jwks(n2), kid) {
		if time.Since(start) > 7*time.Second {
			t.Fatalf("node 2 does not publish the rotated key %s 7 s after the rotation", kid)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if after := jwks(n2); !strings.Contains(after, strings.Split(strings.SplitAfter(before, `"kid":"`)[1], `"`)[0]) {
		t.Fatalf("the old key is no longer published: %s", after)
	}

	// A partner's rate limit holds across the nodes: calls alternating
	// between them admit the burst once, not once per node.
	bank := exchange.Partner{ID: "bank-two-nodes", Policy: exchange.Policy{RatePerSecond: 0.5, Burst: 4}}
	admitted := 0
	for i := range 12 {
		node := []*app.App{n1, n2}[i%2]
		if err := node.PartnerLimits.Admit(ctx, bank); err == nil {
			admitted++
		} else if _, ok := exchange.RetryAfter(err); !ok {
			t.Fatal(err)
		}
	}
	if admitted > 5 { // the burst, and a token refilled if the loop was slow
		t.Fatalf("two nodes admitted %d calls of a partner with a burst of 4", admitted)
	}

	// The purge and the audit checkpointer run on one node: one holds each
	// lease, the other is refused it.
	for _, name := range []string{"purge", "audit-checkpoint"} {
		deadline := time.Now().Add(5 * time.Second)
		var holder string
		for holder == "" && time.Now().Before(deadline) {
			n1.DB.R.QueryRow(`SELECT holder FROM leases WHERE name = $1`, name).Scan(&holder)
			time.Sleep(20 * time.Millisecond)
		}
		var held int
		for _, n := range []*app.App{n1, n2} {
			ok, err := n.Leases.Acquire(ctx, name, 30*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				held++
				if n.Leases.Holder != holder {
					t.Fatalf("node %s took the %s lease held by %s", n.Leases.Holder, name, holder)
				}
			}
		}
		if held != 1 {
			t.Fatalf("%d nodes hold the %s lease, want 1 (holder %q)", held, name, holder)
		}
	}
}
