package deskweb_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/card/qr"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/page/pagetest"
)

var (
	scanPDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	evilPDF = []byte("%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF\n")
	csrfRE  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	refRE   = regexp.MustCompile(`name="ref" value="([^"]+)"`)
)

type fixture struct {
	env  *apptest.Env
	base string
}

func start(t *testing.T, d storage.Dialect) *fixture {
	t.Helper()
	env := apptest.Start(t, d, 40)
	ctx := context.Background()
	if err := env.App.Staff.Create(ctx, staff.Account{Username: "motcua.badinh", DisplayName: "Cán bộ một cửa Ba Đình", Role: actor.Desk, Unit: "00004", Province: "01"}, apptest.Password); err != nil {
		t.Fatal(err)
	}
	return &fixture{env: env, base: env.Server.URL}
}

func (f *fixture) token(t *testing.T, username string) string {
	t.Helper()
	ctx := context.Background()
	acc, err := f.env.App.Staff.Get(ctx, actor.SystemActor("test"), username)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := f.env.App.Staff.StartSession(ctx, acc)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *fixture) person(t *testing.T, skip int) registry.Person {
	t.Helper()
	ctx := context.Background()
	rows, err := f.env.App.DB.R.QueryContext(ctx, `SELECT pin FROM persons WHERE status = 'alive' AND birth_date < '2000' AND length(birth_date) = 10 ORDER BY pin`)
	if err != nil {
		t.Fatal(err)
	}
	var pins []string
	for rows.Next() {
		var p string
		rows.Scan(&p)
		pins = append(pins, p)
	}
	rows.Close()
	p, err := f.env.App.Registry.Get(ctx, actor.SystemActor("test"), pins[skip], "test")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func cardQR(t *testing.T, p registry.Person) string {
	t.Helper()
	s, err := qr.Format(qr.Payload{PIN: pin.PIN(p.PIN), Name: p.FullName, Birth: p.BirthDate, Sex: p.Sex[0], Address: "Hà Nội", Issue: civildate.Of(time.Now().AddDate(-1, 0, 0))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// code is the problem's code, or its first field's for a validation
// problem.
func (a answer) code() string {
	if errs, ok := a.body["errors"].([]any); ok && len(errs) > 0 {
		if e, ok := errs[0].(map[string]any); ok {
			s, _ := e["code"].(string)
			return s
		}
	}
	s, _ := a.body["code"].(string)
	return s
}

func call(t *testing.T, method, u, bearer string, body any, headers ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, header: res.Header, raw: raw}
	json.Unmarshal(raw, &a.body)
	return a
}

func birthForm() map[string]string {
	return map[string]string{"relation": "mother", "child_name": "Lê Thu Hà", "child_birth_date": civildate.Of(time.Now().AddDate(0, 0, -5)).String(),
		"child_sex": "F", "birthplace": "Bệnh viện Bạch Mai", "ethnicity": "Kinh"}
}

// TestDeskAPI: the desk API through the running platform — sign-in and
// scope first (401, 403), the intake form pre-filled from the card's QR,
// an intake with its idempotency key, digitization (a PDF with a script
// refused with its code and nothing stored), the document's download,
// assignment, a comment, the officer's steps to the returned result, and
// CSRF on a cookie session.
func TestDeskAPI(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := start(t, d)
			api := f.base + "/api/v1/desk"
			officer, leader := f.token(t, "dangky.badinh"), f.token(t, "lanhdao.hanoi")
			p := f.person(t, 2)
			citizen := map[string]string{"qr": cardQR(t, p)}

			if a := call(t, "GET", api+"/dossiers", "", nil); a.status != 401 {
				t.Fatalf("no session: %d %s", a.status, a.raw)
			}
			if a := call(t, "GET", api+"/dossiers", leader, nil); a.status != 403 || a.code() != "services.forbidden" {
				t.Fatalf("leader: %d %s", a.status, a.raw)
			}
			form := call(t, "POST", api+"/intake/form", officer, map[string]any{"procedure": "HT.KS.01", "citizen": citizen})
			if form.status != 200 || form.body["values"].(map[string]any)["declarant_name"] != p.FullName {
				t.Fatalf("intake form: %d %s", form.status, form.raw)
			}
			if a := call(t, "POST", api+"/intake/form", officer, map[string]any{"procedure": "HT.KS.01", "citizen": map[string]string{"qr": "1|2|3"}}); a.status != 422 || a.code() != "card.qr.field_count" {
				t.Fatalf("bad QR: %d %s", a.status, a.raw)
			}
			in := map[string]any{"procedure": "HT.KS.01", "citizen": citizen, "form": birthForm()}
			if a := call(t, "POST", api+"/intake", officer, in); a.status != 422 || a.code() != "dossier.idempotency_key" {
				t.Fatalf("no key: %d %s", a.status, a.raw)
			}
			rc := call(t, "POST", api+"/intake", officer, in, "Idempotency-Key", "api-intake-1")
			if rc.status != 201 || rc.body["status"] != "received" || rc.body["channel"] != "desk" || rc.body["check_code"] == "" || rc.header.Get("Location") == "" {
				t.Fatalf("intake: %d %s", rc.status, rc.raw)
			}
			code := rc.body["code"].(string)
			if a := call(t, "POST", api+"/intake", officer, in, "Idempotency-Key", "api-intake-1"); a.status != 200 || a.body["code"] != code || a.header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("second press: %d %s", a.status, a.raw)
			}
			dossier := api + "/dossiers/" + url.PathEscape(code)
			docCount := func() int {
				ds, _ := f.env.App.Documents.ListByOwner(context.Background(), pin.PIN(p.PIN))
				return len(ds)
			}
			before := docCount()
			if a := call(t, "POST", dossier+"/documents", officer, map[string]string{"document": "birth_certificate", "content": base64.StdEncoding.EncodeToString(evilPDF)}); a.status != 422 || a.code() != "upload.active_content" {
				t.Fatalf("PDF with a script: %d %s", a.status, a.raw)
			}
			if a := call(t, "POST", dossier+"/documents", officer, map[string]string{"document": "birth_certificate", "content": "!!!"}); a.status != 422 || a.code() != "upload.encoding" {
				t.Fatalf("bad base64: %d %s", a.status, a.raw)
			}
			if docCount() != before {
				t.Fatal("a refused upload was stored")
			}
			g := call(t, "POST", dossier+"/documents", officer, map[string]string{"document": "birth_certificate", "name": "chung-sinh.pdf", "content": base64.StdEncoding.EncodeToString(scanPDF)})
			if g.status != 201 || g.body["officer"] != "staff:dangky.badinh" || g.body["signature"] == "" {
				t.Fatalf("digitize: %d %s", g.status, g.raw)
			}
			if docCount() != before+1 {
				t.Fatal("the scan is not in the citizen's store")
			}
			req, _ := http.NewRequest("GET", dossier+"/documents/"+g.body["document_id"].(string), nil)
			req.Header.Set("Authorization", "Bearer "+officer)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !bytes.Equal(got, scanPDF) || res.Header.Get("Content-Type") != "application/pdf" {
				t.Fatalf("download: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
			}
			offs := call(t, "GET", dossier+"/officers", officer, nil)
			if offs.status != 200 || !strings.Contains(string(offs.raw), "staff:motcua.badinh") || strings.Contains(string(offs.raw), "lanhdao") {
				t.Fatalf("officers: %d %s", offs.status, offs.raw)
			}
			if a := call(t, "POST", dossier+"/assign", officer, map[string]string{"officer": "staff:lanhdao.hanoi"}); a.status != 422 || a.code() != "desk.assignee" {
				t.Fatalf("assign a leader: %d %s", a.status, a.raw)
			}
			if a := call(t, "POST", dossier+"/assign", officer, map[string]string{"officer": "staff:motcua.badinh"}); a.status != 200 || a.body["assignee"] != "staff:motcua.badinh" {
				t.Fatalf("assign: %d %s", a.status, a.raw)
			}
			if a := call(t, "POST", dossier+"/comment", officer, map[string]string{"body": "Bản chính giấy chứng sinh đã đối chiếu."}); a.status != 201 {
				t.Fatalf("comment: %d %s", a.status, a.raw)
			}
			mine := call(t, "GET", api+"/dossiers?mine=1", f.token(t, "motcua.badinh"), nil)
			if mine.status != 200 || len(mine.body["dossiers"].([]any)) != 1 {
				t.Fatalf("assigned to me: %d %s", mine.status, mine.raw)
			}
			for _, step := range []string{"start", "approve", "return"} {
				if a := call(t, "POST", dossier+"/"+step, officer, nil); a.status != 200 {
					t.Fatalf("%s: %d %s", step, a.status, a.raw)
				}
			}
			det := call(t, "GET", dossier, officer, nil)
			if det.status != 200 || det.body["status"] != "returned" || len(det.body["documents"].([]any)) != 1 || len(det.body["comments"].([]any)) != 1 {
				t.Fatalf("detail: %d %s", det.status, det.raw)
			}
			// A cookie session needs the CSRF token on a POST.
			if a := call(t, "POST", dossier+"/comment", "", map[string]string{"body": "x"}, "Cookie", "dancu_session="+officer); a.status != 403 || a.code() != "auth.csrf" {
				t.Fatalf("no CSRF: %d %s", a.status, a.raw)
			}
		})
	}
}

