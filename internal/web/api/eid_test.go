package api_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// eidAdult is a seeded living adult with a full birth date, in (or outside)
// province 01, who has no e-ID account.
func eidAdult(t *testing.T, env *apptest.Env, inHanoi bool, skip string) string {
	t.Helper()
	op := "="
	if !inHanoi {
		op = "<>"
	}
	var pin string
	err := env.App.DB.R.QueryRow(`SELECT pin FROM persons WHERE status = 'alive' AND birth_date < '2000' AND length(birth_date) = 10
		AND perm_province `+op+` '01' AND pin <> $1 ORDER BY pin LIMIT 1`, skip).Scan(&pin)
	if err != nil {
		t.Fatal(err)
	}
	return pin
}

func eidIssueCard(t *testing.T, env *apptest.Env, pin string) cardservice.Card {
	t.Helper()
	ctx := context.Background()
	reg := actor.Actor{ID: "staff:test.cards", Role: actor.Registrar}
	c, err := env.App.Cards.Apply(ctx, reg, pin)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func(context.Context, actor.Actor, string) (cardservice.Card, error){env.App.Cards.Approve, env.App.Cards.Produce, env.App.Cards.HandOver} {
		if c, err = step(ctx, reg, c.Serial); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

var eidCodeRE = regexp.MustCompile(`dinh danh dien tu: (\d{6})`)

type eidAccount struct {
	PIN, Status string
	Level       int
	HasTOTP     bool `json:"has_totp"`
}

// TestEIDAccountsAPI: a citizen enrols at level 1 by API with the card's QR
// text; the Hà Nội registrar activates level 2 in person, sets up the
// authenticator app, locks, unlocks, resets and revokes — each act in the
// citizen's audit history — and reaches nobody outside Hà Nội.
func TestEIDAccountsAPI(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 200)
			anon := &client{t: t, base: env.Server.URL}
			hn := eidAdult(t, env, true, "")
			far := eidAdult(t, env, false, "")
			card := eidIssueCard(t, env, hn)

			// Enrolment: one refusal for every way of not holding a valid card.
			for name, body := range map[string]map[string]string{
				"not in the register": {"pin": "001099000000", "card_number": "001099000000", "issue_date": card.IssueDate, "phone": "0912345678"},
				"wrong issue date":    {"pin": hn, "card_number": hn, "issue_date": "2001-01-01", "phone": "0912345678"},
				"no card":             {"pin": far, "card_number": far, "issue_date": card.IssueDate, "phone": "0912345678"},
				"no issue date":       {"pin": hn, "card_number": hn, "phone": "0912345678"},
			} {
				t.Run(name, func(t *testing.T) {
					anon.expectProblem("POST", "/api/v1/eid/enrolments", body, 422, "eid.card_mismatch")
				})
			}
			anon.expectProblem("POST", "/api/v1/eid/enrolments", map[string]string{"qr": "x|y", "phone": "0912345678"}, 422, "card.qr.field_count")
			anon.expectProblem("POST", "/api/v1/eid/enrolments", `{"pin": 1}`, 400, "request.malformed_json")
			var en struct{ ID string }
			if st := anon.do("POST", "/api/v1/eid/enrolments", map[string]string{"qr": card.QR, "phone": "0912345678"}, &en); st != 202 || en.ID == "" {
				t.Fatalf("start enrolment: %d", st)
			}
			codes := eidCodeRE.FindAllStringSubmatch(env.Logs.String(), -1)
			anon.expectProblem("POST", "/api/v1/eid/enrolments/"+en.ID+"/confirm", map[string]string{"code": "000000x", "password": "mật khẩu đủ dài"}, 422, "eid.otp_invalid")
			var acct eidAccount
			if st := anon.do("POST", "/api/v1/eid/enrolments/"+en.ID+"/confirm", map[string]string{"code": codes[len(codes)-1][1], "password": "mật khẩu đủ dài"}, &acct); st != 201 || acct.Level != 1 || acct.Status != "active" {
				t.Fatalf("confirm: %d %+v", st, acct)
			}
			anon.expectProblem("POST", "/api/v1/eid/enrolments", map[string]string{"pin": hn, "card_number": hn, "issue_date": card.IssueDate, "phone": "0912345678"}, 409, "eid.account_exists")

			// The desk.
			anon.expectProblem("GET", "/api/v1/eid/accounts/"+hn, nil, 401, "unauthenticated")
			reg := anon.signIn("dangky.hanoi")
			leader := anon.signIn("lanhdao.hanoi")
			leader.expectProblem("GET", "/api/v1/eid/accounts/"+hn, nil, 403, "eid.registrar_required")
			for _, path := range []string{"", "/activate", "/totp", "/lock", "/unlock", "/reset", "/revoke"} {
				method, body := "POST", any(map[string]any{})
				if path == "" {
					method, body = "GET", nil
				}
				if path == "/activate" {
					body = map[string]bool{"in_person": true}
				}
				reg.expectProblem(method, "/api/v1/eid/accounts/"+far+path, body, 403, "out_of_scope")
			}
			// A well-formed PIN nobody has is as unreachable as one outside.
			nobody := string(pin.FromSerial(hn[:6], 999999))
			if _, err := env.App.Registry.Get(context.Background(), actor.SystemActor("test"), nobody, "test"); err == nil {
				t.Fatal("the made-up PIN exists")
			}
			reg.expectProblem("POST", "/api/v1/eid/accounts/"+nobody+"/lock", map[string]string{}, 403, "out_of_scope")
			var desk struct {
				FullName string `json:"full_name"`
				Account  *eidAccount
			}
			if st := reg.do("GET", "/api/v1/eid/accounts/"+hn, nil, &desk); st != 200 || desk.Account == nil || desk.Account.Level != 1 || desk.FullName == "" {
				t.Fatalf("desk view: %d %+v", st, desk)
			}
			reg.expectProblem("POST", "/api/v1/eid/accounts/"+hn+"/activate", map[string]bool{"in_person": false}, 422, "eid.in_person_required")
			if st := reg.do("POST", "/api/v1/eid/accounts/"+hn+"/activate", map[string]bool{"in_person": true}, &acct); st != 200 || acct.Level != 2 {
				t.Fatalf("activate: %d %+v", st, acct)
			}
			var totp struct{ Secret, URI string }
			if st := reg.do("POST", "/api/v1/eid/accounts/"+hn+"/totp", nil, &totp); st != 200 || totp.Secret == "" {
				t.Fatalf("totp: %d", st)
			}
			code, _ := eid.TOTPAt(totp.Secret, time.Now())
			if st := reg.do("POST", "/api/v1/eid/accounts/"+hn+"/totp/confirm", map[string]string{"code": code}, &acct); st != 200 || !acct.HasTOTP {
				t.Fatalf("totp confirm: %d %+v", st, acct)
			}
			for _, step := range []struct{ path, status string }{{"/lock", "locked"}, {"/unlock", "active"}, {"/reset", "pending"}, {"/revoke", "revoked"}} {
				var body any
				if step.path == "/lock" || step.path == "/revoke" {
					body = map[string]string{"reason": "test"}
				}
				if st := reg.do("POST", "/api/v1/eid/accounts/"+hn+step.path, body, &acct); st != 200 || acct.Status != step.status {
					t.Fatalf("%s: %d %+v", step.path, st, acct)
				}
			}
			reg.expectProblem("POST", "/api/v1/eid/accounts/"+hn+"/unlock", nil, 409, "eid.not_locked")
			entries, err := env.App.Audit.BySubject(context.Background(), "person:"+hn, 100)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]string{}
			for _, e := range entries {
				seen[e.Action] = e.Actor
			}
			for _, action := range []string{eid.ActionEnrolled, eid.ActionLevel2Activated, eid.ActionTOTPEnrolled, eid.ActionTOTPConfirmed, eid.ActionLocked, eid.ActionUnlocked, eid.ActionReset, eid.ActionRevoked} {
				want := "staff:dangky.hanoi"
				if action == eid.ActionEnrolled {
					want = "citizen:" + hn
				}
				if seen[action] != want {
					t.Errorf("audit %s by %q, want %q", action, seen[action], want)
				}
			}
		})
	}
}
