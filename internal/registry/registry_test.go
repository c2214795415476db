package registry_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

var today = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

// Two communes of Hà Nội (01) and one of TP HCM (79), from the catalogue.
const (
	baDinh   = "00004"
	otherHN  = "00008"
	hcm      = "26740"
	provHN   = "01"
	provHCM  = "79"
	national = ""
)

type fixture struct {
	db  *storage.DB
	svc *registry.Service
	// PINs of the seeded family in Ba Đình: father (head), mother, son.
	father, mother, son string
	// A single person in HCM.
	far       string
	household string
}

var (
	registrarBaDinh = actor.Actor{ID: "staff:badinh", Role: actor.Registrar, Unit: baDinh, Province: provHN}
	registrarHN     = actor.Actor{ID: "staff:hn", Role: actor.Registrar, Unit: provHN, Province: provHN}
	admin           = actor.Actor{ID: "staff:admin", Role: actor.Admin}
	leaderHN        = actor.Actor{ID: "staff:leader", Role: actor.Leader, Unit: provHN, Province: provHN}
)

func setup(t *testing.T, db *storage.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{baDinh, otherHN, hcm} {
		if _, err := units.Commune(c, today); err != nil {
			t.Fatalf("test commune %s: %v", c, err)
		}
	}
	log := audit.NewLog(db, func() time.Time { return today }, slog.New(slog.NewTextHandler(t.Output(), nil)))
	t.Cleanup(log.Close)
	f := &fixture{db: db, svc: registry.NewService(db, units, log, func() time.Time { return today })}
	l, err := registry.NewLoader(ctx, db, log, actor.SystemActor("test"), today)
	if err != nil {
		t.Fatal(err)
	}
	alloc := func(prov string, year int, sex byte) string {
		p, err := l.AllocatePIN(prov, year, sex)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	f.father, f.mother, f.son, f.far = alloc("001", 1980, 'M'), alloc("001", 1983, 'F'), alloc("001", 2008, 'M'), alloc("079", 1990, 'F')
	f.household = "HH-BADINH-1"
	home := registry.Address{ProvinceCode: provHN, CommuneCode: baDinh, Detail: "Số 5 phố Quán Thánh"}
	if err := l.Household(ctx, registry.Household{ID: f.household, HeadPIN: f.father, Address: home}); err != nil {
		t.Fatal(err)
	}
	if err := l.Household(ctx, registry.Household{ID: "HH-HCM-1", HeadPIN: f.far, Address: registry.Address{ProvinceCode: provHCM, CommuneCode: hcm}}); err != nil {
		t.Fatal(err)
	}
	d := func(s string) civildate.Date { v, _ := civildate.Parse(s); return v }
	people := []registry.Person{
		{PIN: f.father, FullName: "Nguyễn Văn Đạt", BirthDate: d("1980-03-12"), Sex: "M", Ethnicity: "01", Permanent: home, HouseholdID: f.household, Relation: registry.RelHead, SpousePIN: f.mother},
		{PIN: f.mother, FullName: "Trần Thị Hoà", BirthDate: d("1983-07-01"), Sex: "F", Ethnicity: "01", Permanent: home, HouseholdID: f.household, Relation: "Vợ", SpousePIN: f.father},
		{PIN: f.son, FullName: "Nguyễn Đức Anh", BirthDate: d("2008-11-30"), Sex: "M", Ethnicity: "01", Permanent: home, HouseholdID: f.household, Relation: registry.RelChild, FatherPIN: f.father, MotherPIN: f.mother},
		{PIN: f.far, FullName: "Lê Thị Anh", BirthDate: d("1990"), Sex: "F", Ethnicity: "05", Permanent: registry.Address{ProvinceCode: provHCM, CommuneCode: hcm}, HouseholdID: "HH-HCM-1", Relation: registry.RelHead},
	}
	for i := range people {
		if err := l.Person(ctx, &people[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// counts of the tables a failed write must leave alone.
func counts(t *testing.T, db *storage.DB) [5]int {
	var c [5]int
	for i, table := range []string{"persons", "life_events", "outbox", "residences", "person_versions"} {
		if err := db.R.QueryRow(`SELECT count(*) FROM ` + table).Scan(&c[i]); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	db.R.QueryRow(`SELECT count(*) FROM audit_log WHERE action NOT LIKE '%.read' AND action <> 'person.search'`).Scan(&n)
	c[4] += n * 1000
	return c
}

func migrations() []storage.Migrations {
	return []storage.Migrations{audit.Migrations(), registry.Migrations()}
}

func code(err error) string {
	if err == nil {
		return ""
	}
	fs := fault.Faults(err)
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return strings.Join(out, ",")
}

func TestReadsAndScope(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := setup(t, db)
		p, err := f.svc.Get(ctx, registrarBaDinh, f.mother, "lookup")
		if err != nil || p.FullName != "Trần Thị Hoà" || p.BirthDate.Display() != "01/07/1983" || !strings.Contains(p.Permanent.Text, "Ba Đình") {
			t.Fatalf("Get = %+v, %v", p, err)
		}
		var audited int
		db.R.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'person.read' AND subject = $1 AND actor = 'staff:badinh'`, "person:"+f.mother).Scan(&audited)
		if audited != 1 {
			t.Fatalf("read audited %d times", audited)
		}
		for _, tt := range []struct {
			a       actor.Actor
			pin     string
			wantErr error
		}{
			{registrarBaDinh, f.far, fault.ErrOutOfScope},
			{registrarHN, f.far, fault.ErrOutOfScope},
			{leaderHN, f.son, nil},
			{admin, f.far, nil},
			{admin, "001080999999", registry.ErrPersonNotFound},
			{admin, "00108099999", pin.ErrLength},
		} {
			_, err := f.svc.Get(ctx, tt.a, tt.pin, "lookup")
			if (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("%s reads %s: %v, want %v", tt.a.ID, tt.pin, err, tt.wantErr)
			}
		}
		search := []struct {
			name string
			a    actor.Actor
			q    registry.Query
			want []string
		}{
			{"folded full name", admin, registry.Query{Text: "nguyen van dat"}, []string{f.father}},
			{"prefix with diacritics", admin, registry.Query{Text: "Nguyễn"}, nil}, // one word: given name
			{"given name, both provinces", admin, registry.Query{Text: "anh"}, []string{f.far, f.son}},
			{"given name in scope only", registrarHN, registry.Query{Text: "Anh"}, []string{f.son}},
			{"name prefix", admin, registry.Query{Text: "nguyen "}, nil},
			{"two-word prefix", admin, registry.Query{Text: "Nguyễn Văn"}, []string{f.father}},
			{"old tone placement", admin, registry.Query{Text: "tran thi hoa"}, []string{f.mother}},
			{"by PIN", registrarBaDinh, registry.Query{Text: f.son}, []string{f.son}},
			{"by birth year", admin, registry.Query{BirthDate: "1990"}, []string{f.far}},
			{"by birth date", admin, registry.Query{BirthDate: "12/03/1980"}, []string{f.father}},
			{"by commune", admin, registry.Query{Commune: baDinh}, []string{f.son, f.father, f.mother}},
			{"commune outside scope", registrarBaDinh, registry.Query{Commune: hcm}, nil},
		}
		for _, tt := range search {
			page, err := f.svc.Search(ctx, tt.a, tt.q)
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			var got []string
			for _, it := range page.Items {
				got = append(got, it.PIN)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			}
		}
		// Everyone a search lists is in their own access log.
		var listed int
		db.R.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'person.listed' AND subject = $1 AND actor = 'staff:hn'`, "person:"+f.son).Scan(&listed)
		if listed != 1 {
			t.Fatalf("the son was listed by one search of staff:hn, audited %d times", listed)
		}
		// Keyset pagination: pages are disjoint and cover every match.
		var all []string
		q := registry.Query{Commune: baDinh, Limit: 2}
		for i := 0; i < 5; i++ {
			page, err := f.svc.Search(ctx, admin, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				all = append(all, it.PIN)
			}
			if page.NextCursor == "" {
				break
			}
			q.Cursor = page.NextCursor
		}
		if strings.Join(all, " ") != strings.Join([]string{f.son, f.father, f.mother}, " ") {
			t.Fatalf("paged results %v", all)
		}
		for _, bad := range []registry.Query{{}, {BirthDate: "31/02/1990"}, {Text: "1234"}, {Commune: baDinh, Cursor: "!!"}} {
			if _, err := f.svc.Search(ctx, admin, bad); fault.As(err).Kind != fault.Invalid && !errors.As(err, new(fault.List)) {
				t.Errorf("query %+v: %v", bad, err)
			}
		}
		h, err := f.svc.Household(ctx, registrarBaDinh, f.household)
		if err != nil || len(h.Members) != 3 || h.Members[0].PIN != f.father || h.Members[0].Relation != registry.RelHead {
			t.Fatalf("Household = %+v, %v", h, err)
		}
		if _, err := f.svc.Household(ctx, registrarBaDinh, "HH-HCM-1"); !errors.Is(err, fault.ErrOutOfScope) {
			t.Fatalf("household out of scope: %v", err)
		}
	})
}

func TestBirth(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := setup(t, db)
		in := registry.BirthInput{FullName: "  Nguyễn  Thị Mai ", Sex: "F", BirthDate: "02/05/2026", MotherPIN: f.mother, FatherPIN: f.father,
			BirthplaceCommune: baDinh, BirthplaceDetail: "Bệnh viện Phụ sản Hà Nội", Reason: "Khai sinh đúng hạn"}
		bad := []struct {
			name string
			a    actor.Actor
			mod  func(*registry.BirthInput)
			code string
		}{
			{"impossible date", registrarBaDinh, func(b *registry.BirthInput) { b.BirthDate = "30/02/2026" }, "date.impossible"},
			{"future date", registrarBaDinh, func(b *registry.BirthInput) { b.BirthDate = "01/01/2027" }, "date.future"},
			{"year only", registrarBaDinh, func(b *registry.BirthInput) { b.BirthDate = "2026" }, "birth.date_incomplete"},
			{"no parent", registrarBaDinh, func(b *registry.BirthInput) { b.MotherPIN, b.FatherPIN = "", "" }, "birth.parent_required"},
			{"unknown mother", registrarBaDinh, func(b *registry.BirthInput) { b.MotherPIN = "001183999999" }, "birth.parent_mismatch"},
			{"unknown mother, national", admin, func(b *registry.BirthInput) { b.MotherPIN = "001183999999" }, "person.not_found"},
			{"father outside the unit is a woman", registrarBaDinh, func(b *registry.BirthInput) { b.FatherPIN = f.far }, "birth.parent_mismatch"},
			{"father outside the unit is a woman, national", admin, func(b *registry.BirthInput) { b.FatherPIN = f.far }, "birth.parent_sex"},
			{"malformed father", registrarBaDinh, func(b *registry.BirthInput) { b.FatherPIN = "12345" }, "pin.length"},
			{"mother is male", registrarBaDinh, func(b *registry.BirthInput) { b.MotherPIN, b.FatherPIN = f.father, "" }, "birth.parent_sex"},
			{"parent too young", registrarBaDinh, func(b *registry.BirthInput) { b.FatherPIN, b.MotherPIN = f.son, f.mother; b.BirthDate = "01/01/2019" }, "birth.parent_age"},
			{"digits in name", registrarBaDinh, func(b *registry.BirthInput) { b.FullName = "Mai 2" }, "name.invalid"},
			{"no name and bad sex", registrarBaDinh, func(b *registry.BirthInput) { b.FullName, b.Sex = "", "X" }, "name.required,sex.invalid"},
			{"unknown birthplace", registrarBaDinh, func(b *registry.BirthInput) { b.BirthplaceCommune = "99999" }, "unit.unknown_commune"},
			{"unknown household", registrarBaDinh, func(b *registry.BirthInput) { b.MotherPIN, b.FatherPIN, b.HouseholdID = "", "", "nope" }, "household.not_found"},
			{"household outside scope", registrarBaDinh, func(b *registry.BirthInput) { b.MotherPIN, b.FatherPIN = f.far, "" }, "out_of_scope"},
			{"leader may not register", leaderHN, func(b *registry.BirthInput) {}, "forbidden"},
		}
		before := counts(t, db)
		for _, tt := range bad {
			b := in
			tt.mod(&b)
			_, err := f.svc.RegisterBirth(ctx, tt.a, b)
			if got := code(err); got != tt.code {
				t.Errorf("%s: codes %q, want %q (%v)", tt.name, got, tt.code, err)
			}
		}
		if after := counts(t, db); after != before {
			t.Fatalf("refused births wrote something: %v -> %v", before, after)
		}

		child, err := f.svc.RegisterBirth(ctx, registrarBaDinh, in)
		if err != nil {
			t.Fatal(err)
		}
		id, err := pin.Parse(child.PIN)
		if err != nil || id.BirthYear() != 2026 || id.Sex() != pin.Female || id.Province() != "001" {
			t.Fatalf("child PIN %s: %v", child.PIN, err)
		}
		if child.FullName != "Nguyễn Thị Mai" || child.HouseholdID != f.household || child.Relation != registry.RelChild || child.Version != 1 ||
			child.Permanent.CommuneCode != baDinh || child.MotherPIN != f.mother || child.UpdatedBy != registrarBaDinh.ID {
			t.Fatalf("child = %+v", child)
		}
		h, _ := f.svc.Household(ctx, registrarBaDinh, f.household)
		if len(h.Members) != 4 {
			t.Fatalf("household has %d members", len(h.Members))
		}
		res, err := f.svc.Residences(ctx, registrarBaDinh, child.PIN)
		if err != nil || len(res) != 1 || res[0].From.String() != "2026-05-02" || res[0].EventID == "" {
			t.Fatalf("residences %+v %v", res, err)
		}
		evs, _ := f.svc.Events(ctx, registrarBaDinh, child.PIN)
		if len(evs) != 1 || evs[0].Kind != registry.EventBirth || evs[0].Registrar != registrarBaDinh.ID {
			t.Fatalf("events %+v", evs)
		}
		out, _ := db.PendingEvents(ctx, 10)
		if len(out) != 1 || out[0].Subject != registry.SubjectBorn || !strings.Contains(string(out[0].Payload), child.PIN) || strings.Contains(string(out[0].Payload), "Mai") {
			t.Fatalf("outbox %+v", out)
		}
		var n int
		db.R.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'person.birth' AND subject = $1`, "person:"+child.PIN).Scan(&n)
		if n != 1 {
			t.Fatal("birth not audited")
		}
	})
}

func TestDeathMoveNameChange(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := setup(t, db)
		before := counts(t, db)
		for _, tt := range []struct {
			name string
			a    actor.Actor
			in   registry.DeathInput
			code string
		}{
			{"new head not a member", registrarBaDinh, registry.DeathInput{PIN: f.father, DeathDate: "01/04/2026", NewHeadPIN: f.far}, "household.new_head_invalid"},
			{"before birth", registrarBaDinh, registry.DeathInput{PIN: f.son, DeathDate: "01/01/2000"}, "date.before_birth"},
			{"outside scope", registrarBaDinh, registry.DeathInput{PIN: f.far, DeathDate: "01/04/2026"}, "out_of_scope"},
			{"bad date", registrarBaDinh, registry.DeathInput{PIN: f.son, DeathDate: "hôm qua"}, "date.format"},
			{"bad pin", registrarBaDinh, registry.DeathInput{PIN: "abc", DeathDate: "01/04/2026"}, "pin.length"},
		} {
			if _, err := f.svc.RegisterDeath(ctx, tt.a, tt.in); code(err) != tt.code {
				t.Errorf("%s: %q (%v), want %q", tt.name, code(err), err, tt.code)
			}
		}
		if after := counts(t, db); after != before {
			t.Fatalf("refused deaths wrote something: %v -> %v", before, after)
		}
		// No new head named: the spouse becomes head (nextHead's rule).
		dead, err := f.svc.RegisterDeath(ctx, registrarBaDinh, registry.DeathInput{PIN: f.father, DeathDate: "01/04/2026", Reason: "Bệnh"})
		if err != nil || dead.Status != registry.Dead || dead.DeathDate.String() != "2026-04-01" || dead.Version != 2 {
			t.Fatalf("death: %+v %v", dead, err)
		}
		if _, err := f.svc.RegisterDeath(ctx, registrarBaDinh, registry.DeathInput{PIN: f.father, DeathDate: "02/04/2026"}); !errors.Is(err, registry.ErrAlreadyDead) {
			t.Fatalf("second death: %v", err)
		}
		h, _ := f.svc.Household(ctx, registrarBaDinh, f.household)
		if h.HeadPIN != f.mother || len(h.Members) != 2 || h.Members[0].PIN != f.mother || h.Members[0].Relation != registry.RelHead {
			t.Fatalf("head after death: %+v", h)
		}
		hist, err := f.svc.History(ctx, registrarBaDinh, f.father)
		if err != nil || len(hist) != 2 || hist[1].Person.Status != registry.Alive || hist[0].Person.Status != registry.Dead || hist[0].Reason != "Bệnh" {
			t.Fatalf("history after death: %+v %v", hist, err)
		}

		// The son moves to another commune of Hà Nội, registered by the province registrar.
		if _, err := f.svc.RegisterMove(ctx, registrarBaDinh, registry.MoveInput{PIN: f.son, Date: "03/05/2026", Commune: otherHN}); !errors.Is(err, fault.ErrOutOfScope) {
			t.Fatalf("commune registrar moved someone out of scope: %v", err)
		}
		if _, err := f.svc.RegisterMove(ctx, registrarHN, registry.MoveInput{PIN: f.son, Date: "03/05/2026", Commune: "12345"}); code(err) != "unit.unknown_commune" {
			t.Fatalf("unknown commune: %v", err)
		}
		moved, err := f.svc.RegisterMove(ctx, registrarHN, registry.MoveInput{PIN: f.son, Date: "03/05/2026", Commune: otherHN, Detail: "Ký túc xá", Reason: "Đi học"})
		if err != nil || moved.Permanent.CommuneCode != otherHN || moved.Relation != registry.RelHead || moved.HouseholdID == f.household {
			t.Fatalf("move: %+v %v", moved, err)
		}
		// The address left stays in the history, closed on the day of the move.
		res, _ := f.svc.Residences(ctx, registrarHN, f.son)
		if len(res) != 2 || res[0].Address.CommuneCode != otherHN || !res[0].To.IsZero() ||
			res[1].Address.CommuneCode != baDinh || res[1].To.String() != "2026-05-03" {
			t.Fatalf("residences after move: %+v", res)
		}
		if _, err := f.svc.Get(ctx, registrarBaDinh, f.son, "lookup"); !errors.Is(err, fault.ErrOutOfScope) {
			t.Fatalf("Ba Đình still sees the son after his move: %v", err)
		}
		if _, err := f.svc.RegisterMove(ctx, registrarHN, registry.MoveInput{PIN: f.father, Date: "03/05/2026", Commune: otherHN}); !errors.Is(err, registry.ErrDead) {
			t.Fatalf("dead person moved: %v", err)
		}

		renamed, err := f.svc.ChangeName(ctx, registrarBaDinh, registry.NameChangeInput{PIN: f.mother, FullName: "Trần Thị Hòa Bình", Date: "04/05/2026", Reason: "Quyết định thay đổi họ tên"})
		if err != nil || renamed.FullName != "Trần Thị Hòa Bình" || renamed.OtherNames != "Trần Thị Hoà" {
			t.Fatalf("rename: %+v %v", renamed, err)
		}
		page, _ := f.svc.Search(ctx, admin, registry.Query{Text: "tran thi hoa binh"})
		if len(page.Items) != 1 || page.Items[0].PIN != f.mother {
			t.Fatalf("renamed person not found by new name: %+v", page)
		}
		// Versions: loaded, made head, widowed (the marriage ended), renamed.
		hist, _ = f.svc.History(ctx, admin, f.mother)
		if len(hist) != 4 || hist[1].Person.FullName != "Trần Thị Hoà" || hist[0].By != registrarBaDinh.ID {
			t.Fatalf("rename history: %+v", hist)
		}
		out, _ := db.PendingEvents(ctx, 10)
		var subjects []string
		for _, e := range out {
			subjects = append(subjects, e.Subject)
		}
		if strings.Join(subjects, " ") != "dancu.person.died dancu.person.moved dancu.person.name_changed" {
			t.Fatalf("outbox subjects %v", subjects)
		}
	})
}

func TestConcurrentPINAllocation(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		f := setup(t, db)
		const workers, each = 16, 25
		var mu sync.Mutex
		seen := map[pin.PIN]bool{}
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					p, err := f.svc.AllocatePIN(context.Background(), "001", 1980, pin.Male)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if seen[p] {
						t.Errorf("PIN %s allocated twice", p)
					}
					seen[p] = true
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != workers*each {
			t.Fatalf("%d unique PINs, want %d", len(seen), workers*each)
		}
		// The loader's earlier allocation of the father is never handed out again.
		if seen[pin.PIN(f.father)] {
			t.Fatal("a PIN from the bulk load was allocated again")
		}
	})
}

func TestTemporaryResidence(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := setup(t, db)
		ok := registry.TemporaryInput{PIN: f.son, Commune: otherHN, Detail: "Ký túc xá B2", From: "01/09/2025", To: "31/05/2026", Reason: "Đi học"}
		before := counts(t, db)
		for _, tt := range []struct {
			name string
			a    actor.Actor
			mod  func(*registry.TemporaryInput)
			code string
		}{
			{"same commune as permanent", registrarHN, func(in *registry.TemporaryInput) { in.Commune = baDinh }, "temporary.same_commune"},
			{"longer than two years", registrarHN, func(in *registry.TemporaryInput) { in.To = "02/09/2027" }, "temporary.too_long"},
			{"ends before it starts", registrarHN, func(in *registry.TemporaryInput) { in.To = "01/08/2025" }, "temporary.order"},
			{"month only", registrarHN, func(in *registry.TemporaryInput) { in.From = "09/2025" }, "date.incomplete"},
			{"unknown commune", registrarHN, func(in *registry.TemporaryInput) { in.Commune = "00000" }, "unit.unknown_commune"},
			{"place outside scope", registrarBaDinh, func(in *registry.TemporaryInput) {}, "out_of_scope"},
			{"leader", leaderHN, func(in *registry.TemporaryInput) {}, "forbidden"},
		} {
			in := ok
			tt.mod(&in)
			if _, err := f.svc.RegisterTemporary(ctx, tt.a, in); code(err) != tt.code {
				t.Errorf("%s: %q (%v), want %q", tt.name, code(err), err, tt.code)
			}
		}
		if after := counts(t, db); after != before {
			t.Fatalf("refused registrations wrote something: %v -> %v", before, after)
		}
		p, err := f.svc.RegisterTemporary(ctx, registrarHN, ok)
		if err != nil || p.Temporary == nil || p.Temporary.CommuneCode != otherHN || p.Temporary.To.String() != "2026-05-31" || !strings.Contains(p.Temporary.Text, "Ngọc Hà") {
			t.Fatalf("temporary residence: %+v %v", p.Temporary, err)
		}
		if p.Permanent.CommuneCode != baDinh {
			t.Fatal("temporary residence changed the permanent one")
		}
		// The registrar of the place of stay now finds and reads the newcomer.
		registrarNgocHa := actor.Actor{ID: "staff:ngocha", Role: actor.Registrar, Unit: otherHN, Province: provHN}
		if _, err := f.svc.Get(ctx, registrarNgocHa, f.son, "lookup"); err != nil {
			t.Fatalf("registrar of the place of stay cannot read: %v", err)
		}
		page, err := f.svc.Search(ctx, registrarNgocHa, registry.Query{Text: "anh"})
		if err != nil || len(page.Items) != 1 || page.Items[0].PIN != f.son {
			t.Fatalf("registrar of the place of stay searches: %+v %v", page, err)
		}
		if _, err := f.svc.Get(ctx, registrarNgocHa, f.father, "lookup"); !errors.Is(err, fault.ErrOutOfScope) {
			t.Fatalf("the rest of the household became readable: %v", err)
		}
		res, _ := f.svc.Residences(ctx, registrarBaDinh, f.son)
		if len(res) != 2 || res[0].Kind != registry.Temporary || res[0].To.String() != "2026-05-31" || res[1].Kind != registry.Permanent || res[1].Address.CommuneCode != baDinh {
			t.Fatalf("residence history: %+v", res)
		}
	})
}
