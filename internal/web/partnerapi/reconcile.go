package partnerapi

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/reconcile"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
)

func (a *API) reconcileRoutes() []Route {
	return []Route{
		{"POST", Prefix + "/reconcile/jobs", exchange.OpReconcile, a.reconcileUpload},
		{"GET", Prefix + "/reconcile/jobs", exchange.OpReconcile, a.reconcileJobs},
		{"GET", Prefix + "/reconcile/jobs/{id}", exchange.OpReconcile, a.reconcileJob},
		{"GET", Prefix + "/reconcile/jobs/{id}/report", exchange.OpReconcile, a.reconcileReport},
		{"POST", Prefix + "/reconcile/jobs/{id}/cancel", exchange.OpReconcile, a.reconcileCancel},
		{"DELETE", Prefix + "/reconcile/jobs/{id}", exchange.OpReconcile, a.reconcileDelete},
	}
}

// jobView is a job as the partner API shows it, with the cleaning figure.
type jobView struct {
	reconcile.Job
	Records   int64  `json:"records"`
	Cleaned   int64  `json:"cleaned"`
	Percent   int64  `json:"percent"`
	Figure    string `json:"figure"`
	FigureVI  string `json:"figure_vi"`
	ReportURL string `json:"report_url,omitempty"`
}

func viewJob(j reconcile.Job) jobView {
	v := jobView{Job: j, Records: j.Records(), Cleaned: j.Cleaned(), Percent: j.Percent(), Figure: j.Figure(), FigureVI: j.FigureVI()}
	if j.State == reconcile.Done {
		v.ReportURL = Prefix + "/reconcile/jobs/" + url.PathEscape(j.ID) + "/report"
	}
	return v
}

// reconcileUpload takes the dataset as the raw request body (CSV or JSON
// Lines) for the purpose ?purpose= names (a law-based purpose of the
// partner's policy, checked before anything else); ?encoding=, ?format=,
// ?delimiter= declare what detection would otherwise guess and ?name=
// names the file.
func (a *API) reconcileUpload(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p, _ := PartnerFrom(r.Context())
	if err := a.Reconcile.Admit(r.Context(), p.ID, q.Get("purpose")); err != nil {
		return err
	}
	o, err := reconcile.UploadOptions(q.Get("encoding"), q.Get("format"), q.Get("delimiter"))
	if err != nil {
		return err
	}
	// The server's timeouts suit interactive calls, not a file of millions
	// of rows over a partner's link.
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(reconcile.UploadTimeout))
	rc.SetWriteDeadline(time.Now().Add(reconcile.UploadTimeout))
	c, _ := CallerFrom(r.Context())
	name := q.Get("name")
	if name == "" {
		name = "upload"
	}
	j, err := a.Reconcile.Upload(r.Context(), p.ID, q.Get("purpose"), "partner:"+p.ID+"/"+c.System.ClientID, name, http.MaxBytesReader(w, r.Body, reconcile.MaxUpload), o)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return reconcile.ErrUploadTooLarge
		}
		return err
	}
	w.Header().Set("Location", Prefix+"/reconcile/jobs/"+url.PathEscape(j.ID))
	return jsonbody.Write(w, http.StatusAccepted, viewJob(j))
}

func (a *API) reconcileJobs(w http.ResponseWriter, r *http.Request) error {
	p, _ := PartnerFrom(r.Context())
	jobs, err := a.Reconcile.Jobs(r.Context(), p.ID, 100)
	if err != nil {
		return err
	}
	out := make([]jobView, len(jobs))
	for i, j := range jobs {
		out[i] = viewJob(j)
	}
	return jsonbody.Write(w, http.StatusOK, struct {
		Jobs []jobView `json:"jobs"`
	}{out})
}

func (a *API) reconcileJob(w http.ResponseWriter, r *http.Request) error {
	p, _ := PartnerFrom(r.Context())
	j, err := a.Reconcile.Job(r.Context(), p.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, viewJob(j))
}

// reconcileReport streams the report CSV. Every PIN in it is audited as a
// disclosure to the partner before it is sent; if that fails halfway the
// connection is cut, so a truncated report is never taken for a whole one.
func (a *API) reconcileReport(w http.ResponseWriter, r *http.Request) error {
	p, _ := PartnerFrom(r.Context())
	j, err := a.Reconcile.Job(r.Context(), p.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := reconcile.ReportReady(j); err != nil {
		return err
	}
	sw := &startWriter{w: w, start: func() {
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="reconcile-`+j.ID+`.csv"`)
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	}}
	if err := a.Reconcile.WriteReportCSV(r.Context(), sw, p.ID, j.ID); err != nil {
		if !sw.started {
			return err
		}
		a.Log.Error("reconcile report cut", "job", j.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// reconcileCancel stops a queued or running job; its upload is deleted at
// once and no row is added after the answer.
func (a *API) reconcileCancel(w http.ResponseWriter, r *http.Request) error {
	p, _ := PartnerFrom(r.Context())
	j, err := a.Reconcile.Cancel(r.Context(), p.ID, "partner:"+p.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, viewJob(j))
}

// reconcileDelete removes a job with its results, review items and upload;
// a queued or running job is cancelled by the delete.
func (a *API) reconcileDelete(w http.ResponseWriter, r *http.Request) error {
	p, _ := PartnerFrom(r.Context())
	if err := a.Reconcile.Delete(r.Context(), p.ID, "partner:"+p.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// startWriter sends the headers on the first byte, so an error before it
// can still be a problem document.
type startWriter struct {
	w       http.ResponseWriter
	start   func()
	started bool
}

func (s *startWriter) Write(p []byte) (int, error) {
	if !s.started {
		s.started = true
		s.start()
	}
	return s.w.Write(p)
}
