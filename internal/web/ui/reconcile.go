package ui

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/reconcile"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/web/page"
	"github.com/dancu-project/dancu/internal/web/problem"
)

// mountReconcile registers the data-cleaning pages: jobs with each
// partner's cleaning progress, an administrator's upload on a partner's
// behalf, and the review queue of ambiguous rows in the officer's unit with
// the decide form.
func (u *UI) mountReconcile(s func(string, handler), up func(string, streamHandler)) {
	s("GET /reconcile", u.reconcileJobs)
	if u.admin.Partners != nil {
		up("POST /reconcile/upload", u.reconcileUpload)
	}
	s("GET /reconcile/jobs/{id}/report", u.reconcileReport)
	s("POST /reconcile/jobs/{id}/cancel", u.adminOnly(u.reconcileCancel))
	s("POST /reconcile/jobs/{id}/delete", u.adminOnly(u.reconcileDelete))
	s("GET /reconcile/review", u.reconcileQueue)
	s("GET /reconcile/review/{job}/{row}", u.reconcileReview)
	s("POST /reconcile/review/{job}/{row}", u.registrar(u.reconcileDecide))
}

type reconcileJobsView struct {
	Partners []reconcile.PartnerFigure
	Jobs     []reconcile.Job
	Open     int
	// CanDownload: the staff member may download finished jobs' reports
	// (national scope; the page itself is open to all staff).
	CanDownload bool
	// Upload is the upload form, for administrators only.
	Upload *uploadView
	// CanManage: the staff member may cancel and delete jobs
	// (administrators, as for uploads).
	CanManage bool
}

// uploadView is the form an administrator uploads a partner's file with.
type uploadView struct {
	Partners                                  []exchange.Partner // those whose policy allows reconcile
	Partner, Purpose, Encoding, Format, Delim string             // as chosen
	// Purposes are the law-based purposes of those partners (the code as
	// value, "partner: description" as label); the service checks that the
	// chosen one is the chosen partner's.
	Purposes                   []option
	Encodings, Formats, Delims []option
}

func (u *UI) reconcileJobs(w http.ResponseWriter, r *http.Request, s staff.Session) {
	flash := ""
	switch {
	case r.URL.Query().Get("uploaded") == "1":
		flash = "recon.flash.uploaded"
	case r.URL.Query().Get("cancelled") == "1":
		flash = "recon.flash.cancelled"
	case r.URL.Query().Get("deleted") == "1":
		flash = "recon.flash.deleted"
	}
	u.renderJobs(w, r, s, http.StatusOK, uploadInput{}, nil, flash)
}

