package servicesweb_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/document"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/page/pagetest"
)

// browser is a cookie-carrying client that does not follow redirects, so
// a test sees where each answer sends the citizen.
type browser struct {
	t      *testing.T
	base   string
	cookie string
}

type reply struct {
	status int
	loc    string
	body   string
	ctype  string
}

func (b browser) do(req *http.Request) reply {
	b.t.Helper()
	if b.cookie != "" {
		req.Header.Set("Cookie", b.cookie)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, loc: res.Header.Get("Location"), body: string(raw), ctype: res.Header.Get("Content-Type")}
}

func (b browser) get(path string) reply {
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

// post sends a multipart form (files: field → bytes).
func (b browser) post(path string, vals url.Values, files map[string][]byte) reply {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range vals {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for k, body := range files {
		fw, _ := mw.CreateFormFile(k, k+".pdf")
		fw.Write(body)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", b.base+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

var (
	csrfRE   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	keyRE    = regexp.MustCompile(`name="key" value="([^"]+)"`)
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

func find(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("%s not on the page:\n%s", re, body)
	}
	return m[1]
}

// TestPublicPages: the catalogue and a procedure's page need no sign-in,
// speak Vietnamese first and English on request, show names, fees in
// đồng and the legal time in working days, and say which documents the
// register or the e-ID already proves; tracking with a wrong check code
// says so on the form.
func TestPublicPages(t *testing.T) {
	f := appFixture(t, storagetest.Dialects()[0])
	b := browser{t: t, base: f.srv.URL}
	r := b.get("/procedures")
	if r.status != 200 || !strings.Contains(r.body, `href="/procedures/CT.TAT.01"`) {
		t.Fatalf("procedures: %d", r.status)
	}
	pagetest.SpeaksToPeople(t, "procedures", r.body, "Thủ tục hành chính trực tuyến", "Đăng ký tạm trú", "Công an cấp xã", "7.000 đồng", "3 ngày làm việc", "Miễn phí")
	r = b.get("/procedures?q=tam+tru&lang=en")
	pagetest.SpeaksToPeople(t, "search", r.body, "Temporary residence registration")
	if strings.Contains(r.body, "Birth registration") {
		t.Error("the search shows a procedure it does not match")
	}
	r = b.get("/procedures/CT.TAT.01")
	if r.status != 200 || r.ctype != "text/html; charset=utf-8" {
		t.Fatalf("procedure: %d %s", r.status, r.ctype)
	}
	pagetest.SpeaksToPeople(t, "procedure", r.body, "Đăng ký tạm trú", "Công an cấp xã", "Cấp xã", "7.000 đồng", "3 ngày làm việc",
		"Mức 2 (mật khẩu và mã xác thực)", "Không phải nộp: đã xác thực bằng định danh điện tử", "Không phải nộp: biểu mẫu trực tuyến thay thế",
		"Giấy tờ chứng minh chỗ ở hợp pháp", "điền sẵn từ Cơ sở dữ liệu quốc gia về dân cư", "Nộp hồ sơ trực tuyến")
	if !strings.Contains(r.body, `href="/citizen/dossiers/new/CT.TAT.01"`) {
		t.Error("no link to file the procedure online")
	}
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/procedures/NO.SUCH", 404, "Không có thủ tục này."},
		{"/track?code=000.04.00.H01-261207-0001&check=AAAAAAAA", 404, "mã hồ sơ hoặc mã tra cứu không đúng"},
		{"/track?code=x&check=y&lang=en", 404, "the dossier code or the check code is wrong"},
		{"/track", 200, "Tra cứu hồ sơ"},
	} {
		r := b.get(tc.path)
		if r.status != tc.status || !strings.Contains(r.body, tc.want) {
			t.Errorf("%s: %d, want %d with %q", tc.path, r.status, tc.status, tc.want)
		}
		if csp := r.body; !strings.Contains(csp, `<link rel="stylesheet" href="/static/dancu.css">`) {
			t.Errorf("%s: not on the kit's layout", tc.path)
		}
	}
	// Guessing a dossier's check code through the page meets the same
	// limit as through the API.
	var last reply
	for i := 0; i < 11; i++ {
		last = b.get("/track?code=000.04.00.H01-261207-0009&check=GUESS" + string(rune('A'+i)) + "00")
	}
	if last.status != http.StatusTooManyRequests || !strings.Contains(last.body, "tra cứu quá nhiều lần") {
		t.Errorf("the eleventh wrong check code: %d", last.status)
	}
	if r := b.get("/citizen/dossiers"); r.status != http.StatusSeeOther || r.loc != "/citizen/login" {
		t.Errorf("my dossiers without a session: %d %s", r.status, r.loc)
	}
}

// TestFilingPages: the citizen's side in the browser's terms, on SQLite
// and PostgreSQL — a level-1 session is told to sign in at level 2 before
// anything else; the form shows the register's data read-only, keeps the
// declared values with Vietnamese field errors, ignores a locked value
// sent anyway, refuses a file that is not a document storing nothing;
// the review needs the declaration; signing twice with the form's key
// files one dossier and sends the browser to the gateway; the receipt
// shows the code, check code, QR and names; the citizen supplies a
// document the officer asked for, downloads the result, and rates once.
func TestFilingPages(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := appFixture(t, d)
			ctx := context.Background()
			p, tok := f.citizen(t, 5)
			b := browser{t: t, base: f.srv.URL, cookie: "citizen_session=" + tok}
			person, err := f.env.App.Registry.Get(ctx, actor.SystemActor("test"), p, "test")
			if err != nil {
				t.Fatal(err)
			}
			lease, err := f.env.App.Documents.Store(ctx, document.Document{OwnerPIN: pin.PIN(p), Kind: "digitized:lease", Title: "Hợp đồng thuê nhà",
				Body: cleanPDF, MediaType: "application/pdf", CreatedBy: "staff:test"})
			if err != nil {
				t.Fatal(err)
			}

			// Level 1: told so, with the way up, before anything else.
			acc, _ := f.env.App.EID.Account(ctx, p)
			low, _, err := f.env.App.EID.StartSession(ctx, eid.Authentication{Account: acc, Level: eid.Level1, AMR: []string{"pwd"}, At: time.Now()}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			lb := browser{t: t, base: f.srv.URL, cookie: "citizen_session=" + low}
			for _, path := range []string{"/citizen/dossiers/new/CT.TAT.01", "/citizen/dossiers/new/CT.TAT.01?lang=en"} {
				r := lb.get(path)
				if r.status != http.StatusForbidden || !strings.Contains(r.body, `id="level-upgrade" href="/citizen/login"`) ||
					(!strings.Contains(r.body, "cần tài khoản định danh điện tử mức 2") && !strings.Contains(r.body, "needs a level-2 electronic identity")) {
					t.Errorf("level 1 %s: %d %s", path, r.status, r.body)
				}
			}

			// The form: the register's data shown, not editable.
			r := b.get("/citizen/dossiers/new/CT.TAT.01")
			if r.status != 200 {
				t.Fatalf("form: %d %s", r.status, r.body)
			}
			pagetest.SpeaksToPeople(t, "form", r.body, person.FullName, person.BirthDate.Display(), "Thông tin đã có (không sửa được)", "Hợp đồng thuê nhà")
			for _, locked := range []string{`name="f_full_name"`, `name="f_pin"`, `name="f_birth_date"`} {
				if strings.Contains(r.body, locked) {
					t.Errorf("the form lets the citizen change %s", locked)
				}
			}
			if !strings.Contains(r.body, `<option value="00004">Phường Ba Đình</option>`) {
				t.Error("the commune is not picked by name")
			}
			csrf, key := find(t, csrfRE, r.body), find(t, keyRE, r.body)
			form := func(step string, extra ...string) url.Values {
				v := url.Values{"csrf": {csrf}, "key": {key}, "step": {step}, "f_temp_commune": {"00004"}, "f_temp_address": {"Số 12 Phố Huế"},
					"f_from": {time.Now().Format("2006-01-02")}, "f_to": {time.Now().AddDate(1, 0, 0).Format("2006-01-02")}, "f_phone": {"0912345678"},
					"pick_dwelling_proof": {lease.ID}}
				for i := 0; i+1 < len(extra); i += 2 {
					v.Set(extra[i], extra[i+1])
				}
				return v
			}
			docsBefore, _ := f.env.App.Documents.ListByOwner(ctx, pin.PIN(p))

			for name, tc := range map[string]struct {
				vals   url.Values
				files  map[string][]byte
				status int
				wants  []string
			}{
				"bad phone, no document": {form("review", "f_phone", "12ab", "pick_dwelling_proof", ""), nil, 422,
					[]string{"Thiếu giấy tờ bắt buộc: Giấy tờ chứng minh chỗ ở hợp pháp", `value="12ab"`, `value="Số 12 Phố Huế"`}},
				"not a document": {form("review", "pick_dwelling_proof", ""), map[string][]byte{"file_dwelling_proof": []byte("hello, not a pdf")}, 422,
					[]string{"không phải giấy tờ được chấp nhận"}},
				"someone else's document": {form("review", "pick_dwelling_proof", "AAAAAAAAAAAAAAAA"), nil, 422,
					[]string{"không có trong kho dữ liệu của bạn"}},
				"forged CSRF": {form("review", "csrf", "forged"), nil, 403, []string{"Biểu mẫu đã hết hạn"}},
			} {
				r := b.post("/citizen/dossiers/new/CT.TAT.01", tc.vals, tc.files)
				if r.status != tc.status {
					t.Errorf("%s: %d, want %d\n%s", name, r.status, tc.status, r.body)
				}
				for _, w := range tc.wants {
					if !strings.Contains(r.body, w) {
						t.Errorf("%s: page lacks %q", name, w)
					}
				}
			}
			if r := b.post("/citizen/dossiers/new/CT.TAT.01", form("review", "f_phone", "12ab"), nil); !strings.Contains(r.body, "Số điện thoại") || !strings.Contains(r.body, "has-error") {
				t.Errorf("no field error on the phone:\n%s", r.body)
			}

			// The review: the locked value sent anyway is ignored.
			r = b.post("/citizen/dossiers/new/CT.TAT.01", form("review", "f_full_name", "Người Khác"), nil)
			if r.status != 200 || strings.Contains(r.body, "Người Khác") {
				t.Fatalf("review: %d\n%s", r.status, r.body)
			}
			pagetest.SpeaksToPeople(t, "review", r.body, person.FullName, "Phường Ba Đình", "Hợp đồng thuê nhà", "chọn trong kho dữ liệu", "7.000 đồng", "Tôi xin cam đoan")
			sign := url.Values{}
			for _, m := range hiddenRE.FindAllStringSubmatch(r.body, -1) {
				sign.Add(m[1], html.UnescapeString(m[2]))
			}
			sign.Set("step", "sign")
			if r := b.post("/citizen/dossiers/new/CT.TAT.01", sign, nil); r.status != 422 || !strings.Contains(r.body, "cam đoan trước khi ký") {
				t.Errorf("sign without the declaration: %d", r.status)
			}
			sign.Set("pledge", "yes")
			first := b.post("/citizen/dossiers/new/CT.TAT.01", sign, nil)
			second := b.post("/citizen/dossiers/new/CT.TAT.01", sign, nil)
			if first.status != http.StatusSeeOther || !strings.Contains(first.loc, "/sim/pay/") || second.loc != first.loc {
				t.Fatalf("sign: %d %s / %d %s", first.status, first.loc, second.status, second.loc)
			}
			mine, _ := f.svc.ListMine(ctx, servicesFiler(p))
			if len(mine) != 1 {
				t.Fatalf("double sign made %d dossiers", len(mine))
			}
			// Back, changed, signed again with the same form: refused on
			// the form with a fresh key, nothing filed.
			changed := url.Values{}
			for k, v := range sign {
				changed[k] = v
			}
			changed.Set("f_temp_address", "Số 14 Phố Huế")
			if r := b.post("/citizen/dossiers/new/CT.TAT.01", changed, nil); r.status != http.StatusConflict || !strings.Contains(r.body, "đã được dùng cho một hồ sơ khác") ||
				find(t, keyRE, r.body) == key || !strings.Contains(r.body, `value="Số 14 Phố Huế"`) {
				t.Errorf("changed and signed again with the same key: %d", r.status)
			}
			if again, _ := f.svc.ListMine(ctx, servicesFiler(p)); len(again) != 1 {
				t.Errorf("a changed re-sign filed %d dossiers", len(again))
			}
			docsAfter, _ := f.env.App.Documents.ListByOwner(ctx, pin.PIN(p))
			if len(docsAfter) != len(docsBefore) {
				t.Errorf("the refused filings stored %d documents", len(docsAfter)-len(docsBefore))
			}
			code := mine[0].Code

			// Back from the gateway: the receipt.
			payOnPage(t, first.loc)
			r = b.get("/citizen/dossiers/" + code + "?payment=x")
			if r.status != 200 {
				t.Fatalf("receipt: %d", r.status)
			}
			rc, _ := f.svc.ReceiptOf(ctx, servicesFiler(p), code)
			pagetest.SpeaksToPeople(t, "receipt", r.body, code, rc.CheckCode, "Đăng ký tạm trú", "Phường Ba Đình", "Hợp đồng thuê nhà (chọn trong kho dữ liệu)")
			if !strings.Contains(r.body, `src="/citizen/dossiers/`+code+`/qr"`) {
				t.Error("no QR on the receipt")
			}
			if qr := b.get("/citizen/dossiers/" + code + "/qr"); qr.status != 200 || qr.ctype != "image/png" {
				t.Errorf("QR: %d %s", qr.status, qr.ctype)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				if d, _ := f.svc.Mine(ctx, servicesFiler(p), code); d.Status == "received" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the payment never arrived")
				}
				time.Sleep(50 * time.Millisecond)
			}
			r = b.get("/citizen/dossiers/" + code)
			pagetest.SpeaksToPeople(t, "received", r.body, "Đã tiếp nhận", "Đã nộp lệ phí")

			// The officer asks for more; the citizen supplies it.
			officer := f.staff(t, "dangky.badinh")
			for _, step := range []string{"start", "supplement"} {
				var body any
				if step == "supplement" {
					body = map[string]string{"reason": "Hợp đồng thuê chưa có chữ ký của chủ nhà."}
				}
				if x := call(t, "POST", f.srv.URL+"/api/v1/desk/dossiers/"+code+"/"+step, officer, body); x.status != 200 {
					t.Fatalf("%s: %d %s", step, x.status, x.raw)
				}
			}
			r = b.get("/citizen/dossiers/" + code)
			pagetest.SpeaksToPeople(t, "supplement", r.body, "Cần bổ sung", "Cơ quan yêu cầu bổ sung hồ sơ", "Hợp đồng thuê chưa có chữ ký của chủ nhà.")
			csrf = find(t, csrfRE, r.body)
			if r := b.post("/citizen/dossiers/"+code+"/supplement", url.Values{"csrf": {csrf}}, nil); r.status != 422 || !strings.Contains(r.body, "ít nhất một giấy tờ") {
				t.Errorf("empty supplement: %d", r.status)
			}
			if r := b.post("/citizen/dossiers/"+code+"/supplement", url.Values{"csrf": {csrf}}, map[string][]byte{"file_dwelling_proof": cleanPDF}); r.status != http.StatusSeeOther {
				t.Fatalf("supplement: %d %s", r.status, r.body)
			}
			for _, step := range []string{"approve", "return"} {
				if x := call(t, "POST", f.srv.URL+"/api/v1/desk/dossiers/"+code+"/"+step, officer, nil); x.status != 200 {
					t.Fatalf("%s: %d %s", step, x.status, x.raw)
				}
			}
			r = b.get("/citizen/dossiers/" + code + "?lang=en")
			pagetest.SpeaksToPeople(t, "returned", r.body, "Result returned", "Download the result", "Rate the service")
			dl := regexp.MustCompile(`href="(/citizen/documents/[^"]+)"`).FindStringSubmatch(r.body)
			if dl == nil {
				t.Fatal("no result link")
			}
			pdf := b.get(dl[1])
			if pdf.status != 200 || pdf.ctype != "application/pdf" || !strings.HasPrefix(pdf.body, "%PDF") || !strings.Contains(pdf.body, "/ByteRange") {
				t.Errorf("result download: %d %s", pdf.status, pdf.ctype)
			}
			// Another citizen cannot download it nor see the dossier.
			_, other := f.citizen(t, 6)
			ob := browser{t: t, base: f.srv.URL, cookie: "citizen_session=" + other}
			if r := ob.get(dl[1]); r.status != 404 {
				t.Errorf("another citizen's download: %d", r.status)
			}
			if r := ob.get("/citizen/dossiers/" + code); r.status != 404 {
				t.Errorf("another citizen's dossier: %d", r.status)
			}
			csrf = find(t, csrfRE, r.body)
			if r := b.post("/citizen/dossiers/"+code+"/rating", url.Values{"csrf": {csrf}, "stars": {"9"}}, nil); r.status != 422 || !strings.Contains(r.body, "từ 1 đến 5 sao") {
				t.Errorf("bad rating: %d", r.status)
			}
			if r := b.post("/citizen/dossiers/"+code+"/rating", url.Values{"csrf": {csrf}, "stars": {"5"}, "comment": {"Nhanh gọn"}}, nil); r.status != http.StatusSeeOther {
				t.Errorf("rating: %d %s", r.status, r.body)
			}
			if r := b.post("/citizen/dossiers/"+code+"/rating", url.Values{"csrf": {csrf}, "stars": {"1"}}, nil); r.status != http.StatusConflict {
				t.Errorf("second rating: %d", r.status)
			}
			r = b.get("/citizen/dossiers/" + code)
			pagetest.SpeaksToPeople(t, "rated", r.body, "5 – Rất hài lòng", "Nhanh gọn")
			if strings.Contains(r.body, `id="rating-form"`) {
				t.Error("the rating form is still offered")
			}
			r = b.get("/citizen/dossiers")
			pagetest.SpeaksToPeople(t, "my dossiers", r.body, code, "Đăng ký tạm trú", "Đã trả kết quả")
			if logs := f.env.Logs.String(); strings.Contains(logs, p) || strings.Contains(logs, person.FullName) {
				t.Error("the citizen's PIN or name is in the log")
			}
		})
	}
}

