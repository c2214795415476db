// Package stats keeps the leaders' indicators: counts of living people per
// unit (nation, province, commune of the 2025 map) by sex and year of birth,
// card coverage, births, deaths and moves. The counters are maintained from
// the register's and the card service's events (two durable consumers,
// idempotent by event id: the receipt and the counters commit in one
// transaction), never by scanning the register per request; Rebuild
// recomputes the stocks from the register for a first start or a recovery.
//
// How a person counts is kept per person (stats_people): an event re-reads
// the person's few facts (registry.PersonFacts, cardservice.HoldsValidCard)
// and moves the person's contribution from the old cell to the new one, so
// the stocks do not depend on the order events arrive in and a replay
// changes nothing. Births, deaths and moves are event counts (stats_flows),
// counted once per event id.
package stats

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/lease"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/workday"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the statistics tables (module "stats").
func Migrations() storage.Migrations {
	return storage.Migrations{Module: "stats", FS: storage.Sub(migrationFS, "migrations")}
}

// Flow kinds counted in stats_flows.
const (
	Born     = "born"
	Died     = "died"
	MovedIn  = "moved_in"
	MovedOut = "moved_out"
)

const receipts = "stats_receipts"

// PersonConsumer counts births, deaths and moves and keeps each person's
// contribution to the counts.
var PersonConsumer = events.Consumer{Name: "stats-person", Handles: []events.Topic{events.PersonBorn, events.PersonDied, events.PersonMoved}, Batch: 200, AckWait: 30 * time.Second}

// CardConsumer keeps the card coverage.
var CardConsumer = events.Consumer{Name: "stats-card", Handles: []events.Topic{events.CardIssued, events.CardRevoked}, Batch: 200, AckWait: 30 * time.Second}

// Service maintains and reads the counters.
type Service struct {
	db      *storage.DB
	units   *adminunit.Catalog
	now     func() time.Time
	cal     *workday.Calendar
	warning workday.Warning
	// Leases, when set, let one node at a time rebuild the counters at
	// start (the others wait and find them built).
	Leases *lease.Leases
	// ProcedureNames names a procedure in Vietnamese and English (the
	// services module's catalogue), for the lists of dossiers; nil: codes.
	ProcedureNames func(ctx context.Context, code string) (vi, en string, err error)
}

// New is the statistics service over db.
func New(db *storage.DB, units *adminunit.Catalog, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	cal, w := newCalendar()
	return &Service{db: db, units: units, now: now, cal: cal, warning: w}
}

// Start rebuilds the counters when they were never built (a first start on
// a register that already holds people), then runs the consumers until ctx
// ends. The returned channels close when the consumers have stopped.
func (s *Service) Start(ctx context.Context, bus *events.Bus, log *slog.Logger) ([]<-chan struct{}, error) {
	if err := s.rebuildIfStale(ctx); err != nil {
		return nil, err
	}
	p, err := events.Consume(ctx, bus, PersonConsumer, log, s.HandlePersons)
	if err != nil {
		return nil, fmt.Errorf("stats person consumer: %w", err)
	}
	c, err := events.Consume(ctx, bus, CardConsumer, log, s.HandleCards)
	if err != nil {
		return nil, fmt.Errorf("stats card consumer: %w", err)
	}
	d, err := events.Consume(ctx, bus, DossierConsumer, log, s.HandleDossiers)
	if err != nil {
		return nil, fmt.Errorf("stats dossier consumer: %w", err)
	}
	e, err := events.Consume(ctx, bus, EIDConsumer, log, s.HandleEID)
	if err != nil {
		return nil, fmt.Errorf("stats e-ID consumer: %w", err)
	}
	ratings := make(chan struct{})
	go func() {
		defer close(ratings)
		s.followRatings(ctx, log)
	}()
	return []<-chan struct{}{p, c, d, e, ratings}, nil
}

// leaseRebuild is the lease a node holds while it rebuilds the counters.
const leaseRebuild = "stats-rebuild"

