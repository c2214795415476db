package ui

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/web/page"
)

// form is the values of a form and the messages of its faulty fields.
type form struct {
	values url.Values
	errs   map[string][]string
	known  map[string]bool
}

func newForm(values url.Values, fields ...string) *form {
	if values == nil {
		values = url.Values{}
	}
	f := &form{values: values, errs: map[string][]string{}, known: map[string]bool{}}
	for _, n := range fields {
		f.known[n] = true
	}
	return f
}

// Get is a field's value as typed.
func (f *form) Get(name string) string { return f.values.Get(name) }

// Errors are a field's messages.
func (f *form) Errors(name string) []string { return f.errs[name] }

// trim is a field's value without surrounding space.
func (f *form) trim(name string) string { return strings.TrimSpace(f.values.Get(name)) }

// pin is a PIN field's value with the spaces people type between groups removed.
func (f *form) pin(name string) string { return strings.Join(strings.Fields(f.values.Get(name)), "") }

// formFaults puts the faults of err next to their fields and in the summary
// of v. It returns the status to answer with, or 0 when err is not about the
// input and an error page has been sent instead. rename maps a service's
// field names to the form's.
func (u *UI) formFaults(w http.ResponseWriter, r *http.Request, v *view, err error, rename map[string]string) int {
	fs := fault.Faults(err)
	switch page.Worst(fs).Kind {
	case fault.Internal, fault.Forbidden, fault.Unauthenticated:
		u.fail(w, r, err)
		return 0
	}
	status := http.StatusUnprocessableEntity
	for _, f := range fs {
		if f.Kind == fault.Conflict {
			status = http.StatusConflict
		}
		field := f.Field
		if n, ok := rename[field]; ok {
			field = n
		}
		msg := page.FaultText(v.Lang, f)
		if !v.Form.known[field] {
			field = ""
		} else if !contains(v.Form.errs[field], msg) {
			v.Form.errs[field] = append(v.Form.errs[field], msg)
		}
		v.Summary = append(v.Summary, summaryItem{Field: field, Message: msg})
	}
	return status
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// formView is what the three registration forms receive besides the form.
type formView struct {
	Communes  []adminunit.Unit
	Relations []string
	// Subject is the person a death or move is about, when the PIN typed
	// names someone the staff member may read.
	Subject *subjectView
}

type subjectView struct {
	Person registry.Person
	// Members are the other living members of the household the person
	// heads: the candidates for new head.
	Members []registry.Member
}

func (u *UI) formView(a actor.Actor) formView {
	return formView{Communes: u.units.Communes(a.Province, u.now()), Relations: relations}
}

// subject reads the person a form is about, to show who it is. A PIN that is
// empty, malformed, unknown or outside the staff member's unit shows nobody;
// the service says what is wrong when the form is sent.
func (u *UI) subject(ctx context.Context, a actor.Actor, pinText, purpose string) (*subjectView, error) {
	if !isDigits(pinText) || len(pinText) != 12 {
		return nil, nil
	}
	p, err := u.reg.Get(ctx, a, pinText, purpose)
	if err != nil {
		if fault.As(err).Kind == fault.Internal {
			return nil, err
		}
		return nil, nil
	}
	sv := &subjectView{Person: p}
	if p.Relation == registry.RelHead && p.HouseholdID != "" {
		h, err := u.reg.Household(ctx, a, p.HouseholdID)
		if err != nil && fault.As(err).Kind == fault.Internal {
			return nil, err
		}
		for _, m := range h.Members {
			if m.PIN != p.PIN && m.Status == registry.Alive {
				sv.Members = append(sv.Members, m)
			}
		}
	}
	return sv, nil
}

// Fields of the three forms, in the order of the page.
var (
	birthFields = []string{"full_name", "sex", "birth_date", "ethnicity", "religion", "nationality",
		"birthplace_commune", "birthplace_detail", "mother_pin", "father_pin", "household_id", "confirm_twin", "confirm_implausible", "reason"}
	deathFields = []string{"pin", "death_date", "new_head_pin", "reason"}
	moveFields  = []string{"pin", "date", "commune_code", "address_detail", "household_id", "relation_to_head", "new_head_pin", "reason", "arrival_application", "card_qr"}
	tempFields  = []string{"pin", "commune_code", "address_detail", "from", "to", "reason", "arrival_application", "card_qr"}
)

// prefill copies the named query parameters into the values.
func prefill(dst, q url.Values, names ...string) url.Values {
	for _, n := range names {
		if x := strings.TrimSpace(q.Get(n)); x != "" {
			dst.Set(n, x)
		}
	}
	return dst
}

func (u *UI) parseForm(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		u.errorPage(w, r, nil, http.StatusBadRequest, "err.invalid.title", u.tr(page.Lang(r), "err.badform"))
		return false
	}
	return true
}

