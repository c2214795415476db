package e2e

// The abuse tests: each attack of issue 13 (an outside tester's findings)
// run against a real server, on SQLite and PostgreSQL, asserting the
// refusal. Sections, in order: audit log and access log; staff sign-in and
// the OpenID provider; partner exchange (verify, lookup, resolve); partner
// policy on reconciliation and webhooks; production mode; registrar scope.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/audit/audittest"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// ---- audit ----

// auditHTTP sends a JSON request with a bearer token and returns the
// status and body.
func auditHTTP(t *testing.T, method, url, token string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// auditCitizenPage registers an e-ID account for pin, signs it in and
// returns its "who accessed my data" page as the server renders it.
func auditCitizenPage(t *testing.T, env *apptest.Env, pin string) func() string {
	t.Helper()
	ctx := context.Background()
	p, err := env.App.DB.R.QueryContext(ctx, `SELECT full_name, birth_date FROM persons WHERE pin = $1`, pin)
	if err != nil {
		t.Fatal(err)
	}
	var name, birth string
	for p.Next() {
		p.Scan(&name, &birth)
	}
	p.Close()
	reg, err := env.App.EID.StartRegistration(ctx, eid.RegistrationInput{PIN: pin, CardNumber: pin, FullName: name, BirthDate: birth, Phone: "0912345678"})
	if err != nil {
		t.Fatal(err)
	}
	codes := smsCodeRE.FindAllStringSubmatch(env.Logs.String(), -1)
	if len(codes) == 0 {
		t.Fatal("no one-time code in the log")
	}
	if _, err := env.App.EID.CompleteRegistration(ctx, reg.ID, codes[len(codes)-1][1], citizenPassword); err != nil {
		t.Fatal(err)
	}
	auth, err := env.App.EID.SignIn(ctx, eid.SignInInput{PIN: pin, Password: citizenPassword, Channel: "portal"})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := env.App.EID.StartSession(ctx, auth, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return func() string {
		t.Helper()
		req, _ := http.NewRequest("GET", env.Server.URL+"/citizen/access", nil)
		req.AddCookie(&http.Cookie{Name: "citizen_session", Value: token})
		req.AddCookie(&http.Cookie{Name: "lang", Value: "vi"})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("access page: %d\n%s", resp.StatusCode, b)
		}
		return string(b)
	}
}

// auditCount counts subject's entries of action by actor.
func auditCount(t *testing.T, env *apptest.Env, subject, action, actor string) int {
	t.Helper()
	es, err := audit.BySubject(context.Background(), env.App.AuditDB, subject, 500)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if e.Action == action && (actor == "" || e.Actor == actor) {
			n++
		}
	}
	return n
}

