package oidcop_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
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
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/delivery"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/throttle"
	"github.com/dancu-project/dancu/internal/web/portal"
)

// register is a fake population register that counts reads per purpose.
type register struct {
	mu     sync.Mutex
	people map[string]registry.Person
	reads  map[string]int
}

func (f *register) Get(_ context.Context, a actor.Actor, pin, purpose string) (registry.Person, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.people[pin]
	if !ok {
		return registry.Person{}, registry.ErrPersonNotFound
	}
	if !a.Covers(p.Permanent.ProvinceCode, p.Permanent.CommuneCode) {
		return registry.Person{}, fault.ErrOutOfScope
	}
	f.reads[a.ID+" "+purpose]++
	return p, nil
}

type smsBox struct {
	mu   sync.Mutex
	last string
}

func (b *smsBox) Send(_ context.Context, _, text string) error {
	b.mu.Lock()
	b.last = text
	b.mu.Unlock()
	return nil
}

const (
	pinL1    = "001090000001"
	pinL2    = "001090000002"
	password = "mật khẩu đủ dài"
	// redirect is where relying parties receive codes; nothing listens
	// there: the test's browser stops at the redirect.
	redirect = "http://127.0.0.1:9/cb"
)

var secret = []byte(strings.Repeat("z", 32))

// env is a running provider with two citizens (level 1 and level 2 with
// TOTP) and four clients.
type env struct {
	srv      *httptest.Server
	issuer   string
	provider *oidcop.Provider
	accounts *eid.Service
	register *register
	totp     string // level-2 citizen's TOTP secret
	db       *storage.DB
}

func start(t testing.TB, db *storage.DB) *env {
	t.Helper()
	return startWith(t, db, nil)
}

// startWith starts the provider with a password gate (nil: the service's
// own, sized from this machine).
func startWith(t testing.TB, db *storage.DB, passwords *throttle.Gate) *env {
	t.Helper()
	ctx := context.Background()
	reg := &register{people: map[string]registry.Person{}, reads: map[string]int{}}
	for _, pin := range []string{pinL1, pinL2} {
		reg.people[pin] = registry.Person{PIN: pin, FullName: "Nguyễn Văn An", BirthDate: civildate.Date{Year: 1990, Month: 3, Day: 15}, Sex: "M",
			Status: registry.Alive, Permanent: registry.Address{ProvinceCode: "01", CommuneCode: "00004", Text: "Phường Ba Đình, Thành phố Hà Nội"}}
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	sms := &smsBox{}
	accounts, err := eid.NewService(eid.Deps{DB: db, Register: reg, SMS: sms, Secret: secret, Log: log, Passwords: passwords})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{accounts: accounts, register: reg, db: db}
	for _, pin := range []string{pinL1, pinL2} {
		en, err := accounts.StartRegistration(ctx, eid.RegistrationInput{PIN: pin, CardNumber: pin, FullName: "Nguyễn Văn An", BirthDate: "1990-03-15", Phone: "0912345678"})
		if err != nil {
			t.Fatal(err)
		}
		code := regexp.MustCompile(`\d{6}`).FindString(sms.last)
		if _, err := accounts.CompleteRegistration(ctx, en.ID, code, password); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := accounts.Activate(ctx, actor.Actor{ID: "staff:hn", Role: actor.Registrar, Unit: "01", Province: "01"}, pinL2); err != nil {
		t.Fatal(err)
	}
	enrol, err := accounts.EnrolTOTP(ctx, pinL2)
	if err != nil {
		t.Fatal(err)
	}
	e.totp = enrol.Secret
	if err := accounts.ConfirmTOTP(ctx, pinL2, totpCode(enrol.Secret, time.Now().Add(-30*time.Second))); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.issuer = e.srv.URL + "/oidc"
	e.provider, err = oidcop.New(oidcop.Deps{Pages: testPages(t), DB: db, Accounts: accounts, Register: reg, Issuer: e.issuer, Secret: secret, Log: log,
		LogoutClient: delivery.NewClient(5*time.Second, 1, delivery.Egress{Development: true})})
	if err != nil {
		t.Fatal(err)
	}
	e.provider.Mount(mux)
	all := []string{oidcop.ScopeProfile, oidcop.ScopeAddress, oidcop.ScopePIN, "offline_access"}
	for _, c := range []oidcop.Client{
		{ID: "portal", Secret: clientSecret("portal"), Name: "Cổng dịch vụ công", Purpose: "Thực hiện thủ tục hành chính", RedirectURIs: []string{redirect},
			PostLogoutRedirectURIs: []string{redirect + "/logged-out"},
			GrantTypes:             []string{oidcop.GrantAuthorizationCode, oidcop.GrantRefreshToken}, Scopes: all, DevMode: true},
		{ID: "bank", Secret: clientSecret("bank"), Name: "Ngân hàng A", Purpose: "Xác minh khách hàng (eKYC)", RedirectURIs: []string{redirect},
			GrantTypes: []string{oidcop.GrantAuthorizationCode}, Scopes: all, MinLevel: eid.Level2, DevMode: true},
		{ID: "app", Name: "Ứng dụng di động", Purpose: "Đăng nhập", RedirectURIs: []string{redirect},
			GrantTypes: []string{oidcop.GrantAuthorizationCode}, Scopes: []string{oidcop.ScopeProfile}},
		{ID: "partner", Secret: clientSecret("partner"), Name: "Bộ Y tế", Purpose: "Đối soát dữ liệu", GrantTypes: []string{oidcop.GrantClientCredentials},
			Scopes: []string{"reconcile"}},
	} {
		if err := e.provider.Clients().Add(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// clientSecret derives a test secret; real secrets come from configuration.
func clientSecret(id string) string { return "test-secret-of-" + id + strings.Repeat("x", 32) }

func totpCode(secret string, t time.Time) string {
	key, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix()/30))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:off+4])&0x7fffffff)%1_000_000)
}