// rebuildIfStale rebuilds the counters when built says so, under the
// rebuild lease when there is one: of several nodes starting together one
// rebuilds, the others wait for it and then find the counters built.
func (s *Service) rebuildIfStale(ctx context.Context) error {
	if s.Leases != nil {
		const ttl = time.Minute
		if err := s.Leases.Wait(ctx, leaseRebuild, ttl, time.Second); err != nil {
			return err
		}
		// Renewed while the rebuild runs (it takes minutes on a large
		// register); a node that dies holding it loses it within ttl.
		held, stop := context.WithCancel(ctx)
		renewed := make(chan struct{})
		go func() {
			defer close(renewed)
			t := time.NewTicker(ttl / 3)
			defer t.Stop()
			for {
				select {
				case <-held.Done():
					return
				case <-t.C:
					_, _ = s.Leases.Renew(held, leaseRebuild, ttl)
				}
			}
		}()
		defer func() {
			stop()
			<-renewed
			_ = s.Leases.Release(context.WithoutCancel(ctx), leaseRebuild)
		}()
	}
	built, err := s.Built(ctx)
	if err != nil || built {
		return err
	}
	return s.Rebuild(ctx)
}

// Built reports whether the counters were built and nothing has loaded
// the register in bulk since (MarkStale). It does not compare the counters
// with the register: under live traffic they differ by the events in
// flight, and a rebuild taken then would race the consumers.
func (s *Service) Built(ctx context.Context) (bool, error) {
	var n int
	err := s.db.W.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM stats_state WHERE name = 'rebuilt_at') - (SELECT COUNT(*) FROM stats_state WHERE name = 'stale')`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("stats state: %w", err)
	}
	return n == 1, nil
}

// MarkStale records that the register was loaded in bulk without events
// (dancu seed into a running platform's database), so the next start
// rebuilds the counters from it.
func MarkStale(ctx context.Context, db *storage.DB) error {
	if _, err := db.W.ExecContext(ctx, `INSERT INTO stats_state (name, value) VALUES ('stale', $1)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("mark statistics stale: %w", err)
	}
	return nil
}

func msgID(m events.Msg, payloadID string) string {
	if m.ID != "" {
		return m.ID
	}
	return payloadID
}

// HandlePersons applies a batch of life events in one transaction.
func (s *Service) HandlePersons(ctx context.Context, batch []events.Msg) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, m := range batch {
			var ev events.LifeEvent
			var ok bool
			for _, sub := range []events.Subject[events.LifeEvent]{events.PersonBorn, events.PersonDied, events.PersonMoved} {
				if ev, ok = events.Decode(sub, m); ok {
					break
				}
			}
			if !ok {
				continue
			}
			first, err := events.FirstReceipt(ctx, tx, receipts, msgID(m, ev.EventID), s.now())
			if err != nil {
				return err
			}
			if !first {
				continue
			}
			if err := s.countFlow(ctx, tx, m.Subject, ev); err != nil {
				return err
			}
			if err := s.refresh(ctx, tx, ev.PIN); err != nil {
				return err
			}
		}
		return nil
	})
}

// HandleCards applies a batch of card events in one transaction.
func (s *Service) HandleCards(ctx context.Context, batch []events.Msg) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, m := range batch {
			var ev events.CardEvent
			var ok bool
			for _, sub := range []events.Subject[events.CardEvent]{events.CardIssued, events.CardRevoked} {
				if ev, ok = events.Decode(sub, m); ok {
					break
				}
			}
			if !ok {
				continue
			}
			first, err := events.FirstReceipt(ctx, tx, receipts, msgID(m, "card."+ev.Serial+"."+ev.Status), s.now())
			if err != nil {
				return err
			}
			if !first {
				continue
			}
			if err := s.refresh(ctx, tx, ev.PIN); err != nil {
				return err
			}
		}
		return nil
	})
}

func month(effective string, recorded time.Time) string {
	if len(effective) >= 7 {
		return effective[:7]
	}
	return recorded.Format("2006-01")
}

func (s *Service) province(commune string) string {
	u, err := s.units.Commune(commune, s.now())
	if err != nil {
		return ""
	}
	return u.ProvinceCode
}

