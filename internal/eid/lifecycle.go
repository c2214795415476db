package eid

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
)

// Activate grants level 2 after a registrar checked the person in person
// (chip card, portrait, fingerprints). A level-1 account is upgraded and
// keeps its subject; without an account a pending level-2 account is made,
// which its owner completes through StartRegistration and
// CompleteRegistration to set a password. The register read is made as the
// registrar, so it is audited and scoped to the registrar's unit.
func (s *Service) Activate(ctx context.Context, registrar actor.Actor, pin string) (Account, error) {
	if !atDesk(registrar) {
		return Account{}, ErrRegistrarRequired
	}
	pin = strings.TrimSpace(pin)
	p, err := s.register.Get(ctx, registrar, pin, "eid-level2-activation")
	if err != nil {
		return Account{}, fmt.Errorf("activate: %w", err)
	}
	return s.activate(ctx, registrar, p)
}

// activate is Activate for a person the registrar has read (and so
// reached) already.
func (s *Service) activate(ctx context.Context, registrar actor.Actor, p registry.Person) (Account, error) {
	pin := p.PIN
	if p.Status == registry.Dead {
		return Account{}, ErrDeadPerson
	}
	if ageAt(p.BirthDate, s.now()) < 6 {
		return Account{}, ErrTooYoungLevel2
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM eid_accounts WHERE pin = $1`+s.db.ForUpdate(), pin).Scan(&status)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO eid_accounts (pin, subject, level, status, created_via, activated_by, created_at, updated_at)
				VALUES ($1, $2, $3, $4, 'police', $5, $6, $6)`, pin, storage.NewID(), int(Level2), StatusPending, registrar.ID, s.stamp())
		case err != nil:
			return err
		case status == StatusRevoked:
			return ErrRevoked
		default:
			_, err = tx.ExecContext(ctx, `UPDATE eid_accounts SET level = $1, activated_by = $2, updated_at = $3 WHERE pin = $4`,
				int(Level2), registrar.ID, s.stamp(), pin)
		}
		if err != nil {
			return err
		}
		if err := s.auditTx(ctx, tx, registrar.ID, ActionLevel2Activated, pin, ""); err != nil {
			return err
		}
		return activated(ctx, tx, pin, Level2, s.now())
	})
	if err != nil {
		return Account{}, fmt.Errorf("activate: %w", err)
	}
	s.log.Info("eid level 2 activated", "code", "eid.level2_activated")
	return s.Account(ctx, pin)
}

// atDesk reports whether a serves e-ID accounts at the desk: a person on
// staff whose role allows the desk's acts (a registrar, a desk officer or
// an administrator, actor.Can's table); the platform acts on accounts only
// through revocation on death.
func atDesk(a actor.Actor) bool { return a.Role != actor.System && a.Can(actor.DeskActs) }

// mayManage reports whether a is the account's owner, a desk officer or
// registrar, an administrator or the platform.
func mayManage(a actor.Actor, pin string) bool {
	return a.ID == "citizen:"+pin || atDesk(a) || a.Role == actor.Admin || a.Role == actor.System
}

// reach applies the register's scope rule to a staff member acting on the
// account of pin, before anything else is looked at: the act is refused as
// the register refuses reading the person (out_of_scope for a person
// outside the officer's unit, and alike for a PIN nobody has), and the read
// is audited with purpose. The owner and the platform need no reach.
func (s *Service) reach(ctx context.Context, a actor.Actor, pin, purpose string) (registry.Person, error) {
	if a.ID == "citizen:"+pin || a.Role == actor.System {
		return registry.Person{}, nil
	}
	if !mayManage(a, pin) {
		return registry.Person{}, fault.ErrForbidden
	}
	p, err := s.register.Get(ctx, a, pin, purpose)
	if err != nil {
		return registry.Person{}, fmt.Errorf("e-ID account: %w", err)
	}
	return p, nil
}

// DeskView is what the desk sees of a citizen: the person as the register
// has them and their account (HasAccount false when there is none).
type DeskView struct {
	Person     registry.Person
	Account    Account
	HasAccount bool
}

