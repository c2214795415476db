package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/card/qr"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// deskScan stands for the scanned birth certificate (giấy chứng sinh) the
// citizen hands over at the desk.
var deskScan = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// TestDeskInBrowser is the one-stop desk's end-to-end test, in headless
// Chromium on SQLite and PostgreSQL: the registrar of Phường Ba Đình signs
// in, follows the staff navigation's link to the desk, receives a paper
// birth registration for a citizen identified by the card's QR text (the
// form pre-filled from the register, the declared fields typed), uploads
// the scan of the birth certificate — signed, and in the citizen's
// document store for reuse — assigns the dossier to the commune's desk
// officer, adds an internal comment, starts, approves and returns it, and
// prints the receipt. Screenshots go to docs/screenshots/desk-*.png.
func TestDeskInBrowser(t *testing.T) {
	bin := needChromium(t)
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { deskInBrowser(t, bin, d) })
	}
}

func deskInBrowser(t *testing.T, bin string, d storage.Dialect) {
	env := apptest.Start(t, d, 60)
	ctx := context.Background()
	base := env.Server.URL
	if err := env.App.Staff.Create(ctx, staff.Account{Username: "motcua.badinh", DisplayName: "Cán bộ một cửa Ba Đình", Role: actor.Desk, Unit: "00004", Province: "01"}, apptest.Password); err != nil {
		t.Fatal(err)
	}
	var p string
	if err := env.App.DB.R.QueryRowContext(ctx, `SELECT pin FROM persons WHERE status = 'alive' AND birth_date < '2000' AND length(birth_date) = 10 ORDER BY pin LIMIT 1 OFFSET 3`).Scan(&p); err != nil {
		t.Fatal(err)
	}
	person, err := env.App.Registry.Get(ctx, actor.SystemActor("test"), p, "test")
	if err != nil {
		t.Fatal(err)
	}
	qrText, err := qr.Format(qr.Payload{PIN: pin.PIN(p), Name: person.FullName, Birth: person.BirthDate, Sex: person.Sex[0], Address: "Phường Ba Đình, Thành phố Hà Nội",
		Issue: civildate.Of(time.Now().AddDate(-2, 0, 0))})
	if err != nil {
		t.Fatal(err)
	}
	scan := filepath.Join(t.TempDir(), "giay-chung-sinh.pdf")
	if err := os.WriteFile(scan, deskScan, 0o600); err != nil {
		t.Fatal(err)
	}
	shots := d == storage.SQLite // one set of screenshots
	b := newBrowser(t, bin)
	shot := func(name string) {
		if shots {
			b.deskShot(name)
		}
	}

	b.openStaffLogin(base)
	b.signInStaff("dangky.badinh", "nav-dossiers")
	b.step("open the desk from the staff navigation",
		deskClick("nav-dossiers"),
		chromedp.WaitVisible(chromedp.ID("queue")),
		deskClick("new-intake"),
		chromedp.WaitVisible(chromedp.ID("lookup-form")),
	)
	b.step("identify the citizen by the card's QR",
		chromedp.SetValue(chromedp.ID("f-procedure"), "HT.KS.01"),
		chromedp.SetValue(chromedp.ID("f-qr"), qrText),
	)
	shot("desk-01-identify.png")
	b.step("look the citizen up",
		deskClick("lookup-submit"),
		chromedp.WaitVisible(chromedp.ID("intake-form")),
	)
	if got := b.text("citizen-name"); got != person.FullName {
		t.Fatalf("identified %q, want %q", got, person.FullName)
	}
	if got := b.read(chromedp.Value(chromedp.ID("f-declarant_pin"))); got != p {
		t.Fatalf("pre-filled PIN %q", got)
	}
	b.step("type what the citizen declared on paper",
		chromedp.SetValue(chromedp.ID("f-relation"), "father"),
		chromedp.SendKeys(chromedp.ID("f-child_name"), "Nguyễn Gia Bảo"),
		chromedp.SetValue(chromedp.ID("f-child_birth_date"), civildate.Of(time.Now().AddDate(0, 0, -7)).String()),
		chromedp.SetValue(chromedp.ID("f-child_sex"), "M"),
		chromedp.SendKeys(chromedp.ID("f-birthplace"), "Bệnh viện Phụ sản Hà Nội"),
		chromedp.SendKeys(chromedp.ID("f-ethnicity"), "Kinh"),
	)
	shot("desk-02-intake-form.png")
	b.step("receive the dossier",
		deskClick("intake-submit"),
		chromedp.WaitVisible(chromedp.ID("facts")),
	)
	if ch := b.text("channel"); ch != "Trực tiếp tại bộ phận một cửa" {
		t.Errorf("channel %q", ch)
	}
	if by := b.text("received-by"); by != "Cán bộ đăng ký phường Ba Đình" {
		t.Errorf("received by %q", by)
	}
	loc := b.read(chromedp.Location())
	code := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], base+"/desk/dossiers/")

	b.step("digitize the birth certificate",
		chromedp.SetValue(chromedp.ID("f-document"), "birth_certificate"),
		chromedp.SetUploadFiles(chromedp.ID("f-file"), []string{scan}),
		deskClick("digitize-submit"),
		chromedp.WaitVisible(chromedp.ID("docs")),
	)
	if docs := b.text("docs"); !strings.Contains(docs, "Giấy chứng sinh") || !strings.Contains(docs, "Đã ký số, toàn vẹn") {
		t.Errorf("documents %q", docs)
	}
	shot("desk-03-digitized.png")
	stored, err := env.App.Documents.ListByOwner(ctx, pin.PIN(p))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, doc := range stored {
		found = found || (doc.Kind == "scan:birth_certificate" && doc.MediaType == "application/pdf")
	}
	if !found {
		t.Fatalf("the scan is not in the citizen's store: %+v", stored)
	}

	b.step("assign the dossier to the desk officer",
		chromedp.SetValue(chromedp.ID("f-officer"), "staff:motcua.badinh"),
		deskClick("assign-submit"),
	)
	b.waitLocation("done=assign")
	if a := b.text("assignee"); a != "Cán bộ một cửa Ba Đình" {
		t.Errorf("assignee %q", a)
	}
	b.step("add an internal comment",
		chromedp.SendKeys(chromedp.ID("f-body"), "Đã đối chiếu bản chính giấy chứng sinh."),
		deskClick("comment-submit"),
	)
	b.waitLocation("done=comment")
	if c := b.text("comments"); !strings.Contains(c, "Đã đối chiếu bản chính giấy chứng sinh.") || !strings.Contains(c, "Cán bộ đăng ký phường Ba Đình") {
		t.Errorf("comments %q", c)
	}
	for _, step := range []string{"start", "approve", "return"} {
		b.step(step, deskClick("do-"+step))
		b.waitLocation("done=" + step)
	}
	if st := b.text("status"); st != "Đã trả kết quả" {
		t.Errorf("status %q", st)
	}
	shot("desk-04-returned.png")
	b.step("print the receipt",
		deskClick("receipt-link"),
		chromedp.WaitVisible(chromedp.ID("receipt")),
	)
	if got := b.text("receipt-code"); got != code {
		t.Errorf("receipt of %q, dossier %q", got, code)
	}
	if due := b.text("receipt-due"); len(due) != 10 || due[2] != '/' || due[5] != '/' {
		t.Errorf("due date %q is not dd/mm/yyyy", due)
	}
	shot("desk-05-receipt.png")
	b.step("the queue, in English",
		chromedp.Navigate(base+"/desk/dossiers?lang=en"),
		chromedp.WaitVisible(chromedp.ID("queue")),
	)
	if q := b.text("queue"); !strings.Contains(q, code) || !strings.Contains(q, "Result returned") || !strings.Contains(q, "Cán bộ một cửa Ba Đình") {
		t.Errorf("queue %q", q)
	}
	shot("desk-06-queue-en.png")
	// The result went into the citizen's store too.
	if stored, _ = env.App.Documents.ListByOwner(ctx, pin.PIN(p)); len(stored) < 2 {
		t.Errorf("the citizen's store holds %d documents", len(stored))
	}
	if logs := env.Logs.String(); strings.Contains(logs, p) || strings.Contains(logs, person.FullName) {
		t.Error("the citizen's PIN or name is in the log")
	}
}

// deskShot saves a full-page screenshot into docs/screenshots.
func (b *browser) deskShot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", "screenshots", name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// waitLocation waits until the page's address holds part (a redirect
// after a form's post).
func (b *browser) waitLocation(part string) {
	b.t.Helper()
	for i := 0; i < 100; i++ {
		if loc, err := chromedp.Run(b.ctx, chromedp.Location()); err == nil && strings.Contains(loc, part) {
			if _, err := chromedp.Run(b.ctx, chromedp.WaitVisible(chromedp.ID("facts"))); err == nil {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("the page never reached %q", part)
}

// deskClick clicks the element with the id from the page's script: after
// a full-page screenshot Chromium's layout for pointer events can be
// stale, and a pointer click misses.
func deskClick(id string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](`(function(){ document.getElementById(`+strconv.Quote(id)+`).click(); return true; })()`)(ctx, t)
		return chromedp.Void{}, err
	}
}
