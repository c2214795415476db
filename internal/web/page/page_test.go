package page

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dancu-project/dancu/internal/fault"
)

func TestLang(t *testing.T) {
	for _, c := range []struct {
		query, cookie, accept string
		hints                 []string
		want                  string
	}{
		{want: VI},
		{accept: "en-US,en;q=0.9", want: EN},
		{accept: "vi-VN,vi;q=0.9,en;q=0.8", want: VI},
		{accept: "fr-FR,en;q=0.5,vi;q=0.7", want: VI},
		{accept: "fr-FR,de", want: VI},
		{accept: "en;q=0", want: VI},
		{cookie: "en", accept: "vi", want: EN},
		{cookie: "vi", accept: "en", want: VI},
		{cookie: "xx", accept: "en", want: EN},
		{hints: []string{"fr", "en"}, accept: "vi", want: EN},
		{hints: []string{"vi-VN"}, accept: "en", want: VI},
		{hints: []string{"en"}, cookie: "vi", want: VI},
		{hints: []string{"fr"}, cookie: "", accept: "en", want: EN},
		{query: "en", hints: []string{"vi"}, cookie: "vi", want: EN},
		{query: "EN-gb", want: EN},
		{query: "zz", cookie: "en", want: EN},
	} {
		r := httptest.NewRequest(http.MethodGet, "/p?lang="+c.query, nil)
		if c.cookie != "" {
			r.AddCookie(&http.Cookie{Name: LangCookie, Value: c.cookie})
		}
		if c.accept != "" {
			r.Header.Set("Accept-Language", c.accept)
		}
		if got := Lang(r, c.hints...); got != c.want {
			t.Errorf("%+v: %s, want %s", c, got, c.want)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for _, c := range []struct{ in, root, want string }{
		{"/persons?q=an", "/", "/persons?q=an"},
		{"/", "/", "/"},
		{"", "/", "/"},
		{"//evil.example", "/", "/"},
		{"/\\evil.example", "/", "/"},
		{"/a\\b", "/", "/"},
		{"https://evil.example", "/", "/"},
		{"persons", "/", "/"},
		{"/a\nb", "/", "/"},
		{"/a\x7fb", "/", "/"},
		{"/citizen/me", "/citizen/", "/citizen/me"},
		{"/admin", "/citizen/", "/citizen/"},
		{"//evil.example/citizen/", "/citizen/", "/citizen/"},
		{"/citizen/\tx", "/citizen/", "/citizen/"},
	} {
		if got := LocalPath(c.in, c.root); got != c.want {
			t.Errorf("LocalPath(%q, %q) = %q, want %q", c.in, c.root, got, c.want)
		}
	}
}

func TestSetLang(t *testing.T) {
	k := &Kit{SecureCookies: true}
	for _, c := range []struct{ query, lang, location string }{
		{"l=en&next=/citizen/me", EN, "/citizen/me"},
		{"l=vi&next=//evil.example/", VI, "/citizen/"},
		{"l=fr&next=/citizen/x", VI, "/citizen/x"},
	} {
		w := httptest.NewRecorder()
		k.SetLang("/citizen/")(w, httptest.NewRequest(http.MethodGet, "/citizen/lang?"+c.query, nil))
		cookies := w.Result().Cookies()
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != c.location || len(cookies) != 1 ||
			cookies[0].Value != c.lang || !cookies[0].Secure || !cookies[0].HttpOnly || cookies[0].Path != "/" {
			t.Errorf("%s: %d %q %v", c.query, w.Code, w.Header().Get("Location"), cookies)
		}
	}
	if got := SwitchURL("/lang", EN, "/persons?q=a"); got != "/lang?l=vi&next=%2Fpersons%3Fq%3Da" {
		t.Errorf("switch URL %s", got)
	}
}

func TestPolicy(t *testing.T) {
	for _, c := range []struct {
		p    Policy
		want string
	}{
		{Policy{}, "default-src 'self'; form-action 'self'; frame-ancestors 'none'"},
		{Policy{ImgData: true}, "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'"},
		{Policy{FormTargets: []string{"https://rp.example", "http://127.0.0.1:9"}},
			"default-src 'self'; form-action 'self' https://rp.example http://127.0.0.1:9; frame-ancestors 'none'"},
	} {
		if got := c.p.CSP(); got != c.want {
			t.Errorf("%+v: %s", c.p, got)
		}
	}
	h := Secure(Policy{NoReferrer: true}, 10, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Body.Read(make([]byte, 100)); err == nil {
			b := new(bytes.Buffer)
			_, err = b.ReadFrom(r.Body)
			if err == nil {
				t.Error("a body over the bound was read")
			}
		}
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", 100))))
	hd := w.Header()
	if hd.Get("X-Frame-Options") != "DENY" || hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Referrer-Policy") != "no-referrer" ||
		hd.Get("Content-Security-Policy") != (Policy{}).CSP() {
		t.Errorf("headers %v", hd)
	}
}

func TestCatalogue(t *testing.T) {
	c := NewCatalogue()
	if err := c.Register("a", Messages{VI: {"x": "X vi", "y": "Y vi"}, EN: {"x": "X en"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Register("b", Messages{EN: {"x": "other"}}); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("a clash was accepted: %v", err)
	}
	if err := c.Register("c", Messages{"fr": {"z": "Z"}}); err == nil {
		t.Error("an unknown language was accepted")
	}
	if c.T(EN, "x") != "X en" || c.T(EN, "y") != "Y vi" || c.T(VI, "nope") != "nope" || c.T(EN, "x") != "X en" {
		t.Errorf("lookups %q %q %q", c.T(EN, "x"), c.T(EN, "y"), c.T(VI, "nope"))
	}
	if m := c.Missing(); len(m) != 1 || m[0] != "en:y" {
		t.Errorf("missing %v", m)
	}
	fsys := fstest.MapFS{"t/a.html": {Data: []byte(`{{t "x"}} {{t "y"}} {{t "nope"}}`)}}
	unknown, err := c.Unknown(fsys, "t/*.html")
	if err != nil {
		t.Fatal(err)
	}
	// The kit's own page.start names app.name and the like, which this
	// catalogue lacks too.
	if len(unknown) < 2 || unknown[len(unknown)-1] != "t/a.html: nope" {
		t.Errorf("unknown %v", unknown)
	}
}

func TestCSRF(t *testing.T) {
	w := httptest.NewRecorder()
	tok := FormToken(w, httptest.NewRequest(http.MethodGet, "/", nil), "f_csrf", "/citizen", true)
	if len(tok) < 43 || len(w.Result().Cookies()) != 1 {
		t.Fatalf("token %q cookies %v", tok, w.Result().Cookies())
	}
	post := func(field, cookie string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("csrf="+field))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: "f_csrf", Value: cookie})
		}
		return r
	}
	if !FormTokenOK(post(tok, tok), "f_csrf") {
		t.Error("the matching token was refused")
	}
	for _, r := range []*http.Request{post(tok, ""), post("", ""), post(tok, tok+"x"), post("", tok)} {
		if FormTokenOK(r, "f_csrf") {
			t.Error("a token without its match was accepted")
		}
	}
	if SameToken("", "") {
		t.Error("empty tokens match")
	}
}

// kit is a kit whose error page prints the status, title and text.
func kit(t *testing.T, logs *bytes.Buffer) *Kit {
	t.Helper()
	msgs := NewCatalogue()
	if err := msgs.Register("test", Messages{
		VI: {"err.internal.title": "Lỗi hệ thống", "err.internal.text": "Lỗi hệ thống, vui lòng thử lại sau.", "err.forbidden.title": "Không được phép",
			"err.notfound.title": "Không tìm thấy", "err.invalid.title": "Không thực hiện được"},
		EN: {"err.internal.title": "System error", "err.internal.text": "Internal error.", "err.forbidden.title": "Not allowed",
			"err.notfound.title": "Not found", "err.invalid.title": "Not possible"},
	}); err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"t/p.html": {Data: []byte(`{{define "p"}}<p>{{t "err.internal.title"}} {{.}}</p>{{end}}{{define "bad"}}{{.Nope}}{{end}}`)}}
	tmpl, err := Parse(fsys, func(l string) template.FuncMap {
		return template.FuncMap{"t": func(id string) string { return msgs.T(l, id) }, "home": func() string { return "/" }}
	}, "t/*.html")
	if err != nil {
		t.Fatal(err)
	}
	k := &Kit{Templates: tmpl, Messages: msgs, Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), SignIn: "/login"}
	k.ErrorPage = func(w http.ResponseWriter, r *http.Request, status int, lang, titleID, text string) {
		w.WriteHeader(status)
		fmt.Fprintf(w, "%s|%s", msgs.T(lang, titleID), text)
	}
	return k
}

