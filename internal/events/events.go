// Package events carries life events from the transactional outbox to NATS
// JetStream: an embedded server by default, an external cluster by
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
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dancu-project/dancu/internal/storage"
)

// Stream is the JetStream stream holding every dancu event.
const Stream = "DANCU"

// Subjects the stream captures.
const Subjects = "dancu.>"

// Bus is a connection to JetStream, with the embedded server when there is one.
type Bus struct {
	Conn     *nats.Conn
	JS       jetstream.JetStream
	embedded *server.Server
}

// Open connects to url, or when url is empty starts an embedded server with
// JetStream storing under dataDir. listen, when not empty ("127.0.0.1:4222"),
// lets outside clients reach the embedded server; otherwise it takes no port.
func Open(ctx context.Context, url, dataDir, listen string) (*Bus, error) {
	b := &Bus{}
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
	js, err := jetstream.New(nc)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	b.JS = js
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       Stream,
		Subjects:   []string{Subjects},
		Storage:    jetstream.FileStorage,
		Duplicates: 24 * time.Hour,
		MaxAge:     30 * 24 * time.Hour,
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("create stream %s: %w", Stream, err)
	}
	return b, nil
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
	JS       jetstream.JetStream
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
		msg := &nats.Msg{Subject: e.Subject, Data: e.Payload, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, e.MsgID)
		f, err := r.JS.PublishMsgAsync(msg)
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
