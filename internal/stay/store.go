package stay

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/fault"
)

// Notify checks and stores guests reported by host h; who is the audit
// identity of the reporter ("partner:hotel-x", "citizen:<pin>"). Each guest
// gets an Outcome in input order: a refused guest does not stop the others.
// The accepted ones are stored in one transaction, so an error stores none.
// Every citizen whose stay is stored gets an audit entry (the register
// learns where they stay) naming the host and the reference stored — none
// for a duplicate or a refusal — and the stored guests are announced on
// the outbox (events.StayArrived, and events.StayLate for late reports),
// both in that transaction (see store).
func (s *Service) Notify(ctx context.Context, who string, h Host, gs []Guest) ([]Outcome, error) {
	now := s.now()
	out := make([]Outcome, len(gs))
	rows := make([]row, 0, len(gs))
	idx := make([]int, 0, len(gs))
	seen := make(map[string]bool, len(gs))
	for i, g := range gs {
		out[i].Ref = g.Ref
		r, errs := s.check(ctx, h, g, now)
		if len(errs) == 0 && seen[g.Ref] {
			errs = []*fault.Error{ErrRefRepeated.WithField("ref")}
		}
		if len(errs) > 0 {
			if errs[0].Kind == fault.Internal {
				return nil, errs[0]
			}
			out[i].Status, out[i].Errors = Refused, errs
			continue
		}
		seen[g.Ref] = true
		rows = append(rows, r)
		idx = append(idx, i)
	}
	if err := s.store(ctx, who, h, now, rows, idx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// chunk bounds the rows of one INSERT (17 parameters each).
const chunk = 500

func (s *Service) store(ctx context.Context, who string, h Host, now time.Time, rows []row, idx []int, out []Outcome) error {
	if len(rows) == 0 {
		return nil
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var stored []row
		for lo := 0; lo < len(rows); lo += chunk {
			hi := min(lo+chunk, len(rows))
			in, err := s.insert(ctx, tx, h, now, rows[lo:hi], idx[lo:hi], out)
			if err != nil {
				return err
			}
			if err := s.announce(ctx, tx, h, now, in); err != nil {
				return err
			}
			stored = append(stored, in...)
		}
		return s.record(ctx, tx, who, h, now, stored)
	})
}

// announce writes the events of a chunk of newly stored guests to the
// outbox in tx: one dancu.stay.arrived message, and one
// dancu.stay.late_report for those of them reported late.
func (s *Service) announce(ctx context.Context, tx *sql.Tx, h Host, now time.Time, stored []row) error {
	if len(stored) == 0 {
		return nil
	}
	arrived := events.StayEvent{Host: h.ID, HostKind: h.Kind, Province: h.Province, Commune: h.Commune, At: now.UTC(),
		Guests: make([]events.StayGuest, 0, len(stored))}
	late := arrived
	late.Guests = nil
	for _, r := range stored {
		arrival, due := r.arrival, r.due.UTC()
		g := events.StayGuest{Ref: r.g.Ref, PIN: r.pin, Arrival: &arrival, Due: &due, Late: r.late}
		if r.pin == "" {
			g.Nationality = strings.ToUpper(r.g.Nationality)
		}
		arrived.Guests = append(arrived.Guests, g)
		if r.late {
			late.Guests = append(late.Guests, g)
		}
	}
	if _, err := events.Enqueue(ctx, tx, Events, events.StayArrived, arrived, now); err != nil {
		return err
	}
	if len(late.Guests) > 0 {
		if _, err := events.Enqueue(ctx, tx, Events, events.StayLate, late, now); err != nil {
			return err
		}
	}
	return nil
}

// record writes the audit entry of each citizen newly stored, last in tx.
// With the audit log in the stay tables' database (PostgreSQL) the entries
// join tx and commit with the rows — last, so that the chain's head, which
// they lock, is held only for the commit and not while a file's chunks are
// stored; with a separate audit file (SQLite) they are written once the
// rows are in and before tx commits, the order every module keeps
// (audit.Log.RecordTx): a stay is never stored without its entry.
func (s *Service) record(ctx context.Context, tx *sql.Tx, who string, h Host, now time.Time, stored []row) error {
	var entries []audit.Entry
	for _, r := range stored {
		if r.pin != "" {
			entries = append(entries, audit.Entry{Actor: who, Action: "stay.notify", Subject: "person:" + r.pin, Purpose: "stay-notification",
				Detail: "host " + h.ID + " ref " + r.g.Ref, At: now})
		}
	}
	if len(entries) == 0 {
		return nil
	}
	var err error
	if s.auditDB == s.db {
		err = audit.AppendTx(ctx, s.db, tx, now, entries...)
	} else {
		err = s.audit.RecordAll(ctx, entries)
	}
	if err != nil {
		return fmt.Errorf("audit stay: %w", err)
	}
	return nil
}

// insert stores a chunk of checked rows, sets their outcomes and returns
// the rows it stored (not the duplicates, nor the reused references).
func (s *Service) insert(ctx context.Context, tx *sql.Tx, h Host, now time.Time, rows []row, idx []int, out []Outcome) ([]row, error) {
	args := make([]any, 0, len(rows)*17)
	for _, r := range rows {
		args = append(args, h.ID, r.g.Ref, r.digest, h.Province, h.Commune, r.pin, strings.ToUpper(r.g.Passport), strings.ToUpper(r.g.Nationality),
			r.name, r.birth, r.g.Reason, r.arrival.Unix(), r.until.String(), now.Unix(), r.due.Unix(), b2i(r.late), nil)
	}
	q := `INSERT INTO stay_guests (host_id, ref, digest, province, commune, pin, passport, nationality, full_name, birth_date, reason, arrival, until_date, reported, due, late, departure) VALUES ` +
		s.db.Values(len(rows), 17) + ` ON CONFLICT (host_id, ref) DO NOTHING RETURNING ref`
	res, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("insert stay guests: %w", err)
	}
	inserted := make(map[string]bool, len(rows))
	for res.Next() {
		var ref string
		if err := res.Scan(&ref); err != nil {
			res.Close()
			return nil, fmt.Errorf("insert stay guests: %w", err)
		}
		inserted[ref] = true
	}
	res.Close()
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("insert stay guests: %w", err)
	}
	var again []string
	for _, r := range rows {
		if !inserted[r.g.Ref] {
			again = append(again, r.g.Ref)
		}
	}
	digests, err := s.digests(ctx, tx, h.ID, again)
	if err != nil {
		return nil, err
	}
	var offers, stored []row
	for k, r := range rows {
		o := &out[idx[k]]
		switch {
		case inserted[r.g.Ref]:
			o.Status, o.Late, o.Offer = Accepted, r.late, r.offer
			due := r.due
			o.Due = &due
			stored = append(stored, r)
			if r.offer {
				offers = append(offers, r)
			}
		case digests[r.g.Ref] == r.digest:
			o.Status = Duplicate
		default:
			o.Status, o.Errors = Refused, []*fault.Error{ErrRefReused.WithField("ref")}
		}
	}
	for _, r := range offers {
		if err := s.offer(ctx, tx, h, r.g.Ref, r.pin, r.arrival, r.until, now); err != nil {
			return nil, err
		}
	}
	return stored, nil
}

