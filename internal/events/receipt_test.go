package events_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestFirstReceipt: an event id is applied once, on SQLite and PostgreSQL;
// a rolled-back application leaves no receipt; a duplicate does not abort
// the transaction (PostgreSQL would, on a unique violation).
func TestFirstReceipt(t *testing.T) {
	m := storage.Migrations{Module: "receipttest", FS: fstest.MapFS{"0001_receipts.sql": {Data: []byte(
		`CREATE TABLE test_receipts (event_id TEXT PRIMARY KEY, processed_at TEXT NOT NULL);`)}}}
	storagetest.Run(t, []storage.Migrations{m}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		receipt := func(id string) bool {
			t.Helper()
			var first bool
			if err := db.Tx(ctx, func(tx *sql.Tx) error {
				var err error
				if first, err = events.FirstReceipt(ctx, tx, "test_receipts", id, time.Now()); err != nil {
					return err
				}
				// The transaction is still usable after a duplicate.
				_, err = tx.ExecContext(ctx, `SELECT 1`)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return first
		}
		errAbort := errors.New("abort")
		if err := db.Tx(ctx, func(tx *sql.Tx) error {
			if first, err := events.FirstReceipt(ctx, tx, "test_receipts", "ev-rolled-back", time.Now()); !first || err != nil {
				t.Fatalf("first receipt %v %v", first, err)
			}
			return errAbort
		}); !errors.Is(err, errAbort) {
			t.Fatal(err)
		}
		for _, c := range []struct {
			id   string
			want bool
		}{{"ev-1", true}, {"ev-1", false}, {"ev-2", true}, {"ev-rolled-back", true}, {"ev-rolled-back", false}} {
			if got := receipt(c.id); got != c.want {
				t.Errorf("receipt %s: first %v, want %v", c.id, got, c.want)
			}
		}
		if err := db.Tx(ctx, func(tx *sql.Tx) error {
			_, err := events.FirstReceipt(ctx, tx, "test_receipts; DROP TABLE x", "ev", time.Now())
			return err
		}); err == nil {
			t.Error("a table name that is not an identifier was used")
		}
	})
}
