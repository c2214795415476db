package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/audit/audittest"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// auditHTTP sends a JSON request with a bearer token and returns the
// status and body.
func auditHTTP(t *testing.T, method, url, token string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// auditCitizenPage registers an e-ID account for pin, signs it in and
// returns its "who accessed my data" page as the server renders it.
func auditCitizenPage(t *testing.T, env *apptest.Env, pin string) func() string {
	t.Helper()
	ctx := context.Background()
	p, err := env.App.DB.R.QueryContext(ctx, `SELECT full_name, birth_date FROM persons WHERE pin = $1`, pin)
	if err != nil {
		t.Fatal(err)
	}
	var name, birth string
	for p.Next() {
		p.Scan(&name, &birth)
	}
	p.Close()
	reg, err := env.App.EID.StartRegistration(ctx, eid.RegistrationInput{PIN: pin, CardNumber: pin, FullName: name, BirthDate: birth, Phone: "0912345678"})
	if err != nil {
		t.Fatal(err)
	}
	codes := smsCodeRE.FindAllStringSubmatch(env.Logs.String(), -1)
	if len(codes) == 0 {
		t.Fatal("no one-time code in the log")
	}
	if _, err := env.App.EID.CompleteRegistration(ctx, reg.ID, codes[len(codes)-1][1], citizenPassword); err != nil {
		t.Fatal(err)
	}
	auth, err := env.App.EID.SignIn(ctx, eid.SignInInput{PIN: pin, Password: citizenPassword, Channel: "portal"})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := env.App.EID.StartSession(ctx, auth, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return func() string {
		t.Helper()
		req, _ := http.NewRequest("GET", env.Server.URL+"/citizen/access", nil)
		req.AddCookie(&http.Cookie{Name: "citizen_session", Value: token})
		req.AddCookie(&http.Cookie{Name: "lang", Value: "vi"})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("access page: %d\n%s", resp.StatusCode, b)
		}
		return string(b)
	}
}

// auditCount counts subject's entries of action by actor.
func auditCount(t *testing.T, env *apptest.Env, subject, action, actor string) int {
	t.Helper()
	es, err := audit.BySubject(context.Background(), env.App.AuditDB, subject, 500)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if e.Action == action && (actor == "" || e.Actor == actor) {
			n++
		}
	}
	return n
}

