package storage_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/storage"
)

// TestCheckpointer: with the background checkpointer the writer's commits
// leave the copying to it, and the log still reaches the database file —
// also when every pass finds the log past its limit and restarts it.
func TestCheckpointer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		maxWAL int64
	}{{"passive", 1 << 30}, {"restart past the limit", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.db")
			db, err := storage.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.W.Exec(`CREATE TABLE entries (id INTEGER PRIMARY KEY, body TEXT)`); err != nil {
				t.Fatal(err)
			}
			stop, err := db.StartCheckpointer(2*time.Millisecond, tc.maxWAL, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			// 3,000 one-row commits write well over SQLite's own threshold
			// of 1,000 pages to the log.
			for i := 0; i < 3000; i++ {
				if _, err := db.W.Exec(`INSERT INTO entries (body) VALUES (?)`, "entry with some text to fill pages "+string(rune('a'+i%26))); err != nil {
					t.Fatal(err)
				}
			}
			// Only the checkpointer copies (the writer's own checkpoints are
			// off): the rows reach the database file itself.
			deadline := time.Now().Add(5 * time.Second)
			for {
				info, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if info.Size() > 100<<10 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("log not moved into the file: %d bytes", info.Size())
				}
				time.Sleep(10 * time.Millisecond)
			}
			stop()
			var every int
			if err := db.W.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&every); err != nil || every != 1000 {
				t.Fatalf("after stop the writer checkpoints every %d pages (%v), want SQLite's 1000", every, err)
			}
			var n int
			if err := db.R.QueryRow(`SELECT count(*) FROM entries`).Scan(&n); err != nil || n != 3000 {
				t.Fatalf("%d rows (%v), want 3000", n, err)
			}
		})
	}
}
