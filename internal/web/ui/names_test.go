package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/page/pagetest"
)

// TestPagesSpeakVietnamese: the staff pages of a seeded person — the
// search, the person page (with a partner's sector identifier) and the
// page of a produced card — show names for sex, ethnicity, religion and
// nationality and dd/mm/yyyy dates, in Vietnamese and in English, and
// never a bare catalogue code or an ISO date; the card page shows what
// the chip's DG13 carries. On SQLite and PostgreSQL.
func TestPagesSpeakVietnamese(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { testPagesSpeakVietnamese(t, d) })
	}
}

func testPagesSpeakVietnamese(t *testing.T, d storage.Dialect) {
	env := apptest.Start(t, d, 60)
	ctx := context.Background()
	var pin string
	if err := env.App.DB.R.QueryRow(`SELECT pin FROM persons WHERE status = 'alive' AND perm_province = '01'
		AND length(birth_date) = 10 AND birth_date < '2005' ORDER BY religion DESC, ethnicity DESC, pin LIMIT 1`).Scan(&pin); err != nil {
		t.Fatal(err)
	}
	registrar := staff.Account{Username: "dangky.hanoi", Role: "registrar", Unit: "01", Province: "01"}.Actor()
	p, err := env.App.Registry.Get(ctx, registrar, pin, "test")
	if err != nil {
		t.Fatal(err)
	}
	// A partner linked its identifier to the person.
	if _, err := env.App.BootstrapPartners(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.DB.W.Exec(`INSERT INTO exchange_sector_ids (scheme, value, pin, written_by, written_at) VALUES ($1, $2, $3, $4, $5)`,
		"social_insurance_no", "0123456789", pin, "bhxh", time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	c, err := env.App.Cards.Apply(ctx, registrar, pin)
	if err == nil {
		_, err = env.App.Cards.Approve(ctx, registrar, c.Serial)
	}
	if err == nil {
		_, err = env.App.Cards.Produce(ctx, registrar, c.Serial)
	}
	if err != nil {
		t.Fatal(err)
	}

	eth, _ := registry.EthnicityName(p.Ethnicity)
	rel, _ := registry.ReligionName(p.Religion)
	nat, _ := registry.NationalityName(p.Nationality)
	sex := map[string][2]string{"M": {"Nam", "Male"}, "F": {"Nữ", "Female"}}[p.Sex]
	birth := p.BirthDate.Display()

	s := signInStaff(t, env, "dangky.hanoi")
	for _, l := range []struct {
		lang string
		i    int
		eth  string
		rel  string
		nat  string
	}{{"vi", 0, eth.VI, rel.VI, nat.VI}, {"en", 1, eth.EN, rel.EN, nat.EN}} {
		get := func(path string) string {
			t.Helper()
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			r := s.do(http.MethodGet, path+sep+"lang="+l.lang, nil)
			if r.status != http.StatusOK {
				t.Fatalf("%s (%s): %d\n%s", path, l.lang, r.status, env.Logs.String()[max(0, len(env.Logs.String())-1500):])
			}
			return r.body
		}
		person := get("/persons/" + pin)
		pagetest.SpeaksToPeople(t, l.lang+" person page", person, birth, sex[l.i], l.eth, l.rel, l.nat, "0123456789")
		if !strings.Contains(pagetest.Visible(person), "Mã số bảo hiểm xã hội") { // the partner's own name of it
			t.Errorf("%s person page lacks the sector identifier's scheme", l.lang)
		}
		search := get("/persons?q=" + url.QueryEscape(p.FullName))
		pagetest.SpeaksToPeople(t, l.lang+" search", search, birth, sex[l.i])
		// The coded fields of a form are chosen by name (no JavaScript needed).
		birthForm := get("/births/new")
		for _, want := range []string{`<select id="f-ethnicity" name="ethnicity"`, `<select id="f-religion" name="religion"`,
			`<select id="f-nationality" name="nationality"`, `<select id="f-birthplace_commune" name="birthplace_commune"`,
			`<option value="VNM" selected>` + map[string]string{"vi": "Việt Nam", "en": "Vietnam"}[l.lang],
			`<option value="01" selected>Kinh`, `<option value="" selected>` + map[string]string{"vi": "Không", "en": "None"}[l.lang]} {
			if !strings.Contains(birthForm, want) {
				t.Errorf("%s birth form lacks %s", l.lang, want)
			}
		}
		if strings.Contains(birthForm, `name="nationality" value=`) || strings.Contains(birthForm, `list="communes"`) {
			t.Errorf("%s birth form still has typed codes", l.lang)
		}
		moveForm := get("/moves/new")
		if !strings.Contains(moveForm, `<select id="f-commune_code" name="commune_code"`) || !strings.Contains(moveForm, `>Phường Ba Đình</option>`) {
			t.Errorf("%s move form: no commune picker by name", l.lang)
		}
		card := get("/cards/" + c.Serial)
		pagetest.SpeaksToPeople(t, l.lang+" card page", card, birth, l.eth, map[string]string{"vi": "Nơi đăng ký khai sinh", "en": "Place of birth registration"}[l.lang])
		if !strings.Contains(card, `id="card-issue-date">`+time.Now().In(time.FixedZone("ICT", 7*3600)).Format("02/01/2006")) {
			t.Errorf("%s card page: issue date not dd/mm/yyyy today", l.lang)
		}
	}
	// The staff read of the sector identifiers is audited.
	var n int
	if err := env.App.AuditDB.R.QueryRow(`SELECT count(*) FROM audit_log WHERE actor = $1 AND action = 'person.sector_id.read' AND subject = $2`,
		"staff:dangky.hanoi", "person:"+pin).Scan(&n); err != nil || n == 0 {
		t.Errorf("sector identifier reads audited: %d, %v", n, err)
	}
	// Out of scope: another province's officer is refused the page, and
	// with it the identifiers.
	var other string
	if err := env.App.DB.R.QueryRow(`SELECT pin FROM persons WHERE status = 'alive' AND perm_province <> '01' ORDER BY pin LIMIT 1`).Scan(&other); err == nil {
		if r := s.do(http.MethodGet, "/persons/"+other, nil); r.status != http.StatusForbidden && r.status != http.StatusNotFound {
			t.Errorf("another province's person: %d", r.status)
		}
	}
}
