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
	Locked  bool // locked until an administrator unlocks it
	Blocked bool // blocked for a while after failed sign-ins
}

// staffList shows every staff account and whether repeated failed sign-ins
// have blocked or locked it, with the unlock action.
func (u *UI) staffList(w http.ResponseWriter, r *http.Request, s staff.Session) {
	ctx := r.Context()
	accounts, err := u.staff.List(ctx)
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
		rows = append(rows, staffRow{A: a, Unit: u.unitName(v.Lang, a.Unit), Role: u.tr(v.Lang, "role."+string(a.Role)), Locked: st.Locked, Blocked: !st.Locked && st.Refused(now)})
	}
	if r.URL.Query().Get("done") == "unlocked" {
		v.Flash = u.tr(v.Lang, "admin.flash.staff_unlocked") + " " + r.URL.Query().Get("username")
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
		"admin.intro.staff":          "Tài khoản cán bộ; mở khoá tài khoản bị khoá do đăng nhập sai nhiều lần.",
		"admin.staff.title":          "Tài khoản cán bộ",
		"admin.staff.lead":           "Sau nhiều lần đăng nhập sai, tài khoản bị tạm chặn rồi bị khoá. Tài khoản bị khoá chỉ đăng nhập lại được khi quản trị viên mở khoá; việc mở khoá được ghi nhật ký.",
		"admin.staff.none":           "Chưa có tài khoản nào.",
		"admin.col.username":         "Tên đăng nhập",
		"admin.col.role":             "Vai trò",
		"admin.col.unit":             "Địa bàn",
		"admin.col.signin":           "Đăng nhập",
		"admin.staff.locked":         "Bị khoá",
		"admin.staff.blocked":        "Tạm chặn",
		"admin.staff.ok":             "Bình thường",
		"admin.staff.unlock":         "Mở khoá",
		"admin.flash.staff_unlocked": "Đã mở khoá tài khoản",
	},
	page.EN: {
		"admin.intro.staff":          "Staff accounts; unlock an account locked after repeated failed sign-ins.",
		"admin.staff.title":          "Staff accounts",
		"admin.staff.lead":           "After repeated failed sign-ins an account is blocked for a while, then locked. A locked account signs in again only once an administrator unlocks it; unlocking is logged.",
		"admin.staff.none":           "No account yet.",
		"admin.col.username":         "Username",
		"admin.col.role":             "Role",
		"admin.col.unit":             "Unit",
		"admin.col.signin":           "Sign-in",
		"admin.staff.locked":         "Locked",
		"admin.staff.blocked":        "Blocked for now",
		"admin.staff.ok":             "Normal",
		"admin.staff.unlock":         "Unlock",
		"admin.flash.staff_unlocked": "Account unlocked:",
	},
}
