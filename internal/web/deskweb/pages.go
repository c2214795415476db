package deskweb

import (
	"encoding/base64"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/dancu-project/dancu/internal/card/qr"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/web/auth"
	"github.com/dancu-project/dancu/internal/web/page"
	"github.com/dancu-project/dancu/internal/web/problem"
	"github.com/dancu-project/dancu/internal/workday"
)

// view is what every desk page shows around its content.
type view struct {
	Lang, Title, LangURL, Flash, Error string
	CSRF                               string
	User                               string
	Nav                                string
	Summary                            []*fault.Error
}

func (h *Handler) base(r *http.Request, l, title string) *view {
	q := r.URL.Query()
	q.Set("lang", page.Other(l))
	v := &view{Lang: l, Title: title, LangURL: r.URL.Path + "?" + q.Encode()}
	if s, ok := auth.From(r.Context()); ok {
		v.CSRF, v.User = s.CSRF, s.Account.DisplayName
	}
	return v
}

// signedIn loads the staff session of a page request; without one the
// browser goes to the sign-in page, with a password to change to its form.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request) (*http.Request, staff.Session, bool) {
	r, sess, err := auth.Load(r, h.d.Staff)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return r, sess, false
	}
	if sess.Account.MustChangePassword {
		http.Redirect(w, r, "/password", http.StatusSeeOther)
		return r, sess, false
	}
	if r.Method == http.MethodPost && !auth.CSRFOK(r) {
		h.kit.Refused(r, http.StatusForbidden, "auth.csrf")
		h.kit.Fail(w, r, errCSRF)
		return r, sess, false
	}
	return r, sess, true
}

func (h *Handler) msg(l, id string) string { return h.kit.Messages.T(l, id) }

func (h *Handler) statusName(l string, s services.Status) string {
	return h.msg(l, "status."+string(s))
}

// row is one dossier of the queue.
type row struct {
	Code, Path, Procedure, Citizen, Status, StatusCode string
	Channel, Assignee, Due, Clock, ClockState          string
	Received                                           any
	Actions                                            []action
}

type action struct {
	Act, Label string
	Reason     bool
}

func (h *Handler) actions(l string, s services.Status) []action {
	lbl := func(id string) string { return h.msg(l, "act."+id) }
	switch s {
	case services.Received:
		return []action{{services.ActStart, lbl("start"), false}}
	case services.InProgress:
		return []action{{services.ActApprove, lbl("approve"), false}, {services.ActSupplement, lbl("supplement"), true}, {services.ActReject, lbl("reject"), true}}
	case services.Supplement:
		return []action{{services.ActReject, lbl("reject"), true}}
	case services.Approved:
		return []action{{services.ActReturn, lbl("return"), false}}
	}
	return nil
}

type queueView struct {
	*view
	Rows             []row
	Status, Clock    string
	Mine             bool
	Statuses, Clocks []option
	Count            int
}

type option struct{ Value, Label string }

func citizenName(form map[string]string) string {
	for _, k := range []string{"full_name", "declarant_name", "notifier_name"} {
		if v := form[k]; v != "" {
			return v
		}
	}
	return "—"
}

func (h *Handler) clockText(l string, st workday.Status) string {
	if st.State == "" {
		return "—"
	}
	return h.msg(l, "clock."+string(st.State))
}

func (h *Handler) queuePage(w http.ResponseWriter, r *http.Request) {
	r, sess, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	h.renderQueue(w, r, sess, http.StatusOK, "")
}