// AtDesk finds a citizen for a desk officer: the register read is scoped to
// the officer's unit and audited ("eid-desk").
func (s *Service) AtDesk(ctx context.Context, a actor.Actor, pin string) (DeskView, error) {
	if !atDesk(a) && a.Role != actor.Admin {
		return DeskView{}, ErrRegistrarRequired
	}
	pin = strings.TrimSpace(pin)
	p, err := s.reach(ctx, a, pin, "eid-desk")
	if err != nil {
		return DeskView{}, err
	}
	v := DeskView{Person: p}
	acct, err := s.Account(ctx, p.PIN)
	switch {
	case err == nil:
		v.Account, v.HasAccount = acct, true
	case !errors.Is(err, ErrNoAccount):
		return DeskView{}, err
	}
	return v, nil
}

// ActivateInPerson is Activate for the desk: the officer confirms they
// checked the citizen in person against the card (inPerson), without
// which nothing is activated.
func (s *Service) ActivateInPerson(ctx context.Context, a actor.Actor, pin string, inPerson bool) (Account, error) {
	if !atDesk(a) {
		return Account{}, ErrRegistrarRequired
	}
	p, err := s.reach(ctx, a, strings.TrimSpace(pin), "eid-level2-activation")
	if err != nil {
		return Account{}, err
	}
	if !inPerson {
		return Account{}, ErrInPersonRequired.WithField("in_person")
	}
	// One audited read of the register per activation: the reach's.
	return s.activate(ctx, a, p)
}

// EnrolTOTPAtDesk starts the authenticator app's enrolment for a citizen at
// the desk: the officer shows the returned otpauth:// URI as a QR code, the
// citizen scans it and types a code, which ConfirmTOTPAtDesk checks. Scoped
// and audited like every desk act.
func (s *Service) EnrolTOTPAtDesk(ctx context.Context, a actor.Actor, pin string) (TOTPEnrolment, error) {
	pin = strings.TrimSpace(pin)
	if _, err := s.reach(ctx, a, pin, "eid-totp-enrolment"); err != nil {
		return TOTPEnrolment{}, err
	}
	acct, err := s.Account(ctx, pin)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	if acct.Status != StatusActive {
		return TOTPEnrolment{}, ErrNotActive
	}
	if acct.HasTOTP {
		// A new secret would disable the working one until confirmed: a
		// changed phone goes through Reset, which clears every factor.
		return TOTPEnrolment{}, ErrTOTPExists
	}
	en, err := s.EnrolTOTP(ctx, pin)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	if err := s.RecordAct(ctx, a.ID, ActionTOTPEnrolled, pin, ""); err != nil {
		return TOTPEnrolment{}, err
	}
	return en, nil
}

// ConfirmTOTPAtDesk checks the code the citizen's app shows and activates
// the second factor.
func (s *Service) ConfirmTOTPAtDesk(ctx context.Context, a actor.Actor, pin, code string) error {
	pin = strings.TrimSpace(pin)
	if _, err := s.reach(ctx, a, pin, "eid-totp-enrolment"); err != nil {
		return err
	}
	if err := s.ConfirmTOTP(ctx, pin, code); err != nil {
		return err
	}
	return s.RecordAct(ctx, a.ID, ActionTOTPConfirmed, pin, "")
}

// Lock stops an account from signing in (the owner after losing a phone, or
// a registrar). Unlock undoes it.
func (s *Service) Lock(ctx context.Context, a actor.Actor, pin, reason string) error {
	if _, err := s.reach(ctx, a, pin, "eid-lock"); err != nil {
		return err
	}
	return s.setStatus(ctx, a, pin, reason, ActionLocked, func(cur string) (string, error) {
		if cur == StatusRevoked {
			return "", ErrRevoked
		}
		return StatusLocked, nil
	})
}

// Unlock re-enables a locked account. Only a registrar unlocks, as a lock
// usually follows a lost phone or a suspected takeover.
func (s *Service) Unlock(ctx context.Context, a actor.Actor, pin string) error {
	if !atDesk(a) && a.Role != actor.Admin {
		return fault.ErrForbidden
	}
	if _, err := s.reach(ctx, a, pin, "eid-unlock"); err != nil {
		return err
	}
	return s.setStatus(ctx, a, pin, "", ActionUnlocked, func(cur string) (string, error) {
		if cur != StatusLocked {
			return "", ErrNotLocked
		}
		return StatusActive, nil
	})
}

