package stats

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/registry"
)

// EIDConsumer counts e-ID activations by level, per commune of the
// holder's permanent residence.
var EIDConsumer = events.Consumer{Name: "stats-eid", Handles: []events.Topic{events.EIDActivated}, Batch: 200, AckWait: 30 * time.Second}

// HandleEID applies a batch of e-ID activations in one transaction, each
// counted once by its event id.
func (s *Service) HandleEID(ctx context.Context, batch []events.Msg) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, m := range batch {
			ev, ok := events.Decode(events.EIDActivated, m)
			if !ok || ev.PIN == "" || (ev.Level != 1 && ev.Level != 2) {
				continue
			}
			first, err := events.FirstReceipt(ctx, tx, receipts, msgID(m, "eid."+ev.PIN+"."+strconv.Itoa(ev.Level)+"."+ev.At.Format(time.RFC3339Nano)), s.now())
			if err != nil {
				return err
			}
			if !first {
				continue
			}
			f, found, err := registry.PersonFacts(ctx, s.db, ev.PIN)
			if err != nil {
				return err
			}
			commune := ""
			if found {
				commune = f.Commune
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO stats_eid (province, commune, level, n) VALUES ($1, $2, $3, 1)
				ON CONFLICT (province, commune, level) DO UPDATE SET n = stats_eid.n + 1`, s.province(commune), commune, ev.Level); err != nil {
				return fmt.Errorf("stats e-ID: %w", err)
			}
		}
		return nil
	})
}
