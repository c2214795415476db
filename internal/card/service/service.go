// Package service is the chip identity card lifecycle (thẻ căn cước, Luật
// Căn cước 2023): application at the desk, approval, production (every data
// group and the SOD signed with the current document signer), hand-over,
// loss, revocation and reissue. Every change is versioned in card_history,
// audited in the act's transaction, and the events dancu.card.issued and
// dancu.card.revoked leave through the outbox in that same transaction.
// Cards that are lost, revoked or replaced feed verification as the
// revocation list.
package service

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/card"
	"github.com/dancu-project/dancu/internal/card/issue"
	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/card/render"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
)

// Names of the subjects published through the outbox (events.CardIssued,
// events.CardRevoked; see death.go for the declaration).
var (
	SubjectIssued  = events.CardIssued.String()
	SubjectRevoked = events.CardRevoked.String()
)

// Revocation reasons, stored and published as codes.
const (
	ReasonDeath       = "death"
	ReasonLoss        = "loss"
	ReasonReplacement = "replacement"
)

// ReasonText is each revocation reason in Vietnamese and English.
var ReasonText = map[string][2]string{
	ReasonDeath:       {"công dân đã chết", "the holder has died"},
	ReasonLoss:        {"thẻ bị mất", "the card was lost"},
	ReasonReplacement: {"thẻ đã được cấp đổi, cấp lại", "the card was replaced"},
}

// MandatoryAge is the age from which a card is mandatory (Art. 19); below it
// a card is issued on request, from birth.
const MandatoryAge = 14

// Registry is what the card service reads of the register: one audited read
// per act, which also checks the actor's scope, and the name of a parent for
// the chip (ReadCoreUnaudited, audited by the card service in the act).
type Registry interface {
	Get(ctx context.Context, a actor.Actor, pin, purpose string) (registry.Person, error)
	ReadCoreUnaudited(ctx context.Context, a actor.Actor, pin string) (registry.Core, error)
}

// Recorder writes audit entries inside the act's transaction.
type Recorder interface {
	RecordTx(ctx context.Context, db *storage.DB, tx *sql.Tx, e audit.Entry) error
}

// Service is the card lifecycle.
type Service struct {
	db     *storage.DB
	reg    Registry
	audit  Recorder
	pkiDir string
	pki    pki.Options // its Keys hold the private keys of pkiDir
	bio    Biometrics  // nil: cards are not produced (ErrNoBiometrics)
	now    func() time.Time
	trust  trustCache
}

// Biometrics supplies what a card's chip carries of its holder's body: the
// portrait (JPEG; nil under 6 years, Art. 23 of the Law on Identification)
// and a fingerprint template. In a deployment they are what the desk
// captured for the application; no capture is wired into the platform yet,
// so the one implementation is SyntheticBiometrics, for development. A
// production platform has none and refuses to produce a card rather than
// put a made-up face on an identity document.
type Biometrics interface {
	ForCard(ctx context.Context, p registry.Person, serial string, issued time.Time) (face, fingerprint []byte, err error)
}

// SyntheticBiometrics derives a portrait and a fingerprint from the PIN and
// serial: development and tests only.
type SyntheticBiometrics struct{}

// ForCard returns the synthetic portrait and fingerprint.
func (SyntheticBiometrics) ForCard(_ context.Context, p registry.Person, serial string, issued time.Time) ([]byte, []byte, error) {
	face, _ := syntheticFace(p, issued)
	return face, syntheticFingerprint(p.PIN, serial), nil
}

// New wires the service with the PKI's private keys unsealed in pkiDir and
// synthetic biometrics (tests and tools); the platform uses NewWithKeys.
func New(db *storage.DB, reg Registry, rec Recorder, pkiDir string, now func() time.Time) *Service {
	return NewWithKeys(db, reg, rec, pkiDir, nil, SyntheticBiometrics{}, now)
}

