package eid

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/dancu-project/dancu/internal/card/qr"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
)

// RegistrationInput is a level-1 self-registration as typed in the app.
type RegistrationInput struct {
	PIN        string
	CardNumber string // equal to the PIN on chip cards
	// IssueDate is the card's issue date (any form civildate.Parse reads).
	// With it the details are matched against the card register (a valid
	// card of that PIN issued that day) instead of FullName and BirthDate.
	IssueDate string
	// QR is the text of the card's QR code (package card/qr), an
	// alternative to typing PIN, CardNumber and IssueDate.
	QR        string
	FullName  string
	BirthDate string // any form civildate.Parse reads
	Phone     string // the citizen's own (chính chủ) mobile number
	Email     string
	Face      []byte // live face image
	// GuardianPIN names the guardian who asks for a child's account. The
	// guardian must hold an active level-2 account; the caller (the app,
	// after the guardian signed in at level 2) vouches for that sign-in.
	GuardianPIN string
	ClientIP    string // for throttling
}

// Enrolment is a registration waiting for its one-time code.
type Enrolment struct {
	ID      string
	Expires time.Time
}

// StartRegistration checks the typed details against the register, runs the
// face check, and sends a one-time code to the phone. A mismatch of any
// detail, or a PIN not in the register, gives the same fault, which says
// nothing about which detail was wrong.
//
// Mismatches are throttled like failed sign-ins, per PIN and per client
// address, so the form cannot serve to guess someone's birth date; and a PIN
// gets at most registrationsPerHour codes, so it cannot flood a phone.
func (s *Service) StartRegistration(ctx context.Context, in RegistrationInput) (Enrolment, error) {
	if strings.TrimSpace(in.QR) != "" {
		// The QR only saves typing: it is matched like typed details.
		q, err := qr.Parse(in.QR)
		if err != nil {
			return Enrolment{}, err
		}
		in.PIN, in.CardNumber, in.IssueDate = string(q.PIN), string(q.PIN), q.Issue.String()
	}
	pin := strings.TrimSpace(in.PIN)
	phone, ok := normalizePhone(in.Phone)
	if !ok {
		return Enrolment{}, ErrPhoneInvalid.WithField("phone")
	}
	keys := []string{s.seal.Hash("reg", pin)}
	if in.ClientIP != "" {
		keys = append(keys, s.seal.Hash("ip", in.ClientIP))
	}
	now := s.now()
	if blocked, err := s.blocked(ctx, keys, now); err != nil {
		return Enrolment{}, err
	} else if blocked {
		return Enrolment{}, ErrThrottled
	}
	e, err := s.startRegistration(ctx, pin, phone, in)
	if errors.Is(err, ErrMismatch) || errors.Is(err, ErrCardMismatch) {
		if ferr := s.fail(ctx, keys, now); ferr != nil {
			return Enrolment{}, ferr
		}
		s.log.Info("eid registration mismatch", "code", "eid.registration_mismatch")
	}
	return e, err
}

// registrationsPerHour bounds the codes sent for one PIN.
const registrationsPerHour = 5

