package match_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/match"
	"github.com/dancu-project/dancu/internal/match/noisy"
	"github.com/dancu-project/dancu/internal/partnercopy"
	"github.com/dancu-project/dancu/internal/storage"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchRegister opens the register the benchmark runs against:
// DANCU_BENCH_DB (an SQLite file or postgres:// URL holding a seeded
// register), else a file under the temporary directory seeded once with
// DANCU_BENCH_PERSONS people and kept for the next run.
func benchRegister(b *testing.B, units *adminunit.Catalog, persons int) *storage.DB {
	ctx := context.Background()
	dsn := os.Getenv("DANCU_BENCH_DB")
	fresh := false
	if dsn == "" {
		dsn = filepath.Join(os.TempDir(), fmt.Sprintf("dancu-match-bench-%d.db", persons))
		_, err := os.Stat(dsn)
		fresh = os.IsNotExist(err)
	}
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, append([]storage.Migrations{storage.OwnMigrations()}, migrations()...)...); err != nil {
		b.Fatal(err)
	}
	if fresh {
		start := time.Now()
		seeded(b, db, units, persons)
		b.Logf("seeded %d persons into %s in %s", persons, dsn, time.Since(start).Round(time.Second))
	}
	return db
}

// BenchmarkReconcile is the Figure: load the index from a register of
// DANCU_BENCH_PERSONS people (default 100,000) and match a dirty partner
// copy of DANCU_BENCH_ROWS rows (default a tenth of the register) against
// it. One iteration is the whole job (load + match); it reports the two
// times, the index size and the precision and recall from the truth. It
// matches two copies of DANCU_BENCH_ROWS rows: package partnercopy's and
// the independent generator's (package noisy); DANCU_BENCH_GEN=partnercopy
// or =noisy keeps one (the times reported are the last copy's).
//
//	DANCU_BENCH_PERSONS=1000000 DANCU_BENCH_ROWS=100000 go test ./internal/match -run XXX -bench Reconcile -benchtime 1x -timeout 2h
func BenchmarkReconcile(b *testing.B) {
	persons := envInt("DANCU_BENCH_PERSONS", 100000)
	nrows := envInt("DANCU_BENCH_ROWS", persons/10)
	units, err := adminunit.Load()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	db := benchRegister(b, units, persons)
	gen := os.Getenv("DANCU_BENCH_GEN") // "partnercopy", "noisy"; both when empty
	var rows []partnercopy.Row
	var truth []partnercopy.Truth
	var recs []match.Record
	if gen != "noisy" {
		rows, truth, err = partnercopy.Generate(ctx, db, units, partnercopy.Options{Rows: nrows, Seed: 7, Now: today})
		if err != nil {
			b.Fatal(err)
		}
		recs = records(rows)
	}
	var nrecs []match.Record
	var ntruth []noisy.Truth
	if gen != "partnercopy" {
		nrecs, ntruth, err = noisy.Generate(ctx, db, units, noisy.Options{Rows: nrows, Seed: 11, Now: today})
		if err != nil {
			b.Fatal(err)
		}
	}
	opts := match.Options{Now: today}
	if os.Getenv("DANCU_CALIBRATE") != "" {
		// Calibrate on another copy (seed 1) and measure with that model.
		ix, err := match.Load(ctx, db, units, opts)
		if err != nil {
			b.Fatal(err)
		}
		crows, ctruth, err := partnercopy.Generate(ctx, db, units, partnercopy.Options{Rows: nrows, Seed: 1, Now: today})
		if err != nil {
			b.Fatal(err)
		}
		pins := make([]string, len(ctruth))
		for i, tr := range ctruth {
			pins[i] = tr.TruePIN
		}
		m, err := ix.Calibrate(ctx, records(crows), pins, match.DefaultModel())
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("calibrated on %d persons, %d rows:\n%#v", ix.Len(), len(crows), m)
		opts.Model = &m
	}
	var loadT, matchT time.Duration
	var q quality
	var size, n int
	var loadCPU, matchCPU time.Duration
	for b.Loop() {
		start, cpu0 := time.Now(), cpuTime()
		ix, err := match.Load(ctx, db, units, opts)
		if err != nil {
			b.Fatal(err)
		}
		loadT, loadCPU = time.Since(start), cpuTime()-cpu0
		size, n = ix.SizeBytes(), ix.Len()
		m := ix.Model()
		b.Logf("model on this register:\n%#v", m)
		if len(nrecs) > 0 {
			start, cpu0 := time.Now(), cpuTime()
			results, err := ix.Match(ctx, nrecs)
			if err != nil {
				b.Fatal(err)
			}
			t, cpu := time.Since(start), cpuTime()-cpu0
			nq := measureNoisy(results, ntruth)
			b.Logf("noisy copy: %d persons, %d rows: match %s (CPU %s); matched %d (correct %d), ambiguous %d (%.2f %%), not found %d; precision %.4f recall %.4f",
				n, len(nrecs), t.Round(time.Millisecond), cpu.Round(time.Millisecond), nq.matched, nq.correct, nq.ambiguous, 100*nq.ambiguousShare, nq.notFound, nq.precision, nq.recall)
			for k, v := range nq.missedBy {
				if v >= max(2, len(nrecs)/5000) {
					b.Logf("  noisy wrong: %-50s %d", k, v)
				}
			}
			b.ReportMetric(nq.precision, "noisy-precision")
			b.ReportMetric(nq.recall, "noisy-recall")
			b.ReportMetric(nq.ambiguousShare, "noisy-ambiguous")
			if len(recs) == 0 {
				matchT, matchCPU, recs = t, cpu, nrecs
				continue
			}
		}
		start, cpu0 = time.Now(), cpuTime()
		results, err := ix.Match(ctx, recs)
		if err != nil {
			b.Fatal(err)
		}
		matchT, matchCPU = time.Since(start), cpuTime()-cpu0
		q = measure(results, truth)
	}
	b.ReportMetric(loadT.Seconds(), "load-s")
	b.ReportMetric(matchT.Seconds(), "match-s")
	b.ReportMetric(loadCPU.Seconds(), "load-cpu-s")
	b.ReportMetric(matchCPU.Seconds(), "match-cpu-s")
	b.ReportMetric(float64(len(recs))/matchT.Seconds(), "rows/s")
	b.ReportMetric(float64(size)/float64(n), "index-B/person")
	b.ReportMetric(q.precision, "precision")
	b.ReportMetric(q.recall, "recall")
	b.Logf("process CPU time: load %s, match %s (the machine is shared: wall time includes waiting for other work)", loadCPU.Round(time.Millisecond), matchCPU.Round(time.Millisecond))
	b.Logf("GOMAXPROCS %d; %d persons, %d rows: load %s, match %s; index %.0f MB; partnercopy: matched %d (correct %d), ambiguous %d (%.2f %%), not found %d; precision %.4f recall %.4f; missed by corruption %v",
		runtime.GOMAXPROCS(0), n, len(recs), loadT.Round(time.Millisecond), matchT.Round(time.Millisecond), float64(size)/1e6,
		q.matched, q.correct, q.ambiguous, 100*float64(q.ambiguous)/float64(max(q.rows, 1)), q.notFound, q.precision, q.recall, q.missedBy)
}

// BenchmarkMatchOne is the cost of searching one partner record in an
// index of DANCU_BENCH_PERSONS people: a reconciliation row's work
// (Index.Match spreads the same call over the cores). The verify API does
// not search: it compares the one person the PIN names with match.Compare,
// measured by BenchmarkCompare and BenchmarkComparer.
func BenchmarkMatchOne(b *testing.B) {
	persons := envInt("DANCU_BENCH_PERSONS", 100000)
	units, err := adminunit.Load()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	db := benchRegister(b, units, persons)
	rows, _, err := partnercopy.Generate(ctx, db, units, partnercopy.Options{Rows: 1000, Seed: 9, Now: today})
	if err != nil {
		b.Fatal(err)
	}
	recs := records(rows)
	ix, err := match.Load(ctx, db, units, match.Options{Now: today})
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		ix.MatchOne(recs[i%len(recs)])
		i++
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
