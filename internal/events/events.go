// Package events owns the event contract: the JetStream stream, every
// subject and the type of its body (the catalogue, subjects.go), how a
// module publishes (Enqueue into the transactional outbox, or Publish for
// state already committed; both refuse a subject the module did not declare
// with Publishes) and how it consumes (Consume: a durable consumer with one
// filter subject, batches, backoff, a maximum of deliveries and dead
// letters). TestContract checks that every consumed subject has a publisher.
//
// Life events reach NATS JetStream from the transactional outbox: an
// embedded server by default, an external one (NATS 2.9 or later) by
// configuration. Messages carry the outbox's stable id as Nats-Msg-Id, so a
// relay that crashes between publishing and trimming the outbox publishes
// again and JetStream drops the duplicate.
package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dancu-project/dancu/internal/storage"
)

// Stream is the JetStream stream holding every dancu event in the default
// namespace.
const Stream = "DANCU"

// Subjects the stream captures in the default namespace.
const Subjects = Root + ".>"

// DefaultNamespace is the namespace of a platform that configures none: the
// stream DANCU capturing dancu.>.
const DefaultNamespace = Root

var namespaceRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// Config says where the bus is.
type Config struct {
	// URL is an external NATS server (2.9 or later, JetStream enabled);
	// empty starts an embedded server storing under DataDir.
	URL     string
	DataDir string
	// Listen, when not empty ("127.0.0.1:4222"), lets outside clients
	// reach the embedded server; otherwise it takes no port.
	Listen string
	// Namespace replaces the root "dancu" of every subject on the wire, and
	// names the stream (upper-cased): several platforms (a staging and a
	// test run beside production) can share one NATS server without
	// seeing each other's events. Empty is DefaultNamespace.
	Namespace string
	// Replicas is how many servers of a NATS cluster keep the stream
	// (JetStream's R1, R3, R5); 0 is 1. With 3, a cluster of three loses
	// no event and keeps accepting them when one server stops.
	Replicas int
}

// Bus is a connection to JetStream, with the embedded server when there is one.
type Bus struct {
	Conn     *nats.Conn
	JS       jetstream.JetStream
	embedded *server.Server
	ns       string // the subjects' root on the wire
	stream   string
}

// Open connects to url, or when url is empty starts an embedded server with
// JetStream storing under dataDir, in the default namespace (see Config).
func Open(ctx context.Context, url, dataDir, listen string) (*Bus, error) {
	return Dial(ctx, Config{URL: url, DataDir: dataDir, Listen: listen})
}

// Dial connects to the bus cfg names and creates (or updates) its stream.
func Dial(ctx context.Context, cfg Config) (*Bus, error) {
	ns := cfg.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	if !namespaceRE.MatchString(ns) {
		return nil, fmt.Errorf("nats namespace %q: want a lower-case letter then up to 31 of a-z, 0-9, _ and -", ns)
	}
	url, dataDir, listen := cfg.URL, cfg.DataDir, cfg.Listen
	b := &Bus{ns: ns, stream: strings.ToUpper(ns)}
	var opts []nats.Option
	if url == "" {
		o := &server.Options{
			ServerName: "dancu",
			JetStream:  true,
			StoreDir:   filepath.Join(dataDir, "jetstream"),
			NoSigs:     true,
			NoLog:      true,
			DontListen: listen == "",
		}
		if listen != "" {
			host, port, err := splitHostPort(listen)
			if err != nil {
				return nil, err
			}
			o.Host, o.Port = host, port
		}
		ns, err := server.NewServer(o)
		if err != nil {
			return nil, fmt.Errorf("embedded nats: %w", err)
		}
		go ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			ns.Shutdown()
			return nil, errors.New("embedded nats: not ready after 10s")
		}
		b.embedded = ns
		opts = append(opts, nats.InProcessServer(ns))
		url = ns.ClientURL()
	}
	opts = append(opts, nats.Name("dancu"), nats.MaxReconnects(-1))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("connect nats: %w", err)
	}
	b.Conn = nc
	if err := SupportedServer(nc.ConnectedServerVersion()); err != nil {
		b.Close()
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	b.JS = js
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       b.stream,
		Subjects:   []string{ns + ".>"},
		Storage:    jetstream.FileStorage,
		Duplicates: 24 * time.Hour,
		MaxAge:     30 * 24 * time.Hour,
		Replicas:   cfg.Replicas,
	})
	if err != nil {
		b.Close()
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			return nil, fmt.Errorf("create stream %s: the NATS server has no JetStream for this account: dancu needs NATS %s or later with JetStream enabled (nats-server -js): %w", b.stream, MinServer, err)
		}
		return nil, fmt.Errorf("create stream %s: %w", b.stream, err)
	}
	return b, nil
}

