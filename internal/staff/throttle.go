package staff

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/throttle"
)

// Policy tunes the throttling of staff sign-ins; zero fields take defaults.
// It is the citizens' rule (internal/eid) with a lock added: a staff
// account opens the register of a whole unit, so after LockAfter attempts
// it stays shut until an administrator lifts the lock.
type Policy struct {
	MaxFailures   int           // failed sign-ins per username before a block (5)
	MaxIPFailures int           // failed sign-ins per client address before a block (50)
	LockAfter     int           // attempts per username, refused ones included, before the lock (20)
	FailureWindow time.Duration // quiet time after which failures are forgotten (15 min)
	BlockDuration time.Duration // first block (1 min); doubles per further failure
	MaxBlock      time.Duration // longest block (1 h)
}

func (p Policy) withDefaults() Policy {
	defi := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defi(&p.MaxFailures, 5)
	defi(&p.MaxIPFailures, 50)
	defi(&p.LockAfter, 20)
	def(&p.FailureWindow, 15*time.Minute)
	def(&p.BlockDuration, time.Minute)
	def(&p.MaxBlock, time.Hour)
	return p
}

// Throttling faults. Both are given for unknown usernames exactly as for
// real ones. A lock is Forbidden (403 in the API): the request is
// understood and refused until an administrator acts, which waiting does
// not change, unlike the 429 of a block.
var (
	ErrThrottled = fault.New(fault.Limited, "auth.throttled",
		"Bạn đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.",
		"Too many failed sign-ins. Try again in a few minutes.")
	ErrLocked = fault.New(fault.Forbidden, "auth.account_locked",
		"Tài khoản đã bị khoá do đăng nhập sai quá nhiều lần. Vui lòng liên hệ quản trị viên để mở khoá.",
		"The account is locked after too many failed sign-ins; ask an administrator to unlock it.")
)

// ActionUnlocked is the audit action of an administrator lifting a lock.
const ActionUnlocked = "staff.unlocked"

// Credentials are what a staff member types to sign in, and where from.
type Credentials struct {
	Username string
	Password string
	ClientIP string // for per-address throttling; "" counts only the username
}

// throttleTable holds staff counters (migration 0002).
const throttleTable = "staff_throttle"

func (s *Store) accountKey(username string) throttle.Key {
	p := s.policy
	return throttle.Key{ID: throttle.Hash(s.secret, "acct", strings.ToLower(strings.TrimSpace(username))),
		Rule: throttle.Rule{Limit: p.MaxFailures, Window: p.FailureWindow, Block: p.BlockDuration, MaxBlock: p.MaxBlock, LockAfter: p.LockAfter}}
}

func (s *Store) throttleKeys(in Credentials) []throttle.Key {
	keys := []throttle.Key{s.accountKey(in.Username)}
	if in.ClientIP != "" {
		p := s.policy
		// Addresses block but never lock: one office behind one address
		// must not be shut out for a day by one person's typing.
		keys = append(keys, throttle.Key{ID: throttle.Hash(s.secret, "ip", in.ClientIP),
			Rule: throttle.Rule{Limit: p.MaxIPFailures, Window: p.FailureWindow, Block: p.BlockDuration, MaxBlock: p.MaxBlock}})
	}
	return keys
}

func refusal(v throttle.Verdict, now time.Time) error {
	if v.Locked {
		return &throttle.Refusal{Err: ErrLocked}
	}
	return &throttle.Refusal{Err: ErrThrottled, Wait: v.Wait(now)}
}

// SignIn checks a username and password under the throttle: per username
// and per client address, a growing block after repeated failures, and a
// lock of the username. A blocked or locked attempt is refused before the
// password is looked at, and unknown usernames are counted like real ones,
// so no answer tells whether an account exists. A refusal carries the
// wait for Retry-After (throttle.RetryAfter).
func (s *Store) SignIn(ctx context.Context, in Credentials) (Account, error) {
	keys := s.throttleKeys(in)
	now := s.now()
	v, err := s.limiter.Check(ctx, keys, now)
	if err != nil {
		return Account{}, fmt.Errorf("sign-in: %w", err)
	}
	if v.Refused(now) {
		return Account{}, refusal(v, now)
	}
	a, err := s.authenticate(ctx, in.Username, in.Password)
	if errors.Is(err, ErrBadCredentials) {
		v, ferr := s.limiter.Fail(ctx, keys, now)
		if ferr != nil {
			return Account{}, fmt.Errorf("sign-in: %w", ferr)
		}
		if v.Refused(now) {
			return Account{}, refusal(v, now)
		}
		return Account{}, ErrBadCredentials
	}
	if err != nil {
		return Account{}, err
	}
	if err := s.limiter.Reset(ctx, keys[0].ID); err != nil {
		return Account{}, fmt.Errorf("sign-in: %w", err)
	}
	// The last sign-in, shown to administrators.
	a.LastSignIn = now.UTC().Truncate(time.Second)
	if _, err := s.db.W.ExecContext(ctx, `UPDATE staff_accounts SET last_sign_in = $1 WHERE username = $2`, a.LastSignIn.Format(time.RFC3339), a.Username); err != nil {
		return Account{}, fmt.Errorf("sign-in: %w", err)
	}
	return a, nil
}

// LockState returns a username's throttle verdict, for the administration
// page.
func (s *Store) LockState(ctx context.Context, username string) (throttle.Verdict, error) {
	return s.limiter.State(ctx, s.accountKey(username).ID)
}

// Unlock lifts the block or lock of a staff account and forgets its count.
// Only an administrator in scope may, or the operator's shell (`dancu staff unlock`,
// a system actor: whoever runs it holds the database already); the act is
// audited in the same transaction. It reports whether the account was
// blocked or locked.
func (s *Store) Unlock(ctx context.Context, by actor.Actor, username string) (bool, error) {
	if !by.Can(actor.ManageStaff) {
		return false, fault.ErrForbidden
	}
	// A province administrator unlocks only accounts of its province.
	if _, err := s.target(ctx, by, username); err != nil && !errors.Is(err, ErrSelf) {
		return false, err
	}
	var was bool
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if was, err = s.limiter.LiftTx(ctx, tx, s.accountKey(username).ID, s.now()); err != nil {
			return err
		}
		if s.audit == nil {
			return nil
		}
		detail := "not locked"
		if was {
			detail = "was locked"
		}
		e := audit.Entry{Actor: by.ID, Action: ActionUnlocked, Subject: "staff:" + username, Purpose: "administration", Detail: detail}
		if err := s.audit.RecordTx(ctx, s.db, tx, e); err != nil {
			return fmt.Errorf("audit %s: %w", ActionUnlocked, err)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("unlock: %w", err)
	}
	return was, nil
}
