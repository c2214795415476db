package service

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/dancu-project/dancu/internal/events"
)

// Events declares what the card service publishes.
var Events = events.Publishes("card", events.CardIssued, events.CardRevoked)

// cardSubjects are the typed subjects behind SubjectIssued and SubjectRevoked.
var cardSubjects = map[string]events.Subject[events.CardEvent]{
	events.CardIssued.String(): events.CardIssued, events.CardRevoked.String(): events.CardRevoked,
}

// enqueue writes a card event on subject (SubjectIssued or SubjectRevoked)
// into the outbox in tx.
func enqueue(ctx context.Context, tx *sql.Tx, subject string, msg events.CardEvent) error {
	s, ok := cardSubjects[subject]
	if !ok {
		return fmt.Errorf("card event on %q: not a card subject", subject)
	}
	_, err := events.Enqueue(ctx, tx, Events, s, msg, msg.At)
	return err
}

// DeathConsumer is the durable consumer that revokes the cards of people who
// died. Durable, so a node that was down catches up; RevokeForDeath is
// idempotent (a revoked card is not revoked again), so a redelivery does
// nothing.
var DeathConsumer = events.Consumer{Name: "card-revoke-on-death", Handles: []events.Topic{events.PersonDied}, AckWait: 30 * time.Second}

// RevokeOnDeath consumes dancu.person.died until ctx ends. It returns once
// the consumer runs. Only codes and counts are logged.
func (s *Service) RevokeOnDeath(ctx context.Context, bus *events.Bus, log *slog.Logger) error {
	_, err := events.Consume(ctx, bus, DeathConsumer, log, events.On(events.PersonDied, func(ctx context.Context, _ string, ev events.LifeEvent) error {
		n, err := s.revokeOnDeath(ctx, ev)
		if err != nil {
			return fmt.Errorf("card death event: %w", err)
		}
		if n > 0 {
			log.Info("cards revoked on death", "code", "card.revoked_death", "cards", n)
		}
		return nil
	}))
	if err != nil {
		return fmt.Errorf("card death consumer: %w", err)
	}
	return nil
}

// HandleDeath applies one dancu.person.died message and returns how many
// cards it revoked. A malformed message is dropped (redelivery would not
// mend it).
func (s *Service) HandleDeath(ctx context.Context, data []byte) (int, error) {
	var ev events.LifeEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return 0, nil
	}
	return s.revokeOnDeath(ctx, ev)
}

func (s *Service) revokeOnDeath(ctx context.Context, ev events.LifeEvent) (int, error) {
	if len(ev.PIN) != 12 {
		return 0, nil
	}
	return s.RevokeForDeath(ctx, ev.PIN)
}
