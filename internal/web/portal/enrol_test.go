package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/actor"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// issueCard takes a seeded person's card through the desk to their hands.
func (f *fixture) issueCard(t *testing.T, pin string) cardservice.Card {
	t.Helper()
	ctx := context.Background()
	reg := actor.Actor{ID: "staff:test.cards", Role: actor.Registrar}
	c, err := f.env.App.Cards.Apply(ctx, reg, pin)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func(context.Context, actor.Actor, string) (cardservice.Card, error){f.env.App.Cards.Approve, f.env.App.Cards.Produce, f.env.App.Cards.HandOver} {
		if c, err = step(ctx, reg, c.Serial); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// TestEnrolPages: a seeded citizen with a card enrols at level 1 in the
// portal (code from the development SMS sink), signs in, and sees the
// enrolment in their access log. Every way of not holding a valid card is
// one refusal, in Vietnamese, with one status.
func TestEnrolPages(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := start(t, d)
			ctx := context.Background()
			holder := f.person(t)
			card := f.issueCard(t, holder.pin)
			revoked := f.person(t)
			rc := f.issueCard(t, revoked.pin)
			if _, err := f.env.App.Cards.Revoke(ctx, actor.Actor{ID: "staff:test.cards", Role: actor.Registrar}, rc.Serial, cardservice.ReasonLoss); err != nil {
				t.Fatal(err)
			}
			noCard := f.person(t)
			b := f.browser(t)
			form := b.get("/citizen/enrol")
			if form.status != http.StatusOK || !strings.Contains(form.body, "Đăng ký tài khoản định danh điện tử mức 1") {
				t.Fatalf("enrol page %d", form.status)
			}
			send := func(pin, issue, qr string) page {
				return b.post("/citizen/enrol", url.Values{"csrf": {b.csrf(form)}, "pin": {pin}, "card_number": {pin}, "issue_date": {issue}, "qr": {qr}, "phone": {"0912345678"}})
			}
			const refusal = "Thông tin không khớp với một thẻ căn cước còn hiệu lực."
			for name, pg := range map[string]page{
				"not in the register": send("001099000000", card.IssueDate, ""),
				"wrong issue date":    send(holder.pin, "2001-01-01", ""),
				"card revoked":        send(revoked.pin, rc.IssueDate, ""),
				"no card":             send(noCard.pin, card.IssueDate, ""),
				"no issue date":       send(holder.pin, "", ""),
			} {
				if pg.status != http.StatusUnprocessableEntity || !strings.Contains(text(pg.body), refusal) {
					t.Errorf("%s: %d %q", name, pg.status, text(pg.body))
				}
			}
			if pg := b.post("/citizen/enrol", url.Values{"pin": {holder.pin}, "issue_date": {card.IssueDate}, "phone": {"0912345678"}}); pg.status != http.StatusForbidden {
				t.Errorf("without CSRF: %d", pg.status)
			}
			// The card's QR text enrols.
			confirm := send("", "", card.QR)
			if confirm.status != http.StatusOK || !strings.Contains(confirm.body, `name="enrolment"`) {
				t.Fatalf("start: %d %s", confirm.status, text(confirm.body))
			}
			enrolment := regexpValue(t, confirm.body, "enrolment")
			codes := smsRE.FindAllStringSubmatch(f.env.Logs.String(), -1)
			code := codes[len(codes)-1][1]
			if pg := b.post("/citizen/enrol/confirm", url.Values{"csrf": {b.csrf(confirm)}, "enrolment": {enrolment}, "code": {code}, "password": {password}, "password2": {password + "x"}}); pg.status != http.StatusUnprocessableEntity || !strings.Contains(text(pg.body), "Hai mật khẩu") {
				t.Fatalf("passwords differ: %d", pg.status)
			}
			done := b.post("/citizen/enrol/confirm", url.Values{"csrf": {b.csrf(confirm)}, "enrolment": {enrolment}, "code": {code}, "password": {password}, "password2": {password}})
			if done.status != http.StatusSeeOther || done.location != "/citizen/login?enrolled=1" {
				t.Fatalf("confirm: %d %s", done.status, text(done.body))
			}
			if pg := b.get(done.location); !strings.Contains(text(pg.body), "Đăng ký thành công") {
				t.Fatal("no flash after enrolment")
			}
			if pg := b.signIn(holder.pin, password, ""); pg.status != http.StatusSeeOther {
				t.Fatalf("sign-in after enrolment: %d", pg.status)
			}
			if pg := b.get("/citizen/access"); !strings.Contains(text(pg.body), "Đăng ký tài khoản định danh điện tử mức 1") {
				t.Fatalf("the enrolment is not in the access log: %s", text(pg.body))
			}
			// Enrolling again: the holder of the card is told the account exists.
			b2 := f.browser(t)
			form = b2.get("/citizen/enrol")
			b = b2
			if pg := send(holder.pin, card.IssueDate, ""); pg.status != http.StatusConflict || !strings.Contains(text(pg.body), "đã có tài khoản") {
				t.Fatalf("again: %d %s", pg.status, text(pg.body))
			}
		})
	}
}

func regexpValue(t *testing.T, body, name string) string {
	t.Helper()
	i := strings.Index(body, `name="`+name+`" value="`)
	if i < 0 {
		t.Fatalf("no %s field", name)
	}
	rest := body[i+len(`name="`+name+`" value="`):]
	return rest[:strings.Index(rest, `"`)]
}
