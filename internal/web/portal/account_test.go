package portal_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/eid/passkeytest"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// platformBrowser browses the platform's own server, which mounts the
// portal and whose public URL is the WebAuthn relying party.
func (f *fixture) platformBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: f.env.Server.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// origin is the browser origin WebAuthn sees: the platform on localhost.
func (f *fixture) origin() string {
	return strings.Replace(f.env.Server.URL, "127.0.0.1", "localhost", 1)
}

// postJSON posts as the passkey script does, with the CSRF header.
func (b *browser) postJSON(path, csrf string, body any) (int, map[string]any) {
	b.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, b.base+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	p := b.do(req)
	var out map[string]any
	json.Unmarshal([]byte(p.body), &out)
	return p.status, out
}

var dataCSRF = regexp.MustCompile(`data-csrf="([^"]+)"`)

// ceremony runs the script's two calls: options, the authenticator, finish.
func (b *browser) ceremony(options, finish, csrf string, extra map[string]any, answer func([]byte) ([]byte, error)) (int, map[string]any) {
	b.t.Helper()
	status, c := b.postJSON(options, csrf, extra)
	if status != http.StatusOK {
		return status, c
	}
	opts, _ := json.Marshal(c["options"])
	cred, err := answer(opts)
	if err != nil {
		b.t.Fatal(err)
	}
	body := map[string]any{"ceremony": c["ceremony"], "credential": json.RawMessage(cred)}
	for k, v := range extra {
		body[k] = v
	}
	return b.postJSON(finish, csrf, body)
}

func TestPasskeysAndOrganisations(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := start(t, d)
			t.Run("passkey registered in the portal signs in at the OpenID provider", func(t *testing.T) { passkeyJourney(t, f) })
			t.Run("organisation pages and delegations", func(t *testing.T) { orgJourney(t, f) })
		})
	}
}

