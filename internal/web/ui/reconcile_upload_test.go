package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/match"
	"github.com/dancu-project/dancu/internal/reconcile"
	"github.com/dancu-project/dancu/internal/reconcile/ingest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/ui"
)

// part is one field of a multipart form, in the order it is sent; a file
// when fileName is set.
type part struct{ name, value, fileName string }

// postParts sends a multipart/form-data body with its parts in order.
func (c *client) postParts(path string, parts ...part) response {
	c.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		if p.fileName != "" {
			fw, _ := w.CreateFormFile(p.name, p.fileName)
			fw.Write([]byte(p.value))
		} else {
			w.WriteField(p.name, p.value)
		}
	}
	w.Close()
	req, err := http.NewRequest(http.MethodPost, c.base+path, &b)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

// TestReconcileUpload: an administrator uploads a bank's file from the
// /reconcile page on the bank's behalf; the job is the bank's (its job
// list, its report) and the upload is audited to the administrator.
// Registrars and leaders are refused, a body without the CSRF token as its
// first part is refused, and refused files (binary, missing columns, a
// partner not allowed to reconcile, a bad delimiter) come back with their
// message and leave neither a job nor an audit entry.
func TestReconcileUpload(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { testReconcileUpload(t, d) })
	}
}

// uploadStack is the staff pages with partners and the reconciliation
// service, for the upload and job-management tests.
type uploadStack struct {
	*stack
	db  *storage.DB
	svc *reconcile.Service
	ix  *match.Index
}

