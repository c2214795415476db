package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// OwnMigrations are the tables storage itself owns (the outbox).
func OwnMigrations() Migrations {
	return Migrations{Module: "storage", FS: mustSub(migrationFS, "migrations")}
}

// Event is a message waiting in the outbox.
type Event struct {
	ID      int64
	MsgID   string // stable id; JetStream deduplicates on it, receivers too
	Subject string // e.g. "dancu.person.born"
	Payload []byte
	Created time.Time
}

// Enqueue writes an event into the outbox inside tx. body is encoded as JSON.
// It returns the event's stable id.
func Enqueue(ctx context.Context, tx *sql.Tx, subject string, body any, now time.Time) (string, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("enqueue %s: %w", subject, err)
	}
	id := NewID()
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox (msg_id, subject, payload, created_at) VALUES ($1, $2, $3, $4)`,
		id, subject, payload, now.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return "", fmt.Errorf("enqueue %s: %w", subject, err)
	}
	return id, nil
}

// PendingEvents returns up to limit events in commit order.
func (db *DB) PendingEvents(ctx context.Context, limit int) ([]Event, error) {
	rows, err := db.W.QueryContext(ctx, `SELECT id, msg_id, subject, payload, created_at FROM outbox ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var created string
		if err := rows.Scan(&e.ID, &e.MsgID, &e.Subject, &e.Payload, &created); err != nil {
			return nil, fmt.Errorf("read outbox: %w", err)
		}
		e.Created, _ = time.Parse(time.RFC3339Nano, created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// DeleteEvents removes published events up to and including id.
func (db *DB) DeleteEvents(ctx context.Context, upTo int64) error {
	if _, err := db.W.ExecContext(ctx, `DELETE FROM outbox WHERE id <= $1`, upTo); err != nil {
		return fmt.Errorf("trim outbox: %w", err)
	}
	return nil
}

// NewID returns a random 128-bit identifier as 32 hex digits.
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
