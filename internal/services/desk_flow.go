package services

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/document"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/workday"
)

// DeskEvents declares what the desk publishes beyond the dossiers' life:
// a dossier given to an officer, and one sent to another unit.
var DeskEvents = events.Publishes("services.desk", events.DossierAssigned, events.DossierTransferred)

// Actions of the desk besides ActStart … ActReturn.
const (
	ActAssign   = "assign"
	ActTransfer = "transfer"
	ActComment  = "comment"
)

// History notes of the desk's internal acts: kept in the dossier's
// history for the officers, never shown to the filer (HistoryOf).
const (
	noteAssigned    = "assigned"
	noteTransferred = "transferred"
	noteComment     = "comment"
	noteDigitized   = "digitized"
)

func internalNote(n string) bool {
	for _, p := range []string{noteAssigned, noteTransferred, noteComment, noteDigitized} {
		if n == p || strings.HasPrefix(n, p+":") {
			return true
		}
	}
	return false
}

// DeskDossier is a dossier as the desk sees it.
type DeskDossier struct {
	Dossier
	ReceivedBy string         `json:"received_by,omitempty"`
	Assignee   string         `json:"assignee,omitempty"`
	ClockNow   workday.Status `json:"clock_status,omitzero"`
}

const deskColumns = dossierColumns + `, received_by, assignee`

// withExtra scans a dossier's columns and then extra ones.
type withExtra struct {
	r     scanner
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.r.Scan(append(dest, w.extra...)...) }

func scanDesk(r scanner) (DeskDossier, error) {
	var dd DeskDossier
	d, err := scanDossier(withExtra{r, []any{&dd.ReceivedBy, &dd.Assignee}})
	if err != nil {
		return DeskDossier{}, err
	}
	dd.Dossier = d
	return dd, nil
}

func (k *Desk) clockOf(dd *DeskDossier) {
	if dd.Clock != nil && (dd.Status == Received || dd.Status == InProgress || dd.Status == Supplement) {
		if st, err := k.s.d.Calendar.Status(*dd.Clock, k.s.d.Now(), workday.DefaultWarning()); err == nil {
			dd.ClockNow = st
		}
	}
}

func (k *Desk) load(ctx context.Context, code string) (DeskDossier, error) {
	if len(code) > 40 {
		return DeskDossier{}, ErrNotFound
	}
	dd, err := scanDesk(k.s.d.DB.R.QueryRowContext(ctx, `SELECT `+deskColumns+` FROM dossiers WHERE code = $1`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return DeskDossier{}, ErrNotFound
	}
	if err != nil {
		return DeskDossier{}, fmt.Errorf("services: load dossier: %w", err)
	}
	return dd, nil
}

// scoped loads a dossier and applies the one scope rule before anything
// else: a dossier out of the officer's scope answers as unknown.
func (k *Desk) scoped(ctx context.Context, a actor.Actor, code string) (DeskDossier, error) {
	dd, err := k.load(ctx, code)
	if err != nil || !inScope(a, dd.Dossier) {
		return DeskDossier{}, ErrNotFound
	}
	return dd, nil
}

// Queue filters of the desk's list.
type QueueFilter struct {
	Status Status // one status, or all
	Mine   bool   // assigned to the officer asking
	Clock  string // "overdue", "due_soon" (early warning, overdue included), or all
}

// Queue lists the dossiers of the officer's unit, newest first, with
// where each one's legal clock stands; audited like ForUnit.
func (k *Desk) Queue(ctx context.Context, a actor.Actor, f QueueFilter) ([]DeskDossier, error) {
	where, args, ok := unitWhere(a)
	if !ok {
		return nil, ErrForbidden
	}
	if f.Status != "" {
		args = append(args, string(f.Status))
		where += fmt.Sprintf(` AND status = $%d`, len(args))
	}
	if f.Mine {
		args = append(args, a.ID)
		where += fmt.Sprintf(` AND assignee = $%d`, len(args))
	}
	rows, err := k.s.d.DB.R.QueryContext(ctx, `SELECT `+deskColumns+` FROM dossiers `+where+` ORDER BY submitted_at DESC, code DESC LIMIT 500`, args...)
	if err != nil {
		return nil, fmt.Errorf("services: desk queue: %w", err)
	}
	defer rows.Close()
	out := []DeskDossier{}
	for rows.Next() {
		dd, err := scanDesk(rows)
		if err != nil {
			return nil, fmt.Errorf("services: desk queue: %w", err)
		}
		k.clockOf(&dd)
		switch f.Clock {
		case string(workday.Overdue):
			if dd.ClockNow.State != workday.Overdue {
				continue
			}
		case string(workday.DueSoon):
			if dd.ClockNow.State != workday.DueSoon && dd.ClockNow.State != workday.Overdue {
				continue
			}
		}
		out = append(out, dd)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := k.s.d.Audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "dossier.list", Subject: "unit:" + a.Unit, Purpose: "one-stop-desk", Detail: fmt.Sprintf("%d", len(out))}); err != nil {
		return nil, err
	}
	return out, nil
}

