package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// unknownPIN is well formed and names nobody.
const unknownPIN = "001183999999"

// deadOutside registers, as the administrator, a child of the HCM person
// and the child's death: a dead person outside Ba Đình.
func deadOutside(t *testing.T, f *fixture) string {
	t.Helper()
	ctx := context.Background()
	child, err := f.svc.RegisterBirth(ctx, admin, registry.BirthInput{FullName: "Lê Văn Tú", Sex: "M", BirthDate: "02/02/2020", MotherPIN: f.far})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RegisterDeath(ctx, admin, registry.DeathInput{PIN: child.PIN, DeathDate: "03/03/2021"}); err != nil {
		t.Fatal(err)
	}
	return child.PIN
}

// TestScopeRefusals: every registrar act and read, for a person in the
// registrar's unit, one outside it, one outside with a date before their
// birth or a date that is not a date, one outside who is dead, and a PIN
// that names nobody. Everything outside answers out_of_scope — the same
// answer, so nothing about the person is learnt — writes nothing and reads
// nothing (no audit entry of a read).
func TestScopeRefusals(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := setup(t, db)
		dead := deadOutside(t, f)
		reg := registrarBaDinh
		type subject struct{ name, pin, date, want string }
		// want "" is success; for reads and in-scope acts the answer of
		// the act's own rules.
		subjects := func(in, inWant string) []subject {
			return []subject{
				{"in scope", in, "01/04/2026", inWant},
				{"out of scope", f.far, "01/04/2026", "out_of_scope"},
				{"out of scope, date before birth", f.far, "01/01/1900", "out_of_scope"},
				{"out of scope, not a date", f.far, "hôm qua", "out_of_scope"},
				{"out of scope, dead", dead, "01/04/2026", "out_of_scope"},
				{"unknown PIN", unknownPIN, "01/04/2026", "out_of_scope"},
			}
		}
		acts := []struct {
			name   string
			in     string // the in-scope person
			inWant string
			run    func(pin, date string) error
		}{
			{"death", f.mother, "", func(pin, date string) error {
				_, err := f.svc.RegisterDeath(ctx, reg, registry.DeathInput{PIN: pin, DeathDate: date})
				return err
			}},
			{"name change", f.son, "", func(pin, date string) error {
				_, err := f.svc.ChangeName(ctx, reg, registry.NameChangeInput{PIN: pin, FullName: "Nguyễn Đức Minh", Date: date})
				return err
			}},
			{"move", f.son, "", func(pin, date string) error {
				_, err := f.svc.RegisterMove(ctx, reg, registry.MoveInput{PIN: pin, Date: date, Commune: baDinh, Detail: "Số 9 phố Đội Cấn"})
				return err
			}},
			{"temporary residence", f.son, "temporary.same_commune", func(pin, date string) error {
				_, err := f.svc.RegisterTemporary(ctx, reg, registry.TemporaryInput{PIN: pin, Commune: baDinh, From: date, To: "01/01/2027"})
				return err
			}},
			{"read person", f.father, "", func(pin, _ string) error {
				_, err := f.svc.Get(ctx, reg, pin, "lookup")
				return err
			}},
			{"read history", f.father, "", func(pin, _ string) error {
				_, err := f.svc.History(ctx, reg, pin)
				return err
			}},
			{"read residences", f.father, "", func(pin, _ string) error {
				_, err := f.svc.Residences(ctx, reg, pin)
				return err
			}},
			{"read events", f.father, "", func(pin, _ string) error {
				_, err := f.svc.Events(ctx, reg, pin)
				return err
			}},
			{"read core", f.father, "", func(pin, _ string) error {
				_, err := f.svc.ReadCoreUnaudited(ctx, reg, pin)
				return err
			}},
		}
		for _, act := range acts {
			for _, s := range subjects(act.in, act.inWant) {
				before := counts(t, db)
				err := act.run(s.pin, s.date)
				if got := code(err); (s.want == "" && err != nil) || (s.want != "" && got != s.want) {
					t.Errorf("%s, %s: %q (%v), want %q", act.name, s.name, got, err, s.want)
				}
				if s.want == "out_of_scope" && counts(t, db) != before {
					t.Errorf("%s, %s: the refusal wrote something", act.name, s.name)
				}
			}
		}
		// No read of a person outside was opened by any attempt.
		var reads int
		db.R.QueryRow(`SELECT count(*) FROM audit_log WHERE actor = $1 AND subject IN ($2, $3, $4)`, reg.ID, "person:"+f.far, "person:"+dead, "person:"+unknownPIN).Scan(&reads)
		if reads != 0 {
			t.Errorf("%d audit entries of the registrar about people outside the unit", reads)
		}
		// The household read follows the same rule.
		for _, tt := range []struct {
			a    actor.Actor
			id   string
			want string
		}{
			{reg, f.household, ""},
			{reg, "HH-HCM-1", "out_of_scope"},
			{reg, "HH-NOBODY", "out_of_scope"},
			{admin, "HH-NOBODY", "household.not_found"},
		} {
			if _, err := f.svc.Household(ctx, tt.a, tt.id); code(err) != tt.want && !(tt.want == "" && err == nil) {
				t.Errorf("household %s by %s: %v, want %q", tt.id, tt.a.ID, err, tt.want)
			}
		}
		// A national actor learns only that nobody has the PIN.
		if _, err := f.svc.Get(ctx, admin, unknownPIN, "lookup"); !errors.Is(err, registry.ErrPersonNotFound) {
			t.Errorf("admin reads an unknown PIN: %v", err)
		}
		// A malformed PIN names nobody; its fault is the PIN's own.
		if _, err := f.svc.RegisterDeath(ctx, reg, registry.DeathInput{PIN: "abc", DeathDate: "01/04/2026"}); code(err) != "pin.length" {
			t.Errorf("malformed PIN: %v", err)
		}
	})
}

