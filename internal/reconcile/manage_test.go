package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/match"
	"github.com/dancu-project/dancu/internal/reconcile/ingest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// hookMatcher matches with an index and calls before(n) ahead of its n-th
// call (from 1): a partner acting while a worker is in the middle of a
// batch.
type hookMatcher struct {
	ix     *match.Index
	calls  int
	before func(n int)
}

func (h *hookMatcher) Match(ctx context.Context, recs []match.Record) ([]match.Result, error) {
	h.calls++
	if h.before != nil {
		h.before(h.calls)
	}
	return h.ix.Match(ctx, recs)
}

// twinFirstFile is the twins' row (ambiguous, queued for review) followed
// by every register person.
func (r register) twinFirstFile() string {
	var b strings.Builder
	b.WriteString("Mã;Họ và tên;Số định danh;Ngày sinh\n")
	b.WriteString("T1;Trịnh Công Sơn;;28/02/1988\n")
	for i, p := range r.people {
		fmt.Fprintf(&b, "K%d;%s;%s;%02d/%02d/%d\n", i, p.FullName, p.PIN, p.BirthDate.Day, p.BirthDate.Month, p.BirthDate.Year)
	}
	return b.String()
}

func tableCount(t *testing.T, db *storage.DB, table, job string) int {
	t.Helper()
	col := "job_id"
	if table == "reconcile_jobs" {
		col = "id"
	}
	var n int
	if err := db.R.QueryRow(`SELECT count(*) FROM `+table+` WHERE `+col+` = $1`, job).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func auditCount(t *testing.T, db *storage.DB, actorID, action, subject string) int {
	t.Helper()
	var n int
	if err := db.R.QueryRow(`SELECT count(*) FROM audit_log WHERE actor = $1 AND action = $2 AND subject = $3`, actorID, action, subject).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCancel: a partner cancels a job while a worker is matching its
// second batch. The batch in flight is never stored, the upload is gone at
// once, the row waiting for a registrar leaves the queue, no worker takes
// the job up again and it has no report; a cancelled job is not the
// partner's progress figure.
func TestCancel(t *testing.T) {
	reg := newRegister(t, 120)
	ix := reg.index(t)
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		c := &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
		e := newEnv(t, db, reg, ix, c)

		// An earlier finished job is the partner's figure.
		done, err := e.svc.Upload(ctx, "bank-a", testPurpose, "partner:bank-a", "old.csv", strings.NewReader("ho_ten;so_dinh_danh\n"+reg.people[0].FullName+";"+reg.people[0].PIN+"\n"), ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if worked, err := e.svc.NewWorker(ix, WorkerOptions{}).RunOnce(ctx); !worked || err != nil {
			t.Fatalf("first job: %v %v", worked, err)
		}
		c.add(time.Second)

		job, err := e.svc.Upload(ctx, "bank-a", testPurpose, "partner:bank-a", "data.csv", strings.NewReader(reg.twinFirstFile()), ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Cancel(ctx, "bank-b", "partner:bank-b", job.ID); !errors.Is(err, ErrJobNotFound) {
			t.Errorf("another partner cancels the job: %v", err)
		}
		hm := &hookMatcher{ix: ix}
		hm.before = func(n int) {
			switch n {
			case 2:
				if q, _ := e.svc.Queue(ctx, badinh, 10); len(q) != 1 {
					t.Errorf("before the cancel the twins' row is not in the queue: %+v", q)
				}
				got, err := e.svc.Cancel(ctx, "bank-a", "partner:bank-a", job.ID)
				if err != nil || got.State != Cancelled {
					t.Errorf("cancel: %+v %v", got.Progress, err)
				}
			case 3:
				t.Error("the worker matched another batch after the cancel")
			}
		}
		w := e.svc.NewWorker(hm, WorkerOptions{Batch: 40})
		if worked, err := w.RunOnce(ctx); !worked || err != nil {
			t.Fatalf("RunOnce: %v %v", worked, err)
		}
		got, err := e.svc.Job(ctx, "bank-a", job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != Cancelled || got.RowsRead != 40 || got.Matched != 39 || got.Ambiguous != 1 || got.Finished.IsZero() {
			t.Errorf("cancelled job: %+v", got)
		}
		if n := tableCount(t, db, "reconcile_rows", job.ID); n != 40 {
			t.Errorf("%d rows stored; the batch in flight at the cancel must be dropped (want 40)", n)
		}
		if n := tableCount(t, db, "reconcile_chunks", job.ID); n != 0 {
			t.Errorf("the cancelled job keeps %d chunks of the partner's upload", n)
		}
		if q, _ := e.svc.Queue(ctx, badinh, 10); len(q) != 0 {
			t.Errorf("a cancelled job's row stays in the review queue: %+v", q)
		}
		if n, _ := e.svc.OpenReviews(ctx, badinh); n != 0 {
			t.Errorf("open reviews after the cancel: %d", n)
		}
		if err := e.svc.Decide(ctx, badinh, job.ID, 1, reg.twins[0].PIN); !errors.Is(err, ErrReviewNotFound) {
			t.Errorf("deciding a cancelled job's row: %v", err)
		}
		if worked, err := e.svc.NewWorker(ix, WorkerOptions{}).RunOnce(ctx); worked || err != nil {
			t.Errorf("a worker took up the cancelled job: %v %v", worked, err)
		}
		if _, err := e.svc.Cancel(ctx, "bank-a", "partner:bank-a", job.ID); fault.As(err).Code != "reconcile.job.ended" {
			t.Errorf("cancelling twice: %v", err)
		}
		if _, err := e.svc.Cancel(ctx, "bank-a", "partner:bank-a", done.ID); fault.As(err).Code != "reconcile.job.ended" {
			t.Errorf("cancelling a finished job: %v", err)
		}
		if err := e.svc.Report(ctx, "bank-a", job.ID, func([]ReportRow) error { return nil }); fault.As(err).Code != "reconcile.job.cancelled" {
			t.Errorf("report of a cancelled job: %v", err)
		}
		if n := auditCount(t, db, "partner:bank-a", ActCancel, "reconcile:"+job.ID); n != 1 {
			t.Errorf("%d cancel entries in the audit log, want 1", n)
		}
		if figs, err := e.svc.Partners(ctx); err != nil || len(figs) != 1 || figs[0].Job.ID != done.ID {
			t.Errorf("partner figure after the cancel: %+v %v", figs, err)
		}

		// A queued job cancelled before any worker saw it.
		queued, err := e.svc.Upload(ctx, "bank-a", testPurpose, "partner:bank-a", "q.csv", strings.NewReader(reg.twinFirstFile()), ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := e.svc.Cancel(ctx, "bank-a", "partner:bank-a", queued.ID); err != nil || got.State != Cancelled || got.RowsRead != 0 {
			t.Errorf("cancel a queued job: %+v %v", got, err)
		}
		if n := tableCount(t, db, "reconcile_chunks", queued.ID); n != 0 {
			t.Errorf("the cancelled queued job keeps %d chunks", n)
		}
		if worked, err := e.svc.NewWorker(ix, WorkerOptions{}).RunOnce(ctx); worked || err != nil {
			t.Errorf("a worker took up the cancelled queued job: %v %v", worked, err)
		}
	})
}

// TestDelete: a finished job with a decided review, and a running job
// deleted while a worker matches it, are gone with everything they held;
// the worker stores nothing more.
func TestDelete(t *testing.T) {
	reg := newRegister(t, 120)
	ix := reg.index(t)
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		c := &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
		e := newEnv(t, db, reg, ix, c)
		tables := []string{"reconcile_jobs", "reconcile_rows", "reconcile_reviews", "reconcile_review_units", "reconcile_chunks"}

		done, err := e.svc.Upload(ctx, "bank-a", testPurpose, "partner:bank-a", "a.csv", strings.NewReader(reg.twinFirstFile()), ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if worked, err := e.svc.NewWorker(ix, WorkerOptions{Batch: 50}).RunOnce(ctx); !worked || err != nil {
			t.Fatalf("RunOnce: %v %v", worked, err)
		}
		if err := e.svc.Decide(ctx, badinh, done.ID, 1, reg.twins[0].PIN); err != nil {
			t.Fatal(err)
		}
		open, err := e.svc.Upload(ctx, "bank-a", testPurpose, "partner:bank-a", "b.csv", strings.NewReader(reg.twinFirstFile()), ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Delete(ctx, "bank-b", "partner:bank-b", done.ID); !errors.Is(err, ErrJobNotFound) {
			t.Errorf("another partner deletes the job: %v", err)
		}
		if n := tableCount(t, db, "reconcile_rows", done.ID); n != 121 {
			t.Fatalf("a refused delete removed rows: %d left", n)
		}
		if err := e.svc.Delete(ctx, "bank-a", "partner:bank-a", done.ID); err != nil {
			t.Fatal(err)
		}
		for _, tb := range tables {
			if n := tableCount(t, db, tb, done.ID); n != 0 {
				t.Errorf("%s keeps %d entries of the deleted job", tb, n)
			}
		}
		if _, err := e.svc.Job(ctx, "bank-a", done.ID); !errors.Is(err, ErrJobNotFound) {
			t.Errorf("the deleted job is still there: %v", err)
		}
		if err := e.svc.Delete(ctx, "bank-a", "partner:bank-a", done.ID); !errors.Is(err, ErrJobNotFound) {
			t.Errorf("deleting twice: %v", err)
		}

		// The second job is deleted while a worker matches its second
		// batch: its first batch's review leaves the queue and nothing of
		// the job is stored afterwards.
		hm := &hookMatcher{ix: ix}
		hm.before = func(n int) {
			if n != 2 {
				return
			}
			if q, _ := e.svc.Queue(ctx, hcm, 10); len(q) != 1 {
				t.Errorf("before the delete the twins' row is not in the queue: %+v", q)
			}
			if err := e.svc.Delete(ctx, "bank-a", "partner:bank-a", open.ID); err != nil {
				t.Errorf("delete a running job: %v", err)
			}
		}
		if worked, err := e.svc.NewWorker(hm, WorkerOptions{Batch: 40}).RunOnce(ctx); !worked || err != nil {
			t.Fatalf("RunOnce: %v %v", worked, err)
		}
		if hm.calls != 2 {
			t.Errorf("the worker matched %d batches; it must stop at the one in flight (2)", hm.calls)
		}
		for _, tb := range tables {
			if n := tableCount(t, db, tb, open.ID); n != 0 {
				t.Errorf("%s keeps %d entries of the job deleted while running", tb, n)
			}
		}
		if q, _ := e.svc.Queue(ctx, hcm, 10); len(q) != 0 {
			t.Errorf("a deleted job's row stays in the review queue: %+v", q)
		}
		for _, id := range []string{done.ID, open.ID} {
			if n := auditCount(t, db, "partner:bank-a", ActDelete, "reconcile:"+id); n != 1 {
				t.Errorf("job %s: %d delete entries in the audit log, want 1", id, n)
			}
		}
	})
}

// TestDeleteInBatches: a deleted job leaves every list and lookup at once;
// its rows go in short transactions, by Delete for a few seconds and then
// by the workers (here Delete removes nothing itself, and a batch is 7
// rows).
func TestDeleteInBatches(t *testing.T) {
	reg := newRegister(t, 120)
	ix := reg.index(t)
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		e := newEnv(t, db, reg, ix, &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)})
		e.svc.purgeFor, e.svc.purgeBatch = 0, 7
		tables := []string{"reconcile_rows", "reconcile_reviews", "reconcile_review_units"}
		upload := func(name string) Job {
			t.Helper()
			j, err := e.svc.Upload(ctx, "bank-a", testPurpose, "partner:bank-a", name, strings.NewReader(reg.twinFirstFile()), ingest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if worked, err := e.svc.NewWorker(ix, WorkerOptions{Batch: 50}).RunOnce(ctx); !worked || err != nil {
				t.Fatalf("RunOnce: %v %v", worked, err)
			}
			return j
		}
		job := upload("a.csv")
		if q, _ := e.svc.Queue(ctx, hcm, 10); len(q) != 1 {
			t.Fatalf("the twins' row is not in the queue: %+v", q)
		}
		if err := e.svc.Delete(ctx, "bank-a", "partner:bank-a", job.ID); err != nil {
			t.Fatal(err)
		}
		if n := tableCount(t, db, "reconcile_rows", job.ID); n != 121 {
			t.Fatalf("with no time to purge, Delete removed rows itself: %d left of 121", n)
		}
		if _, err := e.svc.Job(ctx, "bank-a", job.ID); !errors.Is(err, ErrJobNotFound) {
			t.Errorf("a job being purged is found: %v", err)
		}
		if js, _ := e.svc.Jobs(ctx, "bank-a", 10); len(js) != 0 {
			t.Errorf("a job being purged is listed: %+v", js)
		}
		if ps, _ := e.svc.Partners(ctx); len(ps) != 0 {
			t.Errorf("a job being purged is a partner's progress: %+v", ps)
		}
		if q, _ := e.svc.Queue(ctx, hcm, 10); len(q) != 0 {
			t.Errorf("a job being purged has rows in the review queue: %+v", q)
		}
		if err := e.svc.Delete(ctx, "bank-a", "partner:bank-a", job.ID); !errors.Is(err, ErrJobNotFound) {
			t.Errorf("deleting twice: %v", err)
		}
		if _, err := e.svc.Cancel(ctx, "bank-a", "partner:bank-a", job.ID); !errors.Is(err, ErrJobNotFound) {
			t.Errorf("cancelling a deleted job: %v", err)
		}
		if err := e.svc.PurgeDeleted(ctx); err != nil {
			t.Fatal(err)
		}
		for _, tb := range append(tables, "reconcile_jobs") {
			if n := tableCount(t, db, tb, job.ID); n != 0 {
				t.Errorf("after the purge %s keeps %d entries", tb, n)
			}
		}

		// A worker's loop purges what a delete left, before its next job.
		job = upload("b.csv")
		if err := e.svc.Delete(ctx, "bank-a", "partner:bank-a", job.ID); err != nil {
			t.Fatal(err)
		}
		wctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); e.svc.NewWorker(ix, WorkerOptions{Poll: 10 * time.Millisecond}).Run(wctx) }()
		deadline := time.Now().Add(5 * time.Second)
		for tableCount(t, db, "reconcile_jobs", job.ID) != 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		stop()
		<-done
		for _, tb := range append(tables, "reconcile_jobs") {
			if n := tableCount(t, db, tb, job.ID); n != 0 {
				t.Errorf("after the worker ran, %s keeps %d entries", tb, n)
			}
		}
	})
}