// renderJobs shows the jobs page; in is what the upload form had, problem
// why it was refused.
func (u *UI) renderJobs(w http.ResponseWriter, r *http.Request, s staff.Session, status int, in uploadInput, problem *fault.Error, flash string) {
	ctx := r.Context()
	partners, err := u.recon.Partners(ctx)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	jobs, err := u.recon.Jobs(ctx, "", 50)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	open, err := u.recon.OpenReviews(ctx, actorOf(s))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := u.page(r, &s, "recon.title", "/reconcile")
	v.Nav = "reconcile"
	view := reconcileJobsView{Partners: partners, Jobs: jobs, Open: open, CanDownload: reconcile.CanDownloadReports(actorOf(s)) == nil,
		CanManage: actorOf(s).Role == actor.Admin}
	if u.admin.Partners != nil && actorOf(s).Role == actor.Admin {
		if view.Upload, err = u.uploadView(r, v.Lang, in); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	if flash != "" {
		v.Flash = u.tr(v.Lang, flash)
	}
	if problem != nil {
		v.Summary = []summaryItem{{Field: problem.Field, Message: page.FaultText(v.Lang, problem)}}
	}
	v.Page = view
	u.render(w, r, status, "reconcile-jobs", v)
}

// uploadInput is what the upload form sent before its file.
type uploadInput struct {
	Partner, Purpose, Encoding, Format, Delimiter string
}

// reconcilePartners are the partners a file may be uploaded for: enabled,
// with a policy allowing the reconcile operation.
func (u *UI) reconcilePartners(r *http.Request) ([]exchange.Partner, error) {
	all, err := u.admin.Partners.Partners(r.Context())
	if err != nil {
		return nil, err
	}
	var out []exchange.Partner
	for _, p := range all {
		if !p.Disabled && p.Policy.Allows(exchange.OpReconcile) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (u *UI) uploadView(r *http.Request, l string, in uploadInput) (*uploadView, error) {
	ps, err := u.reconcilePartners(r)
	if err != nil {
		return nil, err
	}
	auto := option{Value: "", Label: u.tr(l, "recon.upload.auto")}
	var purposes []option
	for _, p := range ps {
		for _, pu := range p.Policy.Purposes {
			if pu.Basis == exchange.BasisLaw {
				purposes = append(purposes, option{Value: pu.Code, Label: p.Name + ": " + pu.Description + " (" + pu.Code + ")"})
			}
		}
	}
	return &uploadView{Partners: ps, Partner: in.Partner, Purpose: in.Purpose, Purposes: purposes, Encoding: in.Encoding, Format: in.Format, Delim: in.Delimiter,
		Encodings: []option{auto, {Value: "utf-8", Label: "UTF-8"}, {Value: "utf-16", Label: "UTF-16 (Unicode)"},
			{Value: "windows-1258", Label: "Windows-1258"}, {Value: "tcvn3", Label: "TCVN3 (ABC)"}},
		Formats: []option{auto, {Value: "csv", Label: "CSV"}, {Value: "jsonl", Label: "JSON Lines"}},
		Delims: []option{auto, {Value: ",", Label: u.tr(l, "recon.upload.delim.comma")}, {Value: ";", Label: u.tr(l, "recon.upload.delim.semi")},
			{Value: "tab", Label: u.tr(l, "recon.upload.delim.tab")}, {Value: "|", Label: u.tr(l, "recon.upload.delim.pipe")}},
	}, nil
}

var (
	errUploadAdminOnly = fault.New(fault.Forbidden, "reconcile.upload.admin_only",
		"Chỉ quản trị viên hệ thống mới được tải tệp dữ liệu lên thay cho đối tác.",
		"Only system administrators may upload a file on a partner's behalf.")
	errUploadPartner = fault.New(fault.Invalid, "reconcile.upload.partner",
		"Chọn một đối tác được phép đối soát dữ liệu.",
		"Choose a partner allowed to reconcile data.").WithField("partner")
	errUploadNoFile = fault.New(fault.Invalid, "reconcile.upload.no_file",
		"Chọn tệp dữ liệu của đối tác (CSV hoặc JSON Lines).",
		"Choose the partner's data file (CSV or JSON Lines).").WithField("file")
)

// maxUploadField bounds a value of the upload form other than the file.
const maxUploadField = 1 << 10

// reconcileUpload takes a partner's file from an administrator and queues
// a job for the partner, exactly as the partner API's upload does, with
// the administrator as its creator and in the audit log
// (reconcile.UploadFor). The body is read part by part (signedInStream has
// checked the csrf part): the choices come first, then the file, which
// goes into the service as a stream; the form puts the file last. A file
// the service refuses (empty, binary, unknown encoding, missing columns,
// ...) leaves nothing behind and comes back on the page with the service's
// message.
func (u *UI) reconcileUpload(w http.ResponseWriter, r *http.Request, s staff.Session, mr *multipart.Reader) {
	a := actorOf(s)
	if a.Role != actor.Admin {
		u.fail(w, r, errUploadAdminOnly)
		return
	}
	// The server's read and write timeouts suit forms, not a file of
	// hundreds of megabytes: an administrator's upload gets longer.
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(reconcile.UploadTimeout))
	rc.SetWriteDeadline(time.Now().Add(reconcile.UploadTimeout))

	var in uploadInput
	err := func() error {
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return errUploadNoFile
			}
			if err != nil {
				return err
			}
			field := map[string]*string{"partner": &in.Partner, "purpose": &in.Purpose, "encoding": &in.Encoding, "format": &in.Format, "delimiter": &in.Delimiter}[p.FormName()]
			if field != nil {
				b, err := io.ReadAll(io.LimitReader(p, maxUploadField+1))
				if err != nil {
					return err
				}
				if len(b) > maxUploadField {
					return errBadUploadForm
				}
				*field = string(b)
				continue
			}
			if p.FormName() != "file" {
				continue // csrf (checked), or unknown: skipped
			}
			partners, err := u.reconcilePartners(r)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(partners, func(p exchange.Partner) bool { return p.ID == in.Partner }) {
				return errUploadPartner
			}
			// The partner's policy (the purpose) before anything else.
			if err := u.recon.Admit(r.Context(), in.Partner, in.Purpose); err != nil {
				return fieldFault(err, "purpose")
			}
			o, err := reconcile.UploadOptions(in.Encoding, in.Format, in.Delimiter)
			if err != nil {
				return err
			}
			name := p.FileName()
			if name == "" {
				name = "upload"
			}
			_, err = u.recon.UploadFor(r.Context(), in.Partner, in.Purpose, a.ID, name, p, o)
			return err
		}
	}()
	if err == nil {
		http.Redirect(w, r, "/reconcile?uploaded=1", http.StatusSeeOther)
		return
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = reconcile.ErrUploadTooLarge
	} else if !errors.As(err, new(*fault.Error)) {
		err = reconcile.ErrUploadFailed.Wrap(err) // a broken or cut body
	}
	f := fault.As(err)
	if f.Kind != fault.Invalid && f.Kind != fault.TooLarge && f.Field != "purpose" {
		u.fail(w, r, err)
		return
	}
	status := problem.Status(f.Kind)
	u.kit.Refused(r, status, f.Code)
	// A browser still sending the file may show a reset connection rather
	// than the answer: read the rest (at most maxUpload, and nothing once
	// the limit is hit) so the page with the message reaches it.
	io.Copy(io.Discard, r.Body)
	u.renderJobs(w, r, s, status, in, f, "")
}

