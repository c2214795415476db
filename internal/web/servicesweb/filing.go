package servicesweb

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/document"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/web/page"
)

// Filing a dossier online takes three steps on two pages, without
// scripts: the form (the register's data shown and not editable, the
// declared fields, a paper per required document picked from the store or
// uploaded), the review (what will be filed, the declaration to tick, the
// signature), then the fee on the gateway's page or the receipt. The
// review carries what the form sent, uploads included (base64 in hidden
// fields), so nothing is stored before the filer signs; the idempotency
// key is drawn once with the form and travels with it, so a double click
// on "sign" files one dossier.

// Form field names: declared fields, picked documents, uploaded files and
// uploads carried from the form to the review.
const (
	fieldPrefix = "f_"
	pickPrefix  = "pick_"
	filePrefix  = "file_"
	keptPrefix  = "kept_"
	keptName    = "keptname_"
)

// option is one choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// group is a labelled group of options (a province's communes).
type group struct {
	Label   string
	Options []option
}

// shown is a value the filer sees and cannot change (or reviews).
type shown struct {
	Name, Label, Value string
}

// input is one declared field of the form.
type input struct {
	Name, Label, Type, Value, Error string
	Required                        bool
	MaxLen                          int
	Options                         []option
	Groups                          []group
}

// docInput is one document the filer supplies.
type docInput struct {
	Code, Name, Error string
	Required          bool
	Picks             []option
	Kept              *kept
}

// kept is an upload carried from the form to the review.
type kept struct {
	Name, Data string // Data: base64 of the bytes
}

type fileView struct {
	P        services.Procedure
	Key      string
	Locked   []shown
	Fields   []input
	Docs     []docInput
	Errors   []string
	Reviewed []shown   // the review: every field as filed
	Papers   []shown   // the review: each document and how it was given
	Hidden   []shown   // the review: what the form sent, sent again
	Kept     []keptDoc // the review: uploads sent again
}

type keptDoc struct {
	Code string
	kept
}

// filing is what a form or review sent: the declared values, the picked
// documents, the uploads in document order, and the idempotency key.
type filing struct {
	Form    map[string]string
	Picks   map[string]string
	Uploads []services.Upload
	Kept    map[string]kept
	Key     string
}

func (h *Handler) newDossierPage(w http.ResponseWriter, r *http.Request, s eid.Session, code string) {
	p, vals, err := h.Services.Form(r.Context(), filer(s), code)
	if err != nil {
		h.filingFail(w, r, s, err)
		return
	}
	fv, err := h.formView(r, s, p, vals, filing{Key: page.NewToken()}, nil)
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	h.renderForm(w, r, s, http.StatusOK, fv)
}

// filingFail answers a refused filing: a session below the procedure's
// e-ID level gets a page saying so with the way to sign in higher, before
// anything else is looked at.
func (h *Handler) filingFail(w http.ResponseWriter, r *http.Request, s eid.Session, err error) {
	if f := fault.As(err); f != nil && f.Code == services.ErrLevel.Code {
		h.kit.Refused(r, http.StatusForbidden, f.Code)
		v := h.newView(r, &s, "level.low.title")
		v.Nav = "procedures"
		h.renderPage(w, r, http.StatusForbidden, "level.html", v)
		return
	}
	h.kit.Fail(w, r, err)
}

func (h *Handler) renderForm(w http.ResponseWriter, r *http.Request, s eid.Session, status int, fv fileView) {
	v := h.newView(r, &s, "file.title")
	v.Nav = "procedures"
	v.Page = fv
	h.renderPage(w, r, status, "file.html", v)
}

