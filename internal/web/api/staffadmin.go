package api

import (
	"net/http"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
)

// Staff administration: administrators (national, or a province's for its
// province) add, disable, enable staff and reset their passwords; every
// staff member changes their own password. Scope, the roles and the audit
// are the staff store's (staff.Store.Add and its siblings).

// PasswordPath is the endpoint a staff member whose password must change
// is sent to (Link header of 403 staff.password_change_required).
const PasswordPath = "/api/v1/sessions/password"

func (a *API) staffRoutes() []Route {
	return []Route{
		{"POST", PasswordPath, false, a.changePassword},
		{"GET", "/api/v1/staff", false, a.listStaff},
		{"POST", "/api/v1/staff", false, a.addStaff},
		{"GET", "/api/v1/staff/{username}", false, a.getStaff},
		{"POST", "/api/v1/staff/{username}/disable", false, a.setStaffDisabled(true)},
		{"POST", "/api/v1/staff/{username}/enable", false, a.setStaffDisabled(false)},
		{"POST", "/api/v1/staff/{username}/reset-password", false, a.resetStaffPassword},
	}
}

// passwordChangeAllowed are the routes a staff member whose password must
// change may still use: the change itself and sign-out.
func passwordChangeAllowed(rt Route) bool {
	return rt.Path == PasswordPath || (rt.Method == "DELETE" && rt.Path == "/api/v1/sessions")
}

type staffJSON struct {
	Username           string     `json:"username"`
	DisplayName        string     `json:"display_name"`
	Role               string     `json:"role"`
	Unit               string     `json:"unit"`
	UnitName           string     `json:"unit_name"`
	Province           string     `json:"province"`
	Disabled           bool       `json:"disabled"`
	MustChangePassword bool       `json:"must_change_password"`
	LastSignIn         *time.Time `json:"last_sign_in"`
}

func (a *API) staffJSON(acc staff.Account) staffJSON {
	out := staffJSON{Username: acc.Username, DisplayName: acc.DisplayName, Role: string(acc.Role), Unit: acc.Unit,
		Province: acc.Province, Disabled: acc.Disabled, MustChangePassword: acc.MustChangePassword, UnitName: a.unitName(acc.Unit)}
	if !acc.LastSignIn.IsZero() {
		t := acc.LastSignIn.UTC()
		out.LastSignIn = &t
	}
	return out
}

// unitName is the unit's current name, "" for the whole country.
func (a *API) unitName(code string) string {
	if a.Units == nil || code == "" {
		return ""
	}
	now := a.now()
	if u, err := a.Units.Commune(code, now); err == nil {
		return u.Name
	}
	if u, err := a.Units.Province(code, now); err == nil {
		return u.Name
	}
	return ""
}

func (a *API) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

func me(r *http.Request) actor.Actor { return actorOf(r.Context()).Actor() }

func (a *API) listStaff(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Staff.ListFor(r.Context(), me(r))
	if err != nil {
		return err
	}
	out := make([]staffJSON, 0, len(list))
	for _, acc := range list {
		out = append(out, a.staffJSON(acc))
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"staff": out})
}

func (a *API) getStaff(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.Staff.Get(r.Context(), me(r), r.PathValue("username"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, a.staffJSON(acc))
}

type addStaffRequest struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
	Unit        string `json:"unit"`
}

// temporaryPassword answers an add or a reset: the account and its
// temporary password, given this once and never again.
type temporaryPassword struct {
	staffJSON
	TemporaryPassword string `json:"temporary_password"`
}

func (a *API) addStaff(w http.ResponseWriter, r *http.Request) error {
	var in addStaffRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	pw, err := a.Staff.Add(ctx, me(r), staff.Account{Username: in.Username, DisplayName: in.DisplayName, Role: actor.Role(in.Role), Unit: in.Unit})
	if err != nil {
		return err
	}
	acc, err := a.Staff.Get(ctx, me(r), in.Username)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/staff/"+acc.Username)
	return jsonbody.Write(w, http.StatusCreated, temporaryPassword{a.staffJSON(acc), pw})
}

func (a *API) setStaffDisabled(disabled bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		if err := a.Staff.SetDisabled(ctx, me(r), r.PathValue("username"), disabled); err != nil {
			return err
		}
		acc, err := a.Staff.Get(ctx, me(r), r.PathValue("username"))
		if err != nil {
			return err
		}
		return jsonbody.Write(w, http.StatusOK, a.staffJSON(acc))
	}
}

func (a *API) resetStaffPassword(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	pw, err := a.Staff.ResetPassword(ctx, me(r), r.PathValue("username"))
	if err != nil {
		return err
	}
	acc, err := a.Staff.Get(ctx, me(r), r.PathValue("username"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, temporaryPassword{a.staffJSON(acc), pw})
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword sets the caller's own password. The session stays; the
// forced change is lifted.
func (a *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in changePasswordRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := a.Staff.ChangePassword(r.Context(), actorOf(r.Context()).Username, in.CurrentPassword, in.NewPassword); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
