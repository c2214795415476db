package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/storage"
)

const citizenPassword = "mật khẩu đủ dài của công dân"

// eidCitizen is a seeded adult with an e-ID account made through the eid
// service, as the app and a registrar would.
type eidCitizen struct {
	pin, name, birth string
	totp             string
	step             int64 // last TOTP step used
}

var smsCodeRE = regexp.MustCompile(`dinh danh dien tu: (\d{6})`)

// newCitizen registers a level-1 account for the n-th seeded adult; with
// level2 a registrar activates level 2 and the citizen enrols an
// authenticator app.
func newCitizen(t *testing.T, env *apptest.Env, n int, level2 bool) eidCitizen {
	t.Helper()
	ctx := context.Background()
	var c eidCitizen
	err := env.App.DB.R.QueryRow(`SELECT pin, full_name, birth_date FROM persons
		WHERE status = 'alive' AND birth_date < '2000' AND length(birth_date) = 10 ORDER BY pin LIMIT 1 OFFSET $1`, n).Scan(&c.pin, &c.name, &c.birth)
	if err != nil {
		t.Fatal(err)
	}
	e, err := env.App.EID.StartRegistration(ctx, eid.RegistrationInput{PIN: c.pin, CardNumber: c.pin, FullName: c.name, BirthDate: c.birth, Phone: "0987654321"})
	if err != nil {
		t.Fatal(err)
	}
	// The development SMS sink writes the one-time code to the log.
	codes := smsCodeRE.FindAllStringSubmatch(env.Logs.String(), -1)
	if len(codes) == 0 {
		t.Fatal("no one-time code in the log")
	}
	if _, err := env.App.EID.CompleteRegistration(ctx, e.ID, codes[len(codes)-1][1], citizenPassword); err != nil {
		t.Fatal(err)
	}
	if !level2 {
		return c
	}
	if _, err := env.App.EID.Activate(ctx, actor.Actor{ID: "staff:e2e.registrar", Role: actor.Registrar}, c.pin); err != nil {
		t.Fatal(err)
	}
	en, err := env.App.EID.EnrolTOTP(ctx, c.pin)
	if err != nil {
		t.Fatal(err)
	}
	c.totp, c.step = en.Secret, time.Now().Unix()/30
	if err := env.App.EID.ConfirmTOTP(ctx, c.pin, totp(t, c.totp, c.step)); err != nil {
		t.Fatal(err)
	}
	return c
}

// nextCode is the code of the step after the last one used: inside the
// provider's one-step tolerance and never a replay.
func (c *eidCitizen) nextCode(t *testing.T) string {
	c.step++
	return totp(t, c.totp, c.step)
}

