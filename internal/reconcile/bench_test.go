package reconcile

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/reconcile/ingest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// BenchmarkJob measures a whole job on SQLite: upload into chunks, then
// parse, match against the in-memory index and commit results with
// checkpoints. rows/s is the figure.
func BenchmarkJob(b *testing.B) {
	reg := newRegister(b, 20000)
	ix := reg.index(b)
	text, _ := reg.partnerFile()
	rows := strings.Count(text, "\n") - 1
	for b.Loop() {
		b.StopTimer()
		db := storagetest.Open(b, storage.SQLite, migrations())
		c := &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
		svc, err := New(Deps{DB: db, Audit: nopAudit{}, Places: IndexPlaces{Index: ix}, Partners: partnerTable{"bank": fullPolicy("bank")}, Now: c.now})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		ctx := context.Background()
		if _, err := svc.Upload(ctx, "bank", testPurpose, "x", "f.csv", strings.NewReader(text), ingest.Options{}); err != nil {
			b.Fatal(err)
		}
		if worked, err := svc.NewWorker(ix, WorkerOptions{}).RunOnce(ctx); !worked || err != nil {
			b.Fatal(worked, err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// nopAudit stands in for the audit log where the benchmark measures the
// job alone (the report, not the job, writes audit entries).
type nopAudit struct{}

func (nopAudit) Record(context.Context, audit.Entry) error      { return nil }
func (nopAudit) RecordAll(context.Context, []audit.Entry) error { return nil }

// BenchmarkReport measures a partner's report download on SQLite with the
// real audit log: every row naming a person is one audit entry, written a
// page (1,000 rows) at a time through the log's group commit before the
// page is sent. rows/s is the figure.
func BenchmarkReport(b *testing.B) {
	reg := newRegister(b, 20000)
	ix := reg.index(b)
	text, _ := reg.partnerFile()
	db := storagetest.Open(b, storage.SQLite, migrations())
	c := &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	lg := audit.NewLog(db, c.now, slog.New(slog.DiscardHandler))
	b.Cleanup(lg.Close)
	svc, err := New(Deps{DB: db, Audit: lg, Places: IndexPlaces{Index: ix}, Partners: partnerTable{"bank": fullPolicy("bank")}, Now: c.now})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	job, err := svc.Upload(ctx, "bank", testPurpose, "x", "f.csv", strings.NewReader(text), ingest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if worked, err := svc.NewWorker(ix, WorkerOptions{}).RunOnce(ctx); !worked || err != nil {
		b.Fatal(worked, err)
	}
	rows := strings.Count(text, "\n") - 1
	for b.Loop() {
		if err := svc.WriteReportCSV(ctx, io.Discard, "bank", job.ID); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
