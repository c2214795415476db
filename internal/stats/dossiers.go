package stats

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/events"
)

// Dossier indicators. The dancu.dossier.* events (internal/services) carry
// each dossier's state, receiving unit, due date, fee, documents and
// channel; the consumer keeps one row per dossier (stats_dossiers) and
// moves the dossier's contribution between the unit's counters
// (stats_dossier_counts) as it changes, in the transaction that records the
// event's receipt. A dossier's rating is read from the services module's
// ratings as they are made (followRatings), since rating publishes no event.

// DossierConsumer keeps the dossier indicators.
var DossierConsumer = events.Consumer{Name: "stats-dossier", Handles: []events.Topic{events.DossierSubmitted, events.DossierReceived,
	events.DossierSupplement, events.DossierApproved, events.DossierRejected, events.DossierReturned}, Batch: 200, AckWait: 30 * time.Second}

// Dossier states, as the services module names them in its events.
const (
	dossierAwaitingPayment = "awaiting_payment"
	dossierSupplement      = "supplement_requested"
	dossierApproved        = "approved"
	dossierRejected        = "rejected"
	dossierReturned        = "returned"
)

// dossierRow is what stats knows of one dossier.
type dossierRow struct {
	province, commune, procedure, status string
	atNS                                 int64
	desk                                 bool
	fee                                  int64
	documents, reused                    int
	due, finishedOn                      string
	stars                                int
}

// Dossiers are a unit's dossier counts. Overdue and DueSoon are the open
// dossiers past their due date and those the early warning names (read at
// the time of asking, as days pass without events).
type Dossiers struct {
	Filed      int64 `json:"filed"`              // dossiers filed (online or at the desk)
	Desk       int64 `json:"received_at_desk"`   // of them received at the desk
	Online     int64 `json:"received_online"`    // of them filed online
	Received   int64 `json:"received"`           // whose legal clock started (fee paid, or none)
	Digitized  int64 `json:"digitized"`          // received with their documents held electronically
	Documents  int64 `json:"documents"`          // documents of the dossiers filed
	Reused     int64 `json:"documents_reused"`   // of them reused from the filer's store
	FeeDue     int64 `json:"fees_paid"`          // received dossiers whose fee was paid
	PaidOnline int64 `json:"fees_paid_online"`   // of them paid online
	Finished   int64 `json:"finished"`           // decided (approved or rejected)
	OnTime     int64 `json:"finished_on_time"`   // of them on or before the due date
	Late       int64 `json:"finished_late"`      // of them after it
	Approved   int64 `json:"approved"`           // approved (result returned or not yet)
	Returned   int64 `json:"results_returned"`   // whose signed electronic result reached the filer's store
	FullOnline int64 `json:"full_online"`        // filed online and returned online
	Rated      int64 `json:"rated"`              // rated by their filer
	Stars      int64 `json:"stars"`              // the sum of the ratings' stars (1–5 each)
	Overdue    int64 `json:"open_overdue"`       // open and past their due date today
	DueSoon    int64 `json:"open_early_warning"` // open and due within the early warning
}

func (d *Dossiers) plus(o Dossiers) {
	d.Filed += o.Filed
	d.Desk += o.Desk
	d.Online += o.Online
	d.Received += o.Received
	d.Digitized += o.Digitized
	d.Documents += o.Documents
	d.Reused += o.Reused
	d.FeeDue += o.FeeDue
	d.PaidOnline += o.PaidOnline
	d.Finished += o.Finished
	d.OnTime += o.OnTime
	d.Late += o.Late
	d.Approved += o.Approved
	d.Returned += o.Returned
	d.FullOnline += o.FullOnline
	d.Rated += o.Rated
	d.Stars += o.Stars
	d.Overdue += o.Overdue
	d.DueSoon += o.DueSoon
}