// TestAbuseAuditAccessLog: the citizen's access log is complete and true.
//
//   - A registrar reading a household over the API reads every member: each
//     member's access log has the read, not only the household's.
//   - A partner's sector-identifier write refused with 409 (the value is
//     another person's), and another partner's refused with 403 (no such
//     operation in its policy), do not show on the citizen's page as a link
//     made; a successful write does.
//   - After these acts the audit chain is rewritten consistently (every hash
//     and the head recomputed): the chain alone passes, the signed
//     checkpoint the running platform made does not.
func TestAbuseAuditAccessLog(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 300)
			ctx := context.Background()
			base := env.Server.URL

			// A household in Hà Nội with several living adult members.
			var household string
			err := env.App.DB.R.QueryRowContext(ctx, `SELECT p.household_id FROM persons p JOIN households h ON h.id = p.household_id
				WHERE h.province = '01' AND p.status = 'alive' GROUP BY p.household_id HAVING count(*) >= 2 ORDER BY p.household_id LIMIT 1`).Scan(&household)
			if err != nil {
				t.Fatalf("no household of several members in Hà Nội: %v", err)
			}
			var citizen string
			if err := env.App.DB.R.QueryRowContext(ctx, `SELECT pin FROM persons WHERE household_id = $1 AND status = 'alive' AND birth_date < '2000' ORDER BY pin LIMIT 1`, household).Scan(&citizen); err != nil {
				t.Fatalf("no adult in household %s: %v", household, err)
			}
			page := auditCitizenPage(t, env, citizen)

			var session struct{ Token string }
			st, raw := auditHTTP(t, "POST", base+"/api/v1/sessions", "", map[string]string{"username": "dangky.hanoi", "password": apptest.Password})
			if st != http.StatusCreated || json.Unmarshal([]byte(raw), &session) != nil {
				t.Fatalf("staff sign-in: %d %s", st, raw)
			}
			st, raw = auditHTTP(t, "GET", base+"/api/v1/households/"+household, session.Token, nil)
			var h registry.Household
			if st != http.StatusOK || json.Unmarshal([]byte(raw), &h) != nil || len(h.Members) < 2 {
				t.Fatalf("household read: %d %s", st, raw)
			}
			for _, m := range h.Members {
				if n := auditCount(t, env, "person:"+m.PIN, registry.ActionHouseholdRead, "staff:dangky.hanoi"); n != 1 {
					t.Errorf("member %s: %d household reads in the access log, want 1", m.PIN, n)
				}
			}
			if body := page(); !strings.Contains(body, "Xem hộ gia đình") || !strings.Contains(body, "dangky.hanoi") {
				t.Errorf("the member's access page does not show the household read:\n%s", body)
			}

			// The social insurance agency links a card number to someone
			// else, then tries to link the same number to the citizen.
			creds, err := env.App.BootstrapPartners(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tokens := map[string]string{}
			for _, c := range creds {
				cc := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.Secret, TokenURL: base + "/oidc/oauth/token"}
				tok, err := cc.Token(ctx)
				if err != nil {
					t.Fatal(err)
				}
				tokens[c.PartnerID] = tok.AccessToken
			}
			var other string
			if err := env.App.DB.R.QueryRowContext(ctx, `SELECT pin FROM persons WHERE status = 'alive' AND pin <> $1 AND household_id <> $2 ORDER BY pin LIMIT 1`, citizen, household).Scan(&other); err != nil {
				t.Fatal(err)
			}
			putAs := func(partner, pin, value, purpose string) (int, string) {
				return auditHTTP(t, "PUT", base+"/api/partner/v1/sector-ids/health_insurance_card", tokens[partner], map[string]string{"pin": pin, "value": value, "purpose": purpose})
			}
			put := func(pin, value string) (int, string) { return putAs("bhxh", pin, value, "health-insurance") }
			if st, raw := put(other, "DN4010123456789"); st/100 != 2 {
				t.Fatalf("first link: %d %s", st, raw)
			}
			if st, raw := put(citizen, "DN4010123456789"); st != http.StatusConflict {
				t.Fatalf("the same card number for a second person: %d %s, want 409", st, raw)
			}
			// The hospital may not write the scheme at all: 403.
			if st, raw := putAs("bv-bachmai", citizen, "DN4010888888888", "insured-treatment"); st != http.StatusForbidden {
				t.Fatalf("a partner without the operation writes: %d %s, want 403", st, raw)
			}
			if n := auditCount(t, env, "person:"+citizen, exchange.ActionSectorPut, ""); n != 0 {
				t.Errorf("the refused link is in the citizen's access log %d times", n)
			}
			if body := page(); strings.Contains(body, "Gắn mã định danh ngành") {
				t.Errorf("the citizen's page says a sector identifier was attached after a refused write:\n%s", body)
			}
			// A link that is made shows, so the check above can fail.
			if st, raw := put(citizen, "DN4010999999999"); st/100 != 2 {
				t.Fatalf("a free card number: %d %s", st, raw)
			}
			if body := page(); !strings.Contains(body, "Gắn mã định danh ngành") {
				t.Errorf("the citizen's page does not show the link made")
			}

			// A rewrite of the whole chain and its head, consistent with
			// itself, against the running platform's signed checkpoint.
			cp, made, err := env.App.AuditCheckpoints.Checkpoint(ctx)
			if err != nil || !made {
				t.Fatalf("checkpoint: %v %v", made, err)
			}
			keys, err := audit.ParsePublicKeys(cp.Key)
			if err != nil {
				t.Fatal(err)
			}
			if rep, err := audit.VerifyWith(ctx, env.App.AuditDB, audit.VerifyOptions{Keys: keys}); err != nil || !rep.OK {
				t.Fatalf("intact log: %+v %v", rep, err)
			}
			audittest.RewriteChain(t, env.App.AuditDB, 2, 0)
			if rep, err := audit.Verify(ctx, env.App.AuditDB); err != nil || !rep.OK {
				t.Fatalf("the rewrite is not consistent: %+v %v", rep, err)
			}
			rep, err := audit.VerifyWith(ctx, env.App.AuditDB, audit.VerifyOptions{Keys: keys})
			if err != nil || rep.OK || !strings.Contains(rep.Problem, "rewritten") {
				t.Fatalf("rewritten log passed the signed checkpoints: %+v %v", rep, err)
			}
			other2 := auditOtherKey(t)
			if rep, _ := audit.VerifyWith(ctx, env.App.AuditDB, audit.VerifyOptions{Keys: other2}); rep.OK {
				t.Fatal("checkpoints accepted under another key")
			}
		})
	}
}

// auditOtherKey is a public key that signed nothing.
func auditOtherKey(t *testing.T) []ed25519.PublicKey {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return []ed25519.PublicKey{pub}
}