func (u *UI) birthForm(w http.ResponseWriter, r *http.Request, s staff.Session) {
	vals := prefill(url.Values{"nationality": {"VNM"}, "ethnicity": {"01"}}, r.URL.Query(), "mother_pin", "father_pin", "household_id")
	u.showBirth(w, r, s, http.StatusOK, newForm(vals, birthFields...), nil)
}

func (u *UI) showBirth(w http.ResponseWriter, r *http.Request, s staff.Session, status int, f *form, err error) {
	v := u.page(r, &s, "birth.title", "/births/new")
	v.Nav, v.Form = "birth", f
	if err != nil {
		if status = u.formFaults(w, r, v, err, nil); status == 0 {
			return
		}
	}
	v.Page = u.formView(actorOf(s))
	u.render(w, r, status, "birth", v)
}

func (u *UI) birthSubmit(w http.ResponseWriter, r *http.Request, s staff.Session) {
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, birthFields...)
	in := registry.BirthInput{
		FullName:          f.Get("full_name"),
		Sex:               f.trim("sex"),
		BirthDate:         f.trim("birth_date"),
		Ethnicity:         f.trim("ethnicity"),
		Religion:          religionIn(f.trim("religion")),
		Nationality:       strings.ToUpper(f.trim("nationality")),
		BirthplaceCommune: f.trim("birthplace_commune"),
		BirthplaceDetail:  f.trim("birthplace_detail"),
		FatherPIN:         f.pin("father_pin"),
		MotherPIN:         f.pin("mother_pin"),
		HouseholdID:       f.trim("household_id"),
		Reason:            f.Get("reason"),
		// Ticked boxes: the registrar checked the papers (birth.go).
		ConfirmTwin:        f.trim("confirm_twin") == "1",
		ConfirmImplausible: f.trim("confirm_implausible") == "1",
	}
	child, err := u.reg.RegisterBirth(r.Context(), actorOf(s), in)
	if err != nil {
		u.showBirth(w, r, s, 0, f, err)
		return
	}
	http.Redirect(w, r, "/persons/"+child.PIN+"?done=birth", http.StatusSeeOther)
}

func (u *UI) deathForm(w http.ResponseWriter, r *http.Request, s staff.Session) {
	vals := prefill(url.Values{}, r.URL.Query(), "pin")
	u.showDeath(w, r, s, http.StatusOK, newForm(vals, deathFields...), nil)
}

// personAct is a form registering an act on one person: the page it is
// drawn on and the purpose its subject's read is audited under.
type personAct struct {
	title, path, nav, template, purpose string
	rename                              map[string]string // form field of a fault's field, where they differ
}

// showPersonAct draws an act's form with its faults and the person it is
// about (read in the officer's scope, audited under the act's purpose).
func (u *UI) showPersonAct(w http.ResponseWriter, r *http.Request, s staff.Session, status int, f *form, err error, act personAct) {
	v := u.page(r, &s, act.title, act.path)
	v.Nav, v.Form = act.nav, f
	if err != nil {
		if status = u.formFaults(w, r, v, err, act.rename); status == 0 {
			return
		}
	}
	data := u.formView(actorOf(s))
	sub, serr := u.subject(r.Context(), actorOf(s), f.pin("pin"), act.purpose)
	if serr != nil {
		u.fail(w, r, serr)
		return
	}
	data.Subject = sub
	v.Page = data
	u.render(w, r, status, act.template, v)
}

func (u *UI) showDeath(w http.ResponseWriter, r *http.Request, s staff.Session, status int, f *form, err error) {
	u.showPersonAct(w, r, s, status, f, err, personAct{title: "death.title", path: "/deaths/new", nav: "death", rename: nil, purpose: "death-registration", template: "death"})
}