// counts is what one dossier adds to its unit's counters (the formulas of
// docs/service-index.md).
func (r dossierRow) counts() Dossiers {
	if r.status == "" {
		return Dossiers{}
	}
	received := r.status != dossierAwaitingPayment
	finished := r.finishedOn != ""
	late := finished && r.due != "" && r.finishedOn > r.due
	returned := r.status == dossierReturned
	var c Dossiers
	c.Filed = 1
	c.Desk = b64(r.desk)
	c.Online = b64(!r.desk)
	c.Received = b64(received)
	c.Digitized = b64(received && (!r.desk || r.documents > 0))
	c.Documents = int64(r.documents)
	c.Reused = int64(r.reused)
	c.FeeDue = b64(received && r.fee > 0)
	c.PaidOnline = b64(received && r.fee > 0 && !r.desk)
	c.Finished = b64(finished)
	c.OnTime = b64(finished && !late)
	c.Late = b64(late)
	c.Approved = b64(r.status == dossierApproved || returned)
	c.Returned = b64(returned)
	c.FullOnline = b64(returned && !r.desk)
	c.Rated = b64(r.stars > 0)
	c.Stars = int64(r.stars)
	return c
}

func b64(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// unitPlace reads the province and commune from a receiving unit's code
// (services.UnitCode: "000.04.00.H01" is commune 00004 of province 01,
// "000.00.00.H01" the province's agency), for events published before they
// carried the place.
func unitPlace(unit string) (province, commune string) {
	parts := strings.Split(unit, ".")
	if len(parts) != 4 || len(parts[3]) != 3 || parts[3][0] != 'H' || len(parts[0]) != 3 || len(parts[1]) != 2 {
		return "", ""
	}
	province = parts[3][1:]
	if c := parts[0] + parts[1]; c != "00000" {
		commune = c
	}
	return province, commune
}

// HandleDossiers applies a batch of dossier events in one transaction.
func (s *Service) HandleDossiers(ctx context.Context, batch []events.Msg) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, m := range batch {
			var ev events.DossierEvent
			var ok bool
			for _, sub := range []events.Subject[events.DossierEvent]{events.DossierSubmitted, events.DossierReceived, events.DossierSupplement,
				events.DossierApproved, events.DossierRejected, events.DossierReturned} {
				if ev, ok = events.Decode(sub, m); ok {
					break
				}
			}
			if !ok || ev.Code == "" {
				continue
			}
			first, err := events.FirstReceipt(ctx, tx, receipts, msgID(m, "dossier."+ev.Code+"."+ev.Status+"."+ev.At.Format(time.RFC3339Nano)), s.now())
			if err != nil {
				return err
			}
			if !first {
				continue
			}
			if err := s.applyDossier(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// lockDossier returns the dossier's row, locked, creating an empty one
// (status ”) for a dossier not seen before.
func (s *Service) lockDossier(ctx context.Context, tx *sql.Tx, code string) (dossierRow, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO stats_dossiers (code, province, commune, procedure_code, status, at_ns, desk, fee, documents, reused, due, finished_on, stars)
		VALUES ($1, '', '', '', '', 0, 0, 0, 0, 0, '', '', 0) ON CONFLICT (code) DO NOTHING`, code); err != nil {
		return dossierRow{}, fmt.Errorf("stats dossier: %w", err)
	}
	var r dossierRow
	var desk int
	err := tx.QueryRowContext(ctx, `SELECT province, commune, procedure_code, status, at_ns, desk, fee, documents, reused, due, finished_on, stars
		FROM stats_dossiers WHERE code = $1`+s.db.ForUpdate(), code).
		Scan(&r.province, &r.commune, &r.procedure, &r.status, &r.atNS, &desk, &r.fee, &r.documents, &r.reused, &r.due, &r.finishedOn, &r.stars)
	if err != nil {
		return dossierRow{}, fmt.Errorf("stats dossier: %w", err)
	}
	r.desk = desk == 1
	return r, nil
}

// applyDossier moves the dossier's contribution to its state in ev; an
// event older than the last one applied changes nothing (events of one
// dossier may arrive out of order after a redelivery).
func (s *Service) applyDossier(ctx context.Context, tx *sql.Tx, ev events.DossierEvent) error {
	old, err := s.lockDossier(ctx, tx, ev.Code)
	if err != nil {
		return err
	}
	at := ev.At.UnixNano()
	if old.status != "" && at < old.atNS {
		return nil
	}
	cur := old
	cur.province, cur.commune = ev.Province, ev.Commune
	if cur.province == "" {
		cur.province, cur.commune = unitPlace(ev.Unit)
	}
	cur.procedure, cur.status, cur.atNS = ev.Procedure, ev.Status, at
	cur.desk = ev.Channel == "desk"
	cur.fee, cur.documents, cur.reused = ev.Fee, ev.Documents, ev.Reused
	if ev.Due != "" {
		cur.due = ev.Due
	}
	if cur.finishedOn == "" && (ev.Status == dossierApproved || ev.Status == dossierRejected || ev.Status == dossierReturned) {
		cur.finishedOn = civildate.Of(ev.At).String()
	}
	return s.moveDossier(ctx, tx, ev.Code, old, cur)
}

// moveDossier takes old's counts from its unit, adds cur's and stores cur.
func (s *Service) moveDossier(ctx context.Context, tx *sql.Tx, code string, old, cur dossierRow) error {
	if old == cur {
		return nil
	}
	if old.status != "" {
		if err := addDossierCounts(ctx, tx, old.province, old.commune, old.counts(), -1); err != nil {
			return err
		}
	}
	if err := addDossierCounts(ctx, tx, cur.province, cur.commune, cur.counts(), 1); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE stats_dossiers SET province = $1, commune = $2, procedure_code = $3, status = $4, at_ns = $5, desk = $6, fee = $7,
		documents = $8, reused = $9, due = $10, finished_on = $11, stars = $12 WHERE code = $13`,
		cur.province, cur.commune, cur.procedure, cur.status, cur.atNS, b64(cur.desk), cur.fee, cur.documents, cur.reused, cur.due, cur.finishedOn, cur.stars, code)
	if err != nil {
		return fmt.Errorf("stats dossier: %w", err)
	}
	return nil
}

// dossierCols are stats_dossier_counts' counters, in the order of
// countValues.
const dossierCols = `filed, desk, received, digitized, documents, reused, fee_due, paid_online, finished, on_time, late, approved, returned, full_online, rated, stars`

func countValues(c Dossiers) []any {
	return []any{c.Filed, c.Desk, c.Received, c.Digitized, c.Documents, c.Reused, c.FeeDue, c.PaidOnline, c.Finished, c.OnTime, c.Late,
		c.Approved, c.Returned, c.FullOnline, c.Rated, c.Stars}
}

func addDossierCounts(ctx context.Context, tx *sql.Tx, province, commune string, c Dossiers, sign int64) error {
	vals := countValues(c)
	args := []any{province, commune}
	var ph, set []string
	for i, name := range strings.Split(dossierCols, ", ") {
		args = append(args, sign*vals[i].(int64))
		ph = append(ph, fmt.Sprintf("$%d", i+3))
		set = append(set, name+" = stats_dossier_counts."+name+" + excluded."+name)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO stats_dossier_counts (province, commune, `+dossierCols+`) VALUES ($1, $2, `+strings.Join(ph, ", ")+`)
		ON CONFLICT (province, commune) DO UPDATE SET `+strings.Join(set, ", "), args...)
	if err != nil {
		return fmt.Errorf("stats dossier counts: %w", err)
	}
	return nil
}

// RatingsEvery is how often followRatings looks for new ratings.
const RatingsEvery = time.Second

// ratingsOverlap is how far back each look at the ratings starts before
// the last one seen: a rating committed late with an earlier time is still
// read, and one read twice changes nothing (a dossier is rated once).
const ratingsOverlap = time.Minute

// followRatings reads the dossiers' ratings as they are made (the services
// module's dossier_ratings, by rating time) until ctx ends.
func (s *Service) followRatings(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(RatingsEvery)
	defer t.Stop()
	for {
		if _, err := s.ApplyRatings(ctx); err != nil && ctx.Err() == nil {
			log.Warn("stats ratings", "code", "stats.ratings_failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ApplyRatings counts the ratings made since the last look (less
// ratingsOverlap) and reports how many it counted. A rating of a dossier
// whose events have not arrived yet is left for a later look.
func (s *Service) ApplyRatings(ctx context.Context) (int, error) {
	var mark string
	err := s.db.R.QueryRowContext(ctx, `SELECT value FROM stats_state WHERE name = 'ratings_seen'`).Scan(&mark)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("stats ratings: %w", err)
	}
	from := ""
	if t, err := time.Parse(time.RFC3339Nano, mark); err == nil {
		from = t.Add(-ratingsOverlap).UTC().Format(time.RFC3339Nano)
	}
	type rating struct {
		code, at string
		stars    int
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT code, stars, rated_at FROM dossier_ratings WHERE rated_at >= $1 ORDER BY rated_at, code LIMIT 1000`, from)
	if err != nil {
		return 0, fmt.Errorf("stats ratings: %w", err)
	}
	var rs []rating
	for rows.Next() {
		var r rating
		if err := rows.Scan(&r.code, &r.stars, &r.at); err != nil {
			rows.Close()
			return 0, fmt.Errorf("stats ratings: %w", err)
		}
		rs = append(rs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("stats ratings: %w", err)
	}
	if len(rs) == 0 {
		return 0, nil
	}
	n := 0
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		seen := mark
		for _, r := range rs {
			if r.stars < 1 || r.stars > 5 {
				continue
			}
			old, err := s.lockDossier(ctx, tx, r.code)
			if err != nil {
				return err
			}
			if old.status == "" {
				break // its events are still on their way: look again from here
			}
			seen = r.at
			if old.stars != 0 {
				continue
			}
			cur := old
			cur.stars = r.stars
			if err := s.moveDossier(ctx, tx, r.code, old, cur); err != nil {
				return err
			}
			n++
		}
		if seen == mark {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO stats_state (name, value) VALUES ('ratings_seen', $1) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, seen)
		if err != nil {
			return fmt.Errorf("stats ratings: %w", err)
		}
		return nil
	})
	return n, err
}

// rebuildDossierCounts recomputes the units' dossier counters from the
// dossiers' rows (what the events said of each), in tx.
func (s *Service) rebuildDossierCounts(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM stats_dossier_counts`); err != nil {
		return fmt.Errorf("stats rebuild dossiers: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT province, commune, procedure_code, status, at_ns, desk, fee, documents, reused, due, finished_on, stars
		FROM stats_dossiers WHERE status <> ''`)
	if err != nil {
		return fmt.Errorf("stats rebuild dossiers: %w", err)
	}
	type place struct{ province, commune string }
	sums := map[place]*Dossiers{}
	for rows.Next() {
		var r dossierRow
		var desk int
		if err := rows.Scan(&r.province, &r.commune, &r.procedure, &r.status, &r.atNS, &desk, &r.fee, &r.documents, &r.reused, &r.due, &r.finishedOn, &r.stars); err != nil {
			rows.Close()
			return fmt.Errorf("stats rebuild dossiers: %w", err)
		}
		r.desk = desk == 1
		k := place{r.province, r.commune}
		if sums[k] == nil {
			sums[k] = &Dossiers{}
		}
		sums[k].plus(r.counts())
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("stats rebuild dossiers: %w", err)
	}
	for k, c := range sums {
		if err := addDossierCounts(ctx, tx, k.province, k.commune, *c, 1); err != nil {
			return err
		}
	}
	return nil
}
