package portal

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/throttle"
	"github.com/dancu-project/dancu/internal/web/page"
	"github.com/dancu-project/dancu/internal/web/problem"
)

// Enrolments is what the level-1 enrolment pages need (*eid.Service); the
// portal finds it on Deps.Accounts.
type Enrolments interface {
	StartRegistration(ctx context.Context, in eid.RegistrationInput) (eid.Enrolment, error)
	CompleteRegistration(ctx context.Context, enrolmentID, code, password string) (eid.Account, error)
}

// mountEnrol adds the level-1 enrolment pages (Decree 69/2024 Art. 12):
// the citizen types the card's PIN, number and issue date (or pastes the
// card's QR text) and their own mobile number, then the one-time code sent
// to it and a password. Refusals are eid's: one message for every way of
// not holding a valid card (eid.ErrCardMismatch), so the form tells no
// more than the public card verification does.
func (p *Portal) mountEnrol(mux *http.ServeMux) {
	mux.Handle("GET /citizen/enrol", p.headers(http.HandlerFunc(p.enrolPage)))
	mux.Handle("POST /citizen/enrol", p.headers(http.HandlerFunc(p.enrolStart)))
	mux.Handle("POST /citizen/enrol/confirm", p.headers(http.HandlerFunc(p.enrolConfirm)))
}

// enrolView is the enrolment form and, after the code was sent, the
// confirmation form.
type enrolView struct {
	Token                                 string
	PIN, CardNumber, IssueDate, QR, Phone string
	Email, EnrolmentID                    string
	Field                                 string // the field a fault names, for aria-invalid
}

func (p *Portal) enrolments() (Enrolments, bool) {
	e, ok := p.accounts.(Enrolments)
	return e, ok
}

func (p *Portal) enrolPage(w http.ResponseWriter, r *http.Request) {
	v := p.page(r, nil, "enrol.title", "")
	v.Page = enrolView{Token: page.FormToken(w, r, csrfCookie, cookiePath, p.secure)}
	p.render(w, r, http.StatusOK, "enrol.html", v)
}

// enrolRefuse shows a form again with the fault: its status, its message in
// the page's language, Retry-After when the password checks are saturated.
func (p *Portal) enrolRefuse(w http.ResponseWriter, r *http.Request, v *view, ev enrolView, name string, err error) {
	f := page.Worst(fault.Faults(err))
	if f.Kind == fault.Internal {
		p.fail(w, r, err)
		return
	}
	status := problem.Status(f.Kind)
	if d, ok := throttle.RetryAfter(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	}
	p.kit.Refused(r, status, f.Code)
	ev.Field = f.Field
	v.Error = page.FaultText(v.Lang, f)
	v.Page = ev
	p.render(w, r, status, name, v)
}

func (p *Portal) enrolStart(w http.ResponseWriter, r *http.Request) {
	v := p.page(r, nil, "enrol.title", "")
	ev := enrolView{Token: page.FormToken(w, r, csrfCookie, cookiePath, p.secure),
		PIN: strings.TrimSpace(r.PostFormValue("pin")), CardNumber: strings.TrimSpace(r.PostFormValue("card_number")),
		IssueDate: strings.TrimSpace(r.PostFormValue("issue_date")), QR: strings.TrimSpace(r.PostFormValue("qr")),
		Phone: strings.TrimSpace(r.PostFormValue("phone")), Email: strings.TrimSpace(r.PostFormValue("email"))}
	if !page.FormTokenOK(r, csrfCookie) {
		p.enrolRefuse(w, r, v, ev, "enrol.html", errFormCSRF)
		return
	}
	svc, ok := p.enrolments()
	if !ok {
		p.fail(w, r, errEnrolOff)
		return
	}
	in := eid.RegistrationInput{PIN: ev.PIN, CardNumber: ev.CardNumber, IssueDate: ev.IssueDate, QR: ev.QR,
		Phone: ev.Phone, Email: ev.Email, ClientIP: clientIP(r)}
	if in.QR == "" && in.IssueDate == "" {
		// The form's one way is the card: without an issue date the
		// details cannot match a valid card.
		p.enrolRefuse(w, r, v, ev, "enrol.html", eid.ErrCardMismatch.WithField("issue_date"))
		return
	}
	e, err := svc.StartRegistration(r.Context(), in)
	if err != nil {
		p.enrolRefuse(w, r, v, ev, "enrol.html", err)
		return
	}
	ev.EnrolmentID = e.ID
	v.Page = ev
	v.Flash = p.tr(r, "enrol.code_sent")
	p.render(w, r, http.StatusOK, "enrol_confirm.html", v)
}

