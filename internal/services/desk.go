package services

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/document"
	"github.com/dancu-project/dancu/internal/document/result"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/payment"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/workday"
)

// Actions an officer takes on a dossier.
const (
	ActStart      = "start"      // received → in progress
	ActSupplement = "supplement" // in progress → supplement requested (the clock stops)
	ActApprove    = "approve"    // in progress → approved
	ActReject     = "reject"     // in progress or supplement requested → rejected (a refund by the fee rule)
	ActReturn     = "return"     // approved → returned (the signed result into the filer's store)
)

// inScope is the one rule of who handles a dossier: an officer with desk
// permission whose unit covers the receiving unit. It is checked before
// anything else, and a dossier out of scope answers as unknown.
func inScope(a actor.Actor, d Dossier) bool {
	return a.Can(actor.DeskActs) && a.Covers(d.Province, d.Commune)
}

// unitWhere is inScope as a query: the dossiers an officer with desk
// permission handles, by the receiving unit's codes; ok is false for
// anyone else.
func unitWhere(a actor.Actor) (string, []any, bool) {
	if !a.Can(actor.DeskActs) {
		return "", nil, false
	}
	switch a.Level() {
	case actor.LevelNational:
		return `WHERE 1 = 1`, nil, true
	case actor.LevelProvince:
		return `WHERE province_code = $1`, []any{a.Province}, true
	case actor.LevelCommune:
		return `WHERE province_code = $1 AND commune_code = $2`, []any{a.Province, a.Unit}, true
	}
	return "", nil, false
}

// ForUnit lists the dossiers the officer's unit receives, newest first;
// status filters when not empty.
func (s *Service) ForUnit(ctx context.Context, a actor.Actor, status string) ([]Dossier, error) {
	where, args, ok := unitWhere(a)
	if !ok {
		return nil, ErrForbidden
	}
	if status != "" {
		args = append(args, status)
		where += fmt.Sprintf(` AND status = $%d`, len(args))
	}
	ds, err := s.list(ctx, where+` ORDER BY submitted_at DESC, code DESC LIMIT 500`, args...)
	if err != nil {
		return nil, err
	}
	if err := s.d.Audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "dossier.list", Subject: "unit:" + a.Unit, Purpose: "one-stop-desk", Detail: fmt.Sprintf("%d", len(ds))}); err != nil {
		return nil, err
	}
	return ds, nil
}

// ForOfficer returns one dossier of the officer's unit, audited (it holds
// the filer's data).
func (s *Service) ForOfficer(ctx context.Context, a actor.Actor, code string) (Dossier, error) {
	d, err := s.load(ctx, code)
	if err != nil || !inScope(a, d) {
		return Dossier{}, ErrNotFound
	}
	if d, err = s.syncPayment(ctx, d); err != nil {
		return Dossier{}, err
	}
	if err := s.d.Audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "dossier.read", Subject: "dossier:" + code, Purpose: "one-stop-desk"}); err != nil {
		return Dossier{}, err
	}
	return d, nil
}

// Act applies an officer's action to a dossier of their unit, with a reason
// where one is needed (supplement, reject), and audits it.
func (s *Service) Act(ctx context.Context, a actor.Actor, code, action, reason string) (Dossier, error) {
	d, err := s.load(ctx, code)
	if err != nil || !inScope(a, d) {
		return Dossier{}, ErrNotFound
	}
	if _, err := s.syncPayment(ctx, d); err != nil {
		return Dossier{}, err
	}
	now := s.d.Now()
	var out Dossier
	switch action {
	case ActStart:
		out, err = s.transition(ctx, code, a.ID, []Status{Received}, func(tx *sql.Tx, d *Dossier) (events.Subject[events.DossierEvent], string, error) {
			d.Status = InProgress
			return events.Subject[events.DossierEvent]{}, "", nil
		})
	case ActSupplement:
		if reason, err = checkReason(reason, true); err != nil {
			return Dossier{}, err
		}
		out, err = s.transition(ctx, code, a.ID, []Status{Received, InProgress}, func(tx *sql.Tx, d *Dossier) (events.Subject[events.DossierEvent], string, error) {
			k, err := s.d.Calendar.Stop(*d.Clock, now)
			if err != nil {
				return events.DossierSupplement, "", err
			}
			d.Status, d.Clock, d.Reason = Supplement, &k, reason
			return events.DossierSupplement, reason, nil
		})
	case ActApprove:
		out, err = s.transition(ctx, code, a.ID, []Status{Received, InProgress}, func(tx *sql.Tx, d *Dossier) (events.Subject[events.DossierEvent], string, error) {
			d.Status, d.Reason = Approved, ""
			return events.DossierApproved, "", nil
		})
	case ActReject:
		if reason, err = checkReason(reason, true); err != nil {
			return Dossier{}, err
		}
		out, err = s.transition(ctx, code, a.ID, []Status{Received, InProgress, Supplement}, func(tx *sql.Tx, d *Dossier) (events.Subject[events.DossierEvent], string, error) {
			d.Status, d.Reason = Rejected, reason
			return events.DossierRejected, reason, nil
		})
		if err == nil && out.Fee > 0 && s.d.Payments != nil {
			p, perr := s.d.Catalogue.Get(ctx, out.Procedure)
			if perr == nil {
				// The refund follows the fee's rule; a failure here is
				// retried by the next reject-refund run, the rejection stands.
				_, _, _ = s.d.Payments.Rejected(ctx, out.Code, payment.FeeRule{RefundOnRejection: p.Refund}, a.ID)
			}
		}
	case ActReturn:
		out, err = s.returnResult(ctx, a, d)
	default:
		return Dossier{}, ErrState
	}
	if err != nil {
		return Dossier{}, err
	}
	if err := s.d.Audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "dossier." + action, Subject: "dossier:" + code, Purpose: "one-stop-desk"}); err != nil {
		return Dossier{}, err
	}
	return out, nil
}

