package eid

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/throttle"
)

// Deps are what the Service is built from. Secret comes from configuration
// (at least 32 bytes); it seals phone numbers and TOTP secrets and keys the
// hashes of throttling counters.
type Deps struct {
	DB       *storage.DB
	Register Register
	SMS      SMSGateway   // nil: DevSMS on Log, refused when Production
	Face     FaceVerifier // nil: AcceptAllFaces, refused when Production
	// Cards is the card register, for enrolment by card number and issue
	// date; nil: only the name-and-birth-date form of StartRegistration.
	Cards  CardRegister
	Secret []byte
	Log    *slog.Logger
	Now    func() time.Time
	// Production refuses the development stand-ins: the SMS log sink and
	// the face check that accepts every face.
	Production bool
	// Policy tunes throttling and code lifetimes; zero fields take defaults.
	Policy Policy
	// Audit receives entries for eid's acts that concern a person (level-2
	// activation, lock, passkeys, delegations); nil: not audited.
	Audit *audit.Log
	// Passkeys configures WebAuthn; a zero value disables passkeys.
	Passkeys PasskeyConfig
	// Passwords bounds concurrent password checks, shared with the staff
	// module's; nil: a gate of this service's own (throttle.NewGate).
	Passwords *throttle.Gate
}

// Policy holds the tunable limits.
type Policy struct {
	OTPTTL          time.Duration // lifetime of a registration code (5 min)
	OTPAttempts     int           // wrong codes before the enrolment is void (5)
	MaxFailures     int           // failed sign-ins per identifier before a block (5)
	MaxIPFailures   int           // failed sign-ins per client address before a block (50)
	FailureWindow   time.Duration // window failures are counted in (15 min)
	BlockDuration   time.Duration // first block (1 min); doubles per further failure
	MaxBlock        time.Duration // longest block (1 h)
	MinPasswordRune int           // shortest password (10)
}

func (p Policy) withDefaults() Policy {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defi := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&p.OTPTTL, 5*time.Minute)
	defi(&p.OTPAttempts, 5)
	defi(&p.MaxFailures, 5)
	defi(&p.MaxIPFailures, 50)
	def(&p.FailureWindow, 15*time.Minute)
	def(&p.BlockDuration, time.Minute)
	def(&p.MaxBlock, time.Hour)
	defi(&p.MinPasswordRune, 10)
	return p
}

// Service is the eid module's API.
type Service struct {
	db       *storage.DB
	register Register
	sms      SMSGateway
	face     FaceVerifier
	cards    CardRegister
	seal     *Sealer
	log      *slog.Logger
	now      func() time.Time
	policy   Policy
	dummy    string // a password hash checked for unknown PINs, so timing is alike
	audit    *audit.Log
	webauthn *webauthn.WebAuthn // nil when passkeys are not configured
	throttle *throttle.Limiter  // failed sign-ins and registrations, in eid_throttle
	gate     *throttle.Gate     // bounds concurrent password checks
}

// NewService builds the service.
func NewService(d Deps) (*Service, error) {
	if d.DB == nil || d.Register == nil {
		return nil, errors.New("eid: DB and Register are required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.SMS == nil {
		d.SMS = DevSMS{Log: d.Log}
	}
	if _, dev := d.SMS.(DevSMS); dev && d.Production {
		return nil, errors.New("eid: the dev-only SMS sink is not allowed in production; configure an SMS gateway")
	}
	if d.Face == nil {
		d.Face = AcceptAllFaces{}
	}
	if _, dev := d.Face.(AcceptAllFaces); dev && d.Production {
		return nil, errors.New("eid: the face check that accepts every face is not allowed in production; configure a face-verification service")
	}
	s, err := NewSealer(d.Secret)
	if err != nil {
		return nil, err
	}
	dummy, err := staff.HashPassword("not the password of anyone")
	if err != nil {
		return nil, err
	}
	if d.Passwords == nil {
		d.Passwords = throttle.NewGate(0, 0)
	}
	svc := &Service{gate: d.Passwords, db: d.DB, register: d.Register, sms: d.SMS, face: d.Face, cards: d.Cards, seal: s, log: d.Log, now: d.Now,
		policy: d.Policy.withDefaults(), dummy: dummy, audit: d.Audit, throttle: throttle.New(d.DB, "eid_throttle")}
	if svc.webauthn, err = newWebAuthn(d.Passkeys); err != nil {
		return nil, err
	}
	return svc, nil
}

const accountColumns = `pin, subject, level, status, email, created_via, guardian_pin, password_hash, totp_confirmed, activated_by, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanAccount(row scanner) (Account, string, error) {
	var a Account
	var hash, created, updated string
	var totp int
	err := row.Scan(&a.PIN, &a.Subject, &a.Level, &a.Status, &a.Email, &a.CreatedVia, &a.GuardianPIN, &hash, &totp, &a.ActivatedBy, &created, &updated)
	if err != nil {
		return Account{}, "", err
	}
	a.HasPassword, a.HasTOTP = hash != "", totp != 0
	a.Created, _ = time.Parse(time.RFC3339Nano, created)
	a.Updated, _ = time.Parse(time.RFC3339Nano, updated)
	return a, hash, nil
}

// AnyAccount reports whether anyone has an e-ID account yet (the
// development platform makes its sample citizens only when nobody has).
func (s *Service) AnyAccount(ctx context.Context) (bool, error) {
	var n int
	if err := s.db.R.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM eid_accounts LIMIT 1) AS any_account`).Scan(&n); err != nil {
		return false, fmt.Errorf("any eid account: %w", err)
	}
	return n > 0, nil
}

// Account returns the account of a PIN, or ErrNoAccount.
func (s *Service) Account(ctx context.Context, pin string) (Account, error) {
	a, _, err := scanAccount(s.db.R.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM eid_accounts WHERE pin = $1`, pin))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrNoAccount
	}
	if err != nil {
		return Account{}, fmt.Errorf("load eid account: %w", err)
	}
	return a, nil
}

// AccountBySubject returns the account a relying party knows by subject.
func (s *Service) AccountBySubject(ctx context.Context, subject string) (Account, error) {
	a, _, err := scanAccount(s.db.R.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM eid_accounts WHERE subject = $1`, subject))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrNoAccount
	}
	if err != nil {
		return Account{}, fmt.Errorf("load eid account: %w", err)
	}
	return a, nil
}

func (s *Service) stamp() string { return s.now().UTC().Format(time.RFC3339Nano) }
