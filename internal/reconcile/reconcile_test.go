package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/match"
	"github.com/dancu-project/dancu/internal/reconcile/ingest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// clock is a test clock that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var (
	surnames = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"}
	middles  = []string{"Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc"}
	givens   = []string{"An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Khánh", "Linh", "Nam", "Phúc", "Quân", "Sơn", "Thảo", "Uyên", "Vinh"}
)

// Register people for the tests: n distinct people in Ba Đình (01/00004),
// plus twins — the same name and birth date — one in Ba Đình, one in
// Thủ Dầu Một (79/25747), so a row naming them is ambiguous.
type register struct {
	people []match.Person
	twins  [2]match.Person
	units  *adminunit.Catalog
}

// The tests' registrars: one in Ba Đình (Hà Nội), where the register's
// people and the first twin live, one in Hồ Chí Minh City, where the second
// twin lives.
var (
	badinh = actor.Actor{ID: "staff:badinh", Role: actor.Registrar, Unit: "00004", Province: "01"}
	hcm    = actor.Actor{ID: "staff:hcm", Role: actor.Registrar, Unit: "79", Province: "79"}
)

func newRegister(t testing.TB, n int) register {
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	r := register{units: units}
	for i := range n {
		name := fmt.Sprintf("%s %s %s", surnames[i%len(surnames)], middles[(i/len(surnames))%len(middles)], givens[(i/(len(surnames)*len(middles)))%len(givens)])
		r.people = append(r.people, match.Person{PIN: fmt.Sprintf("0010%02d%06d", 60+i%40, 100000+i), FullName: name,
			BirthDate: civildate.Date{Year: 1960 + i%40, Month: 1 + i%12, Day: 1 + i%28}, Sex: "M", ProvinceCode: "01", CommuneCode: "00004"})
	}
	r.twins = [2]match.Person{
		{PIN: "001088999001", FullName: "Trịnh Công Sơn", BirthDate: civildate.Date{Year: 1988, Month: 2, Day: 28}, Sex: "M", ProvinceCode: "01", CommuneCode: "00004"},
		{PIN: "074088999002", FullName: "Trịnh Công Sơn", BirthDate: civildate.Date{Year: 1988, Month: 2, Day: 28}, Sex: "M", ProvinceCode: "79", CommuneCode: "25747"},
	}
	return r
}

