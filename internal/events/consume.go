package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Consumer declares a durable JetStream consumer: its name and the subjects
// it handles. Durable, so events published while no node runs wait for it.
//
// The server filters on one subject (Filter), which NATS 2.9 requires: the
// subject handled, or the narrowest family covering all of them
// (dancu.person.>); a message of the family that the consumer does not
// handle is acknowledged unread.
type Consumer struct {
	Name    string
	Handles []Topic
	// Batch is how many messages a handler call gets at most; default 1.
	Batch int
	// AckWait is how long a message may stay unacknowledged before the
	// server sends it again (a node that died holding it); default 60s.
	AckWait time.Duration
	// MaxDeliver is how many times a message is tried before it becomes a
	// dead letter; default 100 (about eight hours of retries with the
	// backoff, so an outage of the database does not dead-letter events).
	MaxDeliver int
}

// Filter is the one subject the server filters the consumer's messages on.
func (c Consumer) Filter() (string, error) {
	if len(c.Handles) == 0 {
		return "", fmt.Errorf("consumer %s handles no subject", c.Name)
	}
	common := strings.Split(c.Handles[0].String(), ".")
	for _, t := range c.Handles[1:] {
		tok := strings.Split(t.String(), ".")
		n := 0
		for n < len(common) && n < len(tok) && common[n] == tok[n] && common[n] != ">" {
			n++
		}
		if n < len(common) || n < len(tok) {
			common = append(common[:n:n], ">")
		}
	}
	f := strings.Join(common, ".")
	// A filter as wide as the whole stream would read every partner
	// delivery and checkpoint to find a few events: declare two consumers.
	if len(common) < 3 && common[len(common)-1] == ">" {
		return "", fmt.Errorf("consumer %s: the subjects it handles share no family narrower than %s; split it", c.Name, f)
	}
	return f, nil
}

func (c Consumer) payloadOf(subject string) reflect.Type {
	for _, t := range c.Handles {
		if Matches(t.String(), subject) {
			return t.Payload()
		}
	}
	return nil
}

// Msg is one message read from the stream.
type Msg struct {
	Subject   string // as the catalogue names it
	ID        string // Nats-Msg-Id: the outbox's stable id, the same on every redelivery
	Data      []byte
	Delivered int // 1 on the first delivery
	value     any // the decoded payload, a pointer to the subject's type
}

// Decode reads m's payload as s's type. It reports false when m is not on
// s or its body does not decode.
func Decode[T any](s Subject[T], m Msg) (T, bool) {
	var v T
	if !Matches(s.name, m.Subject) {
		return v, false
	}
	if p, ok := m.value.(*T); ok {
		return *p, true
	}
	if err := json.Unmarshal(m.Data, &v); err != nil {
		return v, false
	}
	return v, true
}

// Handler handles a batch of messages. It must be idempotent by message id
// (or by an id in the payload; FirstReceipt records it in the handler's
// transaction): a message is delivered at least once. An
// error means none of the batch is acknowledged; each is tried again after
// a backoff. A message a handler cannot use but that redelivery would not
// mend must not be an error: the handler logs and skips it.
type Handler func(ctx context.Context, batch []Msg) error

// On handles the messages of one subject one by one with their decoded
// payload, and skips the others of the batch.
func On[T any](s Subject[T], h func(ctx context.Context, id string, payload T) error) Handler {
	return func(ctx context.Context, batch []Msg) error {
		for _, m := range batch {
			v, ok := Decode(s, m)
			if !ok {
				continue
			}
			if err := h(ctx, m.ID, v); err != nil {
				return err
			}
		}
		return nil
	}
}

// Backoff is the delay before the n-th delivery of a message whose handling
// failed: one second doubled each time, at most five minutes.
func Backoff(delivered int) time.Duration {
	d := 5 * time.Minute
	if delivered < 10 {
		d = min(d, time.Second<<max(delivered-1, 0))
	}
	return d
}

