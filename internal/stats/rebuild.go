package stats

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/registry"
)

// Rebuild recomputes every person's contribution and the counts from the
// register (registry.ScanPersons) and the valid cards, in one transaction:
// a crash leaves the old counters whole. Births, deaths and moves are event
// counts and are kept (with their receipts), so a replay after a rebuild
// does not count them twice. Run it with the consumers stopped; a stock a
// consumer refreshes afterwards is re-read from the sources anyway.
func (s *Service) Rebuild(ctx context.Context) error {
	carded := map[string]bool{}
	if err := cardservice.ScanValidCardHolders(ctx, s.db, func(pin string) error {
		carded[pin] = true
		return nil
	}); err != nil {
		return err
	}
	type key struct {
		province, commune, sex string
		year                   int
	}
	type cell struct{ living, carded int64 }
	counts := map[key]*cell{}
	const batch = 500
	const cols = 7
	insert := `INSERT INTO stats_people (pin, province, commune, sex, birth_year, living, carded) VALUES `
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM stats_people`, `DELETE FROM stats_counts`, `DELETE FROM stats_province_counts`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("stats rebuild: %w", err)
			}
		}
		args := make([]any, 0, batch*cols)
		flush := func() error {
			if len(args) == 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, insert+s.db.Values(len(args)/cols, cols), args...); err != nil {
				return fmt.Errorf("stats rebuild: %w", err)
			}
			args = args[:0]
			return nil
		}
		err := registry.ScanPersons(ctx, s.db, false, func(r *registry.PersonRow) error {
			pin, commune := string(r.PIN), string(r.Commune)
			c := contribution{province: s.province(commune), commune: commune, sex: string(r.Sex), birthYear: birthYear(string(r.BirthDate)), living: !r.Dead()}
			c.carded = c.living && carded[pin]
			args = append(args, pin, c.province, c.commune, c.sex, c.birthYear, b2i(c.living), b2i(c.carded))
			if c.living {
				k := key{c.province, c.commune, c.sex, c.birthYear}
				x := counts[k]
				if x == nil {
					x = &cell{}
					counts[k] = x
				}
				x.living++
				x.carded += int64(b2i(c.carded))
			}
			if len(args) == batch*cols {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
		insert = `INSERT INTO stats_counts (province, commune, sex, birth_year, living, carded) VALUES `
		const ccols = 6
		for k, c := range counts {
			args = append(args, k.province, k.commune, k.sex, k.year, c.living, c.carded)
			if len(args) == batch*ccols {
				if _, err := tx.ExecContext(ctx, insert+s.db.Values(batch, ccols), args...); err != nil {
					return fmt.Errorf("stats rebuild: %w", err)
				}
				args = args[:0]
			}
		}
		if len(args) > 0 {
			if _, err := tx.ExecContext(ctx, insert+s.db.Values(len(args)/ccols, ccols), args...); err != nil {
				return fmt.Errorf("stats rebuild: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO stats_province_counts (province, sex, birth_year, living, carded)
			SELECT province, sex, birth_year, SUM(living), SUM(carded) FROM stats_counts GROUP BY province, sex, birth_year`); err != nil {
			return fmt.Errorf("stats rebuild: %w", err)
		}
		if err := s.rebuildDossierCounts(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO stats_state (name, value) VALUES ('rebuilt_at', $1)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, s.now().UTC().Format(time.RFC3339Nano)); err != nil {
			return fmt.Errorf("stats rebuild: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM stats_state WHERE name IN ('stale', 'register_ends')`); err != nil {
			return fmt.Errorf("stats rebuild: %w", err)
		}
		return nil
	})
}
