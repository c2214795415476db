package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// eidDeskCitizen gives a seeded adult of province 01 (or of another
// province) a level-1 account.
func eidDeskCitizen(t *testing.T, env *apptest.Env, inHanoi bool) string {
	t.Helper()
	op := "="
	if !inHanoi {
		op = "<>"
	}
	var pin, name, birth string
	if err := env.App.DB.R.QueryRow(`SELECT pin, full_name, birth_date FROM persons WHERE status = 'alive' AND birth_date < '2000'
		AND length(birth_date) = 10 AND perm_province `+op+` '01' ORDER BY pin LIMIT 1`).Scan(&pin, &name, &birth); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	en, err := env.App.EID.StartRegistration(ctx, eid.RegistrationInput{PIN: pin, CardNumber: pin, FullName: name, BirthDate: birth, Phone: "0912345678"})
	if err != nil {
		t.Fatal(err)
	}
	codes := otpRE.FindAllStringSubmatch(env.Logs.String(), -1)
	if _, err := env.App.EID.CompleteRegistration(ctx, en.ID, codes[len(codes)-1][1], "mật khẩu đủ dài của công dân"); err != nil {
		t.Fatal(err)
	}
	return pin
}

// eidDeskVerifyChip issues the citizen a card, reads its chip dump and
// uploads it to the desk's card check; it returns the result page.
func eidDeskVerifyChip(t *testing.T, env *apptest.Env, c *staffClient, csrf, pin string) string {
	t.Helper()
	ctx := context.Background()
	reg := actor.Actor{ID: "staff:test.cards", Role: actor.Registrar}
	card, err := env.App.Cards.Apply(ctx, reg, pin)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func(context.Context, actor.Actor, string) (cardservice.Card, error){env.App.Cards.Approve, env.App.Cards.Produce, env.App.Cards.HandOver} {
		if card, err = step(ctx, reg, card.Serial); err != nil {
			t.Fatal(err)
		}
	}
	chip, err := env.App.Cards.Chip(ctx, reg, card.Serial)
	if err != nil {
		t.Fatal(err)
	}
	dump, _ := json.Marshal(map[string]any{"data_groups": chip.DataGroups, "sod": chip.SOD})
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("chip", "chip.json")
	fw.Write(dump)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.base+"/desk/verify", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("chip check: %d\n%s", resp.StatusCode, b)
	}
	return string(b)
}

var eidSecretRE = regexp.MustCompile(`id="eid-totp-secret">([A-Z2-7]+)<`)

