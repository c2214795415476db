// Package seed fills an empty register with a synthetic population: it asks
// synth for households in proportion to each province's population, allocates
// real PINs from the register's counters, and bulk-loads everything in one
// transaction.
package seed

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/synth"
)

// Options of a seed run.
type Options struct {
	Persons int
	Seed    int64
	Today   time.Time
	// Progress, when set, is told how many persons are queued so far.
	Progress func(done, total int)
}

// Areas builds synth's areas from the catalogue in force on the day: each
// post-2025 province with its population weight, communes, the units of
// the old map each commune was formed from (residence before 1 July 2025
// ran under their codes) and the legacy provinces it was formed from
// (births there were registered under those codes).
func Areas(units *adminunit.Catalog, on time.Time) []synth.Area {
	weights := synth.PopulationWeights()
	var out []synth.Area
	for _, p := range units.Provinces(on) {
		a := synth.Area{ProvinceCode: p.Code, Weight: weights[p.Code]}
		if a.Weight <= 0 {
			a.Weight = 1000
		}
		for _, c := range units.Communes(p.Code, on) {
			a.CommuneCodes = append(a.CommuneCodes, c.Code)
			var preds []synth.LegacyUnit
			for _, u := range units.Predecessors(c.Code) {
				preds = append(preds, synth.LegacyUnit{Code: u.Code, ProvinceCode: u.ProvinceCode})
			}
			a.Predecessors = append(a.Predecessors, preds)
		}
		for _, l := range units.LegacyProvincesOf(p.Code) {
			a.BirthProvinceCodes = append(a.BirthProvinceCodes, l.Code)
		}
		if len(a.BirthProvinceCodes) == 0 {
			a.BirthProvinceCodes = []string{p.Code}
		}
		if len(a.CommuneCodes) > 0 {
			out = append(out, a)
		}
	}
	return out
}

// Run loads opts.Persons synthetic persons and returns how many were loaded.
func Run(ctx context.Context, db *storage.DB, rec registry.Recorder, units *adminunit.Catalog, opts Options) (int, error) {
	if opts.Today.IsZero() {
		opts.Today = time.Now()
	}
	cfg := synth.Config{Seed: opts.Seed, Persons: opts.Persons, Areas: Areas(units, opts.Today), Today: opts.Today}
	if err := cfg.Validate(); err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	l, err := registry.NewLoader(ctx, db, rec, actor.SystemActor("seed"), opts.Today)
	if err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	done := 0
	pins := make(map[int]string, 16)
	dead := make(map[int]string, 4) // index → death date, in the household at hand
	pl := places{units: units, today: opts.Today, paths: make(map[string]string, 4096), provs: make(map[string]string, 4096)}
	err = synth.Generate(cfg, func(h synth.Household) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		clear(pins)
		for _, m := range h.Members {
			id, err := l.AllocatePIN("0"+m.BirthProvince, m.BirthYear, m.Sex)
			if err != nil {
				return fmt.Errorf("person %d: %w", m.Index, err)
			}
			pins[m.Index] = id
		}
		hh := registry.Household{ID: householdID(opts.Seed, h.Index), HeadPIN: pins[h.Members[0].Index],
			Address: registry.Address{ProvinceCode: h.ProvinceCode, CommuneCode: h.CommuneCode, Detail: h.AddressDetail}}
		if err := l.Household(ctx, hh); err != nil {
			return err
		}
		clear(dead)
		for _, m := range h.Members {
			if m.Dead {
				dead[m.Index] = m.DeathDate
			}
		}
		for _, m := range h.Members {
			p, err := person(m, pins, hh.ID, &pl)
			if err != nil {
				return fmt.Errorf("person %d: %w", m.Index, err)
			}
			if _, widowed := dead[m.Spouse]; widowed && !m.Dead {
				p.SpousePIN = "" // the marriage ended with the spouse's death
			}
			if err := l.Person(ctx, &p); err != nil {
				return err
			}
			if err := history(ctx, l, m, p.PIN, pins, dead, &pl); err != nil {
				return fmt.Errorf("person %d: %w", m.Index, err)
			}
		}
		done += len(h.Members)
		if opts.Progress != nil {
			opts.Progress(done, opts.Persons)
		}
		return nil
	})
	if err != nil {
		l.Rollback()
		return 0, fmt.Errorf("seed: %w", err)
	}
	if err := l.Commit(ctx); err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	return done, nil
}

