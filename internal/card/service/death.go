package service

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dancu-project/dancu/internal/registry"
)

// DeathConsumer is the durable JetStream consumer that revokes the cards of
// people who died. Durable, so a node that was down catches up; RevokeForDeath
// is idempotent, so a redelivery does nothing.
const DeathConsumer = "card-revoke-on-death"

// stream is the events package's stream, named here so the card module does
// not depend on the bus implementation.
const stream = "DANCU"

// RevokeOnDeath consumes dancu.person.died until ctx ends. It returns once
// the consumer runs. Only codes and counts are logged.
func (s *Service) RevokeOnDeath(ctx context.Context, js jetstream.JetStream, log *slog.Logger) error {
	cons, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable:       DeathConsumer,
		FilterSubject: registry.SubjectDied,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxDeliver:    -1,
	})
	if err != nil {
		return fmt.Errorf("card death consumer: %w", err)
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		n, err := s.HandleDeath(ctx, msg.Data())
		if err != nil {
			log.Warn("card death event not applied", "code", "card.death_event_failed")
			msg.NakWithDelay(5 * time.Second)
			return
		}
		if n > 0 {
			log.Info("cards revoked on death", "code", "card.revoked_death", "cards", n)
		}
		msg.Ack()
	})
	if err != nil {
		return fmt.Errorf("card death consumer: %w", err)
	}
	go func() {
		<-ctx.Done()
		cc.Stop()
	}()
	return nil
}

// HandleDeath applies one dancu.person.died message and returns how many
// cards it revoked. A malformed message is dropped (redelivery would not
// mend it).
func (s *Service) HandleDeath(ctx context.Context, data []byte) (int, error) {
	var ev registry.EventMessage
	if err := json.Unmarshal(data, &ev); err != nil || len(ev.PIN) != 12 {
		return 0, nil
	}
	return s.RevokeForDeath(ctx, ev.PIN)
}