// TestEIDDeskPages: the Hà Nội registrar finds a citizen by PIN or the
// card's QR text, activates level 2 only with the in-person box ticked,
// shows the authenticator QR code and confirms the citizen's code, then
// locks, unlocks, resets and revokes; a citizen of another province is out
// of scope on every act; a leader has no desk.
func TestEIDDeskPages(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 200)
			hn := eidDeskCitizen(t, env, true)
			far := eidDeskCitizen(t, env, false)
			if p := signInStaff(t, env, "lanhdao.hanoi").do(http.MethodGet, "/eid/"+hn, nil); p.status != http.StatusForbidden {
				t.Fatalf("leader at the desk: %d", p.status)
			}
			c := signInStaff(t, env, "dangky.hanoi")
			if p := c.do(http.MethodGet, "/", nil); !strings.Contains(p.body, `id="nav-eid"`) {
				t.Fatal("no desk link in the registrar's navigation")
			}
			if p := c.do(http.MethodGet, "/eid?lookup="+hn, nil); p.status != http.StatusSeeOther || p.location != "/eid/"+hn {
				t.Fatalf("find by PIN: %d %s", p.status, p.location)
			}
			qrText := hn + "||Nguyễn Văn A|01011990|Nam|Hà Nội|01072024"
			if p := c.do(http.MethodGet, "/eid?lookup="+url.QueryEscape(qrText), nil); p.status != http.StatusSeeOther || p.location != "/eid/"+hn {
				t.Fatalf("find by QR: %d %s", p.status, p.location)
			}
			if p := c.do(http.MethodGet, "/eid?lookup="+url.QueryEscape("1|2"), nil); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "7 trường") {
				t.Fatalf("bad QR: %d", p.status)
			}
			desk := c.do(http.MethodGet, "/eid/"+hn, nil)
			if desk.status != http.StatusOK || !strings.Contains(desk.body, `id="eid-level">1<`) {
				t.Fatalf("desk page: %d\n%s", desk.status, desk.body)
			}
			csrf := c.token(desk)
			for _, path := range []string{"", "/activate", "/totp", "/lock", "/unlock", "/reset", "/revoke"} {
				method, form := http.MethodPost, url.Values{"csrf": {csrf}, "in_person": {"yes"}}
				if path == "" {
					method, form = http.MethodGet, nil
				}
				if p := c.do(method, "/eid/"+far+path, form); p.status != http.StatusForbidden || !strings.Contains(p.body, "không thuộc địa bàn") {
					t.Errorf("%s /eid/far%s: %d", method, path, p.status)
				}
			}
			// The card check: the chip read at the desk verifies and leads
			// to the citizen's account.
			if body := eidDeskVerifyChip(t, env, c, csrf, hn); !strings.Contains(body, `id="verify-eid" href="/eid/`+hn+`"`) {
				t.Fatalf("no link from the chip check to the account:\n%s", body)
			}
			if p := c.do(http.MethodPost, "/eid/"+hn+"/activate", url.Values{"csrf": {csrf}}); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "đối chiếu trực tiếp") {
				t.Fatalf("activate without the box: %d", p.status)
			}
			if p := c.do(http.MethodPost, "/eid/"+hn+"/activate", url.Values{"csrf": {csrf}, "in_person": {"yes"}}); p.status != http.StatusSeeOther {
				t.Fatalf("activate: %d\n%s", p.status, p.body)
			}
			if p := c.do(http.MethodGet, "/eid/"+hn+"?done=activated", nil); !strings.Contains(p.body, `id="eid-level">2<`) || !strings.Contains(p.body, "Đã kích hoạt tài khoản mức 2") {
				t.Fatalf("after activation:\n%s", p.body)
			}
			setup := c.do(http.MethodPost, "/eid/"+hn+"/totp", url.Values{"csrf": {csrf}})
			m := eidSecretRE.FindStringSubmatch(setup.body)
			if setup.status != http.StatusOK || m == nil || !strings.Contains(setup.body, `src="data:image/png;base64,`) {
				t.Fatalf("totp set-up: %d\n%s", setup.status, setup.body)
			}
			if p := c.do(http.MethodPost, "/eid/"+hn+"/totp/confirm", url.Values{"csrf": {csrf}, "totp_code": {"000000"}}); p.status != http.StatusUnprocessableEntity {
				t.Fatalf("wrong code: %d", p.status)
			}
			code, _ := eid.TOTPAt(m[1], time.Now())
			if p := c.do(http.MethodPost, "/eid/"+hn+"/totp/confirm", url.Values{"csrf": {csrf}, "totp_code": {code}}); p.status != http.StatusSeeOther {
				t.Fatalf("confirm: %d\n%s", p.status, p.body)
			}
			for _, step := range []struct{ path, status string }{{"lock", "locked"}, {"unlock", "active"}, {"reset", "pending"}, {"revoke", "revoked"}} {
				if p := c.do(http.MethodPost, "/eid/"+hn+"/"+step.path, url.Values{"csrf": {csrf}, "eid_reason": {"thử"}}); p.status != http.StatusSeeOther {
					t.Fatalf("%s: %d\n%s", step.path, p.status, p.body)
				}
				if a, _ := env.App.EID.Account(context.Background(), hn); a.Status != step.status {
					t.Fatalf("after %s: %s", step.path, a.Status)
				}
			}
			if p := c.do(http.MethodPost, "/eid/"+hn+"/lock", url.Values{"eid_reason": {"x"}}); p.status != http.StatusForbidden {
				t.Fatalf("without CSRF: %d", p.status)
			}
			entries, _ := env.App.Audit.BySubject(context.Background(), "person:"+hn, 100)
			seen := map[string]bool{}
			for _, e := range entries {
				if e.Actor == "staff:dangky.hanoi" {
					seen[e.Action] = true
				}
			}
			for _, a := range []string{eid.ActionLevel2Activated, eid.ActionTOTPEnrolled, eid.ActionTOTPConfirmed, eid.ActionLocked, eid.ActionUnlocked, eid.ActionReset, eid.ActionRevoked} {
				if !seen[a] {
					t.Errorf("%s not audited as the registrar's", a)
				}
			}
			if a, _ := env.App.EID.Account(context.Background(), far); a.Status != eid.StatusActive || a.Level != eid.Level1 {
				t.Fatalf("the account out of scope changed: %+v", a)
			}
		})
	}
}
