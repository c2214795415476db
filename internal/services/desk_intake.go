package services

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/dancu-project/dancu/internal/idempotency"
	"strings"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/card/qr"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/fold"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/registry"
)

// Channels a dossier comes in by.
const (
	ChannelOnline = "online"
	ChannelDesk   = "desk"
)

// Faults of the desk. Their codes are part of the API.
var (
	ErrIdentity  = fault.New(fault.Invalid, "desk.identity", "Cần đúng một cách xác định công dân: nội dung mã QR trên thẻ, hoặc số định danh cá nhân và số sê-ri thẻ.", "Give exactly one identification: the card's QR text, or the PIN and the card's serial.")
	ErrQRMatch   = fault.New(fault.Invalid, "desk.qr_mismatch", "Mã QR trên thẻ không khớp với Cơ sở dữ liệu quốc gia về dân cư.", "The card's QR does not match the population register.")
	ErrCard      = fault.New(fault.Invalid, "desk.card", "Số sê-ri thẻ không phải thẻ căn cước đang sử dụng của công dân này.", "The serial is not a card in use of this citizen.")
	ErrNotAlive  = fault.New(fault.Invalid, "desk.not_alive", "Công dân không còn ở trạng thái có thể nộp hồ sơ.", "The citizen cannot file a dossier.")
	ErrAssignee  = fault.New(fault.Invalid, "desk.assignee", "Cán bộ được phân công không thuộc đơn vị xử lý hồ sơ.", "The officer is not one of the unit handling the dossier.")
	ErrTransfer  = fault.New(fault.Invalid, "desk.transfer_unit", "Đơn vị chuyển đến không hợp lệ hoặc không cùng cấp với thủ tục.", "The receiving unit is unknown or not of the procedure's level.")
	ErrSameUnit  = fault.New(fault.Conflict, "desk.same_unit", "Hồ sơ đã thuộc đơn vị này.", "The dossier is already with this unit.")
	ErrComment   = fault.New(fault.Invalid, "desk.comment", "Ghi chú phải có nội dung, tối đa 1000 ký tự.", "A comment needs text, at most 1000 characters.")
	ErrNoSigner  = fault.New(fault.Internal, "desk.no_signer", "Chưa cấu hình khóa ký của nền tảng.", "The platform's signing key is not configured.")
	ErrNoCardReg = fault.New(fault.Invalid, "desk.no_card_register", "Không kiểm tra được thẻ: hãy dùng mã QR.", "The card register is not available: use the QR.")
)

// CardCheck says whether serial is a card of pinText that is in its
// holder's hands (the card register, *cardservice.Service through the
// composition root).
type CardCheck func(ctx context.Context, pinText, serial string) (bool, error)

// Officers lists the staff who may be given a dossier (enabled accounts,
// as actors); the scope rule decides which of them handle a dossier.
type Officers func(ctx context.Context) ([]actor.Actor, error)

// UnitName names an administrative unit (a 5-digit commune or 2-digit
// province code); ok is false for a code the map does not know.
type UnitName func(code string) (name string, ok bool)

// DeskDeps are what the desk needs beyond the dossiers service.
type DeskDeps struct {
	Cards    CardCheck // nil: identification by PIN and card serial is refused
	Officers Officers
	UnitName UnitName
}

// Desk is the one-stop desk (bộ phận một cửa): paper intake,
// digitization, assignment, transfer and comments on the dossiers of the
// officer's unit. Its scope is the service's one rule, inScope.
type Desk struct {
	s *Service
	d DeskDeps
}

// NewDesk builds the desk on s.
func NewDesk(s *Service, d DeskDeps) (*Desk, error) {
	if s == nil || d.Officers == nil || d.UnitName == nil {
		return nil, errors.New("services: desk: missing dependency")
	}
	return &Desk{s: s, d: d}, nil
}

// Service is the dossiers service the desk works on.
func (k *Desk) Service() *Service { return k.s }

// Citizen is how the officer identifies the citizen in front of them:
// the text of the card's QR code, or the PIN with the card's serial (read
// from the chip), checked against the card register.
type Citizen struct {
	QR     string `json:"qr,omitempty"`
	PIN    string `json:"pin,omitempty"`
	Serial string `json:"card_serial,omitempty"`
}

// Identified is the citizen as the register knows them.
type Identified struct {
	PIN       string
	Name      string
	BirthDate string
	Person    registry.Person
}

// deskOfficer is the first check of every desk act that is not on one
// dossier: a staff member with desk permission scoped to some unit.
func deskOfficer(a actor.Actor) error {
	if !a.Can(actor.DeskActs) || a.Level() == actor.LevelNone {
		return ErrForbidden
	}
	return nil
}