// NewWithKeys wires the service. pkiDir holds the CSCA and document
// signers' certificates (pki.Init) and keys their private keys (nil: in
// the clear in pkiDir); the directory is read on every production so a
// rotated signer is used at once. bio supplies the holders' portraits and
// fingerprints; with nil no card is produced.
func NewWithKeys(db *storage.DB, reg Registry, rec Recorder, pkiDir string, keys pki.KeyStore, bio Biometrics, now func() time.Time) *Service {
	return &Service{db: db, reg: reg, audit: rec, pkiDir: pkiDir, pki: pki.Options{Keys: keys}, bio: bio, now: now}
}

// Faults of the card service. Their codes are part of the API.
var (
	ErrCardNotFound    = fault.New(fault.NotFound, "card.not_found", "Không tìm thấy thẻ căn cước này.", "No such identity card.")
	ErrOpenApplication = fault.New(fault.Conflict, "card.open_application", "Công dân đã có hồ sơ cấp thẻ đang xử lý.", "The person already has a card application in progress.")
	ErrActiveCard      = fault.New(fault.Conflict, "card.active_exists", "Công dân đang có thẻ còn hiệu lực; hãy báo mất, thu hồi hoặc cấp đổi.", "The person holds a valid card; report it lost, revoke it or reissue it.")
	ErrTransition      = fault.New(fault.Conflict, "card.bad_transition", "Trạng thái hiện tại của thẻ không cho phép thao tác này.", "The card's current status does not allow this step.")
	ErrReason          = fault.New(fault.Invalid, "card.reason", "Lý do thu hồi phải là: death (chết), loss (mất) hoặc replacement (cấp đổi).", "The revocation reason must be death, loss or replacement.")
	ErrNoChip          = fault.New(fault.NotFound, "card.no_chip", "Thẻ chưa được sản xuất: chưa có dữ liệu chip.", "The card is not produced yet: there is no chip data.")
	ErrIssue           = fault.New(fault.Invalid, "card.issue_failed", "Dữ liệu trong CSDL không đưa lên thẻ được.", "The register data cannot be put on a card.")
	ErrNotProducible   = fault.New(fault.Invalid, "card.not_producible", "Chưa thể cấp thẻ từ dữ liệu trong CSDL:", "A card cannot be made from the register data:")
	ErrCancelReason    = fault.New(fault.Invalid, "card.cancel_reason", "Lý do hủy hồ sơ phải là: withdrawn (công dân rút hồ sơ) hoặc not_producible (dữ liệu chưa in được thẻ).", "The cancellation reason must be withdrawn or not_producible.")
	ErrSignerExpired   = fault.New(fault.Conflict, "card.signer_expired", "Chứng thư người ký (DS) hiện tại đã hết thời hạn sử dụng khóa; cần chạy «dancu pki rotate-signer».", "The current document signer's key usage period is over; run \"dancu pki rotate-signer\".")
	ErrSignerTooShort  = fault.New(fault.Conflict, "card.signer_too_short", "Chứng thư người ký (DS) hiện tại hết hạn trước ngày thẻ này còn phải kiểm tra được; cần chạy «dancu pki rotate-signer» với CSCA đủ thời hạn.", "The current document signer's certificate ends before this card must stop verifying; rotate the signer under a CSCA that lasts long enough.")
	ErrPKI             = fault.New(fault.Internal, "card.pki_unavailable", "Hệ thống ký số thẻ chưa sẵn sàng.", "The card signing system is not available.")
	ErrNoBiometrics    = fault.New(fault.Conflict, "card.no_biometrics", "Chưa có ảnh chân dung và vân tay thu nhận khi làm thủ tục; không thể sản xuất thẻ.", "No portrait and fingerprints captured at the desk; the card cannot be produced.")
	ErrVerifyInput     = fault.New(fault.Invalid, "card.verify.input", "Gửi dữ liệu chip (data_groups và sod) hoặc chuỗi QR (qr), không gửi cả hai.", "Send chip data (data_groups and sod) or a QR string (qr), not both.")
	ErrChipInvalid     = fault.New(fault.Invalid, "card.chip.invalid", "Dữ liệu chip không hợp lệ: nhóm dữ liệu phải đánh số 1–16, không rỗng, và có SOD.", "The chip data is not valid: data groups are numbered 1–16, not empty, and an SOD is present.")
)

