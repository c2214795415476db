package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/card/pki"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/ui"
)

var today = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

const (
	baDinh   = "00004" // Phường Ba Đình, Hà Nội
	ngocHa   = "00008" // Phường Ngọc Hà, Hà Nội
	password = "mật khẩu đủ dài"
)

// stack is the real register, staff store and pages behind a test server.
type stack struct {
	srv   *httptest.Server
	reg   *registry.Service
	cards *cardservice.Service // nil unless built by newStackWith(t, true)
	log   *syncBuffer
	// The seeded family in Ba Đình: head, wife, and their household.
	head, wife, household string
	// A man of Ngọc Hà, outside the Ba Đình registrar's unit.
	other string
}

// syncBuffer collects the log for the test to inspect.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newStack(t *testing.T) *stack { t.Helper(); return newStackWith(t, false) }

// newStackWith builds the stack, with the card service when withCards.
func newStackWith(t *testing.T, withCards bool) *stack {
	t.Helper()
	ctx := context.Background()
	now := func() time.Time { return today }
	db := storagetest.Open(t, storage.SQLite, []storage.Migrations{audit.Migrations(), registry.Migrations(), staff.Migrations(), cardservice.Migrations()})
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	alog := audit.NewLog(db, now, slog.New(slog.NewTextHandler(t.Output(), nil)))
	t.Cleanup(alog.Close)
	st := &stack{reg: registry.NewService(db, units, alog, now), log: &syncBuffer{}}

	staffStore, err := staff.NewStore(db, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []staff.Account{
		{Username: "lan.nt", DisplayName: "Nguyễn Thị Lan", Role: actor.Registrar, Unit: baDinh, Province: "01"},
		{Username: "hung.lv", DisplayName: "Lê Văn Hùng", Role: actor.Leader, Unit: "01", Province: "01"},
	} {
		if err := staffStore.Create(ctx, a, password); err != nil {
			t.Fatal(err)
		}
	}

	l, err := registry.NewLoader(ctx, db, alog, actor.SystemActor("test"), today)
	if err != nil {
		t.Fatal(err)
	}
	alloc := func(year int, sex byte) string {
		p, err := l.AllocatePIN("001", year, sex)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	st.head, st.wife, st.other = alloc(1985, 'M'), alloc(1988, 'F'), alloc(1970, 'M')
	st.household = "HH-BADINH-0001"
	home := registry.Address{ProvinceCode: "01", CommuneCode: baDinh, Detail: "Số 12 phố Đội Cấn"}
	away := registry.Address{ProvinceCode: "01", CommuneCode: ngocHa, Detail: "Số 3 phố Hoàng Hoa Thám"}
	for _, h := range []registry.Household{
		{ID: st.household, HeadPIN: st.head, Address: home},
		{ID: "HH-NGOCHA-0001", HeadPIN: st.other, Address: away},
	} {
		if err := l.Household(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	d := func(s string) civildate.Date { v, _ := civildate.Parse(s); return v }
	people := []registry.Person{
		{PIN: st.head, FullName: "Nguyễn Văn An", BirthDate: d("1985-03-15"), Sex: "M", Ethnicity: "01", Permanent: home,
			Birthplace: registry.Address{CommuneCode: baDinh}, Hometown: "Nam Định",
			HouseholdID: st.household, Relation: registry.RelHead, SpousePIN: st.wife},
		{PIN: st.wife, FullName: "Trần Thị Bình", BirthDate: d("1988-07-20"), Sex: "F", Ethnicity: "06", Religion: "Phật giáo", Permanent: home,
			HouseholdID: st.household, Relation: "Vợ", SpousePIN: st.head},
		{PIN: st.other, FullName: "Lê Văn Cường", BirthDate: d("1970"), Sex: "M", Ethnicity: "01", Permanent: away,
			HouseholdID: "HH-NGOCHA-0001", Relation: registry.RelHead},
	}
	// Twenty-one namesakes in another household, for paging.
	namesakes := registry.Household{ID: "HH-BADINH-0002", Address: registry.Address{ProvinceCode: "01", CommuneCode: baDinh, Detail: "Ngõ 9 phố Vạn Phúc"}}
	for i := range 21 {
		p := registry.Person{PIN: alloc(1990+i, 'F'), FullName: "Phạm Thị Hoa", BirthDate: d(fmt.Sprint(1990 + i)), Sex: "F", Ethnicity: "01",
			Permanent: namesakes.Address, HouseholdID: namesakes.ID, Relation: "Chị"}
		if i == 0 {
			namesakes.HeadPIN, p.Relation = p.PIN, registry.RelHead
		}
		people = append(people, p)
	}
	if err := l.Household(ctx, namesakes); err != nil {
		t.Fatal(err)
	}
	for i := range people {
		if err := l.Person(ctx, &people[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	if withCards {
		dir := t.TempDir()
		if _, err := (pki.Options{Now: func() time.Time { return today.AddDate(0, 0, -10) }}).Init(dir); err != nil {
			t.Fatal(err)
		}
		st.cards = cardservice.New(db, st.reg, alog, dir, now)
	}
	pages, err := ui.New(ui.Deps{Registry: st.reg, Cards: st.cards, Staff: staffStore, Units: units, Now: now,
		Log: slog.New(slog.NewTextHandler(st.log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	pages.Mount(mux)
	st.srv = httptest.NewServer(mux)
	t.Cleanup(st.srv.Close)
	return st
}

// client is a browser: a cookie jar, no automatic redirects.
type client struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (st *stack) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: st.srv.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type response struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{status: resp.StatusCode, body: string(b), location: resp.Header.Get("Location"), header: resp.Header}
}

func (c *client) get(path string) response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the token of the first form on the page at path.
func (c *client) csrf(path string) string {
	c.t.Helper()
	r := c.get(path)
	m := csrfRE.FindStringSubmatch(r.body)
	if m == nil {
		c.t.Fatalf("no CSRF field on %s (status %d)", path, r.status)
	}
	return html.UnescapeString(m[1])
}

func (c *client) signIn(user string) {
	c.t.Helper()
	r := c.post("/login", url.Values{"csrf": {c.csrf("/login")}, "username": {user}, "password": {password}})
	if r.status != http.StatusSeeOther {
		c.t.Fatalf("sign-in as %s: status %d\n%s", user, r.status, r.body)
	}
}

// text is the page with tags removed and entities decoded, spaces collapsed.
func text(body string) string {
	s := regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(body, " ")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

func mustContain(t *testing.T, what string, r response, wants ...string) {
	t.Helper()
	plain := text(r.body)
	for _, w := range wants {
		if !strings.Contains(plain, w) && !strings.Contains(r.body, w) {
			t.Errorf("%s: page lacks %q\n%s", what, w, plain)
		}
	}
}

func TestSignIn(t *testing.T) {
	st := newStack(t)
	c := st.client(t)

	r := c.get("/persons?q=an")
	if r.status != http.StatusSeeOther || r.location != "/login?next="+url.QueryEscape("/persons?q=an") {
		t.Fatalf("anonymous search: %d → %q", r.status, r.location)
	}
	r = c.get("/login")
	if r.status != 200 {
		t.Fatalf("login page: %d", r.status)
	}
	if got := r.header.Get("Content-Security-Policy"); got != "default-src 'self'; form-action 'self'; frame-ancestors 'none'" {
		t.Errorf("CSP = %q", got)
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff header")
	}
	mustContain(t, "login page", r, `<html lang="vi">`, "Đăng nhập", "Tên đăng nhập", "Mật khẩu")

	// Wrong password and unknown user: the same message, nothing revealed.
	var msgs []string
	for _, user := range []string{"lan.nt", "nobody"} {
		r = c.post("/login", url.Values{"csrf": {c.csrf("/login")}, "username": {user}, "password": {"sai mật khẩu rồi"}})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("bad sign-in of %s: %d", user, r.status)
		}
		mustContain(t, "bad sign-in", r, "Tên đăng nhập hoặc mật khẩu không đúng.")
		if strings.Contains(r.body, "sai mật khẩu") {
			t.Error("the password typed is sent back")
		}
		msgs = append(msgs, text(regexp.MustCompile(`(?s)<div class="error-summary".*?</div>`).FindString(r.body)))
	}
	if msgs[0] != msgs[1] {
		t.Errorf("wrong password and unknown user differ: %q / %q", msgs[0], msgs[1])
	}

	// A sign-in form posted without its token (login CSRF) is refused.
	r = c.post("/login", url.Values{"username": {"lan.nt"}, "password": {password}})
	if r.status != http.StatusForbidden {
		t.Fatalf("sign-in without token: %d", r.status)
	}

	// Signing in returns to the page asked for, but only a local one.
	r = c.post("/login", url.Values{"csrf": {c.csrf("/login")}, "username": {"lan.nt"}, "password": {password}, "next": {"/persons?q=an"}})
	if r.status != http.StatusSeeOther || r.location != "/persons?q=an" {
		t.Fatalf("sign-in: %d → %q", r.status, r.location)
	}
	r = c.get("/")
	if r.status != 200 {
		t.Fatalf("home: %d", r.status)
	}
	mustContain(t, "home", r, "Nguyễn Thị Lan", "Cán bộ đăng ký", "Phường Ba Đình, Thành phố Hà Nội", `action="/persons"`,
		`href="/births/new"`, `href="/deaths/new"`, `href="/moves/new"`)

	// Sign out ends the session.
	r = c.post("/logout", url.Values{"csrf": {c.csrf("/")}})
	if r.status != http.StatusSeeOther || r.location != "/login" {
		t.Fatalf("logout: %d → %q", r.status, r.location)
	}
	if r = c.get("/"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/login") {
		t.Fatalf("after logout: %d → %q", r.status, r.location)
	}

	c2 := st.client(t)
	r = c2.post("/login", url.Values{"csrf": {c2.csrf("/login")}, "username": {"lan.nt"}, "password": {password}, "next": {"//evil.example/"}})
	if r.location != "/" {
		t.Fatalf("sign-in went to %q", r.location)
	}
}

func TestSearchAndPerson(t *testing.T) {
	st := newStack(t)
	c := st.client(t)
	c.signIn("lan.nt")

	r := c.get("/persons?" + url.Values{"q": {"nguyen van an"}}.Encode())
	if r.status != 200 {
		t.Fatalf("search: %d", r.status)
	}
	mustContain(t, "search without diacritics", r, "Nguyễn Văn An", `href="/persons/`+st.head+`"`, "15/03/1985", "Nam",
		"Số 12 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội", "Còn sống")
	if strings.Contains(r.body, "Lê Văn Cường") {
		t.Error("search shows a person outside the unit")
	}

	// Paging: twenty on the first page, then "Trang sau".
	r = c.get("/persons?" + url.Values{"q": {"Pham Thi Hoa"}}.Encode())
	if n := strings.Count(r.body, ">Phạm Thị Hoa<"); n != 20 {
		t.Fatalf("first page has %d namesakes", n)
	}
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next" id="next-page">Trang sau</a>`).FindStringSubmatch(r.body)
	if next == nil {
		t.Fatal("no next-page link")
	}
	r = c.get(html.UnescapeString(next[1]))
	if n := strings.Count(r.body, ">Phạm Thị Hoa<"); n != 1 || strings.Contains(r.body, `id="next-page"`) {
		t.Fatalf("second page has %d namesakes", n)
	}

	r = c.get("/persons?" + url.Values{"q": {"binh"}, "birth_date": {"1988"}}.Encode())
	mustContain(t, "search by given name and year", r, "Trần Thị Bình", "Nữ")

	r = c.get("/persons?" + url.Values{"q": {st.head[:3] + " " + st.head[3:]}}.Encode())
	mustContain(t, "search by PIN typed in groups", r, "Nguyễn Văn An")

	r = c.get("/persons?" + url.Values{"birth_date": {"31/02/1985"}}.Encode())
	if r.status != http.StatusUnprocessableEntity {
		t.Errorf("bad search date: %d", r.status)
	}
	mustContain(t, "bad search date", r, "Lỗi: Ngày không tồn tại trong lịch.", `value="31/02/1985"`, `aria-invalid="true"`)

	r = c.get("/persons/" + st.head)
	if r.status != 200 {
		t.Fatalf("person page: %d", r.status)
	}
	mustContain(t, "person page", r,
		`id="pin" class="mono">`+st.head+`<`,
		"Họ và tên Nguyễn Văn An", "Ngày sinh 15/03/1985", "Giới tính Nam", "Dân tộc Kinh", "Tôn giáo Không",
		"Quốc tịch Việt Nam", "Nơi sinh Phường Ba Đình, Thành phố Hà Nội", "Quê quán Nam Định",
		"Nơi thường trú Số 12 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội", "Nơi tạm trú —",
		"Số định danh cá nhân "+st.head, "Tình trạng Còn sống",
		`id="household-members"`, "Trần Thị Bình", "Vợ", "Chủ hộ",
		"Quá trình cư trú", "Thường trú", "Lịch sử thay đổi", "system:test"[7:],
		`href="/deaths/new?pin=`+st.head+`"`, `href="/moves/new?pin=`+st.head+`"`, `href="/births/new?father_pin=`+st.head+`"`,
		"Khai tử", "Đăng ký thường trú nơi mới", "Khai sinh cho con")

	r = c.get("/persons/" + st.wife)
	mustContain(t, "wife", r, "Dân tộc Mường", "Tôn giáo Phật giáo", `href="/births/new?mother_pin=`+st.wife+`"`)

	r = c.get("/households/" + st.household)
	if r.status != 200 {
		t.Fatalf("household page: %d", r.status)
	}
	mustContain(t, "household page", r, `id="household-members"`, "Nguyễn Văn An", "Trần Thị Bình")

	// Out of the registrar's commune.
	r = c.get("/persons/" + st.other)
	if r.status != http.StatusForbidden {
		t.Fatalf("other commune: %d", r.status)
	}
	mustContain(t, "other commune", r, "Công dân này không thuộc địa bàn bạn quản lý.")
	if strings.Contains(r.body, "Lê Văn Cường") {
		t.Error("the refused page shows the person")
	}
	if r = c.get("/households/HH-NGOCHA-0001"); r.status != http.StatusForbidden {
		t.Errorf("other commune's household: %d", r.status)
	}

	// Nobody: to a registrar of a unit, the same refusal as someone elsewhere.
	r = c.get("/persons/001085999999")
	if r.status != http.StatusForbidden {
		t.Fatalf("unknown PIN: %d", r.status)
	}
	mustContain(t, "unknown PIN", r, "Công dân này không thuộc địa bàn bạn quản lý.")
	if r = c.get("/households/nope"); r.status != http.StatusForbidden {
		t.Errorf("unknown household: %d", r.status)
	}

	// English.
	r = c.get("/lang?" + url.Values{"l": {"en"}, "next": {"/persons/" + st.head}}.Encode())
	if r.status != http.StatusSeeOther || r.location != "/persons/"+st.head {
		t.Fatalf("switch to English: %d → %q", r.status, r.location)
	}
	r = c.get("/persons/" + st.head)
	mustContain(t, "English person page", r, `<html lang="en">`, "Full name Nguyễn Văn An", "Date of birth 15/03/1985",
		"Sex Male", "Ethnic group Kinh", "Nationality Vietnam", "Status Alive", "Head", "Wife", "Register death", "Tiếng Việt")
	r = c.get("/persons/" + st.other)
	mustContain(t, "English refusal", r, "This person is outside your administrative unit.")
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example"} {
		r = c.get("/lang?" + url.Values{"l": {"vi"}, "next": {next}}.Encode())
		if r.location != "/" {
			t.Errorf("lang next=%q went to %q", next, r.location)
		}
	}
	r = c.get("/persons/" + st.head)
	mustContain(t, "back in Vietnamese", r, `<html lang="vi">`, "Ngày sinh")

	// Static stylesheet.
	r = c.get("/static/dancu.css")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") || !strings.Contains(r.body, ":focus-visible") {
		t.Errorf("stylesheet: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if r = c.get("/static/"); r.status != http.StatusNotFound {
		t.Errorf("static directory listing: %d", r.status)
	}
}

func TestBirth(t *testing.T) {
	st := newStack(t)
	c := st.client(t)
	c.signIn("lan.nt")
	system := actor.SystemActor("test")
	ctx := context.Background()
	members := func() int {
		h, err := st.reg.Household(ctx, system, st.household)
		if err != nil {
			t.Fatal(err)
		}
		return len(h.Members)
	}
	before := members()

	r := c.get("/births/new?mother_pin=" + st.wife)
	if r.status != 200 {
		t.Fatalf("birth form: %d", r.status)
	}
	mustContain(t, "birth form", r, `name="mother_pin"`, `value="`+st.wife+`"`, `name="full_name"`, `type="radio" name="sex" value="M"`,
		`name="birth_date" value="" placeholder="dd/mm/yyyy"`, `<option value="01" selected>`, `<option value="VNM" selected>Việt Nam`, `name="csrf"`)
	token := csrfRE.FindStringSubmatch(r.body)[1]

	form := url.Values{"csrf": {token}, "full_name": {"Nguyễn Minh Khang"}, "sex": {"M"}, "birth_date": {"32/01/2026"},
		"ethnicity": {"01"}, "nationality": {"VNM"}, "birthplace_commune": {baDinh}, "birthplace_detail": {"Bệnh viện Phụ sản Hà Nội"},
		"mother_pin": {st.wife}, "reason": {"Giấy chứng sinh số 123/2026"}}

	// A bad date: the form comes back with the values and the message, and
	// nothing is written.
	r = c.post("/births", form)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad birth date: %d", r.status)
	}
	mustContain(t, "bad birth date", r, "Vui lòng kiểm tra lại", `href="#f-birth_date"`, "Lỗi: Ngày không tồn tại trong lịch.",
		`value="Nguyễn Minh Khang"`, `value="32/01/2026"`, `value="Bệnh viện Phụ sản Hà Nội"`, `value="M" id="sex-m" checked`,
		"Giấy chứng sinh số 123/2026", `aria-invalid="true"`)
	if members() != before {
		t.Fatal("a refused birth was written")
	}
	page, err := st.reg.Search(ctx, system, registry.Query{Text: "nguyen minh khang"})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("a refused birth is findable: %v %v", page.Items, err)
	}

	// Several faults at once, each next to its field.
	bad := url.Values{"csrf": {token}, "full_name": {"Khang 2"}, "birth_date": {"05/01/2026"}, "mother_pin": {"12345"}}
	r = c.post("/births", bad)
	mustContain(t, "several faults", r, "Lỗi: Họ và tên chỉ gồm chữ cái", "Lỗi: Giới tính phải là Nam hoặc Nữ.",
		"Lỗi: Số định danh cá nhân phải gồm đúng 12 chữ số.", `href="#f-full_name"`, `href="#f-sex"`, `href="#f-mother_pin"`)

	// In English the service's English messages are shown.
	c.get("/lang?l=en&next=/")
	r = c.post("/births", form)
	mustContain(t, "English fault", r, "Error: No such day in the calendar.", `<html lang="en">`, "Register a birth")
	c.get("/lang?l=vi&next=/")

	// Without the CSRF token: refused before anything happens.
	good := url.Values{}
	for k, v := range form {
		good[k] = v
	}
	good.Set("birth_date", "05/01/2026")
	noToken := url.Values{}
	for k, v := range good {
		if k != "csrf" {
			noToken[k] = v
		}
	}
	r = c.post("/births", noToken)
	if r.status != http.StatusForbidden {
		t.Fatalf("birth without CSRF token: %d", r.status)
	}
	mustContain(t, "CSRF refusal", r, "Yêu cầu bị từ chối", "Biểu mẫu đã hết hạn hoặc không hợp lệ.")
	wrong := url.Values{}
	for k, v := range good {
		wrong[k] = v
	}
	wrong.Set("csrf", "forged")
	if r = c.post("/births", wrong); r.status != http.StatusForbidden {
		t.Fatalf("birth with a forged token: %d", r.status)
	}
	if members() != before {
		t.Fatal("a birth without CSRF token was written")
	}

	// A valid birth: to the child's page, with its new PIN.
	r = c.post("/births", good)
	if r.status != http.StatusSeeOther {
		t.Fatalf("birth: %d\n%s", r.status, text(r.body))
	}
	m := regexp.MustCompile(`^/persons/(\d{12})\?done=birth$`).FindStringSubmatch(r.location)
	if m == nil {
		t.Fatalf("birth redirected to %q", r.location)
	}
	child := m[1]
	r = c.get(r.location)
	mustContain(t, "child page", r, `id="flash"`, "Đã đăng ký khai sinh. Số định danh cá nhân: "+child,
		`id="pin" class="mono">`+child+`<`, "Nguyễn Minh Khang", "05/01/2026", "Con",
		`href="/persons/`+st.wife+`"`, "Khai sinh", "Giấy chứng sinh số 123/2026", "lan.nt")
	if members() != before+1 {
		t.Fatal("the child is not in the household")
	}
	r = c.get("/households/" + st.household)
	mustContain(t, "household with child", r, "Nguyễn Minh Khang", child)
	r = c.get("/persons/" + st.wife)
	if hm := regexp.MustCompile(`(?s)<table id="household-members">.*?</table>`).FindString(r.body); !strings.Contains(hm, child) {
		t.Error("the mother's page does not list the child among the household members")
	}

	// Nothing personal reached the log.
	logged := st.log.String()
	for _, secret := range []string{child, st.wife, st.head, "Nguyễn", "Khang", "32/01/2026", "Giấy chứng sinh", "nguyen van an", password} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logged)
		}
	}
	if !strings.Contains(logged, "route=\"POST /births\"") || !strings.Contains(logged, "code=csrf") {
		t.Errorf("the CSRF refusal is not logged with its route and code:\n%s", logged)
	}
}

func TestDeathAndMove(t *testing.T) {
	st := newStack(t)
	c := st.client(t)
	c.signIn("lan.nt")

	r := c.get("/deaths/new?pin=" + st.head)
	if r.status != 200 {
		t.Fatalf("death form: %d", r.status)
	}
	mustContain(t, "death form", r, "Công dân được đăng ký", "Nguyễn Văn An", `value="`+st.head+`"`,
		`<datalist id="members">`, `<option value="`+st.wife+`">`)
	token := csrfRE.FindStringSubmatch(r.body)[1]

	// A successor named must be a living member (none named: the rule of
	// registry.nextHead picks one).
	r = c.post("/deaths", url.Values{"csrf": {token}, "pin": {st.head}, "death_date": {"20/02/2026"}, "new_head_pin": {st.other}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("death with a stranger as new head: %d", r.status)
	}
	mustContain(t, "death with a stranger as new head", r, "Lỗi: Chủ hộ mới phải là thành viên còn sống của hộ", `href="#f-new_head_pin"`)
	r = c.post("/deaths", url.Values{"csrf": {token}, "pin": {st.head}, "death_date": {"20/02/2026"}, "new_head_pin": {st.wife}, "reason": {"Giấy báo tử"}})
	if r.status != http.StatusSeeOther || r.location != "/persons/"+st.head+"?done=death" {
		t.Fatalf("death: %d → %q\n%s", r.status, r.location, text(r.body))
	}
	r = c.get(r.location)
	mustContain(t, "dead person", r, "Đã đăng ký khai tử.", "Tình trạng Đã chết, ngày mất 20/02/2026", "Khai tử")
	if strings.Contains(r.body, `href="/deaths/new?pin=`) {
		t.Error("a dead person still offers a death registration")
	}
	r = c.post("/deaths", url.Values{"csrf": {token}, "pin": {st.head}, "death_date": {"20/02/2026"}})
	if r.status != http.StatusConflict {
		t.Fatalf("second death: %d", r.status)
	}
	mustContain(t, "second death", r, "Công dân này đã được đăng ký khai tử.")

	// The wife, now head alone, moves to a new household in the same commune.
	r = c.get("/moves/new?pin=" + st.wife)
	mustContain(t, "move form", r, "Trần Thị Bình", `name="commune_code"`, `<option value="`+baDinh+`" selected>Phường Ba Đình`)
	r = c.post("/moves", url.Values{"csrf": {token}, "pin": {st.wife}, "date": {"2026-02-25"}, "commune_code": {baDinh},
		"address_detail": {"Số 8 phố Kim Mã"}, "reason": {"Chuyển chỗ ở"}})
	if r.status != http.StatusSeeOther || r.location != "/persons/"+st.wife+"?done=move" {
		t.Fatalf("move: %d → %q\n%s", r.status, r.location, text(r.body))
	}
	r = c.get(r.location)
	mustContain(t, "moved person", r, "Đã đăng ký thường trú nơi mới.", "Số 8 phố Kim Mã, Phường Ba Đình", "Số 12 phố Đội Cấn")

	// A move into a household needs the relation.
	r = c.post("/moves", url.Values{"csrf": {token}, "pin": {st.wife}, "date": {"2026-02-26"}, "household_id": {st.household}})
	mustContain(t, "move without relation", r, "Lỗi: Nhập quan hệ với chủ hộ của hộ chuyển đến.")
}

func TestLeader(t *testing.T) {
	st := newStack(t)
	c := st.client(t)
	c.signIn("hung.lv")

	r := c.get("/")
	mustContain(t, "leader home", r, "Lê Văn Hùng", "Lãnh đạo", "Thành phố Hà Nội", "Tài khoản của bạn chỉ có quyền tra cứu.")
	if strings.Contains(r.body, `href="/births/new"`) {
		t.Error("a leader is offered the birth form")
	}
	// A province leader reads both communes.
	for _, p := range []string{st.head, st.other} {
		if r = c.get("/persons/" + p); r.status != 200 {
			t.Fatalf("leader reads %s: %d", p, r.status)
		}
		if strings.Contains(r.body, `href="/births/new`) || strings.Contains(r.body, `href="/deaths/new`) {
			t.Error("a leader is offered registrations on the person page")
		}
	}
	for _, path := range []string{"/births/new", "/deaths/new", "/moves/new"} {
		r = c.get(path)
		if r.status != http.StatusForbidden {
			t.Fatalf("leader GET %s: %d", path, r.status)
		}
		mustContain(t, "leader form", r, "Bạn không có quyền thực hiện thao tác này.")
	}
	token := c.csrf("/")
	r = c.post("/births", url.Values{"csrf": {token}, "full_name": {"Nguyễn Minh Khang"}, "sex": {"M"}, "birth_date": {"05/01/2026"}, "mother_pin": {st.wife}})
	if r.status != http.StatusForbidden {
		t.Fatalf("leader POST /births: %d", r.status)
	}
	mustContain(t, "leader birth", r, "Bạn không có quyền thực hiện thao tác này.")
	h, err := st.reg.Household(context.Background(), actor.SystemActor("test"), st.household)
	if err != nil || len(h.Members) != 2 {
		t.Fatalf("household after a leader's birth: %d members, %v", len(h.Members), err)
	}
}

func TestTemporaryResidence(t *testing.T) {
	st := newStack(t)
	c := st.client(t)
	c.signIn("lan.nt")
	// Lê Văn Cường lives in Ngọc Hà and comes to stay in Ba Đình, the registrar's commune.
	r := c.get("/temporary-residences/new?pin=" + st.other)
	if r.status != 200 {
		t.Fatalf("form: %d", r.status)
	}
	mustContain(t, "form", r, "Đăng ký tạm trú", `<option value="`+baDinh+`" selected>Phường Ba Đình`, `name="from"`, `name="to"`,
		`name="arrival_application"`, `name="card_qr"`, "Căn cứ công dân đến địa bàn")
	token := csrfRE.FindStringSubmatch(r.body)[1]
	// He lives outside Ba Đình: without his own application the registrar
	// cannot register him there.
	r = c.post("/temporary-residences", url.Values{"csrf": {token}, "pin": {st.other}, "commune_code": {baDinh},
		"address_detail": {"Số 3 ngõ Núi Trúc"}, "from": {"01/02/2026"}, "to": {"31/01/2027"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("stay without evidence: %d", r.status)
	}
	mustContain(t, "no evidence", r, "Công dân này không thuộc địa bàn bạn quản lý.")
	app, err := st.reg.FileArrival(context.Background(), actor.Actor{ID: "citizen:" + st.other}, registry.ArrivalInput{Kind: registry.ArrivalTemporary, Commune: baDinh})
	if err != nil {
		t.Fatal(err)
	}
	r = c.post("/temporary-residences", url.Values{"csrf": {token}, "pin": {st.other}, "commune_code": {baDinh}, "arrival_application": {app.ID},
		"address_detail": {"Số 3 ngõ Núi Trúc"}, "from": {"01/02/2026"}, "to": {"01/03/2028"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("three-year stay: %d", r.status)
	}
	mustContain(t, "too long", r, "Lỗi: Thời hạn tạm trú tối đa 2 năm", `value="Số 3 ngõ Núi Trúc"`)
	r = c.post("/temporary-residences", url.Values{"csrf": {token}, "pin": {st.other}, "commune_code": {baDinh}, "arrival_application": {app.ID},
		"address_detail": {"Số 3 ngõ Núi Trúc"}, "from": {"01/02/2026"}, "to": {"31/01/2027"}, "reason": {"Làm việc"}})
	if r.status != http.StatusSeeOther || r.location != "/persons/"+st.other+"?done=temporary" {
		t.Fatalf("registration: %d → %q\n%s", r.status, r.location, text(r.body))
	}
	r = c.get(r.location)
	if r.status != 200 {
		t.Fatalf("the registrar of the place of stay cannot open the person: %d", r.status)
	}
	mustContain(t, "person", r, "Đã đăng ký tạm trú.", "Số 3 ngõ Núi Trúc, Phường Ba Đình", "Đăng ký tạm trú")
	r = c.post("/temporary-residences", url.Values{"pin": {st.other}, "commune_code": {baDinh}, "from": {"01/02/2026"}, "to": {"31/01/2027"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("without CSRF token: %d", r.status)
	}
}
