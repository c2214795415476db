// Package staff holds the accounts of registrars, one-stop desk officers,
// leaders and administrators, their argon2id password hashes, their role and
// the administrative unit they are scoped to, and their sign-in sessions;
// administrators manage them within their scope (admin.go).
package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/throttle"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the staff tables.
func Migrations() storage.Migrations {
	return storage.Migrations{Module: "staff", FS: storage.Sub(migrationFS, "migrations")}
}

// Account is a staff member.
type Account struct {
	Username    string
	DisplayName string
	Role        actor.Role
	Unit        string // "", province (2 digits) or commune (5 digits)
	Province    string // province of Unit
	Disabled    bool
	// MustChangePassword: the password was set by an administrator (a new
	// account, a reset); the account may do nothing but change it.
	MustChangePassword bool
	LastSignIn         time.Time // zero: never signed in
	CreatedBy          string    // the actor ID that added the account; "" for bootstrap ones
}

// Actor is the account acting.
func (a Account) Actor() actor.Actor {
	return actor.Actor{ID: "staff:" + a.Username, Name: a.DisplayName, Role: a.Role, Unit: a.Unit, Province: a.Province}
}

// Faults. The sign-in fault is the same for an unknown user and a wrong
// password, so it reveals nothing about which accounts exist.
var (
	ErrBadCredentials = fault.New(fault.Unauthenticated, "auth.bad_credentials", "Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong username or password.")
	ErrSessionExpired = fault.New(fault.Unauthenticated, "auth.session_expired", "Phiên làm việc đã hết hạn, vui lòng đăng nhập lại.", "Your session has expired; sign in again.")
	ErrAccountExists  = fault.New(fault.Conflict, "staff.exists", "Tên đăng nhập đã tồn tại.", "The username is taken.")
	ErrWeakPassword   = fault.New(fault.Invalid, "staff.weak_password", "Mật khẩu phải có ít nhất 10 ký tự.", "A password has at least 10 characters.")
	ErrRole           = fault.New(fault.Invalid, "staff.role", "Vai trò không hợp lệ.", "Unknown role.")
)

// SessionTTL is how long a sign-in lasts.
const SessionTTL = 12 * time.Hour

// cacheTTL bounds how long a node trusts a session it has seen without asking
// the database again; sign-out on the same node takes effect at once.
const cacheTTL = 30 * time.Second

// Store keeps accounts and sessions.
type Store struct {
	db      *storage.DB
	now     func() time.Time
	dummy   string // a hash to check against for unknown users, so timing is alike
	secret  []byte // keys the hashes of throttle counters
	policy  Policy
	limiter *throttle.Limiter
	audit   *audit.Log
	gate    *throttle.Gate // bounds concurrent password checks
	units   Units

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	sess    Session
	checked time.Time
}

// Deps are what a Store is built from.
type Deps struct {
	DB  *storage.DB
	Now func() time.Time
	// Secret keys the hashes under which failed sign-ins are counted, so
	// the counters name neither usernames nor addresses; from
	// configuration. Empty: the hashes are unkeyed (tests).
	Secret []byte
	// Policy tunes sign-in throttling; zero fields take defaults.
	Policy Policy
	// Audit receives administrators' unlocks; nil: not audited (tests).
	Audit *audit.Log
	// Passwords bounds concurrent password checks, shared with the e-ID
	// module's; nil: a gate of this store's own (throttle.NewGate).
	Passwords *throttle.Gate
	// Units resolves the province of a unit for administrators' scope;
	// nil: the embedded catalogue (adminunit.Load).
	Units Units
}

