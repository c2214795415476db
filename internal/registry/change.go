package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/storage"
)

// Names of the subjects the register publishes through the outbox; the
// contract (the subjects and their body's type) is internal/events'.
var (
	SubjectBorn        = events.PersonBorn.String()
	SubjectDied        = events.PersonDied.String()
	SubjectMoved       = events.PersonMoved.String()
	SubjectNameChanged = events.PersonNameChanged.String()
	SubjectTemporary   = events.PersonTemporary.String()
	SubjectMarried     = events.PersonMarried.String()
	SubjectDivorced    = events.PersonDivorced.String()
)

// Events declares what the register publishes.
var Events = events.Publishes("registry", events.PersonBorn, events.PersonDied, events.PersonMoved, events.PersonNameChanged, events.PersonTemporary,
	events.PersonMarried, events.PersonDivorced)

// EventMessage is the body of a life-event message (events.LifeEvent).
type EventMessage = events.LifeEvent

var subjects = map[string]events.Subject[events.LifeEvent]{
	EventBirth: events.PersonBorn, EventDeath: events.PersonDied, EventMove: events.PersonMoved, EventNameChange: events.PersonNameChanged, EventTemporary: events.PersonTemporary,
	EventMarriage: events.PersonMarried, EventDivorce: events.PersonDivorced,
}

// recordEvent writes a life event, its outbox message and its audit entry in tx.
func (s *Service) recordEvent(ctx context.Context, tx *sql.Tx, a actor.Actor, ev *LifeEvent, p *Person) error {
	now := s.now().UTC()
	ev.ID = storage.NewID()
	ev.PIN = p.PIN
	ev.Registrar = a.ID
	ev.Recorded = now
	var from Address
	if ev.From != nil {
		from = *ev.From
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO life_events (id, kind, pin, effective_date, registrar, reason, recorded_at, from_province, from_commune, evidence, other_pin)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, ev.ID, ev.Kind, ev.PIN, ev.Effective.String(), ev.Registrar, ev.Reason, now.Format(time.RFC3339Nano),
		from.ProvinceCode, from.CommuneCode, ev.Evidence, ev.OtherPIN); err != nil {
		return fmt.Errorf("insert life event: %w", err)
	}
	if err := recordRequest(ctx, tx, p.PIN, now); err != nil {
		return err
	}
	msg := EventMessage{EventID: ev.ID, Kind: ev.Kind, PIN: p.PIN, Effective: ev.Effective.String(),
		Province: p.Permanent.ProvinceCode, Commune: p.Permanent.CommuneCode, Recorded: now}
	if ev.Kind == EventMove {
		msg.FromProvince, msg.FromCommune = from.ProvinceCode, from.CommuneCode
	}
	detail := "event=" + ev.ID
	if ev.Evidence != "" {
		// The arrival's evidence is part of the act's record.
		detail += " arrival=" + ev.Evidence
	}
	subject, ok := subjects[ev.Kind]
	if !ok {
		return fmt.Errorf("life event kind %q has no subject", ev.Kind)
	}
	if _, err := events.Enqueue(ctx, tx, Events, subject, msg, now); err != nil {
		return err
	}
	// In the act's transaction, or written ahead of its commit: an act never
	// takes effect without its entry, though a written-ahead entry may record
	// an act whose commit then failed (its event id is absent from life_events).
	return s.audit.RecordTx(ctx, s.db, tx, audit.Entry{Actor: a.ID, Action: "person." + ev.Kind, Subject: "person:" + p.PIN,
		Purpose: "registration", Detail: detail, At: now})
}

// save snapshots old and writes p as its next version.
func (s *Service) save(ctx context.Context, tx *sql.Tx, a actor.Actor, old Person, p *Person, reason string) error {
	snap, err := json.Marshal(old)
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", old.PIN, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO person_versions (pin, version, snapshot) VALUES ($1, $2, $3)`, old.PIN, old.Version, string(snap)); err != nil {
		return fmt.Errorf("snapshot %s: %w", old.PIN, err)
	}
	p.Version = old.Version + 1
	p.UpdatedAt = s.now().UTC()
	p.UpdatedBy = a.ID
	p.UpdateReason = reason
	return updatePerson(ctx, tx, p)
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// AllocatePIN allocates a new personal identification number in its own
// transaction. Births allocate inside their own transaction instead.
func (s *Service) AllocatePIN(ctx context.Context, province string, birthYear int, sex byte) (pin.PIN, error) {
	var out pin.PIN
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = allocatePIN(ctx, tx, province, birthYear, sex)
		return err
	})
	return out, err
}

// ErrPINExhausted means a prefix has used all 999,999 serials.
var ErrPINExhausted = fault.New(fault.Conflict, "pin.exhausted", "Đã hết số thứ tự cho tỉnh, năm sinh và giới tính này.", "No serials are left for this province, birth year and sex.")

// allocatePIN takes the next counter value for the prefix PPPGYY and
// scrambles it into a serial. The counter row is locked until commit, so
// concurrent allocations never share a number.
func allocatePIN(ctx context.Context, tx *sql.Tx, province string, birthYear int, sex byte) (pin.PIN, error) {
	prefix, err := pin.Prefix(province, birthYear, sex)
	if err != nil {
		return "", err
	}
	var n int
	err = tx.QueryRowContext(ctx, `INSERT INTO pin_counters (prefix, n) VALUES ($1, 1)
		ON CONFLICT (prefix) DO UPDATE SET n = pin_counters.n + 1 RETURNING n`, prefix).Scan(&n)
	if err != nil {
		return "", fmt.Errorf("allocate PIN: %w", err)
	}
	if n > pin.MaxSerial {
		return "", ErrPINExhausted
	}
	return pin.FromSerial(prefix, pin.Scramble(prefix, n-1)), nil
}
