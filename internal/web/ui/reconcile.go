package ui

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/reconcile"
	"github.com/dancu-project/dancu/internal/staff"
)

// mountReconcile registers the data-cleaning pages: jobs with each
// partner's cleaning progress, and the review queue of ambiguous rows in
// the officer's unit with the decide form.
func (u *UI) mountReconcile(s func(string, handler)) {
	s("GET /reconcile", u.reconcileJobs)
	s("GET /reconcile/jobs/{id}/report", u.reconcileReport)
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
}

func (u *UI) reconcileJobs(w http.ResponseWriter, r *http.Request, s staff.Session) {
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
	v := u.page(r, &s, "recon.title", "")
	v.Nav = "reconcile"
	v.Page = reconcileJobsView{Partners: partners, Jobs: jobs, Open: open, CanDownload: reconcile.CanDownloadReports(actorOf(s)) == nil}
	u.render(w, r, http.StatusOK, "reconcile-jobs", v)
}

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
		v.Summary = []summaryItem{{Message: faultText(v.Lang, problem)}}
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
			u.logStatus(r, http.StatusUnprocessableEntity, f.Code)
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
		u.logStatus(r, http.StatusInternalServerError, "reconcile.report_cut")
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