func passkeyJourney(t *testing.T, f *fixture) {
	ctx := context.Background()
	c := f.level2(t)
	key := passkeytest.New()

	// Signed in with the password only, a level-2 account cannot add one.
	b1 := f.platformBrowser(t)
	if p := b1.signIn(c.pin, password, ""); p.status != http.StatusSeeOther {
		t.Fatalf("sign-in %d", p.status)
	}
	p := b1.get("/citizen/passkeys")
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="passkeys-need-level2"`) || strings.Contains(p.body, `id="passkey-add"`) {
		t.Fatalf("level-1 session page %d:\n%s", p.status, p.body)
	}
	csrf1 := b1.csrf(p)
	if status, out := b1.postJSON("/citizen/passkeys/options", csrf1, nil); status != http.StatusForbidden || out["code"] != eid.ErrPasskeyLevel2.Code {
		t.Fatalf("level-1 session options %d %v", status, out)
	}

	// At level 2 the button is there and the ceremony goes through.
	b := f.platformBrowser(t)
	if p := b.signIn(c.pin, password, c.nextCode(t)); p.status != http.StatusSeeOther {
		t.Fatalf("level-2 sign-in %d", p.status)
	}
	p = b.get("/citizen/passkeys")
	m := dataCSRF.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil || !strings.Contains(p.body, `src="/citizen/webauthn.js"`) || !strings.Contains(p.body, `id="passkeys-none"`) {
		t.Fatalf("passkeys page %d:\n%s", p.status, p.body)
	}
	csrf := m[1]
	if js := b.get("/citizen/webauthn.js"); js.status != http.StatusOK || !strings.Contains(js.body, "navigator.credentials.create") {
		t.Fatalf("script %d", js.status)
	}
	// Without the CSRF header the session refuses the call.
	if status, _ := b.postJSON("/citizen/passkeys/options", "", nil); status != http.StatusForbidden {
		t.Fatalf("options without CSRF: %d", status)
	}
	// A browser on another origin (phishing) does not register.
	status, out := b.ceremony("/citizen/passkeys/options", "/citizen/passkeys/register", csrf, map[string]any{"name": "x"},
		func(o []byte) ([]byte, error) { return passkeytest.New().Create(o, "http://phish.localhost") })
	if status != http.StatusUnprocessableEntity || out["code"] != eid.ErrPasskeyInvalid.Code {
		t.Fatalf("wrong origin registration %d %v", status, out)
	}
	status, out = b.ceremony("/citizen/passkeys/options", "/citizen/passkeys/register", csrf, map[string]any{"name": "Máy tính bảng"},
		func(o []byte) ([]byte, error) { return key.Create(o, f.origin()) })
	if status != http.StatusOK || out["redirect"] != "/citizen/passkeys?added=1" {
		t.Fatalf("registration %d %v", status, out)
	}
	p = b.get("/citizen/passkeys?added=1")
	if !strings.Contains(p.body, "Máy tính bảng") || !strings.Contains(p.body, "Đã thêm khóa truy cập") {
		t.Fatalf("passkey not listed:\n%s", p.body)
	}

	// Sign in to the portal with the passkey alone: a level-2 session (the
	// electronic ID card opens).
	pb := f.platformBrowser(t)
	lp := pb.get("/citizen/login")
	lm := dataCSRF.FindStringSubmatch(lp.body)
	if lm == nil || !strings.Contains(lp.body, `id="passkey-signin"`) {
		t.Fatalf("portal login page has no passkey button:\n%s", lp.body)
	}
	if status, _ := pb.postJSON("/citizen/passkey/options", "", nil); status != http.StatusForbidden {
		t.Fatalf("passkey options without CSRF: %d", status)
	}
	status, out = pb.ceremony("/citizen/passkey/options", "/citizen/passkey/login", lm[1], nil,
		func(o []byte) ([]byte, error) { return key.Get(o, f.origin()) })
	if status != http.StatusOK || out["redirect"] != "/citizen/me" {
		t.Fatalf("portal passkey sign-in %d %v", status, out)
	}
	if p := pb.get("/citizen/ecard"); p.status != http.StatusOK {
		t.Fatalf("e-ID card after a passkey sign-in: %d", p.status)
	}

	// Sign in at a level-2 relying party with the passkey only.
	if err := f.env.App.OIDC.Clients().Add(ctx, oidcop.Client{ID: "pk-bank", Name: "Ngân hàng B", Purpose: "Mở tài khoản", RedirectURIs: []string{"http://127.0.0.1:9/cb"},
		GrantTypes: []string{oidcop.GrantAuthorizationCode}, Scopes: []string{oidcop.ScopeProfile}, MinLevel: eid.Level2, DevMode: true}); err != nil {
		t.Fatal(err)
	}
	verifier := "a-verifier-that-is-long-enough-for-pkce-0123456789"
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {"pk-bank"}, "response_type": {"code"}, "scope": {"openid profile"}, "redirect_uri": {"http://127.0.0.1:9/cb"},
		"state": {"st"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	rp := f.platformBrowser(t)
	page := rp.get("/oidc/authorize?" + q.Encode())
	for i := 0; page.status == http.StatusFound || page.status == http.StatusSeeOther; i++ {
		if i > 5 {
			t.Fatal("redirect loop")
		}
		page = rp.get(strings.TrimPrefix(page.location, rp.base))
	}
	id := regexp.MustCompile(`name="authRequestID" value="([^"]+)"`).FindStringSubmatch(page.body)
	m = dataCSRF.FindStringSubmatch(page.body)
	if id == nil || m == nil || !strings.Contains(page.body, "Đăng nhập bằng khóa truy cập (passkey)") {
		t.Fatalf("login page %d:\n%s", page.status, page.body)
	}
	status, out = rp.ceremony("/oidc/passkey/options", "/oidc/passkey/login", m[1], map[string]any{"authRequestID": id[1]},
		func(o []byte) ([]byte, error) { return key.Get(o, f.origin()) })
	next, _ := out["redirect"].(string)
	if status != http.StatusOK || !strings.Contains(next, "/consent") {
		t.Fatalf("passkey login %d %v", status, out)
	}
	page = rp.get(strings.TrimPrefix(next, rp.base))
	page = rp.post("/oidc/consent", url.Values{"authRequestID": {id[1]}, "csrf": {rp.csrf(page)}, "decision": {"allow"}})
	if strings.Contains(page.location, "/oidc/authorize/callback") {
		page = rp.get(strings.TrimPrefix(page.location, rp.base))
	}
	if loc, _ := url.Parse(page.location); loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("no code after consent: %d %q", page.status, page.location)
	}
	// The sign-in is in the citizen's history at level 2, and so is the passkey.
	recs, err := f.env.App.EID.SignIns(ctx, c.pin, 1)
	if err != nil || len(recs) != 1 || recs[0].Level != eid.Level2 || recs[0].Channel != "oidc:pk-bank" || strings.Join(recs[0].AMR, " ") != "pop mfa" {
		t.Fatalf("sign-in history %+v %v", recs, err)
	}
	access := text(b.get("/citizen/access").body)
	for _, want := range []string{"Thêm khóa truy cập", "Đồng ý chia sẻ thông tin", "Kích hoạt tài khoản định danh điện tử mức 2"} {
		if !strings.Contains(access, want) {
			t.Errorf("history lacks %q:\n%s", want, access)
		}
	}

	// Another citizen cannot remove it; its owner can.
	other := f.level1(t)
	ob := f.platformBrowser(t)
	ob.signIn(other.pin, password, "")
	list, _ := f.env.App.EID.Passkeys(ctx, c.pin)
	op := ob.get("/citizen/passkeys")
	if p := ob.post("/citizen/passkeys/remove", url.Values{"csrf": {ob.csrf(op)}, "id": {list[0].ID}}); p.status != http.StatusNotFound {
		t.Fatalf("removing another's passkey: %d", p.status)
	}
	if p := b.post("/citizen/passkeys/remove", url.Values{"csrf": {csrf}, "id": {list[0].ID}}); p.status != http.StatusSeeOther {
		t.Fatalf("remove %d", p.status)
	}
	if p := b.get("/citizen/passkeys?removed=1"); strings.Contains(p.body, "Máy tính bảng") {
		t.Fatal("passkey still listed after removal")
	}
}

