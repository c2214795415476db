package e2e

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// accountsRP is a relying party of the accounts story: an OpenID Connect
// client on its own server that asks for the acr given in ?acr= and shows
// every claim it received, from the ID token and from userinfo, so the
// test sees what was released and what was not.
type accountsRP struct {
	srv      *httptest.Server
	cfg      oauth2.Config
	provider *oidc.Provider

	mu              sync.Mutex
	state, verifier string
	userinfo        map[string]any // the last userinfo received
}

var accountsRPPage = template.Must(template.New("rp").Parse(`<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{{.Client}}</title></head><body>
<h1>{{.Client}}: đăng nhập thành công</h1>
<dl><dt>Họ và tên</dt><dd id="rp-name">{{.Name}}</dd><dt>Nơi thường trú</dt><dd id="rp-address">{{.Address}}</dd>
<dt>Mức xác thực</dt><dd id="rp-acr">{{.ACR}}</dd><dt>Phương thức</dt><dd id="rp-amr">{{.AMR}}</dd></dl>
<pre id="rp-userinfo">{{.Userinfo}}</pre>
</body></html>`))

// newAccountsRP registers a client of minimum level minLevel for scopes,
// optional ones among them, and serves it.
func newAccountsRP(t *testing.T, env *apptest.Env, id, name string, minLevel eid.Level, scopes, optional []string) *accountsRP {
	t.Helper()
	ctx := context.Background()
	rp := &accountsRP{}
	mux := http.NewServeMux()
	rp.srv = httptest.NewServer(mux)
	t.Cleanup(rp.srv.Close)
	secret := oidcop.NewSecret()
	err := env.App.OIDC.Clients().Add(ctx, oidcop.Client{ID: id, Secret: secret, Name: name, Purpose: "Giải quyết thủ tục hành chính trực tuyến",
		RedirectURIs: []string{rp.srv.URL + "/cb"}, GrantTypes: []string{oidcop.GrantAuthorizationCode}, Scopes: scopes, OptionalScopes: optional,
		MinLevel: minLevel, DevMode: true})
	if err != nil {
		t.Fatal(err)
	}
	if rp.provider, err = oidc.NewProvider(ctx, env.App.OIDC.Issuer()); err != nil {
		t.Fatal(err)
	}
	rp.cfg = oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: rp.provider.Endpoint(), RedirectURL: rp.srv.URL + "/cb",
		Scopes: append([]string{oidc.ScopeOpenID}, scopes...)}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		rp.state, rp.verifier = oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
		opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(rp.verifier)}
		if acr := r.URL.Query().Get("acr"); acr != "" {
			opts = append(opts, oauth2.SetAuthURLParam("acr_values", acr))
		}
		u := rp.cfg.AuthCodeURL(rp.state, opts...)
		rp.mu.Unlock()
		http.Redirect(w, r, u, http.StatusFound)
	})
	mux.HandleFunc("GET /cb", func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		state, verifier := rp.state, rp.verifier
		rp.mu.Unlock()
		if r.URL.Query().Get("state") != state {
			http.Error(w, "bad state: "+r.URL.Query().Get("error"), http.StatusBadRequest)
			return
		}
		tok, err := rp.cfg.Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			http.Error(w, "exchange: "+err.Error(), http.StatusBadGateway)
			return
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := rp.provider.Verifier(&oidc.Config{ClientID: id}).Verify(r.Context(), raw)
		if err != nil {
			http.Error(w, "id token: "+err.Error(), http.StatusBadGateway)
			return
		}
		var idc struct {
			ACR string   `json:"acr"`
			AMR []string `json:"amr"`
		}
		idt.Claims(&idc)
		ui, err := rp.provider.UserInfo(r.Context(), oauth2.StaticTokenSource(tok))
		if err != nil {
			http.Error(w, "userinfo: "+err.Error(), http.StatusBadGateway)
			return
		}
		info := map[string]any{}
		ui.Claims(&info)
		rp.mu.Lock()
		rp.userinfo = info
		rp.mu.Unlock()
		var address string
		if a, ok := info["address"].(map[string]any); ok {
			address, _ = a["formatted"].(string)
		}
		name, _ := info["name"].(string)
		js, _ := json.MarshalIndent(info, "", "  ")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		accountsRPPage.Execute(w, map[string]string{"Client": rp.cfg.ClientID, "Name": name, "Address": address,
			"ACR": idc.ACR, "AMR": strings.Join(idc.AMR, " "), "Userinfo": string(js)})
	})
	return rp
}