// revokedStatuses are the statuses whose card numbers go on the revocation list.
var revokedStatuses = map[string]bool{Lost: true, Revoked: true, Replaced: true}

// Cancellation reasons of an application (Cancel).
const (
	ReasonWithdrawn     = "withdrawn"      // the applicant withdrew it
	ReasonNotProducible = "not_producible" // the register data cannot be put on a card
)

// CancelText is each cancellation reason in Vietnamese and English.
var CancelText = map[string][2]string{
	ReasonWithdrawn:     {"công dân rút hồ sơ", "the applicant withdrew"},
	ReasonNotProducible: {"dữ liệu trong CSDL chưa in được thẻ", "the register data cannot be put on a card"},
}

// notProducible is ErrNotProducible naming the cause's own message, so the
// desk reads why (a name without Latin letters, no residence address…).
func notProducible(cause error) *fault.Error {
	f := fault.As(cause)
	e := ErrNotProducible.Wrap(cause)
	if f.Kind == fault.Internal {
		return e
	}
	e.Message += " " + f.Message
	e.English += " " + f.English
	e.Field = f.Field
	return e
}

// open are the statuses of an application not yet handed over.
var open = map[string]bool{Applied: true, Approved: true, Produced: true}

// Apply takes a card application at the desk. The register is read through
// its audited Get, which also checks the actor's scope. Applying is possible
// from birth (optional under 14, mandatory from 14); a second open
// application or one beside a valid card is refused.
func (s *Service) Apply(ctx context.Context, a actor.Actor, pinText string) (Card, error) {
	if !a.CanRegister() {
		return Card{}, fault.ErrForbidden
	}
	p, err := s.reg.Get(ctx, a, pinText, "card-application")
	if err != nil {
		return Card{}, fmt.Errorf("card application: %w", err)
	}
	if p.Status == registry.Dead {
		return Card{}, registry.ErrDead
	}
	now := s.now().UTC()
	// Refuse now what production would refuse, with the reason, rather
	// than leave an application open that can never become a card.
	if err := issue.Check(issuePerson(p, parents{}), now); err != nil {
		return Card{}, fmt.Errorf("card application: %w", notProducible(err))
	}
	c := Card{Serial: newSerial(), PIN: p.PIN, Status: Applied, AppliedAt: now, Version: 1, UpdatedAt: now, UpdatedBy: a.ID}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.checkNoOpen(ctx, tx, p.PIN); err != nil {
			return err
		}
		if err := insertCard(ctx, tx, &c); err != nil {
			if storage.IsUniqueViolation(err) { // a concurrent application won
				return ErrOpenApplication
			}
			return err
		}
		return s.record(ctx, tx, a, "card.apply", &c, fmt.Sprintf("mandatory=%t", age(p.BirthDate, now) >= MandatoryAge))
	})
	if err != nil {
		return Card{}, fmt.Errorf("card application: %w", err)
	}
	return c, nil
}

func (s *Service) checkNoOpen(ctx context.Context, tx *sql.Tx, pinText string) error {
	cards, err := cardsOf(ctx, tx, pinText)
	if err != nil {
		return err
	}
	for _, c := range cards {
		if open[c.Status] {
			return ErrOpenApplication
		}
		if c.Status == HandedOver {
			return ErrActiveCard
		}
	}
	return nil
}

// age is the age in whole years on Vietnam's date at the instant t; a
// partial birth date counts from its earliest day. (Card expiry itself
// comes from card.Expiry, through issue.Issue.)
func age(b civildate.Date, t time.Time) int {
	e, d := b.Earliest(), civildate.Of(t)
	n := d.Year - e.Year()
	if d.Month < int(e.Month()) || (d.Month == int(e.Month()) && d.Day < e.Day()) {
		n--
	}
	return n
}

