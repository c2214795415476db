package eid

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dancu-project/dancu/internal/events"
)

// DeathConsumer is the durable consumer that revokes accounts of people who
// died. Durable, so a node that was down catches up; idempotent by the
// register's event id (eid_processed_events, written in the revocation's
// transaction), so a redelivery does nothing.
var DeathConsumer = events.Consumer{Name: "eid-revoke-on-death", Handles: []events.Topic{events.PersonDied}, AckWait: 30 * time.Second}

// RevokeOnDeath consumes dancu.person.died until ctx ends. It returns once
// the consumer is running; stop it by cancelling ctx.
func (s *Service) RevokeOnDeath(ctx context.Context, bus *events.Bus) error {
	_, err := events.Consume(ctx, bus, DeathConsumer, s.log, events.On(events.PersonDied, func(ctx context.Context, _ string, ev events.LifeEvent) error {
		return s.applyDeath(ctx, ev)
	}))
	if err != nil {
		return fmt.Errorf("eid death consumer: %w", err)
	}
	return nil
}

// HandleDeath applies one dancu.person.died message: the account, if any, is
// revoked, in the same transaction as the record that the event was seen.
func (s *Service) HandleDeath(ctx context.Context, data []byte) error {
	var ev events.LifeEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		// A malformed message will not get better by redelivery; drop it.
		s.log.Warn("eid death event malformed", "code", "eid.death_event_malformed")
		return nil
	}
	return s.applyDeath(ctx, ev)
}

func (s *Service) applyDeath(ctx context.Context, ev events.LifeEvent) error {
	if ev.EventID == "" || ev.PIN == "" {
		return nil
	}
	revoked := false
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		first, err := events.FirstReceipt(ctx, tx, "eid_processed_events", ev.EventID, s.now())
		if err != nil || !first {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE eid_accounts SET status = $1, status_reason = 'death', updated_at = $2 WHERE pin = $3 AND status <> $1`,
			StatusRevoked, s.stamp(), ev.PIN)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		if revoked = n > 0; revoked {
			return s.auditTx(ctx, tx, systemActor.ID, ActionRevoked, ev.PIN, "death")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("revoke on death: %w", err)
	}
	if revoked {
		s.log.Info("eid account revoked on death", "code", "eid.revoked_death")
	}
	return nil
}