func (r register) index(t testing.TB) *match.Index {
	b := match.NewBuilder(r.units, match.Options{Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	for _, p := range append(append([]match.Person{}, r.people...), r.twins[:]...) {
		if !b.Add(p) {
			t.Fatalf("index refused %+v", p)
		}
	}
	return b.Finish()
}

// partnerFile writes a partner's CSV: every register person (matched), the
// twins by name and date only (ambiguous), two unknown people, one
// duplicated row, one broken quote and one row with a wrong column count.
func (r register) partnerFile() (csvText string, want map[string]int) {
	var b strings.Builder
	b.WriteString("Mã;Họ và tên;Số định danh;Ngày sinh;Giới tính\n")
	for i, p := range r.people {
		fmt.Fprintf(&b, "K%d;%s;%s;%02d/%02d/%d;Nam\n", i, p.FullName, p.PIN, p.BirthDate.Day, p.BirthDate.Month, p.BirthDate.Year)
	}
	b.WriteString("T1;Trịnh Công Sơn;;28/02/1988;Nam\n")
	b.WriteString("X1;Quách Tĩnh Nhi;;03/04/1955;Nữ\n")
	b.WriteString("X2;Âu Dương Phong;;05/06/1944;Nam\n")
	fmt.Fprintf(&b, "K0;%s;%s;%02d/%02d/%d;Nam\n", r.people[0].FullName, r.people[0].PIN, r.people[0].BirthDate.Day, r.people[0].BirthDate.Month, r.people[0].BirthDate.Year)
	b.WriteString("E1;\"Broken;;01/01/1990;Nam\n")
	b.WriteString("E2,Wrong,delimiter,01/01/1990,Nam\n")
	return b.String(), map[string]int{"matched": len(r.people), "ambiguous": 1, "not_found": 2, "duplicate": 1, "error": 2}
}

type env struct {
	db    *storage.DB
	svc   *Service
	log   *audit.Log
	clock *clock
	ix    *match.Index
	reg   register
	// partners are the partners' policies the service reads; a test may
	// change one between steps, as an administrator would.
	partners partnerTable
}

func migrations() []storage.Migrations { return []storage.Migrations{audit.Migrations(), Migrations()} }

func newEnv(t *testing.T, db *storage.DB, reg register, ix *match.Index, c *clock) *env {
	t.Helper()
	lg := audit.NewLog(db, c.now, slog.New(slog.DiscardHandler))
	t.Cleanup(lg.Close)
	partners := partnerTable{"bank-a": fullPolicy("bank-a"), "bank-b": fullPolicy("bank-b")}
	svc, err := New(Deps{DB: db, Audit: lg, Places: IndexPlaces{Index: ix}, Partners: partners, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{db: db, svc: svc, log: lg, clock: c, ix: ix, reg: reg, partners: partners}
}

func counts(t *testing.T, db *storage.DB, job string) map[string]int {
	t.Helper()
	rows, err := db.R.Query(`SELECT outcome, count(*) FROM reconcile_rows WHERE job_id = $1 GROUP BY outcome`, job)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var o string
		var n int
		rows.Scan(&o, &n)
		out[o] = n
	}
	return out
}

// checkExactlyOnce asserts rows 1..n each have exactly one result.
func checkExactlyOnce(t *testing.T, db *storage.DB, job string, n int) {
	t.Helper()
	var total, distinct, lo, hi int
	if err := db.R.QueryRow(`SELECT count(*), count(DISTINCT row_num), min(row_num), max(row_num) FROM reconcile_rows WHERE job_id = $1`, job).
		Scan(&total, &distinct, &lo, &hi); err != nil {
		t.Fatal(err)
	}
	if total != n || distinct != n || lo != 1 || hi != n {
		rows, _ := db.R.Query(`SELECT row_num, line, outcome, error_code FROM reconcile_rows WHERE job_id = $1 AND row_num > $2 ORDER BY row_num`, job, n-10)
		for rows.Next() {
			var r, l int
			var o, c string
			rows.Scan(&r, &l, &o, &c)
			t.Log(r, l, o, c)
		}
		rows.Close()
		t.Fatalf("results: %d rows, %d distinct, %d..%d; want each of 1..%d once", total, distinct, lo, hi, n)
	}
}

func TestJobEndToEnd(t *testing.T) {
	reg := newRegister(t, 200)
	ix := reg.index(t)
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		e := newEnv(t, db, reg, ix, &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)})
		text, want := reg.partnerFile()
		job, err := e.svc.Upload(ctx, "bank-a", testPurpose, "partner:bank-a", "khach-hang.csv", strings.NewReader(text), ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if job.State != Queued || job.Format != "csv" || job.Encoding != "utf-8" {
			t.Fatalf("job after upload: %+v", job)
		}
		w := e.svc.NewWorker(ix, WorkerOptions{Batch: 64})
		if worked, err := w.RunOnce(ctx); !worked || err != nil {
			t.Fatalf("RunOnce: %v %v", worked, err)
		}
		job, err = e.svc.Job(ctx, "bank-a", job.ID)
		if err != nil {
			t.Fatal(err)
		}
		rows := 200 + 6
		checkExactlyOnce(t, db, job.ID, rows)
		if got := counts(t, db, job.ID); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("outcomes %v, want %v", got, want)
		}
		p := job.Progress
		if p.State != Done || p.RowsRead != int64(rows) || p.Matched != 200 || p.Ambiguous != 1 || p.NotFound != 2 || p.Errors != 2 || p.Duplicates != 1 {
			t.Errorf("progress %+v", p)
		}
		if p.Records() != int64(rows-1) {
			t.Errorf("records %d: a duplicated row must not count twice", p.Records())
		}
		var chunks int
		if err := db.R.QueryRowContext(ctx, `SELECT count(*) FROM reconcile_chunks WHERE job_id = $1`, job.ID).Scan(&chunks); err != nil || chunks != 0 {
			t.Errorf("the finished job still keeps %d chunks of the partner's upload (%v)", chunks, err)
		}
		// Another partner cannot see the job.
		if _, err := e.svc.Job(ctx, "bank-b", job.ID); !errors.Is(err, ErrJobNotFound) {
			t.Errorf("other partner reads the job: %v", err)
		}

		// The review queue: the twins' row reaches Ba Đình's registrar and
		// Bình Dương's (79) province registrar, not Đà Nẵng's.
		danang := actor.Actor{ID: "staff:danang", Role: actor.Registrar, Unit: "48", Province: "48"}
		leader := actor.Actor{ID: "staff:leader", Role: actor.Leader, Unit: "01", Province: "01"}
		for _, tc := range []struct {
			a    actor.Actor
			want int
		}{{badinh, 1}, {hcm, 1}, {danang, 0}} {
			q, err := e.svc.Queue(ctx, tc.a, 50)
			if err != nil || len(q) != tc.want {
				t.Fatalf("%s queue: %d items (%v), want %d", tc.a.ID, len(q), err, tc.want)
			}
			if tc.want == 1 && (q[0].Record.FullName != "Trịnh Công Sơn" || len(q[0].Candidates) != 2) {
				t.Errorf("queue item %+v", q[0])
			}
			// Twins: the registrar sees why (two people fit as well).
			if tc.want == 1 && q[0].Reason() != match.ReasonCompeting {
				t.Errorf("queue item's reason %q, want %q", q[0].Reason(), match.ReasonCompeting)
			}
		}
		if _, err := e.svc.Review(ctx, danang, job.ID, 201); !errors.Is(err, ErrReviewNotFound) {
			t.Errorf("review outside the unit: %v", err)
		}
		rv, err := e.svc.Review(ctx, badinh, job.ID, 201)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rv.Candidates {
			if c.InScope != (c.PIN == reg.twins[0].PIN) {
				t.Errorf("candidate %s in scope = %v", c.PIN, c.InScope)
			}
		}
		// Decisions: only registrars, only candidates, only in scope, once.
		decide := []struct {
			a    actor.Actor
			pin  string
			code string
		}{
			{leader, reg.twins[0].PIN, "forbidden"},
			{badinh, "001090000000", "reconcile.review.not_candidate"},
			{badinh, reg.twins[1].PIN, "out_of_scope"},
			{danang, reg.twins[1].PIN, "reconcile.review.not_found"},
			{badinh, reg.twins[0].PIN, ""},
			{hcm, reg.twins[1].PIN, "reconcile.review.decided"},
		}
		for _, d := range decide {
			err := e.svc.Decide(ctx, d.a, job.ID, 201, d.pin)
			code := ""
			if err != nil {
				code = fault.As(err).Code
			}
			if code != d.code {
				t.Errorf("%s decides %s: %q, want %q", d.a.ID, d.pin, code, d.code)
			}
		}
		if q, _ := e.svc.Queue(ctx, hcm, 50); len(q) != 0 {
			t.Errorf("a decided row stays in the queue: %+v", q)
		}
		job, _ = e.svc.Job(ctx, "", job.ID)
		if job.Decided != 1 || job.Cleaned() != 201 {
			t.Errorf("after the decision: %+v", job.Progress)
		}

		// The report: one line per row, decided row as matched, no register
		// value but the PIN, and every disclosed PIN audited for the partner.
		recs := reportRecords(t, e.svc, "bank-a", job.ID)
		if strings.Join(recs[0], ",") != strings.Join(ReportColumns, ",") || len(recs) != rows+1 {
			t.Fatalf("report header %v, %d lines", recs[0], len(recs))
		}
		pins := 0
		for _, r := range recs[1:] {
			if r[4] != "" {
				pins++
			}
			if strings.Contains(strings.Join(r, ","), "Trịnh") || strings.Contains(strings.Join(r, ","), reg.twins[1].PIN) {
				t.Errorf("report discloses register data: %v", r)
			}
		}
		twin := recs[201]
		if twin[2] != "T1" || twin[3] != "matched" || twin[4] != reg.twins[0].PIN || twin[8] != "decided" {
			t.Errorf("decided row in the report: %v", twin)
		}
		if recs[204][3] != "duplicate" || recs[204][10] != "1" || recs[205][3] != "error" || recs[205][9] != "reconcile.row.quote" {
			t.Errorf("duplicate and error rows: %v / %v", recs[204], recs[205])
		}
		var audited int
		db.R.QueryRow(`SELECT count(*) FROM audit_log WHERE actor = 'partner:bank-a' AND action = 'reconcile.disclose' AND purpose = $1`, testPurpose).Scan(&audited)
		if pins != 201 || audited != pins {
			t.Errorf("%d PINs disclosed, %d audited; want 201 and 201", pins, audited)
		}

		figs, err := e.svc.Partners(ctx)
		if err != nil || len(figs) != 1 || figs[0].Job.Figure() != "201 of 205 records cleaned, 98%" {
			t.Errorf("partner figures %+v %v", figs, err)
		}
	})
}