// TestScopeUnitLengths: the search and a read filter by the actor's unit at
// every unit-code length; a unit code of a length the platform does not
// scope (a district's 3 digits, 4, 6) sees nobody rather than everybody.
func TestScopeUnitLengths(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := setup(t, db)
		all := []string{f.far, f.son, f.father, f.mother}
		hanoi := []string{f.son, f.father, f.mother}
		for _, tt := range []struct {
			unit string
			want []string
		}{
			{"", all},
			{provHN, hanoi},
			{provHCM, []string{f.far}},
			{baDinh, hanoi},
			{hcm, []string{f.far}},
			{otherHN, nil},
			{"001", nil}, // a district of the old map
			{"0", nil},
			{"0100", nil},
			{"000040", nil},
			{"ab", nil},
		} {
			a := actor.Actor{ID: "staff:u" + tt.unit, Role: actor.Leader, Unit: tt.unit}
			page, err := f.svc.Search(ctx, a, registry.Query{BirthDate: "1900", Text: ""})
			if err != nil {
				t.Fatal(err)
			}
			// Every person: search by each given name used.
			var got []string
			for _, q := range []string{"anh", "dat", "hoa"} {
				page, err = f.svc.Search(ctx, a, registry.Query{Text: q})
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range page.Items {
					got = append(got, it.PIN)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("unit %q searches: %v, want %v", tt.unit, got, tt.want)
			}
			for _, p := range all {
				_, err := f.svc.Get(ctx, a, p, "lookup")
				in := false
				for _, w := range tt.want {
					in = in || w == p
				}
				if in != (err == nil) || (!in && !errors.Is(err, fault.ErrOutOfScope)) {
					t.Errorf("unit %q reads %s: %v", tt.unit, p, err)
				}
			}
		}
	})
}