// totp computes an RFC 6238 code (HMAC-SHA1, 30 s, 6 digits) like an
// authenticator app.
func totp(t *testing.T, secret string, step int64) string {
	code, err := eid.TOTPAt(secret, time.Unix(step*30, 0))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// TestOIDCLevel2InBrowser: a level-2 citizen signs in at a relying party in
// headless Chromium with password and authenticator code, reads the
// Vietnamese consent screen (fields and purpose), consents, and lands back
// at the relying party, which shows the name, the birth date and acr level 2.
func TestOIDCLevel2InBrowser(t *testing.T) {
	bin := needChromium(t)
	env := apptest.Start(t, storage.SQLite, 60)
	c := newCitizen(t, env, 0, true)
	rp := newRelyingParty(t, env, rpOptions{clientID: "dichvucong-test", name: "Cổng dịch vụ công (thử nghiệm)",
		purpose: "Giải quyết thủ tục hành chính trực tuyến", scopes: []string{oidcop.ScopeProfile}, acrValues: oidcop.ACRLevel2})

	b := newBrowser(t, bin)

	b.step("open the relying party, which sends the browser to the provider",
		chromedp.Navigate(rp.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("pin")),
	)
	if page := b.read(chromedp.Text(chromedp.CSS("body"))); !strings.Contains(page, "mức 2") || !strings.Contains(page, "Cổng dịch vụ công (thử nghiệm)") {
		t.Errorf("login page does not ask for level 2 for the client:\n%s", page)
	}
	b.step("sign in at level 2",
		chromedp.SendKeys(chromedp.ID("pin"), c.pin),
		chromedp.SendKeys(chromedp.ID("password"), citizenPassword),
		chromedp.SendKeys(chromedp.ID("totp"), c.nextCode(t)),
		chromedp.Click(chromedp.CSS(`form[action="/oidc/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[name="decision"][value="allow"]`)),
	)
	consent := b.read(chromedp.Text(chromedp.CSS("body")))
	for _, want := range []string{"Cổng dịch vụ công (thử nghiệm)", "Họ, chữ đệm và tên", "Ngày, tháng, năm sinh", "Giới tính",
		"Mục đích sử dụng: Giải quyết thủ tục hành chính trực tuyến", "rút lại sự đồng ý"} {
		if !strings.Contains(consent, want) {
			t.Errorf("consent screen lacks %q:\n%s", want, consent)
		}
	}
	b.shot("oidc-consent.png")
	b.step("consent",
		chromedp.Click(chromedp.CSS(`button[name="decision"][value="allow"]`)),
		chromedp.WaitVisible(chromedp.ID("rp-acr")),
	)
	if loc := b.read(chromedp.Location()); !strings.HasPrefix(loc, rp.srv.URL+"/cb") {
		t.Errorf("landed at %s", loc)
	}
	if got := b.read(chromedp.Text(chromedp.ID("rp-name"))); got != c.name {
		t.Errorf("relying party got name %q, want %q", got, c.name)
	}
	if got := b.read(chromedp.Text(chromedp.ID("rp-birthdate"))); got != c.birth {
		t.Errorf("relying party got birth date %q, want %q", got, c.birth)
	}
	if got := b.read(chromedp.Text(chromedp.ID("rp-acr"))); got != oidcop.ACRLevel2 {
		t.Errorf("relying party got acr %q, want %q", got, oidcop.ACRLevel2)
	}
	b.shot("oidc-done.png")
	if logs := env.Logs.String(); strings.Contains(logs, c.pin) || strings.Contains(logs, c.name) {
		t.Error("the citizen's PIN or name is in the log")
	}
}

var (
	authIDRE   = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)
	formCSRFRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// TestConsentCSRF: the consent form is refused without its CSRF token (and
// with a wrong one), and no consent or code results; with the token it
// goes through.
func TestConsentCSRF(t *testing.T) {
	env := apptest.Start(t, storage.SQLite, 40)
	ctx := context.Background()
	c := newCitizen(t, env, 1, false)
	const redirect = "http://127.0.0.1:9/cb"
	if err := env.App.OIDC.Clients().Add(ctx, oidcop.Client{ID: "hotel-test", Secret: oidcop.NewSecret(), Name: "Khách sạn thử nghiệm", Purpose: "Thông báo lưu trú",
		RedirectURIs: []string{redirect}, GrantTypes: []string{oidcop.GrantAuthorizationCode}, Scopes: []string{oidcop.ScopeProfile}, DevMode: true}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	var code string
	b := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			code = req.URL.Query().Get("code")
			return http.ErrUseLastResponse
		}
		return nil
	}}
	read := func(resp *http.Response, err error) (int, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	q := url.Values{"client_id": {"hotel-test"}, "response_type": {"code"}, "scope": {"openid profile"}, "redirect_uri": {redirect}, "state": {"s"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
	issuer := env.App.OIDC.Issuer()
	_, body := read(b.Get(issuer + "/authorize?" + q.Encode()))
	id, csrf := authIDRE.FindStringSubmatch(body), formCSRFRE.FindStringSubmatch(body)
	if id == nil || csrf == nil {
		t.Fatalf("no login form:\n%s", body)
	}
	_, body = read(b.PostForm(issuer+"/login", url.Values{"authRequestID": {id[1]}, "csrf": {csrf[1]}, "pin": {c.pin}, "password": {citizenPassword}}))
	if !strings.Contains(body, `name="decision" value="allow"`) {
		t.Fatalf("no consent form:\n%s", body)
	}
	tests := []struct {
		name  string
		form  url.Values
		allow bool
	}{
		{"without token", url.Values{"authRequestID": {id[1]}, "decision": {"allow"}}, false},
		{"wrong token", url.Values{"authRequestID": {id[1]}, "decision": {"allow"}, "csrf": {strings.Repeat("A", 43)}}, false},
		{"with token", url.Values{"authRequestID": {id[1]}, "decision": {"allow"}, "csrf": {csrf[1]}}, true},
	}
	acct, err := env.App.EID.Account(ctx, c.pin)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := read(b.PostForm(issuer+"/consent", tt.form))
			consents, err := env.App.OIDC.Consents(ctx, acct.Subject)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.allow {
				if status != http.StatusBadRequest || !strings.Contains(body, "không hợp lệ") || code != "" || len(consents) != 0 {
					t.Fatalf("forged consent: status %d, code %q, %d consents", status, code, len(consents))
				}
				return
			}
			if code == "" || len(consents) != 1 {
				t.Fatalf("consent with its token: status %d, code %q, %d consents", status, code, len(consents))
			}
		})
	}
}