// formView builds the form: the register's values of the locked fields
// (display only: they are never sent back), the declared fields with what
// was sent (or the register's suggestion), the documents with the filer's
// store to pick from, and errs on their fields.
func (h *Handler) formView(r *http.Request, s eid.Session, p services.Procedure, vals map[string]string, in filing, errs []*fault.Error) (fileView, error) {
	l := page.Lang(r)
	fv := fileView{P: p, Key: in.Key}
	byField := map[string]string{}
	for _, e := range errs {
		msg := page.FaultText(l, e)
		if e.Field != "" {
			if _, dup := byField[e.Field]; !dup {
				byField[e.Field] = msg
			}
		}
		fv.Errors = append(fv.Errors, msg)
	}
	for _, f := range p.Fields {
		if f.Locked {
			fv.Locked = append(fv.Locked, shown{Name: f.Name, Label: f.Label.In(l), Value: h.valueText(l, f, vals[f.Name])})
			continue
		}
		v, sent := in.Form[f.Name]
		if !sent {
			v = vals[f.Name]
		}
		fv.Fields = append(fv.Fields, h.inputOf(l, f, v, byField[f.Name]))
	}
	docs, err := h.Services.MyDocuments(r.Context(), filer(s))
	if err != nil {
		return fileView{}, err
	}
	for _, d := range p.Documents {
		if !d.Asked() {
			continue
		}
		di := docInput{Code: d.Code, Name: d.Name.In(l), Required: d.Required, Error: byField["documents."+d.Code]}
		if e, ok := byField[uploadField(in, d.Code)]; ok {
			di.Error = e
		}
		for _, doc := range docs {
			di.Picks = append(di.Picks, option{Value: doc.ID, Label: docLabel(doc), Selected: in.Picks[d.Code] == doc.ID})
		}
		if k, ok := in.Kept[d.Code]; ok {
			di.Kept = &k
		}
		fv.Docs = append(fv.Docs, di)
	}
	return fv, nil
}

// uploadField is the field services names for the upload answering code
// (uploads[i], in the order they were sent).
func uploadField(in filing, code string) string {
	for i, u := range in.Uploads {
		if u.Document == code {
			return fmt.Sprintf("uploads[%d]", i)
		}
	}
	return ""
}

// docLabel names a document of the store by its title and date (the
// issue date, else the day it was stored).
func docLabel(d document.Document) string {
	if d.IssueDate.IsZero() {
		if d.CreatedAt.IsZero() {
			return d.Title
		}
		return d.Title + " (" + civildate.Of(d.CreatedAt).Display() + ")"
	}
	return d.Title + " (" + page.DateText(d.IssueDate) + ")"
}

func (h *Handler) inputOf(l string, f services.Field, v, msg string) input {
	in := input{Name: f.Name, Label: f.Label.In(l), Type: f.Type, Value: v, Error: msg, Required: f.Required, MaxLen: f.MaxLen}
	switch f.Type {
	case services.TypeSelect:
		for _, o := range f.Options {
			in.Options = append(in.Options, option{Value: o, Label: h.optText(l, o), Selected: o == v})
		}
	case services.TypeCommune:
		if h.Units != nil {
			now := h.now()
			for _, p := range h.Units.Provinces(now) {
				g := group{Label: p.Name}
				for _, c := range h.Units.Communes(p.Code, now) {
					g.Options = append(g.Options, option{Value: c.Code, Label: c.Name, Selected: c.Code == v})
				}
				in.Groups = append(in.Groups, g)
			}
		}
	}
	return in
}

func (h *Handler) optText(l, o string) string {
	if s, ok := h.kit.Messages.Lookup(l, "opt."+o); ok {
		return s
	}
	return o
}

// valueText is a field's value as a reader says it: dates dd/mm/yyyy,
// choices, communes, nationalities and ethnic groups by name.
func (h *Handler) valueText(l string, f services.Field, v string) string {
	if v == "" {
		return "—"
	}
	switch {
	case f.Type == services.TypeDate:
		return page.DateText(v)
	case f.Type == services.TypeSelect:
		return h.optText(l, v)
	case f.Type == services.TypeCommune:
		return h.communeName(v)
	case f.Prefill == services.FromNational:
		if n, ok := registry.NationalityName(v); ok {
			return pickName(l, n)
		}
	case f.Prefill == services.FromEthnicity:
		if n, ok := registry.EthnicityName(v); ok {
			return pickName(l, n)
		}
	}
	return v
}