// Approve approves an application.
func (s *Service) Approve(ctx context.Context, a actor.Actor, serial string) (Card, error) {
	return s.step(ctx, a, serial, "approve", []string{Applied}, func(_ *sql.Tx, c *Card, _ registry.Person) (string, error) {
		c.Status = Approved
		return "", nil
	})
}

// Produce personalises the chip: every data group and the SOD, signed with
// the current document signer of the PKI directory, stored as the card's
// chip dump. It emits dancu.card.issued.
func (s *Service) Produce(ctx context.Context, a actor.Actor, serial string) (Card, error) {
	return s.step(ctx, a, serial, "produce", []string{Approved}, func(tx *sql.Tx, c *Card, p registry.Person) (string, error) {
		if p.Status == registry.Dead {
			return "", registry.ErrDead
		}
		if s.bio == nil {
			return "", ErrNoBiometrics
		}
		auth, err := s.pki.Load(s.pkiDir)
		if err != nil {
			return "", ErrPKI.Wrap(err)
		}
		issued := s.now().UTC()
		// sod.Sign takes no clock, so the service keeps ICAO's rule that a
		// DS key signs only during its private key usage period.
		if end, ok := usageEnd(auth.Signer); ok && issued.After(end) {
			return "", ErrSignerExpired
		}
		// The DS certificate must outlast the card: a reader checks the
		// chip against it until the card's last day (card.VerifyUntil; 62
		// years for a lifetime card). pki makes every DS long enough; this
		// refuses a card a short one would leave unverifiable.
		if last := card.VerifyUntil(p.BirthDate, issued); auth.Signer.NotAfter.Before(last.Time().AddDate(0, 0, 1)) {
			return "", ErrSignerTooShort
		}
		par, err := s.parents(ctx, tx, a, c, p)
		if err != nil {
			return "", err
		}
		face, fp, err := s.bio.ForCard(ctx, p, c.Serial, issued)
		if err != nil {
			return "", fmt.Errorf("biometrics: %w", err)
		}
		photoRef := ""
		if face != nil {
			photoRef = "photo:" + hexHash(face)
		}
		fpRef := "fp:" + hexHash(fp)
		chipKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return "", fmt.Errorf("chip key: %w", err)
		}
		aaKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return "", fmt.Errorf("chip key: %w", err)
		}
		// The chip's private keys would stay on the chip; here they are
		// dropped, only the public halves are written to DG14 and DG15.
		out, err := issue.Issue(issue.Request{Person: issuePerson(p, par), Issued: issued, Face: face, Chip: &chipKey.PublicKey, Active: &aaKey.PublicKey},
			auth.Signer, auth.SignerKey())
		if err != nil {
			return "", ErrIssue.Wrap(err)
		}
		chip, err := json.Marshal(Chip{Serial: c.Serial, PIN: c.PIN, DataGroups: out.DataGroups, SOD: out.SOD})
		if err != nil {
			return "", fmt.Errorf("encode chip: %w", err)
		}
		if face != nil {
			if err := putBiometric(ctx, tx, photoRef, "photo", face); err != nil {
				return "", err
			}
		}
		if err := putBiometric(ctx, tx, fpRef, "fingerprint", fp); err != nil {
			return "", err
		}
		c.Status = Produced
		c.IssueDate = civildate.Of(issued).String()
		c.ExpiryDate, c.Lifetime = "", out.Lifetime
		if !out.Lifetime {
			c.ExpiryDate = out.Expiry.Format(time.DateOnly) // a civil date at midnight UTC
		}
		c.SignerSerial = auth.Signer.SerialNumber.Text(16)
		c.sodHash = hexHash(out.SOD)
		c.chip = chip
		c.MRZ, c.QR = out.MRZ, out.QR
		c.PhotoRef, c.FingerprintRef = photoRef, fpRef
		return SubjectIssued, nil
	})
}

