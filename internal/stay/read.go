package stay

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
)

// Stay is one reported guest as the commune police read it.
type Stay struct {
	HostID, HostName, Ref      string
	PIN, Passport, Nationality string
	FullName                   string
	BirthDate                  civildate.Date
	Reason                     string
	Arrival, Reported, Due     time.Time
	Departure                  time.Time // zero while the guest stays
	Until                      civildate.Date
	Late                       bool
	Days                       int // days stayed so far (or in all, once departed)
}

// View is what the police of a commune see: the guests staying now, the
// late reports of the last 30 days and the stays of 30 days or more.
type View struct {
	Current, Late, Long []Stay
}

// MaxView bounds each list of a View.
const MaxView = 500

// Unit reads the guests of hosts in commune for a staff actor. The one
// rule: the role does desk acts (registrar, desk) and the commune is in the
// actor's scope, checked before anything is read. Every person shown is
// audited, one entry per person, before the view is returned.
func (s *Service) Unit(ctx context.Context, a actor.Actor, province, commune string) (View, error) {
	if !a.Can(actor.DeskActs) || !a.Covers(province, commune) || len(commune) != 5 {
		return View{}, ErrScope
	}
	now := s.now()
	var v View
	var err error
	if v.Current, err = s.list(ctx, now, `g.commune = $1 AND g.departure IS NULL ORDER BY g.arrival DESC`, commune); err != nil {
		return View{}, err
	}
	if v.Late, err = s.list(ctx, now, `g.commune = $1 AND g.late = 1 AND g.reported >= $2 ORDER BY g.reported DESC`, commune, now.AddDate(0, 0, -30).Unix()); err != nil {
		return View{}, err
	}
	if v.Long, err = s.list(ctx, now, `g.commune = $1 AND g.departure IS NULL AND g.arrival <= $2 ORDER BY g.arrival`, commune, now.AddDate(0, 0, -OfferDays).Unix()); err != nil {
		return View{}, err
	}
	seen := map[string]bool{}
	var es []audit.Entry
	for _, l := range [][]Stay{v.Current, v.Late, v.Long} {
		for _, st := range l {
			subj := "person:" + st.PIN
			if st.PIN == "" {
				subj = "foreigner:" + st.Nationality + ":" + st.Passport
			}
			if !seen[subj] {
				seen[subj] = true
				es = append(es, audit.Entry{Actor: a.ID, Action: "stay.read", Subject: subj, Purpose: "stay-supervision", Detail: "commune " + commune})
			}
		}
	}
	if err := s.audit.RecordAll(ctx, es); err != nil {
		return View{}, fmt.Errorf("audit stay read: %w", err)
	}
	return v, nil
}

func (s *Service) list(ctx context.Context, now time.Time, where string, args ...any) ([]Stay, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT g.host_id, h.name, g.ref, g.pin, g.passport, g.nationality, g.full_name, g.birth_date, g.reason,
		g.arrival, g.reported, g.due, g.departure, g.until_date, g.late FROM stay_guests g JOIN stay_hosts h ON h.id = g.host_id WHERE `+where+
		fmt.Sprintf(" LIMIT %d", MaxView), args...)
	if err != nil {
		return nil, fmt.Errorf("stay list: %w", err)
	}
	defer rows.Close()
	var out []Stay
	for rows.Next() {
		var st Stay
		var birth, until string
		var arrival, reported, due int64
		var dep sql.NullInt64
		var late int
		if err := rows.Scan(&st.HostID, &st.HostName, &st.Ref, &st.PIN, &st.Passport, &st.Nationality, &st.FullName, &birth, &st.Reason,
			&arrival, &reported, &due, &dep, &until, &late); err != nil {
			return nil, fmt.Errorf("stay list: %w", err)
		}
		st.BirthDate, _ = civildate.Parse(birth)
		st.Until, _ = civildate.Parse(until)
		st.Arrival, st.Reported, st.Due = time.Unix(arrival, 0), time.Unix(reported, 0), time.Unix(due, 0)
		end := now
		if dep.Valid {
			st.Departure = time.Unix(dep.Int64, 0)
			end = st.Departure
		}
		st.Late = late == 1
		st.Days = int(end.Sub(st.Arrival).Hours() / 24)
		out = append(out, st)
	}
	return out, rows.Err()
}

// Offer is a temporary-residence registration offered to a citizen.
type Offer struct {
	HostID, Province, Commune string
	From, To                  civildate.Date
}

// SweepOffers offers temporary residence to every citizen whose stay,
// still open, has reached 30 days outside the commune of permanent
// residence; a job runs it daily. It returns how many offers it made.
func (s *Service) SweepOffers(ctx context.Context) (int, error) {
	now := s.now()
	rows, err := s.db.R.QueryContext(ctx, `SELECT g.host_id, g.ref, g.pin, g.arrival, g.until_date, h.province, h.commune FROM stay_guests g
		JOIN stay_hosts h ON h.id = g.host_id LEFT JOIN stay_offers o ON o.host_id = g.host_id AND o.ref = g.ref
		WHERE g.pin <> '' AND g.departure IS NULL AND g.arrival <= $1 AND o.ref IS NULL`, now.AddDate(0, 0, -OfferDays).Unix())
	if err != nil {
		return 0, fmt.Errorf("stay sweep: %w", err)
	}
	type due struct {
		h        Host
		ref, pin string
		arrival  int64
		until    civildate.Date
	}
	var ds []due
	for rows.Next() {
		var d due
		var until string
		if err := rows.Scan(&d.h.ID, &d.ref, &d.pin, &d.arrival, &until, &d.h.Province, &d.h.Commune); err != nil {
			rows.Close()
			return 0, fmt.Errorf("stay sweep: %w", err)
		}
		d.until, _ = civildate.Parse(until)
		ds = append(ds, d)
	}
	rows.Close()
	n := 0
	for _, d := range ds {
		c, err := s.reg.ReadCoreUnaudited(ctx, lookup, d.pin)
		if err != nil || c.Permanent.CommuneCode == d.h.Commune {
			continue
		}
		if err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			return s.offer(ctx, tx, d.h, d.ref, d.pin, time.Unix(d.arrival, 0), d.until, now)
		}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Offers lists the temporary-residence offers made to the citizen pin, for
// the portal (the citizen reads their own).
func (s *Service) Offers(ctx context.Context, pin string) ([]Offer, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT host_id, province, commune, from_date, to_date FROM stay_offers WHERE pin = $1 ORDER BY offered`, pin)
	if err != nil {
		return nil, fmt.Errorf("stay offers: %w", err)
	}
	defer rows.Close()
	var out []Offer
	for rows.Next() {
		var o Offer
		var from, to string
		if err := rows.Scan(&o.HostID, &o.Province, &o.Commune, &from, &to); err != nil {
			return nil, fmt.Errorf("stay offers: %w", err)
		}
		o.From, _ = civildate.Parse(from)
		o.To, _ = civildate.Parse(to)
		out = append(out, o)
	}
	return out, rows.Err()
}
