package bundle_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/bundle"
	"github.com/dancu-project/dancu/internal/bundle/partnersim"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// certificate is a small PNG standing for the hospital's birth
// certificate (the services module checks uploads by content).
func certificate(t testing.TB) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// partners bootstraps the sample partners and runs a simulator for each
// of the two agencies the bundles send steps to, registered through the
// partner API like a real partner would.
func partners(t testing.TB, env *apptest.Env, delay time.Duration, refuse, duplicate float64) map[string]*partnersim.Simulator {
	t.Helper()
	ctx := context.Background()
	creds, err := env.App.BootstrapPartners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sims := map[string]*partnersim.Simulator{}
	for _, c := range creds {
		if c.PartnerID != bundle.PartnerInsurance && c.PartnerID != bundle.PartnerLabour {
			continue
		}
		sim := partnersim.New(partnersim.Config{Server: env.Server.URL, ClientID: c.ClientID, Secret: c.Secret, Delay: delay,
			RefuseRate: refuse, DuplicateRate: duplicate, Seed: 42})
		srv := httptest.NewServer(sim)
		t.Cleanup(func() { sim.Close(); srv.Close() })
		if err := sim.Discover(ctx); err != nil {
			t.Fatal(err)
		}
		if err := sim.Register(ctx, srv.URL+"/steps"); err != nil {
			t.Fatal(err)
		}
		sims[c.PartnerID] = sim
	}
	if len(sims) != 2 {
		t.Fatalf("simulated partners %v, want bhxh and ldtbxh", sims)
	}
	return sims
}

// mothers are women of 22 to 40 with a household and no child born in
// the last year, who can have a child registered today.
func mothers(t testing.TB, env *apptest.Env, n int) []string {
	t.Helper()
	now := time.Now()
	rows, err := env.App.DB.R.Query(`SELECT m.pin FROM persons m WHERE m.status = 'alive' AND m.sex = 'F' AND m.household_id != ''
		AND m.birth_date BETWEEN $1 AND $2 AND NOT EXISTS (SELECT 1 FROM persons c WHERE c.mother_pin = m.pin AND c.birth_date > $3) ORDER BY m.pin LIMIT $4`,
		fmt.Sprintf("%d-01-01", now.Year()-40), fmt.Sprintf("%d-12-31", now.Year()-22), fmt.Sprintf("%d-01-01", now.Year()-1), n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		rows.Scan(&p)
		out = append(out, p)
	}
	if len(out) < n {
		t.Fatalf("only %d mothers", len(out))
	}
	return out
}