// identify checks the citizen's card against the register. The register
// is read as the citizen (who is present with their card, as online they
// sign in); the officer's read is audited here.
func (k *Desk) identify(ctx context.Context, a actor.Actor, c Citizen) (Identified, error) {
	c.QR, c.PIN, c.Serial = strings.TrimSpace(c.QR), strings.TrimSpace(c.PIN), strings.TrimSpace(c.Serial)
	var p qr.Payload
	var id pin.PIN
	switch {
	case c.QR != "" && c.PIN == "" && c.Serial == "":
		var err error
		if p, err = qr.Parse(c.QR); err != nil {
			return Identified{}, fault.As(err).WithField("qr")
		}
		id = p.PIN
	case c.QR == "" && c.PIN != "" && c.Serial != "":
		var err error
		if id, err = pin.Parse(c.PIN); err != nil {
			return Identified{}, ErrIdentity.WithField("pin")
		}
		if len(c.Serial) > 64 {
			return Identified{}, ErrCard.WithField("card_serial")
		}
	default:
		return Identified{}, ErrIdentity.WithField("qr")
	}
	person, err := k.s.d.Register.Get(ctx, Filer{PIN: string(id)}.actor(), string(id), "desk-intake")
	if err != nil {
		if f := fault.As(err); f.Kind == fault.NotFound || f.Kind == fault.Forbidden || f.Kind == fault.Invalid {
			if c.QR != "" {
				return Identified{}, ErrQRMatch.WithField("qr")
			}
			return Identified{}, ErrCard.WithField("card_serial")
		}
		return Identified{}, err
	}
	if c.QR != "" {
		if fold.String(p.Name) != fold.String(person.FullName) || p.Birth.String() != person.BirthDate.String() || person.Sex == "" || p.Sex != person.Sex[0] {
			return Identified{}, ErrQRMatch.WithField("qr")
		}
	} else {
		if k.d.Cards == nil {
			return Identified{}, ErrNoCardReg.WithField("card_serial")
		}
		ok, err := k.d.Cards(ctx, string(id), c.Serial)
		if err != nil {
			return Identified{}, err
		}
		if !ok {
			return Identified{}, ErrCard.WithField("card_serial")
		}
	}
	if person.Status != "alive" {
		return Identified{}, ErrNotAlive.WithField("qr")
	}
	if err := k.s.d.Audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "person.read", Subject: "person:" + string(id), Purpose: "one-stop-desk", Detail: "desk-intake"}); err != nil {
		return Identified{}, err
	}
	return Identified{PIN: string(id), Name: person.FullName, BirthDate: person.BirthDate.String(), Person: person}, nil
}

// deskProcedure is the procedure as the desk takes it: it exists and is
// on. The e-ID level does not apply: the citizen is present with the card.
func (k *Desk) deskProcedure(ctx context.Context, code string) (Procedure, error) {
	p, err := k.s.d.Catalogue.Get(ctx, code)
	if err != nil {
		return Procedure{}, fault.As(err).WithField("procedure")
	}
	if p.Disabled {
		return Procedure{}, ErrProcedureNotFound.WithField("procedure")
	}
	return p, nil
}

// IntakeForm is the form of a paper dossier before the officer fills it:
// the citizen identified, and each pre-filled field with the register's
// value, as online.
func (k *Desk) IntakeForm(ctx context.Context, a actor.Actor, procedure string, c Citizen) (Procedure, Identified, map[string]string, error) {
	if err := deskOfficer(a); err != nil {
		return Procedure{}, Identified{}, nil, err
	}
	p, err := k.deskProcedure(ctx, procedure)
	if err != nil {
		return Procedure{}, Identified{}, nil, err
	}
	who, err := k.identify(ctx, a, c)
	if err != nil {
		return Procedure{}, Identified{}, nil, err
	}
	pre := Prefill(who.Person)
	vals := map[string]string{}
	for _, f := range p.Fields {
		if f.Prefill != "" {
			vals[f.Name] = pre[f.Prefill]
		}
	}
	return p, who, vals, nil
}

// IntakeRequest is a paper dossier as the officer enters it.
type IntakeRequest struct {
	Procedure      string
	Citizen        Citizen
	Form           map[string]string // what the citizen declared on paper
	IdempotencyKey string            // the intake form's one-time reference
}

