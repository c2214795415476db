package seed_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/seed"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

var today = time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)

func load(t testing.TB, db *storage.DB, units *adminunit.Catalog, n int, s int64) {
	t.Helper()
	log := audit.NewLog(db, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer log.Close()
	got, err := seed.Run(context.Background(), db, log, units, seed.Options{Persons: n, Seed: s, Today: today})
	if err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("seeded %d, want %d", got, n)
	}
}

func TestSeed(t *testing.T) {
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	var names [2][]string
	i := 0
	storagetest.Run(t, []storage.Migrations{audit.Migrations(), registry.Migrations()}, func(t *testing.T, db *storage.DB) {
		load(t, db, units, 2000, 42)
		rows, err := db.R.Query(`SELECT pin, full_name, birth_date, sex, perm_province, perm_commune, household_id, relation, status,
			birthplace_commune, hometown, perm_since, death_date FROM persons ORDER BY full_name, birth_date`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		heads := map[string]int{}
		n := 0
		for rows.Next() {
			var p, name, birth, sex, prov, commune, hh, rel, status, birthplace, hometown, since, death string
			if err := rows.Scan(&p, &name, &birth, &sex, &prov, &commune, &hh, &rel, &status, &birthplace, &hometown, &since, &death); err != nil {
				t.Fatal(err)
			}
			checkPlaces(t, units, p, birth, commune, birthplace, hometown, since, death)
			id, err := pin.Parse(p)
			if err != nil {
				t.Fatalf("invalid PIN %q: %v", p, err)
			}
			if id.BirthYear() != atoi(birth[:4]) || string(id.Sex()) != sex {
				t.Fatalf("PIN %s does not match birth %s sex %s", p, birth, sex)
			}
			c, err := units.Commune(commune, today)
			if err != nil || c.ProvinceCode != prov {
				t.Fatalf("residence %s/%s not in the catalogue: %v", prov, commune, err)
			}
			if rel == registry.RelHead {
				heads[hh]++
			}
			names[i] = append(names[i], name)
			n++
		}
		if n != 2000 {
			t.Fatalf("%d persons", n)
		}
		var households int
		db.R.QueryRow(`SELECT count(*) FROM households`).Scan(&households)
		if households != len(heads) {
			t.Fatalf("%d households but %d with a head", households, len(heads))
		}
		for hh, k := range heads {
			if k != 1 {
				t.Fatalf("household %s has %d heads", hh, k)
			}
		}
		// A second seed into the same register allocates new PINs, never reusing one.
		load(t, db, units, 500, 43)
		var total, distinct int
		db.R.QueryRow(`SELECT count(*), count(DISTINCT pin) FROM persons`).Scan(&total, &distinct)
		if total != 2500 || distinct != 2500 {
			t.Fatalf("after a second seed: %d persons, %d PINs", total, distinct)
		}
		i++
	})
	if len(names[1]) > 0 && len(names[0]) == len(names[1]) {
		for k := range names[0] {
			if names[0][k] != names[1][k] {
				t.Fatalf("the same seed gave different people on the two backends")
			}
		}
	}
}

// checkPlaces holds a seeded record to issue 15 item 4: a birth-registration
// commune of today's map that succeeded a commune of the province in the
// PIN, a hometown, and a permanent residence whose start is a day the
// commune existed (from 1 July 2025 for a unit of the new map), not before
// birth nor after death or today.
func checkPlaces(t *testing.T, units *adminunit.Catalog, p, birth, commune, birthplace, hometown, since, death string) {
	t.Helper()
	if _, err := units.Commune(birthplace, today); err != nil {
		t.Fatalf("%s: birth registered in %q: %v", p, birthplace, err)
	}
	inProvince := false
	for _, u := range units.Predecessors(birthplace) {
		inProvince = inProvince || "0"+u.ProvinceCode == p[:3]
	}
	if !inProvince {
		t.Fatalf("%s: birth registered in %s, which no unit of province %s went into", p, birthplace, p[:3])
	}
	if hometown == "" {
		t.Fatalf("%s: no hometown", p)
	}
	if since == "" {
		if death == "" || death >= "2025-07-01" {
			t.Fatalf("%s: no residence start, death %q", p, death)
		}
		return
	}
	from, err := time.Parse(time.DateOnly, since)
	if err != nil {
		t.Fatalf("%s: residence since %q: %v", p, since, err)
	}
	if _, err := units.Commune(commune, from); err != nil {
		t.Fatalf("%s: residence in %s since %s, before the unit existed: %v", p, commune, since, err)
	}
	if since < birth[:min(len(birth), 10)] || since > today.Format(time.DateOnly) || death != "" && since > death {
		t.Fatalf("%s: residence since %s, born %s, died %q", p, since, birth, death)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// BenchmarkSeed reports seeding speed into SQLite (and PostgreSQL when
// configured); the 1,000,000-person figure comes from "dancu seed".
func BenchmarkSeed(b *testing.B) {
	units, err := adminunit.Load()
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range storagetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			const n = 50000
			for b.Loop() {
				b.StopTimer()
				db := storagetest.Open(b, d, []storage.Migrations{audit.Migrations(), registry.Migrations()})
				b.StartTimer()
				load(b, db, units, n, 1)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "persons/s")
		})
	}
}