// Every fault kind gets problem.Status's status (the API's) and a page
// that says what happened; a 5xx logs its code and cause but shows neither.
func TestFail(t *testing.T) {
	var logs bytes.Buffer
	k := kit(t, &logs)
	conflict := fault.New(fault.Conflict, "test.conflict", "Đã có rồi.", "Exists.")
	for _, c := range []struct {
		err    error
		status int
		want   string
		log    string
	}{
		{fault.New(fault.Malformed, "test.bad", "Yêu cầu không hợp lệ.", "Bad."), 400, "Không thực hiện được|Yêu cầu không hợp lệ.", ""},
		{fault.New(fault.TooLarge, "test.large", "Quá lớn.", "Too large."), 413, "Quá lớn.", ""},
		{fault.New(fault.Limited, "test.limited", "Quá nhiều.", "Too many."), 429, "Quá nhiều.", ""},
		{conflict, 409, "Đã có rồi.", ""},
		{fault.New(fault.Invalid, "test.invalid", "Sai.", "Wrong."), 422, "Sai.", ""},
		{fault.New(fault.NotFound, "test.nf", "Không thấy.", "Not found."), 404, "Không tìm thấy|Không thấy.", ""},
		{fault.New(fault.Forbidden, "test.forbidden", "Cấm.", "No."), 403, "Không được phép|Cấm.", "level=WARN msg=\"page request refused\" route=\"\" status=403 code=test.forbidden"},
		{fmt.Errorf("save person: %w", fault.New(fault.Internal, "test.internal", "SQL bí mật", "secret SQL").Wrap(fmt.Errorf("pq: duplicate key"))), 500,
			"Lỗi hệ thống|Lỗi hệ thống, vui lòng thử lại sau.", "level=ERROR msg=\"page request failed\" route=\"\" status=500 code=test.internal err=\"save person: "},
		{fmt.Errorf("no fault here"), 500, "Lỗi hệ thống", "err=\"no fault here\""},
	} {
		logs.Reset()
		w := httptest.NewRecorder()
		k.Fail(w, httptest.NewRequest(http.MethodGet, "/", nil), c.err)
		if w.Code != c.status || !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("%v: %d %q, want %d with %q", c.err, w.Code, w.Body.String(), c.status, c.want)
		}
		if strings.Contains(w.Body.String(), "SQL") || strings.Contains(w.Body.String(), "pq:") {
			t.Errorf("%v: the cause reached the page", c.err)
		}
		if c.log != "" && !strings.Contains(logs.String(), c.log) || c.log == "" && logs.Len() != 0 {
			t.Errorf("%v: log %q, want %q", c.err, logs.String(), c.log)
		}
	}
	// English.
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: LangCookie, Value: EN})
	k.Fail(w, r, conflict)
	if w.Body.String() != "Not possible|Exists." {
		t.Errorf("english %q", w.Body.String())
	}
	w = httptest.NewRecorder()
	k.Fail(w, httptest.NewRequest(http.MethodGet, "/", nil), conflict, "en-GB")
	if w.Body.String() != "Not possible|Exists." {
		t.Errorf("english by hint %q", w.Body.String())
	}
	// Signed out.
	w = httptest.NewRecorder()
	k.Fail(w, httptest.NewRequest(http.MethodGet, "/", nil), fault.New(fault.Unauthenticated, "test.auth", "Đăng nhập.", "Sign in."))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login" {
		t.Errorf("signed out: %d %s", w.Code, w.Header().Get("Location"))
	}
	// A client that went away: 499, no page, no error logged, whatever failed.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	logs.Reset()
	w = httptest.NewRecorder()
	k.Fail(w, httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx), fault.New(fault.Internal, "x", "x", "x").Wrap(fmt.Errorf("driver: canceled")))
	if w.Code != 499 || w.Body.Len() != 0 || strings.Contains(logs.String(), "ERROR") {
		t.Errorf("client gone: %d %q %s", w.Code, w.Body.String(), logs.String())
	}
}