func (h *Handler) renderQueue(w http.ResponseWriter, r *http.Request, sess staff.Session, status int, errText string) {
	l := page.Lang(r)
	q := r.URL.Query()
	v := &queueView{view: h.base(r, l, h.msg(l, "queue.title")), Status: q.Get("status"), Clock: q.Get("clock"), Mine: q.Get("mine") == "1"}
	v.Nav, v.Error = "queue", errText
	v.Flash = h.flash(l, q.Get("done"))
	a := sess.Account.Actor()
	ds, err := h.d.Desk.Queue(r.Context(), a, services.QueueFilter{Status: services.Status(v.Status), Mine: v.Mine, Clock: v.Clock})
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	v.Statuses = []option{{"", h.msg(l, "queue.all")}}
	for _, s := range []services.Status{services.AwaitingPayment, services.Received, services.InProgress, services.Supplement, services.Approved, services.Rejected, services.Returned} {
		v.Statuses = append(v.Statuses, option{string(s), h.statusName(l, s)})
	}
	v.Clocks = []option{{"", h.msg(l, "queue.all")}, {string(workday.DueSoon), h.msg(l, "clock.filter.due_soon")}, {string(workday.Overdue), h.msg(l, "clock.overdue")}}
	names := map[string]string{}
	for _, d := range ds {
		rw := row{Code: d.Code, Path: "/desk/dossiers/" + url.PathEscape(d.Code), Citizen: citizenName(d.Form), Status: h.statusName(l, d.Status),
			StatusCode: string(d.Status), Channel: h.msg(l, "channel."+d.Channel), Due: d.Due, Clock: h.clockText(l, d.ClockNow),
			ClockState: string(d.ClockNow.State), Received: d.SubmittedAt, Actions: h.actions(l, d.Status)}
		if rw.Due == "" {
			rw.Due = "—"
		}
		if p, err := h.d.Desk.Procedure(r.Context(), d.Procedure); err == nil {
			rw.Procedure = p.Name.In(l)
		} else {
			rw.Procedure = d.Procedure
		}
		if d.Assignee != "" {
			if _, seen := names[d.Assignee]; !seen {
				names[d.Assignee] = h.d.Desk.OfficerName(r.Context(), d.Assignee)
			}
			rw.Assignee = names[d.Assignee]
		}
		if rw.Assignee == "" {
			rw.Assignee = "—"
		}
		v.Rows = append(v.Rows, rw)
	}
	v.Count = len(v.Rows)
	h.kit.Render(w, r, status, l, "queue.html", v)
}

func (h *Handler) flash(l, done string) string {
	switch done {
	case "", "x":
		return ""
	}
	if t, ok := h.kit.Messages.Lookup(l, "done."+done); ok {
		return t
	}
	return ""
}

type fieldRow struct {
	Name, Label, Value string
}

type docRow struct {
	Title, Kind, Path, Media, Size, Signed, Officer string
	Reused, Valid                                   bool
	At                                              any
}

type histRow struct {
	At                any
	Who, Status, Note string
}

type commentRow struct {
	At        any
	Who, Body string
}

type detailView struct {
	*view
	D                         services.DeskDetail
	Path, Procedure, Unit     string
	Status, Channel, Clock    string
	ReceivedBy, Assignee, Due string
	Citizen                   string
	Fields                    []fieldRow
	Docs                      []docRow
	History                   []histRow
	Comments                  []commentRow
	Actions                   []action
	Officers                  []option
	Asked                     []option
	CanDigitize, CanTransfer  bool
	CanAssign                 bool
}

func (h *Handler) detailPage(w http.ResponseWriter, r *http.Request) {
	r, sess, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	h.renderDetail(w, r, sess, r.PathValue("code"), http.StatusOK, nil)
}

// optionText names a select's value: the messages know the catalogue's
// options; an unknown one shows as given.
func (h *Handler) optionText(l, v string) string {
	if t, ok := h.kit.Messages.Lookup(l, "opt."+v); ok {
		return t
	}
	return v
}