func (s *Service) countFlow(ctx context.Context, tx *sql.Tx, subject string, ev events.LifeEvent) error {
	mo := month(ev.Effective, ev.Recorded)
	add := func(commune, kind string) error {
		if commune == "" {
			return nil
		}
		province := s.province(commune)
		_, err := tx.ExecContext(ctx, `INSERT INTO stats_flows (province, commune, kind, month, n) VALUES ($1, $2, $3, $4, 1)
			ON CONFLICT (commune, kind, month) DO UPDATE SET n = stats_flows.n + 1`, province, commune, kind, mo)
		if err != nil {
			return fmt.Errorf("count %s: %w", kind, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO stats_province_flows (province, kind, month, n) VALUES ($1, $2, $3, 1)
			ON CONFLICT (province, kind, month) DO UPDATE SET n = stats_province_flows.n + 1`, province, kind, mo)
		if err != nil {
			return fmt.Errorf("count %s: %w", kind, err)
		}
		return nil
	}
	switch subject {
	case events.PersonBorn.String():
		return add(ev.Commune, Born)
	case events.PersonDied.String():
		return add(ev.Commune, Died)
	case events.PersonMoved.String():
		if ev.FromCommune == ev.Commune {
			return nil // a move within the commune changes no count
		}
		if err := add(ev.Commune, MovedIn); err != nil {
			return err
		}
		return add(ev.FromCommune, MovedOut)
	}
	return nil
}

// contribution is what one person adds to stats_counts.
type contribution struct {
	province, commune, sex string
	birthYear              int
	living, carded         bool
}

func birthYear(date string) int {
	if len(date) < 4 {
		return 0
	}
	y, err := strconv.Atoi(date[:4])
	if err != nil {
		return 0
	}
	return y
}

// refresh re-reads pin's facts and moves its contribution, with the
// person's row locked so two consumers refreshing one person serialize and
// the later one reads the later state.
func (s *Service) refresh(ctx context.Context, tx *sql.Tx, pin string) error {
	if pin == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO stats_people (pin, province, commune, sex, birth_year, living, carded) VALUES ($1, '', '', '', 0, 0, 0)
		ON CONFLICT (pin) DO NOTHING`, pin); err != nil {
		return fmt.Errorf("stats person: %w", err)
	}
	var old contribution
	var living, carded int
	if err := tx.QueryRowContext(ctx, `SELECT province, commune, sex, birth_year, living, carded FROM stats_people WHERE pin = $1`+s.db.ForUpdate(), pin).
		Scan(&old.province, &old.commune, &old.sex, &old.birthYear, &living, &carded); err != nil {
		return fmt.Errorf("stats person: %w", err)
	}
	old.living, old.carded = living == 1, carded == 1
	f, found, err := registry.PersonFacts(ctx, s.db, pin)
	if err != nil {
		return err
	}
	var cur contribution
	if found {
		has, err := cardservice.HoldsValidCard(ctx, s.db, pin)
		if err != nil {
			return err
		}
		cur = contribution{province: s.province(f.Commune), commune: f.Commune, sex: f.Sex, birthYear: birthYear(f.BirthDate), living: !f.Dead}
		cur.carded = cur.living && has
	}
	if cur == old {
		return nil
	}
	if err := addCount(ctx, tx, old, -1); err != nil {
		return err
	}
	if err := addCount(ctx, tx, cur, 1); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE stats_people SET province = $1, commune = $2, sex = $3, birth_year = $4, living = $5, carded = $6 WHERE pin = $7`,
		cur.province, cur.commune, cur.sex, cur.birthYear, b2i(cur.living), b2i(cur.carded), pin); err != nil {
		return fmt.Errorf("stats person: %w", err)
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func addCount(ctx context.Context, tx *sql.Tx, c contribution, sign int) error {
	if !c.living {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO stats_counts (province, commune, sex, birth_year, living, carded) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (commune, sex, birth_year) DO UPDATE SET living = stats_counts.living + excluded.living, carded = stats_counts.carded + excluded.carded`,
		c.province, c.commune, c.sex, c.birthYear, sign, sign*b2i(c.carded))
	if err != nil {
		return fmt.Errorf("stats count: %w", err)
	}
	// The province's total, for the nation's page.
	_, err = tx.ExecContext(ctx, `INSERT INTO stats_province_counts (province, sex, birth_year, living, carded) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (province, sex, birth_year) DO UPDATE SET living = stats_province_counts.living + excluded.living, carded = stats_province_counts.carded + excluded.carded`,
		c.province, c.sex, c.birthYear, sign, sign*b2i(c.carded))
	if err != nil {
		return fmt.Errorf("stats province count: %w", err)
	}
	return nil
}