// DeskHistory is one change of a dossier as the officers see it.
type DeskHistory struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Status Status    `json:"status"`
	Note   string    `json:"note,omitempty"`
}

// Comment is an officer's internal note on a dossier.
type Comment struct {
	At     time.Time `json:"at"`
	Author string    `json:"author"`
	Body   string    `json:"body"`
}

// DeskDocument is one of a dossier's documents as the desk lists it.
type DeskDocument struct {
	Attachment
	Title     string        `json:"title"`
	MediaType string        `json:"media_type"`
	Size      int64         `json:"size"`
	Digitized *Digitization `json:"digitized,omitempty"`
	// Verified says the digitization record holds for the stored bytes
	// and the platform's certificate (VerifyDigitization).
	Verified bool `json:"verified,omitempty"`
}

// DeskDetail is everything the desk shows of one dossier.
type DeskDetail struct {
	DeskDossier
	CheckCode string `json:"check_code"`
	// ResultTitle and ResultSize describe the signed result once returned.
	ResultTitle string         `json:"result_title,omitempty"`
	ResultSize  int64          `json:"result_size,omitempty"`
	Documents   []DeskDocument `json:"documents"`
	History     []DeskHistory  `json:"history"`
	Comments    []Comment      `json:"comments"`
}

// Detail returns one dossier of the officer's unit with its documents,
// history and comments; audited (it holds the filer's data).
func (k *Desk) Detail(ctx context.Context, a actor.Actor, code string) (DeskDetail, error) {
	dd, err := k.scoped(ctx, a, code)
	if err != nil {
		return DeskDetail{}, err
	}
	if dd.Dossier, err = k.s.syncPayment(ctx, dd.Dossier); err != nil {
		return DeskDetail{}, err
	}
	k.clockOf(&dd)
	out := DeskDetail{DeskDossier: dd, CheckCode: k.s.checkCode(dd.Code), Documents: []DeskDocument{}, History: []DeskHistory{}, Comments: []Comment{}}
	digs, err := k.digitizations(ctx, dd.Code)
	if err != nil {
		return DeskDetail{}, err
	}
	for _, at := range dd.Attachments {
		doc := DeskDocument{Attachment: at}
		m, merr := k.s.d.Documents.Get(ctx, at.ID)
		if merr == nil {
			doc.Title, doc.MediaType, doc.Size = m.Title, m.MediaType, m.Size
		}
		if dg, ok := digs[at.ID]; ok {
			doc.Digitized = &dg
			doc.Verified = merr == nil && k.VerifyDigitization(dg, m.Body) == nil
		}
		out.Documents = append(out.Documents, doc)
	}
	if dd.Result != "" {
		if m, err := k.s.d.Documents.Get(ctx, dd.Result); err == nil {
			out.ResultTitle, out.ResultSize = m.Title, m.Size
		}
	}
	rows, err := k.s.d.DB.R.QueryContext(ctx, `SELECT at, actor, status, note FROM dossier_history WHERE code = $1 ORDER BY id`, dd.Code)
	if err != nil {
		return DeskDetail{}, fmt.Errorf("services: desk history: %w", err)
	}
	for rows.Next() {
		var h DeskHistory
		var at, st string
		if err := rows.Scan(&at, &h.Actor, &st, &h.Note); err != nil {
			rows.Close()
			return DeskDetail{}, err
		}
		h.At, h.Status = parseTS(at), Status(st)
		out.History = append(out.History, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return DeskDetail{}, err
	}
	crows, err := k.s.d.DB.R.QueryContext(ctx, `SELECT at, author, body FROM dossier_comments WHERE code = $1 ORDER BY id`, dd.Code)
	if err != nil {
		return DeskDetail{}, fmt.Errorf("services: desk comments: %w", err)
	}
	for crows.Next() {
		var c Comment
		var at string
		if err := crows.Scan(&at, &c.Author, &c.Body); err != nil {
			crows.Close()
			return DeskDetail{}, err
		}
		c.At = parseTS(at)
		out.Comments = append(out.Comments, c)
	}
	crows.Close()
	if err := crows.Err(); err != nil {
		return DeskDetail{}, err
	}
	if err := k.s.d.Audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "dossier.read", Subject: "dossier:" + code, Purpose: "one-stop-desk"}); err != nil {
		return DeskDetail{}, err
	}
	return out, nil
}

