package partnerapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/storage"
)

// FuzzPartnerRequests sends arbitrary bodies to the partner operations of
// the social-insurance agency (whose policy allows them all) on a running
// platform: whatever arrives, the answer is a 2xx JSON document or an RFC
// 9457 problem with a stable code — never a server error.
func FuzzPartnerRequests(f *testing.F) {
	env := apptest.Start(f, storage.SQLite, 50)
	creds, err := env.App.BootstrapPartners(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	var token string
	for _, c := range creds {
		if c.PartnerID == "bhxh" {
			cc := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.Secret, TokenURL: env.Server.URL + "/oidc/oauth/token"}
			tok, err := cc.Token(context.Background())
			if err != nil {
				f.Fatal(err)
			}
			token = tok.AccessToken
		}
	}
	routes := []struct{ method, path string }{
		{"POST", "/api/partner/v1/verify"},
		{"POST", "/api/partner/v1/lookup"},
		{"PUT", "/api/partner/v1/sector-ids/health_insurance_card"},
		{"POST", "/api/partner/v1/sector-ids/health_insurance_card/resolve"},
		{"POST", "/api/partner/v1/subscriptions"},
	}
	for i, body := range []string{
		`{"pin":"001070037317","full_name":"Phạm Minh Lâm","birth_date":"01/01/1970","purpose":"health-insurance"}`,
		`{"pin":"001070037317","purpose":"health-insurance","fields":["full_name","birth_date"]}`,
		`{"pin":"001070037317","value":"HN4010112345678"}`,
		`{"value":"HN4010112345678","purpose":"health-insurance"}`,
		`{"types":["died"],"mode":"webhook","url":"https://bhxh.example/hook"}`,
		`{"pin":"0010700373170000000","full_name":"\u0000","birth_date":"31/02/1970"}`,
		`{"pin":1}`, `[]`, `{"pin":"001070037317"`, `null`, `{"surprise":true}`,
	} {
		f.Add(uint8(i), []byte(body))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		rt := routes[int(which)%len(routes)]
		req, _ := http.NewRequest(rt.method, env.Server.URL+rt.path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s %q: %d %s", rt.method, rt.path, body, resp.StatusCode, raw)
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s %q: answer is not JSON: %s", rt.path, body, raw)
		}
		if resp.StatusCode >= 400 {
			code, _ := doc["code"].(string)
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") || code == "" {
				t.Fatalf("%s %q: %d without a problem code: %s", rt.path, body, resp.StatusCode, raw)
			}
		}
	})
}
