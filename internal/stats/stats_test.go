package stats_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/stats"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

type person struct{ pin, commune, province, sex, birth string }

// pick returns living people matching where (on persons), in PIN order.
func pick(t *testing.T, env *apptest.Env, where string, args ...any) []person {
	t.Helper()
	rows, err := env.App.DB.R.Query(`SELECT pin, perm_commune, perm_province, sex, birth_date FROM persons WHERE status = 'alive' AND `+where+` ORDER BY pin LIMIT 5`, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []person
	for rows.Next() {
		var p person
		if err := rows.Scan(&p.pin, &p.commune, &p.province, &p.sex, &p.birth); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		t.Fatalf("nobody alive with %s", where)
	}
	return out
}

func unit(t *testing.T, s *stats.Service, code string) stats.Figures {
	t.Helper()
	f, _, err := s.Unit(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// waitFor polls until ok holds of the unit's figures, at most 10 s, and
// returns how long it took.
func waitFor(t *testing.T, s *stats.Service, code, what string, ok func(stats.Figures) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		f := unit(t, s, code)
		if ok(f) {
			return time.Since(start)
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%s: %s not seen after 10 s: %+v", code, what, f)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStatsFollowEvents: on a seeded register the counters equal the
// register's living people; a death, a move, a birth and a card issued
// change the right units' counts within 10 s; a replayed event changes
// nothing; a rebuild from the register equals the incremental counts.
func TestStatsFollowEvents(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			env := apptest.Start(t, d, 300)
			s := env.App.Stats
			sys := actor.SystemActor("stats-test")

			living := 0
			if err := registry.ScanPersons(ctx, env.App.DB, false, func(r *registry.PersonRow) error {
				if !r.Dead() {
					living++
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			nation, provinces, err := s.Unit(ctx, stats.Nation)
			if err != nil {
				t.Fatal(err)
			}
			if nation.Living != int64(living) || nation.Male+nation.Female != nation.Living {
				t.Fatalf("nation: %d living (%d men, %d women), register %d", nation.Living, nation.Male, nation.Female, living)
			}
			var sum int64
			for _, p := range provinces {
				if p.Name == "" || p.Name == p.Code {
					t.Errorf("province %s has no name", p.Code)
				}
				sum += p.Living
			}
			if sum != nation.Living || len(provinces) != 34 {
				t.Fatalf("%d provinces sum to %d, nation %d", len(provinces), sum, nation.Living)
			}

			// A death: the commune, its province and the nation lose one.
			dies := pick(t, env, `perm_province = '01'`)[0]
			before := unit(t, s, dies.commune)
			beforeProv := unit(t, s, dies.province)
			if _, err := env.App.Registry.RegisterDeath(ctx, sys, registry.DeathInput{PIN: dies.pin, DeathDate: time.Now().AddDate(0, 0, -1).Format(time.DateOnly), Reason: "Bệnh"}); err != nil {
				t.Fatal(err)
			}
			lag := waitFor(t, s, dies.commune, "death", func(f stats.Figures) bool { return f.Living == before.Living-1 && f.Died == before.Died+1 })
			t.Logf("death counted after %v", lag)
			if p := unit(t, s, dies.province); p.Living != beforeProv.Living-1 || p.Died != beforeProv.Died+1 {
				t.Errorf("province after the death: %+v, before %+v", p, beforeProv)
			}

			// A move from a commune of another province into Hà Nội.
			mover := pick(t, env, `perm_province <> '01' AND perm_commune <> $1`, dies.commune)[0]
			from, to := unit(t, s, mover.commune), unit(t, s, dies.commune)
			if _, err := env.App.Registry.RegisterMove(ctx, sys, registry.MoveInput{PIN: mover.pin, Date: time.Now().Format("02/01/2006"), Commune: dies.commune,
				Detail: "Số 1 phố Thử", Reason: "Chuyển đến"}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, s, dies.commune, "move in", func(f stats.Figures) bool { return f.Living == to.Living+1 && f.MovedIn == to.MovedIn+1 })
			waitFor(t, s, mover.commune, "move out", func(f stats.Figures) bool { return f.Living == from.Living-1 && f.MovedOut == from.MovedOut+1 })

			// A card issued to a Hà Nội adult without one.
			holder := pick(t, env, `perm_commune = $1 AND birth_date < '2000' AND length(birth_date) = 10 AND pin NOT IN (SELECT pin FROM cards)`, dies.commune)[0]
			before = unit(t, s, dies.commune)
			reg := actor.Actor{ID: "staff:test.cards", Role: actor.Registrar}
			c, err := env.App.Cards.Apply(ctx, reg, holder.pin)
			if err != nil {
				t.Fatal(err)
			}
			for _, step := range []func(context.Context, actor.Actor, string) (cardservice.Card, error){env.App.Cards.Approve, env.App.Cards.Produce, env.App.Cards.HandOver} {
				if c, err = step(ctx, reg, c.Serial); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, s, dies.commune, "card", func(f stats.Figures) bool { return f.Carded14 == before.Carded14+1 && f.Aged14 == before.Aged14 })
			// Reported lost: the holder no longer counts as covered (the card
			// service publishes dancu.card.revoked; a hand-over keeps the card
			// valid, so coverage does not move with it).
			if _, err := env.App.Cards.ReportLost(ctx, reg, c.Serial); err != nil {
				t.Fatal(err)
			}
			waitFor(t, s, dies.commune, "card lost", func(f stats.Figures) bool { return f.Carded14 == before.Carded14 && f.Aged14 == before.Aged14 })

			// An e-ID account activated at level 2 at the desk.
			before = unit(t, s, dies.commune)
			if _, err := env.App.EID.Activate(ctx, reg, holder.pin); err != nil {
				t.Fatal(err)
			}
			waitFor(t, s, dies.commune, "e-ID level 2", func(f stats.Figures) bool { return f.EID2 == before.EID2+1 && f.EID1 == before.EID1 })
			if p := unit(t, s, dies.province); p.EID2 < 1 {
				t.Errorf("province: %d level-2 activations", p.EID2)
			}

			// A birth to a Hà Nội mother.
			mother := pick(t, env, `perm_province = '01' AND sex = 'F' AND birth_date BETWEEN '1985' AND '2004' AND length(birth_date) = 10 AND pin <> $1`, holder.pin)[0]
			before = unit(t, s, mother.commune)
			if _, err := env.App.Registry.RegisterBirth(ctx, sys, registry.BirthInput{FullName: "Nguyễn Thị An", Sex: "F", BirthDate: time.Now().AddDate(0, 0, -2).Format("02/01/2006"),
				MotherPIN: mother.pin, BirthplaceCommune: mother.commune, BirthplaceDetail: "Bệnh viện", Reason: "Khai sinh đúng hạn"}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, s, mother.commune, "birth", func(f stats.Figures) bool {
				return f.Living == before.Living+1 && f.Born == before.Born+1 && f.Bands[0].Female == before.Bands[0].Female+1
			})

			// A replayed event changes nothing.
			body, _ := json.Marshal(events.LifeEvent{EventID: "replay", Kind: "death", PIN: dies.pin, Effective: time.Now().Format(time.DateOnly), Province: dies.province, Commune: dies.commune, Recorded: time.Now()})
			msg := events.Msg{Subject: events.PersonDied.String(), ID: "replay-1", Data: body}
			if err := s.HandlePersons(ctx, []events.Msg{msg}); err != nil {
				t.Fatal(err)
			}
			once := unit(t, s, dies.commune)
			for range 3 {
				if err := s.HandlePersons(ctx, []events.Msg{msg}); err != nil {
					t.Fatal(err)
				}
			}
			if again := unit(t, s, dies.commune); !reflect.DeepEqual(once, again) {
				t.Errorf("replay changed the figures: %+v, then %+v", once, again)
			}

			// The monthly trend adds up to the 12 months' figures, at every level.
			for _, code := range []string{dies.commune, dies.province, stats.Nation} {
				months, err := s.Trend(ctx, code)
				if err != nil {
					t.Fatal(err)
				}
				f := unit(t, s, code)
				var m stats.Month
				for _, x := range months {
					m.Born, m.Died, m.MovedIn, m.MovedOut = m.Born+x.Born, m.Died+x.Died, m.MovedIn+x.MovedIn, m.MovedOut+x.MovedOut
				}
				if len(months) != 12 || m.Born != f.Born || m.Died != f.Died || m.MovedIn != f.MovedIn || m.MovedOut != f.MovedOut || f.Died == 0 {
					t.Errorf("%s: trend %+v, figures %+v", code, m, f)
				}
			}

			// A rebuild equals the incremental counts, everywhere.
			incNation, incProvinces, err := s.Unit(ctx, stats.Nation)
			if err != nil {
				t.Fatal(err)
			}
			_, incCommunes, err := s.Unit(ctx, "01")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Rebuild(ctx); err != nil {
				t.Fatal(err)
			}
			rebNation, rebProvinces, _ := s.Unit(ctx, stats.Nation)
			_, rebCommunes, _ := s.Unit(ctx, "01")
			if !reflect.DeepEqual(incNation, rebNation) || !reflect.DeepEqual(incProvinces, rebProvinces) || !reflect.DeepEqual(incCommunes, rebCommunes) {
				t.Errorf("rebuild differs: nation %+v, rebuilt %+v", incNation, rebNation)
			}
		})
	}
}

// TestUnknownUnit: a code naming no unit is ErrUnknownUnit.
func TestUnknownUnit(t *testing.T) {
	env := apptest.Start(t, storagetest.Dialects()[0], 0)
	for _, code := range []string{"99", "xyz", "00000"} {
		if _, _, err := env.App.Stats.Unit(context.Background(), code); err != stats.ErrUnknownUnit {
			t.Errorf("%q: %v", code, err)
		}
	}
}