func newUploadStack(t *testing.T, d storage.Dialect) uploadStack {
	ctx := context.Background()
	now := func() time.Time { return today }
	db, units, alog, reg, staffStore := reconcileBase(t, d, exchange.Migrations())
	partners := exchange.NewStore(db, now)
	for _, p := range exchange.Samples() { // nganhang-a and bhxh may reconcile, bv-bachmai may not
		if _, err := partners.AddPartner(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	ix := match.NewBuilder(units, match.Options{Now: today}).Finish()
	svc, err := reconcile.New(reconcile.Deps{DB: db, Audit: alog, Places: reconcile.IndexPlaces{Index: ix}, Partners: partners, Registry: reg, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := ui.New(ui.Deps{Registry: reg, Staff: staffStore, Units: units, Now: now, Reconcile: svc,
		Admin: ui.AdminDeps{Partners: partners, Audit: alog}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	pages.Mount(mux)
	st := &stack{srv: httptest.NewServer(mux)}
	t.Cleanup(st.srv.Close)
	return uploadStack{stack: st, db: db, svc: svc, ix: ix}
}

func testReconcileUpload(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	us := newUploadStack(t, d)
	st, db, svc, ix := us.stack, us.db, us.svc, us.ix

	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.R.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	jobs := func() int { return count(`SELECT count(*) FROM reconcile_jobs`) }
	uploads := func() int { return count(`SELECT count(*) FROM audit_log WHERE action = 'reconcile.upload'`) }

	admin := st.client(t)
	admin.signIn("quantri")
	page := admin.get("/reconcile")
	mustContain(t, "admin jobs page", page, "Tải tệp lên thay cho đối tác", `action="/reconcile/upload"`, `enctype="multipart/form-data"`,
		`<option value="nganhang-a"`, `<option value="bhxh"`)
	if strings.Contains(page.body, `<option value="bv-bachmai"`) {
		t.Error("the form offers a partner whose policy does not allow reconcile")
	}
	// The CSRF field is the form's first field, the file its last.
	form := page.body[strings.Index(page.body, `id="upload-form"`):]
	if i, j, p, k := strings.Index(form, `name="csrf"`), strings.Index(form, `name="partner"`), strings.Index(form, `name="purpose"`), strings.Index(form, `name="file"`); !(i >= 0 && i < j && j < p && p < k) {
		t.Errorf("upload form order: csrf %d, partner %d, purpose %d, file %d", i, j, p, k)
	}
	// Only law-based purposes are offered.
	if !strings.Contains(form, `<option value="aml-cdd"`) || strings.Contains(form, `<option value="account-opening"`) {
		t.Error("the form's purposes are not the partners' law-based ones")
	}
	token := admin.csrf("/reconcile")

	// The administrator uploads the bank's file.
	const file = "ma;ho_ten;ngay_sinh\nKH1;Đỗ Văn An;15/01/1995\nKH2;Trần Thị Bình;02/03/1990\n"
	r := admin.postParts("/reconcile/upload", part{name: "csrf", value: token}, part{name: "partner", value: "nganhang-a"}, part{name: "purpose", value: "aml-cdd"},
		part{name: "encoding", value: ""}, part{name: "format", value: "csv"}, part{name: "delimiter", value: ";"},
		part{name: "file", value: file, fileName: "khach-hang.csv"})
	if r.status != http.StatusSeeOther || r.location != "/reconcile?uploaded=1" {
		t.Fatalf("upload: %d %s\n%s", r.status, r.location, text(r.body))
	}
	mustContain(t, "jobs after upload", admin.get("/reconcile?uploaded=1"), "Đã nhận tệp", "khach-hang.csv", "nganhang-a")
	bank, err := svc.Jobs(ctx, "nganhang-a", 10) // what the bank's API job list shows
	if err != nil || len(bank) != 1 {
		t.Fatalf("the bank's jobs: %v %v", bank, err)
	}
	j := bank[0]
	if j.State != reconcile.Queued || j.Bytes != int64(len(file)) || j.FileName != "khach-hang.csv" || j.CreatedBy != "staff:quantri" {
		t.Errorf("uploaded job: state %s, %d bytes (want %d), file %q, by %q", j.State, j.Bytes, len(file), j.FileName, j.CreatedBy)
	}
	if other, _ := svc.Jobs(ctx, "bhxh", 10); len(other) != 0 {
		t.Errorf("another partner sees the job")
	}
	var actorID, detail string
	var n int
	if err := db.R.QueryRowContext(ctx, `SELECT count(*), max(actor), max(detail) FROM audit_log WHERE action = $1 AND subject = $2`,
		reconcile.ActUpload, "reconcile:"+j.ID).Scan(&n, &actorID, &detail); err != nil {
		t.Fatal(err)
	}
	if n != 1 || actorID != "staff:quantri" || !strings.Contains(detail, "nganhang-a") {
		t.Errorf("upload audit: %d entries, actor %q, detail %q", n, actorID, detail)
	}
	for _, personal := range []string{"khach-hang", "Đỗ Văn An", "KH1"} {
		if strings.Contains(detail, personal) {
			t.Errorf("the audit detail %q holds %q", detail, personal)
		}
	}
	if worked, err := svc.NewWorker(ix, reconcile.WorkerOptions{}).RunOnce(ctx); !worked || err != nil {
		t.Fatalf("worker: %v %v", worked, err)
	}
	if j, err = svc.Job(ctx, "nganhang-a", j.ID); err != nil || j.State != reconcile.Done || j.RowsRead != 2 || j.NotFound != 2 {
		t.Errorf("job after the worker: %+v %v", j, err)
	}
	var rep bytes.Buffer
	if err := svc.WriteReportCSV(ctx, &rep, "nganhang-a", j.ID); err != nil || strings.Count(rep.String(), "\n") != 3 {
		t.Errorf("the bank's report: %v\n%s", err, rep.String())
	}

	// Registrars and leaders are refused, even with their own valid token.
	for _, user := range []string{"lan.nt", "hung.lv"} {
		c := st.client(t)
		c.signIn(user)
		if strings.Contains(c.get("/reconcile").body, "/reconcile/upload") {
			t.Errorf("%s is offered the upload form", user)
		}
		r := c.postParts("/reconcile/upload", part{name: "csrf", value: c.csrf("/reconcile")}, part{name: "partner", value: "nganhang-a"}, part{name: "purpose", value: "aml-cdd"},
			part{name: "file", value: file, fileName: "kh.csv"})
		if r.status != http.StatusForbidden {
			t.Errorf("%s uploads: %d", user, r.status)
		}
	}
	if jobs() != 1 || uploads() != 1 {
		t.Fatalf("refused uploads wrote: %d jobs, %d audit entries", jobs(), uploads())
	}

	// Without the session's token as the first part: refused.
	for name, parts := range map[string][]part{
		"no token":     {{name: "partner", value: "nganhang-a"}, {name: "file", value: file, fileName: "kh.csv"}},
		"wrong token":  {{name: "csrf", value: "x" + token}, {name: "partner", value: "nganhang-a"}, {name: "file", value: file, fileName: "kh.csv"}},
		"token second": {{name: "partner", value: "nganhang-a"}, {name: "csrf", value: token}, {name: "file", value: file, fileName: "kh.csv"}},
	} {
		if r := admin.postParts("/reconcile/upload", parts...); r.status != http.StatusForbidden || !strings.Contains(r.body, "Biểu mẫu đã hết hạn") {
			t.Errorf("%s: %d", name, r.status)
		}
	}
	if r := admin.post("/reconcile/upload", map[string][]string{"partner": {"nganhang-a"}}); r.status != http.StatusBadRequest {
		t.Errorf("not multipart: %d", r.status)
	}
	if jobs() != 1 || uploads() != 1 {
		t.Fatalf("uploads without the token wrote: %d jobs, %d audit entries", jobs(), uploads())
	}

	// Refused files: the service's message on the page, nothing written.
	zip := "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00b\xee\x9dh^\x01\x00\x00\x90\x04"
	for _, c := range []struct {
		name    string
		partner string
		delim   string
		file    string
		status  int
		want    string
		purpose string // "" the bank's law-based purpose
	}{
		{"binary", "nganhang-a", "", zip, http.StatusUnprocessableEntity, "Tệp không phải văn bản (CSV hoặc JSON Lines); có thể là tệp Excel hoặc tệp nén.", ""},
		{"empty", "nganhang-a", "", "", http.StatusUnprocessableEntity, "Tệp không có dữ liệu.", ""},
		{"missing columns", "nganhang-a", "", "ma,dia_chi\n1,Hà Nội\n", http.StatusUnprocessableEntity, "Thiếu cột bắt buộc: cần cột họ tên", ""},
		{"partner not allowed", "bv-bachmai", "", file, http.StatusUnprocessableEntity, "Chọn một đối tác được phép đối soát dữ liệu.", ""},
		{"no partner", "", "", file, http.StatusUnprocessableEntity, "Chọn một đối tác được phép đối soát dữ liệu.", ""},
		{"bad delimiter", "nganhang-a", "#", file, http.StatusUnprocessableEntity, "Dấu phân cách phải là một trong", ""},
		// The partner's policy first, before the (binary) file.
		{"purpose of another partner", "nganhang-a", "", zip, http.StatusForbidden, "Mục đích xử lý dữ liệu này chưa được đăng ký trong chính sách của đối tác.", "health-insurance"},
		{"consent-based purpose", "nganhang-a", "", zip, http.StatusForbidden, "Đối soát hàng loạt không có sự đồng ý của từng công dân", "account-opening"},
		{"no purpose", "nganhang-a", "", zip, http.StatusUnprocessableEntity, "Phải nêu mục đích xử lý dữ liệu.", " "},
	} {
		purpose := c.purpose
		if purpose == "" {
			purpose = "aml-cdd"
		}
		r := admin.postParts("/reconcile/upload", part{name: "csrf", value: token}, part{name: "partner", value: c.partner},
			part{name: "purpose", value: purpose}, part{name: "delimiter", value: c.delim}, part{name: "file", value: c.file, fileName: "kh.csv"})
		if r.status != c.status {
			t.Errorf("%s: status %d, want %d", c.name, r.status, c.status)
		}
		mustContain(t, c.name, r, "Vui lòng kiểm tra lại", c.want)
		// The form keeps the choices.
		if c.partner != "" && c.partner != "bv-bachmai" {
			mustContain(t, c.name+" keeps the partner", r, `<option value="`+c.partner+`" selected`)
		}
	}
	if r := admin.postParts("/reconcile/upload", part{name: "csrf", value: token}, part{name: "partner", value: "nganhang-a"}, part{name: "purpose", value: "aml-cdd"}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("no file part: %d", r.status)
	}
	if jobs() != 1 || uploads() != 1 {
		t.Errorf("refused files wrote: %d jobs, %d audit entries", jobs(), uploads())
	}

	// A file far above the pages' 64 KiB form limit goes through.
	var big strings.Builder
	big.WriteString("ma,ho_ten,ngay_sinh\n")
	for i := 0; big.Len() < 300<<10; i++ {
		fmt.Fprintf(&big, "KH%d,Nguyễn Văn Thử,%02d/01/1990\n", i, i%28+1)
	}
	r = admin.postParts("/reconcile/upload", part{name: "csrf", value: token}, part{name: "partner", value: "bhxh"}, part{name: "purpose", value: "health-insurance"},
		part{name: "file", value: big.String(), fileName: "bhxh.csv"})
	if r.status != http.StatusSeeOther {
		t.Fatalf("large upload: %d\n%s", r.status, text(r.body))
	}
	if ins, err := svc.Jobs(ctx, "bhxh", 10); err != nil || len(ins) != 1 || ins[0].Bytes != int64(big.Len()) || ins[0].State != reconcile.Queued {
		t.Errorf("large upload's job: %+v %v", ins, err)
	}

	// In English the page and the service's message are English.
	admin.get("/lang?l=en&next=/reconcile")
	r = admin.postParts("/reconcile/upload", part{name: "csrf", value: token}, part{name: "partner", value: "nganhang-a"}, part{name: "purpose", value: "aml-cdd"},
		part{name: "file", value: zip, fileName: "kh.xlsx"})
	mustContain(t, "english", r, "Upload a file on a partner's behalf", "The file is not text (CSV or JSON Lines)")
}

func TestReconcileStaffCancelAndDelete(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { testReconcileStaffCancelAndDelete(t, d) })
	}
}

func testReconcileStaffCancelAndDelete(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	us := newUploadStack(t, d)
	upload := func(name string) reconcile.Job {
		t.Helper()
		j, err := us.svc.UploadFor(ctx, "nganhang-a", "aml-cdd", "partner:nganhang-a", name, strings.NewReader("ho_ten;ngay_sinh\nĐỗ Văn An;15/01/1995\n"), ingest.Options{Delimiter: ';'})
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := us.db.R.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	queued, done := upload("queued.csv"), upload("done.csv")
	// The worker takes the oldest job first; cancel the queued one later.
	if _, err := us.svc.Cancel(ctx, "", "test", queued.ID); err != nil {
		t.Fatal(err)
	}
	if worked, err := us.svc.NewWorker(us.ix, reconcile.WorkerOptions{}).RunOnce(ctx); !worked || err != nil {
		t.Fatalf("worker: %v %v", worked, err)
	}
	if j, _ := us.svc.Job(ctx, "", done.ID); j.State != reconcile.Done {
		t.Fatalf("second job is %s, want done", j.State)
	}
	queued = upload("queued-again.csv")

	// Registrars see no controls and are refused.
	reg := us.client(t)
	reg.signIn("lan.nt")
	if page := reg.get("/reconcile"); strings.Contains(page.body, "/cancel") || strings.Contains(page.body, "/delete") {
		t.Error("a registrar is offered job controls")
	}
	token := reg.csrf("/reconcile")
	for _, path := range []string{"/reconcile/jobs/" + queued.ID + "/cancel", "/reconcile/jobs/" + done.ID + "/delete"} {
		if r := reg.post(path, url.Values{"csrf": {token}}); r.status != http.StatusForbidden {
			t.Errorf("registrar POST %s: %d", path, r.status)
		}
	}

	admin := us.client(t)
	admin.signIn("quantri")
	page := admin.get("/reconcile")
	mustContain(t, "admin jobs page", page, `action="/reconcile/jobs/`+queued.ID+`/cancel"`, `action="/reconcile/jobs/`+done.ID+`/delete"`,
		"Xoá hẳn lượt đối soát")
	if strings.Contains(page.body, `action="/reconcile/jobs/`+done.ID+`/cancel"`) {
		t.Error("a finished job is offered a cancel button")
	}
	token = admin.csrf("/reconcile")
	if r := admin.post("/reconcile/jobs/"+queued.ID+"/cancel", url.Values{}); r.status != http.StatusForbidden {
		t.Errorf("cancel without the CSRF token: %d", r.status)
	}
	if j, _ := us.svc.Job(ctx, "", queued.ID); j.State != reconcile.Queued {
		t.Fatalf("refused requests changed the job: %s", j.State)
	}

	// Cancel: the upload goes, the job stays as cancelled, audited to the admin.
	r := admin.post("/reconcile/jobs/"+queued.ID+"/cancel", url.Values{"csrf": {token}})
	if r.status != http.StatusSeeOther || r.location != "/reconcile?cancelled=1" {
		t.Fatalf("cancel: %d %s\n%s", r.status, r.location, text(r.body))
	}
	mustContain(t, "after cancel", admin.get(r.location), "Đã huỷ lượt đối soát")
	if j, _ := us.svc.Job(ctx, "", queued.ID); j.State != reconcile.Cancelled {
		t.Errorf("job after cancel: %s", j.State)
	}
	if n := count(`SELECT count(*) FROM audit_log WHERE action = $1 AND subject = $2 AND actor = 'staff:quantri'`, reconcile.ActCancel, "reconcile:"+queued.ID); n != 1 {
		t.Errorf("cancel audit entries by the admin: %d", n)
	}
	// Again: refused with the reason, in Vietnamese, nothing changes.
	r = admin.post("/reconcile/jobs/"+queued.ID+"/cancel", url.Values{"csrf": {token}})
	if r.status != http.StatusConflict || !strings.Contains(r.body, "đã kết thúc") {
		t.Errorf("cancelling an ended job: %d\n%s", r.status, text(r.body))
	}

	// Delete: the job and its rows are gone; a second delete finds nothing.
	if count(`SELECT count(*) FROM reconcile_rows WHERE job_id = $1`, done.ID) == 0 {
		t.Fatal("the finished job has no rows to delete")
	}
	r = admin.post("/reconcile/jobs/"+done.ID+"/delete", url.Values{"csrf": {token}})
	if r.status != http.StatusSeeOther || r.location != "/reconcile?deleted=1" {
		t.Fatalf("delete: %d %s\n%s", r.status, r.location, text(r.body))
	}
	mustContain(t, "after delete", admin.get(r.location), "Đã xoá lượt đối soát")
	if n := count(`SELECT count(*) FROM reconcile_jobs WHERE id = $1`, done.ID) + count(`SELECT count(*) FROM reconcile_rows WHERE job_id = $1`, done.ID); n != 0 {
		t.Errorf("the deleted job left %d rows", n)
	}
	if n := count(`SELECT count(*) FROM audit_log WHERE action = $1 AND subject = $2 AND actor = 'staff:quantri'`, reconcile.ActDelete, "reconcile:"+done.ID); n != 1 {
		t.Errorf("delete audit entries by the admin: %d", n)
	}
	r = admin.post("/reconcile/jobs/"+done.ID+"/delete", url.Values{"csrf": {token}})
	if r.status != http.StatusNotFound || !strings.Contains(r.body, "Không tìm thấy lượt đối soát") {
		t.Errorf("deleting a deleted job: %d\n%s", r.status, text(r.body))
	}
}