// Cancel closes an application that is not produced yet (applied or
// approved), for a reason: the applicant withdrew, or the register data
// cannot be put on a card. No card existed, so nothing is revoked and no
// event is emitted; the person can apply again at once.
func (s *Service) Cancel(ctx context.Context, a actor.Actor, serial, reason string) (Card, error) {
	if _, ok := CancelText[reason]; !ok {
		return Card{}, ErrCancelReason.WithField("reason")
	}
	return s.step(ctx, a, serial, "cancel", []string{Applied, Approved}, func(_ *sql.Tx, c *Card, _ registry.Person) (string, error) {
		c.Status, c.Reason = Cancelled, reason
		return "", nil
	})
}

// parents are the names the chip carries in DG13 field 13.
type parents struct{ Father, Mother string }

// parents reads the names of p's father and mother for the chip (Luật Căn
// cước Art. 18.3). A parent may live outside the officer's unit, so the
// register is read as the card system, for the name only, and each read is
// audited in the production's transaction in the officer's name with the
// card it is for. A parent the register does not hold leaves the name out.
func (s *Service) parents(ctx context.Context, tx *sql.Tx, a actor.Actor, c *Card, p registry.Person) (parents, error) {
	var out parents
	sys := actor.SystemActor("card")
	for _, par := range []struct {
		pin  string
		name *string
		rel  string
	}{{p.FatherPIN, &out.Father, "father"}, {p.MotherPIN, &out.Mother, "mother"}} {
		if par.pin == "" {
			continue
		}
		core, err := s.reg.ReadCoreUnaudited(ctx, sys, par.pin)
		if err != nil {
			if fault.As(err).Kind == fault.NotFound {
				continue
			}
			return out, fmt.Errorf("read %s of %s: %w", par.rel, p.PIN, err)
		}
		if err := s.audit.RecordTx(ctx, s.db, tx, audit.Entry{Actor: a.ID, Action: "person.read", Subject: "person:" + core.PIN,
			Purpose: "card-parent-name", Detail: "card=" + c.Serial + " child=" + p.PIN + " relation=" + par.rel, At: s.now().UTC()}); err != nil {
			return out, err
		}
		*par.name = core.FullName
	}
	return out, nil
}

// HandOver records that the holder received the card.
func (s *Service) HandOver(ctx context.Context, a actor.Actor, serial string) (Card, error) {
	return s.step(ctx, a, serial, "hand_over", []string{Produced}, func(_ *sql.Tx, c *Card, _ registry.Person) (string, error) {
		c.Status = HandedOver
		return "", nil
	})
}

// ReportLost records a loss reported by the holder; the card goes on the
// revocation list and dancu.card.revoked is emitted.
func (s *Service) ReportLost(ctx context.Context, a actor.Actor, serial string) (Card, error) {
	return s.step(ctx, a, serial, "report_lost", []string{HandedOver}, func(_ *sql.Tx, c *Card, _ registry.Person) (string, error) {
		c.Status, c.Reason = Lost, ReasonLoss
		return SubjectRevoked, nil
	})
}

// Revoke withdraws a card (or stops an application) for a reason: death,
// loss or replacement.
func (s *Service) Revoke(ctx context.Context, a actor.Actor, serial, reason string) (Card, error) {
	if _, ok := ReasonText[reason]; !ok {
		return Card{}, ErrReason.WithField("reason")
	}
	return s.step(ctx, a, serial, "revoke", []string{Applied, Approved, Produced, HandedOver, Lost}, func(_ *sql.Tx, c *Card, _ registry.Person) (string, error) {
		c.Status, c.Reason = Revoked, reason
		return SubjectRevoked, nil
	})
}