// Resupply is the filer's answer to a supplement request: more documents
// (reused or uploaded); the clock resumes.
func (s *Service) Resupply(ctx context.Context, f Filer, code string, docs map[string]string, uploads []Upload) (Dossier, error) {
	d, err := s.Mine(ctx, f, code)
	if err != nil {
		return Dossier{}, err
	}
	if d.Status != Supplement {
		return Dossier{}, ErrState
	}
	p, err := s.d.Catalogue.Get(ctx, d.Procedure)
	if err != nil {
		return Dossier{}, err
	}
	// Only what is sent now is checked; the earlier attachments stay.
	p.Documents = relax(p.Documents)
	atts, stored, err := s.attachments(ctx, f, p, SubmitRequest{Documents: docs, Uploads: uploads})
	if err != nil {
		return Dossier{}, err
	}
	now := s.d.Now()
	return s.transition(ctx, code, f.actor().ID, []Status{Supplement}, func(tx *sql.Tx, d *Dossier) (events.Subject[events.DossierEvent], string, error) {
		// The new documents are stored by the same transaction's caller
		// below: transition runs change inside its transaction.
		k, err := s.d.Calendar.Resume(*d.Clock, now)
		if err != nil {
			return events.DossierReceived, "", err
		}
		off := len(atts) - len(stored)
		for i, doc := range stored {
			st, err := s.d.Documents.StoreTx(ctx, tx, doc)
			if err != nil {
				return events.DossierReceived, "", err
			}
			atts[off+i].ID, atts[off+i].SHA256 = st.ID, st.SHA256
		}
		d.Attachments = append(d.Attachments, atts...)
		d.Status, d.Clock, d.Due, d.Reason = InProgress, &k, k.Due.String(), ""
		return events.DossierReceived, "supplemented", nil
	})
}

func relax(ds []Document) []Document {
	out := make([]Document, len(ds))
	for i, d := range ds {
		d.Required = false
		out[i] = d
	}
	return out
}

