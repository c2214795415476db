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
	for _, d := range Dialects() {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d, migrations))
		})
	}
}

// URL returns the address of a fresh, empty database of the given dialect
// for this test: an SQLite file in a temporary directory, or a PostgreSQL URL
// whose search_path is a new schema dropped when the test ends. For
// PostgreSQL it skips the test when no URL is configured.
func URL(t testing.TB, d storage.Dialect) string {
	t.Helper()
	if d != storage.Postgres {
		return filepath.Join(t.TempDir(), "dancu.db")
	}
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skip("PostgreSQL suite skipped: set " + EnvPostgres + " to run it")
	}
	ctx := context.Background()
	admin, err := storage.Open(ctx, base)
	if err != nil {
		t.Fatalf("connect %s: %v", EnvPostgres, err)
	}
	schema := fmt.Sprintf("t_%x", rand.Uint64())
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
	return u.String()
}

// Open returns a fresh database of the given dialect with storage's own
// tables and the given migrations applied, closed when the test ends.
func Open(t testing.TB, d storage.Dialect, migrations []storage.Migrations) *storage.DB {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, URL(t, d))
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

// Dialects are the backends Run covers, for tests that build more than a DB.
func Dialects() []storage.Dialect { return []storage.Dialect{storage.SQLite, storage.Postgres} }