func orgJourney(t *testing.T, f *fixture) {
	ctx := context.Background()
	rep, staffer, outsider := f.level2(t), f.level1(t), f.level1(t)
	registrar := actor.Actor{ID: "staff:test.registrar", Role: actor.Registrar}
	org, err := f.env.App.EID.RegisterOrg(ctx, registrar, eid.OrgInput{Kind: eid.OrgCompany, Code: "0312345678", Name: "Công ty Cổ phần Ánh Dương", RepresentativePIN: rep.pin})
	if err != nil {
		t.Fatal(err)
	}
	orgPath := "/citizen/orgs/" + org.ID
	until := time.Now().AddDate(0, 1, 0).Format("2006-01-02")

	// Password only: the representative sees the organisation but cannot delegate.
	r1 := f.platformBrowser(t)
	r1.signIn(rep.pin, password, "")
	if p := r1.get("/citizen/orgs"); !strings.Contains(p.body, "Công ty Cổ phần Ánh Dương") || !strings.Contains(p.body, `id="manage-0312345678"`) {
		t.Fatalf("my organisations:\n%s", p.body)
	}
	p := r1.get(orgPath)
	if !strings.Contains(p.body, `id="org-need-level2"`) {
		t.Fatalf("level-1 representative page:\n%s", p.body)
	}
	if p := r1.post(orgPath+"/delegate", url.Values{"csrf": {r1.csrf(p)}, "pin": {staffer.pin}, "role": {"accountant"}, "expires": {until}}); p.status != http.StatusForbidden {
		t.Fatalf("level-1 delegation %d", p.status)
	}

	// At level 2 the representative delegates.
	r2 := f.platformBrowser(t)
	r2.signIn(rep.pin, password, rep.nextCode(t))
	p = r2.get(orgPath)
	csrf := r2.csrf(p)
	bad := r2.post(orgPath+"/delegate", url.Values{"csrf": {csrf}, "pin": {staffer.pin}, "role": {"accountant"}, "expires": {"2001-01-01"}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, "Thời hạn ủy quyền") || !strings.Contains(bad.body, staffer.pin) {
		t.Fatalf("past expiry %d:\n%s", bad.status, bad.body)
	}
	if p := r2.post(orgPath+"/delegate", url.Values{"csrf": {csrf}, "pin": {staffer.pin}, "role": {"accountant"}, "expires": {until}}); p.status != http.StatusSeeOther {
		t.Fatalf("delegation %d:\n%s", p.status, p.body)
	}
	p = r2.get(orgPath + "?delegated=1")
	if !strings.Contains(p.body, `id="revoke-`+staffer.pin+`"`) || !strings.Contains(text(p.body), "Kế toán") {
		t.Fatalf("delegation not listed:\n%s", p.body)
	}

	// The delegate sees the organisation and their role, but not its delegations.
	s := f.platformBrowser(t)
	s.signIn(staffer.pin, password, "")
	if p := s.get("/citizen/orgs"); !strings.Contains(p.body, "Công ty Cổ phần Ánh Dương") || !strings.Contains(p.body, "Kế toán") {
		t.Fatalf("delegate's organisations:\n%s", p.body)
	}
	if p := s.get(orgPath); p.status != http.StatusForbidden {
		t.Fatalf("delegate opens the delegations page: %d", p.status)
	}
	// A citizen with no part in the organisation can neither see nor delegate.
	o := f.platformBrowser(t)
	o.signIn(outsider.pin, password, "")
	op := o.get("/citizen/orgs")
	if !strings.Contains(op.body, `id="orgs-none"`) {
		t.Fatalf("outsider's organisations:\n%s", op.body)
	}
	if p := o.post(orgPath+"/delegate", url.Values{"csrf": {o.csrf(op)}, "pin": {outsider.pin}, "role": {"staff"}, "expires": {until}}); p.status != http.StatusForbidden {
		t.Fatalf("outsider delegates: %d", p.status)
	}

	// Revocation ends it at once; the delegate's history shows both acts.
	ms, _ := f.env.App.EID.Memberships(ctx, staffer.pin)
	if p := r2.post(orgPath+"/revoke", url.Values{"csrf": {csrf}, "member": {ms[0].ID}}); p.status != http.StatusSeeOther {
		t.Fatalf("revoke %d", p.status)
	}
	if p := s.get("/citizen/orgs"); !strings.Contains(p.body, `id="orgs-none"`) {
		t.Fatalf("revoked delegation still listed:\n%s", p.body)
	}
	access := text(s.get("/citizen/access").body)
	for _, want := range []string{"Được ủy quyền thay mặt tổ chức", "Bị thu hồi ủy quyền thay mặt tổ chức", "Người đại diện theo pháp luật của tổ chức"} {
		if !strings.Contains(access, want) {
			t.Errorf("delegate's history lacks %q:\n%s", want, access)
		}
	}
}
