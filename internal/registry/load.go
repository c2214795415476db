package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/storage"
)

// Loader bulk-loads households and persons in one transaction: the synthetic
// seed, and imports from legacy systems. Rows are trusted to be valid (the
// caller built them); PINs are allocated from the same counters as births,
// so later births never collide with loaded people. Nothing is visible until
// Commit, and one audit entry records the load.
type Loader struct {
	db         *storage.DB
	bulk       *storage.Loader
	persons    *storage.Table
	households *storage.Table
	residences *storage.Table // opened on first use
	marriages  *storage.Table // opened on first use
	counters   map[string]int
	actor      actor.Actor
	audit      Recorder
	now        time.Time
	count      int
}

// NewLoader starts a bulk load by a, recorded through rec.
func NewLoader(ctx context.Context, db *storage.DB, rec Recorder, a actor.Actor, now time.Time) (*Loader, error) {
	counters := map[string]int{}
	rows, err := db.R.QueryContext(ctx, `SELECT prefix, n FROM pin_counters`)
	if err != nil {
		return nil, fmt.Errorf("load counters: %w", err)
	}
	for rows.Next() {
		var p string
		var n int
		if err := rows.Scan(&p, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load counters: %w", err)
		}
		counters[p] = n
	}
	rows.Close()
	// Recorded before the load holds the writer, so the entry is never
	// missing for a load that committed.
	if err := rec.Record(ctx, audit.Entry{Actor: a.ID, Action: "registry.bulk_load", Subject: "registry", Purpose: "seed", Detail: "start", At: now}); err != nil {
		return nil, err
	}
	bulk, err := db.NewLoader(ctx)
	if err != nil {
		return nil, err
	}
	l := &Loader{db: db, bulk: bulk, counters: counters, actor: a, audit: rec, now: now.UTC()}
	if len(counters) == 0 {
		// An empty register: build the search indexes once at the end.
		if err := bulk.DeferIndexes(ctx, "persons"); err != nil {
			bulk.Rollback()
			return nil, err
		}
	}
	cols := personColumnList()
	if l.persons, err = bulk.Table(ctx, "persons", cols...); err != nil {
		bulk.Rollback()
		return nil, err
	}
	if l.households, err = bulk.Table(ctx, "households", "id", "head_pin", "province", "commune", "detail", "created_at"); err != nil {
		bulk.Rollback()
		return nil, err
	}
	return l, nil
}

// AllocatePIN gives the next PIN for a birth-registration province (3 digits),
// birth year and sex, without touching the database until Commit.
func (l *Loader) AllocatePIN(province string, birthYear int, sex byte) (string, error) {
	prefix, err := pin.Prefix(province, birthYear, sex)
	if err != nil {
		return "", err
	}
	n := l.counters[prefix]
	if n >= pin.MaxSerial {
		return "", ErrPINExhausted
	}
	l.counters[prefix] = n + 1
	return string(pin.FromSerial(prefix, pin.Scramble(prefix, n))), nil
}

// Household queues a household row.
func (l *Loader) Household(ctx context.Context, h Household) error {
	return l.households.Add(ctx, h.ID, h.HeadPIN, h.Address.ProvinceCode, h.Address.CommuneCode, h.Address.Detail, l.now.Format(time.RFC3339Nano))
}

// Person queues a person row at version 1.
func (l *Loader) Person(ctx context.Context, p *Person) error {
	p.Version = 1
	p.UpdatedAt = l.now
	p.UpdatedBy = l.actor.ID
	if p.Status == "" {
		p.Status = Alive
	}
	if p.Nationality == "" {
		p.Nationality = "VNM"
	}
	l.count++
	return l.persons.Add(ctx, personArgs(p)...)
}

// Residence queues an entry of a person's residence history: a period the
// person's row no longer holds, such as the years at an address of the old
// map before the 2025 reform. The current period stays on the person row
// (Service.Residences shows both); r.Address.CommuneCode is the code of the
// map in force on r.From.
func (l *Loader) Residence(ctx context.Context, pinText string, r Residence) error {
	if l.residences == nil {
		t, err := l.bulk.Table(ctx, "residences", "pin", "kind", "province", "commune", "detail", "from_date", "to_date", "event_id")
		if err != nil {
			return err
		}
		l.residences = t
	}
	kind := r.Kind
	if kind == "" {
		kind = Permanent
	}
	return l.residences.Add(ctx, pinText, kind, r.Address.ProvinceCode, r.Address.CommuneCode, r.Address.Detail, r.From.String(), r.To.String(), r.EventID)
}

// Marriage queues the marriage of a husband and a wife loaded as spouses,
// from the day married (zero when unknown), so that a later divorce or
// death closes its history row. ended, when not zero, is the day the
// marriage ended by the death of one of them: the survivor's row then names
// no spouse, the dead one's the survivor.
func (l *Loader) Marriage(ctx context.Context, husband, wife string, married, ended civildate.Date) error {
	if l.marriages == nil {
		t, err := l.bulk.Table(ctx, "marriages", "id", "husband_pin", "wife_pin", "married_on", "ended_on", "end_kind")
		if err != nil {
			return err
		}
		l.marriages = t
	}
	kind := ""
	if !ended.IsZero() {
		kind = endByDeath
	}
	return l.marriages.Add(ctx, storage.NewID(), husband, wife, married.String(), ended.String(), kind)
}

// Commit stores the counters and makes the load visible.
func (l *Loader) Commit(ctx context.Context) error {
	for prefix, n := range l.counters {
		if err := l.bulk.Exec(ctx, `INSERT INTO pin_counters (prefix, n) VALUES ($1, $2)
			ON CONFLICT (prefix) DO UPDATE SET n = CASE WHEN excluded.n > pin_counters.n THEN excluded.n ELSE pin_counters.n END`, prefix, n); err != nil {
			l.bulk.Rollback()
			return fmt.Errorf("store counters: %w", err)
		}
	}
	if err := l.bulk.Commit(ctx); err != nil {
		return err
	}
	return l.audit.Record(ctx, audit.Entry{Actor: l.actor.ID, Action: "registry.bulk_load", Subject: "registry",
		Purpose: "seed", Detail: fmt.Sprintf("persons=%d", l.count), At: l.now})
}

// Rollback abandons the load.
func (l *Loader) Rollback() { l.bulk.Rollback() }
