package portal_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/web/portal"
)

const password = "mật khẩu đủ dài của công dân"

// fixture is the platform with the portal mounted in front of its handler
// (the composition root does not mount it yet).
type fixture struct {
	env  *apptest.Env
	srv  *httptest.Server
	used map[string]bool // PINs already given to a test
}

func start(t *testing.T, d storage.Dialect) *fixture {
	t.Helper()
	env := apptest.Start(t, d, 60)
	p, err := portal.New(portal.Deps{Accounts: env.App.EID, Provider: env.App.OIDC, Register: env.App.Registry, Cards: env.App.Cards,
		AccessLog: env.App.Audit, Log: env.App.Log, Now: env.App.Now})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Mount(mux)
	mux.Handle("/", env.App.Handler)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &fixture{env: env, srv: srv, used: map[string]bool{}}
}

// citizen is a seeded living adult with an e-ID account.
type citizen struct {
	pin, name, birth string
	totp             string // base32 secret, level 2 only
	step             int64  // last TOTP step used
}

// person picks a living adult not given to another test yet.
func (f *fixture) person(t *testing.T) citizen {
	t.Helper()
	rows, err := f.env.App.DB.R.Query(`SELECT pin, full_name, birth_date FROM persons
		WHERE status = 'alive' AND birth_date < '2000' AND length(birth_date) = 10 ORDER BY pin`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c citizen
		if err := rows.Scan(&c.pin, &c.name, &c.birth); err != nil {
			t.Fatal(err)
		}
		if !f.used[c.pin] {
			f.used[c.pin] = true
			return c
		}
	}
	t.Fatal("no seeded adult left")
	return citizen{}
}

var smsRE = regexp.MustCompile(`dinh danh dien tu: (\d{6})`)

// level1 registers a level-1 account; the one-time code comes from the
// development SMS sink, which writes it to the log.
func (f *fixture) level1(t *testing.T) citizen {
	t.Helper()
	ctx := context.Background()
	c := f.person(t)
	e, err := f.env.App.EID.StartRegistration(ctx, eid.RegistrationInput{PIN: c.pin, CardNumber: c.pin, FullName: c.name, BirthDate: c.birth, Phone: "0912345678"})
	if err != nil {
		t.Fatal(err)
	}
	codes := smsRE.FindAllStringSubmatch(f.env.Logs.String(), -1)
	if len(codes) == 0 {
		t.Fatal("no one-time code in the development SMS sink")
	}
	if _, err := f.env.App.EID.CompleteRegistration(ctx, e.ID, codes[len(codes)-1][1], password); err != nil {
		t.Fatal(err)
	}
	return c
}

// level2 registers, activates level 2 as a registrar and enrols TOTP.
func (f *fixture) level2(t *testing.T) citizen {
	t.Helper()
	ctx := context.Background()
	c := f.level1(t)
	registrar := actor.Actor{ID: "staff:test.registrar", Role: actor.Registrar}
	if _, err := f.env.App.EID.Activate(ctx, registrar, c.pin); err != nil {
		t.Fatal(err)
	}
	en, err := f.env.App.EID.EnrolTOTP(ctx, c.pin)
	if err != nil {
		t.Fatal(err)
	}
	c.totp, c.step = en.Secret, time.Now().Unix()/30
	if err := f.env.App.EID.ConfirmTOTP(ctx, c.pin, totpCode(t, c.totp, c.step)); err != nil {
		t.Fatal(err)
	}
	return c
}

// nextCode is a code of the step after the last one used: within the
// provider's one-step tolerance, and never a replay.
func (c *citizen) nextCode(t *testing.T) string {
	c.step++
	return totpCode(t, c.totp, c.step)
}

// totpCode is RFC 6238 (HMAC-SHA1, 30 s, 6 digits), as an authenticator
// app computes it.
func totpCode(t *testing.T, secret string, step int64) string {
	code, err := eid.TOTPAt(secret, time.Unix(step*30, 0))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// browser is an HTTP client with cookies that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (f *fixture) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: f.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	body     string
	location string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, string(body), resp.Header.Get("Location")}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the token of the first form of a page.
func (b *browser) csrf(p page) string {
	b.t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("no CSRF token on the page (status %d):\n%s", p.status, p.body)
	}
	return m[1]
}

// signIn posts the sign-in form; totp may be empty.
func (b *browser) signIn(pin, pw, totp string) page {
	b.t.Helper()
	form := b.get("/citizen/login")
	return b.post("/citizen/login", url.Values{"csrf": {b.csrf(form)}, "pin": {pin}, "password": {pw}, "totp": {totp}})
}

// text is a page's body without tags, unescaped, for simple matching.
func text(body string) string {
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body, " "))
}
