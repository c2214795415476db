package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/document"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// leasePDF stands for the scanned lease the one-stop desk digitized for
// the citizen at an earlier dossier.
var leasePDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// TestServicesOnline is issue 17's end-to-end test, in headless Chromium
// on SQLite and PostgreSQL: a level-2 citizen signs in at the portal,
// follows its link to the online services, opens the temporary-residence
// procedure and files it — the form pre-filled from the register (those
// fields not editable), the declared fields typed, the lawful-dwelling
// proof picked from the papers the desk digitized earlier — reviews and
// signs it, pays the fee on the simulated gateway's page and comes back to
// the receipt (code, check code, QR, due date dd/mm/yyyy); the commune's
// officer starts, approves and returns it through the desk API; the
// citizen downloads the signed result, which pdfsig finds valid; and a
// second browser without any session opens the result's QR address and
// reads that it is genuine. Screenshots go to docs/screenshots.
func TestServicesOnline(t *testing.T) {
	bin := needChromium(t)
	if _, err := exec.LookPath("pdfsig"); err != nil {
		t.Skip("pdfsig (poppler-utils) is not installed")
	}
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { servicesOnline(t, bin, d) })
	}
}

func servicesOnline(t *testing.T, bin string, d storage.Dialect) {
	env := apptest.Start(t, d, 60)
	ctx := context.Background()
	base := env.Server.URL
	c := newCitizen(t, env, 0, true)
	lease, err := env.App.Documents.Store(ctx, document.Document{OwnerPIN: pin.PIN(c.pin), Kind: "digitized:lease", Title: "Hợp đồng thuê nhà (bản số hóa)",
		Body: leasePDF, MediaType: "application/pdf", CreatedBy: "staff:dangky.badinh"})
	if err != nil {
		t.Fatal(err)
	}
	shots := d == storage.SQLite // one set of screenshots

	b := longBrowser(t, bin, 3*time.Minute)
	b.step("sign in at the citizen portal at level 2",
		chromedp.Navigate(base+"/citizen/login"),
		chromedp.WaitVisible(chromedp.ID("f-pin")),
		chromedp.SendKeys(chromedp.ID("f-pin"), c.pin),
		chromedp.SendKeys(chromedp.ID("f-password"), citizenPassword),
		chromedp.SendKeys(chromedp.ID("f-totp"), c.nextCode(t)),
		chromedp.Click(chromedp.ID("submit-login")),
		chromedp.WaitVisible(chromedp.ID("nav-me")),
	)
	if loc := b.read(chromedp.Location()); !strings.HasSuffix(loc, "/citizen/me") {
		t.Fatalf("signed in to %s", loc)
	}
	b.step("open the online services from the portal and the procedure",
		chromedp.Click(chromedp.ID("nav-services")),
		chromedp.WaitVisible(chromedp.ID("procedures")),
		chromedp.Click(chromedp.CSS(`a[href="/procedures/CT.TAT.01"]`)),
		chromedp.WaitVisible(chromedp.ID("file-online")),
	)
	if facts := b.read(chromedp.Text(chromedp.ID("procedure-facts"))); !strings.Contains(facts, "7.000 đồng") || !strings.Contains(facts, "3 ngày làm việc") || !strings.Contains(facts, "Mức 2") {
		t.Errorf("procedure facts: %s", facts)
	}
	b.step("file online",
		chromedp.Click(chromedp.ID("file-online")),
		chromedp.WaitVisible(chromedp.ID("file-form")),
	)
	if got := b.text("locked-full_name"); got != c.name {
		t.Errorf("pre-filled name %q, want %q", got, c.name)
	}
	if got := b.text("locked-birth_date"); got != c.birth[8:10]+"/"+c.birth[5:7]+"/"+c.birth[:4] {
		t.Errorf("pre-filled birth date %q (register %s)", got, c.birth)
	}
	if n := b.read(chromedp.Evaluate[string](`String(document.querySelectorAll('[name="f_full_name"],[name="f_pin"],[name="f_birth_date"]').length)`)); n != "0" {
		t.Errorf("%s inputs for the register's fields", n)
	}
	today := civildate.Today(time.Now()) // Vietnam's day, not UTC's
	from, to := today.String(), civildate.Of(today.Time().AddDate(1, 0, 0)).String()
	b.step("declare and pick the digitized lease",
		chromedp.SetValue(chromedp.ID("f-temp_commune"), "00004"),
		chromedp.SendKeys(chromedp.ID("f-temp_address"), "Số 12 Phố Huế"),
		chromedp.SetValue(chromedp.ID("f-from"), from),
		chromedp.SetValue(chromedp.ID("f-to"), to),
		chromedp.SendKeys(chromedp.ID("f-phone"), "0912345678"),
		chromedp.SetValue(chromedp.ID("pick-dwelling_proof"), lease.ID),
	)
	if shots {
		b.saveDoc("services-01-form-prefilled.png")
	}
	b.step("review",
		jsClick("file-review"),
		chromedp.WaitVisible(chromedp.CSS("#sign-form, #form-errors")),
	)
	if errs := b.read(chromedp.Evaluate[string](`(document.getElementById("form-errors") || {}).innerText || ""`)); errs != "" {
		t.Fatalf("the form was refused: %s", errs)
	}
	review := b.read(chromedp.Text(chromedp.ID("review")))
	for _, w := range []string{c.name, "Phường Ba Đình", "Số 12 Phố Huế", "Hợp đồng thuê nhà (bản số hóa)", "chọn trong kho dữ liệu", "7.000 đồng"} {
		if !strings.Contains(review, w) {
			t.Errorf("review lacks %q:\n%s", w, review)
		}
	}
	if shots {
		b.saveDoc("services-02-review-sign.png")
	}
	b.step("sign and go to the gateway",
		jsClick("pledge"),
		jsClick("sign"),
		chromedp.WaitVisible(chromedp.ID("pay")),
	)
	if loc := b.read(chromedp.Location()); !strings.Contains(loc, "/sim/pay/") {
		t.Fatalf("not on the gateway: %s", loc)
	}
	b.step("pay on the simulated gateway and come back to the receipt",
		chromedp.Click(chromedp.ID("pay")),
		chromedp.WaitVisible(chromedp.ID("d-code")),
	)
	code := b.text("d-code")
	check := b.text("d-check")
	// The gateway's signed callback moves the dossier to received.
	deadline := time.Now().Add(15 * time.Second)
	for b.read(chromedp.Evaluate[string](`document.getElementById("d-status").dataset.status`)) != "received" {
		if time.Now().After(deadline) {
			t.Fatalf("the dossier never became received: %s", b.text("d-status"))
		}
		time.Sleep(200 * time.Millisecond)
		b.step("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("d-code")))
	}
	if st := b.text("d-status"); st != "Đã tiếp nhận" {
		t.Errorf("status %q", st)
	}
	if due := b.text("d-due"); !regexp.MustCompile(`^\d{2}/\d{2}/\d{4}$`).MatchString(due) {
		t.Errorf("due date %q is not dd/mm/yyyy", due)
	}
	if w := b.read(chromedp.Evaluate[string](`String(document.getElementById("d-qr-img").naturalWidth)`)); w == "0" || w == "" {
		t.Errorf("the receipt's QR did not load (width %s)", w)
	}
	if unit := b.text("d-unit"); unit != "Phường Ba Đình" {
		t.Errorf("receiving unit %q", unit)
	}
	if shots {
		b.saveDoc("services-03-receipt-qr.png")
	}

	// The commune's officer, through the desk API with a staff session.
	var sess struct{ Token string }
	st, raw := auditHTTP(t, "POST", base+"/api/v1/sessions", "", map[string]string{"username": "dangky.badinh", "password": apptest.Password})
	if st != http.StatusCreated || json.Unmarshal([]byte(raw), &sess) != nil {
		t.Fatalf("officer sign-in: %d %s", st, raw)
	}
	for _, act := range []string{"start", "approve", "return"} {
		if st, raw := auditHTTP(t, "POST", base+"/api/v1/desk/dossiers/"+code+"/"+act, sess.Token, nil); st != http.StatusOK {
			t.Fatalf("desk %s: %d %s", act, st, raw)
		}
	}

	b.step("see the result",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("result-download")),
	)
	if st := b.text("d-status"); st != "Đã trả kết quả" {
		t.Errorf("status after return %q", st)
	}
	// The citizen's browser downloads the result with its own session.
	pdf64 := b.read(chromedp.Evaluate[string](`fetch(document.getElementById("result-download").href).then(r => r.arrayBuffer()).then(b => {
		let s = ""; new Uint8Array(b).forEach(x => s += String.fromCharCode(x)); return btoa(s); })`, chromedp.EvalAwaitPromise))
	pdf, err := base64.StdEncoding.DecodeString(pdf64)
	if err != nil || !strings.HasPrefix(string(pdf), "%PDF") {
		t.Fatalf("the download is not a PDF (%v)", err)
	}
	file := filepath.Join(t.TempDir(), "result.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("pdfsig", file).CombinedOutput()
	if !strings.Contains(string(out), "Signature is Valid") || !strings.Contains(string(out), "Total document signed") {
		t.Errorf("pdfsig does not find a valid signature over the whole document:\n%s", out)
	}

	// The result's QR names its public verification address.
	var resultID string
	if err := env.App.DB.R.QueryRowContext(ctx, `SELECT result_document FROM dossiers WHERE code = $1`, code).Scan(&resultID); err != nil {
		t.Fatal(err)
	}
	res, err := env.App.Documents.Get(ctx, resultID)
	if err != nil {
		t.Fatal(err)
	}
	verify := regexp.MustCompile(`/verify/[A-Za-z0-9]+\?c=[A-Za-z0-9]+`).FindString(res.Layout)
	if verify == "" {
		t.Fatal("no verification address in the result")
	}
	anyone := newBrowser(t, bin)
	anyone.step("a stranger opens the result's QR address",
		chromedp.Navigate(base+verify),
		chromedp.WaitVisible(chromedp.ID("genuine")),
	)
	facts := anyone.read(chromedp.Text(chromedp.ID("facts")))
	// The issuer is named ("Công an phường …"), never by its unit code.
	if strings.Contains(facts, c.pin) || strings.Contains(facts, c.name) || !strings.Contains(facts, "Công an ") || strings.Contains(facts, "cấp xã") || strings.Contains(facts, ".00.H") {
		t.Errorf("verification shows:\n%s", facts)
	}
	if shots {
		anyone.saveDoc("services-04-verify-genuine.png")
	}
	// The public tracking page, by code and check code, shows no person.
	anyone.step("track the dossier",
		chromedp.Navigate(base+"/track?code="+code+"&check="+check),
		chromedp.WaitVisible(chromedp.ID("track-status")),
	)
	if st := anyone.text("track-status"); st != "Đã trả kết quả" {
		t.Errorf("tracking status %q", st)
	}
	if logs := env.Logs.String(); strings.Contains(logs, c.pin) || strings.Contains(logs, c.name) {
		t.Error("the citizen's PIN or name is in the log")
	}
}

// saveDoc saves a full-page screenshot into docs/screenshots for the note.
func (b *browser) saveDoc(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", "screenshots", name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// jsClick clicks the element with the id as the page's own click would:
// after a full-page screenshot (captured beyond the viewport) Chromium's
// layout for pointer events can be stale, and a pointer click misses.
func jsClick(id string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](`(function(){ document.getElementById(`+strconv.Quote(id)+`).click(); return true; })()`)(ctx, t)
		return chromedp.Void{}, err
	}
}
