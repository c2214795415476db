package servicesweb

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/card/qr"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/web/page"
)

// mountCitizenPages registers the services pages on the kit: the public
// catalogue and tracking, and the citizen's filing and dossiers. A
// dossier's parts and the new-dossier form share one pattern
// (/citizen/dossiers/{code}/{part}, "new" being no dossier code), since
// two patterns there would overlap.
func (h *Handler) mountCitizenPages(mux *http.ServeMux) {
	kit, err := newKit(h)
	if err != nil {
		// The templates and messages are embedded: this fails in the
		// package's tests, never in a built binary.
		panic("servicesweb: " + err.Error())
	}
	h.kit = kit
	pub := func(p string, fn http.HandlerFunc) { mux.Handle(p, page.Secure(page.Policy{}, 4<<10, fn)) }
	sig := func(p string, max int64, fn func(http.ResponseWriter, *http.Request, eid.Session)) {
		mux.Handle(p, page.Secure(page.Policy{}, max, h.signed(fn)))
	}
	pub("GET /procedures", h.proceduresPage)
	pub("GET /procedures/{code}", h.procedurePage)
	pub("GET /track", h.trackPage())
	sig("GET /citizen/dossiers", 0, h.minePage)
	sig("GET /citizen/dossiers/{code}", 0, h.dossierPage)
	sig("GET /citizen/dossiers/{code}/{part}", 0, h.dossierPart)
	sig("POST /citizen/dossiers/{code}/{part}", maxFiling, h.dossierPost)
	sig("GET /citizen/documents/{id}", 0, h.documentDownload)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

type mineRow struct {
	D    services.Dossier
	Name string
}

func (h *Handler) minePage(w http.ResponseWriter, r *http.Request, s eid.Session) {
	ds, err := h.Services.ListMine(r.Context(), filer(s))
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	v := h.newView(r, &s, "mine.title")
	v.Nav = "mine"
	rows := make([]mineRow, 0, len(ds))
	for _, d := range ds {
		rows = append(rows, mineRow{D: d, Name: h.procedureName(r, v.Lang, d.Procedure)})
	}
	v.Page = rows
	h.renderPage(w, r, http.StatusOK, "mine.html", v)
}

func (h *Handler) procedureName(r *http.Request, l, code string) string {
	if p, err := h.Services.Catalogue().Get(r.Context(), code); err == nil {
		return p.Name.In(l)
	}
	return code
}

// dossierPart is a GET under a dossier: its QR code, or the new-dossier
// form (/citizen/dossiers/new/{procedure}).
func (h *Handler) dossierPart(w http.ResponseWriter, r *http.Request, s eid.Session) {
	code, part := r.PathValue("code"), r.PathValue("part")
	switch {
	case code == "new":
		h.newDossierPage(w, r, s, part)
	case part == "qr":
		h.qrImage(w, r, s, code)
	default:
		h.kit.Fail(w, r, errNoPage)
	}
}

func (h *Handler) dossierPost(w http.ResponseWriter, r *http.Request, s eid.Session) {
	code, part := r.PathValue("code"), r.PathValue("part")
	switch {
	case code == "new":
		h.fileDossier(w, r, s, part)
	case part == "pay":
		in, err := h.Services.Pay(r.Context(), filer(s), code)
		if err != nil {
			h.kit.Fail(w, r, err)
			return
		}
		http.Redirect(w, r, in.PayURL, http.StatusSeeOther)
	case part == "supplement":
		h.supplement(w, r, s, code)
	case part == "rating":
		stars, _ := strconv.Atoi(r.PostFormValue("stars"))
		if _, err := h.Services.Rate(r.Context(), filer(s), code, stars, r.PostFormValue("comment")); err != nil {
			h.dossierAgain(w, r, s, code, err)
			return
		}
		http.Redirect(w, r, "/citizen/dossiers/"+url.PathEscape(code)+"?rated=1", http.StatusSeeOther)
	default:
		h.kit.Fail(w, r, errNoPage)
	}
}

var errNoPage = fault.New(fault.NotFound, "page.not_found", "Không có trang này.", "No such page.")

func (h *Handler) qrImage(w http.ResponseWriter, r *http.Request, s eid.Session, code string) {
	rc, err := h.Services.ReceiptOf(r.Context(), filer(s), code)
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	png, err := qr.EncodeText(h.trackURL(rc.Code, rc.CheckCode), 256)
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(png)
}

// historyLine is one change of the dossier as its filer reads it.
type historyLine struct {
	At           time.Time
	Status, Note string
}

// paperLine is one document of the dossier.
type paperLine struct {
	Name, Title string
	Reused      bool
}

type dossierView struct {
	D          services.Dossier
	Name, Unit string
	Check      string
	History    []historyLine
	Papers     []paperLine
	Rating     *services.Rating
	CanRate    bool
	Supplement []docInput
	Stars      []option
}

// dossierPage is the receipt and the dossier's status: the code, check
// code and QR, the due date, the history, what a supplement request asks
// for (with the form to supply it), the result to download and the
// rating form once the result is back.
func (h *Handler) dossierPage(w http.ResponseWriter, r *http.Request, s eid.Session) {
	h.renderDossier(w, r, s, r.PathValue("code"), http.StatusOK, nil)
}

func (h *Handler) dossierAgain(w http.ResponseWriter, r *http.Request, s eid.Session, code string, err error) {
	if k := problemKind(err); k != fault.Invalid && k != fault.Conflict && k != fault.TooLarge {
		h.kit.Fail(w, r, err)
		return
	}
	st := http.StatusUnprocessableEntity
	if problemKind(err) == fault.Conflict {
		st = http.StatusConflict
	}
	h.renderDossier(w, r, s, code, st, fault.Faults(err))
}

func (h *Handler) renderDossier(w http.ResponseWriter, r *http.Request, s eid.Session, code string, status int, errs []*fault.Error) {
	ctx := r.Context()
	f := filer(s)
	rc, err := h.Services.ReceiptOf(ctx, f, code)
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	hist, err := h.Services.HistoryOf(ctx, f, code)
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	rating, rated, err := h.Services.RatingOf(ctx, f, code)
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	v := h.newView(r, &s, "dossier.title")
	l := v.Lang
	p, perr := h.Services.Catalogue().Get(ctx, rc.Procedure)
	dv := dossierView{D: rc.Dossier, Name: rc.Procedure, Check: rc.CheckCode, Unit: h.unitName(rc.Dossier)}
	if perr == nil {
		dv.Name = p.Name.In(l)
	}
	v.Title = h.kit.Messages.T(l, "dossier.title") + " " + rc.Code
	v.Nav = "mine"
	for _, e := range hist {
		dv.History = append(dv.History, historyLine{At: e.At, Status: h.kit.Messages.T(l, "status."+string(e.Status)), Note: h.noteText(l, e.Note)})
	}
	names := map[string]string{}
	for _, d := range p.Documents {
		names[d.Code] = d.Name.In(l)
	}
	docs, err := h.Services.MyDocuments(ctx, f)
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	titles := map[string]string{}
	for _, d := range docs {
		titles[d.ID] = d.Title
	}
	for _, a := range rc.Attachments {
		n := names[a.Document]
		if n == "" {
			n = a.Document
		}
		dv.Papers = append(dv.Papers, paperLine{Name: n, Title: titles[a.ID], Reused: a.Reused})
	}
	if rated {
		dv.Rating = &rating
	}
	dv.CanRate = !rated && (rc.Status == services.Returned || rc.Status == services.Rejected)
	if dv.CanRate {
		for i := 5; i >= 1; i-- {
			dv.Stars = append(dv.Stars, option{Value: strconv.Itoa(i), Label: h.kit.Messages.T(l, "stars."+strconv.Itoa(i)), Selected: i == 5})
		}
	}
	if rc.Status == services.Supplement && perr == nil {
		fv, err := h.formView(r, s, services.Procedure{Documents: p.Documents}, nil, filing{}, errs)
		if err != nil {
			h.kit.Fail(w, r, err)
			return
		}
		dv.Supplement = fv.Docs
		for i := range dv.Supplement {
			dv.Supplement[i].Required = false
		}
	}
	for _, e := range errs {
		if e.Field == "" || !strings.HasPrefix(e.Field, "documents.") && !strings.HasPrefix(e.Field, "uploads[") {
			v.Error = page.FaultText(l, e)
		}
	}
	q := r.URL.Query()
	switch {
	case q.Get("filed") == "1":
		v.Flash = h.kit.Messages.T(l, "dossier.new")
	case q.Get("payment") != "" && rc.Status == services.AwaitingPayment:
		v.Flash = h.kit.Messages.T(l, "dossier.paid")
	case q.Get("supplied") == "1":
		v.Flash = h.kit.Messages.T(l, "dossier.supplement.done")
	case q.Get("rated") == "1":
		v.Flash = h.kit.Messages.T(l, "dossier.rated.flash")
	}
	v.Page = dv
	h.renderPage(w, r, status, "dossier.html", v)
}

// noteText words a history note: the system's own notes by name, an
// officer's reason as written.
func (h *Handler) noteText(l, note string) string {
	if note == "" {
		return ""
	}
	if s, ok := h.kit.Messages.Lookup(l, "note."+note); ok {
		return s
	}
	return note
}

// unitName names the receiving agency: the commune's police or the
// province's.
func (h *Handler) unitName(d services.Dossier) string {
	if h.Units == nil {
		return d.Unit
	}
	now := h.now()
	if d.Commune != "" {
		if u, err := h.Units.Commune(d.Commune, now); err == nil {
			return u.Name
		}
	}
	if u, err := h.Units.Province(d.Province, now); err == nil {
		return u.Name
	}
	return d.Unit
}

// supplement takes the documents a supplement request asked for.
func (h *Handler) supplement(w http.ResponseWriter, r *http.Request, s eid.Session, code string) {
	d, err := h.Services.Mine(r.Context(), filer(s), code)
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	p, err := h.Services.Catalogue().Get(r.Context(), d.Procedure)
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	in, err := readFiling(r, services.Procedure{Documents: p.Documents})
	if err == nil && len(in.Picks) == 0 && len(in.Uploads) == 0 {
		err = errNothing
	}
	if err == nil {
		_, err = h.Services.Resupply(r.Context(), filer(s), code, in.Picks, in.Uploads)
	}
	if err != nil {
		h.dossierAgain(w, r, s, code, err)
		return
	}
	http.Redirect(w, r, "/citizen/dossiers/"+url.PathEscape(code)+"?supplied=1", http.StatusSeeOther)
}

var errNothing = fault.New(fault.Invalid, "dossier.supplement_empty", "Vui lòng chọn hoặc tải lên ít nhất một giấy tờ.", "Pick or upload at least one document.")

// documentDownload sends one of the citizen's own documents (a result
// with its signature, as stored).
func (h *Handler) documentDownload(w http.ResponseWriter, r *http.Request, s eid.Session) {
	d, err := h.Services.MyDocument(r.Context(), filer(s), r.PathValue("id"))
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	ext := ".pdf"
	switch d.MediaType {
	case "image/jpeg":
		ext = ".jpg"
	case "image/png":
		ext = ".png"
	}
	w.Header().Set("Content-Type", d.MediaType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+d.ID+ext+`"`)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(d.Body)))
	w.Write(d.Body)
}