// TestArrivalEvidence: a registrar registers a person from outside the
// unit as arriving only on the citizen's own application, filed signed in
// with the e-ID, for that person, act and commune, used once. The act
// records the evidence; the person's history and the unit of origin's
// departures show the move.
func TestArrivalEvidence(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := setup(t, db)
		reg := registrarBaDinh
		citizen := actor.Actor{ID: "citizen:" + f.far, Role: actor.Role("citizen")}
		tempIn := registry.TemporaryInput{PIN: f.far, Commune: baDinh, Detail: "Nhà trọ số 3", From: "01/05/2026", To: "01/05/2027", Reason: "Đi làm"}

		// The application: only a citizen, for themselves, with a known kind and commune.
		for _, tt := range []struct {
			a    actor.Actor
			in   registry.ArrivalInput
			want string
		}{
			{reg, registry.ArrivalInput{Kind: registry.ArrivalTemporary, Commune: baDinh}, "arrival.not_citizen"},
			{actor.Actor{ID: "citizen:" + unknownPIN}, registry.ArrivalInput{Kind: registry.ArrivalTemporary, Commune: baDinh}, "arrival.not_citizen"},
			{citizen, registry.ArrivalInput{Kind: "birth", Commune: "99999"}, "arrival.kind,unit.unknown_commune"},
		} {
			if _, err := f.svc.FileArrival(ctx, tt.a, tt.in); code(err) != tt.want {
				t.Errorf("file %+v by %s: %v, want %q", tt.in, tt.a.ID, err, tt.want)
			}
		}
		forMove, err := f.svc.FileArrival(ctx, citizen, registry.ArrivalInput{Kind: registry.ArrivalMove, Commune: baDinh})
		if err != nil {
			t.Fatal(err)
		}
		forOther, err := f.svc.FileArrival(ctx, citizen, registry.ArrivalInput{Kind: registry.ArrivalTemporary, Commune: otherHN})
		if err != nil {
			t.Fatal(err)
		}
		sonApp, err := f.svc.FileArrival(ctx, actor.Actor{ID: "citizen:" + f.son}, registry.ArrivalInput{Kind: registry.ArrivalTemporary, Commune: baDinh})
		if err != nil {
			t.Fatal(err)
		}
		forTemp, err := f.svc.FileArrival(ctx, citizen, registry.ArrivalInput{Kind: registry.ArrivalTemporary, Commune: baDinh})
		if err != nil {
			t.Fatal(err)
		}
		before := counts(t, db)
		for _, tt := range []struct {
			name string
			ev   *registry.Arrival
			mod  func(*registry.TemporaryInput)
		}{
			{"no evidence", nil, nil},
			{"empty evidence", &registry.Arrival{}, nil},
			{"unknown application", &registry.Arrival{ApplicationID: "nope"}, nil},
			{"application for a move", &registry.Arrival{ApplicationID: forMove.ID}, nil},
			{"application for another commune", &registry.Arrival{ApplicationID: forOther.ID}, nil},
			{"another person's application", &registry.Arrival{ApplicationID: sonApp.ID}, nil},
			{"a card QR with no card register", &registry.Arrival{CardQR: f.far + "||Lê Thị Anh|01011990|Nữ|x|01012024"}, nil},
			{"a destination outside the unit", &registry.Arrival{ApplicationID: forOther.ID}, func(in *registry.TemporaryInput) { in.Commune = otherHN }},
		} {
			in := tempIn
			in.Arrival = tt.ev
			if tt.mod != nil {
				tt.mod(&in)
			}
			if _, err := f.svc.RegisterTemporary(ctx, reg, in); !errors.Is(err, fault.ErrOutOfScope) {
				t.Errorf("%s: %v, want out_of_scope", tt.name, err)
			}
		}
		if counts(t, db) != before {
			t.Fatal("a refused arrival wrote something")
		}
		// With the application, the rules of the act apply, then it is registered.
		in := tempIn
		in.Arrival = &registry.Arrival{ApplicationID: forTemp.ID}
		in.To = "01/05/2029"
		if _, err := f.svc.RegisterTemporary(ctx, reg, in); code(err) != "temporary.too_long" {
			t.Fatalf("too long a stay with evidence: %v", err)
		}
		in.To = tempIn.To
		p, err := f.svc.RegisterTemporary(ctx, reg, in)
		if err != nil || p.Temporary == nil || p.Temporary.CommuneCode != baDinh {
			t.Fatalf("temporary residence on the application: %+v %v", p.Temporary, err)
		}
		var detail string
		db.R.QueryRow(`SELECT detail FROM audit_log WHERE action = 'person.temporary_residence' AND subject = $1 AND actor = $2`, "person:"+f.far, reg.ID).Scan(&detail)
		if !strings.Contains(detail, "arrival=application:"+forTemp.ID) {
			t.Fatalf("the act's audit entry does not name its evidence: %q", detail)
		}
		evs, err := f.svc.Events(ctx, reg, f.far)
		if err != nil || len(evs) == 0 || evs[0].Evidence != "application:"+forTemp.ID {
			t.Fatalf("events: %+v %v", evs, err)
		}
		// Now staying in Ba Đình, the person is Ba Đình's to read.
		if _, err := f.svc.History(ctx, reg, f.far); err != nil {
			t.Fatalf("history after the arrival: %v", err)
		}
		// The province registers a stay elsewhere in Hà Nội; the person is no
		// longer Ba Đình's, and the used application does not serve again.
		if _, err := f.svc.RegisterTemporary(ctx, registrarHN, registry.TemporaryInput{PIN: f.far, Commune: otherHN, From: "03/05/2026", To: "01/05/2027"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RegisterTemporary(ctx, reg, in); !errors.Is(err, fault.ErrOutOfScope) {
			t.Fatalf("the application served twice: %v", err)
		}
		// The move in, on the move application.
		moved, err := f.svc.RegisterMove(ctx, reg, registry.MoveInput{PIN: f.far, Date: "04/05/2026", Commune: baDinh, Detail: "Số 1 Hoàng Diệu", Arrival: &registry.Arrival{ApplicationID: forMove.ID}})
		if err != nil || moved.Permanent.CommuneCode != baDinh {
			t.Fatalf("move in: %+v %v", moved, err)
		}
		// HCM no longer reads the person, but sees the departure.
		registrarHCM := actor.Actor{ID: "staff:hcm", Role: actor.Registrar, Unit: hcm, Province: provHCM}
		if _, err := f.svc.History(ctx, registrarHCM, f.far); !errors.Is(err, fault.ErrOutOfScope) {
			t.Fatalf("the unit left still reads the history: %v", err)
		}
		deps, err := f.svc.Departures(ctx, registrarHCM, 10)
		if err != nil || len(deps) != 1 || deps[0].PIN != f.far || deps[0].To.CommuneCode != baDinh || deps[0].From.CommuneCode != hcm || deps[0].Effective.String() != "2026-05-04" {
			t.Fatalf("departures seen by HCM: %+v %v", deps, err)
		}
		if deps, _ := f.svc.Departures(ctx, reg, 10); len(deps) != 0 {
			t.Fatalf("Ba Đình sees departures it did not have: %+v", deps)
		}
		hist, err := f.svc.History(ctx, reg, f.far)
		if err != nil || len(hist) < 3 || hist[0].Person.Permanent.CommuneCode != baDinh || hist[len(hist)-1].Person.Permanent.CommuneCode != hcm {
			t.Fatalf("history shows the move: %+v %v", hist, err)
		}
		out, _ := db.PendingEvents(ctx, 20)
		found := false
		for _, e := range out {
			found = found || e.Subject == registry.SubjectMoved && strings.Contains(string(e.Payload), `"from_commune_code":"`+hcm+`"`)
		}
		if !found {
			t.Fatal("the move's event does not name the commune left")
		}
	})
}