var errBadUploadForm = fault.New(fault.Invalid, "reconcile.upload.form", "Không đọc được dữ liệu biểu mẫu.", "The form data could not be read.")

func (u *UI) reconcileQueue(w http.ResponseWriter, r *http.Request, s staff.Session) {
	q, err := u.recon.Queue(r.Context(), actorOf(s), 100)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := u.page(r, &s, "recon.queue.title", "")
	v.Nav = "reconcile"
	if r.URL.Query().Get("done") == "1" {
		v.Flash = u.tr(v.Lang, "recon.flash.decided")
	}
	v.Page = q
	u.render(w, r, http.StatusOK, "reconcile-queue", v)
}

type reconcileReviewView struct {
	R          reconcile.Review
	CanDecide  bool
	ActionURL  string
	PartnerPIN string
	HasInScope bool
}

// reviewKey reads the job and row of the path; a malformed row is a page
// that does not exist.
func reviewKey(r *http.Request) (string, int64, bool) {
	row, err := strconv.ParseInt(r.PathValue("row"), 10, 64)
	return r.PathValue("job"), row, err == nil && row > 0
}

func (u *UI) reconcileReview(w http.ResponseWriter, r *http.Request, s staff.Session) {
	job, row, ok := reviewKey(r)
	if !ok {
		u.NotFound(w, r)
		return
	}
	a := actorOf(s)
	rv, err := u.recon.Review(r.Context(), a, job, row)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.renderReview(w, r, s, rv, http.StatusOK, nil)
}

func (u *UI) renderReview(w http.ResponseWriter, r *http.Request, s staff.Session, rv reconcile.Review, status int, problem *fault.Error) {
	v := u.page(r, &s, "recon.review.title", "")
	v.Nav = "reconcile"
	view := reconcileReviewView{R: rv, CanDecide: actorOf(s).CanRegister() && rv.State == reconcile.ReviewOpen,
		ActionURL: "/reconcile/review/" + url.PathEscape(rv.JobID) + "/" + strconv.FormatInt(rv.Row, 10)}
	for _, c := range rv.Candidates {
		view.HasInScope = view.HasInScope || c.InScope
	}
	if problem != nil {
		v.Summary = []summaryItem{{Message: page.FaultText(v.Lang, problem)}}
	}
	v.Page = view
	u.render(w, r, status, "reconcile-review", v)
}