// TestAbuseAuditAccessLog: the citizen's access log is complete and true.
//
//   - A registrar reading a household over the API reads every member: each
//     member's access log has the read, not only the household's.
//   - A partner's sector-identifier write refused with 409 (the value is
//     another person's), and another partner's refused with 403 (no such
//     operation in its policy), do not show on the citizen's page as a link
//     made; a successful write does.
//   - After these acts the audit chain is rewritten consistently (every hash
//     and the head recomputed): the chain alone passes, the signed
//     checkpoint the running platform made does not.
func TestAbuseAuditAccessLog(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 300)
			ctx := context.Background()
			base := env.Server.URL

			// A household in Hà Nội with several living adult members.
			var household string
			err := env.App.DB.R.QueryRowContext(ctx, `SELECT p.household_id FROM persons p JOIN households h ON h.id = p.household_id
				WHERE h.province = '01' AND p.status = 'alive' GROUP BY p.household_id HAVING count(*) >= 2 ORDER BY p.household_id LIMIT 1`).Scan(&household)
			if err != nil {
				t.Fatalf("no household of several members in Hà Nội: %v", err)
			}
			var citizen string
			if err := env.App.DB.R.QueryRowContext(ctx, `SELECT pin FROM persons WHERE household_id = $1 AND status = 'alive' AND birth_date < '2000' ORDER BY pin LIMIT 1`, household).Scan(&citizen); err != nil {
				t.Fatalf("no adult in household %s: %v", household, err)
			}
			page := auditCitizenPage(t, env, citizen)

			var session struct{ Token string }
			st, raw := auditHTTP(t, "POST", base+"/api/v1/sessions", "", map[string]string{"username": "dangky.hanoi", "password": apptest.Password})
			if st != http.StatusCreated || json.Unmarshal([]byte(raw), &session) != nil {
				t.Fatalf("staff sign-in: %d %s", st, raw)
			}
			st, raw = auditHTTP(t, "GET", base+"/api/v1/households/"+household, session.Token, nil)
			var h registry.Household
			if st != http.StatusOK || json.Unmarshal([]byte(raw), &h) != nil || len(h.Members) < 2 {
				t.Fatalf("household read: %d %s", st, raw)
			}
			for _, m := range h.Members {
				if n := auditCount(t, env, "person:"+m.PIN, registry.ActionHouseholdRead, "staff:dangky.hanoi"); n != 1 {
					t.Errorf("member %s: %d household reads in the access log, want 1", m.PIN, n)
				}
			}
			if body := page(); !strings.Contains(body, "Xem hộ gia đình") || !strings.Contains(body, "dangky.hanoi") {
				t.Errorf("the member's access page does not show the household read:\n%s", body)
			}

			// The social insurance agency links a card number to someone
			// else, then tries to link the same number to the citizen.
			creds, err := env.App.BootstrapPartners(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tokens := map[string]string{}
			for _, c := range creds {
				cc := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.Secret, TokenURL: base + "/oidc/oauth/token"}
				tok, err := cc.Token(ctx)
				if err != nil {
					t.Fatal(err)
				}
				tokens[c.PartnerID] = tok.AccessToken
			}
			var other string
			if err := env.App.DB.R.QueryRowContext(ctx, `SELECT pin FROM persons WHERE status = 'alive' AND pin <> $1 AND household_id <> $2 ORDER BY pin LIMIT 1`, citizen, household).Scan(&other); err != nil {
				t.Fatal(err)
			}
			putAs := func(partner, pin, value, purpose string) (int, string) {
				return auditHTTP(t, "PUT", base+"/api/partner/v1/sector-ids/health_insurance_card", tokens[partner], map[string]string{"pin": pin, "value": value, "purpose": purpose})
			}
			put := func(pin, value string) (int, string) { return putAs("bhxh", pin, value, "health-insurance") }
			if st, raw := put(other, "DN4010123456789"); st/100 != 2 {
				t.Fatalf("first link: %d %s", st, raw)
			}
			if st, raw := put(citizen, "DN4010123456789"); st != http.StatusConflict {
				t.Fatalf("the same card number for a second person: %d %s, want 409", st, raw)
			}
			// The hospital may not write the scheme at all: 403.
			if st, raw := putAs("bv-bachmai", citizen, "DN4010888888888", "insured-treatment"); st != http.StatusForbidden {
				t.Fatalf("a partner without the operation writes: %d %s, want 403", st, raw)
			}
			if n := auditCount(t, env, "person:"+citizen, exchange.ActionSectorPut, ""); n != 0 {
				t.Errorf("the refused link is in the citizen's access log %d times", n)
			}
			if body := page(); strings.Contains(body, "Gắn mã định danh ngành") {
				t.Errorf("the citizen's page says a sector identifier was attached after a refused write:\n%s", body)
			}
			// A link that is made shows, so the check above can fail.
			if st, raw := put(citizen, "DN4010999999999"); st/100 != 2 {
				t.Fatalf("a free card number: %d %s", st, raw)
			}
			if body := page(); !strings.Contains(body, "Gắn mã định danh ngành") {
				t.Errorf("the citizen's page does not show the link made")
			}

			// A rewrite of the whole chain and its head, consistent with
			// itself, against the running platform's signed checkpoint.
			cp, made, err := env.App.AuditCheckpoints.Checkpoint(ctx)
			if err != nil || !made {
				t.Fatalf("checkpoint: %v %v", made, err)
			}
			keys, err := audit.ParsePublicKeys(cp.Key)
			if err != nil {
				t.Fatal(err)
			}
			if rep, err := audit.VerifyWith(ctx, env.App.AuditDB, audit.VerifyOptions{Keys: keys}); err != nil || !rep.OK {
				t.Fatalf("intact log: %+v %v", rep, err)
			}
			audittest.RewriteChain(t, env.App.AuditDB, 2, 0)
			if rep, err := audit.Verify(ctx, env.App.AuditDB); err != nil || !rep.OK {
				t.Fatalf("the rewrite is not consistent: %+v %v", rep, err)
			}
			rep, err := audit.VerifyWith(ctx, env.App.AuditDB, audit.VerifyOptions{Keys: keys})
			if err != nil || rep.OK || !strings.Contains(rep.Problem, "rewritten") {
				t.Fatalf("rewritten log passed the signed checkpoints: %+v %v", rep, err)
			}
			other2 := auditOtherKey(t)
			if rep, _ := audit.VerifyWith(ctx, env.App.AuditDB, audit.VerifyOptions{Keys: other2}); rep.OK {
				t.Fatal("checkpoints accepted under another key")
			}
		})
	}
}

