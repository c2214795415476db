package reconcile

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/reconcile/ingest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// samePersonFile holds every register person once (K<i>) and, under other
// references, some of them again: A10 and B10 (person 10, first at row 11,
// an earlier batch), A150 (person 150, first at row 153), A199 (person
// 199, first at row 202, the same batch), a true duplicate of K0, and C10
// (person 10 again, after the restart). want maps row → same_person_as.
func (r register) samePersonFile() (text string, want map[int]int) {
	var b strings.Builder
	b.WriteString("Mã;Họ và tên;Số định danh;Ngày sinh\n")
	line := func(ref string, i int) {
		p := r.people[i]
		fmt.Fprintf(&b, "%s;%s;%s;%02d/%02d/%d\n", ref, p.FullName, p.PIN, p.BirthDate.Day, p.BirthDate.Month, p.BirthDate.Year)
	}
	for i := range 100 {
		line(fmt.Sprintf("K%d", i), i) // rows 1..100
	}
	line("A10", 10) // 101
	line("B10", 10) // 102
	for i := 100; i < 200; i++ {
		line(fmt.Sprintf("K%d", i), i) // rows 103..202
	}
	line("A150", 150) // 203
	line("A199", 199) // 204
	line("K0", 0)     // 205: a duplicate, not a second record
	line("C10", 10)   // 206
	return b.String(), map[int]int{101: 11, 102: 11, 203: 153, 204: 202, 206: 11}
}

// TestSamePerson: rows with other references matching a person an earlier
// row matched are flagged with that row — across batches, within a batch
// and across a worker stopped mid-job (clean stop and crash) whose
// successor resumes — and counted once each in same_person; they stay
// matched records and cleaned.
func TestSamePerson(t *testing.T) {
	reg := newRegister(t, 200)
	ix := reg.index(t)
	for _, d := range storagetest.Dialects() {
		for _, mode := range []string{"cancel", "crash"} {
			t.Run(string(d)+"/"+mode, func(t *testing.T) {
				ctx := context.Background()
				text, want := reg.samePersonFile()
				job, db2, e2, c := stopMidJob(t, d, mode, reg, ix, text)
				mid, err := e2.svc.Job(ctx, "", job.ID)
				if err != nil {
					t.Fatal(err)
				}
				if mid.RowsRead != 150 || mid.SamePerson != 2 {
					t.Fatalf("after the stop: %+v; want 150 rows read, 2 of them the same person", mid.Progress)
				}
				c.add(2 * time.Minute) // the crashed worker's lease runs out
				w2 := e2.svc.NewWorker(ix, WorkerOptions{Batch: 70, Lease: time.Minute})
				if worked, err := w2.RunOnce(ctx); !worked || err != nil {
					t.Fatalf("second worker: %v %v", worked, err)
				}
				checkExactlyOnce(t, db2, job.ID, 206)
				final, _ := e2.svc.Job(ctx, "bank-a", job.ID)
				if final.State != Done || final.Matched != 205 || final.Duplicates != 1 || final.SamePerson != 5 {
					t.Errorf("final progress %+v; want 205 matched, 1 duplicate, 5 the same person", final.Progress)
				}
				if final.Records() != 205 || final.Cleaned() != 205 {
					t.Errorf("figure %q: rows naming a person already named are records, and cleaned", final.Figure())
				}

				recs := reportRecords(t, e2.svc, "bank-a", job.ID)
				if len(recs) != 207 {
					t.Fatalf("report: %d lines", len(recs))
				}
				if h := recs[0][11]; h != "same_person_as" {
					t.Fatalf("report column 12 is %q", h)
				}
				for i, r := range recs[1:] {
					row := i + 1
					wantSame := ""
					if n, ok := want[row]; ok {
						wantSame = fmt.Sprint(n)
						if first := recs[n]; r[3] != "matched" || r[4] != first[4] || first[11] != "" {
							t.Errorf("row %d (%v) and its first row %d (%v) disagree", row, r, n, first)
						}
					}
					if r[11] != wantSame {
						t.Errorf("row %d (%s): same_person_as %q, want %q", row, r[2], r[11], wantSame)
					}
				}
				if r := recs[205]; r[3] != "duplicate" || r[10] != "1" || r[11] != "" {
					t.Errorf("the repeated row is a duplicate, not the same person: %v", r)
				}
			})
		}
	}
}

