package eid

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
)

// PasskeyConfig is the WebAuthn relying party: the site's domain and the
// origins pages are served from. A zero value disables passkeys.
type PasskeyConfig struct {
	RPID    string   // effective domain, e.g. "id.dancu.gov.vn" (no scheme, no port)
	RPName  string   // shown by authenticators ("Định danh điện tử dancu")
	Origins []string // e.g. "https://id.dancu.gov.vn"
	// ChallengeTTL bounds a ceremony (5 min).
	ChallengeTTL time.Duration
}

// PasskeyConfigFor derives the relying party from the platform's public
// URL. WebAuthn refuses IP addresses as relying-party ids, so a URL on an
// IP address (development) uses "localhost" with the same scheme and port:
// open the site as http://localhost:PORT to use passkeys there.
func PasskeyConfigFor(publicURL string) (PasskeyConfig, error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return PasskeyConfig{}, fmt.Errorf("passkeys: public URL %q is not absolute", publicURL)
	}
	host := u.Hostname()
	cfg := PasskeyConfig{RPID: host, RPName: "Định danh điện tử dancu", Origins: []string{u.Scheme + "://" + u.Host}}
	if net.ParseIP(host) != nil {
		cfg.RPID = "localhost"
		local := u.Scheme + "://localhost"
		if p := u.Port(); p != "" {
			local += ":" + p
		}
		cfg.Origins = append(cfg.Origins, local)
	}
	return cfg, nil
}

func newWebAuthn(c PasskeyConfig) (*webauthn.WebAuthn, error) {
	if c.RPID == "" {
		return nil, nil
	}
	if c.RPName == "" {
		c.RPName = "Định danh điện tử dancu"
	}
	w, err := webauthn.New(&webauthn.Config{RPID: c.RPID, RPDisplayName: c.RPName, RPOrigins: c.Origins,
		AttestationPreference: protocol.PreferNoAttestation})
	if err != nil {
		return nil, fmt.Errorf("eid: passkeys: %w", err)
	}
	return w, nil
}

// Passkey faults. Every failed passkey sign-in gives ErrPasskeyFailed, which
// tells nothing about the account.
var (
	ErrPasskeysOff      = fault.New(fault.Conflict, "eid.passkeys_off", "Khóa truy cập (passkey) chưa được bật trên hệ thống này.", "Passkeys are not enabled on this system.")
	ErrPasskeyFailed    = fault.New(fault.Unauthenticated, "eid.passkey_failed", "Không xác thực được bằng khóa truy cập. Vui lòng thử lại hoặc đăng nhập bằng mật khẩu.", "The passkey could not be verified. Try again or sign in with your password.")
	ErrPasskeyInvalid   = fault.New(fault.Invalid, "eid.passkey_invalid", "Không đăng ký được khóa truy cập: phản hồi của thiết bị không hợp lệ hoặc yêu cầu đã hết hạn.", "The passkey could not be registered: the device's answer is invalid or the request has expired.")
	ErrPasskeyExists    = fault.New(fault.Conflict, "eid.passkey_exists", "Khóa truy cập này đã được đăng ký.", "This passkey is already registered.")
	ErrPasskeyLevel2    = fault.New(fault.Forbidden, "eid.passkey_level2_session", "Tài khoản mức 2 chỉ thêm được khóa truy cập khi đăng nhập bằng mật khẩu và mã xác thực (mức 2).", "A level-2 account adds a passkey only when signed in at level 2 (password and authenticator code).")
	ErrPasskeyNotFound  = fault.New(fault.NotFound, "eid.passkey_not_found", "Không tìm thấy khóa truy cập này.", "No such passkey.")
	ErrPasskeyName      = fault.New(fault.Invalid, "eid.passkey_name", "Tên khóa truy cập dài tối đa 60 ký tự, không chứa ký tự điều khiển.", "A passkey name has at most 60 characters and no control characters.")
	ErrTooManyPasskeys  = fault.New(fault.Conflict, "eid.passkey_limit", "Mỗi tài khoản có tối đa 10 khóa truy cập.", "An account has at most 10 passkeys.")
	ErrPasskeyMalformed = fault.New(fault.Malformed, "eid.passkey_malformed", "Dữ liệu khóa truy cập không đọc được.", "The passkey data cannot be read.")
)

const maxPasskeys = 10