// Intake receives a paper dossier at the officer's desk: the officer's
// permission first, then the procedure, the citizen's card, the
// idempotency key (a second press answers the dossier already made), the
// form against the register; the receiving unit is the officer's. The
// dossier records channel desk and the receiving officer; its papers are
// digitized next (Digitize).
func (k *Desk) Intake(ctx context.Context, a actor.Actor, r IntakeRequest) (Receipt, error) {
	if err := deskOfficer(a); err != nil {
		return Receipt{}, err
	}
	p, err := k.deskProcedure(ctx, r.Procedure)
	if err != nil {
		return Receipt{}, err
	}
	if !idempotency.ValidKey(r.IdempotencyKey) {
		return Receipt{}, ErrIdemKey
	}
	who, err := k.identify(ctx, a, r.Citizen)
	if err != nil {
		return Receipt{}, err
	}
	f := Filer{PIN: who.PIN}
	hash := requestHash(SubmitRequest{Procedure: r.Procedure, Form: r.Form, IdempotencyKey: "desk:" + a.ID})
	key := "desk-" + r.IdempotencyKey
	if len(key) > 64 {
		key = key[:64]
	}
	if rc, ok, err := k.s.replay(ctx, f, key, hash); err != nil || ok {
		return rc, err
	}
	now := k.s.d.Now()
	form, err := ValidateForm(p, r.Form, Prefill(who.Person), k.s.d.Units, now)
	if err != nil {
		return Receipt{}, err
	}
	province, commune, err := k.intakeUnit(a, p, who.Person, form)
	if err != nil {
		return Receipt{}, err
	}
	d := Dossier{Channel: ChannelDesk, Procedure: p.Code, OwnerPIN: who.PIN, Unit: UnitCode(province, commune), Province: province, Commune: commune, Form: form,
		Attachments: []Attachment{}, Fee: p.Fee, SubmittedAt: now.UTC(), UpdatedAt: now.UTC(), Status: AwaitingPayment}
	if !inScope(a, d) {
		return Receipt{}, ErrUnit.WithField("procedure")
	}
	if p.Fee == 0 {
		d.Status = Received
	}
	err = k.s.d.DB.Tx(ctx, func(tx *sql.Tx) error {
		code, err := k.s.nextCode(ctx, tx, d.Unit, now)
		if err != nil {
			return err
		}
		d.Code = code
		if d.Status == Received {
			if err := k.s.receive(&d, p.LegalDays, now); err != nil {
				return err
			}
		}
		formJSON, _ := json.Marshal(d.Form)
		_, err = tx.ExecContext(ctx, `INSERT INTO dossiers (code, procedure_code, owner_pin, unit_code, province_code, commune_code, status, form, attachments, fee,
			clock, due_date, submitted_at, received_at, updated_at, idem_key, request_hash, channel, received_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
			d.Code, d.Procedure, d.OwnerPIN, d.Unit, d.Province, d.Commune, string(d.Status), string(formJSON), "[]", d.Fee,
			clockText(d.Clock), d.Due, ts(d.SubmittedAt), ts(d.ReceivedAt), ts(d.UpdatedAt), key, hash, ChannelDesk, a.ID)
		if err != nil {
			return fmt.Errorf("services: insert desk dossier: %w", err)
		}
		if err := k.s.history(ctx, tx, d.Code, a.ID, d.Status, "desk", now); err != nil {
			return err
		}
		if _, err := events.Enqueue(ctx, tx, Events, events.DossierSubmitted, k.s.event(d, now), now); err != nil {
			return err
		}
		if d.Status == Received {
			_, err = events.Enqueue(ctx, tx, Events, events.DossierReceived, k.s.event(d, now), now)
		}
		return err
	})
	if err != nil {
		if rc, ok, rerr := k.s.replay(ctx, f, key, hash); rerr == nil && ok {
			return rc, nil
		}
		return Receipt{}, err
	}
	if err := k.s.d.Audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "dossier.intake", Subject: "dossier:" + d.Code, Purpose: "one-stop-desk"}); err != nil {
		return Receipt{}, err
	}
	rc := Receipt{Dossier: d, CheckCode: k.s.checkCode(d.Code)}
	if d.Status == AwaitingPayment && k.s.d.Payments != nil {
		if in, err := k.s.pay(ctx, p, d); err == nil {
			rc.PayURL = in.PayURL
		}
	}
	return rc, nil
}

// intakeUnit is the unit that receives a paper dossier: the officer's
// commune, or for a provincial officer the commune the procedure names (its
// unit field, else the citizen's residence) within the province; a
// national officer receives for the unit an online filing would go to.
func (k *Desk) intakeUnit(a actor.Actor, p Procedure, person registry.Person, form map[string]string) (string, string, error) {
	province, commune := person.Permanent.ProvinceCode, person.Permanent.CommuneCode
	if p.UnitField != "" {
		commune = form[p.UnitField]
		var err error
		if province, err = k.s.d.Units.CommuneProvince(commune, k.s.d.Now()); err != nil {
			return "", "", ErrUnit.WithField(p.UnitField)
		}
	}
	switch a.Level() {
	case actor.LevelCommune:
		province, commune = a.Province, a.Unit
	case actor.LevelProvince:
		if province != a.Unit {
			province, commune = a.Unit, ""
		}
	}
	if p.Level == "province" {
		commune = ""
	}
	if province == "" || (p.Level == "commune" && commune == "") {
		return "", "", ErrUnit.WithField("procedure")
	}
	return province, commune, nil
}