func (u *UI) deathSubmit(w http.ResponseWriter, r *http.Request, s staff.Session) {
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, deathFields...)
	in := registry.DeathInput{PIN: f.pin("pin"), DeathDate: f.trim("death_date"), Reason: f.Get("reason"), NewHeadPIN: f.pin("new_head_pin")}
	p, err := u.reg.RegisterDeath(r.Context(), actorOf(s), in)
	if err != nil {
		u.showDeath(w, r, s, 0, f, err)
		return
	}
	http.Redirect(w, r, "/persons/"+p.PIN+"?done=death", http.StatusSeeOther)
}

func (u *UI) moveForm(w http.ResponseWriter, r *http.Request, s staff.Session) {
	vals := url.Values{}
	if a := actorOf(s); len(a.Unit) == 5 {
		vals.Set("commune_code", a.Unit) // a commune registrar records moves into their commune
	}
	vals = prefill(vals, r.URL.Query(), "pin", "household_id", "commune_code")
	u.showMove(w, r, s, http.StatusOK, newForm(vals, moveFields...), nil)
}

func (u *UI) showMove(w http.ResponseWriter, r *http.Request, s staff.Session, status int, f *form, err error) {
	u.showPersonAct(w, r, s, status, f, err, personAct{title: "move.title", path: "/moves/new", nav: "move", rename: nil, purpose: "move-registration", template: "move"})
}

func (u *UI) moveSubmit(w http.ResponseWriter, r *http.Request, s staff.Session) {
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, moveFields...)
	in := registry.MoveInput{
		PIN:         f.pin("pin"),
		Date:        f.trim("date"),
		Commune:     f.trim("commune_code"),
		Detail:      f.trim("address_detail"),
		HouseholdID: f.trim("household_id"),
		Relation:    f.trim("relation_to_head"),
		NewHeadPIN:  f.pin("new_head_pin"),
		Reason:      f.Get("reason"),
		Arrival:     arrivalIn(f),
	}
	p, err := u.reg.RegisterMove(r.Context(), actorOf(s), in)
	if err != nil {
		u.showMove(w, r, s, 0, f, err)
		return
	}
	http.Redirect(w, r, "/persons/"+p.PIN+"?done=move", http.StatusSeeOther)
}

func (u *UI) temporaryForm(w http.ResponseWriter, r *http.Request, s staff.Session) {
	vals := url.Values{}
	if a := actorOf(s); len(a.Unit) == 5 {
		vals.Set("commune_code", a.Unit) // the registrar of the place of stay records it
	}
	vals = prefill(vals, r.URL.Query(), "pin", "commune_code")
	u.showTemporary(w, r, s, http.StatusOK, newForm(vals, tempFields...), nil)
}

func (u *UI) showTemporary(w http.ResponseWriter, r *http.Request, s staff.Session, status int, f *form, err error) {
	u.showPersonAct(w, r, s, status, f, err, personAct{title: "temporary.title", path: "/temporary-residences/new", nav: "temporary", rename: nil, purpose: "temporary-residence-registration", template: "temporary"})
}

func (u *UI) temporarySubmit(w http.ResponseWriter, r *http.Request, s staff.Session) {
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, tempFields...)
	in := registry.TemporaryInput{
		PIN:     f.pin("pin"),
		Commune: f.trim("commune_code"),
		Detail:  f.trim("address_detail"),
		From:    f.trim("from"),
		To:      f.trim("to"),
		Reason:  f.Get("reason"),
		Arrival: arrivalIn(f),
	}
	p, err := u.reg.RegisterTemporary(r.Context(), actorOf(s), in)
	if err != nil {
		u.showTemporary(w, r, s, 0, f, err)
		return
	}
	http.Redirect(w, r, "/persons/"+p.PIN+"?done=temporary", http.StatusSeeOther)
}

// arrivalIn is the evidence a registrar enters for a person arriving from
// outside the unit: the id of the citizen's filed application, or the text
// the desk's scanner read from the card's QR code. Nil when neither.
func arrivalIn(f *form) *registry.Arrival {
	ev := registry.Arrival{ApplicationID: f.trim("arrival_application"), CardQR: strings.TrimSpace(f.Get("card_qr"))}
	if ev == (registry.Arrival{}) {
		return nil
	}
	return &ev
}

// religionIn stores "no religion" as the register does: empty.
func religionIn(s string) string {
	switch strings.ToLower(s) {
	case "không", "khong", "none", "no":
		return ""
	}
	return s
}
