package audit_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func TestAudit(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{audit.Migrations()}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		l := audit.NewLog(db, func() time.Time { return clock }, slog.New(slog.NewTextHandler(t.Output(), nil)))
		var wg sync.WaitGroup
		for i := 0; i < 200; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := l.Record(ctx, audit.Entry{Actor: "staff:a", Action: "person.read", Subject: fmt.Sprintf("person:%d", i%7), Purpose: "search"})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		l.Close()
		rep, err := audit.Verify(ctx, db)
		if err != nil || !rep.OK || rep.Entries != 200 {
			t.Fatalf("fresh log: %+v %v", rep, err)
		}
		got, err := audit.BySubject(ctx, db, "person:3", 100)
		if err != nil || len(got) == 0 || got[0].Subject != "person:3" || got[0].Seq < got[len(got)-1].Seq {
			t.Fatalf("BySubject: %d entries, %v", len(got), err)
		}

	})
}

func fill(t *testing.T, db *storage.DB, n int) {
	l := audit.NewLog(db, time.Now, slog.New(slog.NewTextHandler(t.Output(), nil)))
	defer l.Close()
	for i := 0; i < n; i++ {
		if err := l.Record(context.Background(), audit.Entry{Actor: "staff:a", Action: "person.read", Subject: "person:1", Purpose: "search"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditDetectsTampering(t *testing.T) {
	tamper := []struct {
		name, sql, want string
		bad             int64
	}{
		{"changed purpose", `UPDATE audit_log SET purpose = 'curiosity' WHERE seq = 50`, "changed", 50},
		{"changed actor", `UPDATE audit_log SET actor = 'staff:b' WHERE seq = 1`, "changed", 1},
		{"deleted entry", `DELETE FROM audit_log WHERE seq = 120`, "missing", 120},
		{"deleted tail", `DELETE FROM audit_log WHERE seq > 190`, "removed from the end", 191},
		{"rehashed entry", `UPDATE audit_log SET hash = 'ff' WHERE seq = 70`, "changed", 70},
	}
	for _, tt := range tamper {
		t.Run(tt.name, func(t *testing.T) {
			storagetest.Run(t, []storage.Migrations{audit.Migrations()}, func(t *testing.T, db *storage.DB) {
				ctx := context.Background()
				fill(t, db, 200)
				if _, err := db.W.ExecContext(ctx, tt.sql); err != nil {
					t.Fatal(err)
				}
				rep, err := audit.Verify(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				if rep.OK || !strings.Contains(rep.Problem, tt.want) || rep.BadSeq != tt.bad {
					t.Fatalf("tampering not reported right: %+v", rep)
				}
			})
		})
	}
}

// TestTwoWritersOneChain: two nodes' group-commit writers and acts that
// append in their own transactions (AppendTx) share one chain. A writer
// moves on from the head it left without reading it, so each must notice
// when another moved the head meanwhile: every entry ends up in one
// unbroken chain, numbered without gaps or repeats.
func TestTwoWritersOneChain(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{audit.Migrations()}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		logger := slog.New(slog.NewTextHandler(t.Output(), nil))
		nodes := []*audit.Log{audit.NewLog(db, time.Now, logger), audit.NewLog(db, time.Now, logger)}
		var wg sync.WaitGroup
		for i := range 300 {
			wg.Go(func() {
				e := audit.Entry{Actor: "staff:a", Action: "person.read", Subject: fmt.Sprintf("person:%d", i), Purpose: "search"}
				var err error
				if i%10 == 9 {
					err = db.Tx(ctx, func(tx *sql.Tx) error { return audit.AppendTx(ctx, db, tx, time.Now(), e) })
				} else {
					err = nodes[i%2].Record(ctx, e)
				}
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for _, l := range nodes {
			l.Close()
		}
		rep, err := audit.Verify(ctx, db)
		if err != nil || !rep.OK || rep.Entries != 300 {
			t.Fatalf("after two writers and 30 acts: %+v %v", rep, err)
		}
		var distinct int
		db.R.QueryRowContext(ctx, `SELECT count(DISTINCT subject) FROM audit_log`).Scan(&distinct)
		if distinct != 300 {
			t.Errorf("%d distinct entries in the chain, want 300", distinct)
		}
	})
}
