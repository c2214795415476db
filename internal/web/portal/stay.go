package portal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/stay"
	"github.com/dancu-project/dancu/internal/web/page"
)

// StayHosts takes a household head's guest reports (*stay.Service).
type StayHosts interface {
	HouseholdHost(ctx context.Context, headPIN string) (stay.Host, error)
	Notify(ctx context.Context, who string, h stay.Host, gs []stay.Guest) ([]stay.Outcome, error)
	Offers(ctx context.Context, pin string) ([]stay.Offer, error)
}

var stayMessages = page.Messages{
	page.VI: {
		"stay.title":                "Thông báo lưu trú",
		"action.stay.notify":        "Thông báo bạn lưu trú tại cơ sở lưu trú hoặc hộ gia đình",
		"action.stay.read":          "Công an xã xem danh sách khách lưu trú",
		"purpose.stay-notification": "Thông báo lưu trú (Luật Cư trú, Điều 30)",
		"purpose.stay-supervision":  "Quản lý cư trú trên địa bàn",
		"stay.lead":                 "Chủ hộ thông báo người đến ở lại trong hộ (Luật Cư trú, Điều 30): trước 23 giờ ngày đến, hoặc trước 8 giờ sáng hôm sau nếu đến sau 23 giờ.",
		"stay.pin":                  "Số định danh cá nhân của khách (công dân Việt Nam)",
		"stay.passport":             "Số hộ chiếu (người nước ngoài)",
		"stay.nationality":          "Quốc tịch (mã ISO, ví dụ FRA)",
		"stay.name":                 "Họ và tên khách",
		"stay.birth":                "Ngày sinh (dd/mm/yyyy, bắt buộc với hộ chiếu)",
		"stay.arrival":              "Đến lúc (dd/mm/yyyy HH:MM)",
		"stay.until":                "Dự kiến ở đến ngày (dd/mm/yyyy)",
		"stay.reason":               "Lý do lưu trú",
		"stay.submit":               "Gửi thông báo",
		"stay.accepted":             "Đã nhận thông báo lưu trú.",
		"stay.late":                 "Thông báo này muộn hơn thời hạn và được ghi nhận là thông báo muộn.",
		"stay.offers":               "Đề nghị đăng ký tạm trú",
		"stay.offers.lead":          "Bạn đã hoặc sẽ ở ngoài nơi thường trú từ 30 ngày trở lên: bạn cần đăng ký tạm trú (tối đa 2 năm).",
	},
	page.EN: {
		"stay.title":                "Stay notification",
		"action.stay.notify":        "Reported your stay at a lodging or household",
		"action.stay.read":          "Commune police read the list of guests",
		"purpose.stay-notification": "Stay notification (Law on Residence, Art. 30)",
		"purpose.stay-supervision":  "Residence supervision in the unit",
		"stay.lead":                 "The head of a household reports people staying in it (Law on Residence, Art. 30): before 23:00 on the day of arrival, or by 08:00 next day for an arrival after 23:00.",
		"stay.pin":                  "Guest's personal identification number (Vietnamese citizens)",
		"stay.passport":             "Passport number (foreigners)",
		"stay.nationality":          "Nationality (ISO code, e.g. FRA)",
		"stay.name":                 "Guest's full name",
		"stay.birth":                "Date of birth (dd/mm/yyyy, required with a passport)",
		"stay.arrival":              "Arrived (dd/mm/yyyy HH:MM)",
		"stay.until":                "Expected to stay until (dd/mm/yyyy)",
		"stay.reason":               "Reason",
		"stay.submit":               "Send",
		"stay.accepted":             "Your stay notification was received.",
		"stay.late":                 "This notification is past the deadline and is recorded as late.",
		"stay.offers":               "Temporary residence to register",
		"stay.offers.lead":          "You stay or will stay 30 days or more away from your permanent residence: register temporary residence (up to 2 years).",
	},
}

// stayForm is the household head's form and the citizen's offers.
type stayForm struct {
	Ref, PIN, Passport, Nationality, FullName, BirthDate, Arrival, Until, Reason string
	Errors                                                                       []*fault.Error
	Late                                                                         bool
	Offers                                                                       []stay.Offer
}

func (p *Portal) mountStay(s func(string, handler)) {
	if p.stay == nil {
		return
	}
	s("GET /citizen/stay", p.stayPage)
	s("POST /citizen/stay", p.staySubmit)
}

func newRef() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "web-" + hex.EncodeToString(b)
}

func (p *Portal) stayPage(w http.ResponseWriter, r *http.Request, s eid.Session) {
	p.stayRender(w, r, s, http.StatusOK, stayForm{Ref: newRef()}, "")
}

func (p *Portal) stayRender(w http.ResponseWriter, r *http.Request, s eid.Session, status int, f stayForm, flash string) {
	offers, err := p.stay.Offers(r.Context(), s.PIN)
	if err != nil {
		p.kit.Fail(w, r, err)
		return
	}
	f.Offers = offers
	v := p.page(r, &s, "stay.title", "stay")
	v.Flash = flash
	v.Page = f
	p.render(w, r, status, "stay.html", v)
}

// staySubmit reports one guest. The form's ref (made when the form was
// shown) makes a second press of the button a duplicate, not a second
// guest. Only the head of a household may report (stay.ErrNotHead).
func (p *Portal) staySubmit(w http.ResponseWriter, r *http.Request, s eid.Session) {
	h, err := p.stay.HouseholdHost(r.Context(), s.PIN)
	if err != nil {
		p.kit.Fail(w, r, err)
		return
	}
	f := stayForm{Ref: r.PostFormValue("ref"), PIN: strings.TrimSpace(r.PostFormValue("pin")), Passport: strings.TrimSpace(r.PostFormValue("passport")),
		Nationality: strings.TrimSpace(r.PostFormValue("nationality")), FullName: r.PostFormValue("full_name"), BirthDate: strings.TrimSpace(r.PostFormValue("birth_date")),
		Arrival: strings.TrimSpace(r.PostFormValue("arrival")), Until: strings.TrimSpace(r.PostFormValue("until")), Reason: r.PostFormValue("reason")}
	g := stay.Guest{Ref: f.Ref, PIN: f.PIN, Passport: f.Passport, Nationality: f.Nationality, FullName: f.FullName, BirthDate: f.BirthDate, Until: f.Until, Reason: f.Reason}
	if g.Arrival, err = stay.ParseTime(f.Arrival); err != nil {
		f.Errors = []*fault.Error{stay.ErrCSVTime.WithField("arrival")}
		p.stayRender(w, r, s, http.StatusUnprocessableEntity, f, "")
		return
	}
	out, err := p.stay.Notify(r.Context(), "citizen:"+s.PIN, h, []stay.Guest{g})
	if err != nil {
		p.kit.Fail(w, r, err)
		return
	}
	if out[0].Status == stay.Refused {
		f.Errors = out[0].Errors
		p.stayRender(w, r, s, http.StatusUnprocessableEntity, f, "")
		return
	}
	p.stayRender(w, r, s, http.StatusOK, stayForm{Ref: newRef(), Late: out[0].Late}, p.msgs.T(page.Lang(r), "stay.accepted"))
}