// settle waits until every bundle has ended.
func settle(t testing.TB, s *bundle.Service, want int, within time.Duration) map[string]int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		counts, twice, err := s.Counts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if twice != 0 {
			t.Fatalf("%d steps done twice", twice)
		}
		ended := counts[bundle.Completed] + counts[bundle.Partly] + counts[bundle.Rejected]
		if ended == want {
			return counts
		}
		if time.Now().After(deadline) {
			t.Fatalf("bundles not ended after %s: %v (want %d ended)", within, counts, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBirthBundle on SQLite and PostgreSQL: parents file birth bundles
// online; the insurance simulator refuses some steps and answers some
// twice. Every bundle ends in a defined state with no step done twice:
// the child has a PIN, a household and residence in the register (the
// civil status dossier returned with its signed result), and the card
// number as its bhxh sector identifier when the partner accepted; a
// refused card leaves the birth and the residence standing and tells the
// parents what to do next. A form with bad fields stores nothing and
// answers each field in Vietnamese; a bundle filed twice with one key is
// one bundle.
func TestBirthBundle(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			env := apptest.Start(t, d, 300)
			sims := partners(t, env, 50*time.Millisecond, 0.3, 0.4)
			s := env.App.Bundles
			ms := mothers(t, env, 8)
			cert := certificate(t)

			// Bad input: every field answered, nothing written.
			_, err := s.FileBirth(ctx, bundle.Filer{PIN: ms[0], Level: 2}, bundle.BirthForm{Relation: "aunt", ChildName: "", ChildBirthDate: "31/02/2026",
				ChildSex: "X", Birthplace: "", IdempotencyKey: "bad-input-1"})
			if err == nil {
				t.Fatal("a bad form was filed")
			}
			for _, field := range []string{"relation", "child_name", "child_birth_date", "child_sex", "birthplace", "birth_certificate"} {
				if !bytes.Contains([]byte(err.Error()), []byte(field)) {
					t.Errorf("no fault on %s: %v", field, err)
				}
			}
			if _, err := s.FileBirth(ctx, bundle.Filer{PIN: ms[0], Level: 1}, bundle.BirthForm{}); err != bundle.ErrLevel {
				t.Errorf("level 1 filed: %v", err)
			}
			// A desk officer of another commune cannot file for her.
			elsewhere := actor.Actor{ID: "staff:desk.elsewhere", Role: actor.Desk, Province: "96", Unit: "32248"}
			if _, err := s.FileBirth(ctx, bundle.Filer{PIN: ms[0], Level: 2, Desk: &elsewhere}, bundle.BirthForm{IdempotencyKey: "desk-elsewhere"}); err == nil ||
				!bytes.Contains([]byte(err.Error()), []byte("out_of_scope")) {
				t.Errorf("a desk elsewhere filed: %v", err)
			}
			if mine, _ := s.Mine(ctx, ms[0]); len(mine) != 0 {
				t.Fatalf("a refused form left %d bundles", len(mine))
			}

			var codes []string
			for i, m := range ms {
				in := bundle.BirthForm{Relation: "mother", ChildName: "Nguyễn Thị " + givenNames[i%len(givenNames)], ChildBirthDate: daysAgo(3).Display(), ChildSex: "F",
					Birthplace: "Bệnh viện Phụ sản Hà Nội", Certificate: cert, CertificateName: "giay-chung-sinh.png", IdempotencyKey: fmt.Sprintf("birth-key-%02d", i)}
				b, err := s.FileBirth(ctx, bundle.Filer{PIN: m, Level: 2}, in)
				if err != nil {
					t.Fatalf("file birth %d: %v", i, err)
				}
				again, err := s.FileBirth(ctx, bundle.Filer{PIN: m, Level: 2}, in)
				if err != nil || again.Code != b.Code {
					t.Fatalf("the same key filed %s then %s (%v)", b.Code, again.Code, err)
				}
				if b.Dossier == "" || len(b.Steps) != 3 || b.Steps[0].Due == "" {
					t.Fatalf("bundle %+v", b)
				}
				codes = append(codes, b.Code)
			}
			counts := settle(t, s, len(ms), 60*time.Second)
			if counts[bundle.Completed] == 0 || counts[bundle.Partly] == 0 {
				t.Errorf("outcomes %v: want some completed and some with the card refused (refuse rate 0.3)", counts)
			}
			sims[bundle.PartnerInsurance].Wait()
			if sims[bundle.PartnerInsurance].Duplicated.Load() == 0 {
				t.Error("the simulator sent no answer twice")
			}
			for i, code := range codes {
				b, err := s.Get(ctx, ms[i], code)
				if err != nil {
					t.Fatal(err)
				}
				child, err := env.App.Registry.Get(ctx, actor.SystemActor("test"), b.SubjectPIN, "test")
				if err != nil {
					t.Fatalf("bundle %s: child %q: %v", code, b.SubjectPIN, err)
				}
				if child.MotherPIN != ms[i] || child.HouseholdID == "" || child.Permanent.CommuneCode == "" {
					t.Errorf("child %+v", child)
				}
				ids, err := env.App.Partners.SectorIDs(ctx, child.PIN)
				if err != nil {
					t.Fatal(err)
				}
				card := ""
				for _, id := range ids {
					if id.Scheme == bundle.SchemeInsurance {
						card = id.Value
					}
				}
				ins, _ := b.Step(bundle.StepInsurance)
				switch b.Status {
				case bundle.Completed:
					if card != "TE1"+child.PIN || ins.Status != bundle.Done {
						t.Errorf("completed bundle %s: card %q, step %+v", code, card, ins)
					}
				case bundle.Partly:
					if card != "" || ins.Status != bundle.Refused || b.Advice == "" {
						t.Errorf("refused card in %s: card %q, step %+v, advice %q", code, card, ins, b.Advice)
					}
					if st, _ := b.Step(bundle.StepBirth); st.Status != bundle.Done {
						t.Errorf("a refused card undid the birth: %+v", st)
					}
				default:
					t.Errorf("bundle %s ended %s", code, b.Status)
				}
				for _, st := range b.Steps {
					if st.DoneCount > 1 {
						t.Errorf("%s %s done %d times", code, st.Step, st.DoneCount)
					}
				}
				dossier, err := env.App.Services.ReceiptOf(ctx, servicesFiler(ms[i]), b.Dossier)
				if err != nil || dossier.Status != "returned" || dossier.Result == "" {
					t.Errorf("civil status dossier %s: %s %q %v", b.Dossier, dossier.Status, dossier.Result, err)
				}
			}
			// Another citizen does not see the bundle.
			if _, err := s.Get(ctx, ms[1], codes[0]); err != bundle.ErrNotFound {
				t.Errorf("another's bundle: %v", err)
			}
			// A partner answering a step not sent to it learns nothing.
			bank, _ := env.App.Partners.Partner(ctx, "nganhang-a")
			if _, err := s.Answer(ctx, bank, codes[0], bundle.StepInsurance, bundle.Answer{Outcome: bundle.Accepted, Value: "TE1000000000000"}); err != bundle.ErrStep {
				t.Errorf("another partner's answer: %v", err)
			}
			var _ exchange.Partner = bank
		})
	}
}

