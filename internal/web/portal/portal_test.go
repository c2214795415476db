package portal_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/portal"
)

// TestPortal runs the portal against the whole platform on each database.
// One platform per dialect serves every case; each case has its own
// citizen.
func TestPortal(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := start(t, d)
			var seen []citizen
			t.Run("bad credentials", func(t *testing.T) { seen = append(seen, testBadCredentials(t, f)) })
			t.Run("level 1", func(t *testing.T) { seen = append(seen, testLevel1(t, f)) })
			t.Run("credential", func(t *testing.T) { seen = append(seen, testCredential(t, f)) })
			t.Run("access log", func(t *testing.T) { seen = append(seen, testAccessLog(t, f)) })
			t.Run("consent withdrawal", func(t *testing.T) { seen = append(seen, testConsent(t, f)) })
			t.Run("consent per field", func(t *testing.T) { seen = append(seen, testConsentField(t, f)) })
			t.Run("csrf", func(t *testing.T) { seen = append(seen, testCSRF(t, f)) })
			logs := f.env.Logs.String()
			for _, c := range seen {
				if c.pin == "" {
					continue
				}
				if strings.Contains(logs, c.pin) || strings.Contains(logs, c.name) {
					t.Errorf("a PIN or a name of a test citizen is in the log")
				}
			}
		})
	}
}

// testBadCredentials: an unknown PIN and a wrong password get the same
// answer, and a right password signs in.
func testBadCredentials(t *testing.T, f *fixture) citizen {
	c := f.level1(t)
	tests := []struct{ name, pin, password string }{
		{"unknown PIN", "001099000001", password},
		{"wrong password", c.pin, "không phải mật khẩu"},
		{"empty password", c.pin, ""},
	}
	var first string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := f.browser(t).signIn(tt.pin, tt.password, "")
			if p.status != http.StatusUnauthorized {
				t.Fatalf("status %d", p.status)
			}
			msg := regexp.MustCompile(`(?s)<div class="error-summary" id="error" role="alert"><p>(.*?)</p>`).FindStringSubmatch(p.body)
			if msg == nil || !strings.Contains(text(msg[1]), "Số định danh, mật khẩu hoặc mã xác thực không đúng.") {
				t.Fatalf("message %v", msg)
			}
			if first == "" {
				first = msg[1]
			} else if msg[1] != first {
				t.Fatalf("message %q differs from %q", msg[1], first)
			}
		})
	}
	b := f.browser(t)
	if p := b.signIn(c.pin, password, ""); p.status != http.StatusSeeOther || p.location != "/citizen/me" {
		t.Fatalf("good sign-in: %d %s", p.status, p.location)
	}
	return c
}