// person is the register's record of m. Places are on the map in force
// today, as the register keeps them: the birth-registration commune (the
// successor of the one the birth was registered in, whose province the PIN
// carries) and the hometown as text. The permanent residence's start is
// when it began under today's unit: the day m settled there, or 1 July 2025
// for those settled earlier, whose residence until then ran under the old
// unit (synth.Person.LegacyCommuneCode); none for people who died before
// that day.
func person(m synth.Person, pins map[int]string, household string, pl *places) (registry.Person, error) {
	birth, err := civildate.Parse(m.BirthDate)
	if err != nil {
		return registry.Person{}, fmt.Errorf("birth date %q: %w", m.BirthDate, err)
	}
	p := registry.Person{
		PIN: pins[m.Index], FullName: m.FullName, BirthDate: birth, Sex: string(m.Sex),
		Ethnicity: m.EthnicityCode, Religion: m.Religion, Nationality: "VNM",
		Birthplace:  registry.Address{CommuneCode: m.BirthplaceCommune},
		Hometown:    pl.path(m.HometownCommune),
		Permanent:   registry.Address{ProvinceCode: m.ProvinceCode, CommuneCode: m.CommuneCode, Detail: m.AddressDetail},
		HouseholdID: household, Relation: m.Relation, Status: registry.Alive,
		FatherPIN: pins[m.Father], MotherPIN: pins[m.Mother], SpousePIN: pins[m.Spouse],
	}
	p.Birthplace.ProvinceCode = pl.province(p.Birthplace.CommuneCode)
	since := m.ResidentSince
	// Civil dates compared as text, as the catalogue reads a day.
	if reform := adminunit.Reform().Format(time.DateOnly); pl.today.Format(time.DateOnly) >= reform && since < reform {
		since = reform
	}
	if !m.Dead || m.DeathDate >= since {
		if p.PermSince, err = civildate.Parse(since); err != nil {
			return p, fmt.Errorf("resident since %q: %w", since, err)
		}
	}
	if m.Dead {
		d, err := civildate.Parse(m.DeathDate)
		if err != nil {
			return p, fmt.Errorf("death date %q: %w", m.DeathDate, err)
		}
		p.Status, p.DeathDate = registry.Dead, d
		// As a registered death does (registry.RegisterDeath), the death
		// closed the household membership.
		p.HouseholdID, p.Relation = "", ""
	}
	return p, nil
}

// history loads what m's row does not hold: the residence under the old
// map's unit before the 2025 reform (from ResidentSince to 1 July 2025, or
// to the death before it), and, written once per couple by the husband,
// the marriage with its wedding day, ended on the day of death when one of
// them died.
func history(ctx context.Context, l *registry.Loader, m synth.Person, id string, pins map[int]string, dead map[int]string, pl *places) error {
	reform := adminunit.Reform().Format(time.DateOnly)
	if m.LegacyCommuneCode != "" && m.ResidentSince < reform {
		end := reform
		if m.Dead && m.DeathDate < end {
			end = m.DeathDate
		}
		from, err := civildate.Parse(m.ResidentSince)
		if err != nil {
			return fmt.Errorf("resident since %q: %w", m.ResidentSince, err)
		}
		to, err := civildate.Parse(end)
		if err != nil {
			return fmt.Errorf("end of residence %q: %w", end, err)
		}
		// An island district of the old map had no communes (Bạch Long Vĩ,
		// Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo): the period then names no
		// commune the history could show, and is left out.
		if prov, err := pl.units.CommuneProvince(m.LegacyCommuneCode, from.Time()); err == nil {
			if err := l.Residence(ctx, id, registry.Residence{Kind: registry.Permanent, From: from, To: to,
				Address: registry.Address{ProvinceCode: prov, CommuneCode: m.LegacyCommuneCode, Detail: m.AddressDetail}}); err != nil {
				return err
			}
		}
	}
	wife, ok := pins[m.Spouse]
	if m.Sex != 'M' || !ok || m.MarriageDate == "" {
		return nil
	}
	married, err := civildate.Parse(m.MarriageDate)
	if err != nil {
		return fmt.Errorf("marriage date %q: %w", m.MarriageDate, err)
	}
	var ended civildate.Date
	for _, d := range []string{dead[m.Index], dead[m.Spouse]} {
		if d == "" {
			continue
		}
		e, err := civildate.Parse(d)
		if err != nil {
			return fmt.Errorf("death date %q: %w", d, err)
		}
		if ended.IsZero() || e.Earliest().Before(ended.Earliest()) {
			ended = e
		}
	}
	return l.Marriage(ctx, id, wife, married, ended)
}

// places names communes on the map in force on the seed's day, once each:
// a million people share a few thousand communes.
type places struct {
	units *adminunit.Catalog
	today time.Time
	paths map[string]string // commune code → "Xã …, Tỉnh …"
	provs map[string]string // commune code → province code
}

func (pl *places) path(code string) string {
	s, ok := pl.paths[code]
	if !ok {
		s = pl.units.Path(code, pl.today)
		pl.paths[code] = s
	}
	return s
}

func (pl *places) province(code string) string {
	s, ok := pl.provs[code]
	if !ok && code != "" {
		s, _ = pl.units.CommuneProvince(code, pl.today)
		pl.provs[code] = s
	}
	return s
}

// householdID is a stable id for the i-th household of a seed, so the same
// seed gives the same register.
func householdID(seed int64, i int) string {
	h := fnv.New64a()
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(seed))
	binary.BigEndian.PutUint64(b[8:], uint64(i))
	h.Write(b[:])
	return hex.EncodeToString(h.Sum(nil))
}