// Document returns one document of a dossier of the officer's unit, with
// its bytes, for download; audited.
func (k *Desk) Document(ctx context.Context, a actor.Actor, code, id string) (document.Document, error) {
	dd, err := k.scoped(ctx, a, code)
	if err != nil {
		return document.Document{}, err
	}
	if !slices.ContainsFunc(dd.Attachments, func(at Attachment) bool { return at.ID == id }) && dd.Result != id {
		return document.Document{}, document.ErrNotFound
	}
	doc, err := k.s.d.Documents.Get(ctx, id)
	if err != nil {
		return document.Document{}, err
	}
	if err := k.s.d.Audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "document.read", Subject: "document:" + id, Purpose: "one-stop-desk", Detail: "dossier:" + code}); err != nil {
		return document.Document{}, err
	}
	return doc, nil
}

// Act is the officer's step on a dossier (Service.Act) through the desk.
func (k *Desk) Act(ctx context.Context, a actor.Actor, code, action, reason string) (Dossier, error) {
	return k.s.Act(ctx, a, code, action, reason)
}

// OfficersFor lists the officers who may handle the dossier: those the one
// scope rule lets handle it, by name.
func (k *Desk) OfficersFor(ctx context.Context, a actor.Actor, code string) ([]actor.Actor, error) {
	dd, err := k.scoped(ctx, a, code)
	if err != nil {
		return nil, err
	}
	return k.officersOf(ctx, dd.Dossier)
}

func (k *Desk) officersOf(ctx context.Context, d Dossier) ([]actor.Actor, error) {
	all, err := k.d.Officers(ctx)
	if err != nil {
		return nil, err
	}
	var out []actor.Actor
	for _, o := range all {
		if inScope(o, d) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(x, y actor.Actor) int { return strings.Compare(x.Name, y.Name) })
	return out, nil
}

// OfficerName names a staff actor id for the pages ("" when unknown).
func (k *Desk) OfficerName(ctx context.Context, id string) string {
	all, err := k.d.Officers(ctx)
	if err != nil {
		return ""
	}
	for _, o := range all {
		if o.ID == id {
			return o.Name
		}
	}
	return ""
}

// noEvent is change's subject for an act that publishes nothing.
var noEvent = events.Subject[events.DossierEvent]{}

// open are the states in which a dossier is still being handled.
var open = []Status{AwaitingPayment, Received, InProgress, Supplement, Approved}