func (s *Service) startRegistration(ctx context.Context, pin, phone string, in RegistrationInput) (Enrolment, error) {
	byCard := strings.TrimSpace(in.IssueDate) != ""
	mismatch := ErrMismatch
	if byCard {
		mismatch = ErrCardMismatch
	}
	if strings.TrimSpace(in.CardNumber) != pin {
		// Chip cards carry the PIN as their number; older cards are not
		// accepted for self-registration yet.
		return Enrolment{}, mismatch
	}
	p, err := s.register.Get(ctx, systemActor, pin, "eid-registration")
	if err != nil {
		if f := fault.As(err); f.Kind == fault.NotFound || f.Kind == fault.Invalid {
			return Enrolment{}, mismatch.Wrap(err)
		}
		return Enrolment{}, fmt.Errorf("registration: %w", err)
	}
	if byCard {
		if err := s.validCard(ctx, pin, in.IssueDate); err != nil {
			return Enrolment{}, err
		}
	} else if birth, err := civildate.Parse(in.BirthDate); err != nil || birth != p.BirthDate || !sameName(in.FullName, p.FullName) {
		return Enrolment{}, ErrMismatch
	}
	if p.Status == registry.Dead {
		return Enrolment{}, mismatch
	}
	guardian := strings.TrimSpace(in.GuardianPIN)
	if ageAt(p.BirthDate, s.now()) < 14 {
		if err := s.checkGuardian(ctx, guardian, pin); err != nil {
			return Enrolment{}, err
		}
	} else {
		guardian = ""
	}
	if ok, err := s.face.Verify(ctx, pin, in.Face); err != nil {
		return Enrolment{}, fmt.Errorf("registration: face check: %w", err)
	} else if !ok {
		return Enrolment{}, ErrFaceMismatch.WithField("face")
	}
	if a, err := s.Account(ctx, pin); err == nil && a.Status != StatusPending && a.Status != StatusRevoked {
		return Enrolment{}, ErrAccountExists
	} else if err != nil && !errors.Is(err, ErrNoAccount) {
		return Enrolment{}, err
	}
	var recent int
	if err := s.db.R.QueryRowContext(ctx, `SELECT count(*) FROM eid_enrolments WHERE pin = $1 AND created_at > $2`, pin,
		s.now().Add(-time.Hour).UTC().Format(time.RFC3339Nano)).Scan(&recent); err != nil {
		return Enrolment{}, fmt.Errorf("registration: %w", err)
	}
	if recent >= registrationsPerHour {
		return Enrolment{}, ErrThrottled
	}
	code := randomDigits(6)
	e := Enrolment{ID: storage.NewID(), Expires: s.now().Add(s.policy.OTPTTL)}
	_, err = s.db.W.ExecContext(ctx, `INSERT INTO eid_enrolments (id, pin, phone_sealed, email, guardian_pin, code_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, e.ID, pin, s.seal.Seal(phone, pin), strings.TrimSpace(in.Email), guardian,
		s.seal.Hash("otp", e.ID, code), s.stamp(), e.Expires.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return Enrolment{}, fmt.Errorf("registration: %w", err)
	}
	text := fmt.Sprintf("Ma xac thuc dang ky tai khoan dinh danh dien tu: %s. Hieu luc %d phut. Khong chia se ma nay.", code, int(s.policy.OTPTTL.Minutes()))
	if err := s.sms.Send(ctx, phone, text); err != nil {
		return Enrolment{}, fmt.Errorf("registration: send code: %w", err)
	}
	s.log.Info("eid registration started", "code", "eid.registration_started")
	return e, nil
}

// validCard checks that the card register holds a card of pin issued on
// issue that is in its holder's hands (not lost, revoked or replaced). Every
// way of failing is ErrCardMismatch (see its comment).
func (s *Service) validCard(ctx context.Context, pin, issue string) error {
	if s.cards == nil {
		return ErrCardMismatch.Wrap(errors.New("no card register configured"))
	}
	day, err := civildate.Parse(issue)
	if err != nil || day.Partial() {
		return ErrCardMismatch.WithField("issue_date")
	}
	cards, _, err := s.cards.Cards(ctx, systemActor, pin)
	if err != nil {
		if f := fault.As(err); f.Kind == fault.NotFound || f.Kind == fault.Invalid {
			return ErrCardMismatch.Wrap(err)
		}
		return fmt.Errorf("registration: card register: %w", err)
	}
	for _, c := range cards {
		if c.IssueDate == day.String() && c.Status == cardservice.HandedOver {
			return nil
		}
	}
	return ErrCardMismatch
}

func (s *Service) checkGuardian(ctx context.Context, guardian, child string) error {
	if guardian == "" || guardian == child {
		return ErrGuardianRequired.WithField("guardian_pin")
	}
	g, err := s.Account(ctx, guardian)
	if err != nil || g.Level != Level2 || g.Status != StatusActive {
		return ErrGuardianRequired.WithField("guardian_pin")
	}
	return nil
}

// CompleteRegistration checks the one-time code and creates the account with
// its password: level 1, or the level already granted at the desk when a
// registrar activated a pending level-2 account. A code is good once, for
// OTPTTL, and for OTPAttempts tries.
func (s *Service) CompleteRegistration(ctx context.Context, enrolmentID, code, password string) (Account, error) {
	if len([]rune(password)) < s.policy.MinPasswordRune {
		return Account{}, ErrWeakPassword.WithField("password")
	}
	hash, err := hashPassword(password)
	if err != nil {
		return Account{}, err
	}
	var pin string
	var wrong bool
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var phoneSealed, email, guardian, codeHash, expires string
		var attempts, used int
		err := tx.QueryRowContext(ctx, `SELECT pin, phone_sealed, email, guardian_pin, code_hash, attempts, used, expires_at FROM eid_enrolments WHERE id = $1`+s.db.ForUpdate(), enrolmentID).
			Scan(&pin, &phoneSealed, &email, &guardian, &codeHash, &attempts, &used, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrOTPInvalid.WithField("code")
		}
		if err != nil {
			return err
		}
		if used != 0 || attempts >= s.policy.OTPAttempts {
			return ErrOTPInvalid.WithField("code")
		}
		if exp, _ := time.Parse(time.RFC3339Nano, expires); !s.now().Before(exp) {
			return ErrOTPExpired.WithField("code")
		}
		if subtle.ConstantTimeCompare([]byte(s.seal.Hash("otp", enrolmentID, strings.TrimSpace(code))), []byte(codeHash)) != 1 {
			wrong = true
			_, err := tx.ExecContext(ctx, `UPDATE eid_enrolments SET attempts = attempts + 1 WHERE id = $1`, enrolmentID)
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE eid_enrolments SET used = 1 WHERE id = $1`, enrolmentID); err != nil {
			return err
		}
		phone, err := s.seal.Open(phoneSealed, pin)
		if err != nil {
			return err
		}
		now := s.stamp()
		var status string
		err = tx.QueryRowContext(ctx, `SELECT status FROM eid_accounts WHERE pin = $1`+s.db.ForUpdate(), pin).Scan(&status)
		if err == nil || errors.Is(err, sql.ErrNoRows) {
			// The citizen's own act, in their access log with the others'.
			if aerr := s.auditTx(ctx, tx, "citizen:"+pin, ActionEnrolled, pin, ""); aerr != nil {
				return aerr
			}
		}
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO eid_accounts (pin, subject, level, status, phone_sealed, email, created_via, guardian_pin, password_hash, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, 'app', $7, $8, $9, $9)`, pin, storage.NewID(), int(Level1), StatusActive, s.seal.Seal(phone, pin), email, guardian, hash, now)
			if err != nil {
				return err
			}
			return activated(ctx, tx, pin, Level1, s.now())
		case err != nil:
			return err
		case status == StatusPending:
			_, err = tx.ExecContext(ctx, `UPDATE eid_accounts SET status = $1, phone_sealed = $2, email = $3, password_hash = $4, updated_at = $5 WHERE pin = $6`,
				StatusActive, s.seal.Seal(phone, pin), email, hash, now, pin)
			return err
		case status == StatusRevoked:
			// A withdrawn account starts over at level 1 with a new subject,
			// so relying parties do not link it to the old one silently.
			_, err = tx.ExecContext(ctx, `UPDATE eid_accounts SET subject = $1, level = $2, status = $3, phone_sealed = $4, email = $5, created_via = 'app',
				guardian_pin = $6, password_hash = $7, totp_sealed = '', totp_confirmed = 0, totp_last_step = 0, activated_by = '', status_reason = '', updated_at = $8 WHERE pin = $9`,
				storage.NewID(), int(Level1), StatusActive, s.seal.Seal(phone, pin), email, guardian, hash, now, pin)
			if err != nil {
				return err
			}
			return activated(ctx, tx, pin, Level1, s.now())
		default:
			return ErrAccountExists
		}
	})
	if err != nil {
		return Account{}, fmt.Errorf("complete registration: %w", err)
	}
	if wrong {
		return Account{}, ErrOTPInvalid.WithField("code")
	}
	s.log.Info("eid registration completed", "code", "eid.registration_completed")
	return s.Account(ctx, pin)
}

// sameName compares names as people type them: Unicode-normalised, case and
// runs of spaces ignored, diacritics kept (they distinguish names).
func sameName(typed, recorded string) bool {
	canon := func(s string) string {
		return strings.Join(strings.FieldsFunc(norm.NFC.String(s), unicode.IsSpace), " ")
	}
	return strings.EqualFold(canon(typed), canon(recorded))
}

// ageAt is the age in whole years on now, taking a partial birth date at its
// latest possible day so that an age limit is never met too early.
func ageAt(d civildate.Date, now time.Time) int {
	now = now.In(civildate.Location()) // the age on Vietnam's date
	y, m, day := d.Year, d.Month, d.Day
	if m == 0 {
		m, day = 12, 31
	} else if day == 0 {
		day = time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	}
	age := now.Year() - y
	if int(now.Month()) < m || (int(now.Month()) == m && now.Day() < day) {
		age--
	}
	return age
}

// normalizePhone accepts a Vietnamese mobile number as 0xxxxxxxxx or
// +84xxxxxxxxx and returns it as +84 and nine digits.
func normalizePhone(s string) (string, bool) {
	s = strings.NewReplacer(" ", "", ".", "", "-", "").Replace(strings.TrimSpace(s))
	switch {
	case strings.HasPrefix(s, "+84"):
		s = s[3:]
	case strings.HasPrefix(s, "84") && len(s) == 11:
		s = s[2:]
	case strings.HasPrefix(s, "0"):
		s = s[1:]
	default:
		return "", false
	}
	if len(s) != 9 || s[0] < '3' || s[0] > '9' {
		return "", false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return "+84" + s, true
}

func randomDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		v, _ := rand.Int(rand.Reader, big.NewInt(10))
		b[i] = byte('0' + v.Int64())
	}
	return string(b)
}
