package ui

import (
	"net/http"
	"net/url"

	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/web/page"
)

// staffRow is one staff account on the administration page, with the state
// of its sign-in throttle.
type staffRow struct {
	A       staff.Account
	Unit    string
	Role    string
	Locked  bool   // locked until an administrator unlocks it
	Blocked bool   // blocked for a while after failed sign-ins
	Last    string // last sign-in, Vietnam's time; "" never
	Self    bool   // the administrator's own account: no disable or reset
}

// staffList shows every staff account and whether repeated failed sign-ins
// have blocked or locked it, with the unlock action.
func (u *UI) staffList(w http.ResponseWriter, r *http.Request, s staff.Session) {
	ctx := r.Context()
	accounts, err := u.staff.ListFor(ctx, actorOf(s))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := u.page(r, &s, "admin.staff.title", "")
	v.Nav = "admin"
	now := u.now()
	rows := make([]staffRow, 0, len(accounts))
	for _, a := range accounts {
		st, err := u.staff.LockState(ctx, a.Username)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		row := staffRow{A: a, Unit: u.unitName(v.Lang, a.Unit), Role: u.tr(v.Lang, "role."+string(a.Role)), Locked: st.Locked, Blocked: !st.Locked && st.Refused(now),
			Self: a.Username == s.Account.Username}
		if !a.LastSignIn.IsZero() {
			row.Last = a.LastSignIn.In(vietnam).Format("02/01/2006 15:04")
		}
		rows = append(rows, row)
	}
	switch done := r.URL.Query().Get("done"); done {
	case "unlocked", "disabled", "enabled":
		v.Flash = u.tr(v.Lang, "admin.flash.staff_"+done) + " " + r.URL.Query().Get("username")
	}
	v.Page = rows
	u.render(w, r, http.StatusOK, "admin-staff", v)
}

// staffUnlock lifts a staff account's block or lock. The staff store checks
// the role and audits the act.
func (u *UI) staffUnlock(w http.ResponseWriter, r *http.Request, s staff.Session) {
	username := r.PathValue("username")
	if _, err := u.staff.Unlock(r.Context(), actorOf(s), username); err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/staff?"+url.Values{"done": {"unlocked"}, "username": {username}}.Encode(), http.StatusSeeOther)
}