// change runs fn on a dossier under its row lock when it is in one of
// from, then records the history row and, when subject is set, the event.
func (k *Desk) change(ctx context.Context, code, who string, from []Status, note string, subject events.Subject[events.DossierEvent],
	fn func(tx *sql.Tx, dd *DeskDossier) error) (DeskDossier, error) {
	var out DeskDossier
	now := k.s.d.Now()
	err := k.s.d.DB.Tx(ctx, func(tx *sql.Tx) error {
		dd, err := scanDesk(tx.QueryRowContext(ctx, `SELECT `+deskColumns+` FROM dossiers WHERE code = $1`+k.s.d.DB.ForUpdate(), code))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("services: load dossier: %w", err)
		}
		if !slices.Contains(from, dd.Status) {
			return ErrState
		}
		if err := fn(tx, &dd); err != nil {
			return err
		}
		dd.UpdatedAt = now.UTC()
		if _, err := tx.ExecContext(ctx, `UPDATE dossiers SET updated_at = $1 WHERE code = $2`, ts(dd.UpdatedAt), code); err != nil {
			return fmt.Errorf("services: update dossier: %w", err)
		}
		if err := k.s.history(ctx, tx, code, who, dd.Status, note, now); err != nil {
			return err
		}
		if subject.String() != "" {
			if _, err := events.Enqueue(ctx, tx, DeskEvents, subject, k.s.event(dd.Dossier, now), now); err != nil {
				return err
			}
		}
		out = dd
		return nil
	})
	return out, err
}

// Assign gives a dossier of the officer's unit to an officer who may
// handle it (the same scope rule); an empty officer takes the assignment
// back. Recorded in the history, the audit and on the outbox.
func (k *Desk) Assign(ctx context.Context, a actor.Actor, code, officer string) (DeskDossier, error) {
	dd, err := k.scoped(ctx, a, code)
	if err != nil {
		return DeskDossier{}, err
	}
	officer = strings.TrimSpace(officer)
	if officer != "" {
		cands, err := k.officersOf(ctx, dd.Dossier)
		if err != nil {
			return DeskDossier{}, err
		}
		if !slices.ContainsFunc(cands, func(o actor.Actor) bool { return o.ID == officer }) {
			return DeskDossier{}, ErrAssignee.WithField("officer")
		}
	}
	out, err := k.change(ctx, dd.Code, a.ID, open, noteAssigned+":"+officer, events.DossierAssigned, func(tx *sql.Tx, d *DeskDossier) error {
		d.Assignee = officer
		_, err := tx.ExecContext(ctx, `UPDATE dossiers SET assignee = $1 WHERE code = $2`, officer, d.Code)
		return err
	})
	if err != nil {
		return DeskDossier{}, err
	}
	if err := k.s.d.Audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "dossier.assign", Subject: "dossier:" + code, Purpose: "one-stop-desk", Detail: officer}); err != nil {
		return DeskDossier{}, err
	}
	return out, nil
}

