package ui

import (
	"context"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/card/qr"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/web/page"
)

// EIDDesk is what the e-ID desk pages need (*eid.Service). Every act is
// scoped by eid through the register's one scope rule, before anything
// else, and audited with the person as subject, so it shows in the
// citizen's access log.
type EIDDesk interface {
	AtDesk(ctx context.Context, a actor.Actor, pin string) (eid.DeskView, error)
	ActivateInPerson(ctx context.Context, a actor.Actor, pin string, inPerson bool) (eid.Account, error)
	EnrolTOTPAtDesk(ctx context.Context, a actor.Actor, pin string) (eid.TOTPEnrolment, error)
	ConfirmTOTPAtDesk(ctx context.Context, a actor.Actor, pin, code string) error
	Lock(ctx context.Context, a actor.Actor, pin, reason string) error
	Unlock(ctx context.Context, a actor.Actor, pin string) error
	Reset(ctx context.Context, a actor.Actor, pin string) error
	Revoke(ctx context.Context, a actor.Actor, pin, reason string) error
}

var eidDeskFields = []string{"lookup", "in_person", "totp_code", "eid_reason"}

// mountEID registers the e-ID desk: find a citizen (PIN or the card's QR
// text), activate level 2 after the in-person check, set up the
// authenticator app from a QR code shown on the screen, lock, unlock,
// reset and revoke. The pages allow data: images (the QR code is drawn
// into the page, so the secret never travels in a URL of its own).
func (u *UI) mountEID(mux *http.ServeMux) {
	s := func(pattern string, fn handler) {
		mux.Handle(pattern, page.Secure(page.Policy{ImgData: true}, maxForm, u.signedIn(fn)))
	}
	s("GET /eid", u.eidFind)
	s("GET /eid/{pin}", u.eidDesk)
	s("POST /eid/{pin}/activate", u.eidActivate)
	s("POST /eid/{pin}/totp", u.eidTOTP)
	s("POST /eid/{pin}/totp/confirm", u.eidTOTPConfirm)
	s("POST /eid/{pin}/lock", u.eidAct("locked", func(ctx context.Context, a actor.Actor, pin string, f *form) error {
		return u.eid.Lock(ctx, a, pin, f.trim("eid_reason"))
	}))
	s("POST /eid/{pin}/unlock", u.eidAct("unlocked", func(ctx context.Context, a actor.Actor, pin string, _ *form) error {
		return u.eid.Unlock(ctx, a, pin)
	}))
	s("POST /eid/{pin}/reset", u.eidAct("reset", func(ctx context.Context, a actor.Actor, pin string, _ *form) error {
		return u.eid.Reset(ctx, a, pin)
	}))
	s("POST /eid/{pin}/revoke", u.eidAct("revoked", func(ctx context.Context, a actor.Actor, pin string, f *form) error {
		return u.eid.Revoke(ctx, a, pin, f.trim("eid_reason"))
	}))
}

// eidDeskView is the desk page of one citizen.
type eidDeskView struct {
	eid.DeskView
	Alive bool
	// TOTP is set while the authenticator app is being set up: the QR
	// code to scan and the secret to type when the camera cannot.
	TOTP   *eid.TOTPEnrolment
	TOTPQR template.URL
}

// eidFind is the search form; a query (a PIN, or the text a QR reader
// typed) leads to the citizen's desk page.
func (u *UI) eidFind(w http.ResponseWriter, r *http.Request, s staff.Session) {
	v := u.page(r, &s, "eid.title", "")
	v.Nav, v.Form = "eid", newForm(r.URL.Query(), eidDeskFields...)
	if q := strings.TrimSpace(r.URL.Query().Get("lookup")); q != "" {
		pin := strings.Join(strings.Fields(q), "")
		if strings.Contains(q, "|") {
			p, err := qr.Parse(q)
			if err != nil {
				status := u.formFaults(w, r, v, fault2field(err, "lookup"), nil)
				if status == 0 {
					return
				}
				u.render(w, r, status, "eid-find", v)
				return
			}
			pin = string(p.PIN)
		}
		http.Redirect(w, r, "/eid/"+url.PathEscape(pin), http.StatusSeeOther)
		return
	}
	u.render(w, r, http.StatusOK, "eid-find", v)
}

// eidDesk shows the citizen and their account with the desk's acts.
func (u *UI) eidDesk(w http.ResponseWriter, r *http.Request, s staff.Session) {
	u.showEIDDesk(w, r, s, http.StatusOK, newForm(nil, eidDeskFields...), nil, nil)
}