// Reissue replaces a valid or lost card: the old one becomes replaced (and
// revoked for verification) and a new application is opened, in one
// transaction. It returns the new application.
func (s *Service) Reissue(ctx context.Context, a actor.Actor, serial string) (Card, error) {
	var fresh Card
	_, err := s.step(ctx, a, serial, "reissue", []string{HandedOver, Lost}, func(tx *sql.Tx, c *Card, _ registry.Person) (string, error) {
		c.Status, c.Reason = Replaced, ReasonReplacement
		now := s.now().UTC()
		fresh = Card{Serial: newSerial(), PIN: c.PIN, Status: Applied, AppliedAt: now, Replaces: c.Serial, Version: 1, UpdatedAt: now, UpdatedBy: a.ID}
		if err := insertCard(ctx, tx, &fresh); err != nil {
			if storage.IsUniqueViolation(err) {
				return "", ErrOpenApplication
			}
			return "", err
		}
		if err := s.record(ctx, tx, a, "card.apply", &fresh, "replaces="+c.Serial); err != nil {
			return "", err
		}
		return SubjectRevoked, nil
	})
	if err != nil {
		return Card{}, err
	}
	return fresh, nil
}

// RevokeForDeath revokes every card of a person who died that is not already
// withdrawn, acting as the system. It is idempotent, so a redelivered
// dancu.person.died does no harm.
func (s *Service) RevokeForDeath(ctx context.Context, pinText string) (int, error) {
	a := actor.SystemActor("card")
	n := 0
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		cards, err := cardsOf(ctx, tx, pinText)
		if err != nil {
			return err
		}
		for _, old := range cards {
			if old.Status == Revoked || old.Status == Replaced {
				continue
			}
			c := old
			c.Status, c.Reason = Revoked, ReasonDeath
			if err := s.save(ctx, tx, a, &c, old.Version, "card.revoke", SubjectRevoked); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("revoke cards for death: %w", err)
	}
	return n, nil
}

// mutation changes a locked card and returns the outbox subject to emit, if any.
type mutation func(tx *sql.Tx, c *Card, p registry.Person) (string, error)

// step runs one lifecycle step: an audited register read (scope), then in one
// transaction the locked card's status check, the change, its history row,
// its audit entry and its event.
func (s *Service) step(ctx context.Context, a actor.Actor, serial, action string, from []string, fn mutation) (Card, error) {
	if !a.CanRegister() {
		return Card{}, fault.ErrForbidden
	}
	c, err := loadCard(ctx, s.db.R, "serial = $1", "", serial)
	if errors.Is(err, errNoCard) {
		return Card{}, ErrCardNotFound.WithField("serial")
	}
	if err != nil {
		return Card{}, err
	}
	p, err := s.reg.Get(ctx, a, c.PIN, "card-"+action)
	if err != nil {
		return Card{}, fmt.Errorf("card %s: %w", action, err)
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		cur, err := loadCard(ctx, tx, "serial = $1", s.db.ForUpdate(), serial)
		if err != nil {
			return err
		}
		allowed := false
		for _, st := range from {
			allowed = allowed || cur.Status == st
		}
		if !allowed {
			return ErrTransition
		}
		c = cur
		subject, err := fn(tx, &c, p)
		if err != nil {
			return err
		}
		return s.save(ctx, tx, a, &c, cur.Version, "card."+action, subject)
	})
	if err != nil {
		return Card{}, fmt.Errorf("card %s: %w", action, err)
	}
	return c, nil
}

var errStale = fault.ErrStaleVersion

// save writes c as the next version with its history row, audit entry and
// event (when subject is set).
func (s *Service) save(ctx context.Context, tx *sql.Tx, a actor.Actor, c *Card, prev int, action, subject string) error {
	c.Version = prev + 1
	c.UpdatedAt = s.now().UTC()
	c.UpdatedBy = a.ID
	if err := updateCard(ctx, tx, c, prev); err != nil {
		return err
	}
	if subject != "" {
		msg := EventMessage{Serial: c.Serial, PIN: c.PIN, Status: c.Status, Reason: c.Reason, SignerSerial: c.SignerSerial, At: c.UpdatedAt}
		if err := enqueue(ctx, tx, subject, msg); err != nil {
			return err
		}
	}
	return s.record(ctx, tx, a, action, c, "")
}