func pickName(l string, n registry.Name) string {
	if l == page.EN && n.EN != "" {
		return n.EN
	}
	return n.VI
}

func (h *Handler) communeName(code string) string {
	if h.Units != nil {
		if u, err := h.Units.Commune(code, h.now()); err == nil {
			return u.Name
		}
	}
	return code
}

// readFiling reads what the form or the review sent for p: only the
// declared fields (a locked field sent anyway is ignored: the register's
// value is filed), the picks, and one file or carried upload per document.
func readFiling(r *http.Request, p services.Procedure) (filing, error) {
	in := filing{Form: map[string]string{}, Picks: map[string]string{}, Kept: map[string]kept{}, Key: r.PostFormValue("key")}
	for _, f := range p.Fields {
		if f.Locked {
			continue
		}
		if v := r.PostFormValue(fieldPrefix + f.Name); v != "" {
			in.Form[f.Name] = v
		}
	}
	for _, d := range p.Documents {
		if !d.Asked() {
			continue
		}
		var body []byte
		var name string
		if r.MultipartForm != nil && len(r.MultipartForm.File[filePrefix+d.Code]) > 0 && r.MultipartForm.File[filePrefix+d.Code][0].Size > 0 {
			fh := r.MultipartForm.File[filePrefix+d.Code][0]
			if fh.Size > services.MaxUpload {
				return in, services.ErrUploadSize.WithField("documents." + d.Code)
			}
			f, err := fh.Open()
			if err != nil {
				return in, errForm.Wrap(err)
			}
			body, err = io.ReadAll(io.LimitReader(f, services.MaxUpload+1))
			f.Close()
			if err != nil {
				return in, errForm.Wrap(err)
			}
			name = fh.Filename
		} else if k := r.PostFormValue(keptPrefix + d.Code); k != "" {
			b, err := base64.StdEncoding.DecodeString(k)
			if err != nil || len(b) > services.MaxUpload {
				return in, errUpload.WithField("documents." + d.Code)
			}
			body, name = b, r.PostFormValue(keptName+d.Code)
		}
		if body != nil {
			in.Uploads = append(in.Uploads, services.Upload{Document: d.Code, Name: name, Body: body})
			in.Kept[d.Code] = kept{Name: name, Data: base64.StdEncoding.EncodeToString(body)}
			continue
		}
		if id := r.PostFormValue(pickPrefix + d.Code); id != "" {
			in.Picks[d.Code] = id
		}
	}
	return in, nil
}

func (in filing) request(code string) services.SubmitRequest {
	return services.SubmitRequest{Procedure: code, Form: in.Form, Documents: in.Picks, Uploads: in.Uploads, IdempotencyKey: in.Key}
}

