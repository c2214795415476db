package audit_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// BenchmarkBySubject reads one person's access log from a log of 200,000
// entries about 20,000 people whose subject index the indexer has caught
// up with (runs at several levels), and reports how many runs it probes.
func BenchmarkBySubject(b *testing.B) {
	ctx := context.Background()
	db := storagetest.Open(b, storage.SQLite, []storage.Migrations{audit.Migrations()})
	rng := rand.New(rand.NewPCG(3, 4))
	es := make([]audit.Entry, 1000)
	for range 200 {
		for i := range es {
			es[i] = audit.Entry{Actor: "partner:bank-a", Action: "person.verified", Subject: fmt.Sprintf("person:%012d", rng.IntN(20_000)), Purpose: "aml-cdd", Detail: "result=match"}
		}
		if err := db.Tx(ctx, func(tx *sql.Tx) error { return audit.AppendTx(ctx, db, tx, time.Now(), es...) }); err != nil {
			b.Fatal(err)
		}
	}
	ix := audit.NewIndexer(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for {
		worked, err := ix.Step(ctx, true)
		if err != nil {
			b.Fatal(err)
		}
		if !worked {
			break
		}
	}
	st, err := audit.ReadIndexState(ctx, db)
	if err != nil || st.Unindexed() != 0 {
		b.Fatalf("index: %+v %v", st, err)
	}
	for i := 0; b.Loop(); i++ {
		got, err := audit.BySubject(ctx, db, fmt.Sprintf("person:%012d", i%20_000), 100)
		if err != nil || len(got) == 0 {
			b.Fatalf("%d entries, %v", len(got), err)
		}
	}
	b.ReportMetric(float64(st.LiveRuns), "runs")
}
