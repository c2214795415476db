package ui

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/staff"
)

// Staff administration pages: add an account with a role and a unit
// chosen with the unit picker, disable, enable, reset a password (the
// temporary password shown once), and every staff member's own password
// change, which a password set by an administrator forces before anything
// else (signedIn). Scope, roles and audit are the staff store's.

// staffFields are the add form's fields.
var staffFields = []string{"username", "display_name", "role", "unit", "unit_q"}

// unitOption is one unit in the picker: its code is the value, its name
// (with the province for a commune) the text; codes are never shown.
type unitOption struct {
	Code, Label string
	Selected    bool
}

type staffNewView struct {
	Roles   []roleOption
	Units   []unitOption
	Query   string // the picker's search, as typed
	Matched bool   // the search ran (so "nothing found" can be said)
}

type roleOption struct {
	Value, Label string
	Selected     bool
}

// temporaryView shows a temporary password once, after an add or a reset.
type temporaryView struct {
	Username, Name, Password string
	Created                  bool
}

func (u *UI) staffNew(w http.ResponseWriter, r *http.Request, s staff.Session) {
	u.showStaffNew(w, r, s, http.StatusOK, newForm(nil, staffFields...), nil)
}

func (u *UI) showStaffNew(w http.ResponseWriter, r *http.Request, s staff.Session, status int, f *form, err error) {
	v := u.page(r, &s, "admin.staff.new", "/admin/staff/new")
	v.Nav, v.Form = "admin", f
	if err != nil {
		if status = u.formFaults(w, r, v, err, nil); status == 0 {
			return
		}
	}
	me := actorOf(s)
	d := staffNewView{Query: f.trim("unit_q")}
	for _, role := range actor.StaffRoles() {
		d.Roles = append(d.Roles, roleOption{Value: string(role), Label: u.tr(v.Lang, "role."+string(role)), Selected: f.Get("role") == string(role)})
	}
	d.Units, d.Matched = u.unitOptions(v.Lang, me, d.Query, f.Get("unit"))
	v.Page = d
	u.render(w, r, status, "admin-staff-new", v)
}

// unitOptions are the units an administrator may pick: those matching the
// search, or with none its own province and communes (a province
// administrator) or the provinces (a national one). The unit chosen
// stays listed.
func (u *UI) unitOptions(l string, me actor.Actor, query, chosen string) ([]unitOption, bool) {
	now := u.now()
	var units []adminunit.Unit
	searched := query != ""
	switch {
	case searched:
		units = u.units.Search(query, now, 40)
	case me.Level() == actor.LevelProvince:
		if p, err := u.units.Province(me.Unit, now); err == nil {
			units = append([]adminunit.Unit{p}, u.units.Communes(me.Unit, now)...)
		}
	default:
		units = u.units.Provinces(now)
	}
	var out []unitOption
	seen := map[string]bool{}
	if me.Level() == actor.LevelNational && !searched {
		out = append(out, unitOption{Code: "", Label: u.tr(l, "unit.national"), Selected: chosen == ""})
		seen[""] = true
	}
	add := func(code string) {
		if seen[code] {
			return
		}
		seen[code] = true
		province := code
		if len(code) == 5 {
			province, _ = u.units.CommuneProvince(code, now)
		}
		if code == "" || !me.ManagesUnit(code, province) {
			return
		}
		out = append(out, unitOption{Code: code, Label: u.unitName(l, code), Selected: code == chosen})
	}
	if chosen != "" {
		add(chosen)
	}
	for _, x := range units {
		if x.Level == adminunit.LevelProvince || x.Level == adminunit.LevelCommune {
			add(x.Code)
		}
	}
	return out, searched
}