// Consume creates (or updates) the durable consumer c and hands its messages
// to h until ctx ends; the returned channel closes when reading has stopped.
// A body that is not the subject's payload type, and a message whose
// handling failed MaxDeliver times, are published as dead letters on
// dancu.dead.<consumer> and logged (by code and subject only) before they are
// terminated, so nothing is dropped unseen.
func Consume(ctx context.Context, b *Bus, c Consumer, log *slog.Logger, h Handler) (<-chan struct{}, error) {
	filter, err := c.Filter()
	if err != nil {
		return nil, err
	}
	batch := max(c.Batch, 1)
	maxDeliver := c.MaxDeliver
	if maxDeliver <= 0 {
		maxDeliver = 100
	}
	ackWait := c.AckWait
	if ackWait <= 0 {
		ackWait = 60 * time.Second
	}
	cons, err := b.JS.CreateOrUpdateConsumer(ctx, b.stream, jetstream.ConsumerConfig{
		Durable:       c.Name,
		FilterSubject: b.Wire(filter),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		// Consume decides when to give up, so that it can dead-letter
		// the message: the server alone would stop sending it silently.
		MaxDeliver:    -1,
		MaxAckPending: 4 * batch,
	})
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", c.Name, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(2 * batch))
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", c.Name, err)
	}
	r := &reader{bus: b, c: c, log: log, h: h, maxDeliver: maxDeliver}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer it.Stop()
		for ctx.Err() == nil {
			first, err := it.Next(jetstream.NextContext(ctx))
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return
			}
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("event consumer read", "code", "events.read_failed", "consumer", c.Name, "err", err)
					time.Sleep(time.Second)
				}
				continue
			}
			raw := []jetstream.Msg{first}
			for len(raw) < batch {
				m, err := it.Next(jetstream.NextMaxWait(2 * time.Millisecond))
				if err != nil {
					break
				}
				raw = append(raw, m)
			}
			r.handle(ctx, raw)
		}
	}()
	return done, nil
}

type reader struct {
	bus        *Bus
	c          Consumer
	log        *slog.Logger
	h          Handler
	maxDeliver int
}

// handle runs the handler on one batch and acknowledges it, or arranges its
// redelivery.
func (r *reader) handle(ctx context.Context, raw []jetstream.Msg) {
	var msgs []Msg
	var held []jetstream.Msg
	for _, jm := range raw {
		m := Msg{Subject: r.bus.canonical(jm.Subject()), Data: jm.Data()}
		if hdr := jm.Headers(); hdr != nil {
			m.ID = hdr.Get(jetstream.MsgIDHeader)
		}
		if md, err := jm.Metadata(); err == nil {
			m.Delivered = int(md.NumDelivered)
		}
		typ := r.c.payloadOf(m.Subject)
		if typ == nil {
			jm.Ack() // in the filter's family, not handled here
			continue
		}
		v := reflect.New(typ)
		if err := json.Unmarshal(m.Data, v.Interface()); err != nil {
			r.deadLetter(ctx, jm, m, "malformed")
			continue
		}
		m.value = v.Interface()
		msgs = append(msgs, m)
		held = append(held, jm)
	}
	if len(msgs) == 0 {
		return
	}
	if err := r.h(ctx, msgs); err != nil {
		if ctx.Err() != nil {
			return // shutting down: redelivered after AckWait
		}
		r.log.Warn("events not handled, will be redelivered", "code", "events.handle_failed", "consumer", r.c.Name, "events", len(msgs), "err", err)
		for i, jm := range held {
			if msgs[i].Delivered >= r.maxDeliver {
				r.deadLetter(ctx, jm, msgs[i], "max_deliver")
				continue
			}
			jm.NakWithDelay(Backoff(msgs[i].Delivered))
		}
		return
	}
	for _, jm := range held {
		jm.Ack()
	}
}

// DeadLetterPublisher declares that Consume publishes dead letters.
var DeadLetterPublisher = Publishes("events", DeadLetters)

// deadLetter keeps m on the consumer's dead-letter subject and terminates
// it; when the dead letter cannot be published the message is left to be
// redelivered.
func (r *reader) deadLetter(ctx context.Context, jm jetstream.Msg, m Msg, reason string) {
	dl := DeadLetter{Consumer: r.c.Name, Subject: m.Subject, ID: m.ID, Delivered: m.Delivered, Reason: reason, Data: m.Data}
	id := ""
	if m.ID != "" {
		id = "dead." + r.c.Name + "." + m.ID
	}
	if err := Publish(ctx, r.bus, DeadLetterPublisher, deadLetter(r.c.Name), id, dl, nil); err != nil {
		r.log.Warn("dead letter not kept, message left for redelivery", "code", "events.dead_letter_failed", "consumer", r.c.Name, "subject", m.Subject, "err", err)
		jm.NakWithDelay(Backoff(m.Delivered))
		return
	}
	r.log.Error("event dead-lettered", "code", "events.dead_letter", "consumer", r.c.Name, "subject", m.Subject, "reason", reason, "delivered", m.Delivered)
	jm.Term()
}
