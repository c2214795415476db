package ui

import (
	"net/http"
	"net/url"

	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
)

// Fields of the marriage and divorce forms, in the order of the page.
var (
	marriageFields = []string{"pin", "spouse_pin", "marriage_date", "join_pin", "relation_to_head", "new_head_pin", "reason"}
	divorceFields  = []string{"pin", "divorce_date", "reason"}
)

// The register's field names that the forms name otherwise.
var (
	marriageRename = map[string]string{"date": "marriage_date"}
	divorceRename  = map[string]string{"date": "divorce_date"}
)

func (u *UI) marriageForm(w http.ResponseWriter, r *http.Request, s staff.Session) {
	vals := prefill(url.Values{}, r.URL.Query(), "pin", "spouse_pin")
	u.showMarriage(w, r, s, http.StatusOK, newForm(vals, marriageFields...), nil)
}

func (u *UI) showMarriage(w http.ResponseWriter, r *http.Request, s staff.Session, status int, f *form, err error) {
	u.showPersonAct(w, r, s, status, f, err, personAct{title: "marriage.title", path: "/marriages/new", nav: "", rename: marriageRename, purpose: "marriage-registration", template: "marriage"})
}

func (u *UI) marriageSubmit(w http.ResponseWriter, r *http.Request, s staff.Session) {
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, marriageFields...)
	in := registry.MarriageInput{
		PIN:            f.pin("pin"),
		SpousePIN:      f.pin("spouse_pin"),
		Date:           f.trim("marriage_date"),
		RelationToHead: f.trim("relation_to_head"),
		NewHeadPIN:     f.pin("new_head_pin"),
		Reason:         f.Get("reason"),
	}
	// The form asks whether the person or the spouse joins the other's
	// household; the register wants the joiner's PIN.
	switch f.trim("join_pin") {
	case "pin":
		in.JoinPIN = in.PIN
	case "spouse_pin":
		in.JoinPIN = in.SpousePIN
	}
	p, err := u.reg.RegisterMarriage(r.Context(), actorOf(s), in)
	if err != nil {
		u.showMarriage(w, r, s, 0, f, err)
		return
	}
	http.Redirect(w, r, "/persons/"+p.PIN+"?done=marriage", http.StatusSeeOther)
}

func (u *UI) divorceForm(w http.ResponseWriter, r *http.Request, s staff.Session) {
	vals := prefill(url.Values{}, r.URL.Query(), "pin")
	u.showDivorce(w, r, s, http.StatusOK, newForm(vals, divorceFields...), nil)
}

func (u *UI) showDivorce(w http.ResponseWriter, r *http.Request, s staff.Session, status int, f *form, err error) {
	u.showPersonAct(w, r, s, status, f, err, personAct{title: "divorce.title", path: "/divorces/new", nav: "", rename: divorceRename, purpose: "divorce-registration", template: "divorce"})
}

func (u *UI) divorceSubmit(w http.ResponseWriter, r *http.Request, s staff.Session) {
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, divorceFields...)
	in := registry.DivorceInput{PIN: f.pin("pin"), Date: f.trim("divorce_date"), Reason: f.Get("reason")}
	p, err := u.reg.RegisterDivorce(r.Context(), actorOf(s), in)
	if err != nil {
		u.showDivorce(w, r, s, 0, f, err)
		return
	}
	http.Redirect(w, r, "/persons/"+p.PIN+"?done=divorce", http.StatusSeeOther)
}