// TestDeathBundleAndOffer on SQLite and PostgreSQL: a spouse files the
// death bundle within 15 days (the death is registered, residence and
// household follow, the labour agency's simulator answers the funeral
// allowance); a death registered at the desk makes the spouse's offer,
// pre-filled, which the spouse confirms in one step, and the bundle runs
// with the register's death as its first step; an offer is made once per
// person and a second confirmation answers the same bundle.
func TestDeathBundleAndOffer(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			env := apptest.Start(t, d, 300)
			partners(t, env, 20*time.Millisecond, 0, 0.5)
			s := env.App.Bundles
			couples := spouses(t, env, 2)

			// Too late: 20 days after the death.
			if _, err := s.FileDeath(ctx, bundle.Filer{PIN: couples[0][1], Level: 2}, bundle.DeathForm{DeceasedPIN: couples[0][0], DeathDate: daysAgo(20).Display(),
				DeathPlace: "Tại nhà", Cause: "Bệnh già", Relation: "vợ", Notice: certificate(t), IdempotencyKey: "death-late-1"}); err == nil ||
				!bytes.Contains([]byte(err.Error()), []byte("bundle.window")) {
				t.Fatalf("a death 20 days ago: %v", err)
			}
			b, err := s.FileDeath(ctx, bundle.Filer{PIN: couples[0][1], Level: 2}, bundle.DeathForm{DeceasedPIN: couples[0][0], DeathDate: daysAgo(2).Display(),
				DeathPlace: "Tại nhà", Cause: "Bệnh già", Relation: "vợ", Notice: certificate(t), IdempotencyKey: "death-key-1"})
			if err != nil {
				t.Fatal(err)
			}
			settle(t, s, 1, 30*time.Second)
			b, _ = s.Get(ctx, couples[0][1], b.Code)
			if b.Status != bundle.Completed {
				t.Fatalf("death bundle %s: %+v", b.Status, b.Steps)
			}
			dead, _ := env.App.Registry.Get(ctx, actor.SystemActor("test"), couples[0][0], "test")
			if dead.Status != registry.Dead || dead.HouseholdID != "" {
				t.Errorf("deceased %s household %q", dead.Status, dead.HouseholdID)
			}
			// The bundle's own death makes no offer.
			if os, _ := s.Offers(ctx, couples[0][1]); len(os) != 0 {
				t.Errorf("offers after the bundle's death: %+v", os)
			}

			// The desk registers a death: the spouse is offered the bundle.
			registrar := actor.Actor{ID: "staff:test", Role: actor.Registrar}
			if _, err := env.App.Registry.RegisterDeath(ctx, registrar, registry.DeathInput{PIN: couples[1][0], DeathDate: daysAgo(1).String(), Reason: "Đăng ký tại bộ phận một cửa"}); err != nil {
				t.Fatal(err)
			}
			var offer bundle.Offer
			deadline := time.Now().Add(20 * time.Second)
			for offer.ID == "" && time.Now().Before(deadline) {
				os, err := s.Offers(ctx, couples[1][1])
				if err != nil {
					t.Fatal(err)
				}
				if len(os) > 0 {
					offer = os[0]
				}
				time.Sleep(100 * time.Millisecond)
			}
			if offer.ID == "" || offer.Kind != bundle.Death || offer.Role != "spouse" || offer.Prefill["deceased_pin"] != couples[1][0] ||
				offer.Expires != civildate.Of(daysAgo(1).Time().AddDate(0, 0, 15)).String() {
				t.Fatalf("offer %+v", offer)
			}
			if _, err := s.Confirm(ctx, bundle.Filer{PIN: couples[0][1], Level: 2}, offer.ID); err != bundle.ErrOffer {
				t.Errorf("another citizen confirmed the offer: %v", err)
			}
			cb, err := s.Confirm(ctx, bundle.Filer{PIN: couples[1][1], Level: 2}, offer.ID)
			if err != nil {
				t.Fatal(err)
			}
			again, err := s.Confirm(ctx, bundle.Filer{PIN: couples[1][1], Level: 2}, offer.ID)
			if err != nil || again.Code != cb.Code {
				t.Fatalf("second confirmation: %v %s", err, again.Code)
			}
			settle(t, s, 2, 30*time.Second)
			cb, _ = s.Get(ctx, couples[1][1], cb.Code)
			if cb.Status != bundle.Completed {
				t.Fatalf("offered bundle %s %+v", cb.Status, cb.Steps)
			}
			if st, _ := cb.Step(bundle.StepFuneral); st.Result == "" {
				t.Errorf("funeral step %+v", st)
			}
			if os, _ := s.Offers(ctx, couples[1][1]); len(os) != 0 {
				t.Errorf("offer still open after confirmation: %+v", os)
			}
		})
	}
}

// spouses are married couples, both alive: [deceased-to-be, survivor].
func spouses(t testing.TB, env *apptest.Env, n int) [][2]string {
	t.Helper()
	rows, err := env.App.DB.R.Query(`SELECT a.pin, a.spouse_pin FROM persons a JOIN persons b ON b.pin = a.spouse_pin
		WHERE a.status = 'alive' AND b.status = 'alive' AND a.sex = 'M' AND a.household_id != '' ORDER BY a.pin LIMIT $1`, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var c [2]string
		rows.Scan(&c[0], &c[1])
		out = append(out, c)
	}
	if len(out) < n {
		t.Fatalf("only %d couples", len(out))
	}
	return out
}

func daysAgo(n int) civildate.Date { return civildate.Of(time.Now().AddDate(0, 0, -n)) }

func servicesFiler(pin string) services.Filer { return services.Filer{PIN: pin, Level: 2} }

var givenNames = []string{"An", "Bình", "Chi", "Dung", "Giang", "Hà", "Lan", "Mai", "Ngọc", "Phương", "Quỳnh", "Trang"}