// fileDossier handles the form's and the review's posts: step "review"
// checks everything Submit would and shows the review; "edit" goes back to
// the form with the values kept; "sign" needs the declaration ticked and
// files the dossier, then sends the browser to pay or to the receipt.
func (h *Handler) fileDossier(w http.ResponseWriter, r *http.Request, s eid.Session, code string) {
	ctx := r.Context()
	p, vals, err := h.Services.Form(ctx, filer(s), code)
	if err != nil {
		h.filingFail(w, r, s, err)
		return
	}
	in, rerr := readFiling(r, p)
	if in.Key == "" {
		in.Key = page.NewToken()
	}
	again := func(status int, err error) {
		fv, ferr := h.formView(r, s, p, vals, in, fault.Faults(err))
		if ferr != nil {
			h.kit.Fail(w, r, ferr)
			return
		}
		h.renderForm(w, r, s, status, fv)
	}
	if rerr != nil {
		again(http.StatusUnprocessableEntity, rerr)
		return
	}
	step := r.PostFormValue("step")
	if step == "edit" {
		again(http.StatusOK, nil)
		return
	}
	if step == "sign" {
		if r.PostFormValue("pledge") != "yes" {
			h.review(w, r, s, p, in, http.StatusUnprocessableEntity, page.FaultText(page.Lang(r), errPledge))
			return
		}
		rc, err := h.Services.Submit(ctx, filer(s), in.request(p.Code))
		if f := fault.As(err); err != nil && f.Code == services.ErrIdemReuse.Code {
			// The form's key already filed a dossier with other content
			// (signed, then back and changed): say so on the form, with a
			// fresh key for a new dossier if the citizen signs again.
			in.Key = page.NewToken()
			again(http.StatusConflict, err)
			return
		}
		if err != nil {
			if problemKind(err) != fault.Invalid {
				h.kit.Fail(w, r, err)
				return
			}
			again(http.StatusUnprocessableEntity, err)
			return
		}
		if rc.PayURL != "" {
			http.Redirect(w, r, rc.PayURL, http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/citizen/dossiers/"+url.PathEscape(rc.Code)+"?filed=1", http.StatusSeeOther)
		return
	}
	if _, err := h.Services.Check(ctx, filer(s), in.request(p.Code)); err != nil {
		if problemKind(err) != fault.Invalid && problemKind(err) != fault.TooLarge {
			h.kit.Fail(w, r, err)
			return
		}
		again(http.StatusUnprocessableEntity, err)
		return
	}
	h.review(w, r, s, p, in, http.StatusOK, "")
}

var errPledge = fault.New(fault.Invalid, "dossier.pledge", "Vui lòng đánh dấu lời cam đoan trước khi ký.", "Tick the declaration before signing.")

// problemKind is the kind of the fault that decides err's page.
func problemKind(err error) fault.Kind { return page.Worst(fault.Faults(err)).Kind }

// review shows what will be filed and asks for the declaration and the
// signature; everything the form sent travels again in hidden fields.
func (h *Handler) review(w http.ResponseWriter, r *http.Request, s eid.Session, p services.Procedure, in filing, status int, msg string) {
	l := page.Lang(r)
	_, vals, err := h.Services.Form(r.Context(), filer(s), p.Code)
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	fv := fileView{P: p, Key: in.Key}
	for _, f := range p.Fields {
		v := vals[f.Name]
		if !f.Locked {
			if d, ok := in.Form[f.Name]; ok {
				v = d
			}
			if v != "" {
				fv.Hidden = append(fv.Hidden, shown{Name: fieldPrefix + f.Name, Value: v})
			}
		}
		fv.Reviewed = append(fv.Reviewed, shown{Label: f.Label.In(l), Value: h.valueText(l, f, v)})
	}
	docs, err := h.Services.MyDocuments(r.Context(), filer(s))
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	titles := map[string]string{}
	for _, d := range docs {
		titles[d.ID] = docLabel(d)
	}
	for _, d := range p.Documents {
		if !d.Asked() {
			continue
		}
		if k, ok := in.Kept[d.Code]; ok {
			fv.Papers = append(fv.Papers, shown{Label: d.Name.In(l), Value: k.Name + " (" + h.kit.Messages.T(l, "review.uploaded") + ")"})
			fv.Kept = append(fv.Kept, keptDoc{Code: d.Code, kept: k})
		} else if id, ok := in.Picks[d.Code]; ok {
			fv.Papers = append(fv.Papers, shown{Label: d.Name.In(l), Value: titles[id] + " (" + h.kit.Messages.T(l, "review.reused") + ")"})
			fv.Hidden = append(fv.Hidden, shown{Name: pickPrefix + d.Code, Value: id})
		}
	}
	v := h.newView(r, &s, "review.title")
	v.Nav, v.Error, v.Page = "procedures", msg, fv
	h.renderPage(w, r, status, "review.html", v)
}

// maxFiling bounds a filing's post: the files of a dossier, and again in
// base64 on the review.
const maxFiling = 48 << 20

// parseMemory is how much of a multipart post is held in memory (the
// rest spills to temporary files); the review's carried uploads are text
// fields, which count against it.
const parseMemory = 32 << 20