func (s *Service) record(ctx context.Context, tx *sql.Tx, a actor.Actor, action string, c *Card, extra string) error {
	detail := "card=" + c.Serial + " status=" + c.Status
	if c.Reason != "" {
		detail += " reason=" + c.Reason
	}
	if extra != "" {
		detail += " " + extra
	}
	return s.audit.RecordTx(ctx, s.db, tx, audit.Entry{Actor: a.ID, Action: action, Subject: "person:" + c.PIN,
		Purpose: "card", Detail: detail, At: c.UpdatedAt})
}

// EventMessage is the body of dancu.card.* messages (events.CardEvent).
type EventMessage = events.CardEvent

// Cards returns a person's cards, newest first, and their history; the
// register read is audited and scoped.
func (s *Service) Cards(ctx context.Context, a actor.Actor, pinText string) ([]Card, []HistoryEntry, error) {
	p, err := s.reg.Get(ctx, a, pinText, "card-history")
	if err != nil {
		return nil, nil, fmt.Errorf("card history: %w", err)
	}
	cards, err := cardsOf(ctx, s.db.R, p.PIN)
	if err != nil {
		return nil, nil, err
	}
	hist, err := historyOf(ctx, s.db.R, p.PIN)
	if err != nil {
		return nil, nil, err
	}
	if cards == nil {
		cards = []Card{}
	}
	if hist == nil {
		hist = []HistoryEntry{}
	}
	return cards, hist, nil
}

// Get returns one card, with an audited, scoped read of its holder.
func (s *Service) Get(ctx context.Context, a actor.Actor, serial, purpose string) (Card, error) {
	c, err := loadCard(ctx, s.db.R, "serial = $1", "", serial)
	if errors.Is(err, errNoCard) {
		return Card{}, ErrCardNotFound.WithField("serial")
	}
	if err != nil {
		return Card{}, err
	}
	if _, err := s.reg.Get(ctx, a, c.PIN, purpose); err != nil {
		return Card{}, fmt.Errorf("read card: %w", err)
	}
	return c, nil
}

// Chip is a card's chip dump: each data group's TLV and EF.SOD, as a reader
// would read them. In JSON the bytes are base64.
type Chip struct {
	Serial     string         `json:"serial,omitempty"`
	PIN        string         `json:"pin,omitempty"`
	DataGroups map[int][]byte `json:"data_groups"`
	SOD        []byte         `json:"sod"`
}

// Chip returns the stored chip dump of a produced card.
func (s *Service) Chip(ctx context.Context, a actor.Actor, serial string) (Chip, error) {
	c, err := s.Get(ctx, a, serial, "card-chip")
	if err != nil {
		return Chip{}, err
	}
	return c.chipDump()
}

func (c Card) chipDump() (Chip, error) {
	if len(c.chip) == 0 {
		return Chip{}, ErrNoChip
	}
	var ch Chip
	if err := json.Unmarshal(c.chip, &ch); err != nil {
		return Chip{}, fmt.Errorf("decode chip of %s: %w", c.Serial, err)
	}
	return ch, nil
}

// Rendered kinds of a card, for Render.
const (
	RenderFront   = "front"   // PNG of the front
	RenderBack    = "back"    // PNG of the back
	RenderPreview = "preview" // two-page PDF at the card's real size
)

// ErrRenderKind is returned for a kind Render does not know.
var ErrRenderKind = fault.New(fault.Invalid, "card.render.kind", "Chỉ có thể xuất mặt trước, mặt sau hoặc bản PDF.", "Only the front, the back or the PDF preview can be rendered.")

// Render draws a produced card as printed (a watermarked sample, see package
// render) from its chip dump and QR. Card images are sensitive personal data
// (Decree 356/2025): every rendering is an audited, scoped read of the
// holder's record, with the purpose "card-<kind>", like the chip download.
func (s *Service) Render(ctx context.Context, a actor.Actor, serial, kind string) ([]byte, error) {
	if kind != RenderFront && kind != RenderBack && kind != RenderPreview {
		return nil, ErrRenderKind
	}
	c, err := s.Get(ctx, a, serial, "card-"+kind)
	if err != nil {
		return nil, err
	}
	ch, err := c.chipDump()
	if err != nil {
		return nil, err
	}
	d, err := render.FromChip(ch.DataGroups, c.QR)
	if err != nil {
		return nil, fmt.Errorf("render card %s: %w", c.Serial, err)
	}
	if kind == RenderBack {
		return render.Back(d)
	}
	front, err := render.Front(d)
	if err != nil || kind == RenderFront {
		return front, err
	}
	back, err := render.Back(d)
	if err != nil {
		return nil, err
	}
	return render.PDF(front, back)
}