func (rp *accountsRP) lastUserinfo() map[string]any {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.userinfo
}

// accountsCitizen picks a seeded living adult of Hà Nội (province 01) with
// a full birth date and no e-ID account, and gives them a chip card in
// their hands, as the card desk would have; it returns the person, the
// card and the commune they live in.
func accountsCitizen(t *testing.T, env *apptest.Env) (pin, name, commune string, card cardservice.Card) {
	t.Helper()
	ctx := context.Background()
	err := env.App.DB.R.QueryRow(`SELECT pin, full_name, perm_commune FROM persons WHERE status = 'alive' AND birth_date < '2000'
		AND length(birth_date) = 10 AND perm_province = '01' ORDER BY pin LIMIT 1`).Scan(&pin, &name, &commune)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.EID.Account(ctx, pin); err == nil {
		t.Fatal("the seeded citizen already has an account")
	}
	reg := actor.Actor{ID: "staff:e2e.cards", Role: actor.Registrar}
	if card, err = env.App.Cards.Apply(ctx, reg, pin); err != nil {
		t.Fatal(err)
	}
	for _, step := range []func(context.Context, actor.Actor, string) (cardservice.Card, error){env.App.Cards.Approve, env.App.Cards.Produce, env.App.Cards.HandOver} {
		if card, err = step(ctx, reg, card.Serial); err != nil {
			t.Fatal(err)
		}
	}
	return pin, name, commune, card
}

// newAccountsBrowser is newBrowser for a story longer than its 60
// seconds: the same headless Chromium, bounded to 4 minutes.
func newAccountsBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	if err := os.MkdirAll("screenshots", 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.Headless, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("lang", "vi-VN"), chromedp.Flag("accept-lang", "vi-VN,vi"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 1300))
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancel()
	})
	// Start the browser and its tab on bctx, so that a step's own timeout
	// (accountsStep) ends the step, not the tab.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, ctx: bctx}
}

// accountsShot saves the browser's window (1366×1300, tall enough for
// the story's pages) as screenshots/name. It does not use browser.shot's
// capture beyond the viewport, after which headless Chromium drops the
// next click on a page longer than the window.
func accountsShot(b *browser, name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join("screenshots", name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// accountsStep is browser.step that, when a step fails, saves the page as
// a screenshot and puts its text in the failure.
func accountsStep(b *browser, name, what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		body, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("body")))
		accountsShot(b, "accounts-failed-"+name+".png")
		b.t.Fatalf("%s: %v\n%s", what, err, body)
	}
}

// TestAccountsInBrowser is issue 16's story in headless Chromium: a seeded
// citizen without an account enrols at level 1 in the portal (the one-time
// code from the development SMS sink) and signs in at a relying party; Hà
// Nội's province administrator creates a desk officer for the citizen's
// commune in the admin UI; the officer upgrades the citizen to level 2 and
// the citizen sets up TOTP from the QR code on the desk's screen; the
// citizen signs in at level 2, then at a second relying party without
// typing the password again, unticks the optional address there, and the
// second client does not receive it. The citizen's access log in the
// portal shows the desk's acts.
//
// It runs on SQLite and, when configured, PostgreSQL; the screenshots are
// the SQLite run's (the PostgreSQL run's carry a "postgres-" prefix).
func TestAccountsInBrowser(t *testing.T) {
	bin := needChromium(t)
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { accountsStory(t, bin, d) })
	}
}