// testLevel1: a level-1 citizen sees their data, household and sign-in
// history, but not the e-ID card.
func testLevel1(t *testing.T, f *fixture) citizen {
	c := f.level1(t)
	b := f.browser(t)
	if p := b.signIn(c.pin, password, ""); p.status != http.StatusSeeOther {
		t.Fatalf("sign-in %d: %s", p.status, p.body)
	}
	me := b.get("/citizen/me")
	if me.status != http.StatusOK || !strings.Contains(text(me.body), c.name) || !strings.Contains(me.body, c.pin) {
		t.Fatalf("my data %d:\n%s", me.status, me.body)
	}
	for _, want := range []string{"Thông tin của tôi", "Lịch sử cư trú", "Thường trú"} {
		if !strings.Contains(text(me.body), want) {
			t.Errorf("my data lacks %q", want)
		}
	}
	if strings.Contains(me.body, `href="/citizen/ecard"`) {
		t.Error("a level-1 session is offered the e-ID card")
	}
	card := b.get("/citizen/ecard")
	if card.status != http.StatusForbidden || !strings.Contains(text(card.body), "Căn cước điện tử chỉ dành cho tài khoản định danh điện tử mức 2") {
		t.Fatalf("e-ID card for level 1: %d\n%s", card.status, card.body)
	}
	// The own read is audited as self-service.
	var n int
	f.env.App.AuditDB.R.QueryRow(`SELECT count(*) FROM audit_log WHERE actor = $1 AND action = 'person.read' AND purpose = 'self-service'`, "citizen:"+c.pin).Scan(&n)
	if n == 0 {
		t.Error("the citizen's own read is not audited")
	}
	s := b.get("/citizen/signins")
	if s.status != http.StatusOK || !strings.Contains(text(s.body), "Cổng công dân") || !strings.Contains(s.body, "<td>1</td>") {
		t.Errorf("sign-in history %d:\n%s", s.status, s.body)
	}
	// English.
	if p := b.get("/citizen/lang?l=en&next=/citizen/me"); p.status != http.StatusSeeOther || p.location != "/citizen/me" {
		t.Fatalf("language switch %d %s", p.status, p.location)
	}
	if en := b.get("/citizen/me"); !strings.Contains(en.body, `<html lang="en">`) || !strings.Contains(en.body, "Residence history") {
		t.Error("the English page is not in English")
	}
	if p := b.get("/citizen/lang?l=vi&next=//evil.example/"); p.location != "/citizen/" {
		t.Errorf("language switch follows %q", p.location)
	}
	// Sign out ends the session.
	logout := b.post("/citizen/logout", url.Values{"csrf": {b.csrf(b.get("/citizen/me"))}})
	if logout.status != http.StatusSeeOther {
		t.Fatalf("logout %d", logout.status)
	}
	if p := b.get("/citizen/me"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/citizen/login") {
		t.Fatalf("after logout: %d %s", p.status, p.location)
	}
	return c
}

var tokenRE = regexp.MustCompile(`id="ecard-token" rows="8" readonly>([^<]+)</textarea>`)

// testCredential: a level-2 citizen gets an e-ID card that verifies with
// the published JWK Set; altered, foreign and expired ones fail with their
// reason.
func testCredential(t *testing.T, f *fixture) citizen {
	c := f.level2(t)
	b := f.browser(t)
	if p := b.signIn(c.pin, password, c.nextCode(t)); p.status != http.StatusSeeOther {
		t.Fatalf("level-2 sign-in %d: %s", p.status, p.body)
	}
	card := b.get("/citizen/ecard")
	m := tokenRE.FindStringSubmatch(card.body)
	if card.status != http.StatusOK || m == nil || !strings.Contains(card.body, `src="data:image/png;base64,`) {
		t.Fatalf("e-ID card page %d:\n%s", card.status, card.body)
	}
	token := m[1]

	// Offline check: only the JWK Set published by the provider.
	resp, err := http.Get(f.srv.URL + "/oidc/keys")
	if err != nil {
		t.Fatal(err)
	}
	var keys jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&keys); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cred, err := portal.VerifyCredential(keys, token, time.Now())
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if cred.PIN != c.pin || cred.Name != c.name || cred.BirthDate != c.birth || cred.ACR != oidcop.ACRLevel2 || cred.Expires-cred.IssuedAt != 300 {
		t.Fatalf("credential %+v", cred)
	}

	parts := strings.Split(token, ".")
	forged := cred
	forged.Name = "Nguyễn Văn Giả"
	body, _ := json.Marshal(forged)
	// A signature that is not the provider's, over the genuine content.
	otherSig := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 64))
	tests := []struct {
		name, token string
		at          time.Time
		reason      string
	}{
		{"valid", token, time.Now(), ""},
		{"altered content", parts[0] + "." + base64.RawURLEncoding.EncodeToString(body) + "." + parts[2], time.Now(), "ecard.bad_signature"},
		{"other signature", otherSig, time.Now(), "ecard.bad_signature"},
		{"expired", token, time.Now().Add(5*time.Minute + time.Second), "ecard.expired"},
		{"garbage", "abc.def", time.Now(), "ecard.malformed"},
		{"ID token style header", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","kid":"x"}`)) + "." + parts[1] + "." + parts[2], time.Now(), "ecard.wrong_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := portal.VerifyCredential(keys, tt.token, tt.at)
			got := ""
			if err != nil {
				got = faultCode(err)
			}
			if got != tt.reason {
				t.Fatalf("reason %q (%v), want %q", got, err, tt.reason)
			}
			if tt.at.Sub(time.Now()) > time.Minute {
				return // the API checks at the server's time
			}
			// The API gives the same verdict.
			raw, _ := json.Marshal(map[string]string{"credential": tt.token})
			resp, err := http.Post(f.srv.URL+"/api/v1/eid/credentials/verify", "application/json", bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var res struct {
				Valid   bool
				Reason  string
				Message string
			}
			json.NewDecoder(resp.Body).Decode(&res)
			if resp.StatusCode != http.StatusOK || res.Valid != (tt.reason == "") || res.Reason != tt.reason || res.Message == "" {
				t.Fatalf("API %d %+v", resp.StatusCode, res)
			}
		})
	}
	// The public page.
	v := f.browser(t)
	form := v.get("/citizen/verify")
	p := v.post("/citizen/verify", url.Values{"csrf": {v.csrf(form)}, "credential": {token}})
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="verify-verdict">Hợp lệ<`) || !strings.Contains(text(p.body), c.name) {
		t.Fatalf("verification page %d:\n%s", p.status, p.body)
	}
	p = v.post("/citizen/verify", url.Values{"csrf": {v.csrf(form)}, "credential": {tests[1].token}})
	if !strings.Contains(p.body, `id="verify-verdict">Không hợp lệ<`) || !strings.Contains(text(p.body), "Chữ ký số không hợp lệ") {
		t.Fatalf("verification page for an altered card:\n%s", p.body)
	}
	// A body that is not the expected JSON is a problem, not a verdict.
	resp, err = http.Post(f.srv.URL+"/api/v1/eid/credentials/verify", "application/json", strings.NewReader(`{"token": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed request: %d", resp.StatusCode)
	}
	return c
}

