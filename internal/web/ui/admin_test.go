package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// adminEnv is the whole platform with an administrator's browser.
type adminEnv struct {
	t     *testing.T
	env   *apptest.Env
	admin *staffClient
}

func (a *adminEnv) form(path string, vals url.Values) staffPage {
	a.t.Helper()
	vals.Set("csrf", a.admin.token(a.admin.do(http.MethodGet, "/", nil)))
	return a.admin.do(http.MethodPost, path, vals)
}

// audited counts the audit entries of an action by the administrator on
// a subject.
func (a *adminEnv) audited(action, subject string) int {
	a.t.Helper()
	var n int
	if err := a.env.App.AuditDB.R.QueryRowContext(context.Background(), `SELECT count(*) FROM audit_log WHERE action = $1 AND actor = $2 AND subject = $3`,
		action, "staff:admin", subject).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// token asks the provider's token endpoint for a client-credentials token.
func (a *adminEnv) token(clientID, secret string) (string, error) {
	cc := clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: a.env.Server.URL + "/oidc/oauth/token"}
	tok, err := cc.Token(context.Background())
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// verify calls the partner API's verify operation.
func (a *adminEnv) verify(token string, body map[string]any) (int, map[string]any) {
	a.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, a.env.Server.URL+"/api/partner/v1/verify", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

var (
	secretRE  = regexp.MustCompile(`id="new-client-secret">([^<]+)<`)
	checkedRE = func(name, value string) *regexp.Regexp {
		return regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="` + regexp.QuoteMeta(value) + `"[^>]*checked`)
	}
)

func plain(p staffPage) string { return text(p.body) }

func wantText(t *testing.T, what string, p staffPage, wants ...string) {
	t.Helper()
	s := plain(p)
	for _, w := range wants {
		if !strings.Contains(s, w) && !strings.Contains(html.UnescapeString(p.body), w) {
			t.Errorf("%s (status %d): page lacks %q\n%s", what, p.status, w, s)
		}
	}
}

// TestAdminPages: an administrator creates a partner with a policy, edits
// the policy (a stale form is refused), adds a system whose secret is
// shown once and works at the token endpoint and the partner API, and
// registers OpenID clients; registrars and leaders are refused; bad forms
// keep what was typed; a form without its CSRF token changes nothing;
// every change is in the audit log.
func TestAdminPages(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 60)
			a := &adminEnv{t: t, env: env, admin: signInStaff(t, env, "admin")}
			t.Run("roles", a.testRoles)
			t.Run("partner", a.testPartner)
			t.Run("clients", a.testClients)
		})
	}
}

func (a *adminEnv) testRoles(t *testing.T) {
	home := a.admin.do(http.MethodGet, "/", nil)
	if !strings.Contains(home.body, `href="/admin"`) {
		t.Error("the administrator's menu has no Quản trị entry")
	}
	wantText(t, "admin home", home, "Quản trị")
	for _, user := range []string{"dangky.hanoi", "lanhdao.hanoi"} {
		c := signInStaff(t, a.env, user)
		if p := c.do(http.MethodGet, "/", nil); strings.Contains(p.body, `href="/admin"`) {
			t.Errorf("%s sees the administration menu", user)
		}
		for _, path := range []string{"/admin", "/admin/partners", "/admin/partners/new", "/admin/clients", "/admin/clients/new"} {
			p := c.do(http.MethodGet, path, nil)
			if p.status != http.StatusForbidden {
				t.Errorf("%s GET %s: %d, want 403", user, path, p.status)
			}
			wantText(t, user+" "+path, p, "Chỉ quản trị viên hệ thống mới được dùng chức năng quản trị")
		}
		tok := c.token(c.do(http.MethodGet, "/", nil))
		p := c.do(http.MethodPost, "/admin/partners", url.Values{"csrf": {tok}, "partner_id": {"lau-" + user[:6]}, "partner_name": {"Lậu"}, "partner_kind": {"bank"}})
		if p.status != http.StatusForbidden {
			t.Errorf("%s POST /admin/partners: %d, want 403", user, p.status)
		}
		if _, err := a.env.App.Partners.Partner(context.Background(), "lau-"+user[:6]); err == nil {
			t.Errorf("a partner was created by %s", user)
		}
	}
}

func (a *adminEnv) testPartner(t *testing.T) {
	ctx := context.Background()
	// A living person, and the province the new partner is scoped to.
	var pin, province string
	if err := a.env.App.DB.R.QueryRow(`SELECT pin, perm_province FROM persons WHERE status = 'alive' ORDER BY pin LIMIT 1`).Scan(&pin, &province); err != nil {
		t.Fatal(err)
	}
	person, err := a.env.App.Registry.Get(ctx, actor.SystemActor("test"), pin, "test")
	if err != nil {
		t.Fatal(err)
	}
	provinceUnit, err := a.env.App.Units.Province(province, a.env.App.Now())
	if err != nil {
		t.Fatal(err)
	}

	p := a.admin.do(http.MethodGet, "/admin/partners/new", nil)
	if p.status != 200 {
		t.Fatalf("new partner form: %d", p.status)
	}
	wantText(t, "new partner form", p, "Thêm đối tác", "Xác thực thông tin (khớp / không khớp)", "Họ, chữ đệm và tên", "Thành phố Hà Nội")

	good := url.Values{"partner_id": {"nganhang-b"}, "partner_name": {"Ngân hàng TMCP Thử nghiệm B"}, "partner_kind": {"bank"},
		"operations": {"verify"}, "fields": {"full_name", "birth_date"},
		"purpose_code_0": {"aml-cdd"}, "purpose_basis_0": {"law"}, "purpose_description_0": {"Nhận biết khách hàng (phòng, chống rửa tiền)"},
		"purpose_citation_0": {"Luật Phòng, chống rửa tiền số 14/2022/QH15, Điều 9"}, "purpose_code_1": {""},
		"scope": {province}, "rate_per_second": {"100"}, "daily_quota": {"1.000"}}

	// Without its CSRF token the form changes nothing.
	if p := a.admin.do(http.MethodPost, "/admin/partners", good); p.status != http.StatusForbidden {
		t.Errorf("partner form without CSRF: %d, want 403", p.status)
	}
	if _, err := a.env.App.Partners.Partner(ctx, "nganhang-b"); err == nil {
		t.Fatal("a form without CSRF token created the partner")
	}

	// Bad input, caught by the store: every message beside its field, in
	// Vietnamese, and the form keeps what was typed.
	bad := url.Values{}
	for k, v := range good {
		bad[k] = v
	}
	bad.Set("partner_id", "Ngân Hàng B")
	bad.Set("purpose_citation_0", "")
	p = a.form("/admin/partners", bad)
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad partner: %d\n%s", p.status, plain(p))
	}
	wantText(t, "bad partner", p, "Mã đối tác gồm 2–40 chữ thường", `Mục đích "aml-cdd" theo quy định của luật phải nêu điều khoản`,
		`value="Ngân Hàng B"`, `value="Ngân hàng TMCP Thử nghiệm B"`, `value="Nhận biết khách hàng (phòng, chống rửa tiền)"`, `value="1.000"`)
	if !regexp.MustCompile(`(?s)id="f-purpose_0".*?error-message`).MatchString(p.body) {
		t.Error("the citation message is not beside purpose 1")
	}
	for _, box := range [][2]string{{"operations", "verify"}, {"fields", "full_name"}, {"fields", "birth_date"}, {"purpose_basis_0", "law"}, {"partner_kind", "bank"}} {
		if !checkedRE(box[0], box[1]).MatchString(p.body) {
			t.Errorf("bad partner: %s=%s is no longer ticked", box[0], box[1])
		}
	}
	// Bad input the page catches itself: a unit that does not exist, a
	// quota that is not a number.
	bad = url.Values{}
	for k, v := range good {
		bad[k] = v
	}
	bad.Set("scope", "99")
	bad.Set("daily_quota", "nhiều lắm")
	bad.Set("rate_per_second", "NaN")
	p = a.form("/admin/partners", bad)
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad scope: %d", p.status)
	}
	wantText(t, "bad scope", p, `Không có tỉnh, thành phố hoặc xã, phường nào mang mã "99"`, "Hạn mức yêu cầu mỗi ngày: nhập một số nguyên không âm", "Số yêu cầu mỗi giây: nhập một số không âm",
		`value="nhiều lắm"`, `value="nganhang-b"`)
	if _, err := a.env.App.Partners.Partner(ctx, "nganhang-b"); err == nil {
		t.Fatal("a bad form created the partner")
	}

	// The partner is created; its page shows the policy with unit names.
	p = a.form("/admin/partners", good)
	if p.status != http.StatusSeeOther || p.location != "/admin/partners/nganhang-b?done=created" {
		t.Fatalf("create partner: %d → %q\n%s", p.status, p.location, plain(p))
	}
	p = a.admin.do(http.MethodGet, p.location, nil)
	wantText(t, "partner page", p, "Đã thêm đối tác", "Ngân hàng TMCP Thử nghiệm B", "Xác thực thông tin (khớp / không khớp)",
		provinceUnit.Name, "Luật Phòng, chống rửa tiền số 14/2022/QH15, Điều 9", "0 / 1.000", "Đối tác chưa có hệ thống nào")
	if n := a.audited("partner.created", "partner:nganhang-b"); n != 1 {
		t.Errorf("partner.created audited %d times, want 1", n)
	}
	list := a.admin.do(http.MethodGet, "/admin/partners", nil)
	wantText(t, "partner list", list, "nganhang-b", "Ngân hàng TMCP Thử nghiệm B", "Ngân hàng", "Đang hoạt động", "0 / 1.000")

	// The policy edit form shows the policy; saving adds a purpose and
	// bumps the version.
	p = a.admin.do(http.MethodGet, "/admin/partners/nganhang-b/policy", nil)
	if !checkedRE("operations", "verify").MatchString(p.body) || !strings.Contains(p.body, `name="version" value="1"`) ||
		!strings.Contains(p.body, `value="Luật Phòng, chống rửa tiền số 14/2022/QH15, Điều 9"`) {
		t.Fatalf("policy form does not show the policy:\n%s", plain(p))
	}
	edit := url.Values{"version": {"1"}, "operations": {"verify", "lookup"}, "fields": {"full_name", "birth_date", "status"},
		"purpose_code_0": {"aml-cdd"}, "purpose_basis_0": {"law"}, "purpose_description_0": {"Nhận biết khách hàng (phòng, chống rửa tiền)"},
		"purpose_citation_0": {"Luật Phòng, chống rửa tiền số 14/2022/QH15, Điều 9"},
		"purpose_code_1":     {"account-opening"}, "purpose_basis_1": {"consent"}, "purpose_description_1": {"Mở tài khoản thanh toán"},
		"scope": {province}, "rate_per_second": {"100"}, "daily_quota": {"1000"}}
	p = a.form("/admin/partners/nganhang-b/policy", edit)
	if p.status != http.StatusSeeOther {
		t.Fatalf("save policy: %d\n%s", p.status, plain(p))
	}
	p = a.admin.do(http.MethodGet, p.location, nil)
	wantText(t, "after policy edit", p, "Đã lưu chính sách, phiên bản 2", "Tra cứu thông tin (eKYC)", "Mở tài khoản thanh toán", "Theo sự đồng ý của công dân")
	if n := a.audited("partner.policy_changed", "partner:nganhang-b"); n != 1 {
		t.Errorf("partner.policy_changed audited %d times, want 1", n)
	}
	// The same form sent again is stale: refused, what was typed kept.
	edit.Set("purpose_description_1", "Mở tài khoản (bản cũ)")
	p = a.form("/admin/partners/nganhang-b/policy", edit)
	if p.status != http.StatusConflict {
		t.Fatalf("stale policy: %d", p.status)
	}
	wantText(t, "stale policy", p, "Chính sách này đã được người khác thay đổi sau khi bạn mở biểu mẫu", `value="Mở tài khoản (bản cũ)"`, "Mở chính sách mới nhất")
	if got, _ := a.env.App.Partners.Partner(ctx, "nganhang-b"); got.Version != 2 || got.Policy.Purposes[1].Description != "Mở tài khoản thanh toán" {
		t.Errorf("a stale form changed the policy: version %d %+v", got.Version, got.Policy.Purposes)
	}

	// A system: the secret is on the result page once, never again.
	p = a.form("/admin/partners/nganhang-b/systems", url.Values{"client_id": {"nganhang-b-core"}, "system_name": {"Core banking"}, "auth": {"secret"},
		"cert_fingerprint": {"không phải vân tay"}})
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad system: %d", p.status)
	}
	wantText(t, "bad system", p, "Dấu vân tay chứng thư là SHA-256", `value="Core banking"`, `value="nganhang-b-core"`)
	p = a.form("/admin/partners/nganhang-b/systems", url.Values{"client_id": {"nganhang-b-core"}, "system_name": {"Core banking"}, "auth": {"secret"}})
	m := secretRE.FindStringSubmatch(p.body)
	if p.status != http.StatusCreated || m == nil {
		t.Fatalf("add system: %d\n%s", p.status, plain(p))
	}
	secret := html.UnescapeString(m[1])
	wantText(t, "secret page", p, "nganhang-b-core", "sẽ không bao giờ hiển thị lại")
	for _, path := range []string{"/admin/partners/nganhang-b", "/admin/clients", "/admin/clients/nganhang-b-core"} {
		if q := a.admin.do(http.MethodGet, path, nil); strings.Contains(q.body, secret) || q.status != 200 {
			t.Errorf("%s: status %d, or the secret is shown again", path, q.status)
		}
	}
	if n := a.audited("partner.system_added", "partner:nganhang-b"); n != 1 {
		t.Errorf("partner.system_added audited %d times, want 1", n)
	}
	for _, entry := range []string{secret} {
		var n int
		a.env.App.AuditDB.R.QueryRow(`SELECT count(*) FROM audit_log WHERE detail LIKE $1`, "%"+entry+"%").Scan(&n)
		if n != 0 {
			t.Error("the secret is in the audit log")
		}
	}

	// The secret gets a token, and the partner API accepts it.
	tok, err := a.token("nganhang-b-core", secret)
	if err != nil {
		t.Fatalf("client-credentials token with the new secret: %v", err)
	}
	body := map[string]any{"pin": person.PIN, "full_name": person.FullName, "birth_date": person.BirthDate.String(), "purpose": "aml-cdd"}
	status, ans := a.verify(tok, body)
	if status != 200 || ans["result"] != "match" {
		t.Fatalf("verify with the new system: %d %v", status, ans)
	}
	// The purpose must be one the policy declares.
	body["purpose"] = "marketing"
	if status, ans = a.verify(tok, body); status != http.StatusForbidden || ans["code"] != "policy.purpose_not_declared" {
		t.Errorf("verify for an undeclared purpose: %d %v", status, ans)
	}
	body["purpose"] = "aml-cdd"
	// Disabling the system in the UI stops its calls at once on this node.
	p = a.form("/admin/partners/nganhang-b/systems/nganhang-b-core/disable", url.Values{})
	if p.status != http.StatusSeeOther {
		t.Fatalf("disable system: %d", p.status)
	}
	if status, ans = a.verify(tok, body); status != http.StatusForbidden || ans["code"] != "partner.disabled" {
		t.Errorf("verify by a disabled system: %d %v", status, ans)
	}
	a.form("/admin/partners/nganhang-b/systems/nganhang-b-core/enable", url.Values{})
	// Disabling the partner stops it too, and shows in the list.
	if p = a.form("/admin/partners/nganhang-b/disable", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("disable partner: %d", p.status)
	}
	if status, _ = a.verify(tok, body); status != http.StatusForbidden {
		t.Errorf("verify by a disabled partner: %d", status)
	}
	wantText(t, "list with disabled partner", a.admin.do(http.MethodGet, "/admin/partners", nil), "Tạm dừng")
	a.form("/admin/partners/nganhang-b/enable", url.Values{})
	if status, _ = a.verify(tok, body); status != 200 {
		t.Errorf("verify after enabling: %d", status)
	}
	for _, action := range []string{"partner.disabled", "partner.enabled", "partner.system_disabled", "partner.system_enabled"} {
		if n := a.audited(action, "partner:nganhang-b"); n != 1 {
			t.Errorf("%s audited %d times, want 1", action, n)
		}
	}
	// Today's use is counted (flushed once a second) and shown.
	if err := a.env.App.PartnerLimits.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	wantText(t, "usage", a.admin.do(http.MethodGet, "/admin/partners", nil), "/ 1.000")
	if strings.Contains(plain(a.admin.do(http.MethodGet, "/admin/partners", nil)), "0 / 1.000") {
		t.Error("today's use still shows 0 after calls")
	}
}

func (a *adminEnv) testClients(t *testing.T) {
	ctx := context.Background()
	clients := a.env.App.OIDC.Clients()

	// A public PKCE client of a mobile app, requiring level 2 and PAR.
	mobile := url.Values{"client_id": {"dvc-mobile"}, "client_name": {"Ứng dụng Dịch vụ công"}, "purpose": {"Đăng nhập để nộp hồ sơ trực tuyến"},
		"client_type": {"public"}, "grant_types": {"authorization_code", "client_credentials"},
		"redirect_uris": {"vn.gov.dichvucong:/callback\nhttps://dichvucong.example.vn/cb"}, "scopes": {"profile", "pin"},
		"min_level": {"2"}, "require_par": {"1"}}
	if p := a.admin.do(http.MethodPost, "/admin/clients", mobile); p.status != http.StatusForbidden {
		t.Errorf("client form without CSRF: %d", p.status)
	}
	// A public client cannot use client credentials: said beside the
	// grants, the rest kept.
	p := a.form("/admin/clients", mobile)
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("public client with client_credentials: %d", p.status)
	}
	wantText(t, "bad client", p, "Ứng dụng công khai (không có khóa bí mật hay bộ khóa công khai) không được dùng client_credentials",
		`value="Ứng dụng Dịch vụ công"`, "vn.gov.dichvucong:/callback")
	if !checkedRE("min_level", "2").MatchString(p.body) || !checkedRE("require_par", "1").MatchString(p.body) || !checkedRE("scopes", "pin").MatchString(p.body) {
		t.Error("bad client: ticked boxes are lost")
	}
	if _, err := clients.Lookup(ctx, "dvc-mobile"); err == nil {
		t.Fatal("a bad client form registered the client")
	}
	mobile["grant_types"] = []string{"authorization_code"}
	p = a.form("/admin/clients", mobile)
	if p.status != http.StatusSeeOther || p.location != "/admin/clients/dvc-mobile?done=created" {
		t.Fatalf("register public client: %d %q\n%s", p.status, p.location, plain(p))
	}
	c, err := clients.Get(ctx, "dvc-mobile")
	if err != nil || c.Confidential() || c.MinLevel != eid.Level2 || !c.RequirePAR || len(c.RedirectURIs) != 2 {
		t.Fatalf("registered client: %+v %v", c, err)
	}
	if n := a.audited("client.registered", "client:dvc-mobile"); n != 1 {
		t.Errorf("client.registered audited %d times", n)
	}
	p = a.admin.do(http.MethodGet, "/admin/clients/dvc-mobile?done=created", nil)
	wantText(t, "client page", p, "Đã đăng ký ứng dụng", `value="Ứng dụng Dịch vụ công"`, "https://dichvucong.example.vn/cb")
	// Edit: a post-logout address and DPoP.
	edit := url.Values{"client_name": {"Ứng dụng Dịch vụ công quốc gia"}, "purpose": {"Đăng nhập để nộp hồ sơ trực tuyến"}, "client_type": {"public"},
		"grant_types": {"authorization_code", "refresh_token"}, "redirect_uris": {"vn.gov.dichvucong:/callback"},
		"post_logout_redirect_uris": {"https://dichvucong.example.vn/"}, "scopes": {"profile", "pin", "offline_access"}, "min_level": {"2"},
		"require_par": {"1"}, "require_dpop": {"1"}}
	if p = a.form("/admin/clients/dvc-mobile", edit); p.status != http.StatusSeeOther {
		t.Fatalf("edit client: %d\n%s", p.status, plain(p))
	}
	if c, _ = clients.Get(ctx, "dvc-mobile"); c.Name != "Ứng dụng Dịch vụ công quốc gia" || !c.RequireDPoP || len(c.PostLogoutRedirectURIs) != 1 {
		t.Errorf("edited client: %+v", c)
	}
	// Back-channel logout and a field the citizen may untick; an optional
	// scope the client does not have is refused on its field.
	edit.Set("backchannel_logout_uri", "https://dichvucong.example.vn/logout")
	edit.Set("optional_scopes", "pin")
	if p = a.form("/admin/clients/dvc-mobile", edit); p.status != http.StatusSeeOther {
		t.Fatalf("edit client (back-channel logout, optional scope): %d\n%s", p.status, plain(p))
	}
	if c, _ := clients.Lookup(ctx, "dvc-mobile"); c.BackchannelLogoutURI != "https://dichvucong.example.vn/logout" || len(c.OptionalScopes) != 1 || c.OptionalScopes[0] != "pin" {
		t.Errorf("back-channel logout URI and optional scopes not kept: %+v", c)
	}
	edit.Set("optional_scopes", "address")
	p = a.form("/admin/clients/dvc-mobile", edit)
	wantText(t, "optional scope not among the scopes", p, "phải nằm trong các phạm vi")
	edit.Set("optional_scopes", "pin")
	edit.Set("redirect_uris", "http://dichvucong.example.vn/cb")
	p = a.form("/admin/clients/dvc-mobile", edit)
	wantText(t, "http redirect", p, "phải dùng https", "http://dichvucong.example.vn/cb")

	// A confidential system client: the secret shown once works, stops
	// when the client is disabled and works again when enabled.
	p = a.form("/admin/clients", url.Values{"client_id": {"he-thong-thu"}, "client_name": {"Hệ thống thử"}, "purpose": {"Đồng bộ dữ liệu"},
		"client_type": {"secret"}, "grant_types": {"client_credentials"}, "min_level": {"1"}})
	m := secretRE.FindStringSubmatch(p.body)
	if p.status != http.StatusCreated || m == nil {
		t.Fatalf("register confidential client: %d\n%s", p.status, plain(p))
	}
	secret := html.UnescapeString(m[1])
	if _, err := a.token("he-thong-thu", secret); err != nil {
		t.Fatalf("token of the new client: %v", err)
	}
	if p = a.form("/admin/clients/he-thong-thu/disable", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("disable client: %d", p.status)
	}
	if _, err := a.token("he-thong-thu", secret); err == nil {
		t.Error("a disabled client still gets tokens")
	}
	wantText(t, "clients list", a.admin.do(http.MethodGet, "/admin/clients", nil), "he-thong-thu", "Tạm dừng", "dvc-mobile", "Công khai (PKCE")
	a.form("/admin/clients/he-thong-thu/enable", url.Values{})
	if _, err := a.token("he-thong-thu", secret); err != nil {
		t.Errorf("token after enabling: %v", err)
	}
	// A new secret replaces the old one.
	p = a.form("/admin/clients/he-thong-thu/secret", url.Values{})
	m = secretRE.FindStringSubmatch(p.body)
	if p.status != http.StatusCreated || m == nil {
		t.Fatalf("rotate secret: %d", p.status)
	}
	if _, err := a.token("he-thong-thu", secret); err == nil {
		t.Error("the old secret still works after rotation")
	}
	if _, err := a.token("he-thong-thu", html.UnescapeString(m[1])); err != nil {
		t.Errorf("the new secret: %v", err)
	}
	for _, action := range []string{"client.registered", "client.disabled", "client.enabled", "client.secret_rotated"} {
		if n := a.audited(action, "client:he-thong-thu"); n != 1 {
			t.Errorf("%s audited %d times, want 1", action, n)
		}
	}

	// The pages switch to English.
	a.admin.do(http.MethodGet, "/lang?l=en&next=/admin/clients", nil)
	wantText(t, "English", a.admin.do(http.MethodGet, "/admin/clients", nil), "OpenID clients", "Public (PKCE, no secret)")
	p = a.form("/admin/clients", url.Values{"client_id": {"x"}, "client_type": {"public"}, "min_level": {"1"}})
	wantText(t, "English errors", p, "The client id has 3–64 lower-case letters", "Choose at least one grant type.")
	a.admin.do(http.MethodGet, "/lang?l=vi", nil)
}
