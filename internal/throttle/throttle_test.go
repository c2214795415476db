package throttle_test

import (
	"context"
	"database/sql"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/throttle"
)

// testTable has the documented shape, as a module's migration creates it.
var testTable = storage.Migrations{Module: "throttle_test", FS: fstest.MapFS{"0001_t.sql": {Data: []byte(`CREATE TABLE t_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start TEXT NOT NULL,
    blocked_until TEXT NOT NULL DEFAULT '',
    locked INTEGER NOT NULL DEFAULT 0
);
`)}}}

var (
	account = throttle.Rule{Limit: 3, Window: 15 * time.Minute, Block: time.Minute, MaxBlock: 8 * time.Minute, LockAfter: 6}
	address = throttle.Rule{Limit: 5, Window: 15 * time.Minute, Block: time.Minute, MaxBlock: time.Hour}
)

// step is one attempt of a scenario: wait, then fail (or only check), and
// the verdict expected after it.
type step struct {
	wait     time.Duration
	check    bool // only Check (a refused or allowed attempt), no failure
	refused  bool // the verdict refuses at the attempt's time
	locked   bool
	blockFor time.Duration // expected Wait right after the step (0: none)
}

func TestLimiter(t *testing.T) {
	tests := []struct {
		name  string
		keys  []throttle.Key
		steps []step
	}{
		{"blocks at the limit and doubles the block", []throttle.Key{{ID: "a", Rule: address}}, []step{
			{}, {}, {}, {}, {refused: true, blockFor: time.Minute},
			{wait: time.Minute, refused: true, blockFor: 2 * time.Minute},
			{wait: 2 * time.Minute, refused: true, blockFor: 4 * time.Minute},
		}},
		{"the block is capped", []throttle.Key{{ID: "a", Rule: throttle.Rule{Limit: 1, Window: time.Hour, Block: time.Minute, MaxBlock: 3 * time.Minute}}}, []step{
			{refused: true, blockFor: time.Minute},
			{wait: time.Minute, refused: true, blockFor: 2 * time.Minute},
			{wait: 2 * time.Minute, refused: true, blockFor: 3 * time.Minute},
			{wait: 3 * time.Minute, refused: true, blockFor: 3 * time.Minute},
		}},
		{"a quiet window forgets the count", []throttle.Key{{ID: "a", Rule: address}}, []step{
			{}, {}, {}, {},
			{wait: 16 * time.Minute}, // the fifth failure counts as the first
			{}, {}, {},
		}},
		{"waiting a block out does not reset the count", []throttle.Key{{ID: "a", Rule: throttle.Rule{Limit: 2, Window: time.Minute, Block: 10 * time.Minute, MaxBlock: time.Hour}}}, []step{
			{}, {refused: true, blockFor: 10 * time.Minute},
			{wait: 10 * time.Minute, refused: true, blockFor: 20 * time.Minute},
		}},
		{"refused attempts while blocked lead to the lock", []throttle.Key{{ID: "u", Rule: account}}, []step{
			{}, {}, {refused: true, blockFor: time.Minute},
			{check: true, refused: true, blockFor: time.Minute},
			{check: true, refused: true, blockFor: time.Minute},
			{check: true, refused: true, locked: true},
			{wait: 2 * time.Hour, check: true, refused: true, locked: true},
		}},
		{"a lock outlasts every window", []throttle.Key{{ID: "u", Rule: account}}, []step{
			{}, {}, {refused: true, blockFor: time.Minute},
			{wait: time.Minute, refused: true, blockFor: 2 * time.Minute},
			{wait: 2 * time.Minute, refused: true, blockFor: 4 * time.Minute},
			{wait: 4 * time.Minute, refused: true, locked: true},
			{wait: 24 * time.Hour, check: true, refused: true, locked: true},
		}},
		{"an address block refuses every account behind it", []throttle.Key{{ID: "u", Rule: account}, {ID: "ip", Rule: throttle.Rule{Limit: 1, Window: time.Hour, Block: time.Hour, MaxBlock: time.Hour}}}, []step{
			{refused: true, blockFor: time.Hour},
			{check: true, refused: true, blockFor: time.Hour},
		}},
	}
	storagetest.Run(t, []storage.Migrations{testTable}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := db.W.ExecContext(ctx, `DELETE FROM t_throttle`); err != nil {
					t.Fatal(err)
				}
				l := throttle.New(db, "t_throttle")
				now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
				for i, s := range tt.steps {
					now = now.Add(s.wait)
					v, err := l.Check(ctx, tt.keys, now)
					if err != nil {
						t.Fatal(err)
					}
					if !s.check {
						if v.Refused(now) {
							t.Fatalf("step %d: refused before its failure: %+v", i, v)
						}
						if v, err = l.Fail(ctx, tt.keys, now); err != nil {
							t.Fatal(err)
						}
					}
					if v.Refused(now) != s.refused || v.Locked != s.locked || v.Wait(now) != s.blockFor {
						t.Fatalf("step %d: verdict %+v (refused %v, wait %v), want refused %v locked %v wait %v",
							i, v, v.Refused(now), v.Wait(now), s.refused, s.locked, s.blockFor)
					}
				}
			})
		}
	})
}

func TestLiftResetPurge(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{testTable}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		l := throttle.New(db, "t_throttle")
		now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		keys := []throttle.Key{{ID: "u", Rule: throttle.Rule{Limit: 1, Window: time.Minute, Block: time.Minute, MaxBlock: time.Minute, LockAfter: 1}}}
		if v, err := l.Fail(ctx, keys, now); err != nil || !v.Locked {
			t.Fatalf("Fail = %+v, %v", v, err)
		}
		// A success does not open a lock, nor does a purge delete it.
		if err := l.Reset(ctx, "u"); err != nil {
			t.Fatal(err)
		}
		if err := l.Purge(ctx, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if v, _ := l.State(ctx, "u"); !v.Locked {
			t.Fatal("reset or purge opened a lock")
		}
		var was bool
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			var err error
			was, err = l.LiftTx(ctx, tx, "u", now)
			return err
		})
		if err != nil || !was {
			t.Fatalf("LiftTx = %v, %v", was, err)
		}
		if v, _ := l.Check(ctx, keys, now); v.Refused(now) {
			t.Fatalf("still refused after the lift: %+v", v)
		}
		// Unlocked counters are purged once quiet.
		if _, err := l.Fail(ctx, []throttle.Key{{ID: "x", Rule: throttle.Rule{Limit: 5, Window: time.Minute}}}, now); err != nil {
			t.Fatal(err)
		}
		if err := l.Purge(ctx, now.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		var n int
		db.R.QueryRowContext(ctx, `SELECT count(*) FROM t_throttle`).Scan(&n)
		if n != 0 {
			t.Fatalf("%d counters left after the purge", n)
		}
	})
}

func TestHash(t *testing.T) {
	a := throttle.Hash([]byte("k1"), "acct", "admin")
	if a == throttle.Hash([]byte("k2"), "acct", "admin") || a == throttle.Hash([]byte("k1"), "ip", "admin") || a == throttle.Hash([]byte("k1"), "acct", "admin2") {
		t.Fatal("hash ignores its secret, kind or value")
	}
	if a != throttle.Hash([]byte("k1"), "acct", "admin") {
		t.Fatal("hash is not stable")
	}
}