// TestResumeAfterRestart stops workers mid-job in two ways — a cancelled
// context (a clean shutdown) and a closed database (a crash: no lease
// released) — and checks that new workers finish the job with every row
// exactly once.
func TestResumeAfterRestart(t *testing.T) {
	reg := newRegister(t, 600)
	ix := reg.index(t)
	for _, d := range storagetest.Dialects() {
		for _, mode := range []string{"cancel", "crash"} {
			t.Run(string(d)+"/"+mode, func(t *testing.T) {
				ctx := context.Background()
				text, want := reg.partnerFile()
				job, db2, e2, c := stopMidJob(t, d, mode, reg, ix, text)
				mid, err := e2.svc.Job(ctx, "", job.ID)
				if err != nil {
					t.Fatal(err)
				}
				if mid.State != Running || mid.RowsRead != 150 {
					t.Fatalf("after the stop: %+v", mid.Progress)
				}
				w2 := e2.svc.NewWorker(ix, WorkerOptions{Batch: 70, Lease: time.Minute})
				worked, err := w2.RunOnce(ctx)
				if mode == "crash" {
					// The crashed worker still holds its lease: nobody takes
					// the job until it runs out.
					if worked || err != nil {
						t.Fatalf("job taken over while leased: %v %v", worked, err)
					}
					c.add(2 * time.Minute)
					worked, err = w2.RunOnce(ctx)
				}
				if !worked || err != nil {
					t.Fatalf("second worker: %v %v", worked, err)
				}
				checkExactlyOnce(t, db2, job.ID, 606)
				if got := counts(t, db2, job.ID); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("outcomes %v, want %v", got, want)
				}
				final, _ := e2.svc.Job(ctx, "", job.ID)
				if final.State != Done || final.RowsRead != 606 || final.Matched != 600 || final.Duplicates != 1 {
					t.Errorf("final progress %+v", final.Progress)
				}
			})
		}
	}
}

