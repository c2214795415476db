package portal_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/portal"
)

var refRE = regexp.MustCompile(`name="ref" value="([^"]+)"`)

// TestStayForm on SQLite and PostgreSQL: a household head signed in with
// the e-ID reports a guest on the portal form; a wrong name is shown as a
// Vietnamese message on the form and nothing is stored; pressing the button
// twice stores one guest; a guest planning 60 days away from home sees the
// temporary-residence offer; a member who is not the head is refused.
func TestStayForm(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := start(t, d)
			env := f.env
			p, err := portal.New(portal.Deps{Accounts: env.App.EID, Provider: env.App.OIDC, Register: env.App.Registry, Cards: env.App.Cards,
				AccessLog: env.App.Audit, Log: env.App.Log, Now: env.App.Now, Stay: env.App.Stay})
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			p.Mount(mux)
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			f.srv = srv
			ctx := context.Background()
			account := func(where string, args ...any) citizen {
				var c citizen
				if err := env.App.DB.R.QueryRow(`SELECT pin, full_name, birth_date FROM persons WHERE status = 'alive' AND length(birth_date) = 10 AND birth_date < '2000' AND `+where+` ORDER BY pin LIMIT 1`, args...).
					Scan(&c.pin, &c.name, &c.birth); err != nil {
					t.Skipf("nobody with %s: %v", where, err)
				}
				e, err := env.App.EID.StartRegistration(ctx, eid.RegistrationInput{PIN: c.pin, CardNumber: c.pin, FullName: c.name, BirthDate: c.birth, Phone: "0912345678"})
				if err != nil {
					t.Fatal(err)
				}
				codes := smsRE.FindAllStringSubmatch(env.Logs.String(), -1)
				if _, err := env.App.EID.CompleteRegistration(ctx, e.ID, codes[len(codes)-1][1], password); err != nil {
					t.Fatal(err)
				}
				return c
			}
			head := account(`relation = $1`, registry.RelHead)
			var guest citizen
			if err := env.App.DB.R.QueryRow(`SELECT pin, full_name FROM persons WHERE status = 'alive' AND perm_commune <> (SELECT perm_commune FROM persons WHERE pin = $1) ORDER BY pin LIMIT 1`, head.pin).
				Scan(&guest.pin, &guest.name); err != nil {
				t.Skip("no guest from elsewhere")
			}
			b := f.browser(t)
			if p := b.signIn(head.pin, password, ""); p.status != http.StatusSeeOther {
				t.Fatalf("sign-in: %d", p.status)
			}
			form := b.get("/citizen/stay")
			if form.status != 200 {
				t.Fatalf("/citizen/stay: %d", form.status)
			}
			arrival := time.Now().In(civildate.Location()).Add(-time.Minute).Format("02/01/2006 15:04")
			until := civildate.Of(time.Now().AddDate(0, 0, 60)).Display()
			send := func(page page, name string) page {
				return b.post("/citizen/stay", url.Values{"csrf": {b.csrf(page)}, "ref": {refRE.FindStringSubmatch(page.body)[1]}, "pin": {guest.pin},
					"full_name": {name}, "arrival": {arrival}, "until": {until}, "reason": {"thăm người thân"}})
			}
			bad := send(form, "Tên Sai Hẳn")
			if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, "không khớp") {
				t.Errorf("wrong name: %d %s", bad.status, text(bad.body))
			}
			ok := send(bad, guest.name)
			if ok.status != 200 || !strings.Contains(ok.body, "Đã nhận thông báo lưu trú") {
				t.Fatalf("report: %d %s", ok.status, text(ok.body))
			}
			if again := send(bad, guest.name); again.status != 200 {
				t.Errorf("second press: %d", again.status)
			}
			var n int
			env.App.DB.R.QueryRow(`SELECT count(*) FROM stay_guests WHERE pin = $1`, guest.pin).Scan(&n)
			if n != 1 {
				t.Errorf("%d stays stored, want 1", n)
			}
			offers, err := env.App.Stay.Offers(ctx, guest.pin)
			if err != nil || len(offers) != 1 {
				t.Errorf("offer: %+v %v", offers, err)
			}
			member := account(`relation <> $1 AND household_id <> ''`, registry.RelHead)
			b2 := f.browser(t)
			b2.signIn(member.pin, password, "")
			if p := b2.post("/citizen/stay", url.Values{"csrf": {b2.csrf(b2.get("/citizen/stay"))}, "ref": {"x"}, "pin": {guest.pin}, "full_name": {guest.name}, "arrival": {arrival}}); p.status != http.StatusForbidden {
				t.Errorf("a member who is not the head: %d", p.status)
			}
		})
	}
}
