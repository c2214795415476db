package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

const productionAbusePassword = "mật-khẩu-lạm-dụng-sản-xuất"

// productionStart runs the platform in production mode on dialect d, the
// SMS gateway and face-verification service being httptest servers that
// answer as their contract says, and returns its URL and the app.
func productionStart(t *testing.T, d storage.Dialect) (string, *app.App) {
	t.Helper()
	outside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"match":false}`)
	}))
	t.Cleanup(outside.Close)
	cfg := platform.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), LogLevel: "warn", LogFormat: "text", Production: true,
		SMSGatewayURL: outside.URL + "/sms", SMSGatewaySecret: strings.Repeat("m", 32),
		FaceVerifyURL: outside.URL + "/face", FaceVerifySecret: strings.Repeat("f", 32),
		EIDSecret: strings.Repeat("e", 32), PKIKey: strings.Repeat("p", 32), AuditKey: strings.Repeat("a1", 32)}
	if d == storage.Postgres {
		cfg.DB = storagetest.URL(t, d)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("production configuration: %v", err)
	}
	srv := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	a, err := app.Open(context.Background(), cfg, cfg.Logger(io.Discard), time.Now)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	srv.Config.Handler = a.Handler
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return srv.URL, a
}

// TestAbuseProductionWebhookInternal: in production an administrator
// cannot point a partner's webhook at the platform's own network — loopback,
// the cloud metadata address, private addresses, names of this machine —
// and the first start makes no sample citizen or partner whose secrets
// someone could know. (The refusal at dial time, for a subscription that
// points inside anyway, is TestServeProduction in cmd/dancu.)
func TestAbuseProductionWebhookInternal(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			url, a := productionStart(t, d)
			ctx := context.Background()
			if _, err := a.Bootstrap(ctx, productionAbusePassword); err != nil {
				t.Fatal(err)
			}
			citizens, err := a.BootstrapCitizens(ctx, productionAbusePassword)
			if err != nil || len(citizens) != 0 {
				t.Fatalf("production made sample citizens: %v %v", citizens, err)
			}
			partners, err := a.BootstrapPartners(ctx)
			if err != nil || len(partners) != 0 {
				t.Fatalf("production made sample partners: %v %v", partners, err)
			}
			if _, err := a.Partners.AddPartner(ctx, exchange.Partner{ID: "bank-prod", Name: "Ngân hàng thử", Kind: "bank", Policy: exchange.Policy{
				Operations: []exchange.Operation{exchange.OpVerify, exchange.OpSubscribe}, Fields: []string{"pin", "full_name"},
				Purposes: []exchange.Purpose{{Code: "kyc", Basis: "law", Description: "Nhận biết khách hàng", Citation: "Luật Phòng, chống rửa tiền 2022"}}}}); err != nil {
				t.Fatal(err)
			}
			token := productionAbuseSignIn(t, url)
			for _, hook := range []string{
				"https://127.0.0.1/hook", "https://127.1.2.3:8443/hook", "https://[::1]:443/hook", "https://169.254.169.254/latest/meta-data/",
				"https://[fe80::1]/hook", "https://10.1.2.3/hook", "https://192.168.1.1/hook", "https://100.64.0.1/hook", "https://0.0.0.0/hook",
				"https://localhost/hook", "https://LOCALHOST./hook", "https://metadata.localhost/hook", "https://[::ffff:169.254.169.254]/hook",
				"http://partner.example.vn/hook", // plain http, outside development
			} {
				var problem struct {
					Errors []struct{ Field, Code string }
				}
				st := productionAbuseCall(t, "POST", url+"/api/v1/admin/subscriptions", token,
					map[string]any{"partner_id": "bank-prod", "types": []string{"name_changed"}, "mode": "webhook", "url": hook}, &problem)
				if st != 422 || len(problem.Errors) != 1 || problem.Errors[0].Field != "url" {
					t.Errorf("subscribe %s: %d %+v, want 422 on url", hook, st, problem.Errors)
				}
			}
			var n int
			if err := a.DB.R.QueryRowContext(ctx, `SELECT count(*) FROM delivery_subscriptions`).Scan(&n); err != nil || n != 0 {
				t.Fatalf("%d subscriptions stored after the refusals (%v)", n, err)
			}
			// A public address is accepted: the rule refuses addresses, not
			// webhooks.
			if st := productionAbuseCall(t, "POST", url+"/api/v1/admin/subscriptions", token,
				map[string]any{"partner_id": "bank-prod", "types": []string{"name_changed"}, "mode": "webhook", "url": "https://203.0.113.10/hook"}, nil); st != 201 {
				t.Fatalf("a public webhook address: %d", st)
			}
			// Production cookies are Secure.
			resp, err := http.Get(url + "/login")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if len(resp.Cookies()) == 0 {
				t.Fatal("the sign-in page set no cookie")
			}
			for _, c := range resp.Cookies() {
				if !c.Secure {
					t.Errorf("cookie %s is not Secure in production", c.Name)
				}
			}
		})
	}
}

func productionAbuseSignIn(t *testing.T, url string) string {
	t.Helper()
	var signIn struct{ Token string }
	if st := productionAbuseCall(t, "POST", url+"/api/v1/sessions", "", map[string]string{"username": "admin", "password": productionAbusePassword}, &signIn); st != 201 {
		t.Fatalf("admin sign-in: %d", st)
	}
	return signIn.Token
}

func productionAbuseCall(t *testing.T, method, url, token string, in, out any) int {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}
