package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/fold"
	"github.com/dancu-project/dancu/internal/storage"
)

// TestBirthInBrowser signs a registrar in, finds a seeded woman by her name
// typed without diacritics, registers the birth of her child and checks the
// child's page: a 12-digit PIN, and the child among the household members.
func TestBirthInBrowser(t *testing.T) {
	bin := needChromium(t)
	env := apptest.Start(t, storage.SQLite, 600)

	// A living woman of Hà Nội of child-bearing age, in a household.
	now := time.Now()
	var motherPIN, motherName string
	err := env.App.DB.R.QueryRow(`SELECT pin, full_name FROM persons
		WHERE perm_province = '01' AND status = 'alive' AND sex = 'F' AND household_id <> ''
		AND birth_date >= $1 AND birth_date < $2 ORDER BY pin LIMIT 1`,
		now.AddDate(-42, 0, 0).Format("2006-01-02"), now.AddDate(-20, 0, 0).Format("2006-01-02")).Scan(&motherPIN, &motherName)
	if err != nil {
		t.Fatalf("no seeded mother in Hà Nội: %v", err)
	}
	const childName = "Nguyễn Ngọc Bảo Anh"
	birthDate := now.AddDate(0, 0, -3).Format("02/01/2006")

	b := newBrowser(t, bin)
	base := env.Server.URL

	b.openStaffLogin(base)
	b.shot("login.png")
	b.signInStaff("dangky.hanoi", "staff-name")
	b.shot("home.png")

	b.step("search without diacritics",
		chromedp.SendKeys(chromedp.ID("f-q"), fold.String(motherName)),
		chromedp.Click(chromedp.CSS(`form[action="/persons"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("search-results")),
	)
	b.shot("search.png")
	b.step("open the person",
		chromedp.Click(chromedp.CSS(`#search-results a[href="/persons/`+motherPIN+`"]`)),
		chromedp.WaitVisible(chromedp.ID("pin")),
	)
	if got := b.text("pin"); got != motherPIN {
		t.Fatalf("person page shows PIN %q, want %q", got, motherPIN)
	}

	b.step("fill the birth form",
		chromedp.Click(chromedp.ID("action-birth")),
		chromedp.WaitVisible(chromedp.ID("f-full_name")),
		chromedp.SendKeys(chromedp.ID("f-full_name"), childName),
		chromedp.Click(chromedp.ID("sex-f")),
		chromedp.SendKeys(chromedp.ID("f-birth_date"), "31/02/2026"),
		chromedp.SendKeys(chromedp.ID("f-reason"), "Giấy chứng sinh số 15/2026"),
	)
	if got, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID("f-mother_pin"))); err != nil || got != motherPIN {
		t.Fatalf("mother's PIN prefilled as %q (%v), want %q", got, err, motherPIN)
	}

	// An impossible date: the form comes back with the values typed and the
	// message next to the field.
	b.step("send an impossible date",
		chromedp.Click(chromedp.ID("submit-birth")),
		chromedp.WaitVisible(chromedp.ID("error-summary")),
	)
	if msg := b.text("error-summary"); !strings.Contains(msg, "Ngày không tồn tại trong lịch.") {
		t.Errorf("error summary %q", msg)
	}
	if got, _ := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID("f-full_name"))); got != childName {
		t.Errorf("the name typed came back as %q", got)
	}
	b.shot("birth-errors.png")

	b.step("register the birth",
		chromedp.SetValue(chromedp.ID("f-birth_date"), birthDate),
		chromedp.Click(chromedp.ID("submit-birth")),
		chromedp.WaitVisible(chromedp.ID("flash")),
	)

	childPIN := b.text("pin")
	if !regexp.MustCompile(`^\d{12}$`).MatchString(childPIN) {
		t.Fatalf("child's PIN %q is not 12 digits", childPIN)
	}
	if got := b.text("person-name"); got != childName {
		t.Errorf("child's page is about %q, want %q", got, childName)
	}
	if flash := b.text("flash"); !strings.Contains(flash, "Đã đăng ký khai sinh") || !strings.Contains(flash, childPIN) {
		t.Errorf("flash message %q", flash)
	}
	members := b.text("household-members")
	if !strings.Contains(members, childName) || !strings.Contains(members, childPIN) || !strings.Contains(members, motherName) {
		t.Errorf("household members do not list the child with the mother:\n%s", members)
	}

	b.shot("birth.png")
	t.Logf("screenshot of the child's page: %s", filepath.Join("screenshots", "birth.png"))

	// The same page in English.
	b.step("switch to English",
		chromedp.Click(chromedp.CSS("a.lang")),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"]`)),
	)
	if got := b.text("record-title"); got != "Record in the national population database" {
		t.Errorf("English page title %q", got)
	}
	if got := b.text("pin"); got != childPIN {
		t.Errorf("English page shows PIN %q", got)
	}
	b.shot("birth-en.png")
}
