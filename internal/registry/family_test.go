package registry_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func date(s string) civildate.Date {
	d, err := civildate.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestNextHead: the rule that picks a household's head when the head dies
// or leaves.
func TestNextHead(t *testing.T) {
	m := func(pin, birth, status string) registry.Member {
		return registry.Member{PIN: pin, BirthDate: date(birth), Status: status}
	}
	head := registry.Person{PIN: "H", SpousePIN: "W"}
	on := date("2026-05-01")
	for _, tt := range []struct {
		name    string
		members []registry.Member
		leaving registry.Person
		named   string
		want    string
		code    string
	}{
		{"spouse first", []registry.Member{m("H", "1950", "alive"), m("G", "1930", "alive"), m("W", "1960-01-01", "alive")}, head, "", "W", ""},
		{"named wins over spouse", []registry.Member{m("H", "1950", "alive"), m("S", "1990-01-01", "alive"), m("W", "1960-01-01", "alive")}, head, "S", "S", ""},
		{"named stranger", []registry.Member{m("H", "1950", "alive"), m("W", "1960-01-01", "alive")}, head, "X", "", "household.new_head_invalid"},
		{"named dead member", []registry.Member{m("H", "1950", "alive"), m("D", "1960-01-01", "dead"), m("W", "1960-01-01", "alive")}, head, "D", "", "household.new_head_invalid"},
		{"dead spouse is skipped: eldest adult", []registry.Member{m("H", "1950", "alive"), m("W", "1960-01-01", "dead"), m("A", "2000-01-01", "alive"), m("B", "1995-06-01", "alive")}, head, "", "B", ""},
		{"eldest adult, not an elder minor", []registry.Member{m("H", "1950", "alive"), m("K", "2008-05-02", "alive"), m("A", "2008-05-01", "alive")}, registry.Person{PIN: "H"}, "", "A", ""},
		{"only minors: the eldest", []registry.Member{m("H", "1980", "alive"), m("K", "2015-01-01", "alive"), m("L", "2012-01-01", "alive")}, registry.Person{PIN: "H"}, "", "L", ""},
		{"same birth date: lower PIN", []registry.Member{m("H", "1980", "alive"), m("Q", "2000-01-01", "alive"), m("P", "2000-01-01", "alive")}, registry.Person{PIN: "H"}, "", "P", ""},
		{"nobody left", []registry.Member{m("H", "1980", "alive"), m("D", "1982-01-01", "dead")}, registry.Person{PIN: "H"}, "", "", ""},
	} {
		got, err := registry.NextHead(tt.members, tt.leaving, tt.named, on)
		if got != tt.want || code(err) != tt.code {
			t.Errorf("%s: %q, %q; want %q, %q", tt.name, got, code(err), tt.want, tt.code)
		}
	}
}

// TestDeathClosesEverything: a death closes the permanent and temporary
// residence and the household membership; the household gets a new head,
// with the change in the head history and the new head's versions; the
// surviving spouse is widowed.
func TestDeathClosesEverything(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := setup(t, db)
		// The father stays at a hostel in another commune.
		if _, err := f.svc.RegisterTemporary(ctx, registrarHN, registry.TemporaryInput{PIN: f.father, Commune: otherHN, From: "01/01/2026", To: "31/12/2026"}); err != nil {
			t.Fatal(err)
		}
		// A second stay replaces the first, which ends where it starts.
		if _, err := f.svc.RegisterTemporary(ctx, registrarHN, registry.TemporaryInput{PIN: f.father, Commune: otherHN, Detail: "Phòng 2", From: "01/03/2026", To: "31/12/2026"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RegisterDeath(ctx, registrarBaDinh, registry.DeathInput{PIN: f.father, DeathDate: "01/04/2026", Reason: "Giấy báo tử"}); err != nil {
			t.Fatal(err)
		}
		dead, err := f.svc.Get(ctx, admin, f.father, "lookup")
		if err != nil || dead.HouseholdID != "" || dead.Relation != "" || dead.Temporary == nil || dead.Temporary.To.String() != "2026-04-01" {
			t.Fatalf("dead record: %+v %v", dead, err)
		}
		// The registrar of the place of stay no longer reaches him; Ba Đình still does.
		registrarNgocHa := actor.Actor{ID: "staff:ngocha", Role: actor.Registrar, Unit: otherHN, Province: provHN}
		if _, err := f.svc.Get(ctx, registrarNgocHa, f.father, "lookup"); !errors.Is(err, fault.ErrOutOfScope) {
			t.Fatalf("ended temporary residence still reaches: %v", err)
		}
		res, err := f.svc.Residences(ctx, registrarBaDinh, f.father)
		if err != nil || len(res) != 3 || res[1].Address.Detail != "" || res[1].To.String() != "2026-03-01" {
			t.Fatalf("residences: %+v %v", res, err)
		}
		for _, r := range []registry.Residence{res[0], res[2]} {
			if r.To.String() != "2026-04-01" {
				t.Errorf("%s residence at %s not closed on the day of death: %+v", r.Kind, r.Address.CommuneCode, r)
			}
		}
		h, err := f.svc.Household(ctx, registrarBaDinh, f.household)
		if err != nil {
			t.Fatal(err)
		}
		var heads []string
		for _, m := range h.Members {
			if m.PIN == f.father {
				t.Errorf("the dead head is still a member: %+v", m)
			}
			if m.Relation == registry.RelHead {
				heads = append(heads, m.PIN)
			}
		}
		if h.HeadPIN != f.mother || !slices.Equal(heads, []string{f.mother}) {
			t.Fatalf("heads %v, household head %s, want the widow %s", heads, h.HeadPIN, f.mother)
		}
		if len(h.Heads) != 2 || h.Heads[0].PIN != f.mother || h.Heads[0].From.String() != "2026-04-01" || !h.Heads[0].To.IsZero() ||
			h.Heads[1].PIN != f.father || h.Heads[1].To.String() != "2026-04-01" || h.Heads[0].By != registrarBaDinh.ID {
			t.Fatalf("head history %+v", h.Heads)
		}
		widow, _ := f.svc.Get(ctx, admin, f.mother, "lookup")
		if widow.SpousePIN != "" || widow.Relation != registry.RelHead || widow.Version != 3 {
			t.Fatalf("widow %+v", widow)
		}
		hist, _ := f.svc.History(ctx, admin, f.mother)
		if len(hist) != 3 || hist[1].Person.Relation != registry.RelHead || hist[1].Person.SpousePIN != f.father || hist[2].Person.Relation != "Vợ" {
			t.Fatalf("widow's versions %+v", hist)
		}
		ms, err := f.svc.Marriages(ctx, admin, f.mother)
		if err != nil || len(ms) != 1 || ms[0].SpousePIN != f.father || ms[0].EndKind != "death" || ms[0].Ended.String() != "2026-04-01" {
			t.Fatalf("marriages %+v %v", ms, err)
		}
		// The widow can marry again, after the legal age checks.
		if _, err := f.svc.RegisterDeath(ctx, registrarBaDinh, registry.DeathInput{PIN: f.mother, DeathDate: "02/04/2026"}); err != nil {
			t.Fatal(err)
		}
		// The son, a minor, is the last member: he heads the household.
		h, _ = f.svc.Household(ctx, registrarBaDinh, f.household)
		if h.HeadPIN != f.son || len(h.Members) != 1 || h.Members[0].Relation != registry.RelHead {
			t.Fatalf("household after both deaths: %+v", h)
		}
	})
}

// TestMarriageAndDivorce: the conditions of marriage, the spouse links, the
// history, the events and the household change.
func TestMarriageAndDivorce(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := setup(t, db)
		// Ba Đình: a man of 19 and a woman of 18, a bachelor of 30 heading
		// his own household, his sister, and a man in HCM.
		log := audit.NewLog(db, func() time.Time { return today }, slog.New(slog.NewTextHandler(t.Output(), nil)))
		t.Cleanup(log.Close)
		l, err := registry.NewLoader(ctx, db, log, actor.SystemActor("test"), today)
		if err != nil {
			t.Fatal(err)
		}
		alloc := func(year int, sex byte) string {
			p, err := l.AllocatePIN("001", year, sex)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		young, bride, groom, sister, parent := alloc(2007, 'M'), alloc(2008, 'F'), alloc(1996, 'M'), alloc(1998, 'F'), alloc(1960, 'F')
		home := registry.Address{ProvinceCode: provHN, CommuneCode: baDinh, Detail: "Số 9 Hàng Than"}
		if err := l.Household(ctx, registry.Household{ID: "HH-GROOM", HeadPIN: groom, Address: home}); err != nil {
			t.Fatal(err)
		}
		if err := l.Household(ctx, registry.Household{ID: "HH-BRIDE", HeadPIN: parent, Address: registry.Address{ProvinceCode: provHN, CommuneCode: baDinh, Detail: "Số 1 Phan Đình Phùng"}}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []registry.Person{
			{PIN: young, FullName: "Lê Văn Trẻ", BirthDate: date("2007-01-01"), Sex: "M", Ethnicity: "01", Permanent: home, HouseholdID: "HH-GROOM", Relation: "Em"},
			{PIN: bride, FullName: "Phạm Thị Dâu", BirthDate: date("2008-03-01"), Sex: "F", Ethnicity: "01", Permanent: home, HouseholdID: "HH-BRIDE", Relation: "Cháu"},
			{PIN: groom, FullName: "Lê Văn Rể", BirthDate: date("1996-02-02"), Sex: "M", Ethnicity: "01", Permanent: home, HouseholdID: "HH-GROOM", Relation: registry.RelHead, MotherPIN: parent},
			{PIN: sister, FullName: "Lê Thị Em", BirthDate: date("1998-02-02"), Sex: "F", Ethnicity: "01", Permanent: home, HouseholdID: "HH-GROOM", Relation: "Em", MotherPIN: parent},
			{PIN: parent, FullName: "Phạm Thị Mẹ", BirthDate: date("1960-01-01"), Sex: "F", Ethnicity: "01", Permanent: home, HouseholdID: "HH-BRIDE", Relation: registry.RelHead},
		} {
			if err := l.Person(ctx, &p); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		ok := registry.MarriageInput{PIN: bride, SpousePIN: young, Date: "01/03/2026", Reason: "Giấy chứng nhận kết hôn"}
		before := counts(t, db)
		for _, tt := range []struct {
			name string
			a    actor.Actor
			mod  func(*registry.MarriageInput)
			code string
		}{
			{"man under 20", registrarBaDinh, func(in *registry.MarriageInput) {}, "marriage.under_age"},
			{"woman one day under 18", registrarBaDinh, func(in *registry.MarriageInput) { in.SpousePIN = groom; in.Date = "28/02/2026" }, "marriage.under_age"},
			{"already married", registrarBaDinh, func(in *registry.MarriageInput) { in.PIN = f.mother; in.SpousePIN = groom }, "marriage.already_married"},
			{"same sex", registrarBaDinh, func(in *registry.MarriageInput) { in.SpousePIN = sister }, "marriage.same_sex"},
			{"siblings", registrarBaDinh, func(in *registry.MarriageInput) { in.PIN = sister; in.SpousePIN = groom }, "marriage.kin"},
			{"mother and son", registrarBaDinh, func(in *registry.MarriageInput) { in.PIN = parent; in.SpousePIN = groom }, "marriage.kin"},
			{"oneself", registrarBaDinh, func(in *registry.MarriageInput) { in.SpousePIN = bride }, "marriage.self"},
			{"spouse outside the unit", registrarBaDinh, func(in *registry.MarriageInput) { in.SpousePIN = f.far }, "out_of_scope"},
			{"nobody as spouse", registrarBaDinh, func(in *registry.MarriageInput) { in.SpousePIN = "001096999999" }, "out_of_scope"},
			{"scope before the date", registrarBaDinh, func(in *registry.MarriageInput) { in.SpousePIN = f.far; in.Date = "ngày mai" }, "out_of_scope"},
			{"future date", registrarBaDinh, func(in *registry.MarriageInput) { in.SpousePIN = groom; in.Date = "01/01/2027" }, "date.future"},
			{"joiner not a party", registrarBaDinh, func(in *registry.MarriageInput) { in.SpousePIN = groom; in.JoinPIN = sister }, "marriage.join_invalid"},
			{"leader", leaderHN, func(in *registry.MarriageInput) {}, "forbidden"},
		} {
			in := ok
			tt.mod(&in)
			if _, err := f.svc.RegisterMarriage(ctx, tt.a, in); code(err) != tt.code {
				t.Errorf("%s: %q (%v), want %q", tt.name, code(err), err, tt.code)
			}
		}
		if after := counts(t, db); after != before {
			t.Fatalf("refused marriages wrote something: %v -> %v", before, after)
		}

		// The bride marries the groom on her 18th birthday and joins his household.
		in := ok
		in.SpousePIN, in.JoinPIN = groom, bride
		p, err := f.svc.RegisterMarriage(ctx, registrarBaDinh, in)
		if err != nil {
			t.Fatal(err)
		}
		if p.SpousePIN != groom || p.HouseholdID != "HH-GROOM" || p.Relation != "Vợ" || p.Permanent.Detail != "Số 9 Hàng Than" {
			t.Fatalf("bride after marriage: %+v", p)
		}
		g, _ := f.svc.Get(ctx, admin, groom, "lookup")
		if g.SpousePIN != bride || g.Relation != registry.RelHead {
			t.Fatalf("groom after marriage: %+v", g)
		}
		if _, err := f.svc.RegisterMarriage(ctx, registrarBaDinh, registry.MarriageInput{PIN: groom, SpousePIN: sister, Date: "02/03/2026"}); code(err) != "marriage.already_married,marriage.kin" {
			t.Fatalf("second marriage: %v", err)
		}
		res, _ := f.svc.Residences(ctx, admin, bride)
		if len(res) != 2 || res[0].Address.Detail != "Số 9 Hàng Than" || res[1].To.String() != "2026-03-01" {
			t.Fatalf("bride's residences %+v", res)
		}
		evs, _ := f.svc.Events(ctx, admin, bride)
		var kinds []string
		for _, e := range evs {
			kinds = append(kinds, e.Kind)
			if e.Kind == registry.EventMarriage && e.OtherPIN != groom {
				t.Errorf("marriage event names %q", e.OtherPIN)
			}
		}
		slices.Sort(kinds)
		if strings.Join(kinds, " ") != "marriage move" {
			t.Fatalf("bride's events %v", kinds)
		}

		// Divorce: refused before the marriage, then both links drop.
		if _, err := f.svc.RegisterDivorce(ctx, registrarBaDinh, registry.DivorceInput{PIN: groom, Date: "28/02/2026"}); code(err) != "divorce.before_marriage" {
			t.Fatalf("divorce before marriage: %v", err)
		}
		if _, err := f.svc.RegisterDivorce(ctx, registrarBaDinh, registry.DivorceInput{PIN: sister, Date: "01/04/2026"}); code(err) != "divorce.not_married" {
			t.Fatalf("divorce of the unmarried: %v", err)
		}
		if _, err := f.svc.RegisterDivorce(ctx, registrarBaDinh, registry.DivorceInput{PIN: f.far, Date: "01/04/2026"}); !errors.Is(err, fault.ErrOutOfScope) {
			t.Fatalf("divorce out of scope: %v", err)
		}
		d, err := f.svc.RegisterDivorce(ctx, registrarBaDinh, registry.DivorceInput{PIN: groom, Date: "01/04/2026", Reason: "Bản án ly hôn"})
		if err != nil || d.SpousePIN != "" {
			t.Fatalf("divorce: %+v %v", d, err)
		}
		// Marrying again is dated after the divorce.
		if _, err := f.svc.RegisterMarriage(ctx, registrarBaDinh, registry.MarriageInput{PIN: groom, SpousePIN: bride, Date: "31/03/2026"}); code(err) != "marriage.before_previous_end" {
			t.Fatalf("remarriage before the divorce: %v", err)
		}
		b, _ := f.svc.Get(ctx, admin, bride, "lookup")
		if b.SpousePIN != "" {
			t.Fatalf("bride still linked: %+v", b)
		}
		ms, _ := f.svc.Marriages(ctx, admin, bride)
		if len(ms) != 1 || ms[0].Married.String() != "2026-03-01" || ms[0].Ended.String() != "2026-04-01" || ms[0].EndKind != "divorce" {
			t.Fatalf("marriage history %+v", ms)
		}
		// A couple loaded in bulk (no marriage row) divorces too.
		if _, err := f.svc.RegisterDivorce(ctx, registrarBaDinh, registry.DivorceInput{PIN: f.mother, Date: "01/04/2026"}); err != nil {
			t.Fatal(err)
		}
		ms, _ = f.svc.Marriages(ctx, admin, f.father)
		if len(ms) != 1 || ms[0].SpousePIN != f.mother || !ms[0].Married.IsZero() || ms[0].EndKind != "divorce" {
			t.Fatalf("loaded marriage's history %+v", ms)
		}
		out, _ := db.PendingEvents(ctx, 100)
		n := map[string]int{}
		for _, e := range out {
			n[e.Subject]++
		}
		if n[registry.SubjectMarried] != 2 || n[registry.SubjectDivorced] != 4 || n[registry.SubjectMoved] != 1 {
			t.Fatalf("outbox %v", n)
		}
		var audited int
		db.R.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'person.marriage' AND actor = $1`, registrarBaDinh.ID).Scan(&audited)
		if audited != 2 {
			t.Fatalf("marriage audited %d times", audited)
		}
	})
}

// TestBirthPlausibility: a birth registered twice is refused with the
// existing PIN; twins and implausible births need a confirmation and are
// flagged.
func TestBirthPlausibility(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := setup(t, db)
		first := registry.BirthInput{FullName: "Nguyễn Thị Mai", Sex: "F", BirthDate: "02/05/2026", MotherPIN: f.mother, FatherPIN: f.father}
		// The mother is 42: plausible.
		mai, err := f.svc.RegisterBirth(ctx, registrarBaDinh, first)
		if err != nil || len(mai.BirthFlags) != 0 {
			t.Fatalf("first birth: %+v %v", mai, err)
		}
		before := counts(t, db)
		_, err = f.svc.RegisterBirth(ctx, registrarBaDinh, first)
		if code(err) != "birth.duplicate" || !strings.Contains(fault.As(err).Message, mai.PIN) || !strings.Contains(fault.As(err).Message, "Trùng cả họ tên") {
			t.Fatalf("second registration of the same birth: %v", err)
		}
		twin := first
		twin.FullName, twin.BirthDate = "Nguyễn Thị Lan", "03/05/2026"
		if _, err := f.svc.RegisterBirth(ctx, registrarBaDinh, twin); code(err) != "birth.duplicate" || fault.As(err).Field != "confirm_twin" {
			t.Fatalf("twin born the next day unconfirmed: %v", err)
		}
		// Of a sibling outside the unit, the refusal does not name the PIN.
		if _, err := f.svc.RegisterMove(ctx, registrarHN, registry.MoveInput{PIN: mai.PIN, Date: "03/05/2026", Commune: otherHN}); err != nil {
			t.Fatal(err)
		}
		before = counts(t, db)
		_, err = f.svc.RegisterBirth(ctx, registrarBaDinh, first)
		if code(err) != "birth.duplicate" || strings.Contains(fault.As(err).Message, mai.PIN) {
			t.Fatalf("duplicate of a sibling elsewhere: %v", err)
		}
		if after := counts(t, db); after != before {
			t.Fatalf("refused births wrote something: %v -> %v", before, after)
		}
		twin.ConfirmTwin = true
		lan, err := f.svc.RegisterBirth(ctx, registrarBaDinh, twin)
		if err != nil || !slices.Equal(lan.BirthFlags, []string{registry.FlagTwin}) {
			t.Fatalf("confirmed twin: %+v %v", lan.BirthFlags, err)
		}
		got, _ := f.svc.Get(ctx, admin, lan.PIN, "lookup")
		if !slices.Equal(got.BirthFlags, []string{registry.FlagTwin}) {
			t.Fatalf("stored flags %v", got.BirthFlags)
		}
	})
}

// TestBirthImplausible: a mother under 14 or over 60, or a birth within
// nine months of a sibling's, needs a confirmation and is flagged.
func TestBirthImplausible(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := setup(t, db)
		// The son (2008-11-30) is the mother's child: a birth in March 2009
		// is 3 months later.
		for _, tt := range []struct {
			name, birth string
			confirm     bool
			code        string
			flags       []string
		}{
			{"three months after a sibling", "01/03/2009", false, "birth.interval", nil},
			{"nine months less a day before a sibling", "01/03/2008", false, "birth.interval", nil},
			{"confirmed", "01/03/2009", true, "", []string{registry.FlagBirthInterval}},
			{"mother 12", "30/06/1996", false, "birth.mother_age", nil},
			{"mother 12, confirmed", "30/06/1996", true, "", []string{registry.FlagMotherAge}},
			{"mother 14 to the day", "01/07/1997", false, "", nil},
		} {
			in := registry.BirthInput{FullName: "Nguyễn Văn " + strings.Fields(tt.name)[0], Sex: "M", BirthDate: tt.birth, MotherPIN: f.mother, ConfirmImplausible: tt.confirm}
			p, err := f.svc.RegisterBirth(ctx, registrarBaDinh, in)
			if code(err) != tt.code {
				t.Errorf("%s: %q (%v), want %q", tt.name, code(err), err, tt.code)
				continue
			}
			if err == nil && !slices.Equal(p.BirthFlags, tt.flags) {
				t.Errorf("%s: flags %v, want %v", tt.name, p.BirthFlags, tt.flags)
			}
		}
	})
}

// TestResidenceHistory: periods loaded for the years before the 2025
// reform are named on the map of their start, beside the current period
// from the person's row; a move keeps both.
func TestResidenceHistory(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		units, err := adminunit.Load()
		if err != nil {
			t.Fatal(err)
		}
		log := audit.NewLog(db, func() time.Time { return today }, slog.New(slog.NewTextHandler(t.Output(), nil)))
		t.Cleanup(log.Close)
		svc := registry.NewService(db, units, log, func() time.Time { return today })
		l, err := registry.NewLoader(ctx, db, log, actor.SystemActor("test"), today)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := l.AllocatePIN("001", 1970, 'M')
		wife, _ := l.AllocatePIN("001", 1972, 'F')
		home := registry.Address{ProvinceCode: provHN, CommuneCode: baDinh, Detail: "Số 3 Châu Long"}
		l.Household(ctx, registry.Household{ID: "HH-1", HeadPIN: id, Address: home})
		for _, p := range []registry.Person{
			{PIN: id, FullName: "Hoàng Văn Cũ", BirthDate: date("1970-01-01"), Sex: "M", Ethnicity: "01", Permanent: home, PermSince: date("2025-07-01"), HouseholdID: "HH-1", Relation: registry.RelHead, SpousePIN: wife},
			{PIN: wife, FullName: "Vũ Thị Mới", BirthDate: date("1972-01-01"), Sex: "F", Ethnicity: "01", Permanent: home, PermSince: date("2025-07-01"), HouseholdID: "HH-1", Relation: "Vợ", SpousePIN: id},
		} {
			if err := l.Person(ctx, &p); err != nil {
				t.Fatal(err)
			}
		}
		// 00004 was Phường Trúc Bạch (Quận Ba Đình) on the old map.
		if err := l.Residence(ctx, id, registry.Residence{Address: registry.Address{ProvinceCode: provHN, CommuneCode: "00004", Detail: "Số 3 Châu Long"},
			From: date("1995-04-01"), To: date("2025-07-01")}); err != nil {
			t.Fatal(err)
		}
		if err := l.Marriage(ctx, id, wife, date("1994-10-10"), civildate.Date{}); err != nil {
			t.Fatal(err)
		}
		if err := l.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		res, err := svc.Residences(ctx, registrarBaDinh, id)
		if err != nil || len(res) != 2 {
			t.Fatalf("residences %+v %v", res, err)
		}
		if !strings.Contains(res[0].Address.Text, "Phường Ba Đình") || !res[0].To.IsZero() || res[0].From.String() != "2025-07-01" {
			t.Errorf("current period %+v", res[0])
		}
		if !strings.Contains(res[1].Address.Text, "Trúc Bạch") || res[1].To.String() != "2025-07-01" {
			t.Errorf("old period %+v", res[1])
		}
		ms, _ := svc.Marriages(ctx, registrarBaDinh, wife)
		if len(ms) != 1 || ms[0].Married.String() != "1994-10-10" || ms[0].SpousePIN != id {
			t.Fatalf("loaded marriage %+v", ms)
		}
		// The move keeps both earlier periods.
		if _, err := svc.RegisterMove(ctx, registrarHN, registry.MoveInput{PIN: id, Date: "01/05/2026", Commune: otherHN}); err != nil {
			t.Fatal(err)
		}
		res, _ = svc.Residences(ctx, registrarHN, id)
		if len(res) != 3 || res[0].Address.CommuneCode != otherHN || res[1].Address.CommuneCode != baDinh || res[1].To.String() != "2026-05-01" ||
			!strings.Contains(res[2].Address.Text, "Trúc Bạch") {
			t.Fatalf("after the move %+v", res)
		}
		// The wife became head (spouse rule) of the household left.
		h, _ := svc.Household(ctx, registrarBaDinh, "HH-1")
		if h.HeadPIN != wife || len(h.Heads) != 2 {
			t.Fatalf("household left %+v", h)
		}
	})
}