func accountsStory(t *testing.T, bin string, d storage.Dialect) {
	env := apptest.Start(t, d, 200)
	shot := func(b *browser, name string) {
		b.t.Helper()
		if d != storage.SQLite {
			name = string(d) + "-" + name
		}
		accountsShot(b, name)
	}
	base := env.Server.URL
	// On failure, the platform's request and refusal lines (routes, codes:
	// no personal data) say where the story stopped.
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range strings.Split(env.Logs.String(), "\n") {
				if strings.Contains(l, "refused") || strings.Contains(l, "failed") || strings.Contains(l, "level=ERROR") || strings.Contains(l, "registration") || strings.Contains(l, "citizen") {
					t.Log(l)
				}
			}
		}
	})
	pin, name, commune, card := accountsCitizen(t, env)
	unit, err := env.App.Units.Commune(commune, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	issued := card.IssueDate[8:10] + "/" + card.IssueDate[5:7] + "/" + card.IssueDate[:4]
	rp1 := newAccountsRP(t, env, "dichvucong-muc1", "Cổng dịch vụ công (mức 1)", eid.Level1, []string{oidcop.ScopeProfile}, nil)
	rp2 := newAccountsRP(t, env, "nganhang-muc2", "Ngân hàng thử nghiệm (mức 2)", eid.Level2,
		[]string{oidcop.ScopeProfile, oidcop.ScopeAddress}, []string{oidcop.ScopeAddress})

	// 1. Level-1 enrolment in the portal.
	citizen := newAccountsBrowser(t, bin)
	accountsStep(citizen, "citizen", "open the portal's sign-in page and follow the enrolment link",
		chromedp.Navigate(base+"/citizen/login"),
		chromedp.WaitVisible(chromedp.ID("enrol-link")),
		chromedp.Click(chromedp.CSS("#enrol-link a")),
		chromedp.WaitVisible(chromedp.ID("f-issue")),
	)
	accountsStep(citizen, "citizen", "type the card's details and the own mobile number",
		chromedp.SendKeys(chromedp.ID("f-pin"), pin),
		chromedp.SendKeys(chromedp.ID("f-card"), pin),
		chromedp.SendKeys(chromedp.ID("f-issue"), issued),
		chromedp.SendKeys(chromedp.ID("f-phone"), "0912 345 678"),
	)
	shot(citizen, "accounts-01-enrol.png")
	accountsStep(citizen, "citizen", "ask for the code",
		chromedp.Click(chromedp.ID("submit-enrol")),
		chromedp.WaitVisible(chromedp.ID("f-code")),
	)
	codes := smsCodeRE.FindAllStringSubmatch(env.Logs.String(), -1)
	if len(codes) == 0 {
		t.Fatal("no one-time code in the development SMS sink")
	}
	accountsStep(citizen, "citizen", "type the code and a password",
		chromedp.SendKeys(chromedp.ID("f-code"), codes[len(codes)-1][1]),
		chromedp.SendKeys(chromedp.ID("f-password"), citizenPassword),
		chromedp.SendKeys(chromedp.ID("f-password2"), citizenPassword),
	)
	shot(citizen, "accounts-02-enrol-code.png")
	accountsStep(citizen, "citizen", "finish the enrolment",
		chromedp.Click(chromedp.ID("submit-confirm")),
		chromedp.WaitVisible(chromedp.ID("f-pin")),
	)
	if body := citizen.read(chromedp.Text(chromedp.CSS("body"))); !strings.Contains(body, "Đăng ký thành công") {
		t.Fatalf("no confirmation after the enrolment:\n%s", body)
	}
	shot(citizen, "accounts-03-enrolled.png")
	if a, err := env.App.EID.Account(context.Background(), pin); err != nil || a.Level != eid.Level1 || a.Status != eid.StatusActive {
		t.Fatalf("account after enrolment: %+v, %v", a, err)
	}

	// 2. Sign-in at the first relying party, level 1.
	accountsStep(citizen, "citizen", "open the first relying party and sign in with the password",
		chromedp.Navigate(rp1.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("pin")),
		chromedp.SendKeys(chromedp.ID("pin"), pin),
		chromedp.SendKeys(chromedp.ID("password"), citizenPassword),
		chromedp.Click(chromedp.CSS(`form[action="/oidc/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("consent-allow")),
		chromedp.Click(chromedp.ID("consent-allow")),
		chromedp.WaitVisible(chromedp.ID("rp-acr")),
	)
	if got := citizen.text("rp-acr"); got != oidcop.ACRLevel1 {
		t.Errorf("first relying party got acr %q, want level 1", got)
	}
	if got := citizen.text("rp-name"); got != name {
		t.Errorf("first relying party got name %q", got)
	}
	shot(citizen, "accounts-04-rp1-level1.png")

	// 3. The province administrator creates a desk officer for the
	// citizen's commune; the officer sets their own password.
	admin := newAccountsBrowser(t, bin)
	admin.openStaffLogin(base)
	admin.signInStaff("quantri.hanoi", "nav-admin")
	temp := createDeskOfficerInBrowser(t, admin, base, "motcua.e2e", "Phạm Văn Một Cửa", unit.Name, commune)
	shot(admin, "accounts-05-desk-officer-created.png")
	officer := newAccountsBrowser(t, bin)
	officer.openStaffLogin(base)
	accountsStep(officer, "officer", "the officer signs in with the temporary password and sets their own",
		chromedp.SendKeys(chromedp.ID("f-username"), "motcua.e2e"),
		chromedp.SendKeys(chromedp.ID("f-password"), temp),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("password-forced")),
		chromedp.SendKeys(chromedp.ID("f-current_password"), temp),
		chromedp.SendKeys(chromedp.ID("f-new_password"), "mật khẩu của cán bộ một cửa"),
		chromedp.SendKeys(chromedp.ID("f-new_password_again"), "mật khẩu của cán bộ một cửa"),
		chromedp.Click(chromedp.ID("submit-password")),
		chromedp.WaitNotPresent(chromedp.ID("password-form")),
	)

	// 4. At the desk: find the citizen, check in person, activate level 2,
	// show the authenticator QR code; the citizen's phone scans it.
	accountsStep(officer, "officer", "open the e-ID desk and find the citizen by PIN",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("nav-eid")),
		chromedp.Click(chromedp.ID("nav-eid")),
		chromedp.WaitVisible(chromedp.ID("f-lookup")),
		chromedp.SendKeys(chromedp.ID("f-lookup"), pin),
		chromedp.Click(chromedp.ID("eid-find")),
		chromedp.WaitVisible(chromedp.ID("eid-level")),
	)
	if got := officer.text("eid-level"); got != "1" {
		t.Fatalf("desk shows level %q", got)
	}
	shot(officer, "accounts-06-desk-found.png")
	accountsStep(officer, "officer", "confirm the in-person check and activate level 2",
		chromedp.Click(chromedp.ID("f-in_person")),
		chromedp.Click(chromedp.ID("eid-activate")),
		// The level-2 page has no activation form (the page before has
		// the authenticator button too).
		chromedp.WaitNotPresent(chromedp.ID("eid-activate")),
		chromedp.WaitVisible(chromedp.ID("eid-totp-start")),
	)
	if got := officer.text("eid-level"); got != "2" {
		t.Fatalf("desk shows level %q after activation", got)
	}
	accountsStep(officer, "officer", "show the authenticator QR code",
		chromedp.Click(chromedp.ID("eid-totp-start")),
		chromedp.WaitVisible(chromedp.ID("eid-totp-qr")),
	)
	shot(officer, "accounts-07-desk-totp-qr.png")
	secret := officer.text("eid-totp-secret")
	var lastStep int64
	nextCode := func() string {
		step := time.Now().Unix() / 30
		if step <= lastStep {
			step = lastStep + 1
		}
		lastStep = step
		return totp(t, secret, step)
	}
	accountsStep(officer, "officer", "type the code the citizen's app shows",
		chromedp.SendKeys(chromedp.ID("f-totp_code"), nextCode()),
		chromedp.Click(chromedp.ID("eid-totp-confirm")),
		chromedp.WaitNotPresent(chromedp.ID("eid-totp-qr")),
		chromedp.WaitVisible(chromedp.ID("eid-totp")),
	)
	if got := officer.text("eid-totp"); got != "Đã đăng ký" {
		t.Fatalf("desk shows authenticator %q", got)
	}
	shot(officer, "accounts-08-desk-level2.png")

	// 5. Level 2 at the first relying party (the level-1 session does not
	// suffice: password and authenticator code).
	accountsStep(citizen, "citizen", "sign in at level 2 at the first relying party",
		chromedp.Navigate(rp1.srv.URL+"/?acr="+oidcop.ACRLevel2),
		chromedp.WaitVisible(chromedp.ID("totp")),
		chromedp.SendKeys(chromedp.ID("pin"), pin),
		chromedp.SendKeys(chromedp.ID("password"), citizenPassword),
		chromedp.SendKeys(chromedp.ID("totp"), nextCode()),
		chromedp.Click(chromedp.CSS(`form[action="/oidc/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("rp-acr")),
	)
	if got := citizen.text("rp-acr"); got != oidcop.ACRLevel2 {
		t.Fatalf("first relying party got acr %q at level 2", got)
	}
	shot(citizen, "accounts-09-rp1-level2.png")

	// 6. The second relying party: no password, the consent screen with the
	// optional address unticked.
	accountsStep(citizen, "citizen", "open the second relying party: straight to the consent screen",
		chromedp.Navigate(rp2.srv.URL+"/?acr="+oidcop.ACRLevel2),
		chromedp.WaitVisible(chromedp.ID("consent-allow")),
	)
	if n := citizen.read(chromedp.Evaluate[string](`String(document.querySelectorAll("input[type=password]").length)`)); n != "0" {
		t.Fatalf("the second relying party's sign-in shows %s password fields", n)
	}
	accountsStep(citizen, "citizen", "untick the address",
		chromedp.WaitVisible(chromedp.ID("scope-address")),
		chromedp.Click(chromedp.ID("scope-address")),
	)
	shot(citizen, "accounts-10-rp2-consent.png")
	accountsStep(citizen, "citizen", "consent",
		chromedp.Click(chromedp.ID("consent-allow")),
		chromedp.WaitVisible(chromedp.ID("rp-acr")),
	)
	if got := citizen.text("rp-acr"); got != oidcop.ACRLevel2 {
		t.Errorf("second relying party got acr %q", got)
	}
	if got := citizen.text("rp-name"); got != name {
		t.Errorf("second relying party got name %q", got)
	}
	if info := rp2.lastUserinfo(); info["address"] != nil || citizen.text("rp-address") != "" {
		t.Errorf("the second relying party received the unticked address: %v", info["address"])
	}
	shot(citizen, "accounts-11-rp2-no-address.png")

	// 7. The citizen's access log shows the desk's acts.
	// (The password alone: the access log needs no level 2, and a third
	// authenticator code would be two steps ahead of the clock.)
	accountsStep(citizen, "citizen", "sign in to the portal and open the access log",
		chromedp.Navigate(base+"/citizen/login"),
		chromedp.WaitVisible(chromedp.ID("f-pin")),
		chromedp.SendKeys(chromedp.ID("f-pin"), pin),
		chromedp.SendKeys(chromedp.ID("f-password"), citizenPassword),
		chromedp.Click(chromedp.ID("submit-login")),
		chromedp.WaitVisible(chromedp.ID("nav-access")),
		chromedp.Navigate(base+"/citizen/access"),
		chromedp.WaitVisible(chromedp.ID("page-title")),
	)
	access := citizen.read(chromedp.Text(chromedp.CSS("body")))
	for _, want := range []string{"Kích hoạt tài khoản định danh điện tử mức 2", "Kích hoạt ứng dụng xác thực tại nơi tiếp nhận", "motcua.e2e"} {
		if !strings.Contains(access, want) {
			t.Errorf("the access log lacks %q", want)
		}
	}
	shot(citizen, "accounts-12-access-log.png")
	if logs := env.Logs.String(); strings.Contains(logs, pin) || strings.Contains(logs, name) {
		t.Error("the citizen's PIN or name is in the log")
	}
}