// issuePerson maps a register record to what the card prints and stores:
// names rather than codes (the ethnic group's and religion's names, the
// nationality's), the place of birth registration, and the parents' names
// read for the act (par). The place of birth registration is the register's
// birthplace; where it has none (records loaded before it was kept), the
// province that registered the birth, which the PIN's first three digits
// name (DOMAIN.md §1). The spouse is left out of the chip.
func issuePerson(p registry.Person, par parents) issue.Person {
	nat := p.Nationality
	if nat == "VNM" {
		nat = "Việt Nam"
	}
	place := p.Birthplace.Text
	if place == "" {
		place = pin.ProvinceName(pin.PIN(p.PIN).Province())
	}
	sex := pin.Male
	if p.Sex == "F" {
		sex = pin.Female
	}
	return issue.Person{PIN: pin.PIN(p.PIN), Name: p.FullName, Birth: p.BirthDate, Sex: sex, Nationality: nat,
		Ethnicity: EthnicityName(p.Ethnicity), Religion: p.Religion, BirthPlace: place, Address: p.Permanent.Text,
		Father: par.Father, Mother: par.Mother}
}

// EthnicityName is the name of an ethnic group from its register code
// ("01" → "Kinh"), or the text itself when it is not a catalogue code.
func EthnicityName(code string) string {
	for _, e := range registry.Ethnicities() {
		if e.Code == code {
			return e.Name
		}
	}
	return code
}

// syntheticFace is a placeholder portrait (a small JPEG derived from the PIN)
// standing for the photo an enrolment station takes. Children under 6 have
// no photo on the card (Art. 19), so none is made for them.
func syntheticFace(p registry.Person, issued time.Time) ([]byte, string) {
	if age(p.BirthDate, issued) < 6 {
		return nil, ""
	}
	seed := sha256.Sum256([]byte("face:" + p.PIN))
	img := image.NewGray(image.Rect(0, 0, 60, 80))
	for y := 0; y < 80; y++ {
		for x := 0; x < 60; x++ {
			img.SetGray(x, y, color.Gray{Y: seed[(x+y)%32] ^ uint8(x*3+y)})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 70}); err != nil {
		return nil, ""
	}
	return b.Bytes(), "photo:" + hexHash(b.Bytes())
}

// syntheticFingerprint stands for a fingerprint template: 256 bytes derived
// from the PIN and serial, never a real biometric.
func syntheticFingerprint(pinText, serial string) []byte {
	out := make([]byte, 0, 256)
	h := sha256.Sum256([]byte("fp:" + pinText + ":" + serial))
	for len(out) < 256 {
		out = append(out, h[:]...)
		h = sha256.Sum256(h[:])
	}
	return out
}

// usageEnd is the end of a DS certificate's private key usage period
// (RFC 3280 §4.2.1.4), when it has one.
func usageEnd(c *x509.Certificate) (time.Time, bool) {
	for _, ext := range c.Extensions {
		if !ext.Id.Equal(pki.OIDPrivateKeyUsagePeriod) {
			continue
		}
		var period struct {
			NotBefore time.Time `asn1:"generalized,optional,tag:0"`
			NotAfter  time.Time `asn1:"generalized,optional,tag:1"`
		}
		if _, err := asn1.Unmarshal(ext.Value, &period); err != nil || period.NotAfter.IsZero() {
			return time.Time{}, false
		}
		return period.NotAfter, true
	}
	return time.Time{}, false
}

func hexHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// newSerial is a card serial: 12 random hex digits, upper case, as printed
// on the card's back.
func newSerial() string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("%X", b[:])
}