func servicesFiler(p string) services.Filer { return services.Filer{PIN: p, Level: 2} }

// TestFilingUpload: a paper uploaded on the form travels with the review
// (nothing is stored before the signature), survives going back to edit,
// and is stored with the dossier when the citizen signs — on SQLite and
// PostgreSQL. A free procedure signed goes straight to the receipt.
func TestFilingUpload(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := appFixture(t, d)
			ctx := context.Background()
			p, tok := f.citizen(t, 7)
			b := browser{t: t, base: f.srv.URL, cookie: "citizen_session=" + tok}
			r := b.get("/citizen/dossiers/new/CT.TAT.01?lang=en")
			if r.status != 200 {
				t.Fatalf("form: %d", r.status)
			}
			pagetest.SpeaksToPeople(t, "English form", r.body, "Known data (cannot be changed)", "Your document store is empty; upload a file.")
			csrf, key := find(t, csrfRE, r.body), find(t, keyRE, r.body)
			vals := url.Values{"csrf": {csrf}, "key": {key}, "step": {"review"}, "f_temp_commune": {"00004"}, "f_temp_address": {"Số 3 Hàng Bài"},
				"f_from": {time.Now().Format("2006-01-02")}, "f_to": {time.Now().AddDate(0, 6, 0).Format("2006-01-02")}, "f_phone": {"0912345678"}}
			before, _ := f.env.App.Documents.ListByOwner(ctx, pin.PIN(p))
			r = b.post("/citizen/dossiers/new/CT.TAT.01", vals, map[string][]byte{"file_dwelling_proof": cleanPDF})
			if r.status != 200 || !strings.Contains(r.body, `name="kept_dwelling_proof"`) || !strings.Contains(r.body, "file_dwelling_proof.pdf (tải lên)") {
				t.Fatalf("review with an upload: %d\n%s", r.status, r.body)
			}
			if now, _ := f.env.App.Documents.ListByOwner(ctx, pin.PIN(p)); len(now) != len(before) {
				t.Fatal("the review stored the upload before the signature")
			}
			again := url.Values{}
			for _, m := range hiddenRE.FindAllStringSubmatch(r.body, -1) {
				again.Add(m[1], html.UnescapeString(m[2]))
			}
			// Back to edit: the values and the file are still there.
			again.Set("step", "edit")
			e := b.post("/citizen/dossiers/new/CT.TAT.01", again, nil)
			if e.status != 200 || !strings.Contains(e.body, `value="Số 3 Hàng Bài"`) || !strings.Contains(e.body, "Đã đính kèm tệp: file_dwelling_proof.pdf") {
				t.Fatalf("edit: %d\n%s", e.status, e.body)
			}
			again.Set("step", "sign")
			again.Set("pledge", "yes")
			if s := b.post("/citizen/dossiers/new/CT.TAT.01", again, nil); s.status != http.StatusSeeOther || !strings.Contains(s.loc, "/sim/pay/") {
				t.Fatalf("sign: %d %s", s.status, s.loc)
			}
			mine, _ := f.svc.ListMine(ctx, servicesFiler(p))
			if len(mine) != 1 || len(mine[0].Attachments) != 1 || mine[0].Attachments[0].Reused {
				t.Fatalf("dossiers: %+v", mine)
			}
			if now, _ := f.env.App.Documents.ListByOwner(ctx, pin.PIN(p)); len(now) != len(before)+1 {
				t.Errorf("the signed dossier stored %d documents, want 1", len(now)-len(before))
			}

			// A free procedure: signed, straight to the receipt.
			r = b.get("/citizen/dossiers/new/CC.XN.01")
			csrf, key = find(t, csrfRE, r.body), find(t, keyRE, r.body)
			s := b.post("/citizen/dossiers/new/CC.XN.01", url.Values{"csrf": {csrf}, "key": {key}, "step": {"sign"}, "pledge": {"yes"}, "f_old_id": {"123456789"}}, nil)
			if s.status != http.StatusSeeOther || !strings.HasPrefix(s.loc, "/citizen/dossiers/") || !strings.HasSuffix(s.loc, "?filed=1") {
				t.Fatalf("free procedure: %d %s", s.status, s.loc)
			}
			r = b.get(s.loc)
			pagetest.SpeaksToPeople(t, "free receipt", r.body, "Hồ sơ đã được nộp.", "Đã tiếp nhận", "Miễn phí")
		})
	}
}
