package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/problem"
)

// TestStaffAdminAPI: Hà Nội's administrator adds a desk officer in Phường
// Ba Đình through the API; requests outside the province are 403
// out_of_scope even when every other field is wrong; the officer's
// temporary password opens only the password change (403
// staff.password_change_required with a Link) until it is changed; then
// the officer searches the register but registers no birth; disable,
// enable and reset act at once; every act is audited without a password.
func TestStaffAdminAPI(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { testStaffAdminAPI(t, d) })
	}
}

type staffOut struct {
	Username           string  `json:"username"`
	Role               string  `json:"role"`
	Unit               string  `json:"unit"`
	UnitName           string  `json:"unit_name"`
	Province           string  `json:"province"`
	Disabled           bool    `json:"disabled"`
	MustChangePassword bool    `json:"must_change_password"`
	LastSignIn         *string `json:"last_sign_in"`
	TemporaryPassword  string  `json:"temporary_password"`
}

func testStaffAdminAPI(t *testing.T, d storage.Dialect) {
	env := apptest.Start(t, d, 50)
	anon := &client{t: t, base: env.Server.URL}
	hanoi := anon.signIn("quantri.hanoi")
	national := anon.signIn("admin")
	registrar := anon.signIn("dangky.hanoi")

	desk := map[string]string{"username": "motcua.badinh", "display_name": "Trần Thị Bình", "role": "desk", "unit": "00004"}
	for _, c := range []struct {
		name string
		body map[string]string
	}{
		{"a national administrator", map[string]string{"username": "quantri.moi", "display_name": "Quản trị mới", "role": "admin", "unit": ""}},
		{"another province", map[string]string{"username": "dangky.hcm", "display_name": "Cán bộ", "role": "registrar", "unit": "79"}},
		{"another province's commune, every other field wrong", map[string]string{"username": "X", "display_name": "", "role": "root", "unit": "25747"}},
		{"a taken username outside", map[string]string{"username": "admin", "display_name": "Cán bộ", "role": "desk", "unit": "25747"}},
	} {
		var p problem.Problem
		if st := hanoi.do("POST", "/api/v1/staff", c.body, &p); st != http.StatusForbidden || p.Code != "out_of_scope" {
			t.Errorf("province administrator adds %s: %d %s", c.name, st, p.Code)
		}
	}
	registrar.expectProblem("POST", "/api/v1/staff", desk, http.StatusForbidden, "out_of_scope")
	registrar.expectProblem("GET", "/api/v1/staff", nil, http.StatusForbidden, "forbidden")
	hanoi.expectProblem("POST", "/api/v1/staff", map[string]string{"username": "Ngô Lan", "display_name": "Ngô Lan", "role": "desk", "unit": "00004"}, http.StatusUnprocessableEntity, "staff.username")
	hanoi.expectProblem("POST", "/api/v1/staff", map[string]string{"username": "quantri.badinh", "display_name": "Quản trị xã", "role": "admin", "unit": "00004"}, http.StatusUnprocessableEntity, "staff.admin_unit")

	var created staffOut
	if st := hanoi.do("POST", "/api/v1/staff", desk, &created); st != http.StatusCreated || created.TemporaryPassword == "" || created.Province != "01" ||
		created.UnitName != "Phường Ba Đình" || !created.MustChangePassword || created.LastSignIn != nil {
		t.Fatalf("add desk officer: %d %+v", st, created)
	}
	hanoi.expectProblem("POST", "/api/v1/staff", desk, http.StatusConflict, "staff.exists")

	// The new officer: only the password change until it is done.
	var tok struct {
		Token              string `json:"token"`
		Role               string `json:"role"`
		MustChangePassword bool   `json:"must_change_password"`
	}
	if st := anon.do("POST", "/api/v1/sessions", map[string]string{"username": "motcua.badinh", "password": created.TemporaryPassword}, &tok); st != 201 || !tok.MustChangePassword || tok.Role != "desk" {
		t.Fatalf("officer signs in: %d %+v", st, tok)
	}
	officer := &client{t: t, base: env.Server.URL, token: tok.Token}
	officer.expectProblem("GET", "/api/v1/persons?q=a", nil, http.StatusForbidden, "staff.password_change_required")
	req, _ := http.NewRequest("GET", env.Server.URL+"/api/v1/staff", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	if resp, err := http.DefaultClient.Do(req); err != nil || !strings.Contains(resp.Header.Get("Link"), "/api/v1/sessions/password") {
		t.Errorf("no Link to the change endpoint: %v %v", err, resp.Header)
	} else {
		resp.Body.Close()
	}
	officer.expectProblem("POST", "/api/v1/sessions/password", map[string]string{"current_password": "sai mật khẩu", "new_password": "một mật khẩu mới dài"}, http.StatusUnprocessableEntity, "staff.wrong_password")
	officer.expectProblem("POST", "/api/v1/sessions/password", map[string]string{"current_password": created.TemporaryPassword, "new_password": "ngắn"}, http.StatusUnprocessableEntity, "staff.weak_password")
	if st := officer.do("POST", "/api/v1/sessions/password", map[string]string{"current_password": created.TemporaryPassword, "new_password": "một mật khẩu mới dài"}, nil); st != http.StatusNoContent {
		t.Fatalf("change password: %d", st)
	}
	if st := officer.do("GET", "/api/v1/persons?q=nguyen", nil, nil); st != http.StatusOK {
		t.Errorf("desk officer searches after the change: %d", st)
	}
	officer.expectProblem("POST", "/api/v1/births", map[string]string{"full_name": "Nguyễn Văn An"}, http.StatusForbidden, "forbidden")
	officer.expectProblem("GET", "/api/v1/staff", nil, http.StatusForbidden, "forbidden")
	officer.expectProblem("POST", "/api/v1/staff", map[string]string{"username": "motcua2.badinh", "display_name": "Cán bộ", "role": "admin", "unit": "01"}, http.StatusForbidden, "out_of_scope")

	// The list: scoped, with the last sign-in.
	var list struct{ Staff []staffOut }
	if st := hanoi.do("GET", "/api/v1/staff", nil, &list); st != 200 {
		t.Fatalf("list: %d", st)
	}
	seen := map[string]staffOut{}
	for _, s := range list.Staff {
		seen[s.Username] = s
	}
	if _, ok := seen["admin"]; ok || seen["motcua.badinh"].LastSignIn == nil || seen["motcua.badinh"].MustChangePassword {
		t.Errorf("Hà Nội's list: %+v", list.Staff)
	}
	var all struct{ Staff []staffOut }
	national.do("GET", "/api/v1/staff", nil, &all)
	if len(all.Staff) != len(list.Staff)+1 {
		t.Errorf("national list has %d, Hà Nội's %d", len(all.Staff), len(list.Staff))
	}

	// Out of scope and oneself.
	hanoi.expectProblem("POST", "/api/v1/staff/admin/disable", nil, http.StatusForbidden, "out_of_scope")
	hanoi.expectProblem("POST", "/api/v1/staff/admin/reset-password", nil, http.StatusForbidden, "out_of_scope")
	hanoi.expectProblem("POST", "/api/v1/staff/khong.co.ai/disable", nil, http.StatusForbidden, "out_of_scope")
	hanoi.expectProblem("POST", "/api/v1/staff/quantri.hanoi/disable", nil, http.StatusForbidden, "staff.self")
	national.expectProblem("POST", "/api/v1/staff/khong.co.ai/disable", nil, http.StatusNotFound, "not_found")

	// Disable ends the officer's session; enable; reset forces a change again.
	var out staffOut
	if st := hanoi.do("POST", "/api/v1/staff/motcua.badinh/disable", nil, &out); st != 200 || !out.Disabled {
		t.Fatalf("disable: %d %+v", st, out)
	}
	if st := officer.do("GET", "/api/v1/persons?q=nguyen", nil, nil); st != http.StatusUnauthorized {
		t.Errorf("disabled officer's session: %d", st)
	}
	if st := anon.do("POST", "/api/v1/sessions", map[string]string{"username": "motcua.badinh", "password": "một mật khẩu mới dài"}, nil); st != http.StatusUnauthorized {
		t.Errorf("disabled officer signs in: %d", st)
	}
	if st := hanoi.do("POST", "/api/v1/staff/motcua.badinh/enable", nil, &out); st != 200 || out.Disabled {
		t.Fatalf("enable: %d %+v", st, out)
	}
	if st := hanoi.do("POST", "/api/v1/staff/motcua.badinh/reset-password", nil, &out); st != 200 || out.TemporaryPassword == "" || !out.MustChangePassword {
		t.Fatalf("reset: %d %+v", st, out)
	}
	if st := anon.do("POST", "/api/v1/sessions", map[string]string{"username": "motcua.badinh", "password": "một mật khẩu mới dài"}, nil); st != http.StatusUnauthorized {
		t.Errorf("old password after a reset: %d", st)
	}
	if st := anon.do("POST", "/api/v1/sessions", map[string]string{"username": "motcua.badinh", "password": out.TemporaryPassword}, &tok); st != 201 || !tok.MustChangePassword {
		t.Errorf("temporary password after a reset: %d %+v", st, tok)
	}

	// Audited, by whom, never with a password.
	for _, action := range []string{"staff.created", "staff.password_changed", "staff.disabled", "staff.enabled", "staff.password_reset"} {
		var n int
		var by, detail string
		if err := env.App.AuditDB.R.QueryRow(`SELECT count(*), max(actor), coalesce(max(detail), '') FROM audit_log WHERE action = $1 AND subject = 'staff:motcua.badinh'`, action).Scan(&n, &by, &detail); err != nil || n != 1 {
			t.Errorf("audit %s: %d entries, %v", action, n, err)
			continue
		}
		want := "staff:quantri.hanoi"
		if action == "staff.password_changed" {
			want = "staff:motcua.badinh"
		}
		if by != want || strings.Contains(detail, created.TemporaryPassword) || strings.Contains(detail, out.TemporaryPassword) {
			t.Errorf("audit %s by %s: %q", action, by, detail)
		}
	}
	for _, secret := range []string{created.TemporaryPassword, out.TemporaryPassword, "một mật khẩu mới dài"} {
		if strings.Contains(env.Logs.String(), secret) {
			t.Error("a password reached the log")
		}
	}
}
