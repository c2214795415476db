package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/storage"
)

// TestStaffAdminInBrowser: Hà Nội's province administrator (quantri.hanoi)
// adds a desk officer for Phường Ba Đình on the staff page, finding the
// commune by typing its name without diacritics in the unit picker; the
// officer signs in in another browser with the temporary password, is
// made to change it before anything else, and then searches the register.
func TestStaffAdminInBrowser(t *testing.T) {
	bin := needChromium(t)
	env := apptest.Start(t, storage.SQLite, 60)
	base := env.Server.URL

	admin := newBrowser(t, bin)
	admin.openStaffLogin(base)
	admin.signInStaff("quantri.hanoi", "nav-admin")
	temp := createDeskOfficerInBrowser(t, admin, base, "motcua.badinh", "Trần Thị Bình", "ba dinh", "00004")
	admin.shot("staffadmin-temporary.png")

	officer := newBrowser(t, bin)
	officer.openStaffLogin(base)
	officer.step("the officer signs in with the temporary password",
		chromedp.SendKeys(chromedp.ID("f-username"), "motcua.badinh"),
		chromedp.SendKeys(chromedp.ID("f-password"), temp),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("password-forced")),
	)
	officer.shot("staffadmin-forced-change.png")
	officer.step("other pages lead back to the change",
		chromedp.Navigate(base+"/persons?q=nguyen"),
		chromedp.WaitVisible(chromedp.ID("password-forced")),
	)
	officer.step("the officer sets a new password",
		chromedp.SendKeys(chromedp.ID("f-current_password"), temp),
		chromedp.SendKeys(chromedp.ID("f-new_password"), "mật khẩu của Bình ở Ba Đình"),
		chromedp.SendKeys(chromedp.ID("f-new_password_again"), "mật khẩu của Bình ở Ba Đình"),
		chromedp.Click(chromedp.ID("submit-password")),
		chromedp.WaitNotPresent(chromedp.ID("password-form")),
	)
	officer.step("the officer works: a search of the register",
		chromedp.Navigate(base+"/persons?q=nguyen"),
		chromedp.WaitVisible(chromedp.ID("main")),
	)
	if loc := officer.read(chromedp.Location()); !strings.Contains(loc, "/persons") {
		t.Fatalf("after the change the officer is at %s", loc)
	}
	if body := officer.read(chromedp.Text(chromedp.CSS("body"))); strings.Contains(body, "Đổi mật khẩu") && strings.Contains(body, "quản trị viên đặt") {
		t.Error("still asked to change the password")
	}
	officer.shot("staffadmin-officer-search.png")

	admin.step("the list shows the officer's sign-in",
		chromedp.Navigate(base+"/admin/staff"),
		chromedp.WaitVisible(chromedp.CSS(`[id="staff-motcua.badinh"]`)),
	)
	if last := admin.read(chromedp.Text(chromedp.CSS(`[id="staff-motcua.badinh"] .last-signin`))); last == "Chưa đăng nhập" || last == "" {
		t.Errorf("last sign-in %q", last)
	}
}

// createDeskOfficerInBrowser adds a desk officer through the staff
// administration pages in b, whose user is a signed-in administrator (a
// province administrator for a unit of its province): it opens Quản trị →
// Tài khoản cán bộ → Thêm cán bộ, fills the username and name, chooses the
// desk role, types search (a unit name, diacritics optional) in the unit
// picker and checks that the unit chosen is wantUnit, submits, and returns
// the temporary password the page shows once.
func createDeskOfficerInBrowser(t *testing.T, b *browser, base, username, name, search, wantUnit string) string {
	t.Helper()
	b.step("open the add-staff form from Quản trị",
		chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible(chromedp.ID("link-staff")),
		chromedp.Click(chromedp.ID("link-staff")),
		chromedp.WaitVisible(chromedp.ID("new-staff")),
		chromedp.Click(chromedp.ID("new-staff")),
		chromedp.WaitVisible(chromedp.ID("f-unit_q")),
	)
	b.step("fill the officer",
		chromedp.SendKeys(chromedp.ID("f-username"), username),
		chromedp.SendKeys(chromedp.ID("f-display_name"), name),
		chromedp.SetValue(chromedp.ID("f-role"), "desk"),
		chromedp.SendKeys(chromedp.ID("f-unit_q"), search),
	)
	// The picker's script filters as the name is typed; with more than one
	// unit left, the first shown one matching is chosen by hand.
	unit := b.read(chromedp.Evaluate[string](`(function(){var s=document.getElementById("f-unit");
		var shown=Array.prototype.filter.call(s.options,function(o){return !o.hidden});
		if(shown.length===0){return ""}
		if(s.value===""||s.selectedOptions[0].hidden){shown[0].selected=true}
		return s.value})()`))
	if unit != wantUnit {
		b.shot("staffadmin-picker-" + username + ".png")
		t.Fatalf("the picker chose unit %q for %q, want %q", unit, search, wantUnit)
	}
	b.shot("staffadmin-picker.png")
	// Leaving the search box first, as a user's Tab would: headless
	// Chromium drops a mouse click made while it still has the focus.
	b.step("add the officer",
		chromedp.Blur(chromedp.ID("f-unit_q")),
		chromedp.Click(chromedp.ID("submit-staff")),
		chromedp.WaitVisible(chromedp.ID("temporary-password")),
	)
	if got := b.text("temporary-username"); got != username {
		t.Fatalf("temporary password page for %q", got)
	}
	return b.text("temporary-password")
}
