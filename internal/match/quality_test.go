package match_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/fold"
	"github.com/dancu-project/dancu/internal/match"
	"github.com/dancu-project/dancu/internal/partnercopy"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/seed"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

var today = time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)

func migrations() []storage.Migrations {
	return []storage.Migrations{audit.Migrations(), registry.Migrations()}
}

// seeded fills db with n synthetic persons.
func seeded(t testing.TB, db *storage.DB, units *adminunit.Catalog, n int) {
	t.Helper()
	log := audit.NewLog(db, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer log.Close()
	if _, err := seed.Run(context.Background(), db, log, units, seed.Options{Persons: n, Seed: 1, Today: today}); err != nil {
		t.Fatal(err)
	}
}

func records(rows []partnercopy.Row) []match.Record {
	out := make([]match.Record, len(rows))
	for i, r := range rows {
		out[i] = match.Record{Ref: r.Ref, PIN: r.PIN, FullName: r.FullName, BirthDate: r.BirthDate, Sex: r.Sex, Address: r.Address, CardNumber: r.CardNumber}
	}
	return out
}

// quality is what the truth says of the results.
type quality struct {
	rows, inRegister, matched, correct, ambiguous, notFound, strangersMatched int
	deadFlagged, dead                                                         int
	precision, recall                                                         float64
	missedBy                                                                  map[string]int // corruption → rows of the register not matched
}

func measure(results []match.Result, truth []partnercopy.Truth) quality {
	q := quality{rows: len(results), missedBy: map[string]int{}}
	for i, r := range results {
		t := truth[i]
		if t.TruePIN != "" {
			q.inRegister++
		}
		isDead := slices.Contains(t.Corruptions, partnercopy.Dead)
		if isDead {
			q.dead++
		}
		switch r.Outcome {
		case match.Matched:
			q.matched++
			if r.PIN == t.TruePIN {
				q.correct++
				if isDead && r.Dead {
					q.deadFlagged++
				}
			}
			if t.TruePIN == "" {
				q.strangersMatched++
			}
		case match.Ambiguous:
			q.ambiguous++
		case match.NotFound:
			q.notFound++
		}
		if t.TruePIN != "" && (r.Outcome != match.Matched || r.PIN != t.TruePIN) {
			for _, c := range t.Corruptions {
				q.missedBy[c]++
			}
			if len(t.Corruptions) == 0 {
				q.missedBy["clean"]++
			}
		}
	}
	if q.matched > 0 {
		q.precision = float64(q.correct) / float64(q.matched)
	}
	if q.inRegister > 0 {
		q.recall = float64(q.correct) / float64(q.inRegister)
	}
	return q
}

// TestQuality seeds a register, makes a dirty partner copy of it with the
// truth kept aside, matches every row and checks precision and recall of
// the matched rows against the truth.
func TestQuality(t *testing.T) {
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	// The quick figure: 5,000 rows against 100,000 people;
	// DANCU_QUALITY_PERSONS and DANCU_QUALITY_ROWS change it.
	persons := envInt("DANCU_QUALITY_PERSONS", 100000)
	nrows := envInt("DANCU_QUALITY_ROWS", 5000)
	ctx := context.Background()
	db := storagetest.Open(t, storage.SQLite, migrations())
	seeded(t, db, units, persons)
	rows, truth, err := partnercopy.Generate(ctx, db, units, partnercopy.Options{Rows: nrows, Seed: 7, Now: today})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := match.Load(ctx, db, units, match.Options{Now: today})
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != persons {
		t.Fatalf("index holds %d persons, want %d", ix.Len(), persons)
	}
	recs := records(rows)
	if os.Getenv("DANCU_CALIBRATE") != "" {
		// Calibrated on another copy (seed 1) than the one measured.
		crow, ctruth, err := partnercopy.Generate(ctx, db, units, partnercopy.Options{Rows: 10000, Seed: 1, Now: today})
		if err != nil {
			t.Fatal(err)
		}
		pins := make([]string, len(ctruth))
		for i, tr := range ctruth {
			pins[i] = tr.TruePIN
		}
		m, err := ix.Calibrate(ctx, records(crow), pins, match.DefaultModel())
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("calibrated model:\n%#v", m)
	}
	results, err := ix.Match(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	q := measure(results, truth)
	t.Logf("rows %d, in register %d, matched %d (correct %d), ambiguous %d, not found %d; precision %.4f recall %.4f; dead flagged %d of %d; missed by corruption %v",
		q.rows, q.inRegister, q.matched, q.correct, q.ambiguous, q.notFound, q.precision, q.recall, q.deadFlagged, q.dead, q.missedBy)
	if q.precision < 0.995 {
		t.Errorf("precision %.4f < 0.995", q.precision)
	}
	if q.recall < 0.99 {
		t.Errorf("recall %.4f < 0.99", q.recall)
	}
	if q.ambiguous*100 > q.rows {
		t.Errorf("ambiguous %d of %d rows > 1 %%", q.ambiguous, q.rows)
	}
	if q.strangersMatched > 0 {
		t.Errorf("%d people who are not in the register were matched to someone", q.strangersMatched)
	}
	if q.dead == 0 || q.deadFlagged < q.dead*95/100 {
		t.Errorf("dead people flagged: %d of %d", q.deadFlagged, q.dead)
	}
	// Each kind of dirt is reported as the right difference on matched rows.
	kinds := map[string]match.Difference{
		partnercopy.SwappedDate:  {Field: match.FieldBirthDate, Kind: match.KindSwappedDayMonth},
		partnercopy.OldAddress:   {Field: match.FieldAddress, Kind: match.KindOutdatedUnit},
		partnercopy.PINTypo:      {Field: match.FieldPIN, Kind: match.KindMisspelt},
		partnercopy.NoDiacritics: {Field: match.FieldFullName, Kind: match.KindMissingDiacritics},
	}
	for corruption, want := range kinds {
		seen, reported := 0, 0
		for i, r := range results {
			c := truth[i].Corruptions
			if r.Outcome != match.Matched || !slices.Contains(c, corruption) {
				continue
			}
			if corruption == partnercopy.NoDiacritics && (slices.Contains(c, partnercopy.NameTypo) || slices.Contains(c, partnercopy.NameOrder)) {
				continue // a typo or reordering is reported instead
			}
			seen++
			if slices.Contains(r.Differences, want) {
				reported++
			}
		}
		if seen == 0 || reported < seen*97/100 {
			t.Errorf("%s: reported as %v on %d of %d matched rows", corruption, want, reported, seen)
		}
	}
	// Clean rows have no differences.
	for i, r := range results {
		if len(truth[i].Corruptions) == 0 && r.Outcome == match.Matched && len(r.Differences) > 0 {
			t.Errorf("clean row %s (%q) reported differences %v", r.Ref, rows[i].Address, r.Differences)
			break
		}
	}
	// Free-text addresses resolve to the person's commune, old ones
	// recognised as old.
	g := match.NewGazetteer(units, today)
	var withAddr, resolved, right, oldRight, old int
	for i, row := range rows {
		tr := truth[i]
		if tr.TruePIN == "" || row.Address == "" {
			continue
		}
		withAddr++
		p, _ := ix.Lookup(tr.TruePIN)
		code, outdated, ok := g.Resolve(row.Address)
		isOld := slices.Contains(tr.Corruptions, partnercopy.OldAddress)
		if isOld {
			old++
		}
		if ok {
			resolved++
			if code == p.CommuneCode {
				right++
			}
			if outdated == isOld && isOld {
				oldRight++
			}
		}
	}
	t.Logf("addresses: %d, resolved %d, to the right commune %d; old addresses %d, recognised %d", withAddr, resolved, right, old, oldRight)
	if float64(right) < 0.95*float64(withAddr) || float64(oldRight) < 0.95*float64(old) {
		t.Errorf("addresses resolved to the right commune: %d of %d; old ones recognised: %d of %d", right, withAddr, oldRight, old)
	}
}

// TestLoadBothBackends checks the index reads the register on SQLite and,
// when configured, PostgreSQL, and finds people by PIN and by name alone.
func TestLoadBothBackends(t *testing.T) {
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		seeded(t, db, units, 500)
		ix, err := match.Load(ctx, db, units, match.Options{Now: today})
		if err != nil {
			t.Fatal(err)
		}
		var pin, name, birth, sex, commune string
		if err := db.R.QueryRow(`SELECT pin, full_name, birth_date, sex, perm_commune FROM persons WHERE birth_date LIKE '____-__-__' ORDER BY pin LIMIT 1`).Scan(&pin, &name, &birth, &sex, &commune); err != nil {
			t.Fatal(err)
		}
		p, ok := ix.Lookup(pin)
		if !ok || p.FullName != name || p.BirthDate.String() != birth || p.Sex != sex || p.CommuneCode != commune {
			t.Fatalf("Lookup(%s) = %+v, %v; register has %s %s %s %s", pin, p, ok, name, birth, sex, commune)
		}
		// Without the PIN, the name without diacritics and the date find them.
		res, err := ix.Match(ctx, []match.Record{{Ref: "1", FullName: strings.ToUpper(foldName(name)), BirthDate: birth, Sex: sex}})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Outcome != match.Matched || res[0].PIN != pin {
			t.Fatalf("match by name and date: %+v", res[0])
		}
	})
}

func foldName(s string) string { return fold.String(s) }