func (u *UI) reconcileDecide(w http.ResponseWriter, r *http.Request, s staff.Session) {
	job, row, ok := reviewKey(r)
	if !ok {
		u.NotFound(w, r)
		return
	}
	choice := r.PostFormValue("choice")
	pin := choice
	if choice == "none" {
		pin = ""
	}
	a := actorOf(s)
	if choice == "" {
		rv, err := u.recon.Review(r.Context(), a, job, row)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		u.renderReview(w, r, s, rv, http.StatusUnprocessableEntity, errNoChoice)
		return
	}
	if err := u.recon.Decide(r.Context(), a, job, row, pin); err != nil {
		f := fault.As(err)
		if f.Kind == fault.Invalid || f.Kind == fault.Conflict {
			u.kit.Refused(r, http.StatusUnprocessableEntity, f.Code)
			if rv, err2 := u.recon.Review(r.Context(), a, job, row); err2 == nil {
				u.renderReview(w, r, s, rv, http.StatusUnprocessableEntity, f)
				return
			}
		}
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/reconcile/review?done=1", http.StatusSeeOther)
}

// reconcileCancel stops a queued or running job for its partner (a file
// sent by mistake, say): the upload and open review items go with it.
func (u *UI) reconcileCancel(w http.ResponseWriter, r *http.Request, s staff.Session) {
	_, err := u.recon.Cancel(r.Context(), "", actorOf(s).ID, r.PathValue("id"))
	u.afterJobAct(w, r, s, err, "/reconcile?cancelled=1")
}

// reconcileDelete removes a job with everything it holds of the partner's
// file; a running job is cancelled first.
func (u *UI) reconcileDelete(w http.ResponseWriter, r *http.Request, s staff.Session) {
	err := u.recon.Delete(r.Context(), "", actorOf(s).ID, r.PathValue("id"))
	u.afterJobAct(w, r, s, err, "/reconcile?deleted=1")
}

// afterJobAct goes back to the jobs page: with a flash when the act was
// done, or with the reason it was refused (a job that ended, one still
// uploading, one already gone).
func (u *UI) afterJobAct(w http.ResponseWriter, r *http.Request, s staff.Session, err error, done string) {
	if err == nil {
		http.Redirect(w, r, done, http.StatusSeeOther)
		return
	}
	f := fault.As(err)
	switch f.Kind {
	case fault.Conflict, fault.Invalid, fault.NotFound:
		status := problem.Status(f.Kind)
		u.kit.Refused(r, status, f.Code)
		u.renderJobs(w, r, s, status, uploadInput{}, f, "")
	default:
		u.fail(w, r, err)
	}
}

var errNoChoice = fault.New(fault.Invalid, "reconcile.review.choice_required", "Chọn một công dân hoặc \"Không ai trong số này\".", "Choose a person or \"None of them\".")

// reconcileReport sends a finished job's report to a staff member with
// national scope. Each PIN in it is audited as disclosed to the staff
// member before it is sent, as for the partner's own download; if auditing
// fails midway the connection is cut, so a truncated report is never
// taken for a whole one.
func (u *UI) reconcileReport(w http.ResponseWriter, r *http.Request, s staff.Session) {
	a := actorOf(s)
	if err := reconcile.CanDownloadReports(a); err != nil {
		u.fail(w, r, err)
		return
	}
	j, err := u.recon.Job(r.Context(), "", r.PathValue("id"))
	if err == nil {
		err = reconcile.ReportReady(j)
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	sw := &reportWriter{w: w, start: func() {
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="reconcile-`+j.ID+`.csv"`)
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	}}
	if err := u.recon.WriteStaffReportCSV(r.Context(), sw, a, j.ID); err != nil {
		if !sw.started {
			u.fail(w, r, err)
			return
		}
		u.kit.Failed(r, http.StatusInternalServerError, "reconcile.report_cut", err)
		panic(http.ErrAbortHandler)
	}
}

// reportWriter sends the headers on the first byte, so an error before it
// can still be an error page.
type reportWriter struct {
	w       http.ResponseWriter
	start   func()
	started bool
}

func (s *reportWriter) Write(p []byte) (int, error) {
	if !s.started {
		s.started = true
		s.start()
	}
	return s.w.Write(p)
}

// fieldFault is err with its fault pinned to a form field, so the page
// shows it beside the field; other errors pass unchanged.
func fieldFault(err error, field string) error {
	var f *fault.Error
	if !errors.As(err, &f) {
		return err
	}
	return f.WithField(field)
}
