package events

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"time"
)

var receiptTableRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// FirstReceipt makes a consumer idempotent by event id. The consumer keeps
// the ids of the events it applied in a table of its own module,
// (event_id TEXT PRIMARY KEY, processed_at TEXT NOT NULL); FirstReceipt
// records id there in tx, the transaction that applies the event, and
// reports false when the id was recorded before: the handler then changes
// nothing and lets tx commit, so the redelivery is acknowledged. It never
// fails on the duplicate, which on PostgreSQL would abort tx.
func FirstReceipt(ctx context.Context, tx *sql.Tx, table, id string, now time.Time) (bool, error) {
	if !receiptTableRE.MatchString(table) {
		return false, fmt.Errorf("receipt table %q", table)
	}
	if id == "" {
		return false, fmt.Errorf("receipt in %s: no event id", table)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (event_id, processed_at) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING`,
		id, now.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return false, fmt.Errorf("receipt in %s: %w", table, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("receipt in %s: %w", table, err)
	}
	return n == 1, nil
}
