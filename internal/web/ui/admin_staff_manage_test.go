package ui_test

import (
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

var temporaryRE = regexp.MustCompile(`id="temporary-password">([^<]+)<`)

// TestStaffAdministrationPages: Hà Nội's administrator adds a desk officer
// in Phường Ba Đình, finding the commune with the unit picker's search
// (names shown, never codes); requests outside the province are refused;
// the officer signs in with the temporary password, is sent to the
// password change from every page until it is done, then searches the
// register but may not register a birth; the administrator sees the last
// sign-in, disables, enables and resets the account. On SQLite and
// PostgreSQL.
func TestStaffAdministrationPages(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { testStaffAdministrationPages(t, d) })
	}
}

func testStaffAdministrationPages(t *testing.T, d storage.Dialect) {
	env := apptest.Start(t, d, 50)
	admin := signInStaff(t, env, "quantri.hanoi")
	post := func(c *staffClient, path string, vals url.Values) staffPage {
		t.Helper()
		vals.Set("csrf", c.token(c.do(http.MethodGet, "/", nil)))
		return c.do(http.MethodPost, path, vals)
	}

	// The administration index: staff only, not the platform's pages.
	idx := admin.do(http.MethodGet, "/admin", nil)
	if idx.status != http.StatusOK || !strings.Contains(idx.body, `href="/admin/staff"`) || strings.Contains(idx.body, `href="/admin/clients"`) {
		t.Errorf("province administrator's /admin: %d", idx.status)
	}
	if p := admin.do(http.MethodGet, "/admin/clients", nil); p.status != http.StatusForbidden {
		t.Errorf("province administrator opens the OpenID clients: %d", p.status)
	}

	// The picker without a search: the province and its communes, by name.
	form := admin.do(http.MethodGet, "/admin/staff/new", nil)
	if form.status != http.StatusOK {
		t.Fatalf("/admin/staff/new: %d", form.status)
	}
	wantText(t, "picker", form, "Thành phố Hà Nội", "Phường Ba Đình", "Cán bộ một cửa")
	if strings.Contains(form.body, "Phường Thủ Dầu Một") {
		t.Error("Hà Nội's administrator is offered a commune of Hồ Chí Minh City")
	}
	// The search (no JavaScript): typed fields are kept.
	found := post(admin, "/admin/staff", url.Values{"op": {"search"}, "unit_q": {"ba dinh"}, "username": {"motcua.badinh"}, "display_name": {"Trần Thị Bình"}, "role": {"desk"}})
	if found.status != http.StatusOK {
		t.Fatalf("picker search: %d", found.status)
	}
	if !strings.Contains(found.body, `<option value="00004">Phường Ba Đình`) || !strings.Contains(found.body, `value="motcua.badinh"`) {
		t.Errorf("picker search lacks Ba Đình or lost the form:\n%s", plain(found))
	}
	if strings.Contains(plain(found), "00004") {
		t.Error("the picker shows a unit code")
	}
	none := post(admin, "/admin/staff", url.Values{"op": {"search"}, "unit_q": {"Thủ Dầu Một"}})
	wantText(t, "search outside", none, "Không tìm thấy địa bàn nào trong phạm vi của bạn.")

	// Refusals: out of scope before anything else; CSRF; a registrar.
	out := post(admin, "/admin/staff", url.Values{"username": {"X"}, "role": {"root"}, "unit": {"25747"}})
	if out.status != http.StatusForbidden {
		t.Errorf("another province's commune: %d", out.status)
	}
	wantText(t, "out of scope", out, "Tài khoản hoặc địa bàn này nằm ngoài phạm vi quản lý của bạn.")
	if p := post(admin, "/admin/staff", url.Values{"username": {"quantri.moi"}, "display_name": {"Quản trị mới"}, "role": {"admin"}, "unit": {""}}); p.status != http.StatusForbidden {
		t.Errorf("a national administrator: %d", p.status)
	}
	if p := admin.do(http.MethodPost, "/admin/staff", url.Values{"username": {"motcua.badinh"}, "display_name": {"Trần Thị Bình"}, "role": {"desk"}, "unit": {"00004"}}); p.status != http.StatusForbidden {
		t.Errorf("add without CSRF: %d", p.status)
	}
	registrar := signInStaff(t, env, "dangky.hanoi")
	if p := registrar.do(http.MethodGet, "/admin/staff/new", nil); p.status != http.StatusForbidden {
		t.Errorf("registrar opens the add form: %d", p.status)
	}
	bad := post(admin, "/admin/staff", url.Values{"username": {"Trần Bình"}, "display_name": {""}, "role": {"desk"}, "unit": {"00004"}})
	if bad.status != http.StatusUnprocessableEntity {
		t.Errorf("bad fields: %d", bad.status)
	}
	wantText(t, "bad fields", bad, "Họ tên phải có từ 2 đến 100 ký tự.")

	// The add: the temporary password shown once, not cached.
	created := post(admin, "/admin/staff", url.Values{"username": {"motcua.badinh"}, "display_name": {"Trần Thị Bình"}, "role": {"desk"}, "unit": {"00004"}})
	m := temporaryRE.FindStringSubmatch(created.body)
	if created.status != http.StatusCreated || m == nil {
		t.Fatalf("add: %d\n%s", created.status, plain(created))
	}
	temp := html.UnescapeString(m[1])
	list := admin.do(http.MethodGet, "/admin/staff", nil)
	if strings.Contains(list.body, temp) {
		t.Fatal("the temporary password is shown again on the list")
	}
	row := rowOf(t, list, "motcua.badinh")
	if !strings.Contains(row, "Cán bộ một cửa") || !strings.Contains(row, "Phường Ba Đình") || !strings.Contains(row, "Chưa đăng nhập") || !strings.Contains(row, "Chờ đổi mật khẩu") {
		t.Errorf("new row: %s", row)
	}

	// The officer: forced to the password change, then works.
	jar, _ := cookiejar.New(nil)
	officer := &staffClient{t: t, base: env.Server.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	p := officer.do(http.MethodPost, "/login", url.Values{"csrf": {officer.token(officer.do(http.MethodGet, "/login", nil))}, "username": {"motcua.badinh"}, "password": {temp}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("officer signs in: %d", p.status)
	}
	for _, path := range []string{"/", "/persons?q=nguyen", "/admin/staff"} {
		if p := officer.do(http.MethodGet, path, nil); p.status != http.StatusSeeOther || p.location != "/password" {
			t.Errorf("officer GET %s before the change: %d %s", path, p.status, p.location)
		}
	}
	pw := officer.do(http.MethodGet, "/password", nil)
	wantText(t, "forced change", pw, "Mật khẩu của bạn do quản trị viên đặt.")
	tok := officer.token(pw)
	if p := officer.do(http.MethodPost, "/password", url.Values{"csrf": {tok}, "current_password": {temp}, "new_password": {"ngắn"}, "new_password_again": {"ngắn"}}); p.status != http.StatusUnprocessableEntity {
		t.Errorf("weak new password: %d", p.status)
	} else if strings.Contains(p.body, temp) {
		t.Error("the password typed is sent back")
	}
	if p := officer.do(http.MethodPost, "/password", url.Values{"csrf": {tok}, "current_password": {temp}, "new_password": {"mật khẩu mới của Bình"}, "new_password_again": {"khác hẳn"}}); p.status != http.StatusUnprocessableEntity {
		t.Errorf("differing new passwords: %d", p.status)
	}
	if p := officer.do(http.MethodPost, "/password", url.Values{"csrf": {tok}, "current_password": {temp}, "new_password": {"mật khẩu mới của Bình"}, "new_password_again": {"mật khẩu mới của Bình"}}); p.status != http.StatusSeeOther {
		t.Fatalf("change password: %d\n%s", p.status, plain(p))
	}
	if p := officer.do(http.MethodGet, "/persons?q=nguyen", nil); p.status != http.StatusOK {
		t.Errorf("officer searches after the change: %d", p.status)
	}
	if p := officer.do(http.MethodGet, "/births/new", nil); p.status != http.StatusForbidden {
		t.Errorf("desk officer opens the birth form: %d", p.status)
	}

	// The administrator sees the sign-in, disables, enables, resets.
	row = rowOf(t, admin.do(http.MethodGet, "/admin/staff", nil), "motcua.badinh")
	if strings.Contains(row, "Chưa đăng nhập") || !strings.Contains(row, "Đang hoạt động") {
		t.Errorf("row after the officer's sign-in: %s", row)
	}
	if p := post(admin, "/admin/staff/motcua.badinh/disable", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("disable: %d", p.status)
	}
	if p := officer.do(http.MethodGet, "/persons?q=nguyen", nil); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login") {
		t.Errorf("disabled officer: %d %s", p.status, p.location)
	}
	wantText(t, "disabled", admin.do(http.MethodGet, "/admin/staff", nil), "Đã vô hiệu hoá")
	if p := post(admin, "/admin/staff/motcua.badinh/enable", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("enable: %d", p.status)
	}
	reset := post(admin, "/admin/staff/motcua.badinh/reset", url.Values{})
	if reset.status != http.StatusOK || temporaryRE.FindStringSubmatch(reset.body) == nil {
		t.Fatalf("reset: %d", reset.status)
	}
	if p := post(admin, "/admin/staff/admin/disable", url.Values{}); p.status != http.StatusForbidden {
		t.Errorf("province administrator disables the national one: %d", p.status)
	}
	if p := post(admin, "/admin/staff/quantri.hanoi/reset", url.Values{}); p.status != http.StatusForbidden {
		t.Errorf("administrator resets its own password: %d", p.status)
	}
	// In English, the same pages.
	admin.do(http.MethodGet, "/lang?l=en&next=/admin/staff", nil)
	wantText(t, "English list", admin.do(http.MethodGet, "/admin/staff", nil), "Staff accounts", "One-stop desk officer", "Reset password")
	wantText(t, "English form", admin.do(http.MethodGet, "/admin/staff/new", nil), "Add a staff account", "Find unit", "Phường Ba Đình")
	admin.do(http.MethodGet, "/lang?l=vi", nil)

	var n int
	env.App.AuditDB.R.QueryRow(`SELECT count(*) FROM audit_log WHERE subject = 'staff:motcua.badinh' AND action IN ('staff.created', 'staff.password_changed', 'staff.disabled', 'staff.enabled', 'staff.password_reset')`).Scan(&n)
	if n != 5 {
		t.Errorf("%d audit entries for the officer's account, want 5", n)
	}
	if strings.Contains(env.Logs.String(), temp) || strings.Contains(env.Logs.String(), "mật khẩu mới của Bình") {
		t.Error("a password reached the log")
	}
}

// rowOf is the staff list's row of an account.
func rowOf(t *testing.T, p staffPage, username string) string {
	t.Helper()
	i := strings.Index(p.body, `id="staff-`+username+`"`)
	if i < 0 {
		t.Fatalf("no row for %s (status %d)", username, p.status)
	}
	row := p.body[i:]
	return html.UnescapeString(row[:strings.Index(row, "</tr>")])
}
