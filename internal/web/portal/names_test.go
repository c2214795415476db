package portal_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/page/pagetest"
)

// TestPortalSpeaksVietnamese: a parent whose child got a card sees, on
// "my data", names for sex, ethnicity, religion and nationality and
// dd/mm/yyyy dates (their own card's too), and on "who accessed my data"
// the card's reading of their name in words, not the purpose code
// card-parent-name; in Vietnamese and English. On SQLite and PostgreSQL.
func TestPortalSpeaksVietnamese(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { testPortalSpeaksVietnamese(t, d) })
	}
}

func testPortalSpeaksVietnamese(t *testing.T, d storage.Dialect) {
	f := start(t, d)
	ctx := context.Background()
	var parent, child, name, birth string
	if err := f.env.App.DB.R.QueryRow(`SELECT p.pin, c.pin, p.full_name, p.birth_date FROM persons c JOIN persons p ON p.pin = c.father_pin
		WHERE c.status = 'alive' AND p.status = 'alive' AND length(c.birth_date) = 10 AND length(p.birth_date) = 10
		AND c.perm_province = '01' AND p.perm_province = '01' ORDER BY c.pin LIMIT 1`).Scan(&parent, &child, &name, &birth); err != nil {
		t.Fatal(err)
	}
	registrar := staff.Account{Username: "dangky.hanoi", Role: "registrar", Unit: "01", Province: "01"}.Actor()
	for _, pin := range []string{child, parent} {
		c, err := f.env.App.Cards.Apply(ctx, registrar, pin)
		if err == nil {
			_, err = f.env.App.Cards.Approve(ctx, registrar, c.Serial)
		}
		if err == nil {
			_, err = f.env.App.Cards.Produce(ctx, registrar, c.Serial)
		}
		if err != nil {
			t.Fatalf("card of %s: %v", pin, err)
		}
	}
	e, err := f.env.App.EID.StartRegistration(ctx, eid.RegistrationInput{PIN: parent, CardNumber: parent, FullName: name, BirthDate: birth, Phone: "0912345678"})
	if err != nil {
		t.Fatal(err)
	}
	codes := smsRE.FindAllStringSubmatch(f.env.Logs.String(), -1)
	if _, err := f.env.App.EID.CompleteRegistration(ctx, e.ID, codes[len(codes)-1][1], password); err != nil {
		t.Fatal(err)
	}
	p, err := f.env.App.Registry.Get(ctx, registrar, parent, "test")
	if err != nil {
		t.Fatal(err)
	}
	eth, _ := registry.EthnicityName(p.Ethnicity)
	rel, _ := registry.ReligionName(p.Religion)
	nat, _ := registry.NationalityName(p.Nationality)
	b := f.browser(t)
	if r := b.signIn(parent, password, ""); r.status != http.StatusSeeOther {
		t.Fatalf("sign-in %d", r.status)
	}
	for _, l := range []struct{ lang, sex, eth, rel, nat, purpose string }{
		{"vi", "Nam", eth.VI, rel.VI, nat.VI, "In tên cha, mẹ lên thẻ căn cước của con"},
		{"en", "Male", eth.EN, rel.EN, nat.EN, "A parent's name printed on their child's identity card"},
	} {
		me := b.get("/citizen/me?lang=" + l.lang)
		if me.status != http.StatusOK {
			t.Fatalf("my data %d", me.status)
		}
		pagetest.SpeaksToPeople(t, l.lang+" my data", me.body, p.BirthDate.Display(), l.sex, l.eth, l.rel, l.nat)
		access := b.get("/citizen/access?lang=" + l.lang)
		if access.status != http.StatusOK {
			t.Fatalf("access page %d", access.status)
		}
		pagetest.SpeaksToPeople(t, l.lang+" access page", access.body, l.purpose)
		if strings.Contains(pagetest.Visible(access.body), "card-parent-name") {
			t.Errorf("%s access page shows the purpose code", l.lang)
		}
	}
}