// auditOtherKey is a public key that signed nothing.
func auditOtherKey(t *testing.T) []ed25519.PublicKey {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return []ed25519.PublicKey{pub}
}

// ---- auth ----

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

// ---- exchange ----

// exchangeAbuseCall posts JSON to the partner API with a bearer token and
// returns the status, the Retry-After header and the decoded body.
func exchangeAbuseCall(t *testing.T, env *apptest.Env, token, path string, body any) (int, string, map[string]any, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", env.Server.URL+"/api/partner/v1"+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, resp.Header.Get("Retry-After"), out, string(raw)
}

// exchangeAbuseTokens are the sample partners' access tokens by partner id.
func exchangeAbuseTokens(t *testing.T, env *apptest.Env) map[string]string {
	t.Helper()
	ctx := context.Background()
	creds, err := env.App.BootstrapPartners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	for _, c := range creds {
		cc := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.Secret, TokenURL: env.Server.URL + "/oidc/oauth/token"}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tokens[c.PartnerID] = tok.AccessToken
	}
	return tokens
}

// TestAbuseExchangeVerify runs the verify attacks of issue 13 against a
// running platform with the sample partners, on SQLite and PostgreSQL:
// recovering a birth date by trying dates one after another (33 calls
// found it), comparing a field the policy does not allow, a birth date
// that is no date, and a deliberately wrong verify meant to link the
// partner to a person (and so to the person's life events).
func TestAbuseExchangeVerify(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 200)
			ctx := context.Background()
			tokens := exchangeAbuseTokens(t, env)
			citizens, err := env.App.BootstrapCitizens(ctx, apptest.Password)
			if err != nil || len(citizens) < 2 {
				t.Fatalf("sample citizens: %v %v", citizens, err)
			}
			victim, err := env.App.Registry.Get(ctx, actor.SystemActor("test"), citizens[0].PIN, "test")
			if err != nil {
				t.Fatal(err)
			}
			hospital := tokens["bv-bachmai"]
			verify := func(tok string, in map[string]any) (int, string, map[string]any, string) {
				t.Helper()
				return exchangeAbuseCall(t, env, tok, "/verify", in)
			}

			// 1. The hospital holds the name and tries one birth date after
			// another, the right one last.
			born := time.Date(victim.BirthDate.Year, time.Month(victim.BirthDate.Month), victim.BirthDate.Day, 0, 0, 0, 0, time.UTC)
			limited := 0
			for i := 32; i >= 0; i-- {
				try := born.AddDate(0, 0, -i).Format("02/01/2006")
				status, retry, out, raw := verify(hospital, map[string]any{"pin": victim.PIN, "full_name": victim.FullName, "birth_date": try, "purpose": "insured-treatment"})
				switch status {
				case http.StatusOK:
					if out["result"] == "match" {
						t.Fatalf("the birth date was recovered after %d calls", 33-i)
					}
					// Nothing but match/no_match on allowed fields.
					for k := range out {
						if !slices.Contains([]string{"result", "match", "differences"}, k) {
							t.Errorf("verify answers %q: %s", k, raw)
						}
					}
					for _, diff := range out["differences"].([]any) {
						if f := diff.(map[string]any)["field"]; f != "birth_date" {
							t.Errorf("a difference on %v: %s", f, raw)
						}
					}
					if strings.Contains(raw, victim.BirthDate.String()) || strings.Contains(raw, born.Format("02/01/2006")) {
						t.Errorf("the answer holds the register's date: %s", raw)
					}
					if limited > 0 {
						t.Fatalf("call %d answered after a refusal: %s", 33-i, raw)
					}
				case http.StatusTooManyRequests:
					if out["code"] != "policy.verify_values_exhausted" || retry == "" {
						t.Errorf("refusal %d: %s (Retry-After %q)", 33-i, raw, retry)
					}
					limited++
				default:
					t.Fatalf("call %d: %d %s", 33-i, status, raw)
				}
			}
			if want := 33 - exchange.DefaultVerifyValuesPerPerson; limited != want {
				t.Errorf("%d calls refused, want %d", limited, want)
			}
			var refusals int
			env.App.AuditDB.R.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE actor = 'partner:bv-bachmai' AND action = $1 AND subject = $2`,
				exchange.ActionRefused, "person:"+victim.PIN).Scan(&refusals)
			if refusals != limited {
				t.Errorf("%d refusals in the person's access log, want %d", refusals, limited)
			}

			// 2. A field the purpose does not allow (the hospital's
			// insured-treatment has no address).
			other := citizens[1]
			status, _, out, raw := verify(hospital, map[string]any{"pin": other.PIN, "full_name": "Nguyễn Văn A", "address": "Hà Nội", "purpose": "insured-treatment"})
			if status != http.StatusForbidden || out["code"] != "policy.field_not_allowed" || !strings.Contains(raw, "permanent_address") {
				t.Errorf("a field outside the policy: %d %s", status, raw)
			}

			// 3. Birth dates that are no date.
			for _, bad := range []string{"garbage", "31/02/2000"} {
				status, _, out, raw := verify(hospital, map[string]any{"pin": other.PIN, "full_name": "Nguyễn Văn A", "birth_date": bad, "purpose": "insured-treatment"})
				errs, _ := out["errors"].([]any)
				if status != http.StatusUnprocessableEntity || len(errs) != 1 || errs[0].(map[string]any)["field"] != "birth_date" {
					t.Errorf("birth date %q: %d %s", bad, status, raw)
				}
			}

			// 4. The bank verifies the other citizen with a made-up name:
			// no match, and no link to the person's life events.
			status, _, out, raw = verify(tokens["nganhang-a"], map[string]any{"pin": other.PIN, "full_name": "Tên Bịa Đặt", "birth_date": "01/01/1990", "purpose": "aml-cdd"})
			if status != http.StatusOK || out["result"] != "no_match" {
				t.Fatalf("a wrong verify: %d %s", status, raw)
			}
			linked, err := env.App.Partners.Linked(ctx, other.PIN)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(linked, "nganhang-a") {
				t.Errorf("a deliberately wrong verify linked the bank to the person: %v", linked)
			}
		})
	}
}

// ---- policy ----

// policyAbusePartner registers a partner with one system and returns its
// access token.
func policyAbusePartner(t *testing.T, env *apptest.Env, id string, pol exchange.Policy) string {
	t.Helper()
	ctx := context.Background()
	if _, err := env.App.Partners.AddPartner(ctx, exchange.Partner{ID: id, Name: "Đối tác " + id, Kind: exchange.KindOther, Policy: pol}); err != nil {
		t.Fatal(err)
	}
	sys, secret, err := env.App.Partners.NewSystem(ctx, env.App.OIDC.Clients(), exchange.SystemInput{PartnerID: id})
	if err != nil {
		t.Fatal(err)
	}
	cc := clientcredentials.Config{ClientID: sys.ClientID, ClientSecret: secret, TokenURL: env.Server.URL + "/oidc/oauth/token"}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// policyAbuseCall sends a request to the partner API and returns the
// status, the headers and the body.
func policyAbuseCall(t *testing.T, env *apptest.Env, token, method, path, contentType string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, env.Server.URL+"/api/partner/v1"+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw
}

// TestAbusePolicyReconcile: a partner allowed only full_name in one
// commune uploads a reconciliation file of people of its commune and of
// other provinces, some of them dead, to learn their PINs and deaths (the
// report used to carry both, for anyone in the country). Against a
// running platform on SQLite and PostgreSQL: the upload needs a declared
// purpose, and the report has no PIN, no death flag, and nothing of the
// people outside the commune — their rows read exactly as a row naming
// nobody, in the report and in the job's counters — and only the people of
// the commune are in the access log, under the declared purpose.
func TestAbusePolicyReconcile(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 300)
			ctx := context.Background()
			db := env.App.DB
			// The commune with the most people, and people elsewhere.
			var commune, province string
			if err := db.R.QueryRowContext(ctx, `SELECT perm_commune, perm_province FROM persons WHERE status = 'alive'
				GROUP BY perm_commune, perm_province ORDER BY count(*) DESC, perm_commune LIMIT 1`).Scan(&commune, &province); err != nil {
				t.Fatal(err)
			}
			type person struct{ pin, name, birth, commune string }
			pick := func(q string, args ...any) []person {
				rows, err := db.R.QueryContext(ctx, `SELECT pin, full_name, birth_date, perm_commune FROM persons WHERE status = 'alive' AND relation <> 'Chủ hộ' AND `+q+` ORDER BY pin LIMIT 6`, args...)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var out []person
				for rows.Next() {
					var p person
					rows.Scan(&p.pin, &p.name, &p.birth, &p.commune)
					out = append(out, p)
				}
				return out
			}
			inside, outside := pick(`perm_commune = $1`, commune), pick(`perm_province <> $1`, province)
			if len(inside) < 2 || len(outside) < 3 {
				t.Fatalf("%d people in %s, %d outside %s", len(inside), commune, len(outside), province)
			}
			// One of each dies first: the report must not tell.
			died := time.Now().AddDate(0, 0, -3).Format(time.DateOnly)
			for _, p := range []person{inside[0], outside[0]} {
				if _, err := env.App.Registry.RegisterDeath(ctx, actor.SystemActor("e2e"), registry.DeathInput{PIN: p.pin, DeathDate: died, Reason: "Bệnh"}); err != nil {
					t.Fatal(err)
				}
			}
			token := policyAbusePartner(t, env, "xa-mot", exchange.Policy{Operations: []exchange.Operation{exchange.OpReconcile},
				Fields: []string{"full_name"}, Scope: commune,
				Purposes: []exchange.Purpose{{Code: "clean-up", Description: "Làm sạch danh sách", Basis: exchange.BasisLaw, Citation: "Luật thử nghiệm, Điều 1"}}})

			var file strings.Builder
			file.WriteString("Mã;Họ và tên;Số định danh;Ngày sinh\n")
			all := append(append([]person{}, inside...), outside...)
			for i, p := range all {
				fmt.Fprintf(&file, "R%02d;%s;%s;%s\n", i, p.name, p.pin, p.birth)
			}
			file.WriteString("R99;Người Không Có Thật;;1901-01-01\n")

			// No purpose: refused before the file is read.
			if st, _, raw := policyAbuseCall(t, env, token, "POST", "/reconcile/jobs", "text/csv", []byte(file.String())); st != 422 || !strings.Contains(string(raw), "policy.purpose_required") {
				t.Fatalf("upload without a purpose: %d %s", st, raw)
			}
			if st, _, raw := policyAbuseCall(t, env, token, "POST", "/reconcile/jobs?purpose=marketing", "text/csv", []byte(file.String())); st != 403 || !strings.Contains(string(raw), "policy.purpose_not_declared") {
				t.Fatalf("upload for an undeclared purpose: %d %s", st, raw)
			}
			st, _, raw := policyAbuseCall(t, env, token, "POST", "/reconcile/jobs?purpose=clean-up", "text/csv", []byte(file.String()))
			var job map[string]any
			json.Unmarshal(raw, &job)
			id, _ := job["id"].(string)
			if st != http.StatusAccepted || id == "" {
				t.Fatalf("upload: %d %s", st, raw)
			}
			for deadline := time.Now().Add(60 * time.Second); job["state"] != "done"; {
				if time.Now().After(deadline) {
					t.Fatalf("job not done: %v", job)
				}
				time.Sleep(100 * time.Millisecond)
				_, _, raw = policyAbuseCall(t, env, token, "GET", "/reconcile/jobs/"+id, "", nil)
				job = map[string]any{}
				json.Unmarshal(raw, &job)
			}
			if job["matched"] != float64(len(inside)) || job["not_found"] != float64(len(outside)+1) {
				t.Errorf("the job's counters tell about people outside the commune: %v", job)
			}
			st, _, report := policyAbuseCall(t, env, token, "GET", "/reconcile/jobs/"+id+"/report", "", nil)
			recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(report), "\uFEFF"))).ReadAll()
			if st != 200 || err != nil || len(recs) != len(all)+2 {
				t.Fatalf("report: %d %v\n%s", st, err, report)
			}
			for _, p := range all {
				if strings.Contains(string(report), p.pin) {
					t.Errorf("the report discloses the PIN of a person of %s", p.commune)
				}
			}
			nobody := strings.Join(recs[len(recs)-1][3:], ",")
			for i, r := range recs[1 : len(all)+1] {
				if r[7] != "" {
					t.Errorf("row %d: the report discloses a death: %v", i+1, r)
				}
				if i < len(inside) && r[3] != "matched" {
					t.Errorf("row %d, a person of the commune: %v", i+1, r)
				}
				if i >= len(inside) && strings.Join(r[3:], ",") != nobody {
					t.Errorf("row %d, a person of another province: %v; a row naming nobody: %s", i+1, r, nobody)
				}
			}
			// The access log: the commune's people, under the purpose; no
			// one outside.
			for i, p := range all {
				var n int
				env.App.AuditDB.R.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE actor = 'partner:xa-mot' AND action = 'reconcile.disclose'
					AND subject = $1 AND purpose = 'clean-up'`, "person:"+p.pin).Scan(&n)
				if want := map[bool]int{true: 1, false: 0}[i < len(inside)]; n != want {
					t.Errorf("%d access-log entries for a person of %s, want %d", n, p.commune, want)
				}
			}
		})
	}
}