// Passkey is a registered WebAuthn credential, as its owner sees it.
type Passkey struct {
	ID           string // credential id, base64url
	Name         string
	UserVerified bool // the authenticator verified the user (PIN, biometrics) at registration
	CloneWarning bool // a counter went backwards: refused until removed
	// MaxLevel is the highest level the passkey reaches: the level of the
	// session it was added in, so one added before a level-2 activation
	// stays level 1.
	MaxLevel  Level
	SignCount uint32
	Created   time.Time
	LastUsed  time.Time
}

// Ceremony is a WebAuthn ceremony begun: its id (sent back with the answer)
// and the options for navigator.credentials.create / get, as JSON.
type Ceremony struct {
	ID      string          `json:"ceremony"`
	Options json.RawMessage `json:"options"`
}

// passkeyUser is an account as the WebAuthn library sees it. The user
// handle is the account's opaque subject, so no PIN is in the handle.
type passkeyUser struct {
	acct  Account
	creds []webauthn.Credential
}

func (u passkeyUser) WebAuthnID() []byte   { return []byte(u.acct.Subject) }
func (u passkeyUser) WebAuthnName() string { return u.acct.PIN }
func (u passkeyUser) WebAuthnDisplayName() string {
	return "Định danh điện tử …" + u.acct.PIN[max(0, len(u.acct.PIN)-4):]
}
func (u passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func (s *Service) passkeyTTL() time.Duration { return 5 * time.Minute }

// credentials loads an account's WebAuthn credentials.
func (s *Service) credentials(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, pin string) ([]webauthn.Credential, error) {
	rows, err := q.QueryContext(ctx, `SELECT credential, sign_count FROM eid_passkeys WHERE pin = $1`, pin)
	if err != nil {
		return nil, fmt.Errorf("load passkeys: %w", err)
	}
	defer rows.Close()
	var out []webauthn.Credential
	for rows.Next() {
		var raw string
		var count int64
		if err := rows.Scan(&raw, &count); err != nil {
			return nil, fmt.Errorf("load passkeys: %w", err)
		}
		var c webauthn.Credential
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			return nil, fmt.Errorf("load passkeys: %w", err)
		}
		c.Authenticator.SignCount = uint32(count)
		out = append(out, c)
	}
	return out, rows.Err()
}

// saveChallenge keeps a ceremony's state until it is answered.
func (s *Service) saveChallenge(ctx context.Context, kind, pin, bound string, sd *webauthn.SessionData) (string, error) {
	body, err := json.Marshal(sd)
	if err != nil {
		return "", err
	}
	id := randomToken()
	_, err = s.db.W.ExecContext(ctx, `INSERT INTO eid_webauthn_challenges (id, kind, pin, bound, session, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		s.seal.Hash("webauthn", id), kind, pin, bound, string(body), s.now().Add(s.passkeyTTL()).UTC().Format(time.RFC3339Nano))
	if err != nil {
		return "", fmt.Errorf("save passkey challenge: %w", err)
	}
	return id, nil
}

// takeChallenge returns a ceremony's state and deletes it: a challenge is
// good once, whichever node answers, and only before it expires.
func (s *Service) takeChallenge(ctx context.Context, id, kind, pin, bound string) (webauthn.SessionData, bool, error) {
	key := s.seal.Hash("webauthn", id)
	var gotKind, gotPIN, gotBound, body, expires string
	err := s.db.R.QueryRowContext(ctx, `SELECT kind, pin, bound, session, expires_at FROM eid_webauthn_challenges WHERE id = $1`, key).
		Scan(&gotKind, &gotPIN, &gotBound, &body, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return webauthn.SessionData{}, false, nil
	}
	if err != nil {
		return webauthn.SessionData{}, false, fmt.Errorf("load passkey challenge: %w", err)
	}
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM eid_webauthn_challenges WHERE id = $1`, key)
	if err != nil {
		return webauthn.SessionData{}, false, fmt.Errorf("use passkey challenge: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return webauthn.SessionData{}, false, nil // another request used it first
	}
	exp, _ := time.Parse(time.RFC3339Nano, expires)
	if gotKind != kind || gotPIN != pin || gotBound != bound || !s.now().Before(exp) {
		return webauthn.SessionData{}, false, nil
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal([]byte(body), &sd); err != nil {
		return webauthn.SessionData{}, false, fmt.Errorf("load passkey challenge: %w", err)
	}
	return sd, true, nil
}

// BeginPasskeyRegistration starts adding a passkey to the session's
// account. On a level-2 account it needs a level-2 session: a passkey with
// user verification signs in at level 2, so adding one with the password
// alone would turn a stolen password into level 2.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, sess Session) (Ceremony, error) {
	if s.webauthn == nil {
		return Ceremony{}, ErrPasskeysOff
	}
	acct, err := s.Account(ctx, sess.PIN)
	if err != nil {
		return Ceremony{}, err
	}
	if acct.Status != StatusActive {
		return Ceremony{}, ErrNoSession
	}
	if acct.Level >= Level2 && sess.Level < Level2 {
		return Ceremony{}, ErrPasskeyLevel2
	}
	creds, err := s.credentials(ctx, s.db.R, sess.PIN)
	if err != nil {
		return Ceremony{}, err
	}
	if len(creds) >= maxPasskeys {
		return Ceremony{}, ErrTooManyPasskeys
	}
	exclude := make([]protocol.CredentialDescriptor, 0, len(creds))
	for _, c := range creds {
		exclude = append(exclude, c.Descriptor())
	}
	opts, sd, err := s.webauthn.BeginRegistration(passkeyUser{acct: acct, creds: creds},
		webauthn.WithExclusions(exclude),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationPreferred}),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return Ceremony{}, fmt.Errorf("begin passkey registration: %w", err)
	}
	return s.ceremony(ctx, "register", sess.PIN, "", sd, opts)
}

