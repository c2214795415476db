package e2e

import (
	"os"
	"os/exec"
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

// EnvChromium names the variable that overrides the Chromium binary.
const EnvChromium = "DANCU_CHROMIUM"

// chromium finds the browser binary, or says why there is none.
func chromium() (path, missing string) {
	if p := os.Getenv(EnvChromium); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", EnvChromium + "=" + p + " names no file"
		}
		return p, ""
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", ""
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, ""
		}
	}
	return "", "no Chromium found: install chromium (/usr/bin/chromium) or set " + EnvChromium + " to the browser binary"
}

// TestBirthInBrowser signs a registrar in, finds a seeded woman by her name
// typed without diacritics, registers the birth of her child and checks the
// child's page: a 12-digit PIN, and the child among the household members.
func TestBirthInBrowser(t *testing.T) {
	bin, missing := chromium()
	if bin == "" {
		t.Skip(missing)
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
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

	bctx := newBrowser(t, bin)

	base := env.Server.URL
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	if err := os.MkdirAll("screenshots", 0o755); err != nil {
		t.Fatal(err)
	}
	// shot saves a full-page screenshot under screenshots/ (gitignored).
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join("screenshots", name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel chromedp.ID) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("read #%s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}

	step("open the sign-in page",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("f-username")),
	)
	shot("login.png")
	step("sign in",
		chromedp.SendKeys(chromedp.ID("f-username"), "dangky.hanoi"),
		chromedp.SendKeys(chromedp.ID("f-password"), apptest.Password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("staff-name")),
	)
	shot("home.png")

	step("search without diacritics",
		chromedp.SendKeys(chromedp.ID("f-q"), fold.String(motherName)),
		chromedp.Click(chromedp.CSS(`form[action="/persons"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("search-results")),
	)
	shot("search.png")
	step("open the person",
		chromedp.Click(chromedp.CSS(`#search-results a[href="/persons/`+motherPIN+`"]`)),
		chromedp.WaitVisible(chromedp.ID("pin")),
	)
	if got := text("pin"); got != motherPIN {
		t.Fatalf("person page shows PIN %q, want %q", got, motherPIN)
	}

	step("fill the birth form",
		chromedp.Click(chromedp.ID("action-birth")),
		chromedp.WaitVisible(chromedp.ID("f-full_name")),
		chromedp.SendKeys(chromedp.ID("f-full_name"), childName),
		chromedp.Click(chromedp.ID("sex-f")),
		chromedp.SendKeys(chromedp.ID("f-birth_date"), "31/02/2026"),
		chromedp.SendKeys(chromedp.ID("f-reason"), "Giấy chứng sinh số 15/2026"),
	)
	if got, err := chromedp.Run(bctx, chromedp.Value(chromedp.ID("f-mother_pin"))); err != nil || got != motherPIN {
		t.Fatalf("mother's PIN prefilled as %q (%v), want %q", got, err, motherPIN)
	}

	// An impossible date: the form comes back with the values typed and the
	// message next to the field.
	step("send an impossible date",
		chromedp.Click(chromedp.ID("submit-birth")),
		chromedp.WaitVisible(chromedp.ID("error-summary")),
	)
	if msg := text("error-summary"); !strings.Contains(msg, "Ngày không tồn tại trong lịch.") {
		t.Errorf("error summary %q", msg)
	}
	if got, _ := chromedp.Run(bctx, chromedp.Value(chromedp.ID("f-full_name"))); got != childName {
		t.Errorf("the name typed came back as %q", got)
	}
	shot("birth-errors.png")

	step("register the birth",
		chromedp.SetValue(chromedp.ID("f-birth_date"), birthDate),
		chromedp.Click(chromedp.ID("submit-birth")),
		chromedp.WaitVisible(chromedp.ID("flash")),
	)

	childPIN := text("pin")
	if !regexp.MustCompile(`^\d{12}$`).MatchString(childPIN) {
		t.Fatalf("child's PIN %q is not 12 digits", childPIN)
	}
	if got := text("person-name"); got != childName {
		t.Errorf("child's page is about %q, want %q", got, childName)
	}
	if flash := text("flash"); !strings.Contains(flash, "Đã đăng ký khai sinh") || !strings.Contains(flash, childPIN) {
		t.Errorf("flash message %q", flash)
	}
	members := text("household-members")
	if !strings.Contains(members, childName) || !strings.Contains(members, childPIN) || !strings.Contains(members, motherName) {
		t.Errorf("household members do not list the child with the mother:\n%s", members)
	}

	shot("birth.png")
	t.Logf("screenshot of the child's page: %s", filepath.Join("screenshots", "birth.png"))

	// The same page in English.
	step("switch to English",
		chromedp.Click(chromedp.CSS("a.lang")),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"]`)),
	)
	if got := text("record-title"); got != "Record in the national population database" {
		t.Errorf("English page title %q", got)
	}
	if got := text("pin"); got != childPIN {
		t.Errorf("English page shows PIN %q", got)
	}
	shot("birth-en.png")
}