// staffAdminMessages are the staff-account page's strings, registered into
// the catalogue like adminMessages.
var staffAdminMessages = page.Messages{
	page.VI: {
		"admin.intro.staff":           "Tài khoản cán bộ; mở khoá tài khoản bị khoá do đăng nhập sai nhiều lần.",
		"admin.staff.title":           "Tài khoản cán bộ",
		"admin.staff.lead":            "Sau nhiều lần đăng nhập sai, tài khoản bị tạm chặn rồi bị khoá. Tài khoản bị khoá chỉ đăng nhập lại được khi quản trị viên mở khoá; việc mở khoá được ghi nhật ký.",
		"admin.staff.none":            "Chưa có tài khoản nào.",
		"admin.col.username":          "Tên đăng nhập",
		"admin.col.role":              "Vai trò",
		"admin.col.unit":              "Địa bàn",
		"admin.col.signin":            "Đăng nhập",
		"admin.staff.locked":          "Bị khoá",
		"admin.staff.blocked":         "Tạm chặn",
		"admin.staff.ok":              "Bình thường",
		"admin.staff.unlock":          "Mở khoá",
		"admin.flash.staff_unlocked":  "Đã mở khoá tài khoản",
		"admin.flash.staff_disabled":  "Đã vô hiệu hoá tài khoản",
		"admin.flash.staff_enabled":   "Đã kích hoạt lại tài khoản",
		"admin.col.last_signin":       "Đăng nhập gần nhất",
		"admin.staff.never":           "Chưa đăng nhập",
		"admin.staff.disabled":        "Đã vô hiệu hoá",
		"admin.staff.must_change":     "Chờ đổi mật khẩu",
		"admin.staff.active":          "Đang hoạt động",
		"admin.staff.disable":         "Vô hiệu hoá",
		"admin.staff.enable":          "Kích hoạt lại",
		"admin.staff.reset":           "Đặt lại mật khẩu",
		"admin.staff.add":             "Thêm cán bộ",
		"admin.staff.new":             "Thêm tài khoản cán bộ",
		"admin.staff.new_lead":        "Chọn vai trò và địa bàn. Tài khoản mới nhận một mật khẩu tạm thời, chỉ hiện một lần; cán bộ phải đổi mật khẩu ở lần đăng nhập đầu tiên.",
		"admin.staff.choose_role":     "— Chọn vai trò —",
		"admin.staff.unit_search":     "Tìm địa bàn",
		"admin.staff.unit_none":       "Không tìm thấy địa bàn nào trong phạm vi của bạn.",
		"admin.staff.unit_choose":     "Chọn địa bàn",
		"admin.staff.submit":          "Thêm tài khoản",
		"admin.staff.temporary":       "Mật khẩu tạm thời",
		"admin.staff.created":         "Đã tạo tài khoản cho",
		"admin.staff.was_reset":       "Đã đặt lại mật khẩu của",
		"admin.staff.temporary_label": "Mật khẩu tạm thời:",
		"admin.staff.temporary_once":  "Mật khẩu này chỉ hiện một lần. Hãy trao trực tiếp cho cán bộ; họ phải đổi mật khẩu ngay khi đăng nhập.",
		"admin.staff.back":            "Về danh sách tài khoản cán bộ",
		"role.desk":                   "Cán bộ một cửa",
		"f.display_name":              "Họ và tên",
		"f.role":                      "Vai trò",
		"f.unit":                      "Địa bàn",
		"f.unit_q":                    "Tìm theo tên tỉnh, thành phố, xã, phường",
		"hint.username":               "Chữ thường không dấu, chữ số, dấu chấm; ví dụ motcua.badinh.",
		"hint.unit":                   "Gõ tên (có hoặc không dấu) rồi chọn trong danh sách.",
		"f.current_password":          "Mật khẩu hiện tại",
		"f.new_password":              "Mật khẩu mới",
		"f.new_password_again":        "Nhập lại mật khẩu mới",
		"hint.new_password":           "Ít nhất 10 ký tự, không chứa tên đăng nhập.",
		"password.title":              "Đổi mật khẩu",
		"password.forced":             "Mật khẩu của bạn do quản trị viên đặt. Hãy đặt mật khẩu mới trước khi tiếp tục.",
		"password.submit":             "Đổi mật khẩu",
	},
	page.EN: {
		"admin.intro.staff":           "Staff accounts; unlock an account locked after repeated failed sign-ins.",
		"admin.staff.title":           "Staff accounts",
		"admin.staff.lead":            "After repeated failed sign-ins an account is blocked for a while, then locked. A locked account signs in again only once an administrator unlocks it; unlocking is logged.",
		"admin.staff.none":            "No account yet.",
		"admin.col.username":          "Username",
		"admin.col.role":              "Role",
		"admin.col.unit":              "Unit",
		"admin.col.signin":            "Sign-in",
		"admin.staff.locked":          "Locked",
		"admin.staff.blocked":         "Blocked for now",
		"admin.staff.ok":              "Normal",
		"admin.staff.unlock":          "Unlock",
		"admin.flash.staff_unlocked":  "Account unlocked:",
		"admin.flash.staff_disabled":  "Account disabled:",
		"admin.flash.staff_enabled":   "Account enabled again:",
		"admin.col.last_signin":       "Last sign-in",
		"admin.staff.never":           "Never",
		"admin.staff.disabled":        "Disabled",
		"admin.staff.must_change":     "Password change pending",
		"admin.staff.active":          "Active",
		"admin.staff.disable":         "Disable",
		"admin.staff.enable":          "Enable",
		"admin.staff.reset":           "Reset password",
		"admin.staff.add":             "Add staff",
		"admin.staff.new":             "Add a staff account",
		"admin.staff.new_lead":        "Choose the role and the unit. The new account gets a temporary password, shown once; the staff member must change it at the first sign-in.",
		"admin.staff.choose_role":     "— Choose a role —",
		"admin.staff.unit_search":     "Find unit",
		"admin.staff.unit_none":       "No unit within your scope matches.",
		"admin.staff.unit_choose":     "Choose the unit",
		"admin.staff.submit":          "Add account",
		"admin.staff.temporary":       "Temporary password",
		"admin.staff.created":         "Account created for",
		"admin.staff.was_reset":       "Password reset for",
		"admin.staff.temporary_label": "Temporary password:",
		"admin.staff.temporary_once":  "This password is shown only once. Hand it over in person; it must be changed at the next sign-in.",
		"admin.staff.back":            "Back to the staff accounts",
		"role.desk":                   "One-stop desk officer",
		"f.display_name":              "Full name",
		"f.role":                      "Role",
		"f.unit":                      "Unit",
		"f.unit_q":                    "Search by province or commune name",
		"hint.username":               "Lower-case letters without diacritics, digits, dots; for example motcua.badinh.",
		"hint.unit":                   "Type a name (with or without diacritics), then choose from the list.",
		"f.current_password":          "Current password",
		"f.new_password":              "New password",
		"f.new_password_again":        "New password again",
		"hint.new_password":           "At least 10 characters, not containing the username.",
		"password.title":              "Change password",
		"password.forced":             "Your password was set by an administrator. Set a new one before you go on.",
		"password.submit":             "Change password",
	},
}
