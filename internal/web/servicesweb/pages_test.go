package servicesweb_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestSignedPages: the citizen sees their dossier on /citizen/dossiers; the
// commune's officer sees it on /desk/dossiers and starts it with the form
// (CSRF token required); the catalogue page searches without sign-in, in
// Vietnamese and English.
func TestSignedPages(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := appFixture(t, d)
			base := f.srv.URL
			_, tok := f.citizen(t, 4)
			a := call(t, "POST", base+"/api/v1/dossiers", tok, map[string]any{"procedure": "CC.XN.01", "form": map[string]string{"old_id": "123456789"}}, "Idempotency-Key", "pages-submit-1")
			if a.status != 201 {
				t.Fatalf("submit: %d %s", a.status, a.raw)
			}
			code := a.body["code"].(string)
			commune := a.body["commune_code"].(string)
			get := func(path, cookie string) (int, string) {
				req, _ := http.NewRequest("GET", base+path, nil)
				req.Header.Set("Cookie", cookie)
				c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				res, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				return res.StatusCode, string(b)
			}
			if st, body := get("/citizen/dossiers", "citizen_session="+tok); st != 200 || !strings.Contains(body, code) || !strings.Contains(body, "Đã tiếp nhận") {
				t.Fatalf("my dossiers: %d %s", st, body)
			}
			if st, _ := get("/citizen/dossiers", ""); st != http.StatusSeeOther {
				t.Fatalf("no session: %d", st)
			}
			// The national administrator's desk covers every unit.
			staff := f.staff(t, "admin")
			st, body := get("/desk/dossiers", "dancu_session="+staff)
			if st != 200 || !strings.Contains(body, code) {
				t.Fatalf("desk: %d %s (commune %s)", st, body, commune)
			}
			csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
			if csrf == nil {
				t.Fatal("no CSRF token on the desk form")
			}
			post := func(token string) int {
				req, _ := http.NewRequest("POST", base+"/desk/dossiers/"+url.PathEscape(code)+"/start", strings.NewReader(url.Values{"csrf": {token}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Cookie", "dancu_session="+staff)
				c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				res, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			if st := post("forged"); st != http.StatusForbidden {
				t.Fatalf("forged CSRF: %d", st)
			}
			if st := post(csrf[1]); st != http.StatusSeeOther {
				t.Fatalf("start: %d", st)
			}
			if st, body := get("/citizen/dossiers?lang=en", "citizen_session="+tok); st != 200 || !strings.Contains(body, "In progress") {
				t.Fatalf("after start: %d %s", st, body)
			}
			if st, body := get("/procedures?q=can+cuoc&lang=en", ""); st != 200 || !strings.Contains(body, "Exchange of the identity card") || strings.Contains(body, "Birth registration") {
				t.Fatalf("procedures page: %d", st)
			}
		})
	}
}
