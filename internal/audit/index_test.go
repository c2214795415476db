package audit_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// appendEntries appends one entry per subject, in one transaction, and
// notes their sequence numbers in want (subject → seqs, oldest first).
func appendEntries(t *testing.T, db *storage.DB, subjects []string, want map[string][]int64) {
	t.Helper()
	es := make([]audit.Entry, len(subjects))
	for i, s := range subjects {
		es[i] = audit.Entry{Actor: "partner:bank-a", Action: "person.verified", Subject: s, Purpose: "aml-cdd", Detail: "result=match"}
	}
	err := db.Tx(context.Background(), func(tx *sql.Tx) error {
		return audit.AppendTx(context.Background(), db, tx, time.Now(), es...)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		want[e.Subject] = append(want[e.Subject], e.Seq)
	}
}

// checkSubjects compares every subject's log with what was appended.
func checkSubjects(t *testing.T, db *storage.DB, want map[string][]int64, when string) {
	t.Helper()
	for subject, seqs := range want {
		got, err := audit.BySubject(context.Background(), db, subject, 10_000)
		if err != nil {
			t.Fatalf("%s: BySubject(%s): %v", when, subject, err)
		}
		gotSeqs := make([]int64, len(got))
		for i, e := range got {
			if e.Subject != subject {
				t.Fatalf("%s: BySubject(%s) returned an entry of %s", when, subject, e.Subject)
			}
			gotSeqs[i] = e.Seq
		}
		wantSeqs := slices.Clone(seqs)
		slices.Reverse(wantSeqs)
		if !slices.Equal(gotSeqs, wantSeqs) {
			t.Fatalf("%s: %s's log has entries %v, want %v", when, subject, gotSeqs, wantSeqs)
		}
	}
}

func TestSubjectIndex(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{audit.Migrations()}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		log := slog.New(slog.NewTextHandler(t.Output(), nil))
		// Two indexers with tiny runs, as two nodes (or one node before
		// and after a restart) working on the same index.
		nodes := []*audit.Indexer{audit.NewIndexer(db, log), audit.NewIndexer(db, log)}
		for _, ix := range nodes {
			ix.RunSize, ix.Fanout, ix.Chunk = 7, 3, 5
		}
		rng := rand.New(rand.NewPCG(1, 2))
		want := map[string][]int64{}
		subjects := func(n int) []string {
			out := make([]string, n)
			for i := range out {
				out[i] = fmt.Sprintf("person:%012d", rng.IntN(40))
			}
			return out
		}
		maxLevel := 0
		for round := 0; round < 150; round++ {
			appendEntries(t, db, subjects(1+rng.IntN(12)), want)
			for range rng.IntN(6) {
				if _, err := nodes[rng.IntN(2)].Step(ctx, rng.IntN(3) == 0); err != nil {
					t.Fatal(err)
				}
			}
			if round%25 == 0 {
				checkSubjects(t, db, want, fmt.Sprintf("round %d", round))
			}
			var level int
			db.R.QueryRowContext(ctx, `SELECT coalesce(max(level), 0) FROM audit_subject_runs`).Scan(&level)
			maxLevel = max(maxLevel, level)
		}
		checkSubjects(t, db, want, "before the index caught up")
		for {
			worked, err := nodes[0].Step(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			if !worked {
				break
			}
		}
		checkSubjects(t, db, want, "after the index caught up")
		var level int
		db.R.QueryRowContext(ctx, `SELECT coalesce(max(level), 0) FROM audit_subject_runs`).Scan(&level)
		maxLevel = max(maxLevel, level)
		st, err := audit.ReadIndexState(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if st.Unindexed() != 0 || st.Indexed != st.Head || st.DeadRuns != 0 || st.Building {
			t.Fatalf("index not caught up: %+v", st)
		}
		if maxLevel < 2 {
			t.Fatalf("runs were merged only up to level %d; the test should reach merges of merges", maxLevel)
		}
		var pairs int64
		db.R.QueryRowContext(ctx, `SELECT count(*) FROM audit_subject`).Scan(&pairs)
		if pairs != st.Head {
			t.Fatalf("the index holds %d pairs for %d entries: some are missing or doubled", pairs, st.Head)
		}
		// The chain itself is untouched by the index.
		if rep, err := audit.Verify(ctx, db); err != nil || !rep.OK {
			t.Fatalf("chain after indexing: %+v %v", rep, err)
		}
	})
}

// TestSubjectIndexMigration: a log written before the subject index
// existed keeps answering "who read this person" after the upgrade.
func TestSubjectIndexMigration(t *testing.T) {
	first, err := os.ReadFile("migrations/0001_audit.sql")
	if err != nil {
		t.Fatal(err)
	}
	old := storage.Migrations{Module: "audit", FS: fstest.MapFS{"0001_audit.sql": {Data: first}}}
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.Open(t, d, []storage.Migrations{old})
			want := map[string][]int64{}
			appendEntries(t, db, []string{"person:1", "person:2", "person:1", "person:3"}, want)
			appendEntries(t, db, []string{"person:2", "person:1"}, want)
			if err := db.Migrate(ctx, audit.Migrations()); err != nil {
				t.Fatal(err)
			}
			checkSubjects(t, db, want, "after the upgrade")
			st, err := audit.ReadIndexState(ctx, db)
			if err != nil || st.Indexed != 6 || st.Unindexed() != 0 {
				t.Fatalf("upgraded index: %+v %v", st, err)
			}
			appendEntries(t, db, []string{"person:3"}, want)
			checkSubjects(t, db, want, "an entry after the upgrade")
		})
	}
}
