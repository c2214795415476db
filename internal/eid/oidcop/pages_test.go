package oidcop_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// The provider's pages are the portal's (its stylesheet, layout and
// accessibility), in the relying party's ui_locales unless the citizen
// chose, with the client's origins in form-action; a failed sign-in shows
// the form again with the fault in the error summary and problem.Status's
// status; a forged step gets the error page in the page's language.
func TestSignInPages(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		e := start(t, db)
		r := e.rp(t, "portal", oidcop.ScopeProfile)
		get := func(b *http.Client, u string) outcome {
			t.Helper()
			resp, err := b.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			o := read(t, resp)
			o.header = resp.Header
			return o
		}
		authURL := func(locales string) string {
			opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oidc.Nonce("n")}
			if locales != "" {
				opts = append(opts, oauth2.SetAuthURLParam("ui_locales", locales))
			}
			return r.cfg.AuthCodeURL("s", opts...)
		}
		for _, c := range []struct {
			name, locales, cookie, lang string
			want, notWant               []string
		}{
			{"default", "", "", "vi", []string{"Đăng nhập bằng định danh điện tử", "Số định danh cá nhân", "đề nghị bạn đăng nhập", ">English<"}, []string{"Sign in"}},
			{"ui_locales en", "fr en", "", "en", []string{"Sign in with your electronic ID", "Personal identification number", "asks you to sign in", ">Tiếng Việt<"}, []string{"Mật khẩu"}},
			{"ui_locales vi", "vi-VN", "", "vi", []string{"Mật khẩu"}, nil},
			{"the citizen's choice beats ui_locales", "en", "vi", "vi", []string{"Mật khẩu"}, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				b := browser(t)
				if c.cookie != "" {
					u, _ := url.Parse(e.issuer)
					b.Jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: c.cookie, Path: "/"}})
				}
				o := get(b, authURL(c.locales))
				if o.status != http.StatusOK || !strings.Contains(o.body, `<html lang="`+c.lang+`">`) {
					t.Fatalf("%d, want lang %s:\n%s", o.status, c.lang, o.body)
				}
				for _, w := range append(c.want, `<link rel="stylesheet" href="/static/dancu.css">`, `<a class="skip" href="#main">`,
					`<main id="main" tabindex="-1">`, `<label for="pin">`, `<label for="password">`, `<label for="totp">`, `aria-describedby="totp-hint"`) {
					if !strings.Contains(o.body, w) {
						t.Errorf("the page lacks %q", w)
					}
				}
				for _, w := range c.notWant {
					if strings.Contains(o.body, w) {
						t.Errorf("the page has %q", w)
					}
				}
				csp := o.header.Get("Content-Security-Policy")
				if csp != "default-src 'self'; form-action 'self' http://127.0.0.1:9; frame-ancestors 'none'" ||
					o.header.Get("X-Frame-Options") != "DENY" || o.header.Get("Referrer-Policy") != "no-referrer" || o.header.Get("Cache-Control") != "no-store" {
					t.Errorf("headers %v", o.header)
				}
				// A wrong password: the form again, the fault in the error
				// summary, in the same language, 401.
				bad := submit(t, b, e.issuer+"/login", o.body, url.Values{"pin": {pinL1}, "password": {"sai mật khẩu"}})
				want := map[string]string{"vi": "không đúng", "en": "wrong identification number"}[c.lang]
				if bad.status != http.StatusUnauthorized || !strings.Contains(bad.body, `<html lang="`+c.lang+`">`) ||
					!strings.Contains(bad.body, `class="error-summary" id="error" role="alert"`) || !strings.Contains(bad.body, `value="`+pinL1+`"`) {
					t.Errorf("wrong password: %d:\n%s", bad.status, bad.body)
				}
				if !strings.Contains(strings.ToLower(bad.body), want) {
					t.Errorf("wrong password: the message lacks %q:\n%s", want, bad.body)
				}
			})
		}
		// The language switch: ?lang= on the page, remembered by the cookie.
		b := browser(t)
		o := get(b, authURL("vi"))
		sw := switchRE.FindStringSubmatch(o.body)
		if sw == nil {
			t.Fatalf("no language switch:\n%s", o.body)
		}
		o = get(b, strings.TrimSuffix(e.issuer, "/oidc")+strings.ReplaceAll(sw[1], "&amp;", "&"))
		if !strings.Contains(o.body, `<html lang="en">`) || !strings.Contains(o.body, "Sign in with your electronic ID") {
			t.Fatalf("switched to English:\n%s", o.body)
		}
		// A forged sign-in: 400 and the error page, in the citizen's language.
		resp, err := b.PostForm(e.issuer+"/login", url.Values{"authRequestID": {"nope"}, "csrf": {"x"}})
		if err != nil {
			t.Fatal(err)
		}
		forged := read(t, resp)
		if forged.status != http.StatusBadRequest || !strings.Contains(forged.body, "The sign-in request is not valid or has expired") ||
			!strings.Contains(forged.body, `<html lang="en">`) || strings.Contains(forged.body, `name="authRequestID"`) {
			t.Errorf("forged sign-in: %d:\n%s", forged.status, forged.body)
		}
		// The passkey script's calls answer in the page's language with
		// the fault's status: passkeys are not configured here (409).
		resp, err = b.Post(e.issuer+"/passkey/options", "application/json", strings.NewReader(`{"authRequestID":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		script := read(t, resp)
		if script.status != http.StatusConflict || !strings.Contains(script.body, `"code":"eid.passkeys_off"`) ||
			!strings.Contains(script.body, "Passkeys are not enabled") {
			t.Errorf("passkey call: %d %s", script.status, script.body)
		}
	})
}