// browser is a citizen's browser: it keeps cookies and stops at the
// relying party's redirect URI.
func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

var (
	idRE   = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)
	csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	// switchRE finds a page's language switch.
	switchRE = regexp.MustCompile(`<a class="lang" href="([^"]+)"`)
)

// outcome is where a browser flow ended.
type outcome struct {
	status   int
	body     string
	location *url.URL // the redirect to the relying party, if reached
	consent  bool     // the consent page was shown
	header   http.Header
}

func (o outcome) code() string {
	if o.location == nil {
		return ""
	}
	return o.location.Query().Get("code")
}

func read(t *testing.T, resp *http.Response) outcome {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	o := outcome{status: resp.StatusCode, body: string(b)}
	if loc := resp.Header.Get("Location"); loc != "" && strings.HasPrefix(loc, redirect) {
		o.location, _ = url.Parse(loc)
	}
	return o
}

func submit(t *testing.T, b *http.Client, target string, page string, form url.Values) outcome {
	t.Helper()
	id, csrf := idRE.FindStringSubmatch(page), csrfRE.FindStringSubmatch(page)
	if id == nil || csrf == nil {
		t.Fatalf("no form on the page:\n%s", page)
	}
	form.Set("authRequestID", id[1])
	form.Set("csrf", csrf[1])
	resp, err := b.PostForm(target, form)
	if err != nil {
		t.Fatal(err)
	}
	return read(t, resp)
}

// authorize runs the browser part of a flow: open authURL, sign in, consent
// (allow or deny) when asked.
func (e *env) authorize(t *testing.T, b *http.Client, authURL, pin, totp string, allow bool) outcome {
	t.Helper()
	resp, err := b.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	o := read(t, resp)
	if o.location != nil || o.status != http.StatusOK {
		return o
	}
	o = submit(t, b, e.issuer+"/login", o.body, url.Values{"pin": {pin}, "password": {password}, "totp": {totp}})
	if o.location != nil || o.status != http.StatusOK || !strings.Contains(o.body, `name="decision"`) {
		return o
	}
	decision := "deny"
	if allow {
		decision = "allow"
	}
	o2 := submit(t, b, e.issuer+"/consent", o.body, url.Values{"decision": {decision}})
	o2.consent = true
	return o2
}

// testPages are the provider's pages as the platform draws them (the
// citizen portal's, see app): the tests read them as a browser would.
func testPages(tb testing.TB) oidcop.Pages {
	tb.Helper()
	p, err := portal.NewSignInPages(nil, false)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
