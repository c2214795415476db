package eid

import (
	"context"
	"database/sql"
	"time"

	"github.com/dancu-project/dancu/internal/events"
)

// Events declares what the e-ID service publishes: an account reaching a
// level (dancu.eid.activated), which the leaders' indicators count per
// unit (internal/stats).
var Events = events.Publishes("eid", events.EIDActivated)

// activated writes dancu.eid.activated for pin at level into the outbox in
// tx, the transaction that gave the account the level.
func activated(ctx context.Context, tx *sql.Tx, pin string, level Level, at time.Time) error {
	_, err := events.Enqueue(ctx, tx, Events, events.EIDActivated, events.EIDEvent{PIN: pin, Level: int(level), At: at.UTC()}, at)
	return err
}