// Transfer sends a dossier to another unit of the procedure's level (a
// commune, or a province for a provincial procedure): from then on the
// scope rule gives it to that unit's officers, and the sending unit no
// longer sees or acts on it. The assignment ends; the dossier code stays.
func (k *Desk) Transfer(ctx context.Context, a actor.Actor, code, unit, note string) (DeskDossier, error) {
	dd, err := k.scoped(ctx, a, code)
	if err != nil {
		return DeskDossier{}, err
	}
	if note, err = checkReason(note, false); err != nil {
		return DeskDossier{}, ErrReason.WithField("note")
	}
	unit = strings.TrimSpace(unit)
	p, err := k.s.d.Catalogue.Get(ctx, dd.Procedure)
	if err != nil {
		return DeskDossier{}, err
	}
	province, commune := "", ""
	_, known := k.d.UnitName(unit)
	switch {
	case !known:
		return DeskDossier{}, ErrTransfer.WithField("unit")
	case p.Level == "province" && len(unit) == 2:
		province = unit
	case p.Level != "province" && len(unit) == 5:
		if province, err = k.s.d.Units.CommuneProvince(unit, k.s.d.Now()); err != nil {
			return DeskDossier{}, ErrTransfer.WithField("unit")
		}
		commune = unit
	default:
		return DeskDossier{}, ErrTransfer.WithField("unit")
	}
	if province == dd.Province && commune == dd.Commune {
		return DeskDossier{}, ErrSameUnit.WithField("unit")
	}
	from := dd.Unit
	to := UnitCode(province, commune)
	out, err := k.change(ctx, dd.Code, a.ID, []Status{AwaitingPayment, Received, InProgress, Supplement}, noteTransferred+":"+to, events.DossierTransferred,
		func(tx *sql.Tx, d *DeskDossier) error {
			d.Unit, d.Province, d.Commune, d.Assignee = to, province, commune, ""
			_, err := tx.ExecContext(ctx, `UPDATE dossiers SET unit_code = $1, province_code = $2, commune_code = $3, assignee = '' WHERE code = $4`,
				to, province, commune, d.Code)
			if err == nil && note != "" {
				_, err = tx.ExecContext(ctx, `INSERT INTO dossier_comments (code, at, author, body) VALUES ($1, $2, $3, $4)`, d.Code, ts(k.s.d.Now()), a.ID, note)
			}
			return err
		})
	if err != nil {
		return DeskDossier{}, err
	}
	if err := k.s.d.Audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "dossier.transfer", Subject: "dossier:" + code, Purpose: "one-stop-desk", Detail: from + " → " + to}); err != nil {
		return DeskDossier{}, err
	}
	return out, nil
}

// Comment adds an officer's internal note to a dossier of their unit.
func (k *Desk) Comment(ctx context.Context, a actor.Actor, code, body string) (Comment, error) {
	dd, err := k.scoped(ctx, a, code)
	if err != nil {
		return Comment{}, err
	}
	body = strings.TrimSpace(body)
	if body == "" || utf8.RuneCountInString(body) > 1000 || !utf8.ValidString(body) || strings.ContainsAny(body, "\x00\x1b") {
		return Comment{}, ErrComment.WithField("body")
	}
	c := Comment{At: k.s.d.Now().UTC(), Author: a.ID, Body: body}
	all := append(append([]Status{}, open...), Rejected, Returned)
	_, err = k.change(ctx, dd.Code, a.ID, all, noteComment, noEvent, func(tx *sql.Tx, d *DeskDossier) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO dossier_comments (code, at, author, body) VALUES ($1, $2, $3, $4)`, d.Code, ts(c.At), a.ID, body)
		return err
	})
	if err != nil {
		return Comment{}, err
	}
	if err := k.s.d.Audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "dossier.comment", Subject: "dossier:" + code, Purpose: "one-stop-desk"}); err != nil {
		return Comment{}, err
	}
	return c, nil
}

// Receipt gives the desk a dossier's receipt again (to print).
func (k *Desk) Receipt(ctx context.Context, a actor.Actor, code string) (Receipt, DeskDossier, error) {
	dd, err := k.scoped(ctx, a, code)
	if err != nil {
		return Receipt{}, DeskDossier{}, err
	}
	if err := k.s.d.Audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "dossier.read", Subject: "dossier:" + code, Purpose: "one-stop-desk", Detail: "receipt"}); err != nil {
		return Receipt{}, DeskDossier{}, err
	}
	return Receipt{Dossier: dd.Dossier, CheckCode: k.s.checkCode(dd.Code)}, dd, nil
}

// Procedure returns a procedure of the catalogue (for the pages' names).
func (k *Desk) Procedure(ctx context.Context, code string) (Procedure, error) {
	return k.s.d.Catalogue.Get(ctx, code)
}

// UnitName names a unit code for the pages.
func (k *Desk) UnitName(code string) (string, bool) { return k.d.UnitName(code) }