// TestLeaseLost: a worker whose lease was taken over cannot commit.
func TestLeaseLost(t *testing.T) {
	reg := newRegister(t, 120)
	ix := reg.index(t)
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		c := &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
		e := newEnv(t, db, reg, ix, c)
		text, _ := reg.partnerFile()
		job, err := e.svc.Upload(ctx, "bank-a", testPurpose, "x", "a.csv", strings.NewReader(text), ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		slow := e.svc.NewWorker(ix, WorkerOptions{Batch: 40, Lease: time.Minute})
		fast := e.svc.NewWorker(ix, WorkerOptions{Batch: 40, Lease: time.Minute})
		slow.AfterBatch = func(string, int64) {
			slow.AfterBatch = nil
			c.add(2 * time.Minute) // the slow worker stalls past its lease
			if worked, err := fast.RunOnce(ctx); !worked || err != nil {
				t.Errorf("takeover: %v %v", worked, err)
			}
		}
		if worked, err := slow.RunOnce(ctx); !worked || err != nil {
			t.Fatalf("slow worker: %v %v", worked, err)
		}
		checkExactlyOnce(t, db, job.ID, 126)
	})
}

func TestUploadRefusals(t *testing.T) {
	reg := newRegister(t, 1)
	ix := reg.index(t)
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		e := newEnv(t, db, reg, ix, &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)})
		for _, tc := range []struct {
			name, text, code string
		}{
			{"empty", "", "reconcile.file.empty"},
			{"binary", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "reconcile.file.binary"},
			{"missing columns", "ma,dia_chi\n1,HN\n", "reconcile.file.missing_columns"},
		} {
			_, err := e.svc.Upload(ctx, "bank-a", testPurpose, "x", "f.csv", strings.NewReader(tc.text), ingest.Options{})
			if fault.As(err).Code != tc.code {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
			}
		}
		// A connection dropped halfway leaves nothing behind.
		_, err := e.svc.Upload(ctx, "bank-a", testPurpose, "x", "f.csv", &failingReader{data: []byte("ho_ten,ngay_sinh\n" + strings.Repeat("An,1990\n", 300000))}, ingest.Options{})
		if fault.As(err).Code != "reconcile.upload.incomplete" {
			t.Errorf("cut upload: %v", err)
		}
		var jobs, chunks int
		db.R.QueryRow(`SELECT count(*) FROM reconcile_jobs`).Scan(&jobs)
		db.R.QueryRow(`SELECT count(*) FROM reconcile_chunks`).Scan(&chunks)
		if jobs != 0 || chunks != 0 {
			t.Errorf("refused uploads left %d jobs and %d chunks", jobs, chunks)
		}
	})
}

