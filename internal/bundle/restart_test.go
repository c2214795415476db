package bundle_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/bundle"
	"github.com/dancu-project/dancu/internal/bundle/partnersim"
	"github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// node is the platform behind a fixed address whose process can stop and
// start again on the same data (database, JetStream files).
type node struct {
	t   testing.TB
	cfg platform.Config
	h   atomic.Pointer[http.Handler]
	srv *httptest.Server
	app *app.App
}

func newNode(t testing.TB, d storage.Dialect) *node {
	n := &node{t: t, cfg: platform.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), LogLevel: "error", LogFormat: "text", SeedPersons: 300, Seed: 7}}
	if d == storage.Postgres {
		n.cfg.DB = storagetest.URL(t, d)
	}
	n.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := n.h.Load()
		if h == nil {
			http.Error(w, "restarting", http.StatusServiceUnavailable)
			return
		}
		(*h).ServeHTTP(w, r)
	}))
	n.cfg.PublicURL = "http://" + n.srv.Listener.Addr().String()
	n.srv.Start()
	t.Cleanup(func() {
		n.srv.Close()
		if n.app != nil {
			n.app.Close()
		}
	})
	return n
}

func (n *node) start() {
	n.t.Helper()
	a, err := app.Open(context.Background(), n.cfg, n.cfg.Logger(io.Discard), time.Now)
	if err != nil {
		n.t.Fatal(err)
	}
	n.app = a
	h := a.Handler
	n.h.Store(&h)
}

// stop takes the node down in the middle of whatever it was doing: the
// address answers 503 until it starts again.
func (n *node) stop() {
	n.h.Store(nil)
	n.app.Close()
	n.app = nil
}

// TestSagaRestart on SQLite and PostgreSQL: bundles are filed, the server
// stops while steps wait for the partners' answers (the simulator answers
// after 1.5 s, refusing some, repeating some) and starts again on the same
// database and stream; every bundle ends in a defined state, none lost,
// no step done twice, each child registered once.
func TestSagaRestart(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			n := newNode(t, d)
			n.start()
			if _, err := n.app.Bootstrap(ctx, apptest.Password); err != nil {
				t.Fatal(err)
			}
			if _, err := n.app.SeedIfEmpty(ctx, 300, 7, nil); err != nil {
				t.Fatal(err)
			}
			creds, err := n.app.BootstrapPartners(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range creds {
				if c.PartnerID != bundle.PartnerInsurance {
					continue
				}
				sim := partnersim.New(partnersim.Config{Server: n.cfg.PublicURL, ClientID: c.ClientID, Secret: c.Secret, Delay: 1500 * time.Millisecond,
					RefuseRate: 0.25, DuplicateRate: 0.5, Seed: 7})
				srv := httptest.NewServer(sim)
				t.Cleanup(func() { sim.Close(); srv.Close() })
				if err := sim.Discover(ctx); err != nil {
					t.Fatal(err)
				}
				if err := sim.Register(ctx, srv.URL); err != nil {
					t.Fatal(err)
				}
			}
			env := &apptest.Env{App: n.app}
			ms := mothers(t, env, 6)
			cert := certificate(t)
			for i, m := range ms {
				if _, err := n.app.Bundles.FileBirth(ctx, bundle.Filer{PIN: m, Level: 2}, bundle.BirthForm{Relation: "mother", ChildName: "Lê Văn " + givenNames[i],
					ChildBirthDate: daysAgo(1).String(), ChildSex: "M", Birthplace: "Trạm y tế xã", Certificate: cert, IdempotencyKey: fmt.Sprintf("restart-%02d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			// Stop once some steps wait for their answers.
			deadline := time.Now().Add(20 * time.Second)
			for {
				var sent int
				n.app.DB.R.QueryRow(`SELECT COUNT(*) FROM bundle_steps WHERE status = 'sent'`).Scan(&sent)
				if sent > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("no step was sent")
				}
				time.Sleep(20 * time.Millisecond)
			}
			n.stop()
			time.Sleep(2 * time.Second) // answers arrive while the node is down
			n.start()
			counts := settle(t, n.app.Bundles, len(ms), 60*time.Second)
			if counts[bundle.Rejected] != 0 {
				t.Errorf("outcomes %v", counts)
			}
			var children int
			n.app.DB.R.QueryRow(`SELECT COUNT(*) FROM persons WHERE update_reason LIKE 'Hồ sơ liên thông %'`).Scan(&children)
			if children != len(ms) {
				t.Errorf("%d children registered for %d bundles", children, len(ms))
			}
		})
	}
}
