package eid

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/throttle"
)

// SignInInput is what a citizen types to sign in.
type SignInInput struct {
	PIN      string
	Password string
	TOTP     string // second factor; required for level 2
	ClientIP string // for per-address throttling
	// MinLevel is the level the relying party requires; a sign-in that does
	// not reach it fails with ErrLevelRequired.
	MinLevel Level
	// Channel names where the sign-in happened ("portal", "oidc:<client>")
	// in the owner's sign-in history.
	Channel string
}

// Authentication is a successful sign-in.
type Authentication struct {
	Account Account
	// Level reached: 2 only for a level-2 account with password and TOTP.
	Level Level
	AMR   []string // RFC 8176 methods: "pwd", "otp", "mfa"
	At    time.Time
}

// ErrLevelRequired means the password was right but the relying party needs
// level 2, which this account or the factors given do not reach.
var ErrLevelRequired = fault.New(fault.Forbidden, "eid.level2_required", "Dịch vụ này yêu cầu tài khoản định danh điện tử mức 2 và mã xác thực.", "This service requires a level-2 electronic ID and an authenticator code.")

// SignIn checks the password and, when given, the TOTP code. Every failure
// before the level check is ErrBadCredentials, and throttling counts
// identifiers whether an account exists or not, so answers reveal nothing.
func (s *Service) SignIn(ctx context.Context, in SignInInput) (Authentication, error) {
	pin := strings.TrimSpace(in.PIN)
	keys := []string{s.seal.Hash("acct", pin)}
	if in.ClientIP != "" {
		keys = append(keys, s.seal.Hash("ip", in.ClientIP))
	}
	now := s.now()
	if blocked, err := s.blocked(ctx, keys, now); err != nil {
		return Authentication{}, err
	} else if blocked {
		s.log.Info("eid sign-in throttled", "code", "eid.throttled")
		return Authentication{}, ErrThrottled
	}
	auth, err := s.check(ctx, pin, in, now)
	if errors.Is(err, ErrBadCredentials) {
		if ferr := s.fail(ctx, keys, now); ferr != nil {
			return Authentication{}, ferr
		}
		s.log.Info("eid sign-in failed", "code", "eid.bad_credentials")
		return Authentication{}, ErrBadCredentials
	}
	if err != nil {
		return Authentication{}, err
	}
	if err := s.throttle.Reset(ctx, keys[0]); err != nil {
		return Authentication{}, fmt.Errorf("sign-in: %w", err)
	}
	if auth.Level < in.MinLevel {
		return Authentication{}, ErrLevelRequired
	}
	if err := s.recordSignIn(ctx, auth, in.Channel); err != nil {
		return Authentication{}, err
	}
	return auth, nil
}

func (s *Service) check(ctx context.Context, pin string, in SignInInput, now time.Time) (Authentication, error) {
	row := s.db.R.QueryRowContext(ctx, `SELECT `+accountColumns+`, totp_sealed, totp_last_step FROM eid_accounts WHERE pin = $1`, pin)
	var a Account
	var hash, created, updated, totpSealed string
	var totp int
	var last int64
	err := row.Scan(&a.PIN, &a.Subject, &a.Level, &a.Status, &a.Email, &a.CreatedVia, &a.GuardianPIN, &hash, &totp, &a.ActivatedBy, &created, &updated, &totpSealed, &last)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.checkPassword(ctx, s.dummy, in.Password); err != nil { // same cost as a real check
			return Authentication{}, err
		}
		return Authentication{}, ErrBadCredentials
	}
	if err != nil {
		return Authentication{}, fmt.Errorf("sign-in: %w", err)
	}
	a.HasPassword, a.HasTOTP = hash != "", totp != 0
	if hash == "" {
		hash = s.dummy // same cost as a real check, and a failure
		a.Status = ""
	}
	good, err := s.checkPassword(ctx, hash, in.Password)
	if err != nil {
		return Authentication{}, err
	}
	if !good || a.Status != StatusActive {
		return Authentication{}, ErrBadCredentials
	}
	auth := Authentication{Account: a, Level: Level1, AMR: []string{"pwd"}, At: now}
	code := strings.TrimSpace(in.TOTP)
	if code == "" {
		return auth, nil
	}
	if !a.HasTOTP {
		return Authentication{}, ErrBadCredentials
	}
	if err := s.checkTOTP(ctx, pin, totpSealed, code, last, now); err != nil {
		return Authentication{}, err
	}
	auth.Level = a.Level
	auth.AMR = []string{"pwd", "otp", "mfa"}
	return auth, nil
}

