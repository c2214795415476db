package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

var testMigrations = storage.Migrations{Module: "t", FS: fstest.MapFS{
	"0001_things.sql": {Data: []byte("CREATE TABLE things (\n  id {{autoinc}},\n  name TEXT NOT NULL UNIQUE,\n  data {{blob}}\n);\nCREATE INDEX things_data ON things (name);\n")},
}}

func TestStorage(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{testMigrations}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		t.Run("migrate twice is a no-op", func(t *testing.T) {
			if err := db.Migrate(ctx, storage.OwnMigrations(), testMigrations); err != nil {
				t.Fatal(err)
			}
			var n int
			db.R.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n)
			if n != 2 {
				t.Fatalf("%d migrations recorded, want 2", n)
			}
		})
		t.Run("failed transaction writes nothing", func(t *testing.T) {
			boom := errors.New("boom")
			err := db.Tx(ctx, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO things (name) VALUES ($1)`, "half"); err != nil {
					return err
				}
				if _, err := storage.Enqueue(ctx, tx, "dancu.test", map[string]string{"a": "b"}, time.Now()); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatal(err)
			}
			var n int
			db.R.QueryRowContext(ctx, `SELECT count(*) FROM things WHERE name = 'half'`).Scan(&n)
			evs, _ := db.PendingEvents(ctx, 10)
			if n != 0 || len(evs) != 0 {
				t.Fatalf("rolled-back transaction left %d rows and %d events", n, len(evs))
			}
		})
		t.Run("unique violation is recognised", func(t *testing.T) {
			insert := func() error {
				return db.Tx(ctx, func(tx *sql.Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO things (name) VALUES ($1)`, "dup")
					return err
				})
			}
			if err := insert(); err != nil {
				t.Fatal(err)
			}
			if err := insert(); !storage.IsUniqueViolation(err) {
				t.Fatalf("second insert: %v", err)
			}
		})
		t.Run("outbox keeps commit order", func(t *testing.T) {
			for i := 0; i < 3; i++ {
				err := db.Tx(ctx, func(tx *sql.Tx) error {
					_, err := storage.Enqueue(ctx, tx, fmt.Sprintf("dancu.test.%d", i), i, time.Now())
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			evs, err := db.PendingEvents(ctx, 10)
			if err != nil || len(evs) != 3 || evs[0].Subject != "dancu.test.0" || evs[2].Subject != "dancu.test.2" || string(evs[1].Payload) != "1" {
				t.Fatalf("events = %+v, %v", evs, err)
			}
			if err := db.DeleteEvents(ctx, evs[1].ID); err != nil {
				t.Fatal(err)
			}
			evs, _ = db.PendingEvents(ctx, 10)
			if len(evs) != 1 || evs[0].Subject != "dancu.test.2" {
				t.Fatalf("after trim: %+v", evs)
			}
		})
		t.Run("bulk load is atomic", func(t *testing.T) {
			l, err := db.NewLoader(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tb, err := l.Table(ctx, "things", "name", "data")
			if err != nil {
				t.Fatal(err)
			}
			if err := l.DeferIndexes(ctx, "things"); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 1234; i++ {
				if err := tb.Add(ctx, fmt.Sprintf("bulk-%d", i), []byte{byte(i)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			var n int
			db.R.QueryRowContext(ctx, `SELECT count(*) FROM things WHERE name LIKE 'bulk-%'`).Scan(&n)
			if n != 1234 {
				t.Fatalf("loaded %d rows, want 1234", n)
			}
			if !hasIndex(t, db, "things_data") {
				t.Fatal("deferred index was not rebuilt")
			}
			// A duplicate inside a load fails it whole.
			l, _ = db.NewLoader(ctx)
			tb, _ = l.Table(ctx, "things", "name", "data")
			l.DeferIndexes(ctx, "things")
			tb.Add(ctx, "fresh-1", nil)
			tb.Add(ctx, "bulk-7", nil)
			if err := l.Commit(ctx); err == nil {
				t.Fatal("load with a duplicate committed")
			}
			db.R.QueryRowContext(ctx, `SELECT count(*) FROM things WHERE name = 'fresh-1'`).Scan(&n)
			if n != 0 {
				t.Fatal("failed load left rows behind")
			}
			if !hasIndex(t, db, "things_data") {
				t.Fatal("a failed load lost an index")
			}
		})
	})
}

func hasIndex(t *testing.T, db *storage.DB, name string) bool {
	q := `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = $1`
	if db.Dialect == storage.Postgres {
		q = `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1`
	}
	var n int
	if err := db.R.QueryRow(q, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}
