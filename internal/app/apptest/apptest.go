// Package apptest starts the whole platform for a test: a fresh database of
// the chosen backend, the embedded NATS server, a small synthetic population,
// the bootstrap staff accounts, and an HTTP server on a loopback port. Every
// log line goes to a buffer the test can inspect.
package apptest

import (
	"bytes"
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// Password of every bootstrap account in tests.
const Password = "mật-khẩu-thử-nghiệm"

// Env is a running platform.
type Env struct {
	App    *app.App
	Server *httptest.Server
	Logs   *Buffer
}

// Buffer is a goroutine-safe log sink.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything logged so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Start runs the platform on a fresh database of dialect d with persons
// synthetic people (seed 7), logging at debug level.
func Start(t testing.TB, d storage.Dialect, persons int) *Env {
	t.Helper()
	ctx := context.Background()
	logs := &Buffer{}
	cfg := platform.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), LogLevel: "debug", LogFormat: "text", SeedPersons: persons, Seed: 7}
	if d == storage.Postgres {
		cfg.DB = storagetest.URL(t, d)
	} else {
		cfg.DataDir = t.TempDir()
	}
	// The server's address must be known before the app is built: it is the
	// OpenID issuer's.
	srv := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	a, err := app.Open(ctx, cfg, cfg.Logger(logs), time.Now)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	srv.Config.Handler = a.Handler
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	if _, err := a.Bootstrap(ctx, Password); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SeedIfEmpty(ctx, persons, cfg.Seed, nil); err != nil {
		t.Fatal(err)
	}
	return &Env{App: a, Server: srv, Logs: logs}
}
