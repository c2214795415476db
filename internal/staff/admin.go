package staff

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/throttle"
)

// Units tells which province a unit code belongs to; internal/adminunit's
// Catalog is one.
type Units interface {
	Province(code string, on time.Time) (adminunit.Unit, error)
	CommuneProvince(code string, on time.Time) (string, error)
}

// Audit actions of staff administration. Details never hold a password.
const (
	ActionCreated         = "staff.created"
	ActionDisabled        = "staff.disabled"
	ActionEnabled         = "staff.enabled"
	ActionPasswordReset   = "staff.password_reset"
	ActionPasswordChanged = "staff.password_changed"
)

// Faults of staff administration. ErrOutOfScope is given before any other
// check of the request, so a refused administrator learns nothing about
// the account or the unit it named.
var (
	ErrOutOfScope = fault.New(fault.Forbidden, "out_of_scope",
		"Tài khoản hoặc địa bàn này nằm ngoài phạm vi quản lý của bạn.",
		"That account or unit is outside the scope you administer.")
	ErrSelf = fault.New(fault.Forbidden, "staff.self",
		"Không thể tự khoá hoặc tự đặt lại mật khẩu của chính mình ở đây; hãy dùng trang đổi mật khẩu.",
		"You cannot disable your own account or reset your own password here; use the change-password page.")
	ErrPasswordChangeRequired = fault.New(fault.Forbidden, "staff.password_change_required",
		"Bạn phải đổi mật khẩu trước khi tiếp tục.",
		"You must change your password before you go on.")
	ErrUsername = fault.New(fault.Invalid, "staff.username",
		"Tên đăng nhập gồm 3–40 ký tự: chữ thường không dấu, chữ số, dấu chấm, gạch ngang, gạch dưới.",
		"A username has 3–40 characters: lower-case letters a–z, digits, dot, hyphen, underscore.")
	ErrDisplayName = fault.New(fault.Invalid, "staff.display_name",
		"Họ tên phải có từ 2 đến 100 ký tự.", "A display name has 2 to 100 characters.")
	ErrUnit = fault.New(fault.Invalid, "staff.unit",
		"Địa bàn không hợp lệ: hãy chọn một tỉnh, thành phố hoặc xã, phường, đặc khu.",
		"Unknown unit: choose a province or a commune.")
	ErrAdminUnit = fault.New(fault.Invalid, "staff.admin_unit",
		"Quản trị viên chỉ có phạm vi toàn quốc hoặc một tỉnh, thành phố.",
		"An administrator's scope is the whole country or one province.")
	ErrSamePassword = fault.New(fault.Invalid, "staff.same_password",
		"Mật khẩu mới phải khác mật khẩu cũ.", "The new password must differ from the old one.")
	ErrPasswordHasUsername = fault.New(fault.Invalid, "staff.password_has_username",
		"Mật khẩu không được chứa tên đăng nhập.", "A password must not contain the username.")
	ErrLongPassword = fault.New(fault.Invalid, "staff.long_password",
		"Mật khẩu dài quá 128 ký tự.", "A password has at most 128 characters.")
	ErrWrongPassword = fault.New(fault.Invalid, "staff.wrong_password",
		"Mật khẩu hiện tại không đúng.", "The current password is wrong.")
)

// CheckPolicy checks a new password against the policy: 10 to 128
// characters, not one character repeated, not containing the username.
// The upper bound keeps an argon2id check of a pasted novel cheap.
func CheckPolicy(username, password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < 10:
		return ErrWeakPassword.WithField("password")
	case n > 128:
		return ErrLongPassword.WithField("password")
	case strings.Count(password, password[:1]) == len(password):
		return ErrWeakPassword.WithField("password")
	case username != "" && strings.Contains(strings.ToLower(password), strings.ToLower(username)):
		return ErrPasswordHasUsername.WithField("password")
	}
	return nil
}

