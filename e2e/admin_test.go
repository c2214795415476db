package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
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
	bin, missing := chromium()
	if bin == "" {
		t.Skip(missing)
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	env := apptest.Start(t, storage.SQLite, 60)
	bctx := newBrowser(t, bin)
	base := env.Server.URL

	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	if err := os.MkdirAll("screenshots", 0o755); err != nil {
		t.Fatal(err)
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join("screenshots", name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel chromedp.ID) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("read #%s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}

	step("sign in as the administrator",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("f-username")),
		chromedp.SendKeys(chromedp.ID("f-username"), "admin"),
		chromedp.SendKeys(chromedp.ID("f-password"), apptest.Password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("nav-admin")),
	)
	step("open the partner form from Quản trị",
		chromedp.Click(chromedp.ID("nav-admin")),
		chromedp.WaitVisible(chromedp.ID("link-partners")),
		chromedp.Click(chromedp.ID("link-partners")),
		chromedp.WaitVisible(chromedp.ID("new-partner")),
		chromedp.Click(chromedp.ID("new-partner")),
		chromedp.WaitVisible(chromedp.ID("f-partner_id")),
	)
	step("fill the partner and its verify policy",
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
	shot("admin-partner-form.png")
	step("create the partner",
		chromedp.Click(chromedp.ID("submit-partner")),
		chromedp.WaitVisible(chromedp.ID("flash")),
	)
	if got := text("partner-id"); got != "nganhang-c" {
		t.Fatalf("partner page of %q", got)
	}
	if ops := text("policy-ops"); ops != "Xác thực thông tin (khớp / không khớp)" {
		t.Errorf("policy operations %q", ops)
	}
	if p := text("policy-purposes"); !strings.Contains(p, "Luật Phòng, chống rửa tiền số 14/2022/QH15, Điều 9") {
		t.Errorf("purposes %q", p)
	}
	shot("admin-partner.png")

	step("add a system",
		chromedp.Click(chromedp.ID("add-system")),
		chromedp.WaitVisible(chromedp.ID("f-client_id")),
		chromedp.SendKeys(chromedp.ID("f-client_id"), "nganhang-c-core"),
		chromedp.SendKeys(chromedp.ID("f-system_name"), "Hệ thống ngân hàng lõi"),
		chromedp.Click(chromedp.ID("submit-system")),
		chromedp.WaitVisible(chromedp.ID("new-client-secret")),
	)
	secret := text("new-client-secret")
	shot("admin-system-secret.png")
	t.Logf("screenshots: %s", filepath.Join("screenshots", "admin-partner.png"))
	step("back to the partner",
		chromedp.Click(chromedp.ID("secret-done")),
		chromedp.WaitVisible(chromedp.ID("systems")),
	)
	if got := text("systems"); !strings.Contains(got, "nganhang-c-core") || strings.Contains(got, secret) {
		t.Errorf("systems table %q", got)
	}
	shot("admin-partner-systems.png")

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
