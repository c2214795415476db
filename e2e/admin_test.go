package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/storage"
)

// TestAdminPartnerInBrowser: the administrator signs in, opens Quản trị,
// creates a bank partner with a verify policy (law-based purpose with its
// citation), adds a system and copies its secret from the page; the secret
// then gets a token and the partner API verifies a person with it.
func TestAdminPartnerInBrowser(t *testing.T) {
	bin := needChromium(t)
	env := apptest.Start(t, storage.SQLite, 60)
	b := newBrowser(t, bin)
	base := env.Server.URL

	b.openStaffLogin(base)
	b.signInStaff("admin", "nav-admin")
	b.step("open the partner form from Quản trị",
		chromedp.Click(chromedp.ID("nav-admin")),
		chromedp.WaitVisible(chromedp.ID("link-partners")),
		chromedp.Click(chromedp.ID("link-partners")),
		chromedp.WaitVisible(chromedp.ID("new-partner")),
		chromedp.Click(chromedp.ID("new-partner")),
		chromedp.WaitVisible(chromedp.ID("f-partner_id")),
	)
	b.step("fill the partner and its verify policy",
		chromedp.SendKeys(chromedp.ID("f-partner_id"), "nganhang-c"),
		chromedp.SendKeys(chromedp.ID("f-partner_name"), "Ngân hàng TMCP Thử nghiệm C"),
		chromedp.Click(chromedp.ID("kind-bank")),
		chromedp.Click(chromedp.ID("op-verify")),
		chromedp.Click(chromedp.ID("field-full_name")),
		chromedp.Click(chromedp.ID("field-birth_date")),
		chromedp.SendKeys(chromedp.ID("purpose_code_0"), "aml-cdd"),
		chromedp.Click(chromedp.ID("purpose_basis_law_0")),
		chromedp.SendKeys(chromedp.ID("purpose_description_0"), "Nhận biết khách hàng (phòng, chống rửa tiền)"),
		chromedp.SendKeys(chromedp.ID("purpose_citation_0"), "Luật Phòng, chống rửa tiền số 14/2022/QH15, Điều 9"),
		chromedp.SendKeys(chromedp.ID("f-rate_per_second"), "50"),
		chromedp.SendKeys(chromedp.ID("f-daily_quota"), "10000"),
	)
	b.shot("admin-partner-form.png")
	b.step("create the partner",
		chromedp.Click(chromedp.ID("submit-partner")),
		chromedp.WaitVisible(chromedp.ID("flash")),
	)
	if got := b.text("partner-id"); got != "nganhang-c" {
		t.Fatalf("partner page of %q", got)
	}
	if ops := b.text("policy-ops"); ops != "Xác thực thông tin (khớp / không khớp)" {
		t.Errorf("policy operations %q", ops)
	}
	if p := b.text("policy-purposes"); !strings.Contains(p, "Luật Phòng, chống rửa tiền số 14/2022/QH15, Điều 9") {
		t.Errorf("purposes %q", p)
	}
	b.shot("admin-partner.png")

	b.step("add a system",
		chromedp.Click(chromedp.ID("add-system")),
		chromedp.WaitVisible(chromedp.ID("f-client_id")),
		chromedp.SendKeys(chromedp.ID("f-client_id"), "nganhang-c-core"),
		chromedp.SendKeys(chromedp.ID("f-system_name"), "Hệ thống ngân hàng lõi"),
		chromedp.Click(chromedp.ID("submit-system")),
		chromedp.WaitVisible(chromedp.ID("new-client-secret")),
	)
	secret := b.text("new-client-secret")
	b.shot("admin-system-secret.png")
	t.Logf("screenshots: %s", filepath.Join("screenshots", "admin-partner.png"))
	b.step("back to the partner",
		chromedp.Click(chromedp.ID("secret-done")),
		chromedp.WaitVisible(chromedp.ID("systems")),
	)
	if got := b.text("systems"); !strings.Contains(got, "nganhang-c-core") || strings.Contains(got, secret) {
		t.Errorf("systems table %q", got)
	}
	b.shot("admin-partner-systems.png")

	// The copied secret works against the token endpoint and the API.
	ctx := context.Background()
	tok, err := (&clientcredentials.Config{ClientID: "nganhang-c-core", ClientSecret: secret, TokenURL: base + "/oidc/oauth/token"}).Token(ctx)
	if err != nil {
		t.Fatalf("token with the secret from the page: %v", err)
	}
	var pin string
	if err := env.App.DB.R.QueryRow(`SELECT pin FROM persons WHERE status = 'alive' ORDER BY pin LIMIT 1`).Scan(&pin); err != nil {
		t.Fatal(err)
	}
	person, err := env.App.Registry.Get(ctx, actor.SystemActor("test"), pin, "test")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"pin": pin, "full_name": person.FullName, "birth_date": person.BirthDate.String(), "purpose": "aml-cdd"})
	req, _ := http.NewRequest(http.MethodPost, base+"/api/partner/v1/verify", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans map[string]any
	json.NewDecoder(resp.Body).Decode(&ans)
	if resp.StatusCode != 200 || ans["result"] != "match" {
		t.Errorf("verify with the new system: %d %v", resp.StatusCode, ans)
	}
}