func validUsername(u string) bool {
	if len(u) < 3 || len(u) > 40 {
		return false
	}
	for _, r := range u {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// provinceOf is the province of a unit code today, or false for a code
// that names no current province or commune.
func (s *Store) provinceOf(unit string) (string, bool) {
	switch len(unit) {
	case 2:
		if _, err := s.units.Province(unit, s.now()); err == nil {
			return unit, true
		}
	case 5:
		if p, err := s.units.CommuneProvince(unit, s.now()); err == nil {
			return p, true
		}
	}
	return "", false
}

// scope refuses an actor who may not manage an account scoped to unit. A
// unit the catalogue does not know is out of a province administrator's
// scope (it cannot be shown to be inside), and for a national one it is
// left to the validation after.
func (s *Store) scope(by actor.Actor, unit string) (province string, err error) {
	province, known := s.provinceOf(unit)
	if unit != "" && !known && by.Level() == actor.LevelNational && by.Can(actor.ManageStaff) {
		return "", nil
	}
	if !by.ManagesUnit(unit, province) {
		return "", ErrOutOfScope
	}
	return province, nil
}

// Add creates a staff account on an administrator's behalf with a random
// temporary password, returned once to be handed over, which must be
// changed at the first sign-in. The scope — a province administrator adds
// only accounts in its province, never a national one — is checked before
// anything else. The act is audited in the same transaction.
func (s *Store) Add(ctx context.Context, by actor.Actor, a Account) (string, error) {
	province, err := s.scope(by, a.Unit)
	if err != nil {
		return "", err
	}
	var errs fault.List
	if !validUsername(a.Username) {
		errs.Add("username", ErrUsername)
	}
	a.DisplayName = strings.TrimSpace(a.DisplayName)
	if n := utf8.RuneCountInString(a.DisplayName); n < 2 || n > 100 || strings.IndexFunc(a.DisplayName, unicode.IsControl) >= 0 {
		errs.Add("display_name", ErrDisplayName)
	}
	switch a.Role {
	case actor.Registrar, actor.Desk, actor.Leader:
		if a.Unit == "" {
			errs.Add("unit", ErrUnit)
		}
	case actor.Admin:
		if len(a.Unit) == 5 {
			errs.Add("unit", ErrAdminUnit)
		}
	default:
		errs.Add("role", ErrRole)
	}
	if a.Unit != "" && province == "" {
		errs.Add("unit", ErrUnit)
	}
	if err := errs.Err(); err != nil {
		return "", err
	}
	a.Province = province
	password := RandomPassword()
	hash, err := HashPassword(password)
	if err != nil {
		return "", err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO staff_accounts (username, display_name, password_hash, role, unit, province, created_at, must_change_password, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)`, a.Username, a.DisplayName, hash, string(a.Role), a.Unit, a.Province, s.now().UTC().Format(time.RFC3339), by.ID)
		if storage.IsUniqueViolation(err) {
			return ErrAccountExists.WithField("username")
		}
		if err != nil {
			return err
		}
		return s.record(ctx, tx, by, ActionCreated, a.Username, fmt.Sprintf("role=%s unit=%s", a.Role, a.Unit))
	})
	if err != nil {
		if f := fault.As(err); f.Kind != fault.Internal {
			return "", err
		}
		return "", fmt.Errorf("add staff account: %w", err)
	}
	return password, nil
}

// record audits an administration act in tx; without an audit log (tests
// of the store alone) it does nothing.
func (s *Store) record(ctx context.Context, tx *sql.Tx, by actor.Actor, action, username, detail string) error {
	if s.audit == nil {
		return nil
	}
	e := audit.Entry{Actor: by.ID, Action: action, Subject: "staff:" + username, Purpose: "administration", Detail: detail}
	if err := s.audit.RecordTx(ctx, s.db, tx, e); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// target loads the account an administrator acts on and checks scope
// first: an account outside the actor's scope and one that does not exist
// are refused alike (out_of_scope) for a province administrator, so it
// cannot probe other provinces' usernames.
func (s *Store) target(ctx context.Context, by actor.Actor, username string) (Account, error) {
	a, _, err := s.account(ctx, username)
	if errors.Is(err, sql.ErrNoRows) {
		if by.Level() == actor.LevelNational && by.Can(actor.ManageStaff) {
			return Account{}, fault.ErrNotFound.WithField("username")
		}
		return Account{}, ErrOutOfScope
	}
	if err != nil {
		return Account{}, fmt.Errorf("load staff account: %w", err)
	}
	if !by.ManagesUnit(a.Unit, a.Province) {
		return Account{}, ErrOutOfScope
	}
	if by.ID == "staff:"+a.Username {
		return Account{}, ErrSelf
	}
	return a, nil
}

// SetDisabled disables or enables an account. A disabled account cannot
// sign in and its sessions end at once.
func (s *Store) SetDisabled(ctx context.Context, by actor.Actor, username string, disabled bool) error {
	a, err := s.target(ctx, by, username)
	if err != nil {
		return err
	}
	action, flag := ActionEnabled, 0
	if disabled {
		action, flag = ActionDisabled, 1
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE staff_accounts SET disabled = $1 WHERE username = $2`, flag, a.Username); err != nil {
			return err
		}
		if disabled {
			if _, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE username = $1`, a.Username); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, by, action, a.Username, "")
	})
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	s.forget(a.Username)
	return nil
}

// ResetPassword gives an account a new random temporary password, returned
// once, to be changed at the next sign-in; the account's sessions end.
func (s *Store) ResetPassword(ctx context.Context, by actor.Actor, username string) (string, error) {
	a, err := s.target(ctx, by, username)
	if err != nil {
		return "", err
	}
	password := RandomPassword()
	hash, err := HashPassword(password)
	if err != nil {
		return "", err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE staff_accounts SET password_hash = $1, must_change_password = 1 WHERE username = $2`, hash, a.Username); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE username = $1`, a.Username); err != nil {
			return err
		}
		return s.record(ctx, tx, by, ActionPasswordReset, a.Username, "")
	})
	if err != nil {
		return "", fmt.Errorf("reset password: %w", err)
	}
	s.forget(a.Username)
	return password, nil
}

// ChangePassword sets a signed-in account's own new password, checking the
// current one (in the password gate) and the policy; it lifts the forced
// change. A wrong current password counts as a failed sign-in of the
// account, so a borrowed session cannot guess it faster than the sign-in
// page allows. Audited.
func (s *Store) ChangePassword(ctx context.Context, username, current, next string) error {
	a, hash, err := s.account(ctx, username)
	if err != nil {
		return fault.ErrUnauthorized
	}
	keys := []throttle.Key{s.accountKey(username)}
	now := s.now()
	v, err := s.limiter.Check(ctx, keys, now)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if v.Refused(now) {
		return refusal(v, now)
	}
	var ok bool
	if gerr := s.gate.Do(ctx, func() { ok, err = CheckPassword(hash, current) }); gerr != nil {
		return gerr
	}
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if !ok {
		if _, err := s.limiter.Fail(ctx, keys, now); err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		return ErrWrongPassword.WithField("current_password")
	}
	if err := CheckPolicy(a.Username, next); err != nil {
		return err
	}
	if next == current {
		return ErrSamePassword.WithField("password")
	}
	newHash, err := HashPassword(next)
	if err != nil {
		return err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE staff_accounts SET password_hash = $1, must_change_password = 0 WHERE username = $2`, newHash, a.Username); err != nil {
			return err
		}
		return s.record(ctx, tx, a.Actor(), ActionPasswordChanged, a.Username, "")
	})
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	s.forget(a.Username)
	return nil
}

// ListFor returns the accounts an administrator manages: every account for
// a national administrator, those of its province for a province one.
func (s *Store) ListFor(ctx context.Context, by actor.Actor) ([]Account, error) {
	if !by.Can(actor.ManageStaff) {
		return nil, fault.ErrForbidden
	}
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, a := range all {
		if by.ManagesUnit(a.Unit, a.Province) {
			out = append(out, a)
		}
	}
	return out, nil
}

// Get returns one account an administrator manages (scope first).
func (s *Store) Get(ctx context.Context, by actor.Actor, username string) (Account, error) {
	a, err := s.target(ctx, by, username)
	if errors.Is(err, ErrSelf) {
		a, _, err = s.account(ctx, username)
	}
	return a, err
}

// forget drops this node's cached sessions of an account, so a disable or
// reset takes effect here at once (other nodes within cacheTTL).
func (s *Store) forget(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, c := range s.cache {
		if c.sess.Account.Username == username {
			delete(s.cache, k)
		}
	}
}