// TestAbusePolicyDeliveryLimits: the subscription and delivery routes used
// to be mounted beside the partner API, past its rate limit and quota; a
// partner could call them without bound. Now they answer 429 with
// Retry-After past the partner's rate, like every partner route.
func TestAbusePolicyDeliveryLimits(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 20)
			token := policyAbusePartner(t, env, "hook-flood", exchange.Policy{Operations: []exchange.Operation{exchange.OpSubscribe},
				Fields: []string{"status"}, RatePerSecond: 0.2, Burst: 3})
			for i := range 3 {
				if st, _, raw := policyAbuseCall(t, env, token, "GET", "/subscriptions", "", nil); st != 200 {
					t.Fatalf("call %d within the burst: %d %s", i, st, raw)
				}
			}
			for _, rt := range []struct{ method, path string }{
				{"GET", "/subscriptions"}, {"POST", "/subscriptions"}, {"GET", "/deliveries"},
				{"POST", "/deliveries/replay"}, {"GET", "/delivery-log"}, {"DELETE", "/subscriptions/x"},
			} {
				st, h, raw := policyAbuseCall(t, env, token, rt.method, rt.path, "application/json", []byte(`{"types":["died"],"mode":"jetstream"}`))
				if st != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(string(raw), "policy.rate_limited") {
					t.Errorf("%s %s past the rate: %d Retry-After %q %s", rt.method, rt.path, st, h.Get("Retry-After"), raw)
				}
			}
		})
	}
}

