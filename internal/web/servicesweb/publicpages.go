package servicesweb

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/web/page"
)

// Units names the administrative units on the pages (*adminunit.Catalog):
// the commune picker and the receiving agency of a dossier.
type Units interface {
	Provinces(on time.Time) []adminunit.Unit
	Communes(provinceCode string, on time.Time) []adminunit.Unit
	Province(code string, on time.Time) (adminunit.Unit, error)
	Commune(code string, on time.Time) (adminunit.Unit, error)
}

type proceduresView struct {
	Query      string
	Procedures []services.Procedure
	Listed     []services.Listed
}

func (h *Handler) proceduresPage(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	ps, err := h.Services.Catalogue().List(r.Context(), q, false)
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	v := h.newView(r, nil, "procedures.title")
	v.Nav = "procedures"
	pv := proceduresView{Query: q, Procedures: ps}
	if q == "" {
		pv.Listed = h.Services.Catalogue().Listed()
	}
	v.Page = pv
	h.renderPage(w, r, http.StatusOK, "procedures.html", v)
}

// docLine is one document of a procedure as its page shows it.
type docLine struct {
	Code, Name string
	Asked      bool
	Required   bool
	Proven     string // why it is not asked for
}

// fieldLine is one form field as the procedure's page lists it.
type fieldLine struct {
	Label     string
	Required  bool
	Prefilled bool
}

type procedureView struct {
	P      services.Procedure
	Docs   []docLine
	Fields []fieldLine
}

// provenText is the message id saying why a document is not asked for.
func provenText(by string) string {
	switch {
	case by == "form":
		return "procedure.proven.form"
	case by == "eid":
		return "procedure.proven.eid"
	case strings.HasPrefix(by, "register"):
		return "procedure.proven.register"
	case strings.HasPrefix(by, "result"):
		return "procedure.proven.result"
	}
	return "procedure.proven.other"
}

func (h *Handler) docLines(l string, p services.Procedure) []docLine {
	out := make([]docLine, 0, len(p.Documents))
	for _, d := range p.Documents {
		dl := docLine{Code: d.Code, Name: d.Name.In(l), Asked: d.Asked(), Required: d.Required}
		if !d.Asked() {
			dl.Proven = h.kit.Messages.T(l, provenText(d.ProvenBy))
		}
		out = append(out, dl)
	}
	return out
}

func (h *Handler) procedurePage(w http.ResponseWriter, r *http.Request) {
	p, err := h.Services.Catalogue().Get(r.Context(), r.PathValue("code"))
	if err == nil && p.Disabled {
		err = services.ErrProcedureNotFound
	}
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	v := h.newView(r, nil, "procedures.title")
	v.Nav, v.Title = "procedures", p.Name.In(v.Lang)
	pv := procedureView{P: p, Docs: h.docLines(v.Lang, p)}
	for _, f := range p.Fields {
		pv.Fields = append(pv.Fields, fieldLine{Label: f.Label.In(v.Lang), Required: f.Required, Prefilled: f.Prefill != ""})
	}
	v.Page = pv
	h.renderPage(w, r, http.StatusOK, "procedure.html", v)
}

type trackView struct {
	Code, Check string
	Tracking    *services.Tracking
}

// trackPage is the public tracking page, under the same limits as the
// tracking API (TrackLimit; its own counts): a client gets PerClient
// lookups a window, and a dossier code PerCode failed ones, so a check code
// cannot be guessed through the page either.
func (h *Handler) trackPage() http.HandlerFunc {
	l := h.TrackLimit
	if l.PerClient <= 0 || l.Window <= 0 {
		l = DefaultTrackLimit
	}
	clients, codes := newWindows(l.PerClient, l.Window), newWindows(max(l.PerCode, 1), l.Window)
	return func(w http.ResponseWriter, r *http.Request) {
		v := h.newView(r, nil, "track.title")
		v.Nav = "track"
		tv := trackView{Code: strings.TrimSpace(r.URL.Query().Get("code")), Check: strings.TrimSpace(r.URL.Query().Get("check"))}
		if len(tv.Code) > 40 {
			tv.Code = tv.Code[:40]
		}
		status := http.StatusOK
		if tv.Code != "" || tv.Check != "" {
			now := h.now()
			if !clients.allow(peer(r), now) || codes.full(tv.Code, now) {
				w.Header().Set("Retry-After", strconv.Itoa(int(l.Window/time.Second)))
				status, v.Error = http.StatusTooManyRequests, page.FaultText(v.Lang, ErrTrackLimited)
			} else if t, err := h.Services.Track(r.Context(), tv.Code, tv.Check); err == nil {
				tv.Tracking = &t
			} else if f := fault.As(err); f.Kind == fault.NotFound {
				// A wrong code and an unknown dossier answer alike, on
				// the form, so the reader can correct what they typed.
				codes.allow(tv.Code, now)
				status, v.Error = http.StatusNotFound, page.FaultText(v.Lang, f)
			} else {
				h.kit.Fail(w, r, err)
				return
			}
		}
		v.Page = tv
		h.renderPage(w, r, status, "track.html", v)
	}
}
