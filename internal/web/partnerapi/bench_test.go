package partnerapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/web/partnerapi"
)

// BenchmarkVerify measures POST /api/partner/v1/verify over real HTTP on
// the whole platform (SQLite, 5,000 people): token check, policy, rate
// limit and quota, register read, comparison and the audit entry each call
// waits for. Run with -cpu to set the parallelism; bench/partner.sh
// measures it against 1,000,000 people with wrk.
func BenchmarkVerify(b *testing.B) {
	env := apptest.Start(b, storage.SQLite, 5000)
	ctx := context.Background()
	creds, err := env.App.BootstrapPartners(ctx)
	if err != nil {
		b.Fatal(err)
	}
	op, err := oidc.NewProvider(ctx, env.Server.URL+"/oidc")
	if err != nil {
		b.Fatal(err)
	}
	var cred = creds[0]
	for _, c := range creds {
		if c.PartnerID == "nganhang-a" {
			cred = c
		}
	}
	// The rate limit lifted, as bench/partner.sh does: the bench measures
	// the call, not the bank's 5,000 a second.
	bank, err := env.App.Partners.Partner(ctx, "nganhang-a")
	if err != nil {
		b.Fatal(err)
	}
	bank.Policy.RatePerSecond, bank.Policy.Burst = 0, 0
	if _, err := env.App.Partners.SetPolicy(ctx, bank.ID, bank.Version, bank.Policy); err != nil {
		b.Fatal(err)
	}
	tok, err := (&clientcredentials.Config{ClientID: cred.ClientID, ClientSecret: cred.Secret, TokenURL: op.Endpoint().TokenURL}).Token(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// Full birth dates only: the bank's policy does not verify partial ones.
	rows, err := env.App.DB.R.QueryContext(ctx, `SELECT pin, full_name, birth_date FROM persons WHERE length(birth_date) = 10 LIMIT 1000`)
	if err != nil {
		b.Fatal(err)
	}
	var bodies [][]byte
	for rows.Next() {
		var pin, name, birth string
		rows.Scan(&pin, &name, &birth)
		body, _ := json.Marshal(map[string]string{"pin": pin, "full_name": name, "birth_date": birth, "purpose": "aml-cdd"})
		bodies = append(bodies, body)
	}
	rows.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	url := env.Server.URL + partnerapi.Prefix + "/verify"
	var n, failed atomic.Int64
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			req, _ := http.NewRequest("POST", url, bytes.NewReader(bodies[int(i)%len(bodies)]))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				if failed.Add(1) <= 3 {
					b.Logf("failure: %d %s", resp.StatusCode, raw)
				}
			}
		}
	})
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d of %d calls failed", failed.Load(), n.Load())
	}
	var audited int64
	env.App.AuditDB.R.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE action = 'person.verified'`).Scan(&audited)
	if audited < n.Load() {
		b.Fatalf("%d calls, %d audit entries", n.Load(), audited)
	}
}
