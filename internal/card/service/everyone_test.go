package service_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/card/lds"
	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// clockFixture is a register and card service whose clock the test moves.
type clockFixture struct {
	db   *storage.DB
	reg  *registry.Service
	svc  *service.Service
	now  *time.Time
	pins map[string]string // test name → PIN
}

// person is a register record to load, by name, with its PIN allocated from
// province, birth year and sex.
type person struct {
	key, name, birth, sex, ethnicity, religion string
	father, mother                             string // keys of persons loaded before
	away                                       bool   // lives in Hồ Chí Minh City, outside the Ba Đình registrar's unit
}

func clockSetup(t *testing.T, db *storage.DB, at time.Time, people []person) *clockFixture {
	t.Helper()
	ctx := context.Background()
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	f := &clockFixture{db: db, now: &at, pins: map[string]string{}}
	now := func() time.Time { return *f.now }
	log := audit.NewLog(db, now, slog.New(slog.NewTextHandler(t.Output(), nil)))
	t.Cleanup(log.Close)
	f.reg = registry.NewService(db, units, log, now)
	dir := t.TempDir()
	if _, err := (pki.Options{Now: func() time.Time { return at.AddDate(0, 0, -1) }}).Init(dir); err != nil {
		t.Fatal(err)
	}
	f.svc = service.New(db, f.reg, log, dir, now)
	l, err := registry.NewLoader(ctx, db, log, actor.SystemActor("test"), at)
	if err != nil {
		t.Fatal(err)
	}
	home := registry.Address{ProvinceCode: provHN, CommuneCode: baDinh, Detail: "Số 5 phố Quán Thánh"}
	away := registry.Address{ProvinceCode: provHCM, CommuneCode: hcm, Detail: "Số 9 đường Lê Lợi"}
	first := true
	for _, p := range people {
		b, err := civildate.Parse(p.birth)
		if err != nil {
			t.Fatal(err)
		}
		pinText, err := l.AllocatePIN("001", b.Year, p.sex[0])
		if err != nil {
			t.Fatal(err)
		}
		f.pins[p.key] = pinText
		addr, hh := home, "HH-H"
		if p.away {
			addr, hh = away, "HH-A-"+p.key
			if err := l.Household(ctx, registry.Household{ID: hh, HeadPIN: pinText, Address: away}); err != nil {
				t.Fatal(err)
			}
		} else if first {
			first = false
			if err := l.Household(ctx, registry.Household{ID: hh, HeadPIN: pinText, Address: home}); err != nil {
				t.Fatal(err)
			}
		}
		rec := registry.Person{PIN: pinText, FullName: p.name, BirthDate: b, Sex: p.sex, Ethnicity: p.ethnicity, Religion: p.religion,
			Nationality: "VNM", Permanent: addr, HouseholdID: hh, Relation: registry.RelChild,
			FatherPIN: f.pins[p.father], MotherPIN: f.pins[p.mother]}
		if err := l.Person(ctx, &rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// produce runs apply, approve and produce for the person under key.
func (f *clockFixture) produce(t *testing.T, key string) service.Card {
	t.Helper()
	ctx := context.Background()
	c, err := f.svc.Apply(ctx, registrarBaDinh, f.pins[key])
	for _, step := range []func(context.Context, actor.Actor, string) (service.Card, error){f.svc.Approve, f.svc.Produce} {
		if err != nil {
			break
		}
		c, err = step(ctx, registrarBaDinh, c.Serial)
	}
	if err != nil {
		t.Fatalf("card for %s: %v", key, err)
	}
	return c
}

func (f *clockFixture) dg13(t *testing.T, c service.Card) lds.DG13Data {
	t.Helper()
	chip, err := f.svc.Chip(context.Background(), registrarBaDinh, c.Serial)
	if err != nil {
		t.Fatal(err)
	}
	d, err := lds.ParseDG13(chip.DataGroups[13])
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestProduceOnVietnamDate runs the clock at 00:30 and 23:30 Vietnam time.
// A card produced at 00:30 on 8 December (17:30 UTC on the 7th) is issued on
// the 8th; for a holder whose 23rd or 38th birthday it is, that day decides
// whether the card runs to 25 or 40, to 40 or 60 (a UTC date gave cards 15
// and 20 years short); one reaching 25 or 40 that day gets a card to 40 or
// 60 either side of midnight. A death registered on
// Vietnam's today at 00:30 is not "in the future".
func TestProduceOnVietnamDate(t *testing.T) {
	people := []person{
		{key: "turns23", name: "Trần Văn Hai Ba", birth: "2003-12-08", sex: "M", ethnicity: "01"},
		{key: "turns38", name: "Lê Thị Ba Tám", birth: "1988-12-08", sex: "F", ethnicity: "01"},
		{key: "turns58", name: "Phạm Văn Năm Tám", birth: "1968-12-08", sex: "M", ethnicity: "01"},
		{key: "turns25", name: "Vũ Thị Hai Lăm", birth: "2001-12-08", sex: "F", ethnicity: "01"},
		{key: "turns40", name: "Mai Văn Bốn Mươi", birth: "1986-12-08", sex: "M", ethnicity: "01"},
		{key: "dies", name: "Đỗ Văn Mất", birth: "1950-01-01", sex: "M", ethnicity: "01"},
	}
	tests := []struct {
		name     string
		at       time.Time
		issue    string
		expiries map[string]string // key → expiry ("" lifetime)
	}{
		{"00:30 ICT on 8 December", time.Date(2026, 12, 7, 17, 30, 0, 0, time.UTC), "2026-12-08",
			map[string]string{"turns23": "2043-12-08", "turns38": "2048-12-08", "turns58": "", "turns25": "2041-12-08", "turns40": "2046-12-08"}},
		{"23:30 ICT on 7 December", time.Date(2026, 12, 7, 16, 30, 0, 0, time.UTC), "2026-12-07",
			map[string]string{"turns23": "2028-12-08", "turns38": "2028-12-08", "turns58": "2028-12-08", "turns25": "2041-12-08", "turns40": "2046-12-08"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
				f := clockSetup(t, db, tt.at, people)
				for key, want := range tt.expiries {
					c := f.produce(t, key)
					if c.IssueDate != tt.issue || c.ExpiryDate != want || c.Lifetime != (want == "") {
						t.Errorf("%s: issued %s, expires %q (lifetime %v); want %s, %q", key, c.IssueDate, c.ExpiryDate, c.Lifetime, tt.issue, want)
					}
					d := f.dg13(t, c)
					if iss, _ := civildate.Parse(d.Issue); iss.String() != tt.issue {
						t.Errorf("%s: DG13 issue date %q, want %s", key, d.Issue, tt.issue)
					}
					if !strings.HasSuffix(c.QR, "|"+tt.issue[8:10]+tt.issue[5:7]+tt.issue[:4]) {
						t.Errorf("%s: QR %q does not end with the issue date %s", key, c.QR, tt.issue)
					}
				}
				// A registration dated Vietnam's today.
				p, err := f.reg.RegisterDeath(context.Background(), registrarBaDinh, registry.DeathInput{PIN: f.pins["dies"], DeathDate: tt.issue, Reason: "test"})
				if err != nil {
					t.Fatalf("death registered on Vietnam's today %s: %v", tt.issue, err)
				}
				if p.DeathDate.String() != tt.issue {
					t.Errorf("death date %v, want %s", p.DeathDate, tt.issue)
				}
				tomorrow := civildate.Of(tt.at.Add(24 * time.Hour)).String()
				if _, err := f.reg.RegisterDeath(context.Background(), registrarBaDinh, registry.DeathInput{PIN: f.pins["turns23"], DeathDate: tomorrow, Reason: "test"}); code(err) != "date.future" {
					t.Errorf("death on Vietnam's tomorrow %s: %v, want date.future", tomorrow, err)
				}
			})
		})
	}
}

// TestPartialBirthAndCancel: a person with a year-only or month-and-year
// birth date gets a card (MRZ fillers, QR zeros, DG13 as printed); an
// application whose data cannot become a card is refused at apply with the
// reason; an open application can be cancelled and a new one taken.
func TestPartialBirthAndCancel(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		at := time.Date(2026, 12, 7, 17, 30, 0, 0, time.UTC)
		f := clockSetup(t, db, at, []person{
			{key: "year", name: "Hoàng Văn Năm", birth: "1948", sex: "M", ethnicity: "01"},
			{key: "month", name: "Siu H'Mai", birth: "1952-03", sex: "F", ethnicity: "10"},
			{key: "latin", name: "李小龍", birth: "1990-05-05", sex: "M", ethnicity: "04"},
			{key: "ok", name: "Ngô Văn Được", birth: "1990-05-05", sex: "M", ethnicity: "01"},
		})
		ctx := context.Background()
		for key, want := range map[string][3]string{
			"year":  {"48<<<<", "|00001948|", "1948"},
			"month": {"5203<<", "|00031952|", "03/1952"},
		} {
			c := f.produce(t, key)
			l2 := strings.Split(c.MRZ, "\n")[1]
			if !strings.HasPrefix(l2, want[0]) || !c.Lifetime || l2[8:15] != "<<<<<<0" {
				t.Errorf("%s: MRZ line 2 %q", key, l2)
			}
			if !strings.Contains(c.QR, want[1]) {
				t.Errorf("%s: QR %q, want %s", key, c.QR, want[1])
			}
			if d := f.dg13(t, c); d.Birth != want[2] {
				t.Errorf("%s: DG13 birth %q, want %q", key, d.Birth, want[2])
			}
		}
		_, err := f.svc.Apply(ctx, registrarBaDinh, f.pins["latin"])
		if code(err) != "card.not_producible" || !strings.Contains(err.Error(), "Latin") && !strings.Contains(err.Error(), "MRZ") {
			t.Errorf("apply for a name without Latin letters: %v", err)
		}
		if n := count(t, db, `SELECT count(*) FROM cards WHERE pin = $1`, f.pins["latin"]); n != 0 {
			t.Errorf("refused application left %d card rows", n)
		}
		// Cancel: an applied or approved application, for a known reason.
		c, err := f.svc.Apply(ctx, registrarBaDinh, f.pins["ok"])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Cancel(ctx, registrarBaDinh, c.Serial, "because"); code(err) != "card.cancel_reason" {
			t.Errorf("cancel with an unknown reason: %v", err)
		}
		if _, err := f.svc.Cancel(ctx, leaderHN, c.Serial, service.ReasonWithdrawn); err == nil {
			t.Error("a leader (not a registrar) cancelled an application")
		}
		if _, err := f.svc.Approve(ctx, registrarBaDinh, c.Serial); err != nil {
			t.Fatal(err)
		}
		if c, err = f.svc.Cancel(ctx, registrarBaDinh, c.Serial, service.ReasonNotProducible); err != nil || c.Status != service.Cancelled || c.Reason != service.ReasonNotProducible {
			t.Fatalf("cancel: %+v %v", c, err)
		}
		if _, err := f.svc.Produce(ctx, registrarBaDinh, c.Serial); !errors.Is(err, service.ErrTransition) {
			t.Errorf("produce after cancel: %v", err)
		}
		again := f.produce(t, "ok")
		if _, err := f.svc.Cancel(ctx, registrarBaDinh, again.Serial, service.ReasonWithdrawn); !errors.Is(err, service.ErrTransition) {
			t.Errorf("cancel of a produced card: %v (revoke is the way)", err)
		}
		_, hist, err := f.svc.Cards(ctx, registrarBaDinh, f.pins["ok"])
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, h := range hist {
			found = found || (h.Status == service.Cancelled && h.By == registrarBaDinh.ID)
		}
		if !found {
			t.Errorf("cancellation not in the card history: %+v", hist)
		}
		if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'card.cancel' AND subject = $1`, "person:"+f.pins["ok"]); n != 1 {
			t.Errorf("card.cancel audit entries = %d, want 1", n)
		}
	})
}

// TestChipNames: DG13 carries the ethnic group's and religion's names (and
// "Không" for none), the place of birth registration and both parents'
// names, parents living outside the officer's unit included; each parent's
// name read is audited in the officer's name.
func TestChipNames(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		at := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
		f := clockSetup(t, db, at, []person{
			{key: "father", name: "Y Bhim Niê", birth: "1960-01-01", sex: "M", ethnicity: "12", religion: "Tin lành", away: true},
			{key: "mother", name: "H'Hen Niê", birth: "1962-02-02", sex: "F", ethnicity: "12", away: true},
			{key: "child", name: "H'Linh Niê", birth: "1990-03-03", sex: "F", ethnicity: "12", religion: "Tin lành", father: "father", mother: "mother"},
			{key: "kinh", name: "Vũ Văn Không", birth: "1991-04-04", sex: "M", ethnicity: "01"},
		})
		d := f.dg13(t, f.produce(t, "child"))
		for k, v := range map[string][2]string{
			"6":  {d.Ethnicity, "Ê-đê"},
			"7":  {d.Religion, "Tin lành"},
			"8":  {d.BirthPlace, "Hà Nội"},
			"13": {d.Father + " / " + d.Mother, "Y Bhim Niê / H'Hen Niê"},
		} {
			if v[0] != v[1] {
				t.Errorf("DG13 field %s = %q, want %q", k, v[0], v[1])
			}
		}
		if n := count(t, db, `SELECT count(*) FROM audit_log WHERE actor = $1 AND purpose = 'card-parent-name' AND subject IN ($2, $3)`,
			registrarBaDinh.ID, "person:"+f.pins["father"], "person:"+f.pins["mother"]); n != 2 {
			t.Errorf("parent name reads audited = %d, want 2", n)
		}
		d = f.dg13(t, f.produce(t, "kinh"))
		if d.Ethnicity != "Kinh" || d.Religion != "Không" || d.Father != "" || d.Mother != "" {
			t.Errorf("DG13 of a Kinh person without religion or parents: %+v", d)
		}
	})
}

// TestSignerMustOutlastCard: a DS certificate that ends before a card must
// stop verifying does not sign it.
func TestSignerMustOutlastCard(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		at := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
		f := clockSetup(t, db, at, []person{{key: "old", name: "Lý Văn Già", birth: "1950-01-01", sex: "M", ethnicity: "01"},
			{key: "young", name: "Lý Văn Trẻ", birth: "2000-01-01", sex: "M", ethnicity: "01"}})
		ctx := context.Background()
		dir := t.TempDir()
		if _, err := (pki.Options{Now: func() time.Time { return at.AddDate(0, 0, -1) }, DSValidity: 30 * 365 * 24 * time.Hour}).Init(dir); err != nil {
			t.Fatal(err)
		}
		log := audit.NewLog(db, func() time.Time { return at }, slog.New(slog.DiscardHandler))
		t.Cleanup(log.Close)
		svc := service.New(db, f.reg, log, dir, func() time.Time { return at })
		for key, want := range map[string]error{"old": service.ErrSignerTooShort, "young": nil} {
			c, err := svc.Apply(ctx, registrarBaDinh, f.pins[key])
			if err == nil {
				c, err = svc.Approve(ctx, registrarBaDinh, c.Serial)
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = svc.Produce(ctx, registrarBaDinh, c.Serial)
			if (want == nil && err != nil) || (want != nil && !errors.Is(err, want)) {
				t.Errorf("%s: produce with a 30-year DS: %v, want %v", key, err, want)
			}
		}
	})
}