func TestRender(t *testing.T) {
	var logs bytes.Buffer
	k := kit(t, &logs)
	w := httptest.NewRecorder()
	k.Render(w, httptest.NewRequest(http.MethodGet, "/x?lang=en", nil), http.StatusCreated, EN, "p", "<b>")
	if w.Code != http.StatusCreated || w.Body.String() != "<p>System error &lt;b&gt;</p>" || w.Header().Get("Cache-Control") != "no-store" ||
		!strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Errorf("render %d %q %v", w.Code, w.Body.String(), w.Header())
	}
	if c := w.Result().Cookies(); len(c) != 1 || c[0].Name != LangCookie || c[0].Value != EN {
		t.Errorf("?lang=en was not remembered: %v", c)
	}
	w = httptest.NewRecorder()
	k.Render(w, httptest.NewRequest(http.MethodGet, "/x", nil), http.StatusOK, VI, "bad", 1)
	if w.Code != 500 || strings.Contains(w.Body.String(), "<") || !strings.Contains(logs.String(), "code=page.template") {
		t.Errorf("template error: %d %q %s", w.Code, w.Body.String(), logs.String())
	}
}

// A page script's failed call gets the same status and message as a page
// would, as JSON; a 5xx hides its cause.
func TestScriptFail(t *testing.T) {
	var logs bytes.Buffer
	k := kit(t, &logs)
	for _, c := range []struct {
		err    error
		hints  []string
		status int
		body   string
	}{
		{fault.New(fault.Conflict, "test.off", "Chưa bật.", "Not enabled."), nil, 409, `{"code":"test.off","error":"Chưa bật."}`},
		{fault.New(fault.Unauthenticated, "test.auth", "Sai.", "Wrong."), []string{"en"}, 401, `{"code":"test.auth","error":"Wrong."}`},
		{fmt.Errorf("pq: secret"), nil, 500, `{"code":"internal","error":"Lỗi hệ thống, vui lòng thử lại sau."}`},
	} {
		w := httptest.NewRecorder()
		k.ScriptFail(w, httptest.NewRequest(http.MethodPost, "/x", nil), c.err, c.hints...)
		if w.Code != c.status || strings.TrimSpace(w.Body.String()) != c.body || w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%v: %d %s", c.err, w.Code, w.Body.String())
		}
	}
	if !strings.Contains(logs.String(), `err="pq: secret"`) {
		t.Errorf("the 500's cause was not logged: %s", logs.String())
	}
}