func (p *Portal) enrolConfirm(w http.ResponseWriter, r *http.Request) {
	v := p.page(r, nil, "enrol.confirm.title", "")
	ev := enrolView{Token: page.FormToken(w, r, csrfCookie, cookiePath, p.secure), EnrolmentID: r.PostFormValue("enrolment")}
	if !page.FormTokenOK(r, csrfCookie) {
		p.enrolRefuse(w, r, v, ev, "enrol_confirm.html", errFormCSRF)
		return
	}
	svc, ok := p.enrolments()
	if !ok {
		p.fail(w, r, errEnrolOff)
		return
	}
	password := r.PostFormValue("password")
	if password != r.PostFormValue("password2") {
		p.enrolRefuse(w, r, v, ev, "enrol_confirm.html", errPasswordsDiffer)
		return
	}
	if _, err := svc.CompleteRegistration(r.Context(), ev.EnrolmentID, r.PostFormValue("code"), password); err != nil {
		p.enrolRefuse(w, r, v, ev, "enrol_confirm.html", err)
		return
	}
	http.Redirect(w, r, "/citizen/login?enrolled=1", http.StatusSeeOther)
}

var (
	errFormCSRF        = fault.New(fault.Forbidden, "csrf", "Phiên biểu mẫu đã hết hạn, vui lòng tải lại trang và thử lại.", "The form has expired; reload the page and try again.")
	errEnrolOff        = fault.New(fault.NotFound, "eid.enrolment_off", "Đăng ký tài khoản không có trên hệ thống này.", "Enrolment is not offered on this system.")
	errPasswordsDiffer = fault.New(fault.Invalid, "eid.passwords_differ", "Hai mật khẩu đã nhập không giống nhau.", "The two passwords differ.").WithField("password2")
)