func (h *Handler) renderDetail(w http.ResponseWriter, r *http.Request, sess staff.Session, code string, status int, actErr error) {
	l := page.Lang(r)
	a := sess.Account.Actor()
	ctx := r.Context()
	d, err := h.d.Desk.Detail(ctx, a, code)
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	v := &detailView{view: h.base(r, l, h.msg(l, "detail.title")+" "+d.Code), D: d, Path: "/desk/dossiers/" + url.PathEscape(d.Code)}
	v.Nav = "queue"
	v.Flash = h.flash(l, r.URL.Query().Get("done"))
	if actErr != nil {
		v.Summary = fault.Faults(actErr)
		v.Error = page.ErrText(l, actErr)
	}
	v.Status, v.Channel, v.Clock = h.statusName(l, d.Status), h.msg(l, "channel."+d.Channel), h.clockText(l, d.ClockNow)
	v.Due = d.Due
	v.Citizen = citizenName(d.Form)
	v.ReceivedBy, v.Assignee = h.officer(r, d.ReceivedBy), h.officer(r, d.Assignee)
	v.Unit = d.Unit
	if n, ok := h.d.Desk.UnitName(d.Commune); ok && d.Commune != "" {
		v.Unit = n
	} else if n, ok := h.d.Desk.UnitName(d.Province); ok {
		v.Unit = n
	}
	p, perr := h.d.Desk.Procedure(ctx, d.Procedure)
	v.Procedure = d.Procedure
	docName := map[string]string{}
	if perr == nil {
		v.Procedure = p.Name.In(l)
		for _, f := range p.Fields {
			val, ok := d.Form[f.Name]
			if !ok || val == "" {
				continue
			}
			switch f.Type {
			case services.TypeDate:
				val = page.DateText(val)
			case services.TypeSelect:
				val = h.optionText(l, val)
			case services.TypeCommune:
				if n, ok := h.d.Desk.UnitName(val); ok {
					val = n
				}
			}
			v.Fields = append(v.Fields, fieldRow{Name: f.Name, Label: f.Label.In(l), Value: val})
		}
		for _, doc := range p.Documents {
			docName[doc.Code] = doc.Name.In(l)
			if doc.Asked() {
				v.Asked = append(v.Asked, option{doc.Code, doc.Name.In(l)})
			}
		}
	}
	for _, doc := range d.Documents {
		dr := docRow{Title: doc.Title, Kind: docName[doc.Document], Path: v.Path + "/documents/" + url.PathEscape(doc.ID), Media: mediaName(doc.MediaType),
			Size: sizeText(doc.Size), Reused: doc.Reused}
		if dr.Kind == "" {
			dr.Kind = doc.Document
		}
		if g := doc.Digitized; g != nil {
			dr.Officer, dr.At = h.officer(r, g.Officer), g.At
			dr.Valid = doc.Verified
			dr.Signed = h.msg(l, "doc.signature.bad")
			if dr.Valid {
				dr.Signed = h.msg(l, "doc.signature.ok")
			}
		}
		v.Docs = append(v.Docs, dr)
	}
	if d.Result != "" {
		// The signed result, in the citizen's store since its return.
		dr := docRow{Kind: h.msg(l, "doc.result"), Title: d.ResultTitle, Path: v.Path + "/documents/" + url.PathEscape(d.Result), Media: "PDF", Size: sizeText(d.ResultSize)}
		v.Docs = append(v.Docs, dr)
	}
	for _, hs := range d.History {
		note := h.noteText(r, l, hs.Note)
		if hs.Status == services.Returned && hs.Note != "" {
			note = h.msg(l, "note.result") // the note is the result's document id
		}
		v.History = append(v.History, histRow{At: hs.At, Who: h.who(r, hs.Actor), Status: h.statusName(l, hs.Status), Note: note})
	}
	for _, c := range d.Comments {
		v.Comments = append(v.Comments, commentRow{At: c.At, Who: h.who(r, c.Author), Body: c.Body})
	}
	v.Actions = h.actions(l, d.Status)
	openNow := d.Status == services.AwaitingPayment || d.Status == services.Received || d.Status == services.InProgress || d.Status == services.Supplement
	v.CanDigitize, v.CanTransfer = openNow && len(v.Asked) > 0, openNow
	v.CanAssign = openNow || d.Status == services.Approved
	if v.CanAssign {
		os, err := h.d.Desk.OfficersFor(ctx, a, d.Code)
		if err != nil {
			h.kit.Fail(w, r, err)
			return
		}
		for _, o := range os {
			v.Officers = append(v.Officers, option{o.ID, o.Name})
		}
	}
	h.kit.Render(w, r, status, l, "detail.html", v)
}

