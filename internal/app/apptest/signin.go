package apptest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var (
	authRequestIDRE = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)
	formCSRFRE      = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// SignIn drives the OpenID provider's login and consent pages like a
// browser with a fresh cookie jar: it opens authURL, signs in with pin and
// password, consents when asked, and returns the authorization code the
// relying party at redirect receives. It fails the test when a page lacks
// its form or no code arrives.
func SignIn(t testing.TB, issuer, authURL, redirect, pin, password string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	var code string
	b := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			code = req.URL.Query().Get("code")
			return http.ErrUseLastResponse
		}
		return nil
	}}
	page := func(resp *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	post := func(target, body string, form url.Values) string {
		t.Helper()
		id, csrf := authRequestIDRE.FindStringSubmatch(body), formCSRFRE.FindStringSubmatch(body)
		if id == nil || csrf == nil {
			t.Fatalf("no form:\n%s", body)
		}
		form.Set("authRequestID", id[1])
		form.Set("csrf", csrf[1])
		return page(b.PostForm(target, form))
	}
	body := page(b.Get(authURL))
	body = post(issuer+"/login", body, url.Values{"pin": {pin}, "password": {password}})
	if code == "" {
		post(issuer+"/consent", body, url.Values{"decision": {"allow"}})
	}
	if code == "" {
		t.Fatal("no authorization code")
	}
	return code
}