// ---- production ----

const productionAbusePassword = "mật-khẩu-lạm-dụng-sản-xuất"

// productionStart runs the platform in production mode on dialect d, the
// SMS gateway and face-verification service being httptest servers that
// answer as their contract says, and returns its URL and the app.
func productionStart(t *testing.T, d storage.Dialect) (string, *app.App) {
	t.Helper()
	outside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"match":false}`)
	}))
	t.Cleanup(outside.Close)
	cfg := platform.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), LogLevel: "warn", LogFormat: "text", Production: true,
		SMSGatewayURL: outside.URL + "/sms", SMSGatewaySecret: strings.Repeat("m", 32),
		FaceVerifyURL: outside.URL + "/face", FaceVerifySecret: strings.Repeat("f", 32),
		EIDSecret: strings.Repeat("e", 32), PKIKey: strings.Repeat("p", 32), AuditKey: strings.Repeat("a1", 32)}
	if d == storage.Postgres {
		cfg.DB = storagetest.URL(t, d)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("production configuration: %v", err)
	}
	srv := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	a, err := app.Open(context.Background(), cfg, cfg.Logger(io.Discard), time.Now)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	srv.Config.Handler = a.Handler
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return srv.URL, a
}

// TestAbuseProductionWebhookInternal: in production an administrator
// cannot point a partner's webhook at the platform's own network — loopback,
// the cloud metadata address, private addresses, names of this machine —
// and the first start makes no sample citizen or partner whose secrets
// someone could know. (The refusal at dial time, for a subscription that
// points inside anyway, is TestServeProduction in cmd/dancu.)
func TestAbuseProductionWebhookInternal(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			url, a := productionStart(t, d)
			ctx := context.Background()
			if _, err := a.Bootstrap(ctx, productionAbusePassword); err != nil {
				t.Fatal(err)
			}
			citizens, err := a.BootstrapCitizens(ctx, productionAbusePassword)
			if err != nil || len(citizens) != 0 {
				t.Fatalf("production made sample citizens: %v %v", citizens, err)
			}
			partners, err := a.BootstrapPartners(ctx)
			if err != nil || len(partners) != 0 {
				t.Fatalf("production made sample partners: %v %v", partners, err)
			}
			if _, err := a.Partners.AddPartner(ctx, exchange.Partner{ID: "bank-prod", Name: "Ngân hàng thử", Kind: "bank", Policy: exchange.Policy{
				Operations: []exchange.Operation{exchange.OpVerify, exchange.OpSubscribe}, Fields: []string{"pin", "full_name"},
				Purposes: []exchange.Purpose{{Code: "kyc", Basis: "law", Description: "Nhận biết khách hàng", Citation: "Luật Phòng, chống rửa tiền 2022"}}}}); err != nil {
				t.Fatal(err)
			}
			token := productionAbuseSignIn(t, url)
			for _, hook := range []string{
				"https://127.0.0.1/hook", "https://127.1.2.3:8443/hook", "https://[::1]:443/hook", "https://169.254.169.254/latest/meta-data/",
				"https://[fe80::1]/hook", "https://10.1.2.3/hook", "https://192.168.1.1/hook", "https://100.64.0.1/hook", "https://0.0.0.0/hook",
				"https://localhost/hook", "https://LOCALHOST./hook", "https://metadata.localhost/hook", "https://[::ffff:169.254.169.254]/hook",
				"http://partner.example.vn/hook", // plain http, outside development
			} {
				var problem struct {
					Errors []struct{ Field, Code string }
				}
				st := productionAbuseCall(t, "POST", url+"/api/v1/admin/subscriptions", token,
					map[string]any{"partner_id": "bank-prod", "types": []string{"name_changed"}, "mode": "webhook", "url": hook}, &problem)
				if st != 422 || len(problem.Errors) != 1 || problem.Errors[0].Field != "url" {
					t.Errorf("subscribe %s: %d %+v, want 422 on url", hook, st, problem.Errors)
				}
			}
			var n int
			if err := a.DB.R.QueryRowContext(ctx, `SELECT count(*) FROM delivery_subscriptions`).Scan(&n); err != nil || n != 0 {
				t.Fatalf("%d subscriptions stored after the refusals (%v)", n, err)
			}
			// A public address is accepted: the rule refuses addresses, not
			// webhooks.
			if st := productionAbuseCall(t, "POST", url+"/api/v1/admin/subscriptions", token,
				map[string]any{"partner_id": "bank-prod", "types": []string{"name_changed"}, "mode": "webhook", "url": "https://203.0.113.10/hook"}, nil); st != 201 {
				t.Fatalf("a public webhook address: %d", st)
			}
			// Production cookies are Secure.
			resp, err := http.Get(url + "/login")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if len(resp.Cookies()) == 0 {
				t.Fatal("the sign-in page set no cookie")
			}
			for _, c := range resp.Cookies() {
				if !c.Secure {
					t.Errorf("cookie %s is not Secure in production", c.Name)
				}
			}
		})
	}
}

func productionAbuseSignIn(t *testing.T, url string) string {
	t.Helper()
	var signIn struct{ Token string }
	if st := productionAbuseCall(t, "POST", url+"/api/v1/sessions", "", map[string]string{"username": "admin", "password": productionAbusePassword}, &signIn); st != 201 {
		t.Fatalf("admin sign-in: %d", st)
	}
	return signIn.Token
}

func productionAbuseCall(t *testing.T, method, url, token string, in, out any) int {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// ---- scope ----

// scopeClient is a staff member of the JSON API.
type scopeClient struct {
	t     *testing.T
	base  string
	token string
}

// scopeSignIn signs a bootstrap account in.
func scopeSignIn(t *testing.T, base, user string) *scopeClient {
	t.Helper()
	c := &scopeClient{t: t, base: base}
	var tok struct{ Token string }
	if st, _ := c.call("POST", "/api/v1/sessions", map[string]string{"username": user, "password": apptest.Password}, &tok); st != 201 {
		t.Fatalf("sign in %s: %d", user, st)
	}
	c.token = tok.Token
	return c
}

// call sends a JSON request and returns the status and the raw answer,
// decoded into out when out is not nil.
func (c *scopeClient) call(method, path string, body, out any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, raw
}

// TestAbuseScopeRegistrar: the commune registrar of Ba Đình (dangky.badinh)
// attacks people outside the commune through a real server.
//
//   - The binary search over move dates that used to recover a birth date
//     in 16 requests ("date before birth" or not) now gets 16 identical 403
//     out_of_scope answers, the same as for a dead person and for a PIN of
//     nobody, and no read of the person is opened.
//   - A temporary residence in Ba Đình for an outsider without evidence is
//     403; with the QR of the outsider's own valid card, read at the desk,
//     it is 201 and the act's audit entry names the card.
func TestAbuseScopeRegistrar(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 300)
			db := env.App.DB
			base := env.Server.URL
			badinh := scopeSignIn(t, base, "dangky.badinh")
			admin := scopeSignIn(t, base, "admin")

			var outside, deadPIN string
			if err := db.R.QueryRow(`SELECT pin FROM persons WHERE perm_commune <> '00004' AND temp_commune = '' AND status = 'alive' AND relation <> 'Chủ hộ' AND length(birth_date) = 10 ORDER BY pin LIMIT 1`).Scan(&outside); err != nil {
				t.Fatal(err)
			}
			if err := db.R.QueryRow(`SELECT pin FROM persons WHERE perm_commune <> '00004' AND status = 'alive' AND relation <> 'Chủ hộ' AND birth_date < '2025' AND pin <> $1 ORDER BY pin LIMIT 1`, outside).Scan(&deadPIN); err != nil {
				t.Fatal(err)
			}
			if st, raw := admin.call("POST", "/api/v1/deaths", map[string]string{"pin": deadPIN, "death_date": "01/01/2026"}, nil); st != 201 {
				t.Fatalf("admin registers a death: %d %s", st, raw)
			}

			// The binary search: 16 moves into Ba Đình with dates halving
			// 1900-01-01 … today, going up on "date before birth".
			lo, hi := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().UTC()
			var first []byte
			for i := range 16 {
				mid := lo.Add(hi.Sub(lo) / 2).Truncate(24 * time.Hour)
				st, raw := badinh.call("POST", "/api/v1/moves", map[string]string{"pin": outside, "date": mid.Format("02/01/2006"), "commune_code": "00004"}, nil)
				if st != 403 || !strings.Contains(string(raw), `"code":"out_of_scope"`) {
					t.Fatalf("probe %d (%s): %d %s", i, mid.Format("2006-01-02"), st, raw)
				}
				if first == nil {
					first = raw
				} else if !bytes.Equal(raw, first) {
					t.Fatalf("probe %d answers differently:\n%s\n%s", i, raw, first)
				}
				if strings.Contains(string(raw), "before_birth") {
					lo = mid
				} else {
					hi = mid
				}
			}
			// A dead person, a PIN of nobody, a date that is no date: the same answer.
			for _, body := range []map[string]string{
				{"pin": deadPIN, "date": "01/01/2000", "commune_code": "00004"},
				{"pin": "001183999999", "date": "01/01/2000", "commune_code": "00004"},
				{"pin": outside, "date": "hôm qua", "commune_code": "00004"},
				{"pin": outside, "date": "01/01/1800", "commune_code": "99999"},
			} {
				if st, raw := badinh.call("POST", "/api/v1/moves", body, nil); st != 403 || !bytes.Equal(raw, first) {
					t.Fatalf("move %v: %d %s", body, st, raw)
				}
			}
			// Then the history read and the death the old hole allowed.
			for _, probe := range []struct {
				method, path string
				body         any
			}{
				{"GET", "/api/v1/persons/" + outside + "/history", nil},
				{"POST", "/api/v1/deaths", map[string]string{"pin": outside, "death_date": "01/01/2026"}},
				{"POST", "/api/v1/temporary-residences", map[string]string{"pin": outside, "commune_code": "00004", "from": "01/04/2026", "to": "01/01/2027"}},
			} {
				if st, raw := badinh.call(probe.method, probe.path, probe.body, nil); st != 403 || !strings.Contains(string(raw), `"code":"out_of_scope"`) {
					t.Fatalf("%s %s: %d %s", probe.method, probe.path, st, raw)
				}
			}
			var opened int
			env.App.AuditDB.R.QueryRow(`SELECT count(*) FROM audit_log WHERE actor = 'staff:dangky.badinh' AND subject IN ($1, $2)`, "person:"+outside, "person:"+deadPIN).Scan(&opened)
			if opened != 0 {
				t.Fatalf("the attempts opened %d audited reads or acts", opened)
			}

			// The outsider comes to the desk with their own card.
			var card struct {
				Serial string `json:"serial"`
				QR     string `json:"qr"`
			}
			if st, raw := admin.call("POST", "/api/v1/persons/"+outside+"/cards", nil, &card); st != 201 {
				t.Fatalf("apply card: %d %s", st, raw)
			}
			for _, step := range []string{"approve", "produce", "hand-over"} {
				if st, raw := admin.call("POST", "/api/v1/cards/"+card.Serial+"/"+step, nil, &card); st != 200 {
					t.Fatalf("%s: %d %s", step, st, raw)
				}
			}
			stay := map[string]any{"pin": outside, "commune_code": "00004", "address_detail": "Nhà trọ số 3",
				"from": time.Now().AddDate(0, 0, -30).Format("02/01/2006"), "to": time.Now().AddDate(1, 0, 0).Format("02/01/2006"),
				"arrival": map[string]string{"card_qr": card.QR}}
			if st, raw := badinh.call("POST", "/api/v1/temporary-residences", stay, nil); st != 201 {
				t.Fatalf("temporary residence on the card's QR: %d %s", st, raw)
			}
			var detail string
			env.App.AuditDB.R.QueryRow(`SELECT detail FROM audit_log WHERE actor = 'staff:dangky.badinh' AND action = 'person.temporary_residence' AND subject = $1`, "person:"+outside).Scan(&detail)
			if !strings.Contains(detail, "arrival=card_qr:"+outside) {
				t.Fatalf("the act's audit entry does not name the card: %q", detail)
			}
			// The same card does not bring in the dead person.
			stay["pin"] = deadPIN
			if st, raw := badinh.call("POST", "/api/v1/temporary-residences", stay, nil); st != 403 || !strings.Contains(string(raw), `"code":"out_of_scope"`) {
				t.Fatalf("another person's card: %d %s", st, raw)
			}
		})
	}
}
