package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/storage"
)

// staffClient is a staff member's browser on the whole platform.
type staffClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

type staffPage struct {
	status         int
	body, location string
}

func (c *staffClient) do(method, path string, form url.Values) staffPage {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return staffPage{resp.StatusCode, string(b), resp.Header.Get("Location")}
}

var staffCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *staffClient) token(p staffPage) string {
	c.t.Helper()
	m := staffCSRF.FindStringSubmatch(p.body)
	if m == nil {
		c.t.Fatalf("no CSRF token (status %d):\n%s", p.status, p.body)
	}
	return m[1]
}

func signInStaff(t *testing.T, env *apptest.Env, user string) *staffClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &staffClient{t: t, base: env.Server.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	p := c.do(http.MethodPost, "/login", url.Values{"csrf": {c.token(c.do(http.MethodGet, "/login", nil))}, "username": {user}, "password": {apptest.Password}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("staff sign-in %s: %d", user, p.status)
	}
	return c
}

var otpRE = regexp.MustCompile(`dinh danh dien tu: (\d{6})`)

// TestOrganisationRegistrationPage: a registrar registers a company and its
// level-2 representative on the staff page; wrong codes and a level-1
// representative are shown next to their fields; a leader may not.
func TestOrganisationRegistrationPage(t *testing.T) {
	env := apptest.Start(t, storage.SQLite, 60)
	ctx := context.Background()
	// Two citizens with e-ID accounts: one level 1, one level 2.
	rows, err := env.App.DB.R.Query(`SELECT pin, full_name, birth_date FROM persons WHERE status = 'alive' AND birth_date < '2000' AND length(birth_date) = 10 ORDER BY pin LIMIT 2`)
	if err != nil {
		t.Fatal(err)
	}
	var pins []string
	for rows.Next() {
		var pin, name, birth string
		rows.Scan(&pin, &name, &birth)
		en, err := env.App.EID.StartRegistration(ctx, eid.RegistrationInput{PIN: pin, CardNumber: pin, FullName: name, BirthDate: birth, Phone: "0912345678"})
		if err != nil {
			t.Fatal(err)
		}
		codes := otpRE.FindAllStringSubmatch(env.Logs.String(), -1)
		if _, err := env.App.EID.CompleteRegistration(ctx, en.ID, codes[len(codes)-1][1], "mật khẩu đủ dài của công dân"); err != nil {
			t.Fatal(err)
		}
		pins = append(pins, pin)
	}
	rows.Close()
	level1, level2 := pins[0], pins[1]
	if _, err := env.App.EID.Activate(ctx, actor.Actor{ID: "staff:test", Role: actor.Registrar}, level2); err != nil {
		t.Fatal(err)
	}

	if p := signInStaff(t, env, "lanhdao.hanoi").do(http.MethodGet, "/organisations/new", nil); p.status != http.StatusForbidden {
		t.Fatalf("leader opens the organisation page: %d", p.status)
	}
	c := signInStaff(t, env, "dangky.hanoi")
	if p := c.do(http.MethodGet, "/", nil); !strings.Contains(p.body, `id="link-org"`) {
		t.Fatalf("no link to the organisation page on the registrar's home:\n%s", p.body)
	}
	form := c.do(http.MethodGet, "/organisations/new", nil)
	if form.status != http.StatusOK || !strings.Contains(form.body, "Đăng ký tổ chức") {
		t.Fatalf("form %d:\n%s", form.status, form.body)
	}
	csrf := c.token(form)
	cases := []struct {
		name, kind, code, rep string
		status                int
		want                  string
		// taken: the code is registered before the call (by the case
		// before, or here when the case runs alone).
		taken bool
	}{
		{"bad tax code", "company", "12345", level2, http.StatusUnprocessableEntity, "Mã số thuế", false},
		{"level-1 representative", "company", "0109876543", level1, http.StatusUnprocessableEntity, "mức 2", false},
		{"registered", "company", "0109876543", level2, http.StatusSeeOther, "", false},
		{"same code again", "company", "0109876543", level2, http.StatusConflict, "đã được đăng ký", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"csrf": {csrf}, "kind": {tc.kind}, "code": {tc.code}, "name": {"Công ty TNHH Bình Minh"}, "representative_pin": {tc.rep}}
			if tc.taken {
				if p := c.do(http.MethodPost, "/organisations", form); p.status != http.StatusSeeOther && p.status != http.StatusConflict {
					t.Fatalf("registering the code first: %d\n%s", p.status, p.body)
				}
			}
			p := c.do(http.MethodPost, "/organisations", form)
			if p.status != tc.status || !strings.Contains(p.body, tc.want) {
				t.Fatalf("got %d, want %d with %q:\n%s", p.status, tc.status, tc.want, p.body)
			}
			if p.status == http.StatusSeeOther {
				if done := c.do(http.MethodGet, strings.TrimPrefix(p.location, c.base), nil); !strings.Contains(done.body, "0109876543") {
					t.Fatalf("no confirmation:\n%s", done.body)
				}
				ms, err := env.App.EID.Memberships(ctx, level2)
				if err != nil || len(ms) != 1 || ms[0].Role != eid.RoleRepresentative || ms[0].Org.Name != "Công ty TNHH Bình Minh" {
					t.Fatalf("representative's memberships %+v %v", ms, err)
				}
			}
		})
	}
}
