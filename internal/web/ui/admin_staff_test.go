package ui_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/storage"
)

// TestStaffLockout: wrong passwords on the sign-in page are refused with
// the Vietnamese message, then blocked (429), then the account is locked
// (403) whatever is typed; registrars cannot lift it; an administrator
// sees it on /admin/staff and unlocks it there (audited), and the right
// password works again.
func TestStaffLockout(t *testing.T) {
	env := apptest.Start(t, storage.SQLite, 0)
	a := &adminEnv{t: t, env: env, admin: signInStaff(t, env, "admin")}
	jar, _ := cookiejar.New(nil)
	victim := &staffClient{t: t, base: env.Server.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	attempt := func(password string) staffPage {
		return victim.do(http.MethodPost, "/login", url.Values{"csrf": {victim.token(victim.do(http.MethodGet, "/login", nil))},
			"username": {"dangky.hanoi"}, "password": {password}})
	}
	for n := 1; n <= 20; n++ {
		p := attempt("sai mật khẩu " + strconv.Itoa(n))
		switch {
		case n < 5:
			if p.status != http.StatusUnauthorized {
				t.Fatalf("wrong password %d: %d", n, p.status)
			}
			wantText(t, "wrong password", p, "Tên đăng nhập hoặc mật khẩu không đúng.")
		case n < 20:
			if p.status != http.StatusTooManyRequests {
				t.Fatalf("wrong password %d: %d", n, p.status)
			}
			wantText(t, "blocked", p, "Bạn đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.")
		default:
			if p.status != http.StatusForbidden {
				t.Fatalf("wrong password %d: %d", n, p.status)
			}
		}
		if strings.Contains(p.body, "sai mật khẩu") {
			t.Fatal("the password typed is sent back")
		}
	}
	p := attempt(apptest.Password)
	if p.status != http.StatusForbidden {
		t.Fatalf("right password on a locked account: %d", p.status)
	}
	wantText(t, "locked", p, "Tài khoản đã bị khoá do đăng nhập sai quá nhiều lần. Vui lòng liên hệ quản trị viên để mở khoá.")

	// A registrar may neither see the page nor unlock.
	other := signInStaff(t, env, "dangky.badinh")
	if p := other.do(http.MethodGet, "/admin/staff", nil); p.status != http.StatusForbidden {
		t.Errorf("registrar GET /admin/staff: %d", p.status)
	}
	tok := other.token(other.do(http.MethodGet, "/", nil))
	if p := other.do(http.MethodPost, "/admin/staff/dangky.hanoi/unlock", url.Values{"csrf": {tok}}); p.status != http.StatusForbidden {
		t.Errorf("registrar unlock: %d", p.status)
	}
	// Without the CSRF token nothing happens either.
	if p := a.admin.do(http.MethodPost, "/admin/staff/dangky.hanoi/unlock", url.Values{}); p.status != http.StatusForbidden {
		t.Errorf("unlock without CSRF: %d", p.status)
	}
	if p := attempt(apptest.Password); p.status != http.StatusForbidden {
		t.Fatalf("refused unlocks opened the account: %d", p.status)
	}

	page := a.admin.do(http.MethodGet, "/admin/staff", nil)
	if page.status != http.StatusOK {
		t.Fatalf("/admin/staff: %d", page.status)
	}
	row := page.body[strings.Index(page.body, `id="staff-dangky.hanoi"`):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, "Bị khoá") || !strings.Contains(row, `action="/admin/staff/dangky.hanoi/unlock"`) {
		t.Fatalf("the locked account's row: %s", row)
	}
	if strings.Contains(page.body, `action="/admin/staff/dangky.badinh/unlock"`) {
		t.Error("an account that is not locked offers an unlock")
	}
	done := a.form("/admin/staff/dangky.hanoi/unlock", url.Values{})
	if done.status != http.StatusSeeOther || !strings.HasPrefix(done.location, "/admin/staff?done=unlocked") {
		t.Fatalf("unlock: %d %q", done.status, done.location)
	}
	wantText(t, "after the unlock", a.admin.do(http.MethodGet, done.location, nil), "Đã mở khoá tài khoản dangky.hanoi", "Bình thường")
	if n := a.audited("staff.unlocked", "staff:dangky.hanoi"); n != 1 {
		t.Errorf("%d audit entries of the unlock", n)
	}
	if p := attempt(apptest.Password); p.status != http.StatusSeeOther {
		t.Fatalf("sign-in after the unlock: %d", p.status)
	}
}