// returnResult lays out and signs the result, then stores it as the filer's
// document in the same transaction that marks the dossier returned: either
// both happen or neither.
func (s *Service) returnResult(ctx context.Context, a actor.Actor, d Dossier) (Dossier, error) {
	if d.Status != Approved {
		return Dossier{}, ErrState
	}
	if s.d.Results == nil {
		return Dossier{}, errors.New("services: no results issuer")
	}
	p, err := s.d.Catalogue.Get(ctx, d.Procedure)
	if err != nil {
		return Dossier{}, err
	}
	r := s.resultOf(p, d)
	r, signed, err := s.d.Results.Produce(r)
	if err != nil {
		return Dossier{}, err
	}
	layout, _ := json.Marshal(r)
	var out Dossier
	now := s.d.Now()
	err = s.d.DB.Tx(ctx, func(tx *sql.Tx) error {
		var st string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM dossiers WHERE code = $1`+s.d.DB.ForUpdate(), d.Code).Scan(&st); err != nil {
			return fmt.Errorf("services: lock dossier: %w", err)
		}
		if Status(st) != Approved {
			return ErrState
		}
		doc, err := s.d.Documents.StoreTx(ctx, tx, document.Document{
			ID: r.ID, OwnerPIN: pin.PIN(d.OwnerPIN), Kind: string(r.Kind), Title: result.Templates()[r.Kind].Title,
			Body: signed, MediaType: "application/pdf", SignedBy: signerOf(s.d.Results),
			Unit: r.Unit, Holder: r.Fields["name"], IssueDate: civildate.Of(r.Issued),
			CreatedBy: a.ID, Layout: string(layout), VerifyCode: r.Code,
		})
		if err != nil {
			return err
		}
		d.Status, d.Result, d.UpdatedAt = Returned, doc.ID, now.UTC()
		if _, err := tx.ExecContext(ctx, `UPDATE dossiers SET status = $1, result_document = $2, updated_at = $3 WHERE code = $4`,
			string(d.Status), d.Result, ts(d.UpdatedAt), d.Code); err != nil {
			return fmt.Errorf("services: update dossier: %w", err)
		}
		if err := s.history(ctx, tx, d.Code, a.ID, Returned, doc.ID, now); err != nil {
			return err
		}
		_, err = events.Enqueue(ctx, tx, Events, events.DossierReturned, s.event(d, now), now)
		out = d
		return err
	})
	return out, err
}

func (s *Service) resultOf(p Procedure, d Dossier) result.Result {
	name := d.Form["full_name"]
	if name == "" {
		name = firstNonEmpty(d.Form["declarant_name"], d.Form["notifier_name"])
	}
	unit, place := s.issuer(p, d)
	r := result.Result{Kind: result.Kind(p.Result.Kind), Unit: unit, Place: place, Issued: s.d.Now(),
		Number: d.Code, Signer: "Thủ trưởng cơ quan", Fields: map[string]string{}}
	if r.Kind == result.Residence {
		r.Fields["name"], r.Fields["pin"] = name, d.OwnerPIN
		r.Fields["birth"], r.Fields["sex"] = displayDate(d.Form["birth_date"]), map[string]string{"M": "Nam", "F": "Nữ"}[d.Form["sex"]]
		for key, field := range p.Result.Map {
			v := d.Form[field]
			if f, ok := p.Field(field); ok && f.Type == TypeDate {
				v = displayDate(v)
			}
			if v != "" {
				r.Fields[key] = v
			}
		}
		return r
	}
	r.Kind = result.Generic
	r.Fields["procedure"], r.Fields["dossier"], r.Fields["name"] = p.Name.VI, d.Code, name
	r.Fields["pin"], r.Fields["decision"] = d.OwnerPIN, firstNonEmpty(p.Result.Decision.VI, "Đã giải quyết")
	return r
}

// issuer names the unit a result is issued by and the place it is signed
// at, as the paper says them ("Công an phường Ba Đình", "Hà Nội"): the
// procedure's agency ("Công an cấp xã") at the dossier's commune or
// province, never the unit's code.
func (s *Service) issuer(p Procedure, d Dossier) (unit, place string) {
	on := s.d.Now()
	agency, level := p.Agency.VI, ""
	for _, l := range []string{" cấp xã", " cấp tỉnh"} {
		if strings.HasSuffix(agency, l) {
			agency, level = strings.TrimSuffix(agency, l), l
		}
	}
	prov, err := s.d.Units.Province(d.Province, on)
	if err != nil {
		return p.Agency.VI, "Việt Nam"
	}
	place = strings.TrimSpace(strings.TrimPrefix(prov.Name, prov.Kind))
	named := prov
	if level == " cấp xã" && d.Commune != "" {
		if c, err := s.d.Units.Commune(d.Commune, on); err == nil {
			named = c
		}
	}
	if level == "" {
		return agency + " " + prov.Name, place
	}
	return agency + " " + lowerFirst(named.Name), place
}

// lowerFirst writes a unit's type word in lower case inside a name
// ("Phường Ba Đình" → "phường Ba Đình"), as Vietnamese writes it there.
func lowerFirst(s string) string {
	for i, r := range s {
		return strings.ToLower(string(r)) + s[i+len(string(r)):]
	}
	return s
}

func displayDate(s string) string {
	d, err := civildate.Parse(s)
	if err != nil {
		return s
	}
	return d.Display()
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// Tracking is what the public page shows of a dossier: no personal data.
type Tracking struct {
	Code        string         `json:"code"`
	Procedure   string         `json:"procedure"`
	Name        Text           `json:"procedure_name"`
	Status      Status         `json:"status"`
	SubmittedAt time.Time      `json:"submitted_at"`
	Due         string         `json:"due_date,omitempty"`
	Clock       workday.Status `json:"clock,omitzero"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

// Track answers anyone holding a dossier code and its check code. A wrong
// check code and an unknown dossier answer alike.
func (s *Service) Track(ctx context.Context, code, check string) (Tracking, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	check = strings.ToUpper(strings.TrimSpace(check))
	want := s.checkCode(code)
	if subtle.ConstantTimeCompare([]byte(want), []byte(check)) != 1 {
		return Tracking{}, ErrTrackNotFound
	}
	d, err := s.load(ctx, code)
	if err != nil {
		return Tracking{}, ErrTrackNotFound
	}
	if d, err = s.syncPayment(ctx, d); err != nil {
		return Tracking{}, err
	}
	t := Tracking{Code: d.Code, Procedure: d.Procedure, Status: d.Status, SubmittedAt: d.SubmittedAt, Due: d.Due, UpdatedAt: d.UpdatedAt}
	if p, err := s.d.Catalogue.Get(ctx, d.Procedure); err == nil {
		t.Name = p.Name
	}
	if d.Clock != nil && (d.Status == Received || d.Status == InProgress || d.Status == Supplement) {
		if st, err := s.d.Calendar.Status(*d.Clock, s.d.Now(), workday.DefaultWarning()); err == nil {
			t.Clock = st
		}
	}
	return t, nil
}

// History is one change of a dossier's state, as its filer sees it.
type History struct {
	At     time.Time `json:"at"`
	Status Status    `json:"status"`
	Note   string    `json:"note,omitempty"`
}

// HistoryOf lists a dossier's changes for its filer.
func (s *Service) HistoryOf(ctx context.Context, f Filer, code string) ([]History, error) {
	if _, err := s.Mine(ctx, f, code); err != nil {
		return nil, err
	}
	rows, err := s.d.DB.R.QueryContext(ctx, `SELECT at, status, note FROM dossier_history WHERE code = $1 ORDER BY id`, code)
	if err != nil {
		return nil, fmt.Errorf("services: history: %w", err)
	}
	defer rows.Close()
	var out []History
	for rows.Next() {
		var at, st, note string
		if err := rows.Scan(&at, &st, &note); err != nil {
			return nil, err
		}
		if internalNote(note) {
			// The desk's internal acts (assignment, transfer, comments,
			// digitization) are the officers' business.
			continue
		}
		out = append(out, History{At: parseTS(at), Status: Status(st), Note: note})
	}
	return out, rows.Err()
}

// Rating is a filer's rating of a returned dossier.
type Rating struct {
	Code    string    `json:"code"`
	Stars   int       `json:"stars"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"rated_at"`
}

// Rate records the filer's rating of their dossier once its result is
// returned (or it was rejected): once per dossier.
func (s *Service) Rate(ctx context.Context, f Filer, code string, stars int, comment string) (Rating, error) {
	d, err := s.Mine(ctx, f, code)
	if err != nil {
		return Rating{}, err
	}
	if d.Status != Returned && d.Status != Rejected {
		return Rating{}, ErrState
	}
	comment = strings.TrimSpace(comment)
	if stars < 1 || stars > 5 || utf8.RuneCountInString(comment) > 1000 || !utf8.ValidString(comment) || strings.ContainsAny(comment, "\x00\x1b") {
		return Rating{}, ErrRating
	}
	r := Rating{Code: code, Stars: stars, Comment: comment, At: s.d.Now().UTC()}
	res, err := s.d.DB.W.ExecContext(ctx, `INSERT INTO dossier_ratings (code, stars, comment, rated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO NOTHING`,
		code, stars, comment, ts(r.At))
	if err != nil {
		return Rating{}, fmt.Errorf("services: rate: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Rating{}, ErrRated
	}
	return r, nil
}

// RatingOf returns a dossier's rating, for its filer.
func (s *Service) RatingOf(ctx context.Context, f Filer, code string) (Rating, bool, error) {
	if _, err := s.Mine(ctx, f, code); err != nil {
		return Rating{}, false, err
	}
	var r Rating
	var at string
	err := s.d.DB.R.QueryRowContext(ctx, `SELECT code, stars, comment, rated_at FROM dossier_ratings WHERE code = $1`, code).Scan(&r.Code, &r.Stars, &r.Comment, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Rating{}, false, nil
	}
	if err != nil {
		return Rating{}, false, fmt.Errorf("services: rating: %w", err)
	}
	r.At = parseTS(at)
	return r, true, nil
}

// ReceiptOf gives the filer their dossier's receipt again (the check code
// for the QR).
func (s *Service) ReceiptOf(ctx context.Context, f Filer, code string) (Receipt, error) {
	d, err := s.Mine(ctx, f, code)
	if err != nil {
		return Receipt{}, err
	}
	return Receipt{Dossier: d, CheckCode: s.checkCode(d.Code)}, nil
}
