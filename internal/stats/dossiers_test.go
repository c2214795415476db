package stats_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/stats"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/workday"
)

// servicesAt is the services module over env's platform with its clock at
// at: a dossier filed through it is received then, so its legal time runs
// from then (a dossier filed days ago, for an overdue one).
func servicesAt(t *testing.T, env *apptest.Env, at time.Time) *services.Service {
	t.Helper()
	cal, err := workday.Default()
	if err != nil {
		t.Fatal(err)
	}
	s, err := services.New(services.Deps{DB: env.App.DB, Catalogue: env.App.Services.Catalogue(), Register: env.App.Registry, Documents: env.App.Documents,
		Results: env.App.Results, Calendar: cal, Units: env.App.Units, Audit: env.App.Audit, Secret: []byte("stats test check codes 0123456789"),
		Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// file files CC.XN.01 (3 working days, no fee, no documents) for filer.
func file(t *testing.T, s *services.Service, filer, key string) services.Receipt {
	t.Helper()
	rc, err := s.Submit(context.Background(), services.Filer{PIN: filer, Level: 2}, services.SubmitRequest{Procedure: "CC.XN.01",
		Form: map[string]string{"old_id": "012345678"}, IdempotencyKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// receivedDueSoon is an instant in the last days at which a dossier of
// legal working days received then is due today or on the next working
// day: inside the early warning, not overdue.
func receivedDueSoon(t *testing.T, legal int) time.Time {
	t.Helper()
	cal, _ := workday.Default()
	now := time.Now()
	today := civildate.Today(now)
	for k := 1; k < 30; k++ {
		d := civildate.Of(now.AddDate(0, 0, -k))
		at := time.Date(d.Year, time.Month(d.Month), d.Day, 9, 0, 0, 0, civildate.Location())
		c, err := cal.Start(at, legal)
		if err != nil {
			t.Fatal(err)
		}
		if c.Due.Time().Before(today.Time()) {
			break
		}
		if n, _ := cal.WorkingDaysBetween(today, c.Due); n <= workday.DefaultWarning().Days {
			return at
		}
	}
	t.Fatal("no day found")
	return time.Time{}
}

func dossiersOf(t *testing.T, s *stats.Service, code string) stats.UnitDossiers {
	t.Helper()
	u, _, err := s.DossierFigures(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func waitDossiers(t *testing.T, s *stats.Service, code, what string, ok func(stats.Dossiers) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		u := dossiersOf(t, s, code)
		if ok(u.Dossiers) {
			return time.Since(start)
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%s: %s not seen after 10 s: %+v", code, what, u.Dossiers)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func indicator(x stats.Index, id string) stats.Indicator {
	for _, g := range x.Groups {
		for _, i := range g.Indicators {
			if i.ID == id {
				return i
			}
		}
	}
	return stats.Indicator{}
}

// TestDossierIndicators: dossiers filed and decided through the services
// module move their commune's, province's and nation's counts within
// seconds; an overdue dossier counts against the on-time indicator, is in
// the what-if list with the points it would give, and, finished late,
// lowers the index; a dossier due tomorrow is in the early warning; a
// rating moves satisfaction; a replay changes nothing; a rebuild of the
// counters equals them; peers rank the commune among its province's.
func TestDossierIndicators(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			env := apptest.Start(t, d, 200)
			s := env.App.Stats
			filer := pick(t, env, `perm_province = '01' AND birth_date < '2000' AND length(birth_date) = 10`)[0]
			commune, province := filer.commune, filer.province
			officer := actor.Actor{ID: "staff:test.desk", Role: actor.Desk, Unit: commune, Province: province}
			now := time.Now()

			// On time: filed now and approved at once, then returned.
			onTime := file(t, env.App.Services, filer.pin, "stats-on-time-1")
			if _, err := env.App.Services.Act(ctx, officer, onTime.Code, services.ActApprove, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := env.App.Services.Act(ctx, officer, onTime.Code, services.ActReturn, ""); err != nil {
				t.Fatal(err)
			}
			lag := waitDossiers(t, s, commune, "an on-time dossier", func(x stats.Dossiers) bool {
				return x.Filed == 1 && x.Finished == 1 && x.OnTime == 1 && x.Returned == 1 && x.FullOnline == 1
			})
			t.Logf("dossier counted after %v", lag)
			first := dossiersOf(t, s, commune)
			if first.Index.Score != 100 || !first.Index.Measured {
				t.Errorf("one dossier on time, online, returned: index %+v", first.Index)
			}

			// Overdue: received 20 days ago, still open.
			late := file(t, servicesAt(t, env, now.AddDate(0, 0, -20)), filer.pin, "stats-late-0001")
			waitDossiers(t, s, commune, "an overdue dossier", func(x stats.Dossiers) bool { return x.Filed == 2 && x.Overdue == 1 })
			open := dossiersOf(t, s, commune)
			if p := indicator(open.Index, "progress.on_time"); p.Num != 1 || p.Den != 2 || p.Points != 10 {
				t.Errorf("on-time indicator with one overdue: %+v", p)
			}
			if open.Index.Score >= first.Index.Score {
				t.Errorf("an overdue dossier left the index at %v (was %v)", open.Index.Score, first.Index.Score)
			}
			list, all, err := s.WhatIf(ctx, commune)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].Code != late.Code || list[0].Left >= 0 || list[0].Gain <= 0 || all != list[0].Gain {
				t.Fatalf("what-if: %+v, all %v", list, all)
			}
			if got := open.Index.Score + list[0].Gain; got != 100 {
				t.Errorf("what-if: %v + %v should reach 100", open.Index.Score, list[0].Gain)
			}
			if prov := dossiersOf(t, s, province); prov.Dossiers.Overdue != 1 || prov.Dossiers.Filed != 2 {
				t.Errorf("province: %+v", prov.Dossiers)
			}
			if nation := dossiersOf(t, s, stats.Nation); nation.Dossiers.Overdue != 1 || nation.Dossiers.Filed != 2 {
				t.Errorf("nation: %+v", nation.Dossiers)
			}

			// Due soon: in the early warning, not overdue.
			soon := file(t, servicesAt(t, env, receivedDueSoon(t, 3)), filer.pin, "stats-soon-0001")
			waitDossiers(t, s, commune, "a dossier due soon", func(x stats.Dossiers) bool { return x.Filed == 3 && x.DueSoon == 1 })
			warn, err := s.EarlyWarning(ctx, commune)
			if err != nil {
				t.Fatal(err)
			}
			if len(warn) != 1 || warn[0].Code != soon.Code || warn[0].Left < 0 {
				t.Errorf("early warning: %+v", warn)
			}

			// The overdue dossier finished late: no longer open, late.
			if _, err := env.App.Services.Act(ctx, officer, late.Code, services.ActApprove, ""); err != nil {
				t.Fatal(err)
			}
			waitDossiers(t, s, commune, "a dossier finished late", func(x stats.Dossiers) bool { return x.Late == 1 && x.Overdue == 0 && x.Finished == 2 })
			after := dossiersOf(t, s, commune)
			if p := indicator(after.Index, "progress.on_time"); p.Num != 1 || p.Den != 2 {
				t.Errorf("on-time indicator after a late finish: %+v", p)
			}
			if list, _, _ := s.WhatIf(ctx, commune); len(list) != 0 {
				t.Errorf("what-if after the finish: %+v", list)
			}

			// A rating of the returned dossier.
			if _, err := env.App.Services.Rate(ctx, services.Filer{PIN: filer.pin, Level: 2}, onTime.Code, 4, "Nhanh"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ApplyRatings(ctx); err != nil {
				t.Fatal(err)
			}
			rated := dossiersOf(t, s, commune)
			if sat := indicator(rated.Index, "satisfaction.rating"); rated.Dossiers.Rated != 1 || rated.Dossiers.Stars != 4 || sat.Points != 18*3.0/4 {
				t.Errorf("after a 4-star rating: %+v, %+v", rated.Dossiers, sat)
			}
			if n, err := s.ApplyRatings(ctx); err != nil || n != 0 {
				t.Errorf("a second look counted %d ratings (%v)", n, err)
			}

			// A replayed event changes nothing.
			body, _ := json.Marshal(events.DossierEvent{Code: late.Code, Procedure: "CC.XN.01", Unit: late.Unit, Status: "received", At: now.AddDate(0, 0, -20),
				Province: province, Commune: commune})
			msg := events.Msg{Subject: events.DossierReceived.String(), ID: "stats-replay-1", Data: body}
			for range 3 {
				if err := s.HandleDossiers(ctx, []events.Msg{msg}); err != nil {
					t.Fatal(err)
				}
			}
			if again := dossiersOf(t, s, commune); !reflect.DeepEqual(again, rated) {
				t.Errorf("an old or replayed event changed the figures: %+v, then %+v", rated.Dossiers, again.Dossiers)
			}

			// Peers: the commune is ranked among its province's communes.
			peers, err := s.Peers(ctx, commune)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range peers {
				if p.Code == commune {
					found = p.Rank == 1 && p.Index.Score == rated.Index.Score
				}
			}
			if !found || len(peers) < 2 {
				t.Errorf("peers: the commune is not ranked first among %d", len(peers))
			}

			// A rebuild equals the incremental counts.
			_, provBefore, _ := s.DossierFigures(ctx, province)
			if err := s.Rebuild(ctx); err != nil {
				t.Fatal(err)
			}
			_, provAfter, _ := s.DossierFigures(ctx, province)
			if !reflect.DeepEqual(provBefore, provAfter) {
				t.Errorf("rebuild changed the province's communes")
			}
		})
	}
}

// TestIndexFormulas: the index of a unit's counts, group by group.
func TestIndexFormulas(t *testing.T) {
	for _, c := range []struct {
		name  string
		d     stats.Dossiers
		score float64
		poss  float64
	}{
		{"no dossiers", stats.Dossiers{}, 0, 0},
		{"all well", stats.Dossiers{Filed: 4, Online: 4, Received: 4, Digitized: 4, Documents: 2, Reused: 2, FeeDue: 1, PaidOnline: 1, Finished: 4, OnTime: 4,
			Approved: 4, Returned: 4, FullOnline: 4, Rated: 2, Stars: 10}, 100, 100},
		{"half late, at the desk, unrated", stats.Dossiers{Filed: 2, Desk: 2, Received: 2, Digitized: 2, Finished: 1, OnTime: 1, Overdue: 1, Approved: 1},
			// openness 18 + progress 10 + digitized 8 + online 0 of 10; results 0 of 7
			100 * 36.0 / 63, 63},
	} {
		x := c.d.Index()
		if x.Possible != c.poss || x.Score-c.score > 1e-9 || c.score-x.Score > 1e-9 {
			t.Errorf("%s: score %v of %v possible, want %v of %v", c.name, x.Score, x.Possible, c.score, c.poss)
		}
	}
}