// New returns a store.
func New(d Deps) (*Store, error) {
	if d.DB == nil {
		return nil, errors.New("staff: DB is required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if len(d.Secret) == 0 {
		d.Secret = []byte("dancu staff throttle")
	}
	dummy, err := HashPassword("not a password of anyone")
	if err != nil {
		return nil, err
	}
	if d.Passwords == nil {
		d.Passwords = throttle.NewGate(0, 0)
	}
	if d.Units == nil {
		units, err := adminunit.Load()
		if err != nil {
			return nil, fmt.Errorf("staff: %w", err)
		}
		d.Units = units
	}
	return &Store{units: d.Units, gate: d.Passwords, db: d.DB, now: d.Now, dummy: dummy, secret: d.Secret, policy: d.Policy.withDefaults(),
		limiter: throttle.New(d.DB, throttleTable), audit: d.Audit, cache: map[string]cached{}}, nil
}

// NewStore returns a store with the default throttling policy, no audit and
// unkeyed counter hashes.
func NewStore(db *storage.DB, now func() time.Time) (*Store, error) {
	return New(Deps{DB: db, Now: now})
}

// Create adds an account with a password of the caller's, not to be
// changed at the first sign-in: the first start's accounts (app.Bootstrap).
// Administrators add accounts with Add.
func (s *Store) Create(ctx context.Context, a Account, password string) error {
	if len([]rune(password)) < 10 {
		return ErrWeakPassword.WithField("password")
	}
	switch a.Role {
	case actor.Registrar, actor.Desk, actor.Leader, actor.Admin:
	default:
		return ErrRole.WithField("role")
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	_, err = s.db.W.ExecContext(ctx, `INSERT INTO staff_accounts (username, display_name, password_hash, role, unit, province, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, a.Username, a.DisplayName, hash, string(a.Role), a.Unit, a.Province, s.now().UTC().Format(time.RFC3339))
	if storage.IsUniqueViolation(err) {
		return ErrAccountExists.WithField("username")
	}
	if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	return nil
}

// Count returns the number of accounts, so the first start can bootstrap.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	err := s.db.R.QueryRowContext(ctx, `SELECT count(*) FROM staff_accounts`).Scan(&n)
	return n, err
}

func (s *Store) account(ctx context.Context, username string) (Account, string, error) {
	var a Account
	var hash, role, last string
	var disabled, must int
	err := s.db.R.QueryRowContext(ctx, `SELECT username, display_name, password_hash, role, unit, province, disabled, must_change_password, last_sign_in, created_by FROM staff_accounts WHERE username = $1`, username).
		Scan(&a.Username, &a.DisplayName, &hash, &role, &a.Unit, &a.Province, &disabled, &must, &last, &a.CreatedBy)
	a.Role, a.Disabled, a.MustChangePassword, a.LastSignIn = actor.Role(role), disabled != 0, must != 0, parseTime(last)
	return a, hash, err
}

// parseTime reads a stored RFC 3339 time; "" is the zero time.
func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

// Authenticate checks a username and password under the throttle, counting
// per username only; sign-in forms use SignIn, which counts the client
// address too.
func (s *Store) Authenticate(ctx context.Context, username, password string) (Account, error) {
	return s.SignIn(ctx, Credentials{Username: username, Password: password})
}

// authenticate checks a username and password, unthrottled.
func (s *Store) authenticate(ctx context.Context, username, password string) (Account, error) {
	a, hash, err := s.account(ctx, username)
	unknown := errors.Is(err, sql.ErrNoRows)
	if err != nil && !unknown {
		return Account{}, fmt.Errorf("authenticate: %w", err)
	}
	if unknown {
		hash = s.dummy // same cost as a real check
	}
	// In a slot of the password gate: a saturated server refuses (429
	// auth.busy) rather than hold 19 MiB per waiting check.
	var ok bool
	if gerr := s.gate.Do(ctx, func() { ok, err = CheckPassword(hash, password) }); gerr != nil {
		return Account{}, gerr
	}
	if err != nil {
		return Account{}, fmt.Errorf("authenticate: %w", err)
	}
	if !ok || a.Disabled || unknown {
		return Account{}, ErrBadCredentials
	}
	return a, nil
}

// Session is a signed-in account.
type Session struct {
	Account Account
	CSRF    string // token every form must echo
	Expires time.Time
}

// StartSession signs an account in and returns the session token to give
// the browser or API client.
func (s *Store) StartSession(ctx context.Context, a Account) (string, Session, error) {
	token := randomToken()
	sess := Session{Account: a, CSRF: randomToken(), Expires: s.now().Add(SessionTTL)}
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO staff_sessions (token_hash, username, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		hashToken(token), a.Username, sess.CSRF, s.now().UTC().Format(time.RFC3339), sess.Expires.UTC().Format(time.RFC3339))
	if err != nil {
		return "", Session{}, fmt.Errorf("start session: %w", err)
	}
	return token, sess, nil
}

// Session returns the live session for a token.
func (s *Store) Session(ctx context.Context, token string) (Session, error) {
	if token == "" {
		return Session{}, fault.ErrUnauthorized
	}
	key := hashToken(token)
	now := s.now()
	s.mu.Lock()
	c, ok := s.cache[key]
	s.mu.Unlock()
	if ok && now.Sub(c.checked) < cacheTTL && now.Before(c.sess.Expires) {
		return c.sess, nil
	}
	var username, csrf, expires string
	err := s.db.R.QueryRowContext(ctx, `SELECT username, csrf, expires_at FROM staff_sessions WHERE token_hash = $1`, key).Scan(&username, &csrf, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fault.ErrUnauthorized
	}
	if err != nil {
		return Session{}, fmt.Errorf("load session: %w", err)
	}
	exp, _ := time.Parse(time.RFC3339, expires)
	if !now.Before(exp) {
		return Session{}, ErrSessionExpired
	}
	a, _, err := s.account(ctx, username)
	if err != nil || a.Disabled {
		return Session{}, fault.ErrUnauthorized
	}
	sess := Session{Account: a, CSRF: csrf, Expires: exp}
	s.mu.Lock()
	if len(s.cache) > 100000 {
		clear(s.cache)
	}
	s.cache[key] = cached{sess: sess, checked: now}
	s.mu.Unlock()
	return sess, nil
}

// EndSession signs out.
func (s *Store) EndSession(ctx context.Context, token string) error {
	key := hashToken(token)
	s.mu.Lock()
	delete(s.cache, key)
	s.mu.Unlock()
	if _, err := s.db.W.ExecContext(ctx, `DELETE FROM staff_sessions WHERE token_hash = $1`, key); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// RandomPassword makes a password for bootstrap accounts.
func RandomPassword() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// List returns every account by username, for the administration page.
func (s *Store) List(ctx context.Context) ([]Account, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT username, display_name, role, unit, province, disabled, must_change_password, last_sign_in, created_by FROM staff_accounts ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		var a Account
		var role, last string
		var disabled, must int
		if err := rows.Scan(&a.Username, &a.DisplayName, &role, &a.Unit, &a.Province, &disabled, &must, &last, &a.CreatedBy); err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		a.Role, a.Disabled, a.MustChangePassword, a.LastSignIn = actor.Role(role), disabled != 0, must != 0, parseTime(last)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}
