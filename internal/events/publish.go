package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dancu-project/dancu/internal/storage"
)

// Publisher is what one module declares it publishes. Enqueue and Publish
// refuse a subject outside the declaration, so the declarations the contract
// test reads (TestContract) are the ones the code runs with.
type Publisher struct {
	Module string
	topics []Topic
}

// Publishes declares that module publishes the topics.
func Publishes(module string, topics ...Topic) Publisher {
	return Publisher{Module: module, topics: topics}
}

// Topics are the subjects (or families) the module publishes.
func (p Publisher) Topics() []Topic { return p.topics }

func (p Publisher) check(subject string) error {
	for _, t := range p.topics {
		if Matches(t.String(), subject) {
			return nil
		}
	}
	return fmt.Errorf("%s publishes %s, which it did not declare (events.Publishes)", p.Module, subject)
}

// Enqueue writes payload as an event on s into the transactional outbox in
// tx; the relay publishes it once tx commits. It returns the event's stable
// message id.
func Enqueue[T any](ctx context.Context, tx *sql.Tx, p Publisher, s Subject[T], payload T, now time.Time) (string, error) {
	if err := p.check(s.name); err != nil {
		return "", err
	}
	return storage.Enqueue(ctx, tx, s.name, payload, now)
}

// Publish publishes payload on s straight to the stream, for messages made
// from state already committed (a delivery, a checkpoint) whose publisher
// retries until the ack. msgID is JetStream's de-duplication id; header adds
// headers (may be nil).
func Publish[T any](ctx context.Context, b *Bus, p Publisher, s Subject[T], msgID string, payload T, header map[string]string) error {
	if err := p.check(s.name); err != nil {
		return err
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("publish %s: %w", s.name, err)
	}
	return b.publish(ctx, s.name, msgID, data, header)
}

func (b *Bus) publish(ctx context.Context, subject, msgID string, data []byte, header map[string]string) error {
	msg := &nats.Msg{Subject: b.Wire(subject), Data: data, Header: nats.Header{}}
	if msgID != "" {
		msg.Header.Set(jetstream.MsgIDHeader, msgID)
	}
	for k, v := range header {
		msg.Header.Set(k, v)
	}
	if _, err := b.JS.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("publish %s: %w", subject, err)
	}
	return nil
}
