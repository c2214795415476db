package storage_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/dancu-project/dancu/internal/storage"
)

// TestReadingFrom: a module given db.ReadingFrom(replica) reads from the
// replica and writes to db (the dashboards on a streaming replica).
func TestReadingFrom(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	primary, err := storage.Open(ctx, filepath.Join(dir, "primary.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close()
	replica, err := storage.Open(ctx, filepath.Join(dir, "replica.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Close()
	for name, db := range map[string]*storage.DB{"primary": primary, "replica": replica} {
		if _, err := db.W.ExecContext(ctx, `CREATE TABLE t (v TEXT)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.ExecContext(ctx, `INSERT INTO t (v) VALUES ($1)`, name); err != nil {
			t.Fatal(err)
		}
	}
	lag := primary.ReadingFrom(replica)
	var v string
	if err := lag.R.QueryRowContext(ctx, `SELECT v FROM t`).Scan(&v); err != nil || v != "replica" {
		t.Fatalf("read %q %v, want the replica's row", v, err)
	}
	if err := lag.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES ('written')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var n int
	primary.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM t WHERE v = 'written'`).Scan(&n)
	if n != 1 {
		t.Fatalf("the write reached the primary %d times", n)
	}
	replica.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM t WHERE v = 'written'`).Scan(&n)
	if n != 0 {
		t.Fatal("the write went to the replica")
	}
}