func (s *Service) digests(ctx context.Context, tx *sql.Tx, host string, refs []string) (map[string]string, error) {
	m := make(map[string]string, len(refs))
	if len(refs) == 0 {
		return m, nil
	}
	args := []any{host}
	var ph []string
	for i, r := range refs {
		args = append(args, r)
		ph = append(ph, fmt.Sprintf("$%d", i+2))
	}
	rows, err := tx.QueryContext(ctx, `SELECT ref, digest FROM stay_guests WHERE host_id = $1 AND ref IN (`+strings.Join(ph, ",")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("stay digests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ref, d string
		if err := rows.Scan(&ref, &d); err != nil {
			return nil, fmt.Errorf("stay digests: %w", err)
		}
		m[ref] = d
	}
	return m, rows.Err()
}

// offer records a temporary-residence offer for a stay from arrival to
// until (the arrival plus 2 years at most, Art. 27).
func (s *Service) offer(ctx context.Context, tx *sql.Tx, h Host, ref, pin string, arrival time.Time, until civildate.Date, now time.Time) error {
	from := civildate.Of(arrival)
	limit := civildate.Of(from.Time().AddDate(2, 0, 0))
	if until.IsZero() || until.Time().After(limit.Time()) {
		until = limit
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO stay_offers (pin, host_id, ref, province, commune, from_date, to_date, offered) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
		ON CONFLICT (host_id, ref) DO NOTHING`, pin, h.ID, ref, h.Province, h.Commune, from.String(), until.String(), now.Unix())
	if err != nil {
		return fmt.Errorf("stay offer: %w", err)
	}
	return nil
}

// Depart records departures for host h. Each gets an Outcome in input
// order; an unknown reference or a time before the arrival is refused.
// The departures recorded are announced on the outbox (events.StayDeparted)
// in the same transaction.
func (s *Service) Depart(ctx context.Context, h Host, ds []Departure) ([]Outcome, error) {
	now := s.now()
	out := make([]Outcome, len(ds))
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		left := events.StayEvent{Host: h.ID, HostKind: h.Kind, Province: h.Province, Commune: h.Commune, At: now.UTC()}
		for i, d := range ds {
			out[i].Ref = d.Ref
			if d.Ref == "" || len(d.Ref) > 64 {
				out[i].Status, out[i].Errors = Refused, []*fault.Error{ErrRef.WithField("ref")}
				continue
			}
			var arrival int64
			var dep sql.NullInt64
			var guestPIN, nationality string
			err := tx.QueryRowContext(ctx, `SELECT arrival, departure, pin, nationality FROM stay_guests WHERE host_id = $1 AND ref = $2`+s.db.ForUpdate(), h.ID, d.Ref).
				Scan(&arrival, &dep, &guestPIN, &nationality)
			if err == sql.ErrNoRows {
				out[i].Status, out[i].Errors = Refused, []*fault.Error{ErrUnknownGuest.WithField("ref")}
				continue
			}
			if err != nil {
				return fmt.Errorf("stay departure: %w", err)
			}
			at := d.At.UTC().Truncate(time.Second)
			if d.At.IsZero() || at.Unix() < arrival || at.After(now.Add(5*time.Minute)) {
				out[i].Status, out[i].Errors = Refused, []*fault.Error{ErrDeparture.WithField("departed_at")}
				continue
			}
			if dep.Valid {
				out[i].Status = Duplicate
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE stay_guests SET departure = $1 WHERE host_id = $2 AND ref = $3`, at.Unix(), h.ID, d.Ref); err != nil {
				return fmt.Errorf("stay departure: %w", err)
			}
			out[i].Status = Accepted
			g := events.StayGuest{Ref: d.Ref, PIN: guestPIN, Departure: &at}
			if guestPIN == "" {
				g.Nationality = nationality
			}
			left.Guests = append(left.Guests, g)
		}
		if len(left.Guests) == 0 {
			return nil
		}
		_, err := events.Enqueue(ctx, tx, Events, events.StayDeparted, left, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