func (s *Service) ceremony(ctx context.Context, kind, pin, bound string, sd *webauthn.SessionData, opts any) (Ceremony, error) {
	id, err := s.saveChallenge(ctx, kind, pin, bound, sd)
	if err != nil {
		return Ceremony{}, err
	}
	body, err := json.Marshal(opts)
	if err != nil {
		return Ceremony{}, err
	}
	return Ceremony{ID: id, Options: body}, nil
}

// FinishPasskeyRegistration checks the authenticator's answer (challenge,
// origin, relying party, signature of attestation "none" or better) and
// stores the credential under the session's account.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, sess Session, ceremonyID, name string, response []byte) (Passkey, error) {
	if s.webauthn == nil {
		return Passkey{}, ErrPasskeysOff
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "Khóa truy cập"
	}
	if utf8.RuneCountInString(name) > 60 || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return Passkey{}, ErrPasskeyName.WithField("name")
	}
	sd, ok, err := s.takeChallenge(ctx, ceremonyID, "register", sess.PIN, "")
	if err != nil {
		return Passkey{}, err
	}
	if !ok {
		return Passkey{}, ErrPasskeyInvalid
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return Passkey{}, ErrPasskeyInvalid.Wrap(err)
	}
	acct, err := s.Account(ctx, sess.PIN)
	if err != nil {
		return Passkey{}, err
	}
	if acct.Status != StatusActive || (acct.Level >= Level2 && sess.Level < Level2) {
		return Passkey{}, ErrPasskeyLevel2
	}
	cred, err := s.webauthn.CreateCredential(passkeyUser{acct: acct}, sd, parsed)
	if err != nil {
		s.log.Info("eid passkey registration refused", "code", "eid.passkey_invalid")
		return Passkey{}, ErrPasskeyInvalid.Wrap(err)
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return Passkey{}, err
	}
	pk := Passkey{ID: base64.RawURLEncoding.EncodeToString(cred.ID), Name: name, UserVerified: cred.Flags.UserVerified,
		SignCount: cred.Authenticator.SignCount, MaxLevel: min(acct.Level, sess.Level), Created: s.now()}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM eid_passkeys WHERE pin = $1`, sess.PIN).Scan(&n); err != nil {
			return err
		}
		if n >= maxPasskeys {
			return ErrTooManyPasskeys
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO eid_passkeys (id, pin, name, credential, sign_count, user_verified, max_level, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			pk.ID, sess.PIN, name, string(raw), int64(pk.SignCount), boolInt(pk.UserVerified), int(pk.MaxLevel), s.stamp())
		if storage.IsUniqueViolation(err) {
			return ErrPasskeyExists
		}
		if err != nil {
			return err
		}
		return s.auditTx(ctx, tx, "citizen:"+sess.PIN, ActionPasskeyAdded, sess.PIN, "")
	})
	if err != nil {
		return Passkey{}, fmt.Errorf("register passkey: %w", err)
	}
	s.log.Info("eid passkey added", "code", "eid.passkey_added")
	return pk, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Passkeys lists an account's passkeys, oldest first. Callers show it to
// the account's owner only.
func (s *Service) Passkeys(ctx context.Context, pin string) ([]Passkey, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, name, user_verified, clone_warning, sign_count, max_level, created_at, last_used_at FROM eid_passkeys WHERE pin = $1 ORDER BY created_at, id`, pin)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	defer rows.Close()
	var out []Passkey
	for rows.Next() {
		var p Passkey
		var uv, clone int
		var count int64
		var created, used string
		if err := rows.Scan(&p.ID, &p.Name, &uv, &clone, &count, &p.MaxLevel, &created, &used); err != nil {
			return nil, fmt.Errorf("list passkeys: %w", err)
		}
		p.UserVerified, p.CloneWarning, p.SignCount = uv != 0, clone != 0, uint32(count)
		p.Created, _ = time.Parse(time.RFC3339Nano, created)
		p.LastUsed, _ = time.Parse(time.RFC3339Nano, used)
		out = append(out, p)
	}
	return out, rows.Err()
}