// browser is a cookie-carrying client that does not follow redirects.
type browser struct {
	t      *testing.T
	cookie string
	base   string
}

func (b *browser) do(req *http.Request) (int, string, http.Header) {
	b.t.Helper()
	req.Header.Set("Cookie", "dancu_session="+b.cookie)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body), res.Header
}

func (b *browser) get(path string) (int, string) {
	req, _ := http.NewRequest("GET", b.base+path, nil)
	st, body, _ := b.do(req)
	return st, body
}

func (b *browser) post(path string, form url.Values) (int, string, string) {
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	st, body, h := b.do(req)
	return st, body, h.Get("Location")
}

// TestDeskPages: the officer's pages — the intake (identify by QR, the
// form pre-filled with the register's values locked, a field fault in
// Vietnamese, the dossier received), the digitization upload, the
// dossier's detail with its signed scan, the printable receipt, the
// queue's filters — speak to people (names, dd/mm/yyyy), in Vietnamese and
// English, and every POST needs the CSRF token.
func TestDeskPages(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := start(t, d)
			b := &browser{t: t, cookie: f.token(t, "dangky.badinh"), base: f.base}
			p := f.person(t, 4)
			st, body := b.get("/desk/intake")
			if st != 200 || !strings.Contains(body, "Tiếp nhận hồ sơ giấy") {
				t.Fatalf("intake page: %d", st)
			}
			csrf := csrfRE.FindStringSubmatch(body)[1]
			lookup := url.Values{"csrf": {csrf}, "procedure": {"HT.KS.01"}, "qr": {cardQR(t, p)}}
			if st, _, _ := b.post("/desk/intake/lookup", url.Values{"csrf": {"forged"}, "procedure": {"HT.KS.01"}, "qr": {cardQR(t, p)}}); st != http.StatusForbidden {
				t.Fatalf("forged CSRF: %d", st)
			}
			st, body, _ = b.post("/desk/intake/lookup", lookup)
			if st != 200 || !strings.Contains(body, p.FullName) || !strings.Contains(body, "readonly") {
				t.Fatalf("lookup: %d %s", st, body)
			}
			pagetest.SpeaksToPeople(t, "intake form", body, p.FullName, "Đăng ký khai sinh")
			ref := refRE.FindStringSubmatch(body)[1]
			form := url.Values{"csrf": {csrf}, "ref": {ref}, "procedure": {"HT.KS.01"}, "qr": {cardQR(t, p)}}
			for k, v := range birthForm() {
				form.Set("f_"+k, v)
			}
			form.Del("f_child_name")
			st, body, _ = b.post("/desk/intake", form)
			if st != 422 || !strings.Contains(body, "Vui lòng nhập") {
				t.Fatalf("missing field: %d %s", st, body)
			}
			form.Set("f_child_name", "Lê Thu Hà")
			st, _, loc := b.post("/desk/intake", form)
			if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/desk/dossiers/") {
				t.Fatalf("intake: %d %q", st, loc)
			}
			// The second press lands on the same dossier.
			if _, _, loc2 := b.post("/desk/intake", form); loc2 != loc {
				t.Fatalf("second press: %q, first %q", loc2, loc)
			}
			path := strings.SplitN(loc, "?", 2)[0]

			var mp bytes.Buffer
			w := multipart.NewWriter(&mp)
			w.WriteField("csrf", csrf)
			w.WriteField("document", "birth_certificate")
			fw, _ := w.CreateFormFile("file", "giay-chung-sinh.pdf")
			fw.Write(scanPDF)
			w.Close()
			req, _ := http.NewRequest("POST", f.base+path+"/documents", &mp)
			req.Header.Set("Content-Type", w.FormDataContentType())
			if st, body, _ := b.do(req); st != http.StatusSeeOther {
				t.Fatalf("upload: %d %s", st, body)
			}
			st, body = b.get(path)
			if st != 200 || !strings.Contains(body, "Đã ký số, toàn vẹn") || !strings.Contains(body, "Trực tiếp tại bộ phận một cửa") {
				t.Fatalf("detail: %d %s", st, body)
			}
			pagetest.SpeaksToPeople(t, "dossier page", body, "Lê Thu Hà", "Giấy chứng sinh", "Cán bộ đăng ký phường Ba Đình", "Mẹ", "Nữ")
			if st, _, loc := b.post(path+"/comment", url.Values{"csrf": {csrf}, "back": {"detail"}, "body": {"Đã gọi điện cho công dân."}}); st != http.StatusSeeOther || !strings.Contains(loc, "done=comment") {
				t.Fatalf("comment: %d %q", st, loc)
			}
			if st, body, _ := b.post(path+"/transfer", url.Values{"csrf": {csrf}, "back": {"detail"}, "unit": {"99999"}}); st != 422 || !strings.Contains(body, "Đơn vị chuyển đến không hợp lệ") {
				t.Fatalf("transfer to nowhere: %d", st)
			}
			st, body = b.get(path + "/receipt")
			if st != 200 || !strings.Contains(body, "Giấy tiếp nhận hồ sơ") || !strings.Contains(body, `src="data:image/png;base64,`) {
				t.Fatalf("receipt: %d %s", st, body)
			}
			pagetest.SpeaksToPeople(t, "receipt", body, p.FullName, "Giấy chứng sinh", "Phường Ba Đình")
			st, body = b.get("/desk/dossiers?lang=en")
			if st != 200 || !strings.Contains(body, "Birth registration") || !strings.Contains(body, "In person at the desk") {
				t.Fatalf("queue in English: %d %s", st, body)
			}
			pagetest.SpeaksToPeople(t, "queue", body)
			if st, body := b.get("/desk/dossiers?clock=overdue"); st != 200 || !strings.Contains(body, `<span id="count">0</span>`) {
				t.Fatalf("overdue filter: %d", st)
			}
			if st, body := b.get("/desk/dossiers?mine=1"); st != 200 || !strings.Contains(body, `<span id="count">0</span>`) {
				t.Fatalf("mine filter: %d", st)
			}
			if st, _ := (&browser{t: t, base: f.base}).get("/desk/dossiers"); st != http.StatusSeeOther {
				t.Fatalf("no session: %d", st)
			}
		})
	}
}