// staffCreate adds the account, or with the picker's search button
// (op=search) shows the form again with the units found, keeping what was
// typed; a POST so that the CSRF token never travels in a URL.
func (u *UI) staffCreate(w http.ResponseWriter, r *http.Request, s staff.Session) {
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, staffFields...)
	if r.PostForm.Get("op") == "search" {
		u.showStaffNew(w, r, s, http.StatusOK, f, nil)
		return
	}
	acc := staff.Account{Username: strings.ToLower(f.trim("username")), DisplayName: f.Get("display_name"), Role: actor.Role(f.Get("role")), Unit: f.Get("unit")}
	pw, err := u.staff.Add(r.Context(), actorOf(s), acc)
	if err != nil {
		u.showStaffNew(w, r, s, 0, f, err)
		return
	}
	u.showTemporaryPassword(w, r, s, http.StatusCreated, temporaryView{Username: acc.Username, Name: strings.TrimSpace(acc.DisplayName), Password: pw, Created: true})
}

// showTemporaryPassword shows a temporary password this once; the page is not
// cached and the password is in no URL.
func (u *UI) showTemporaryPassword(w http.ResponseWriter, r *http.Request, s staff.Session, status int, d temporaryView) {
	v := u.page(r, &s, "admin.staff.temporary", "/admin/staff")
	v.Nav, v.Page = "admin", d
	w.Header().Set("Cache-Control", "no-store")
	u.render(w, r, status, "admin-staff-temporary", v)
}

// staffSetDisabled disables or enables an account.
func (u *UI) staffSetDisabled(disabled bool) handler {
	return func(w http.ResponseWriter, r *http.Request, s staff.Session) {
		username := r.PathValue("username")
		if err := u.staff.SetDisabled(r.Context(), actorOf(s), username, disabled); err != nil {
			u.fail(w, r, err)
			return
		}
		done := "enabled"
		if disabled {
			done = "disabled"
		}
		http.Redirect(w, r, "/admin/staff?"+url.Values{"done": {done}, "username": {username}}.Encode(), http.StatusSeeOther)
	}
}

// staffReset gives an account a temporary password, shown once.
func (u *UI) staffReset(w http.ResponseWriter, r *http.Request, s staff.Session) {
	username := r.PathValue("username")
	pw, err := u.staff.ResetPassword(r.Context(), actorOf(s), username)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	a, err := u.staff.Get(r.Context(), actorOf(s), username)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.showTemporaryPassword(w, r, s, http.StatusOK, temporaryView{Username: username, Name: a.DisplayName, Password: pw})
}

// passwordFields are the change form's fields.
var passwordFields = []string{"current_password", "new_password", "new_password_again"}

// errPasswordMismatch: the new password typed twice differs.
var errPasswordMismatch = fault.New(fault.Invalid, "staff.password_mismatch",
	"Hai lần nhập mật khẩu mới không khớp nhau.", "The two new passwords differ.")

// passwordForm is every staff member's own password change; while a
// change is forced it is the only page served (signedIn).
func (u *UI) passwordForm(w http.ResponseWriter, r *http.Request, s staff.Session) {
	u.showPassword(w, r, s, http.StatusOK, newForm(nil, passwordFields...), nil)
}

func (u *UI) showPassword(w http.ResponseWriter, r *http.Request, s staff.Session, status int, f *form, err error) {
	v := u.page(r, &s, "password.title", "/password")
	v.Form = f
	if err != nil {
		if status = u.formFaults(w, r, v, err, map[string]string{"password": "new_password"}); status == 0 {
			return
		}
	}
	v.Page = s.Account.MustChangePassword
	// Nothing typed is sent back.
	f.values = url.Values{}
	u.render(w, r, status, "password", v)
}

func (u *UI) passwordSubmit(w http.ResponseWriter, r *http.Request, s staff.Session) {
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, passwordFields...)
	if f.Get("new_password") != f.Get("new_password_again") {
		u.showPassword(w, r, s, 0, f, errPasswordMismatch.WithField("new_password_again"))
		return
	}
	if err := u.staff.ChangePassword(r.Context(), s.Account.Username, f.Get("current_password"), f.Get("new_password")); err != nil {
		u.showPassword(w, r, s, 0, f, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// passwordChangeAllowed are the paths a staff member whose password must
// change may still reach: the change page, sign-out and static files.
func passwordChangeAllowed(r *http.Request) bool {
	return r.URL.Path == "/password" || r.URL.Path == "/logout"
}