// checkTOTP checks an authenticator code against the sealed secret and
// spends its time step; a wrong or used code is ErrBadCredentials.
func (s *Service) checkTOTP(ctx context.Context, pin, sealed, code string, last int64, now time.Time) error {
	secret, err := s.seal.Open(sealed, pin)
	if err != nil {
		return err
	}
	step := totpMatch(secret, code, now, last)
	if step == 0 {
		return ErrBadCredentials
	}
	// The step is recorded only if no one used it (or a later one) meanwhile,
	// so a code observed in transit cannot be replayed on another node.
	res, err := s.db.W.ExecContext(ctx, `UPDATE eid_accounts SET totp_last_step = $1 WHERE pin = $2 AND totp_last_step < $1`, step, pin)
	if err != nil {
		return fmt.Errorf("sign-in: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrBadCredentials
	}
	return nil
}

// StepUpInput is the second factor typed to raise a password sign-in to
// level 2 (the OpenID provider's session knows who signed in).
type StepUpInput struct {
	Subject  string
	TOTP     string
	ClientIP string
	Channel  string
}

// StepUp raises a citizen's password sign-in to level 2 with the
// authenticator code alone: the provider's sign-in session vouches for the
// password typed earlier. It is throttled with the same counters as
// SignIn, so it is no way around them to guess codes; every failure is
// ErrBadCredentials, a level-1 account ErrLevelRequired.
func (s *Service) StepUp(ctx context.Context, in StepUpInput) (Authentication, error) {
	row := s.db.R.QueryRowContext(ctx, `SELECT `+accountColumns+`, totp_sealed, totp_last_step FROM eid_accounts WHERE subject = $1`, in.Subject)
	var a Account
	var hash, created, updated, totpSealed string
	var totp int
	var last int64
	err := row.Scan(&a.PIN, &a.Subject, &a.Level, &a.Status, &a.Email, &a.CreatedVia, &a.GuardianPIN, &hash, &totp, &a.ActivatedBy, &created, &updated, &totpSealed, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return Authentication{}, ErrBadCredentials
	}
	if err != nil {
		return Authentication{}, fmt.Errorf("step-up: %w", err)
	}
	a.HasPassword, a.HasTOTP = hash != "", totp != 0
	keys := []string{s.seal.Hash("acct", a.PIN)}
	if in.ClientIP != "" {
		keys = append(keys, s.seal.Hash("ip", in.ClientIP))
	}
	now := s.now()
	if blocked, err := s.blocked(ctx, keys, now); err != nil {
		return Authentication{}, err
	} else if blocked {
		return Authentication{}, ErrThrottled
	}
	if a.Status != StatusActive || a.Level < Level2 || !a.HasTOTP {
		return Authentication{}, ErrLevelRequired
	}
	err = s.checkTOTP(ctx, a.PIN, totpSealed, strings.TrimSpace(in.TOTP), last, now)
	if errors.Is(err, ErrBadCredentials) {
		if ferr := s.fail(ctx, keys, now); ferr != nil {
			return Authentication{}, ferr
		}
		return Authentication{}, ErrBadCredentials
	}
	if err != nil {
		return Authentication{}, err
	}
	if err := s.throttle.Reset(ctx, keys[0]); err != nil {
		return Authentication{}, fmt.Errorf("step-up: %w", err)
	}
	auth := Authentication{Account: a, Level: Level2, AMR: []string{"pwd", "otp", "mfa"}, At: now}
	if err := s.recordSignIn(ctx, auth, in.Channel); err != nil {
		return Authentication{}, err
	}
	return auth, nil
}

// throttleKeys gives the identifier key (first) the per-identifier rule and
// the address key the per-address rule. Citizens' accounts are blocked with
// a growing backoff, never locked: a lock a stranger can set would let
// anyone shut a citizen out of every public service.
func (s *Service) throttleKeys(keys []string) []throttle.Key {
	out := make([]throttle.Key, len(keys))
	for i, k := range keys {
		r := throttle.Rule{Limit: s.policy.MaxFailures, Window: s.policy.FailureWindow, Block: s.policy.BlockDuration, MaxBlock: s.policy.MaxBlock}
		if i > 0 {
			r.Limit = s.policy.MaxIPFailures
		}
		out[i] = throttle.Key{ID: k, Rule: r}
	}
	return out
}

func (s *Service) blocked(ctx context.Context, keys []string, now time.Time) (bool, error) {
	v, err := s.throttle.Check(ctx, s.throttleKeys(keys), now)
	if err != nil {
		return false, fmt.Errorf("sign-in: %w", err)
	}
	return v.Refused(now), nil
}

// fail counts a failure against each key. The first key (the identifier)
// blocks after MaxFailures, the second (the address) after MaxIPFailures;
// each further failure doubles the block up to MaxBlock.
func (s *Service) fail(ctx context.Context, keys []string, now time.Time) error {
	if _, err := s.throttle.Fail(ctx, s.throttleKeys(keys), now); err != nil {
		return fmt.Errorf("sign-in: %w", err)
	}
	return nil
}