// failingReader gives its data and then fails, like a dropped connection.
type failingReader struct {
	data []byte
	off  int
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.off >= len(f.data) {
		return 0, errors.New("connection reset")
	}
	n := copy(p, f.data[f.off:])
	f.off += n
	return n, nil
}

func TestFigure(t *testing.T) {
	for _, tc := range []struct {
		p      Progress
		en, vi string
	}{
		{Progress{RowsRead: 72119 + 5, Duplicates: 5, Matched: 71000, Decided: 429}, "71,429 of 72,119 records cleaned, 99%", "Đã làm sạch 71.429/72.119 bản ghi (99%)"},
		{Progress{}, "0 of 0 records cleaned, 0%", "Đã làm sạch 0/0 bản ghi (0%)"},
		{Progress{RowsRead: 3, Matched: 3}, "3 of 3 records cleaned, 100%", "Đã làm sạch 3/3 bản ghi (100%)"},
	} {
		if got := tc.p.Figure(); got != tc.en {
			t.Errorf("Figure = %q, want %q", got, tc.en)
		}
		if got := tc.p.FigureVI(); got != tc.vi {
			t.Errorf("FigureVI = %q, want %q", got, tc.vi)
		}
	}
}

// stopMidJob uploads text as bank-a's dataset and stops the worker once
// 150 rows are committed — by cancelling its context (a clean shutdown) or,
// with mode "crash", by closing its database (no lease released) — and
// returns the job with a new environment on the database opened again, as
// after a restart, and the clock. The caller's new workers resume the job.
func stopMidJob(t *testing.T, d storage.Dialect, mode string, reg register, ix *match.Index, text string) (Job, *storage.DB, *env, *clock) {
	t.Helper()
	ctx := context.Background()
	url := storagetest.URL(t, d)
	open := func() *storage.DB {
		db, err := storage.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx, append([]storage.Migrations{storage.OwnMigrations()}, migrations()...)...); err != nil {
			t.Fatal(err)
		}
		return db
	}
	c := &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	db1 := open()
	e1 := newEnv(t, db1, reg, ix, c)
	job, err := e1.svc.Upload(ctx, "bank-a", testPurpose, "partner:bank-a", "data.csv", strings.NewReader(text), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	w1 := e1.svc.NewWorker(ix, WorkerOptions{Batch: 50, Lease: time.Minute})
	w1.AfterBatch = func(_ string, rows int64) {
		if rows >= 150 {
			if mode == "crash" {
				db1.Close()
			}
			stop()
		}
	}
	w1.RunOnce(wctx)
	stop()
	db2 := open()
	t.Cleanup(func() { db2.Close() })
	return job, db2, newEnv(t, db2, reg, ix, c), c
}
