// Package eid holds electronic identification accounts (tài khoản định danh
// điện tử, Decree 69/2024/NĐ-CP): level 1 self-registration matched against
// the register with a one-time code and a face check, level 2 activation by
// a registrar after an in-person check, the account lifecycle (lock, unlock,
// reset, revocation on death), and the authenticators: an argon2id password
// and a TOTP second factor. Sub-package oidcop is the OpenID Connect provider
// built on these accounts.
package eid

import (
	"context"
	"embed"
	"log/slog"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the eid tables (accounts and the OpenID provider's state).
func Migrations() storage.Migrations {
	return storage.Migrations{Module: "eid", FS: storage.Sub(migrationFS, "migrations")}
}

// Level is an assurance level of Decree 69/2024. Level 1 maps to eIDAS
// "substantial" and level 2 to "high" (see oidcop's acr values).
type Level int

// Levels.
const (
	Level1 Level = 1
	Level2 Level = 2
)

// Account statuses.
const (
	// StatusPending is a level-2 account activated at the desk whose owner has
	// not yet set a password through the one-time-code step, or an account
	// reset by a registrar.
	StatusPending = "pending"
	StatusActive  = "active"
	StatusLocked  = "locked"
	// StatusRevoked is final: the person died or the account was withdrawn.
	StatusRevoked = "revoked"
)

// Account is an electronic identification account. It carries no personal
// data besides the PIN: name and birth date stay in the register.
type Account struct {
	PIN         string
	Subject     string // opaque, stable identifier given to relying parties
	Level       Level
	Status      string
	Email       string
	CreatedVia  string // "app" or "police"
	GuardianPIN string // for a child's account registered by a guardian
	HasPassword bool
	HasTOTP     bool
	ActivatedBy string // actor id of the registrar who activated level 2
	Created     time.Time
	Updated     time.Time
}

// Register is what eid needs from the population register. Every read is
// audited there with its purpose.
type Register interface {
	Get(ctx context.Context, a actor.Actor, pin, purpose string) (registry.Person, error)
}

// SMSGateway sends a text message. Its implementation is given by the
// composition root: a telecom gateway in production, DevSMS in development.
type SMSGateway interface {
	Send(ctx context.Context, phone, text string) error
}

// FaceVerifier compares a live face image with the portrait on record for
// the PIN. In production it is the face-verification service
// (gateway.Face); the register holds no portraits itself.
type FaceVerifier interface {
	Verify(ctx context.Context, pin string, image []byte) (bool, error)
}

// CardRegister is what enrolment reads of the card register
// (*cardservice.Service): a person's cards, through its audited, scoped read.
type CardRegister interface {
	Cards(ctx context.Context, a actor.Actor, pin string) ([]cardservice.Card, []cardservice.HistoryEntry, error)
}

// AcceptAllFaces is the development FaceVerifier; NewService refuses it in
// production.
type AcceptAllFaces struct{}

// Verify accepts every image.
func (AcceptAllFaces) Verify(context.Context, string, []byte) (bool, error) { return true, nil }

// DevSMS writes one-time codes to the log instead of sending them, for
// development only: the line is tagged dev_only so no one mistakes it for
// production logging, and NewService refuses it in production mode.
type DevSMS struct{ Log *slog.Logger }

// Send logs the message text (which holds the code), never the phone number.
func (d DevSMS) Send(_ context.Context, _ string, text string) error {
	d.Log.Warn("dev-only SMS sink: message not sent", "dev_only", true, "text", text)
	return nil
}

// Faults of the eid module. The sign-in fault is one and the same for an
// unknown PIN, a wrong password, a wrong second factor and an account that
// cannot sign in, so an answer never tells whether an account exists.
var (
	ErrBadCredentials = fault.New(fault.Unauthenticated, "eid.bad_credentials", "Số định danh, mật khẩu hoặc mã xác thực không đúng.", "Wrong identification number, password or code.")
	ErrThrottled      = fault.New(fault.Unauthenticated, "eid.throttled", "Bạn đã thử quá nhiều lần. Vui lòng thử lại sau ít phút.", "Too many attempts. Try again in a few minutes.")
	// ErrCardMismatch is the one refusal of an enrolment by card for a PIN
	// not in the register, a card number or issue date that is not the
	// person's, a card lost, revoked or replaced, and a person whose death
	// is registered (death revokes the card): each is "this is not a valid
	// card", which is all the public yes/no card verification tells too.
	ErrCardMismatch      = fault.New(fault.Invalid, "eid.card_mismatch", "Thông tin không khớp với một thẻ căn cước còn hiệu lực.", "The details do not match a valid identity card.")
	ErrMismatch          = fault.New(fault.Invalid, "eid.registration_mismatch", "Thông tin không khớp với Cơ sở dữ liệu quốc gia về dân cư.", "The details do not match the population register.")
	ErrFaceMismatch      = fault.New(fault.Invalid, "eid.face_mismatch", "Ảnh khuôn mặt không khớp với ảnh chân dung đã lưu.", "The face image does not match the portrait on record.")
	ErrAccountExists     = fault.New(fault.Conflict, "eid.account_exists", "Công dân này đã có tài khoản định danh điện tử.", "This person already has an electronic ID account.")
	ErrGuardianRequired  = fault.New(fault.Invalid, "eid.guardian_required", "Công dân dưới 14 tuổi chỉ được đăng ký tài khoản mức 1 theo đề nghị của người giám hộ có tài khoản mức 2.", "A citizen under 14 gets a level-1 account only on request by a guardian holding a level-2 account.")
	ErrTooYoungLevel2    = fault.New(fault.Invalid, "eid.level2_under_6", "Tài khoản định danh điện tử mức 2 chỉ cấp cho công dân từ đủ 6 tuổi.", "A level-2 account is issued only from 6 years of age.")
	ErrDeadPerson        = fault.New(fault.Conflict, "eid.person_dead", "Công dân đã được đăng ký khai tử.", "The person's death is registered.")
	ErrOTPInvalid        = fault.New(fault.Invalid, "eid.otp_invalid", "Mã xác thực không đúng hoặc đã được sử dụng.", "The code is wrong or already used.")
	ErrOTPExpired        = fault.New(fault.Invalid, "eid.otp_expired", "Mã xác thực đã hết hạn, vui lòng yêu cầu mã mới.", "The code has expired; ask for a new one.")
	ErrWeakPassword      = fault.New(fault.Invalid, "eid.weak_password", "Mật khẩu phải có ít nhất 10 ký tự.", "A password has at least 10 characters.")
	ErrPhoneInvalid      = fault.New(fault.Invalid, "eid.phone_invalid", "Số điện thoại di động không hợp lệ.", "The mobile number is not valid.")
	ErrNoAccount         = fault.New(fault.NotFound, "eid.no_account", "Công dân này chưa có tài khoản định danh điện tử.", "This person has no electronic ID account.")
	ErrRevoked           = fault.New(fault.Conflict, "eid.revoked", "Tài khoản đã bị thu hồi.", "The account is revoked.")
	ErrNotLocked         = fault.New(fault.Conflict, "eid.not_locked", "Tài khoản không bị khóa.", "The account is not locked.")
	ErrTOTPNotEnrolled   = fault.New(fault.Conflict, "eid.totp_not_enrolled", "Chưa đăng ký ứng dụng xác thực.", "No authenticator app is enrolled.")
	ErrRegistrarRequired = fault.New(fault.Forbidden, "eid.registrar_required", "Chỉ cán bộ đăng ký hoặc cán bộ một cửa mới được thực hiện thao tác này với tài khoản định danh điện tử.", "Only a registrar or a desk officer may do this to an electronic ID account.")
	ErrNotActive         = fault.New(fault.Conflict, "eid.not_active", "Tài khoản chưa hoạt động: công dân cần đặt mật khẩu (hoặc tài khoản đang bị khóa).", "The account is not active: the citizen must set a password first (or it is locked).")
	ErrTOTPExists        = fault.New(fault.Conflict, "eid.totp_exists", "Tài khoản đã có ứng dụng xác thực; để đổi điện thoại, hãy đặt lại mật khẩu và các yếu tố xác thực.", "The account already has an authenticator app; to change phones, reset the password and factors.")
	ErrInPersonRequired  = fault.New(fault.Invalid, "eid.in_person_required", "Cán bộ phải xác nhận đã đối chiếu trực tiếp công dân với thẻ căn cước.", "The officer must confirm they checked the citizen in person against the card.")
)

// systemActor reads the register on eid's own behalf (registration checks,
// revocation); its reads are audited under this id.
var systemActor = actor.SystemActor("eid")
