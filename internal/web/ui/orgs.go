package ui

import (
	"context"
	"net/http"
	"net/url"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/staff"
)

// OrgRegistrar registers organisation accounts with their first legal
// representative (*eid.Service).
type OrgRegistrar interface {
	RegisterOrg(ctx context.Context, a actor.Actor, in eid.OrgInput) (eid.Org, error)
}

var orgFields = []string{"kind", "code", "name", "representative_pin"}

// mountOrgs registers the page where a registrar or an admin registers an
// organisation (company or agency) and its legal representative, after
// checking the business or agency registration papers.
func (u *UI) mountOrgs(s func(string, handler)) {
	s("GET /organisations/new", u.orgStaff(u.orgForm))
	s("POST /organisations", u.orgStaff(u.orgSubmit))
}

// orgStaff lets registrars and admins through.
func (u *UI) orgStaff(next handler) handler {
	return func(w http.ResponseWriter, r *http.Request, s staff.Session) {
		if role := actorOf(s).Role; role != actor.Registrar && role != actor.Admin {
			u.fail(w, r, fault.ErrForbidden)
			return
		}
		next(w, r, s)
	}
}

type orgFormView struct {
	Done string // code of the organisation just registered
}

func (u *UI) orgForm(w http.ResponseWriter, r *http.Request, s staff.Session) {
	u.showOrg(w, r, s, http.StatusOK, newForm(url.Values{"kind": {eid.OrgCompany}}, orgFields...), nil)
}

func (u *UI) showOrg(w http.ResponseWriter, r *http.Request, s staff.Session, status int, f *form, err error) {
	v := u.page(r, &s, "org.title", "/organisations/new")
	v.Nav, v.Form = "organisations", f
	if err != nil {
		if status = u.formFaults(w, r, v, err, nil); status == 0 {
			return
		}
	}
	d := orgFormView{}
	if done := r.URL.Query().Get("done"); done != "" && err == nil {
		d.Done = done
		v.Flash = u.tr(v.Lang, "flash.org") + " " + done
	}
	v.Page = d
	u.render(w, r, status, "org-new", v)
}

func (u *UI) orgSubmit(w http.ResponseWriter, r *http.Request, s staff.Session) {
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, orgFields...)
	in := eid.OrgInput{Kind: f.trim("kind"), Code: f.trim("code"), Name: f.Get("name"), RepresentativePIN: f.pin("representative_pin")}
	o, err := u.orgs.RegisterOrg(r.Context(), actorOf(s), in)
	if err != nil {
		u.showOrg(w, r, s, 0, f, err)
		return
	}
	http.Redirect(w, r, "/organisations/new?done="+url.QueryEscape(o.Code), http.StatusSeeOther)
}
