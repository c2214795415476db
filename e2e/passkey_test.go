package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/storage"
)

// TestPasskeyInBrowser: in headless Chromium with Chrome's virtual
// authenticator (CTAP2, resident keys, user verification), a level-2
// citizen adds a passkey in the citizen portal through the page's own
// script, then signs in at a level-2 relying party with the passkey alone
// and lands back with acr level 2.
//
// WebAuthn refuses IP-address origins, so the browser uses the platform as
// http://localhost:PORT (the relying-party id the platform derives from its
// 127.0.0.1 public URL).
func TestPasskeyInBrowser(t *testing.T) {
	bin := needChromium(t)
	env := apptest.Start(t, storage.SQLite, 60)
	c := newCitizen(t, env, 0, true)
	local := strings.Replace(env.Server.URL, "127.0.0.1", "localhost", 1)
	// A level-2 relying party that asks for no data, so there is no
	// consent step.
	rp := newRelyingParty(t, env, rpOptions{clientID: "passkey-rp", name: "Ngân hàng thử nghiệm", purpose: "Đăng nhập", providerURL: local})

	b := newBrowser(t, bin)

	b.step("add Chrome's virtual authenticator",
		chromedp.Navigate("about:blank"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
			return err
		}),
	)
	b.step("sign in to the portal at level 2",
		chromedp.Navigate(local+"/citizen/login"),
		chromedp.WaitVisible(chromedp.ID("f-pin")),
		chromedp.SendKeys(chromedp.ID("f-pin"), c.pin),
		chromedp.SendKeys(chromedp.ID("f-password"), citizenPassword),
		chromedp.SendKeys(chromedp.ID("f-totp"), c.nextCode(t)),
		chromedp.Click(chromedp.ID("submit-login")),
		chromedp.WaitVisible(chromedp.ID("nav-passkeys")),
	)
	b.step("add a passkey",
		chromedp.Navigate(local+"/citizen/passkeys"),
		chromedp.WaitVisible(chromedp.ID("passkey-add")),
		chromedp.SendKeys(chromedp.ID("passkey-name"), "Khóa ảo của Chrome"),
		chromedp.Click(chromedp.ID("passkey-add")),
		chromedp.WaitVisible(chromedp.ID("flash")),
	)
	if got := b.read(chromedp.Text(chromedp.ID("flash"))); !strings.Contains(got, "Đã thêm khóa truy cập") {
		t.Errorf("flash %q", got)
	}
	if got := b.read(chromedp.Text(chromedp.ID("passkeys"))); !strings.Contains(got, "Khóa ảo của Chrome") || !strings.Contains(got, "Có") {
		t.Errorf("passkeys table %q", got)
	}
	b.shot("passkey-added.png")

	b.step("sign in at the relying party with the passkey alone",
		chromedp.Navigate(rp.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("passkey-signin")),
		chromedp.Click(chromedp.ID("passkey-signin")),
		chromedp.WaitVisible(chromedp.ID("rp-acr")),
	)
	if got := b.read(chromedp.Text(chromedp.ID("rp-acr"))); got != oidcop.ACRLevel2 {
		t.Errorf("relying party got acr %q, want %q", got, oidcop.ACRLevel2)
	}
	if got := b.read(chromedp.Text(chromedp.ID("rp-amr"))); !strings.Contains(got, "pop") || !strings.Contains(got, "mfa") {
		t.Errorf("relying party got amr %q", got)
	}
	b.shot("passkey-signed-in.png")
	recs, err := env.App.EID.SignIns(context.Background(), c.pin, 1)
	if err != nil || len(recs) != 1 || recs[0].Level != eid.Level2 || recs[0].Channel != "oidc:passkey-rp" {
		t.Errorf("sign-in history %+v %v", recs, err)
	}
}