// TestDecidedSamePerson: a registrar who links an ambiguous row to a
// person another row of the file already names — matched by the worker,
// or decided before — marks it as the same person as the first of them;
// "none of them" and a different person mark nothing.
func TestDecidedSamePerson(t *testing.T) {
	reg := newRegister(t, 5)
	ix := reg.index(t)
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		e := newEnv(t, db, reg, ix, &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)})
		tw := reg.twins
		file := "Mã;Họ và tên;Số định danh;Ngày sinh\n" +
			"T1;Trịnh Công Sơn;;28/02/1988\n" + // 1: ambiguous
			"T2;Trịnh Công Sơn;" + tw[0].PIN + ";28/02/1988\n" + // 2: matched to the first twin
			"T3;Trịnh Công Sơn;;28/02/1988\n" + // 3: ambiguous
			"T4;Trịnh Công Sơn;;28/02/1988\n" + // 4: ambiguous
			"T5;Trinh Cong Son;;28/02/1988\n" // 5: ambiguous
		job, err := e.svc.Upload(ctx, "bank-a", testPurpose, "partner:bank-a", "t.csv", strings.NewReader(file), ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if worked, err := e.svc.NewWorker(ix, WorkerOptions{}).RunOnce(ctx); !worked || err != nil {
			t.Fatalf("RunOnce: %v %v", worked, err)
		}
		if j, _ := e.svc.Job(ctx, "bank-a", job.ID); j.Matched != 1 || j.Ambiguous != 4 || j.SamePerson != 0 {
			t.Fatalf("before the decisions: %+v", j.Progress)
		}
		for _, d := range []struct {
			by   actor.Actor
			row  int64
			pin  string
			same int64
		}{
			{badinh, 1, tw[0].PIN, 2}, // row 2 matched them
			{badinh, 3, tw[0].PIN, 1}, // row 1 was decided for them, before row 2
			{hcm, 4, tw[1].PIN, 0},    // the other twin: nobody else names them
			{badinh, 5, "", 0},        // none of them
		} {
			if err := e.svc.Decide(ctx, d.by, job.ID, d.row, d.pin); err != nil {
				t.Fatalf("decide row %d: %v", d.row, err)
			}
			var same int64
			if err := db.R.QueryRowContext(ctx, `SELECT same_person_as FROM reconcile_rows WHERE job_id = $1 AND row_num = $2`, job.ID, d.row).Scan(&same); err != nil {
				t.Fatal(err)
			}
			if same != d.same {
				t.Errorf("row %d decided for %q: same_person_as %d, want %d", d.row, d.pin, same, d.same)
			}
		}
		j, _ := e.svc.Job(ctx, "bank-a", job.ID)
		if j.Decided != 3 || j.SamePerson != 2 {
			t.Errorf("after the decisions: %d decided, %d the same person; want 3 and 2", j.Decided, j.SamePerson)
		}
		recs := reportRecords(t, e.svc, "bank-a", job.ID)
		if len(recs) != 6 {
			t.Fatalf("report: %d lines", len(recs))
		}
		for row, want := range map[int]string{1: "2", 2: "", 3: "1", 4: "", 5: ""} {
			if got := recs[row][11]; got != want {
				t.Errorf("report row %d: same_person_as %q, want %q (%v)", row, got, want, recs[row])
			}
		}
	})
}

// reportRecords reads a job's report as its partner downloads it.
func reportRecords(t *testing.T, svc *Service, partner, job string) [][]string {
	t.Helper()
	var buf bytes.Buffer
	if err := svc.WriteReportCSV(context.Background(), &buf, partner, job); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestMatchedAfterDecision: while a job runs, a registrar decides an
// ambiguous row for a person; a later row the worker matches to that
// person is marked as the same person as the decided row.
func TestMatchedAfterDecision(t *testing.T) {
	reg := newRegister(t, 5)
	ix := reg.index(t)
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		e := newEnv(t, db, reg, ix, &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)})
		tw, p := reg.twins, reg.people
		file := "Mã;Họ và tên;Số định danh;Ngày sinh\n" +
			"T1;Trịnh Công Sơn;;28/02/1988\n" + // 1: ambiguous
			fmt.Sprintf("K0;%s;%s;%02d/%02d/%d\n", p[0].FullName, p[0].PIN, p[0].BirthDate.Day, p[0].BirthDate.Month, p[0].BirthDate.Year) +
			fmt.Sprintf("K1;%s;%s;%02d/%02d/%d\n", p[1].FullName, p[1].PIN, p[1].BirthDate.Day, p[1].BirthDate.Month, p[1].BirthDate.Year) +
			"T4;Trịnh Công Sơn;" + tw[0].PIN + ";28/02/1988\n" // 4: matched, second batch
		job, err := e.svc.Upload(ctx, "bank-a", testPurpose, "partner:bank-a", "t.csv", strings.NewReader(file), ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		hm := &hookMatcher{ix: ix}
		hm.before = func(n int) {
			if n == 2 { // the first batch (rows 1–3) is committed
				if err := e.svc.Decide(ctx, badinh, job.ID, 1, tw[0].PIN); err != nil {
					t.Errorf("decide while running: %v", err)
				}
			}
		}
		if worked, err := e.svc.NewWorker(hm, WorkerOptions{Batch: 3}).RunOnce(ctx); !worked || err != nil {
			t.Fatalf("RunOnce: %v %v", worked, err)
		}
		if hm.calls != 2 {
			t.Fatalf("%d batches matched, want 2", hm.calls)
		}
		recs := reportRecords(t, e.svc, "bank-a", job.ID)
		if len(recs) != 5 {
			t.Fatalf("report: %d lines", len(recs))
		}
		if r := recs[4]; r[3] != "matched" || r[4] != tw[0].PIN || r[11] != "1" {
			t.Errorf("row 4: %v; want matched to %s, the same person as row 1", r, tw[0].PIN)
		}
		if r := recs[1]; r[11] != "" {
			t.Errorf("row 1, decided first: same_person_as %q, want none", r[11])
		}
		if j, _ := e.svc.Job(ctx, "bank-a", job.ID); j.SamePerson != 1 || j.Decided != 1 {
			t.Errorf("job: %d the same person, %d decided; want 1 and 1", j.SamePerson, j.Decided)
		}
	})
}