func faultCode(err error) string { return fault.As(err).Code }

// testAccessLog: a staff member's read through the staff API shows up on
// the citizen's access page, in Vietnamese.
func testAccessLog(t *testing.T, f *fixture) citizen {
	c := f.level1(t)
	raw, _ := json.Marshal(map[string]string{"username": "admin", "password": apptest.Password})
	resp, err := http.Post(f.srv.URL+"/api/v1/sessions", "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/api/v1/persons/"+c.pin, nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("staff read %d", resp.StatusCode)
	}
	b := f.browser(t)
	b.signIn(c.pin, password, "")
	p := b.get("/citizen/access")
	row := regexp.MustCompile(`(?s)<tr><td class="nowrap">[^<]*</td><td>Cán bộ admin</td><td>Xem hồ sơ</td><td>([^<]*)</td></tr>`).FindStringSubmatch(p.body)
	if p.status != http.StatusOK || row == nil {
		t.Fatalf("access page %d:\n%s", p.status, p.body)
	}
	// The citizen's own reads (this page's sign-in read none, but the data
	// page does) are not listed.
	b.get("/citizen/me")
	if p := b.get("/citizen/access"); strings.Contains(p.body, "Tự tra cứu") {
		t.Error("the citizen's own reads are listed")
	}
	return c
}

