package storage

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// StartCheckpointer moves an SQLite write-ahead log into the database file
// in the background, so that commits on W never stop to do it: SQLite's
// automatic checkpoint runs inside the commit that crosses the threshold,
// and every request waiting on that commit waits for the copy too. It suits
// a write-mostly file with few readers — the audit log — where passive
// checkpoints catch up and the log restarts from its beginning; should the
// log still grow past maxWAL bytes, one RESTART checkpoint (which waits for
// the writer) brings it back. On PostgreSQL it does nothing. stop waits for
// the goroutine.
func (db *DB) StartCheckpointer(every time.Duration, maxWAL int64, log *slog.Logger) (stop func(), err error) {
	if db.Dialect != SQLite {
		return func() {}, nil
	}
	c, err := sql.Open("sqlite", "file:"+db.URL+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("checkpointer: %w", err)
	}
	c.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := db.W.ExecContext(ctx, `PRAGMA wal_autocheckpoint=0`); err != nil {
		cancel()
		c.Close()
		return nil, fmt.Errorf("checkpointer: %w", err)
	}
	var pageSize int64
	if err := c.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&pageSize); err != nil {
		cancel()
		c.Close()
		return nil, fmt.Errorf("checkpointer: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer c.Close()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var busy, frames, moved int64
			if err := c.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &moved); err != nil {
				if ctx.Err() == nil {
					log.Warn("background checkpoint", "db", db.URL, "err", err)
				}
				continue
			}
			if frames*pageSize > maxWAL {
				if _, err := c.ExecContext(ctx, `PRAGMA wal_checkpoint(RESTART)`); err != nil && ctx.Err() == nil {
					log.Warn("restart checkpoint", "db", db.URL, "err", err)
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
		// Back to SQLite's own checkpoints for whoever keeps using W.
		db.W.Exec(`PRAGMA wal_autocheckpoint=1000`)
	}, nil
}
