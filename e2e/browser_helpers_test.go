package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dancu-project/dancu/internal/app/apptest"
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

// needChromium skips a browser test when there is no browser or in -short
// mode, before the test pays for starting the platform; otherwise it
// returns the browser binary.
func needChromium(t *testing.T) string {
	t.Helper()
	bin, missing := chromium()
	if bin == "" {
		t.Skip(missing)
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	return bin
}

// browser is one headless Chromium driven by one test; every method fails
// the test on the first action that does not work.
type browser struct {
	t   *testing.T
	ctx context.Context
}

// newBrowser starts headless Chromium for one test with a fresh profile and
// the flags this network-less machine needs, bounded to 60 seconds; it stops
// when the test ends. Screenshots go under screenshots/ (gitignored).
func newBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	return longBrowser(t, bin, 60*time.Second)
}

// longBrowser is newBrowser with another bound, for a user whose whole
// journey is one browser's life (the citizen's online filing has taken
// 45–60 seconds on the loaded 2-core machine).
func longBrowser(t *testing.T, bin string, limit time.Duration) *browser {
	t.Helper()
	if err := os.MkdirAll("screenshots", 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// A Vietnamese user's browser: the pages follow Accept-Language
		// when no language was chosen (web/page.Lang), and headless
		// Chromium would otherwise ask for en-US.
		chromedp.Flag("lang", "vi-VN"),
		chromedp.Flag("accept-lang", "vi-VN,vi"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 768),
	)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancel()
	})
	return &browser{t: t, ctx: bctx}
}

// step runs the actions of one user step, named for the failure message.
func (b *browser) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// shot saves a full-page screenshot as screenshots/name.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join("screenshots", name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// text is the trimmed text of the element with the id.
func (b *browser) text(id chromedp.ID) string {
	b.t.Helper()
	s, err := b.settled(chromedp.Text(id))
	if err != nil {
		b.t.Fatalf("read #%s: %v", id, err)
	}
	return strings.TrimSpace(s)
}

// read is the trimmed string an action returns (a location, a body text).
func (b *browser) read(a chromedp.Action[string]) string {
	b.t.Helper()
	s, err := b.settled(a)
	if err != nil {
		b.t.Fatalf("read text: %v", err)
	}
	return strings.TrimSpace(s)
}

// settled runs a read, again when the node it found went stale under it:
// right after a navigation Chromium can renumber the document's nodes
// between the query and the read ("No node with given id found"), which is
// no failure of the page.
func (b *browser) settled(a chromedp.Action[string]) (string, error) {
	var s string
	var err error
	for range 5 {
		if s, err = chromedp.Run(b.ctx, a); err == nil || !strings.Contains(err.Error(), "No node with given id") {
			return s, err
		}
		time.Sleep(200 * time.Millisecond)
	}
	return s, err
}

// openStaffLogin opens the staff sign-in page of the platform at base.
func (b *browser) openStaffLogin(base string) {
	b.t.Helper()
	b.step("open the staff sign-in page",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("f-username")),
	)
}

// signInStaff fills the open staff sign-in page with a seeded staff
// account and waits for the element with the id until, which only a
// signed-in page of that staff member shows.
func (b *browser) signInStaff(username string, until chromedp.ID) {
	b.t.Helper()
	b.step("sign in as "+username,
		chromedp.SendKeys(chromedp.ID("f-username"), username),
		chromedp.SendKeys(chromedp.ID("f-password"), apptest.Password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(until),
	)
}
