package bundle

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/services"
)

// Filer is who files: a citizen signed in with the e-ID (Level), or a desk
// officer filing for a citizen who came in person (Desk, with the
// citizen's PIN; the officer checked the identity at the desk).
type Filer struct {
	PIN   string
	Level int
	Desk  *actor.Actor
}

func (f Filer) who() string {
	if f.Desk != nil {
		return f.Desk.ID
	}
	return "citizen:" + f.PIN
}

// BirthForm is the birth bundle's application. The filer is a parent.
type BirthForm struct {
	Relation       string // "mother" or "father": the filer's relation to the child
	ChildName      string
	ChildBirthDate string // YYYY-MM-DD or dd/mm/yyyy
	ChildSex       string // "M" or "F"
	Birthplace     string
	Ethnicity      string // the register's code; "" is Kinh (01)
	OtherParentPIN string
	// HeadPIN, when set, asks that the child be registered in the
	// household of this head instead of the parents': the commune police
	// decide that step.
	HeadPIN       string
	Relation2Head string
	// Certificate is the hospital's birth certificate (giấy chứng sinh):
	// a PDF, PNG or JPEG, checked by content.
	Certificate     []byte
	CertificateName string
	IdempotencyKey  string
}

// DeathForm is the death bundle's application by a relative.
type DeathForm struct {
	DeceasedPIN    string
	DeathDate      string
	DeathPlace     string
	Cause          string
	Relation       string
	Notice         []byte // the death notice (giấy báo tử)
	NoticeName     string
	IdempotencyKey string
}

