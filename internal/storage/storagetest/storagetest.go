// Package storagetest runs a test against every database backend: SQLite
// always, PostgreSQL when DANCU_TEST_POSTGRES_URL is set (CI sets it). Each
// run gets a fresh, migrated database: a temporary file, or a new PostgreSQL
// schema dropped afterwards.
package storagetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/dancu-project/dancu/internal/storage"
)

// EnvPostgres names the variable holding the PostgreSQL URL for tests.
const EnvPostgres = "DANCU_TEST_POSTGRES_URL"

// Run calls fn once per backend, as subtests named "sqlite" and "postgres".
func Run(t *testing.T, migrations []storage.Migrations, fn func(t *testing.T, db *storage.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, Open(t, storage.SQLite, migrations))
	})
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(EnvPostgres) == "" {
			t.Skip("PostgreSQL suite skipped: set " + EnvPostgres + " to run it")
		}
		fn(t, Open(t, storage.Postgres, migrations))
	})
}

// Open returns a fresh, migrated database of the given dialect, closed and
// removed when the test ends. For PostgreSQL it skips if no URL is set.
func Open(t testing.TB, d storage.Dialect, migrations []storage.Migrations) *storage.DB {
	t.Helper()
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "dancu.db")
	var schema string
	if d == storage.Postgres {
		base := os.Getenv(EnvPostgres)
		if base == "" {
			t.Skip("PostgreSQL suite skipped: set " + EnvPostgres + " to run it")
		}
		admin, err := storage.Open(ctx, base)
		if err != nil {
			t.Fatalf("connect %s: %v", EnvPostgres, err)
		}
		schema = fmt.Sprintf("t_%x", rand.Uint64())
		if _, err := admin.W.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			admin.W.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			admin.Close()
		})
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		dsn = u.String()
	}
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	all := append([]storage.Migrations{storage.OwnMigrations()}, migrations...)
	if err := db.Migrate(ctx, all...); err != nil {
		t.Fatal(err)
	}
	return db
}