// testConsent: a consent given at the OpenID provider is listed and can be
// withdrawn.
func testConsent(t *testing.T, f *fixture) citizen {
	ctx := context.Background()
	c := f.level1(t)
	const redirect = "http://127.0.0.1:9/cb"
	if err := f.env.App.OIDC.Clients().Add(ctx, oidcop.Client{ID: "bank-a", Secret: strings.Repeat("s", 40), Name: "Ngân hàng A", Purpose: "Mở tài khoản thanh toán",
		RedirectURIs: []string{redirect}, GrantTypes: []string{oidcop.GrantAuthorizationCode}, Scopes: []string{oidcop.ScopeProfile}, DevMode: true}); err != nil {
		t.Fatal(err)
	}
	b := f.browser(t)
	q := url.Values{"client_id": {"bank-a"}, "response_type": {"code"}, "scope": {"openid profile"}, "redirect_uri": {redirect}, "state": {"s"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
	p := b.get("/oidc/authorize?" + q.Encode())
	for i := 0; i < 5 && p.status/100 == 3; i++ {
		p = b.get(strings.TrimPrefix(p.location, f.env.Server.URL))
	}
	id := regexp.MustCompile(`name="authRequestID" value="([^"]+)"`).FindStringSubmatch(p.body)
	if id == nil {
		t.Fatalf("no login page: %d %s\n%s", p.status, p.location, p.body)
	}
	p = b.post("/oidc/login", url.Values{"authRequestID": {id[1]}, "csrf": {b.csrf(p)}, "pin": {c.pin}, "password": {password}})
	p = b.get(p.location)
	p = b.post("/oidc/consent", url.Values{"authRequestID": {id[1]}, "csrf": {b.csrf(p)}, "decision": {"allow"}})
	if p.status/100 != 3 {
		t.Fatalf("consent %d:\n%s", p.status, p.body)
	}

	b.signIn(c.pin, password, "")
	list := b.get("/citizen/consents")
	if !strings.Contains(list.body, "Ngân hàng A") || !strings.Contains(text(list.body), "Họ tên, ngày sinh, giới tính") || !strings.Contains(list.body, `id="withdraw-bank-a"`) {
		t.Fatalf("consents page:\n%s", list.body)
	}
	tests := []struct {
		name, client string
		status       int
	}{
		{"unknown client", "bank-b", http.StatusNotFound},
		{"bank-a", "bank-a", http.StatusSeeOther},
		{"again", "bank-a", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.post("/citizen/consents/withdraw", url.Values{"csrf": {b.csrf(list)}, "client_id": {tt.client}})
			if p.status != tt.status {
				t.Fatalf("withdraw: %d, want %d", p.status, tt.status)
			}
		})
	}
	after := b.get("/citizen/consents?withdrawn=1")
	if strings.Contains(after.body, `id="withdraw-bank-a"`) || !strings.Contains(text(after.body), "Đã rút lại sự đồng ý") {
		t.Fatalf("after withdrawal:\n%s", after.body)
	}
	acct, _ := f.env.App.EID.Account(ctx, c.pin)
	cs, err := f.env.App.OIDC.Consents(ctx, acct.Subject)
	if err != nil || len(cs) != 1 || cs[0].Withdrawn.IsZero() {
		t.Fatalf("consents %+v %v", cs, err)
	}
	// The sign-in at the bank is in the history, with the bank's name.
	if s := b.get("/citizen/signins"); !strings.Contains(s.body, "Dịch vụ Ngân hàng A") {
		t.Errorf("sign-in history lacks the bank:\n%s", s.body)
	}
	return c
}

// testCSRF: every form refuses a request without its token.
func testCSRF(t *testing.T, f *fixture) citizen {
	c := f.level1(t)
	b := f.browser(t)
	b.signIn(c.pin, password, "")
	good := b.csrf(b.get("/citizen/me"))
	tests := []struct {
		name, path string
		form       url.Values
	}{
		{"withdraw without token", "/citizen/consents/withdraw", url.Values{"client_id": {"bank-a"}}},
		{"withdraw with a wrong token", "/citizen/consents/withdraw", url.Values{"client_id": {"bank-a"}, "csrf": {"x" + good}}},
		{"logout without token", "/citizen/logout", url.Values{}},
		{"verify without token", "/citizen/verify", url.Values{"credential": {"a.b.c"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.post(tt.path, tt.form)
			if p.status != http.StatusForbidden || !strings.Contains(text(p.body), "mã chống giả mạo") {
				t.Fatalf("%d:\n%s", p.status, p.body)
			}
		})
	}
	// Sign-in from a browser that never loaded the form.
	fresh := f.browser(t)
	if p := fresh.post("/citizen/login", url.Values{"pin": {c.pin}, "password": {password}}); p.status != http.StatusForbidden {
		t.Fatalf("sign-in without token: %d", p.status)
	}
	// The session survived the refused logout.
	if p := b.get("/citizen/me"); p.status != http.StatusOK {
		t.Fatalf("session after a refused logout: %d", p.status)
	}
	return c
}