// MinServer is the oldest NATS server the bus works with: 2.9 creates a
// consumer with its filter subject in the request, and dancu's consumers
// each filter on one subject (2.10's several filters are not needed).
const MinServer = "2.9.0"

// SupportedServer refuses a server older than MinServer, naming the version
// needed.
func SupportedServer(version string) error {
	v, ok := parseVersion(version)
	m, _ := parseVersion(MinServer)
	if !ok || v[0] < m[0] || v[0] == m[0] && v[1] < m[1] {
		return fmt.Errorf("NATS server %q is not supported: dancu needs NATS %s or later with JetStream enabled", version, MinServer)
	}
	return nil
}

func parseVersion(s string) ([3]int, bool) {
	var v [3]int
	s, _, _ = strings.Cut(strings.TrimPrefix(s, "v"), "-")
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

// StreamName is the stream holding the namespace's events (DANCU by default).
func (b *Bus) StreamName() string { return b.stream }

// Wire is subject (as the catalogue names it, root "dancu") as it travels in
// the bus's namespace.
func (b *Bus) Wire(subject string) string {
	if rest, ok := strings.CutPrefix(subject, Root); ok && (rest == "" || rest[0] == '.') {
		return b.ns + rest
	}
	return subject
}

// canonical is the catalogue's name of a subject read on the wire.
func (b *Bus) canonical(subject string) string {
	if rest, ok := strings.CutPrefix(subject, b.ns); ok && (rest == "" || rest[0] == '.') {
		return Root + rest
	}
	return subject
}

// Ready reports whether the connection is up, for readiness probes.
func (b *Bus) Ready() error {
	if b.Conn == nil || !b.Conn.IsConnected() {
		return errors.New("nats not connected")
	}
	return nil
}

// Close drains the connection and stops the embedded server.
func (b *Bus) Close() {
	if b.Conn != nil {
		b.Conn.Drain()
		b.Conn.Close()
	}
	if b.embedded != nil {
		b.embedded.Shutdown()
		b.embedded.WaitForShutdown()
	}
}

// Relay publishes outbox events in commit order.
type Relay struct {
	DB       *storage.DB
	Bus      *Bus
	Log      *slog.Logger
	Interval time.Duration // poll interval when the outbox is empty
	// Published counts events published, for metrics; may be nil.
	Published func(n int)
}

// Run publishes until ctx ends.
func (r *Relay) Run(ctx context.Context) {
	interval := r.Interval
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	for {
		n, err := r.Once(ctx)
		if err != nil && ctx.Err() == nil {
			r.Log.Warn("outbox relay", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// Once publishes one batch and trims it from the outbox; it returns how many
// events it published.
func (r *Relay) Once(ctx context.Context) (int, error) {
	evs, err := r.DB.PendingEvents(ctx, 500)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	futures := make([]jetstream.PubAckFuture, 0, len(evs))
	for _, e := range evs {
		msg := &nats.Msg{Subject: r.Bus.Wire(e.Subject), Data: e.Payload, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, e.MsgID)
		f, err := r.Bus.JS.PublishMsgAsync(msg)
		if err != nil {
			return 0, fmt.Errorf("publish %s: %w", e.Subject, err)
		}
		futures = append(futures, f)
	}
	done := 0
	for _, f := range futures {
		select {
		case <-f.Ok():
			done++
		case err := <-f.Err():
			// Trim only the prefix that was acknowledged, keeping order.
			if done > 0 {
				if terr := r.DB.DeleteEvents(ctx, evs[done-1].ID); terr != nil {
					return done, terr
				}
			}
			return done, fmt.Errorf("publish ack: %w", err)
		case <-ctx.Done():
			return done, ctx.Err()
		}
	}
	if err := r.DB.DeleteEvents(ctx, evs[len(evs)-1].ID); err != nil {
		return done, err
	}
	if r.Published != nil {
		r.Published(done)
	}
	return done, nil
}