// RemovePasskey deletes one of the session's own passkeys; another
// account's passkey is not found.
func (s *Service) RemovePasskey(ctx context.Context, sess Session, id string) error {
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM eid_passkeys WHERE id = $1 AND pin = $2`, id, sess.PIN)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrPasskeyNotFound
		}
		return s.auditTx(ctx, tx, "citizen:"+sess.PIN, ActionPasskeyRemoved, sess.PIN, "")
	})
	if err != nil {
		return fmt.Errorf("remove passkey: %w", err)
	}
	s.log.Info("eid passkey removed", "code", "eid.passkey_removed")
	return nil
}

// BeginPasskeySignIn starts a sign-in with a discoverable passkey: no PIN
// is asked, the passkey names the account. bound ties the ceremony to what
// it is for (the OpenID authorization request id), so an answer cannot be
// used for another request.
func (s *Service) BeginPasskeySignIn(ctx context.Context, bound string) (Ceremony, error) {
	if s.webauthn == nil {
		return Ceremony{}, ErrPasskeysOff
	}
	opts, sd, err := s.webauthn.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return Ceremony{}, fmt.Errorf("begin passkey sign-in: %w", err)
	}
	return s.ceremony(ctx, "signin", "", bound, sd, opts)
}

// PasskeySignInInput is a passkey sign-in's answer.
type PasskeySignInInput struct {
	Ceremony string
	Bound    string // as given to BeginPasskeySignIn
	Response []byte // the PublicKeyCredential as JSON
	ClientIP string
	MinLevel Level
	Channel  string
}

// FinishPasskeySignIn verifies a passkey assertion and signs in.
//
// Level: a passkey whose authenticator verified the user (flag UV: a device
// PIN or biometrics unlocked the private key) is two factors at once —
// something the citizen has (the key) and something they know or are — so
// it reaches the account's level, level 2 on a level-2 account (if it was
// added at level 2, see Passkey.MaxLevel). Without user verification it is
// one factor and reaches level 1. AMR (RFC 8176):
// "pop" (proof of possession of a key), plus "mfa" with user verification.
//
// The signature counter must grow (unless the authenticator keeps none and
// always sends 0, as synced passkeys do); a counter at or below the stored
// one means the key may have been copied: the passkey gets a clone warning
// and is refused from then on, until its owner removes it.
func (s *Service) FinishPasskeySignIn(ctx context.Context, in PasskeySignInInput) (Authentication, error) {
	if s.webauthn == nil {
		return Authentication{}, ErrPasskeysOff
	}
	parsed, perr := protocol.ParseCredentialRequestResponseBytes(in.Response)
	// Failures count per passkey and per client address, like password
	// sign-ins per identifier and address.
	keys := []string{s.seal.Hash("passkey", "?")}
	if perr == nil {
		keys[0] = s.seal.Hash("passkey", base64.RawURLEncoding.EncodeToString(parsed.RawID))
	}
	if in.ClientIP != "" {
		keys = append(keys, s.seal.Hash("ip", in.ClientIP))
	}
	now := s.now()
	if blocked, err := s.blocked(ctx, keys, now); err != nil {
		return Authentication{}, err
	} else if blocked {
		return Authentication{}, ErrThrottled
	}
	var auth Authentication
	var err error = ErrPasskeyFailed.Wrap(perr)
	if perr == nil {
		auth, err = s.checkPasskey(ctx, in, parsed, now)
	}
	if errors.Is(err, ErrPasskeyFailed) {
		if ferr := s.fail(ctx, keys, now); ferr != nil {
			return Authentication{}, ferr
		}
		s.log.Info("eid passkey sign-in failed", "code", "eid.passkey_failed")
		return Authentication{}, ErrPasskeyFailed
	}
	if err != nil {
		return Authentication{}, err
	}
	if auth.Level < in.MinLevel {
		return Authentication{}, ErrLevelRequired
	}
	if err := s.recordSignIn(ctx, auth, in.Channel); err != nil {
		return Authentication{}, err
	}
	return auth, nil
}

func (s *Service) checkPasskey(ctx context.Context, in PasskeySignInInput, parsed *protocol.ParsedCredentialAssertionData, now time.Time) (Authentication, error) {
	sd, ok, err := s.takeChallenge(ctx, in.Ceremony, "signin", "", in.Bound)
	if err != nil {
		return Authentication{}, err
	}
	if !ok {
		return Authentication{}, ErrPasskeyFailed
	}
	credID := base64.RawURLEncoding.EncodeToString(parsed.RawID)
	var pin string
	var clone int
	var maxLevel Level
	err = s.db.R.QueryRowContext(ctx, `SELECT pin, clone_warning, max_level FROM eid_passkeys WHERE id = $1`, credID).Scan(&pin, &clone, &maxLevel)
	if errors.Is(err, sql.ErrNoRows) {
		return Authentication{}, ErrPasskeyFailed
	}
	if err != nil {
		return Authentication{}, fmt.Errorf("passkey sign-in: %w", err)
	}
	if clone != 0 {
		return Authentication{}, ErrPasskeyFailed
	}
	acct, err := s.Account(ctx, pin)
	if err != nil || acct.Status != StatusActive {
		return Authentication{}, ErrPasskeyFailed
	}
	creds, err := s.credentials(ctx, s.db.R, pin)
	if err != nil {
		return Authentication{}, err
	}
	user := passkeyUser{acct: acct, creds: creds}
	_, cred, err := s.webauthn.ValidatePasskeyLogin(func(rawID, handle []byte) (webauthn.User, error) {
		// The handle the authenticator returns must be this account's;
		// the library checks it against WebAuthnID too.
		if !bytes.Equal(handle, user.WebAuthnID()) {
			return nil, errors.New("user handle of another account")
		}
		return user, nil
	}, sd, parsed)
	if err != nil {
		return Authentication{}, ErrPasskeyFailed.Wrap(err)
	}
	if cred.Authenticator.CloneWarning {
		if _, err := s.db.W.ExecContext(ctx, `UPDATE eid_passkeys SET clone_warning = 1 WHERE id = $1`, credID); err != nil {
			return Authentication{}, fmt.Errorf("passkey sign-in: %w", err)
		}
		s.log.Warn("eid passkey counter went backwards: clone warning", "code", "eid.passkey_clone_warning")
		return Authentication{}, ErrPasskeyFailed
	}
	// Raise the counter only if no other node accepted this or a higher
	// value meanwhile; a counter of 0 means the authenticator keeps none.
	count := int64(parsed.Response.AuthenticatorData.Counter)
	res, err := s.db.W.ExecContext(ctx, `UPDATE eid_passkeys SET sign_count = $1, last_used_at = $2 WHERE id = $3 AND clone_warning = 0 AND (sign_count < $1 OR (sign_count = 0 AND $1 = 0))`,
		count, now.UTC().Format(time.RFC3339Nano), credID)
	if err != nil {
		return Authentication{}, fmt.Errorf("passkey sign-in: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		if _, err := s.db.W.ExecContext(ctx, `UPDATE eid_passkeys SET clone_warning = 1 WHERE id = $1`, credID); err != nil {
			return Authentication{}, fmt.Errorf("passkey sign-in: %w", err)
		}
		return Authentication{}, ErrPasskeyFailed
	}
	auth := Authentication{Account: acct, Level: Level1, AMR: []string{"pop"}, At: now}
	if parsed.Response.AuthenticatorData.Flags.HasUserVerified() {
		auth.Level, auth.AMR = min(acct.Level, max(maxLevel, Level1)), []string{"pop", "mfa"}
	}
	return auth, nil
}

// PasskeysEnabled reports whether passkeys are configured, for pages that
// offer them.
func (s *Service) PasskeysEnabled() bool { return s.webauthn != nil }