func validKey(k string) bool {
	if len(k) < 8 || len(k) > 64 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func text(v string, max int) (string, bool) {
	v = strings.TrimSpace(v)
	return v, v != "" && utf8.ValidString(v) && utf8.RuneCountInString(v) <= max && !strings.ContainsAny(v, "\x00\x1b<>")
}

// date reads a date of the form (dd/mm/yyyy as the pages show it, or
// YYYY-MM-DD), full, not in the future and within window days of today.
func date(v string, now time.Time, window int) (civildate.Date, *fault.Error) {
	v = strings.TrimSpace(v)
	if p := strings.Split(v, "/"); len(p) == 3 {
		v = p[2] + "-" + p[1] + "-" + p[0]
	}
	d, err := civildate.Parse(v)
	if err != nil || d.Partial() {
		return d, fault.New(fault.Invalid, "bundle.date", "Ngày không hợp lệ (dd/mm/yyyy).", "Not a valid date (dd/mm/yyyy).")
	}
	if d.NotFuture(now) != nil {
		return d, fault.New(fault.Invalid, "bundle.date_future", "Ngày không được sau hôm nay.", "The date cannot be after today.")
	}
	if civildate.Today(now).Time().Sub(d.Time()) > time.Duration(window)*24*time.Hour {
		return d, ErrWindow
	}
	return d, nil
}

func formHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// replay finds the bundle the filer already filed with key.
func (s *Service) replay(ctx context.Context, owner, key, hash string) (Bundle, bool, error) {
	var code, h string
	err := s.d.DB.R.QueryRowContext(ctx, `SELECT code, form FROM bundles WHERE owner_pin = $1 AND idem_key = $2`, owner, key).Scan(&code, &h)
	if errors.Is(err, sql.ErrNoRows) {
		return Bundle{}, false, nil
	}
	if err != nil {
		return Bundle{}, false, fmt.Errorf("bundle: replay: %w", err)
	}
	b, err := s.load(ctx, s.d.DB.R, code)
	if err != nil {
		return b, true, err
	}
	if b.Form["request_hash"] != hash {
		return Bundle{}, true, ErrIdemReuse
	}
	return b, true, nil
}

// deskScope is the one rule of a desk filing, checked before anything
// else: an officer with desk permission whose unit covers the citizen's
// permanent residence (the citizen came in person; the officer checked
// the identity). A citizen outside the unit, or a PIN of nobody, is
// out_of_scope alike.
func (s *Service) deskScope(ctx context.Context, f Filer) error {
	if f.Desk == nil {
		return nil
	}
	if !f.Desk.Can(actor.DeskActs) {
		return ErrForbidden
	}
	p, err := s.d.Register.Get(ctx, s.sys, f.PIN, "bundle-desk")
	if err != nil {
		if _, refused := refusal(err); refused {
			return fault.ErrOutOfScope
		}
		return err
	}
	if !f.Desk.Covers(p.Permanent.ProvinceCode, p.Permanent.CommuneCode) {
		return fault.ErrOutOfScope
	}
	return nil
}

// admit is what both bundles check first, in this order: a citizen's
// e-ID level (2), a desk officer's scope, then the idempotency key.
func (s *Service) admit(ctx context.Context, f Filer, key string) error {
	if f.Desk == nil && f.Level < 2 {
		return ErrLevel
	}
	if err := s.deskScope(ctx, f); err != nil {
		return err
	}
	if !validKey(key) {
		return ErrIdemKey
	}
	return nil
}

// FileBirth files the birth bundle: the level first (a citizen needs
// level 2), then the form (Vietnamese field errors, nothing written), then
// the civil status dossier through the services module (the birth
// certificate stored with it) and the bundle with its steps, whose first
// step's event starts the saga.
func (s *Service) FileBirth(ctx context.Context, f Filer, in BirthForm) (Bundle, error) {
	if err := s.admit(ctx, f, in.IdempotencyKey); err != nil {
		return Bundle{}, err
	}
	now := s.d.Now()
	var problems fault.List
	if !slices.Contains([]string{"mother", "father"}, in.Relation) {
		problems.Add("relation", fault.New(fault.Invalid, "bundle.relation", "Chọn quan hệ với trẻ: mẹ hoặc cha.", "Choose your relation to the child: mother or father."))
	}
	name, ok := text(in.ChildName, 100)
	if !ok {
		problems.Add("child_name", fault.New(fault.Invalid, "bundle.child_name", "Nhập họ, chữ đệm và tên của trẻ (tối đa 100 ký tự).", "Enter the child's full name (at most 100 characters)."))
	}
	born, ferr := date(in.ChildBirthDate, now, BirthWindowDays)
	if ferr != nil {
		problems.Add("child_birth_date", ferr)
	}
	if in.ChildSex != "M" && in.ChildSex != "F" {
		problems.Add("child_sex", fault.New(fault.Invalid, "bundle.child_sex", "Chọn giới tính của trẻ.", "Choose the child's sex."))
	}
	place, ok := text(in.Birthplace, 200)
	if !ok {
		problems.Add("birthplace", fault.New(fault.Invalid, "bundle.birthplace", "Nhập nơi sinh (tối đa 200 ký tự).", "Enter the place of birth (at most 200 characters)."))
	}
	ethnicity := strings.TrimSpace(in.Ethnicity)
	if ethnicity == "" {
		ethnicity = "01"
	}
	other := strings.TrimSpace(in.OtherParentPIN)
	if other != "" {
		if _, err := pin.Parse(other); err != nil || other == f.PIN {
			problems.Add("other_parent_pin", fault.New(fault.Invalid, "bundle.other_parent_pin", "Số định danh của cha hoặc mẹ còn lại không hợp lệ.", "The other parent's PIN is not valid."))
		}
	}
	head := strings.TrimSpace(in.HeadPIN)
	if head != "" {
		if _, err := pin.Parse(head); err != nil {
			problems.Add("head_pin", fault.New(fault.Invalid, "bundle.head_pin", "Số định danh của chủ hộ không hợp lệ.", "The household head's PIN is not valid."))
		}
	}
	if len(in.Certificate) == 0 {
		problems.Add("birth_certificate", fault.New(fault.Invalid, "bundle.certificate", "Đính kèm giấy chứng sinh của cơ sở y tế (PDF, PNG hoặc JPEG).", "Attach the hospital's birth certificate (PDF, PNG or JPEG)."))
	}
	if err := problems.Err(); err != nil {
		return Bundle{}, err
	}
	hash := formHash("birth", in.Relation, name, born.String(), in.ChildSex, place, ethnicity, other, head, fmt.Sprintf("%x", sha256.Sum256(in.Certificate)))
	if b, ok, err := s.replay(ctx, f.PIN, in.IdempotencyKey, hash); err != nil || ok {
		return b, err
	}
	parent, err := s.d.Register.Get(ctx, s.sys, f.PIN, "bundle-file")
	if err != nil {
		return Bundle{}, err
	}
	form := map[string]string{"relation": in.Relation, "child_name": name, "child_birth_date": born.String(), "child_sex": in.ChildSex,
		"birthplace": place, "ethnicity": ethnicity, "other_parent_pin": other, "head_pin": head, "relation_to_head": strings.TrimSpace(in.Relation2Head),
		"province": parent.Permanent.ProvinceCode, "commune": parent.Permanent.CommuneCode, "request_hash": hash}
	if in.Relation == "mother" {
		form["mother_pin"], form["father_pin"] = f.PIN, other
	} else {
		form["father_pin"], form["mother_pin"] = f.PIN, other
	}
	dossier := ""
	if s.d.Dossiers != nil {
		rc, err := s.d.Dossiers.Submit(ctx, services.Filer{PIN: f.PIN, Level: 2}, services.SubmitRequest{
			Procedure: "HT.KS.01",
			Form: map[string]string{"relation": in.Relation, "child_name": name, "child_birth_date": born.String(), "child_sex": in.ChildSex,
				"birthplace": place, "ethnicity": ethnicity, "other_parent_pin": other},
			Uploads:        []services.Upload{{Document: "birth_certificate", Name: nonEmpty(in.CertificateName, "giay-chung-sinh"), Body: in.Certificate}},
			IdempotencyKey: "bundle-" + in.IdempotencyKey,
		})
		if err != nil {
			return Bundle{}, mapField(err, map[string]string{"birth_certificate": "birth_certificate"})
		}
		dossier = rc.Code
	}
	return s.create(ctx, f, Birth, form, dossier, "", in.IdempotencyKey, now)
}

// FileDeath files the death bundle by a relative within 15 days of the
// death.
func (s *Service) FileDeath(ctx context.Context, f Filer, in DeathForm) (Bundle, error) {
	if err := s.admit(ctx, f, in.IdempotencyKey); err != nil {
		return Bundle{}, err
	}
	now := s.d.Now()
	var problems fault.List
	deceased := strings.TrimSpace(in.DeceasedPIN)
	if _, err := pin.Parse(deceased); err != nil || deceased == f.PIN {
		problems.Add("deceased_pin", fault.New(fault.Invalid, "bundle.deceased_pin", "Số định danh của người chết không hợp lệ.", "The deceased's PIN is not valid."))
	}
	died, ferr := date(in.DeathDate, now, DeathWindowDays)
	if ferr != nil {
		problems.Add("death_date", ferr)
	}
	place, ok := text(in.DeathPlace, 200)
	if !ok {
		problems.Add("death_place", fault.New(fault.Invalid, "bundle.death_place", "Nhập nơi chết (tối đa 200 ký tự).", "Enter the place of death (at most 200 characters)."))
	}
	cause, ok := text(in.Cause, 200)
	if !ok {
		problems.Add("cause", fault.New(fault.Invalid, "bundle.cause", "Nhập nguyên nhân chết (tối đa 200 ký tự).", "Enter the cause of death (at most 200 characters)."))
	}
	relation, ok := text(in.Relation, 50)
	if !ok {
		problems.Add("relation", fault.New(fault.Invalid, "bundle.relation", "Nhập quan hệ với người chết (tối đa 50 ký tự).", "Enter your relation to the deceased (at most 50 characters)."))
	}
	if len(in.Notice) == 0 {
		problems.Add("death_notice", fault.New(fault.Invalid, "bundle.notice", "Đính kèm giấy báo tử (PDF, PNG hoặc JPEG).", "Attach the death notice (PDF, PNG or JPEG)."))
	}
	if err := problems.Err(); err != nil {
		return Bundle{}, err
	}
	hash := formHash("death", deceased, died.String(), place, cause, relation, fmt.Sprintf("%x", sha256.Sum256(in.Notice)))
	if b, ok, err := s.replay(ctx, f.PIN, in.IdempotencyKey, hash); err != nil || ok {
		return b, err
	}
	filer, err := s.d.Register.Get(ctx, s.sys, f.PIN, "bundle-file")
	if err != nil {
		return Bundle{}, err
	}
	form := map[string]string{"deceased_pin": deceased, "death_date": died.String(), "death_place": place, "cause": cause, "relation": relation,
		"province": filer.Permanent.ProvinceCode, "commune": filer.Permanent.CommuneCode, "request_hash": hash}
	dossier := ""
	if s.d.Dossiers != nil {
		rc, err := s.d.Dossiers.Submit(ctx, services.Filer{PIN: f.PIN, Level: 2}, services.SubmitRequest{
			Procedure:      "HT.KT.01",
			Form:           map[string]string{"deceased_pin": deceased, "death_date": died.String(), "death_place": place, "cause": cause, "relation": relation},
			Uploads:        []services.Upload{{Document: "death_notice", Name: nonEmpty(in.NoticeName, "giay-bao-tu"), Body: in.Notice}},
			IdempotencyKey: "bundle-" + in.IdempotencyKey,
		})
		if err != nil {
			return Bundle{}, mapField(err, nil)
		}
		dossier = rc.Code
	}
	return s.create(ctx, f, Death, form, dossier, "", in.IdempotencyKey, now)
}

// create writes the bundle; a concurrent filing with the same key that
// won the insert is answered instead.
func (s *Service) create(ctx context.Context, f Filer, kind string, form map[string]string, dossier, offer, key string, now time.Time) (Bundle, error) {
	b := Bundle{Code: newCode(kind, now), Kind: kind, OwnerPIN: f.PIN, FiledBy: f.who(), Form: form, Dossier: dossier, OfferID: offer, idemKey: key}
	if kind == Death {
		b.SubjectPIN = form["deceased_pin"]
	}
	err := s.d.DB.Tx(ctx, func(tx *sql.Tx) error { return s.insert(ctx, tx, &b, now) })
	if err != nil {
		if rb, ok, rerr := s.replay(ctx, f.PIN, key, form["request_hash"]); rerr == nil && ok {
			return rb, nil
		}
		return Bundle{}, err
	}
	if f.Desk != nil {
		if err := s.d.Audit.Record(ctx, auditEntry(f.Desk.ID, "bundle.file", "person:"+f.PIN, "bundle:"+b.Code)); err != nil {
			return Bundle{}, err
		}
	}
	return s.load(ctx, s.d.DB.R, b.Code)
}

func nonEmpty(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return v
}

// mapField keeps a services fault's field when it is one of the bundle's
// form's (the dossier form shares its names), and renames those in names.
func mapField(err error, names map[string]string) error {
	var l fault.List
	if errors.As(err, &l) {
		for _, e := range l {
			if n, ok := names[e.Field]; ok {
				e.Field = n
			}
		}
		return l
	}
	return err
}

var _ = registry.Person{}