// enrolMessages are the enrolment pages' texts.
var enrolMessages = page.Messages{
	page.VI: {
		"enrol.title":                "Đăng ký tài khoản định danh điện tử mức 1",
		"enrol.lead":                 "Dùng thẻ căn cước còn hiệu lực của bạn: nhập số định danh cá nhân, số thẻ và ngày cấp in trên thẻ, hoặc dán nội dung mã QR ở mặt sau thẻ. Mã xác thực sẽ được gửi qua tin nhắn đến số điện thoại di động chính chủ của bạn.",
		"enrol.pin":                  "Số định danh cá nhân",
		"enrol.card_number":          "Số thẻ căn cước",
		"enrol.card_number.hint":     "Với thẻ có gắn chip, số thẻ chính là số định danh cá nhân.",
		"enrol.issue_date":           "Ngày cấp thẻ",
		"enrol.issue_date.hint":      "Dạng ngày/tháng/năm, ví dụ 01/07/2024.",
		"enrol.or_qr":                "Hoặc dùng mã QR trên thẻ",
		"enrol.qr":                   "Nội dung mã QR",
		"enrol.qr.hint":              "Quét mã QR ở mặt sau thẻ bằng điện thoại và dán nội dung vào đây; khi đó không cần nhập ba ô trên.",
		"enrol.phone":                "Số điện thoại di động chính chủ",
		"enrol.email":                "Thư điện tử (không bắt buộc)",
		"enrol.face":                 "Ảnh khuôn mặt được chụp và đối chiếu trong ứng dụng; trên cổng này hệ thống đối chiếu theo dịch vụ đã cấu hình.",
		"enrol.submit":               "Gửi mã xác thực",
		"enrol.code_sent":            "Mã xác thực đã được gửi đến số điện thoại của bạn. Mã có hiệu lực 5 phút.",
		"enrol.confirm.title":        "Xác nhận mã và đặt mật khẩu",
		"enrol.code":                 "Mã xác thực (6 chữ số)",
		"enrol.password":             "Mật khẩu mới (ít nhất 10 ký tự)",
		"enrol.password2":            "Nhập lại mật khẩu",
		"enrol.confirm":              "Hoàn tất đăng ký",
		"enrol.done":                 "Đăng ký thành công. Bạn có thể đăng nhập bằng số định danh cá nhân và mật khẩu vừa đặt.",
		"enrol.link":                 "Chưa có tài khoản? Đăng ký tài khoản định danh điện tử mức 1",
		"action.eid.enrolled":        "Đăng ký tài khoản định danh điện tử mức 1",
		"action.eid.totp_enrolled":   "Bắt đầu đăng ký ứng dụng xác thực tại nơi tiếp nhận",
		"action.eid.totp_confirmed":  "Kích hoạt ứng dụng xác thực tại nơi tiếp nhận",
		"purpose.eid-desk":           "Tra cứu công dân tại nơi tiếp nhận tài khoản định danh điện tử",
		"purpose.eid-totp-enrolment": "Đăng ký ứng dụng xác thực tại nơi tiếp nhận",
		"purpose.eid-lock":           "Khóa tài khoản định danh điện tử",
		"purpose.eid-unlock":         "Mở khóa tài khoản định danh điện tử",
		"purpose.eid-reset":          "Đặt lại mật khẩu tài khoản định danh điện tử",
		"purpose.eid-revoke":         "Thu hồi tài khoản định danh điện tử",
	},
	page.EN: {
		"enrol.title":                "Enrol for a level-1 electronic ID",
		"enrol.lead":                 "Use your valid identity card: type the personal identification number, the card number and the issue date printed on it, or paste the text of the QR code on its back. A code is sent by text message to your own mobile number.",
		"enrol.pin":                  "Personal identification number",
		"enrol.card_number":          "Card number",
		"enrol.card_number.hint":     "On a chip card the card number is the personal identification number.",
		"enrol.issue_date":           "Issue date",
		"enrol.issue_date.hint":      "As day/month/year, for example 01/07/2024.",
		"enrol.or_qr":                "Or use the QR code on the card",
		"enrol.qr":                   "QR code text",
		"enrol.qr.hint":              "Scan the QR code on the back of the card with your phone and paste its text here; the three fields above are then not needed.",
		"enrol.phone":                "Your own mobile number",
		"enrol.email":                "Email (optional)",
		"enrol.face":                 "The face image is taken and compared in the app; on this portal the configured face-check service decides.",
		"enrol.submit":               "Send the code",
		"enrol.code_sent":            "A code was sent to your phone. It is valid for 5 minutes.",
		"enrol.confirm.title":        "Confirm the code and set a password",
		"enrol.code":                 "Code (6 digits)",
		"enrol.password":             "New password (at least 10 characters)",
		"enrol.password2":            "Type the password again",
		"enrol.confirm":              "Finish enrolment",
		"enrol.done":                 "You are enrolled. Sign in with your personal identification number and the password you set.",
		"enrol.link":                 "No account yet? Enrol for a level-1 electronic ID",
		"action.eid.enrolled":        "Enrolled for a level-1 electronic ID",
		"action.eid.totp_enrolled":   "Authenticator app set-up started at the desk",
		"action.eid.totp_confirmed":  "Authenticator app activated at the desk",
		"purpose.eid-desk":           "Looking the citizen up at the electronic ID desk",
		"purpose.eid-totp-enrolment": "Authenticator app set-up at the desk",
		"purpose.eid-lock":           "Locking the electronic ID",
		"purpose.eid-unlock":         "Unlocking the electronic ID",
		"purpose.eid-reset":          "Resetting the electronic ID's password",
		"purpose.eid-revoke":         "Revoking the electronic ID",
	},
}