func (u *UI) showEIDDesk(w http.ResponseWriter, r *http.Request, s staff.Session, status int, f *form, actErr error, totp *eid.TOTPEnrolment) {
	v := u.page(r, &s, "eid.title", "/eid/"+r.PathValue("pin"))
	v.Nav, v.Form = "eid", f
	dv, err := u.eid.AtDesk(r.Context(), actorOf(s), r.PathValue("pin"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if actErr != nil {
		if status = u.formFaults(w, r, v, actErr, nil); status == 0 {
			return
		}
	}
	d := eidDeskView{DeskView: dv, Alive: dv.Person.Status != "dead", TOTP: totp}
	if totp != nil {
		png, err := qr.EncodeText(totp.URI, 320)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		d.TOTPQR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	}
	if done := r.URL.Query().Get("done"); done != "" && actErr == nil && r.Method == http.MethodGet {
		if msg, ok := u.msgs.Lookup(v.Lang, "eid.done."+done); ok {
			v.Flash = msg
		}
	}
	v.Page = d
	u.render(w, r, status, "eid-desk", v)
}

func (u *UI) eidActivate(w http.ResponseWriter, r *http.Request, s staff.Session) {
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, eidDeskFields...)
	if _, err := u.eid.ActivateInPerson(r.Context(), actorOf(s), r.PathValue("pin"), f.Get("in_person") == "yes"); err != nil {
		u.showEIDDesk(w, r, s, 0, f, err, nil)
		return
	}
	http.Redirect(w, r, "/eid/"+url.PathEscape(r.PathValue("pin"))+"?done=activated", http.StatusSeeOther)
}

// eidTOTP starts the authenticator app's set-up and shows its QR code on
// the desk's screen, for the citizen to scan with their phone.
func (u *UI) eidTOTP(w http.ResponseWriter, r *http.Request, s staff.Session) {
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, eidDeskFields...)
	en, err := u.eid.EnrolTOTPAtDesk(r.Context(), actorOf(s), r.PathValue("pin"))
	if err != nil {
		u.showEIDDesk(w, r, s, 0, f, err, nil)
		return
	}
	u.showEIDDesk(w, r, s, http.StatusOK, f, nil, &en)
}

func (u *UI) eidTOTPConfirm(w http.ResponseWriter, r *http.Request, s staff.Session) {
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, eidDeskFields...)
	if err := u.eid.ConfirmTOTPAtDesk(r.Context(), actorOf(s), r.PathValue("pin"), f.trim("totp_code")); err != nil {
		u.showEIDDesk(w, r, s, 0, f, err, nil)
		return
	}
	http.Redirect(w, r, "/eid/"+url.PathEscape(r.PathValue("pin"))+"?done=totp", http.StatusSeeOther)
}

// eidAct runs one of the account's acts and comes back to the desk page.
func (u *UI) eidAct(done string, act func(ctx context.Context, a actor.Actor, pin string, f *form) error) handler {
	return func(w http.ResponseWriter, r *http.Request, s staff.Session) {
		if !u.parseForm(w, r) {
			return
		}
		f := newForm(r.PostForm, eidDeskFields...)
		if err := act(r.Context(), actorOf(s), r.PathValue("pin"), f); err != nil {
			u.showEIDDesk(w, r, s, 0, f, err, nil)
			return
		}
		http.Redirect(w, r, "/eid/"+url.PathEscape(r.PathValue("pin"))+"?done="+done, http.StatusSeeOther)
	}
}

// fault2field names the form field a QR fault is about.
func fault2field(err error, field string) error {
	if f, ok := err.(*fault.Error); ok {
		return f.WithField(field)
	}
	return err
}

