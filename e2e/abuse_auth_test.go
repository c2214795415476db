package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// authAbuseSignIn posts a staff sign-in to the API; it returns the status,
// the problem code and Retry-After.
func authAbuseSignIn(t *testing.T, env *apptest.Env, user, password string) (int, string, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	resp, err := http.Post(env.Server.URL+"/api/v1/sessions", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct {
		Code string `json:"code"`
	}
	json.NewDecoder(resp.Body).Decode(&p)
	return resp.StatusCode, p.Code, resp.Header.Get("Retry-After")
}

var authAbuseCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// authAbuseBrowser is a staff member's browser on the pages: a cookie jar,
// no redirects followed.
type authAbuseBrowser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (b *authAbuseBrowser) do(method, path string, form url.Values) (int, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func (b *authAbuseBrowser) csrf(path string) string {
	b.t.Helper()
	_, page := b.do(http.MethodGet, path, nil)
	m := authAbuseCSRF.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

func authAbuseStaffBrowser(t *testing.T, env *apptest.Env, user string) *authAbuseBrowser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &authAbuseBrowser{t: t, base: env.Server.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if status, _ := b.do(http.MethodPost, "/login", url.Values{"csrf": {b.csrf("/login")}, "username": {user}, "password": {apptest.Password}}); status != http.StatusSeeOther {
		t.Fatalf("%s signs in on the pages: %d", user, status)
	}
	return b
}

// authAbusePost posts a form to the provider, with HTTP Basic when user is
// set, and decodes the JSON answer.
func authAbusePost(t *testing.T, target, user, pass string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func authAbuseUserinfo(t *testing.T, issuer, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAbuseAuthStaffPasswords: password guessing against staff sign-in,
// against a real server. Guessing one account's password is answered 401,
// then 429 with Retry-After, then 403 account_locked (the right password
// too) until an administrator unlocks it on the administration page;
// spraying many usernames from one address blocks the address, for every
// username, real or not, right password or not.
func TestAbuseAuthStaffPasswords(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 0)
			admin := authAbuseStaffBrowser(t, env, "admin")
			statuses := map[int]int{}
			for n := 1; n <= 30; n++ {
				status, code, retry := authAbuseSignIn(t, env, "dangky.hanoi", "đoán mật khẩu "+strconv.Itoa(n))
				statuses[status]++
				switch status {
				case http.StatusUnauthorized:
					if code != "auth.bad_credentials" || statuses[http.StatusTooManyRequests]+statuses[http.StatusForbidden] > 0 {
						t.Fatalf("guess %d: %d %s after a block", n, status, code)
					}
				case http.StatusTooManyRequests:
					if code != "auth.throttled" || retry == "" || statuses[http.StatusForbidden] > 0 {
						t.Fatalf("guess %d: %d %s Retry-After %q", n, status, code, retry)
					}
				case http.StatusForbidden:
					if code != "auth.account_locked" {
						t.Fatalf("guess %d: %d %s", n, status, code)
					}
				default:
					t.Fatalf("guess %d: %d %s", n, status, code)
				}
			}
			if statuses[http.StatusUnauthorized] > 5 || statuses[http.StatusTooManyRequests] == 0 || statuses[http.StatusForbidden] == 0 {
				t.Fatalf("30 guesses: %v", statuses)
			}
			if status, code, _ := authAbuseSignIn(t, env, "dangky.hanoi", apptest.Password); status != http.StatusForbidden || code != "auth.account_locked" {
				t.Fatalf("the right password on the locked account: %d %s", status, code)
			}
			// The administrator unlocks it on the page; the act is audited.
			tok := admin.csrf("/admin/staff")
			if status, _ := admin.do(http.MethodPost, "/admin/staff/dangky.hanoi/unlock", url.Values{"csrf": {tok}}); status != http.StatusSeeOther {
				t.Fatalf("unlock: %d", status)
			}
			var audited int
			env.App.AuditDB.R.QueryRowContext(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'staff.unlocked' AND actor = 'staff:admin' AND subject = 'staff:dangky.hanoi'`).Scan(&audited)
			if audited != 1 {
				t.Errorf("%d audit entries of the unlock", audited)
			}
			if status, code, _ := authAbuseSignIn(t, env, "dangky.hanoi", apptest.Password); status != http.StatusCreated {
				t.Fatalf("after the unlock: %d %s", status, code)
			}

			// Spraying: one password against many usernames from one address.
			unauthorized, blocked := 0, false
			for n := range 60 {
				status, code, retry := authAbuseSignIn(t, env, "thu."+strconv.Itoa(n), "Matkhau@2026")
				switch {
				case status == http.StatusUnauthorized && !blocked:
					unauthorized++
				case status == http.StatusTooManyRequests && code == "auth.throttled" && retry != "":
					blocked = true
				default:
					t.Fatalf("spray %d: %d %s (blocked %v)", n, status, code, blocked)
				}
			}
			if !blocked || unauthorized > 50 {
				t.Fatalf("spraying 60 usernames: %d answered 401, blocked %v", unauthorized, blocked)
			}
			if status, code, _ := authAbuseSignIn(t, env, "dangky.badinh", apptest.Password); status != http.StatusTooManyRequests {
				t.Fatalf("a real account from the spraying address: %d %s", status, code)
			}
		})
	}
}

// TestAbuseAuthOpenID: the OpenID provider against a real server. A
// replayed authorization code is refused and revokes the tokens issued
// from it (userinfo answers 401 after); a wrong client secret with a used
// code is invalid_client; discovery advertises nothing that fails.
func TestAbuseAuthOpenID(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 200)
			ctx := context.Background()
			citizens, err := env.App.BootstrapCitizens(ctx, apptest.Password)
			if err != nil || len(citizens) == 0 {
				t.Fatalf("sample citizens: %v %v", citizens, err)
			}
			issuer := env.App.OIDC.Issuer()
			const redirect = "http://127.0.0.1:9/cb"
			secret := oidcop.NewSecret()
			if err := env.App.OIDC.Clients().Add(ctx, oidcop.Client{ID: "dvc-abuse", Secret: secret, Name: "Cổng dịch vụ công", Purpose: "Thủ tục hành chính",
				RedirectURIs: []string{redirect}, GrantTypes: []string{oidcop.GrantAuthorizationCode, oidcop.GrantRefreshToken, oidcop.GrantClientCredentials},
				Scopes: []string{oidcop.ScopeProfile, "offline_access"}, DevMode: true}); err != nil {
				t.Fatal(err)
			}
			var disc map[string]any
			resp, err := http.Get(issuer + "/.well-known/openid-configuration")
			if err != nil {
				t.Fatal(err)
			}
			json.NewDecoder(resp.Body).Decode(&disc)
			resp.Body.Close()
			tokenURL, _ := disc["token_endpoint"].(string)
			code := func() (string, string) {
				v := oauth2.GenerateVerifier()
				cfg := oauth2.Config{ClientID: "dvc-abuse", Endpoint: oauth2.Endpoint{AuthURL: issuer + "/authorize"}, RedirectURL: redirect, Scopes: []string{"openid", oidcop.ScopeProfile, "offline_access"}}
				return apptest.SignIn(t, issuer, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(v)), redirect, citizens[0].PIN, citizens[0].Password), v
			}
			exchangeForm := func(c, v string) url.Values {
				return url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {redirect}, "code_verifier": {v}}
			}

			c, v := code()
			status, tok := authAbusePost(t, tokenURL, "dvc-abuse", secret, exchangeForm(c, v))
			access, _ := tok["access_token"].(string)
			refresh, _ := tok["refresh_token"].(string)
			if status != http.StatusOK || access == "" || refresh == "" {
				t.Fatalf("exchange: %d %v", status, tok)
			}
			if got := authAbuseUserinfo(t, issuer, access); got != http.StatusOK {
				t.Fatalf("userinfo: %d", got)
			}
			// A wrong secret with the used code: invalid_client, and the
			// tokens stay (an outsider cannot revoke them).
			if status, out := authAbusePost(t, tokenURL, "dvc-abuse", "wrong-secret", exchangeForm(c, v)); status != http.StatusUnauthorized || out["error"] != "invalid_client" {
				t.Fatalf("wrong secret with a used code: %d %v", status, out)
			}
			if got := authAbuseUserinfo(t, issuer, access); got != http.StatusOK {
				t.Fatalf("userinfo after an unauthenticated replay: %d", got)
			}
			// The client's own replay: refused, and the tokens are revoked.
			if status, out := authAbusePost(t, tokenURL, "dvc-abuse", secret, exchangeForm(c, v)); status != http.StatusBadRequest || out["error"] != "invalid_grant" || out["access_token"] != nil {
				t.Fatalf("replayed code: %d %v", status, out)
			}
			if got := authAbuseUserinfo(t, issuer, access); got != http.StatusUnauthorized {
				t.Fatalf("userinfo with the replayed code's access token: %d", got)
			}
			if status, out := authAbusePost(t, tokenURL, "dvc-abuse", secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
				t.Fatalf("refresh token of the replayed code: %d %v", status, out)
			}

			// Discovery: nothing advertised that fails.
			for _, k := range []string{"device_authorization_endpoint", "request_object_signing_alg_values_supported"} {
				if _, ok := disc[k]; ok {
					t.Errorf("discovery advertises %s", k)
				}
			}
			list := func(k string) []string {
				var out []string
				for _, v := range disc[k].([]any) {
					out = append(out, v.(string))
				}
				return out
			}
			if got := list("response_types_supported"); !slices.Equal(got, []string{"code"}) {
				t.Errorf("response types %v", got)
			}
			for _, g := range list("grant_types_supported") {
				var status int
				var out map[string]any
				switch g {
				case "authorization_code":
					c, v := code()
					status, out = authAbusePost(t, tokenURL, "", "", url.Values{"grant_type": {g}, "code": {c}, "redirect_uri": {redirect}, "code_verifier": {v},
						"client_id": {"dvc-abuse"}, "client_secret": {secret}}) // client_secret_post
				case "refresh_token":
					c, v := code()
					_, fresh := authAbusePost(t, tokenURL, "dvc-abuse", secret, exchangeForm(c, v))
					status, out = authAbusePost(t, tokenURL, "dvc-abuse", secret, url.Values{"grant_type": {g}, "refresh_token": {fresh["refresh_token"].(string)}})
				case "client_credentials":
					status, out = authAbusePost(t, tokenURL, "dvc-abuse", secret, url.Values{"grant_type": {g}})
				default:
					t.Errorf("discovery advertises the %s grant", g)
					continue
				}
				if status != http.StatusOK || out["access_token"] == nil {
					t.Errorf("advertised grant %s: %d %v", g, status, out)
				}
			}
			for _, g := range []string{"urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:device_code", "implicit", "password"} {
				if status, out := authAbusePost(t, tokenURL, "dvc-abuse", secret, url.Values{"grant_type": {g}, "assertion": {"eyJhbGciOiJFUzI1NiJ9.e30.sig"}}); status != http.StatusBadRequest || out["error"] != "unsupported_grant_type" {
					t.Errorf("unadvertised grant %s: %d %v", g, status, out)
				}
			}
		})
	}
}