// TestArrivalTemporaryEnds: a temporary residence places the person in the
// unit until its last day, not after.
func TestArrivalTemporaryEnds(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := setup(t, db)
		registrarNgocHa := actor.Actor{ID: "staff:ngocha", Role: actor.Registrar, Unit: otherHN, Province: provHN}
		for _, tt := range []struct {
			from, to string
			in       bool
		}{
			{"01/05/2025", "04/05/2026", true}, // the last day is today
			{"01/05/2025", "03/05/2026", false},
		} {
			if _, err := f.svc.RegisterTemporary(ctx, registrarHN, registry.TemporaryInput{PIN: f.son, Commune: otherHN, From: tt.from, To: tt.to}); err != nil {
				t.Fatal(err)
			}
			_, err := f.svc.Get(ctx, registrarNgocHa, f.son, "lookup")
			if tt.in != (err == nil) {
				t.Errorf("stay until %s: read %v", tt.to, err)
			}
			page, _ := f.svc.Search(ctx, registrarNgocHa, registry.Query{Text: "anh"})
			if tt.in != (len(page.Items) == 1) {
				t.Errorf("stay until %s: search %+v", tt.to, page.Items)
			}
		}
	})
}

// TestCodedFields: a birth's ethnicity, religion and nationality must be
// in their catalogues; each wrong field has its own Vietnamese fault and
// nothing is written.
func TestCodedFields(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := setup(t, db)
		in := registry.BirthInput{FullName: "Nguyễn Thị Mai", Sex: "F", BirthDate: "02/05/2026", MotherPIN: f.mother}
		before := counts(t, db)
		for _, tt := range []struct {
			name                string
			eth, rel, nat, want string
		}{
			{"unknown ethnicity", "55", "", "", "ethnicity.invalid"},
			{"ethnicity as a name", "Kinh", "", "", "ethnicity.invalid"},
			{"invented religion", "", "Đạo Mới", "", "religion.invalid"},
			{"unknown nationality", "", "", "VNX", "nationality.invalid"},
			{"two-letter nationality", "", "", "VN", "nationality.invalid"},
			{"all three", "00", "x", "1", "ethnicity.invalid,religion.invalid,nationality.invalid"},
		} {
			b := in
			b.Ethnicity, b.Religion, b.Nationality = tt.eth, tt.rel, tt.nat
			_, err := f.svc.RegisterBirth(ctx, registrarBaDinh, b)
			if code(err) != tt.want {
				t.Errorf("%s: %q, want %q", tt.name, code(err), tt.want)
			}
			for _, fl := range fault.Faults(err) {
				if fl.Field == "" || fl.Message == "" || fl.Kind != fault.Invalid {
					t.Errorf("%s: fault without a field or a Vietnamese message: %+v", tt.name, fl)
				}
			}
		}
		if counts(t, db) != before {
			t.Fatal("a refused birth wrote something")
		}
		b := in
		b.Ethnicity, b.Religion, b.Nationality = "05", "phat giao hoa hao", "vnm"
		child, err := f.svc.RegisterBirth(ctx, registrarBaDinh, b)
		if err != nil || child.Ethnicity != "05" || child.Religion != "Phật giáo Hòa Hảo" || child.Nationality != "VNM" {
			t.Fatalf("birth with valid codes: %+v %v", child, err)
		}
		if len(registry.Ethnicities()) != 54 || len(registry.Religions()) != 16 {
			t.Fatal("catalogue sizes")
		}
	})
}
