// Package eventstest gives tests a bus: the embedded NATS server, and the
// external one the machine runs (DANCU_TEST_NATS_URL, by default
// nats://127.0.0.1:4222), each test in a namespace of its own so that runs
// sharing the server (both CI suites, other developers' tests) never see
// each other's events.
package eventstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/events"
)

// DefaultURL is the external server tests use when DANCU_TEST_NATS_URL is
// not set.
const DefaultURL = "nats://127.0.0.1:4222"

// ExternalURL is the external NATS server's URL; the test is skipped, with
// the reason, when nothing answers there.
func ExternalURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("DANCU_TEST_NATS_URL")
	if u == "" {
		u = DefaultURL
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatalf("DANCU_TEST_NATS_URL %q: %v", u, err)
	}
	c, err := net.DialTimeout("tcp", pu.Host, time.Second)
	if err != nil {
		t.Skipf("external NATS at %s unreachable (%v): set DANCU_TEST_NATS_URL to a NATS 2.9+ server with JetStream", u, err)
	}
	c.Close()
	return u
}

// Namespace is a namespace no other test run uses.
func Namespace(t testing.TB) string {
	var b [6]byte
	rand.Read(b[:])
	return "test" + hex.EncodeToString(b[:])
}

// Open connects to the external server (skipping when unreachable) in a
// fresh namespace whose stream is deleted when the test ends.
func Open(t testing.TB) *events.Bus {
	t.Helper()
	return dial(t, events.Config{URL: ExternalURL(t), Namespace: Namespace(t)})
}

// Embedded starts an embedded server for the test.
func Embedded(t testing.TB) *events.Bus {
	t.Helper()
	return dial(t, events.Config{DataDir: t.TempDir()})
}

// Each runs fn with an embedded bus and with the external server's.
func Each(t *testing.T, fn func(t *testing.T, bus *events.Bus)) {
	t.Run("embedded", func(t *testing.T) { fn(t, Embedded(t)) })
	t.Run("external", func(t *testing.T) { fn(t, Open(t)) })
}

func dial(t testing.TB, cfg events.Config) *events.Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bus, err := events.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cfg.URL != "" {
			Drop(t, bus)
		}
		bus.Close()
	})
	return bus
}

// Drop deletes the bus's stream (with its consumers) from the server.
func Drop(t testing.TB, bus *events.Bus) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := bus.JS.DeleteStream(ctx, bus.StreamName()); err != nil {
		t.Logf("delete stream %s: %v", bus.StreamName(), err)
	}
}