func mediaName(mt string) string {
	switch mt {
	case "application/pdf":
		return "PDF"
	case "image/jpeg":
		return "JPEG"
	case "image/png":
		return "PNG"
	}
	return mt
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return formatFloat(float64(n)/(1<<20)) + " MB"
	case n >= 1<<10:
		return formatFloat(float64(n)/(1<<10)) + " KB"
	}
	return formatFloat(float64(n)) + " B"
}

func formatFloat(f float64) string {
	whole := int64(f)
	tenth := int64((f-float64(whole))*10 + 0.5)
	if tenth == 10 {
		whole, tenth = whole+1, 0
	}
	if tenth == 0 {
		return itoa(whole)
	}
	return itoa(whole) + "," + itoa(tenth)
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// officer names a staff actor id, "—" for none.
func (h *Handler) officer(r *http.Request, id string) string {
	if id == "" {
		return "—"
	}
	if n := h.d.Desk.OfficerName(r.Context(), id); n != "" {
		return n
	}
	return id
}

// who names any actor of a dossier's history: an officer, the citizen,
// the platform.
func (h *Handler) who(r *http.Request, id string) string {
	l := page.Lang(r)
	switch {
	case strings.HasPrefix(id, "citizen:"):
		return h.msg(l, "who.citizen")
	case strings.HasPrefix(id, "system:"):
		return h.msg(l, "who.system")
	}
	return h.officer(r, id)
}

// noteText words a history note: the desk's internal acts by name, a
// reason as given.
func (h *Handler) noteText(r *http.Request, l, note string) string {
	kind, arg, _ := strings.Cut(note, ":")
	switch kind {
	case "assigned":
		if arg == "" {
			return h.msg(l, "note.unassigned")
		}
		return h.msg(l, "note.assigned") + " " + h.officer(r, arg)
	case "transferred":
		return h.msg(l, "note.transferred")
	case "comment":
		return h.msg(l, "note.comment")
	case "digitized":
		return h.msg(l, "note.digitized")
	case "desk":
		return h.msg(l, "note.desk")
	case "paid":
		return h.msg(l, "note.paid")
	case "supplemented":
		return h.msg(l, "note.supplemented")
	}
	return note
}

func (h *Handler) documentPage(w http.ResponseWriter, r *http.Request) {
	r, sess, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	doc, err := h.d.Desk.Document(r.Context(), sess.Account.Actor(), r.PathValue("code"), r.PathValue("id"))
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	sendDocument(w, doc.MediaType, doc.ID, doc.Body)
}

// actPage carries a form's action to the desk; a refused one shows the
// page it came from again with the reason, a done one goes back to it.
func (h *Handler) actPage(w http.ResponseWriter, r *http.Request) {
	r, sess, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	code, action := r.PathValue("code"), r.PathValue("action")
	b := actBody{Reason: r.PostFormValue("reason"), Officer: r.PostFormValue("officer"), Unit: r.PostFormValue("unit"), Note: r.PostFormValue("note"), Body: r.PostFormValue("body")}
	_, _, err := h.act(r.Context(), sess.Account.Actor(), code, action, b)
	back := r.PostFormValue("back")
	if err != nil {
		f := fault.As(err)
		if f.Kind == fault.Internal || f.Kind == fault.NotFound || f.Kind == fault.Forbidden {
			h.kit.Fail(w, r, err)
			return
		}
		st := problem.Status(f.Kind)
		if back == "detail" {
			h.renderDetail(w, r, sess, code, st, err)
			return
		}
		h.renderQueue(w, r, sess, st, page.ErrText(page.Lang(r), err))
		return
	}
	if back == "detail" {
		if action == services.ActTransfer {
			// The dossier has left the unit: its page is no longer ours.
			http.Redirect(w, r, "/desk/dossiers?done=transfer", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/desk/dossiers/"+url.PathEscape(code)+"?done="+url.QueryEscape(action), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/desk/dossiers", http.StatusSeeOther)
}

func (h *Handler) digitizePage(w http.ResponseWriter, r *http.Request) {
	r, sess, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	code := r.PathValue("code")
	fail := func(err error) {
		f := fault.As(err)
		if f.Kind == fault.Internal || f.Kind == fault.NotFound || f.Kind == fault.Forbidden {
			h.kit.Fail(w, r, err)
			return
		}
		h.renderDetail(w, r, sess, code, problem.Status(f.Kind), err)
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(services.ErrUploadSize.WithField("file"))
			return
		}
		fail(errNoFile.WithField("file"))
		return
	}
	defer file.Close()
	body, err := io.ReadAll(io.LimitReader(file, services.MaxUpload+1))
	if err != nil {
		fail(services.ErrUploadSize.WithField("file"))
		return
	}
	if _, err := h.d.Desk.Digitize(r.Context(), sess.Account.Actor(), code, r.PostFormValue("document"), hdr.Filename, body); err != nil {
		fail(err)
		return
	}
	http.Redirect(w, r, "/desk/dossiers/"+url.PathEscape(code)+"?done=digitize#documents", http.StatusSeeOther)
}

type receiptView struct {
	*view
	R                         services.Receipt
	Procedure, Unit, Citizen  string
	ReceivedBy, Due, TrackURL string
	QR                        template.URL // data: URI of the tracking QR
	Docs                      []string
}

func (h *Handler) receiptPage(w http.ResponseWriter, r *http.Request) {
	r, sess, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	l := page.Lang(r)
	rc, dd, err := h.d.Desk.Receipt(r.Context(), sess.Account.Actor(), r.PathValue("code"))
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	v := &receiptView{view: h.base(r, l, h.msg(l, "receipt.title")), R: rc, Citizen: citizenName(rc.Form), ReceivedBy: h.officer(r, dd.ReceivedBy),
		Due: rc.Due, TrackURL: h.trackURL(rc.Code, rc.CheckCode)}
	v.Nav = "queue"
	v.Procedure = rc.Procedure
	if p, err := h.d.Desk.Procedure(r.Context(), rc.Procedure); err == nil {
		v.Procedure = p.Name.In(l)
		for _, at := range rc.Attachments {
			for _, d := range p.Documents {
				if d.Code == at.Document {
					v.Docs = append(v.Docs, d.Name.In(l))
				}
			}
		}
	}
	v.Unit = rc.Unit
	if n, ok := h.d.Desk.UnitName(rc.Commune); ok && rc.Commune != "" {
		v.Unit = n
	} else if n, ok := h.d.Desk.UnitName(rc.Province); ok {
		v.Unit = n
	}
	if png, err := qr.EncodeText(v.TrackURL, 192); err == nil {
		v.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	}
	page.Policy{ImgData: true}.Set(w.Header())
	h.kit.Render(w, r, http.StatusOK, l, "receipt.html", v)
}

type intakeView struct {
	*view
	Step            int
	Procedures      []option
	Procedure       string
	ProcedureName   string
	QR, PIN, Serial string
	Citizen, Birth  string
	Ref             string
	Fields          []formField
	Errors          map[string]string
}

type formField struct {
	Name, Label, Type, Value, Error string
	Required, Locked                bool
	Options                         []option
}

func (h *Handler) procedures(r *http.Request, l string) []option {
	ps, err := h.d.Desk.Service().Catalogue().List(r.Context(), "", false)
	if err != nil {
		return nil
	}
	var out []option
	for _, p := range ps {
		out = append(out, option{p.Code, p.Name.In(l)})
	}
	return out
}

func (h *Handler) intakePage(w http.ResponseWriter, r *http.Request) {
	r, _, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	l := page.Lang(r)
	v := &intakeView{view: h.base(r, l, h.msg(l, "intake.title")), Step: 1, Procedures: h.procedures(r, l), Procedure: r.URL.Query().Get("procedure")}
	v.Nav = "intake"
	h.kit.Render(w, r, http.StatusOK, l, "intake.html", v)
}

// lookupPage identifies the citizen by their card and shows the
// procedure's form pre-filled from the register.
func (h *Handler) lookupPage(w http.ResponseWriter, r *http.Request) {
	r, sess, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	h.intakeStep2(w, r, sess, nil, nil)
}

func (h *Handler) citizenOf(r *http.Request) services.Citizen {
	return services.Citizen{QR: r.PostFormValue("qr"), PIN: r.PostFormValue("pin"), Serial: r.PostFormValue("card_serial")}
}

// intakeStep2 draws the form (after a lookup, or again with the faults of
// a refused intake).
func (h *Handler) intakeStep2(w http.ResponseWriter, r *http.Request, sess staff.Session, declared map[string]string, intakeErr error) {
	l := page.Lang(r)
	c := h.citizenOf(r)
	v := &intakeView{view: h.base(r, l, h.msg(l, "intake.title")), Procedures: h.procedures(r, l), Procedure: r.PostFormValue("procedure"),
		QR: c.QR, PIN: c.PIN, Serial: c.Serial, Errors: map[string]string{}}
	v.Nav = "intake"
	p, who, vals, err := h.d.Desk.IntakeForm(r.Context(), sess.Account.Actor(), v.Procedure, c)
	if err != nil {
		f := fault.As(err)
		if f.Kind == fault.Internal || f.Kind == fault.Forbidden {
			h.kit.Fail(w, r, err)
			return
		}
		v.Step = 1
		v.Summary = fault.Faults(err)
		v.Error = page.ErrText(l, err)
		h.kit.Render(w, r, problem.Status(f.Kind), l, "intake.html", v)
		return
	}
	v.Step, v.ProcedureName, v.Citizen, v.Birth = 2, p.Name.In(l), who.Name, who.BirthDate
	v.Ref = r.PostFormValue("ref")
	if v.Ref == "" {
		v.Ref = page.NewToken()[:32]
	}
	status := http.StatusOK
	if intakeErr != nil {
		v.Summary = fault.Faults(intakeErr)
		for _, f := range v.Summary {
			if f.Field != "" {
				v.Errors[f.Field] = page.FaultText(l, f)
			}
		}
		v.Error = page.ErrText(l, intakeErr)
		status = problem.Status(page.Worst(v.Summary).Kind)
	}
	for _, f := range p.Fields {
		ff := formField{Name: f.Name, Label: f.Label.In(l), Type: f.Type, Required: f.Required, Locked: f.Locked && f.Prefill != "", Error: v.Errors[f.Name]}
		ff.Value = vals[f.Name]
		if d, ok := declared[f.Name]; ok && !ff.Locked {
			ff.Value = d
		}
		if ff.Locked {
			switch f.Type {
			case services.TypeDate:
				ff.Value = page.DateText(vals[f.Name])
			case services.TypeSelect:
				ff.Value = h.optionText(l, vals[f.Name])
			}
		}
		for _, o := range f.Options {
			ff.Options = append(ff.Options, option{o, h.optionText(l, o)})
		}
		v.Fields = append(v.Fields, ff)
	}
	h.kit.Render(w, r, status, l, "intake.html", v)
}

// intakePost receives the paper dossier; the form's one-time reference
// makes a second press answer the same dossier.
func (h *Handler) intakePost(w http.ResponseWriter, r *http.Request) {
	r, sess, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	p, err := h.d.Desk.Procedure(r.Context(), r.PostFormValue("procedure"))
	if err != nil {
		h.intakeStep2(w, r, sess, nil, nil)
		return
	}
	declared := map[string]string{}
	for _, f := range p.Fields {
		if f.Locked && f.Prefill != "" {
			continue
		}
		if v := strings.TrimSpace(r.PostFormValue("f_" + f.Name)); v != "" {
			declared[f.Name] = v
		}
	}
	rc, err := h.d.Desk.Intake(r.Context(), sess.Account.Actor(), services.IntakeRequest{Procedure: p.Code, Citizen: h.citizenOf(r), Form: declared, IdempotencyKey: r.PostFormValue("ref")})
	if err != nil {
		f := fault.As(err)
		if f.Kind == fault.Internal || f.Kind == fault.Forbidden {
			h.kit.Fail(w, r, err)
			return
		}
		h.intakeStep2(w, r, sess, declared, err)
		return
	}
	http.Redirect(w, r, "/desk/dossiers/"+url.PathEscape(rc.Code)+"?done=intake", http.StatusSeeOther)
}