// Reset clears the password and the second factor; the owner sets new ones
// through the one-time-code step. The level is kept.
func (s *Service) Reset(ctx context.Context, a actor.Actor, pin string) error {
	if !atDesk(a) && a.Role != actor.Admin {
		return fault.ErrForbidden
	}
	if _, err := s.reach(ctx, a, pin, "eid-reset"); err != nil {
		return err
	}
	return s.update(ctx, pin, func(tx *sql.Tx, cur string) error {
		if cur == StatusRevoked {
			return ErrRevoked
		}
		_, err := tx.ExecContext(ctx, `UPDATE eid_accounts SET status = $1, password_hash = '', totp_sealed = '', totp_confirmed = 0, status_reason = 'reset', updated_at = $2 WHERE pin = $3`,
			StatusPending, s.stamp(), pin)
		if err != nil {
			return err
		}
		// Passkeys are factors too: a reset follows a lost device or a
		// takeover, so they go with the password.
		if _, err := tx.ExecContext(ctx, `DELETE FROM eid_passkeys WHERE pin = $1`, pin); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, a.ID, ActionReset, pin, "")
	})
}

// Revoke withdraws an account for good (death, fraud). It is idempotent.
func (s *Service) Revoke(ctx context.Context, a actor.Actor, pin, reason string) error {
	if _, err := s.reach(ctx, a, pin, "eid-revoke"); err != nil {
		return err
	}
	return s.setStatus(ctx, a, pin, reason, ActionRevoked, func(string) (string, error) { return StatusRevoked, nil })
}

func (s *Service) setStatus(ctx context.Context, a actor.Actor, pin, reason, action string, next func(cur string) (string, error)) error {
	if !mayManage(a, pin) {
		return fault.ErrForbidden
	}
	return s.update(ctx, pin, func(tx *sql.Tx, cur string) error {
		st, err := next(cur)
		if err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `UPDATE eid_accounts SET status = $1, status_reason = $2, updated_at = $3 WHERE pin = $4`, st, reason, s.stamp(), pin); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, a.ID, action, pin, reason)
	})
}

// update runs fn on the locked account row.
func (s *Service) update(ctx context.Context, pin string, fn func(tx *sql.Tx, status string) error) error {
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM eid_accounts WHERE pin = $1`+s.db.ForUpdate(), pin).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoAccount
		}
		if err != nil {
			return err
		}
		return fn(tx, status)
	})
	if err != nil {
		return fmt.Errorf("eid account: %w", err)
	}
	return nil
}

// TOTPEnrolment is a new authenticator-app secret to show once as a QR code.
type TOTPEnrolment struct {
	Secret string // base32
	URI    string // otpauth://
}

// EnrolTOTP makes a new TOTP secret for an active account; it takes effect
// once ConfirmTOTP sees a valid code from the app.
func (s *Service) EnrolTOTP(ctx context.Context, pin string) (TOTPEnrolment, error) {
	secret := newTOTPSecret()
	var subject string
	err := s.update(ctx, pin, func(tx *sql.Tx, status string) error {
		if status != StatusActive {
			return ErrBadCredentials
		}
		if err := tx.QueryRowContext(ctx, `SELECT subject FROM eid_accounts WHERE pin = $1`, pin).Scan(&subject); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE eid_accounts SET totp_sealed = $1, totp_confirmed = 0, totp_last_step = 0, updated_at = $2 WHERE pin = $3`,
			s.seal.Seal(secret, pin), s.stamp(), pin)
		return err
	})
	if err != nil {
		return TOTPEnrolment{}, err
	}
	return TOTPEnrolment{Secret: secret, URI: totpURI(secret, subject)}, nil
}

// ConfirmTOTP activates the enrolled secret when code is valid for it.
func (s *Service) ConfirmTOTP(ctx context.Context, pin, code string) error {
	return s.update(ctx, pin, func(tx *sql.Tx, status string) error {
		var sealed string
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT totp_sealed, totp_last_step FROM eid_accounts WHERE pin = $1`, pin).Scan(&sealed, &last); err != nil {
			return err
		}
		if sealed == "" {
			return ErrTOTPNotEnrolled
		}
		secret, err := s.seal.Open(sealed, pin)
		if err != nil {
			return err
		}
		step := totpMatch(secret, strings.TrimSpace(code), s.now(), last)
		if step == 0 {
			return ErrOTPInvalid.WithField("code")
		}
		_, err = tx.ExecContext(ctx, `UPDATE eid_accounts SET totp_confirmed = 1, totp_last_step = $1, updated_at = $2 WHERE pin = $3`, step, s.stamp(), pin)
		return err
	})
}
