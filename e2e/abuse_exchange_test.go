package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// exchangeAbuseCall posts JSON to the partner API with a bearer token and
// returns the status, the Retry-After header and the decoded body.
func exchangeAbuseCall(t *testing.T, env *apptest.Env, token, path string, body any) (int, string, map[string]any, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", env.Server.URL+"/api/partner/v1"+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, resp.Header.Get("Retry-After"), out, string(raw)
}

// exchangeAbuseTokens are the sample partners' access tokens by partner id.
func exchangeAbuseTokens(t *testing.T, env *apptest.Env) map[string]string {
	t.Helper()
	ctx := context.Background()
	creds, err := env.App.BootstrapPartners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	for _, c := range creds {
		cc := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.Secret, TokenURL: env.Server.URL + "/oidc/oauth/token"}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tokens[c.PartnerID] = tok.AccessToken
	}
	return tokens
}

// TestAbuseExchangeVerify runs the verify attacks of issue 13 against a
// running platform with the sample partners, on SQLite and PostgreSQL:
// recovering a birth date by trying dates one after another (33 calls
// found it), comparing a field the policy does not allow, a birth date
// that is no date, and a deliberately wrong verify meant to link the
// partner to a person (and so to the person's life events).
func TestAbuseExchangeVerify(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 200)
			ctx := context.Background()
			tokens := exchangeAbuseTokens(t, env)
			citizens, err := env.App.BootstrapCitizens(ctx, apptest.Password)
			if err != nil || len(citizens) < 2 {
				t.Fatalf("sample citizens: %v %v", citizens, err)
			}
			victim, err := env.App.Registry.Get(ctx, actor.SystemActor("test"), citizens[0].PIN, "test")
			if err != nil {
				t.Fatal(err)
			}
			hospital := tokens["bv-bachmai"]
			verify := func(tok string, in map[string]any) (int, string, map[string]any, string) {
				t.Helper()
				return exchangeAbuseCall(t, env, tok, "/verify", in)
			}

			// 1. The hospital holds the name and tries one birth date after
			// another, the right one last.
			born := time.Date(victim.BirthDate.Year, time.Month(victim.BirthDate.Month), victim.BirthDate.Day, 0, 0, 0, 0, time.UTC)
			limited := 0
			for i := 32; i >= 0; i-- {
				try := born.AddDate(0, 0, -i).Format("02/01/2006")
				status, retry, out, raw := verify(hospital, map[string]any{"pin": victim.PIN, "full_name": victim.FullName, "birth_date": try, "purpose": "insured-treatment"})
				switch status {
				case http.StatusOK:
					if out["result"] == "match" {
						t.Fatalf("the birth date was recovered after %d calls", 33-i)
					}
					// Nothing but match/no_match on allowed fields.
					for k := range out {
						if !slices.Contains([]string{"result", "match", "differences"}, k) {
							t.Errorf("verify answers %q: %s", k, raw)
						}
					}
					for _, diff := range out["differences"].([]any) {
						if f := diff.(map[string]any)["field"]; f != "birth_date" {
							t.Errorf("a difference on %v: %s", f, raw)
						}
					}
					if strings.Contains(raw, victim.BirthDate.String()) || strings.Contains(raw, born.Format("02/01/2006")) {
						t.Errorf("the answer holds the register's date: %s", raw)
					}
					if limited > 0 {
						t.Fatalf("call %d answered after a refusal: %s", 33-i, raw)
					}
				case http.StatusTooManyRequests:
					if out["code"] != "policy.verify_values_exhausted" || retry == "" {
						t.Errorf("refusal %d: %s (Retry-After %q)", 33-i, raw, retry)
					}
					limited++
				default:
					t.Fatalf("call %d: %d %s", 33-i, status, raw)
				}
			}
			if want := 33 - exchange.DefaultVerifyValuesPerPerson; limited != want {
				t.Errorf("%d calls refused, want %d", limited, want)
			}
			var refusals int
			env.App.AuditDB.R.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE actor = 'partner:bv-bachmai' AND action = $1 AND subject = $2`,
				exchange.ActionRefused, "person:"+victim.PIN).Scan(&refusals)
			if refusals != limited {
				t.Errorf("%d refusals in the person's access log, want %d", refusals, limited)
			}

			// 2. A field the purpose does not allow (the hospital's
			// insured-treatment has no address).
			other := citizens[1]
			status, _, out, raw := verify(hospital, map[string]any{"pin": other.PIN, "full_name": "Nguyễn Văn A", "address": "Hà Nội", "purpose": "insured-treatment"})
			if status != http.StatusForbidden || out["code"] != "policy.field_not_allowed" || !strings.Contains(raw, "permanent_address") {
				t.Errorf("a field outside the policy: %d %s", status, raw)
			}

			// 3. Birth dates that are no date.
			for _, bad := range []string{"garbage", "31/02/2000"} {
				status, _, out, raw := verify(hospital, map[string]any{"pin": other.PIN, "full_name": "Nguyễn Văn A", "birth_date": bad, "purpose": "insured-treatment"})
				errs, _ := out["errors"].([]any)
				if status != http.StatusUnprocessableEntity || len(errs) != 1 || errs[0].(map[string]any)["field"] != "birth_date" {
					t.Errorf("birth date %q: %d %s", bad, status, raw)
				}
			}

			// 4. The bank verifies the other citizen with a made-up name:
			// no match, and no link to the person's life events.
			status, _, out, raw = verify(tokens["nganhang-a"], map[string]any{"pin": other.PIN, "full_name": "Tên Bịa Đặt", "birth_date": "01/01/1990", "purpose": "aml-cdd"})
			if status != http.StatusOK || out["result"] != "no_match" {
				t.Fatalf("a wrong verify: %d %s", status, raw)
			}
			linked, err := env.App.Partners.Linked(ctx, other.PIN)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(linked, "nganhang-a") {
				t.Errorf("a deliberately wrong verify linked the bank to the person: %v", linked)
			}
		})
	}
}