// eidMessages are the desk pages' texts.
var eidMessages = page.Messages{
	page.VI: {
		"nav.eid":            "Định danh điện tử",
		"eid.title":          "Tài khoản định danh điện tử",
		"eid.find.lead":      "Tìm công dân bằng số định danh cá nhân, hoặc quét mã QR trên thẻ căn cước bằng đầu đọc (nội dung được nhập vào ô dưới đây). Để đọc chip thẻ, dùng trang Kiểm tra thẻ: thẻ hợp lệ dẫn đến tài khoản của công dân.",
		"f.lookup":           "Số định danh cá nhân hoặc nội dung mã QR",
		"eid.find":           "Tìm",
		"eid.person":         "Công dân",
		"eid.birth":          "Ngày sinh",
		"eid.account":        "Tài khoản",
		"eid.no_account":     "Công dân chưa có tài khoản định danh điện tử. Kích hoạt mức 2 sẽ tạo tài khoản chờ; công dân hoàn tất bằng trang đăng ký trên Cổng công dân (mã xác thực qua tin nhắn).",
		"eid.level":          "Mức",
		"eid.status":         "Trạng thái",
		"eid.status.pending": "Chờ công dân đặt mật khẩu",
		"eid.status.active":  "Đang hoạt động",
		"eid.status.locked":  "Đang bị khóa",
		"eid.status.revoked": "Đã thu hồi",
		"eid.totp":           "Ứng dụng xác thực",
		"eid.yes":            "Đã đăng ký",
		"eid.no":             "Chưa đăng ký",
		"eid.dead":           "Công dân đã được đăng ký khai tử.",
		"eid.activate.title": "Kích hoạt mức 2",
		"f.in_person":        "Tôi đã đối chiếu trực tiếp công dân với thẻ căn cước (ảnh chân dung, vân tay trên chip)",
		"eid.activate":       "Kích hoạt tài khoản mức 2",
		"eid.totp.title":     "Đăng ký ứng dụng xác thực",
		"eid.totp.lead":      "Công dân mở ứng dụng xác thực trên điện thoại và quét mã QR dưới đây, rồi đọc mã 6 chữ số ứng dụng hiển thị.",
		"eid.totp.start":     "Hiển thị mã QR cho ứng dụng xác thực",
		"eid.totp.qr_alt":    "Mã QR để thêm tài khoản vào ứng dụng xác thực",
		"eid.totp.secret":    "Nếu không quét được, nhập khóa sau vào ứng dụng:",
		"f.totp_code":        "Mã 6 chữ số từ ứng dụng",
		"eid.totp.confirm":   "Xác nhận",
		"eid.manage.title":   "Quản lý tài khoản",
		"f.eid_reason":       "Lý do (khóa, thu hồi)",
		"eid.lock":           "Khóa",
		"eid.unlock":         "Mở khóa",
		"eid.reset":          "Đặt lại mật khẩu",
		"eid.reset.hint":     "Xóa mật khẩu, ứng dụng xác thực và khóa truy cập; công dân đặt mật khẩu mới trên trang đăng ký của Cổng công dân bằng mã xác thực gửi qua tin nhắn.",
		"eid.revoke":         "Thu hồi",
		"eid.done.activated": "Đã kích hoạt tài khoản mức 2.",
		"eid.done.totp":      "Đã kích hoạt ứng dụng xác thực.",
		"eid.done.locked":    "Đã khóa tài khoản.",
		"eid.done.unlocked":  "Đã mở khóa tài khoản.",
		"eid.done.reset":     "Đã đặt lại mật khẩu; tài khoản chờ công dân đặt mật khẩu mới.",
		"verify.eid_link":    "Mở tài khoản định danh điện tử của công dân (thẻ đã kiểm tra)",
		"eid.done.revoked":   "Đã thu hồi tài khoản.",
	},
	page.EN: {
		"nav.eid":            "Electronic ID",
		"eid.title":          "Electronic ID accounts",
		"eid.find.lead":      "Find a citizen by personal identification number, or scan the identity card's QR code with a reader (it types into the field below). To read the card's chip, use the card check page: a valid card leads to the citizen's account.",
		"f.lookup":           "Personal identification number or QR text",
		"eid.find":           "Find",
		"eid.person":         "Citizen",
		"eid.birth":          "Date of birth",
		"eid.account":        "Account",
		"eid.no_account":     "The citizen has no electronic ID account. Activating level 2 makes a pending account, which the citizen completes on the Citizen portal's enrolment page (code by text message).",
		"eid.level":          "Level",
		"eid.status":         "Status",
		"eid.status.pending": "Waiting for the citizen to set a password",
		"eid.status.active":  "Active",
		"eid.status.locked":  "Locked",
		"eid.status.revoked": "Revoked",
		"eid.totp":           "Authenticator app",
		"eid.yes":            "Set up",
		"eid.no":             "Not set up",
		"eid.dead":           "The citizen's death is registered.",
		"eid.activate.title": "Activate level 2",
		"f.in_person":        "I checked the citizen in person against the identity card (portrait, fingerprints on the chip)",
		"eid.activate":       "Activate the level-2 account",
		"eid.totp.title":     "Authenticator app",
		"eid.totp.lead":      "The citizen opens an authenticator app on their phone, scans the QR code below and reads out the 6-digit code the app shows.",
		"eid.totp.start":     "Show the QR code for the authenticator app",
		"eid.totp.qr_alt":    "QR code adding the account to an authenticator app",
		"eid.totp.secret":    "If it cannot be scanned, type this key into the app:",
		"f.totp_code":        "6-digit code from the app",
		"eid.totp.confirm":   "Confirm",
		"eid.manage.title":   "Manage the account",
		"f.eid_reason":       "Reason (lock, revoke)",
		"eid.lock":           "Lock",
		"eid.unlock":         "Unlock",
		"eid.reset":          "Reset the password",
		"eid.reset.hint":     "Clears the password, authenticator app and passkeys; the citizen sets a new password on the Citizen portal's enrolment page with a code sent by text message.",
		"eid.revoke":         "Revoke",
		"eid.done.activated": "The level-2 account is activated.",
		"eid.done.totp":      "The authenticator app is activated.",
		"eid.done.locked":    "The account is locked.",
		"eid.done.unlocked":  "The account is unlocked.",
		"eid.done.reset":     "The password is reset; the account waits for the citizen's new password.",
		"verify.eid_link":    "Open the citizen's electronic ID account (card checked)",
		"eid.done.revoked":   "The account is revoked.",
	},
}