// TestSeedHistory: the seed loads each person's residence under the old
// map's unit before the 2025 reform (shown by Service.Residences beside the
// current period, named on the map of its start), and each couple's
// marriage with its wedding day; a widowed survivor names no spouse.
func TestSeedHistory(t *testing.T) {
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	storagetest.Run(t, []storage.Migrations{audit.Migrations(), registry.Migrations()}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		load(t, db, units, 2000, 42)
		var old, alive int
		db.R.QueryRow(`SELECT count(*) FROM residences WHERE to_date <= '2025-07-01' AND from_date < '2025-07-01'`).Scan(&old)
		db.R.QueryRow(`SELECT count(*) FROM persons WHERE status = 'alive' AND perm_since = '2025-07-01'`).Scan(&alive)
		if old == 0 || alive == 0 || old < alive/2 {
			t.Fatalf("%d periods before the reform for %d people settled before it", old, alive)
		}
		// Every loaded period names a unit of the old map on its first day.
		rows, err := db.R.Query(`SELECT pin, commune, from_date, to_date FROM residences`)
		if err != nil {
			t.Fatal(err)
		}
		var sample string
		for rows.Next() {
			var p, commune, from, to string
			rows.Scan(&p, &commune, &from, &to)
			f, _ := time.Parse(time.DateOnly, from)
			if _, err := units.Commune(commune, f); err != nil || from >= to || to > "2025-07-01" {
				t.Errorf("%s: period %s %s–%s: %v", p, commune, from, to, err)
			}
			sample = p
		}
		rows.Close()
		log := audit.NewLog(db, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
		defer log.Close()
		svc := registry.NewService(db, units, log, func() time.Time { return today })
		res, err := svc.Residences(ctx, actor.Actor{ID: "staff:admin", Role: actor.Admin}, sample)
		if err != nil || len(res) < 2 {
			t.Fatalf("residences of %s: %+v %v", sample, res, err)
		}
		first := res[len(res)-1]
		if oldName := units.Path(first.Address.CommuneCode, first.From.Time()); first.To.String() > "2025-07-01" || oldName == "" || !strings.HasSuffix(first.Address.Text, oldName) {
			t.Fatalf("the period before the reform is not named on the old map: %+v", first)
		}
		var marriages, dated, widowed int
		db.R.QueryRow(`SELECT count(*), count(CASE WHEN married_on <> '' THEN 1 END) FROM marriages`).Scan(&marriages, &dated)
		db.R.QueryRow(`SELECT count(*) FROM persons p JOIN persons s ON s.pin = p.spouse_pin WHERE p.status = 'alive' AND s.status = 'dead'`).Scan(&widowed)
		if marriages == 0 || dated != marriages || widowed != 0 {
			t.Fatalf("%d marriages, %d dated, %d living persons linked to a dead spouse", marriages, dated, widowed)
		}
		var deadMembers int
		db.R.QueryRow(`SELECT count(*) FROM persons WHERE status = 'dead' AND (household_id <> '' OR relation <> '')`).Scan(&deadMembers)
		if deadMembers != 0 {
			t.Fatalf("%d dead persons still members of a household", deadMembers)
		}
		var underAge int
		db.R.QueryRow(`SELECT count(*) FROM marriages m JOIN persons h ON h.pin = m.husband_pin JOIN persons w ON w.pin = m.wife_pin
			WHERE length(h.birth_date) = 10 AND length(w.birth_date) = 10 AND (m.married_on < h.birth_date OR m.married_on < w.birth_date)`).Scan(&underAge)
		if underAge != 0 {
			t.Fatalf("%d marriages before a spouse's birth", underAge)
		}
	})
}
