package ui

import (
	"net/http"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/stay"
	"github.com/dancu-project/dancu/internal/web/page"
)

var stayMessages = page.Messages{
	page.VI: {
		"nav.stay":        "Khách lưu trú",
		"stay.title":      "Khách lưu trú",
		"stay.lead":       "Khách do hộ gia đình và cơ sở lưu trú trên địa bàn thông báo (Luật Cư trú, Điều 30). Mỗi lần xem được ghi nhật ký truy cập của từng người.",
		"stay.commune":    "Mã xã, phường",
		"stay.show":       "Xem",
		"stay.current":    "Khách đang lưu trú",
		"stay.late":       "Thông báo muộn (30 ngày qua)",
		"stay.long":       "Lưu trú từ 30 ngày (đề nghị đăng ký tạm trú)",
		"stay.none":       "Không có khách.",
		"stay.col.host":   "Nơi lưu trú",
		"stay.col.guest":  "Khách",
		"stay.col.id":     "Giấy tờ",
		"stay.col.birth":  "Ngày sinh",
		"stay.col.arrive": "Đến lúc",
		"stay.col.due":    "Hạn thông báo",
		"stay.col.report": "Thông báo lúc",
		"stay.col.days":   "Số ngày",
		"stay.passport":   "Hộ chiếu",
		"stay.late_flag":  "Thông báo muộn",
	},
	page.EN: {
		"nav.stay":        "Guests",
		"stay.title":      "Guests staying",
		"stay.lead":       "Guests reported by households and lodgings in the unit (Law on Residence, Art. 30). Every view is written to each person's access log.",
		"stay.commune":    "Commune code",
		"stay.show":       "Show",
		"stay.current":    "Guests staying now",
		"stay.late":       "Late reports (last 30 days)",
		"stay.long":       "Stays of 30 days or more (temporary residence due)",
		"stay.none":       "No guests.",
		"stay.col.host":   "Where",
		"stay.col.guest":  "Guest",
		"stay.col.id":     "Document",
		"stay.col.birth":  "Born",
		"stay.col.arrive": "Arrived",
		"stay.col.due":    "Report due",
		"stay.col.report": "Reported",
		"stay.col.days":   "Days",
		"stay.passport":   "Passport",
		"stay.late_flag":  "Late report",
	},
}

// stayPage is what the stay page shows.
type stayPage struct {
	Commune, UnitName string
	View              stay.View
}

// stayGuests shows the commune police the guests in a commune (?commune=,
// the staff member's own commune by default). stay.Service.Unit is the one
// rule (registrar or desk, the commune in scope) and audits each person.
func (u *UI) stayGuests(w http.ResponseWriter, r *http.Request, s staff.Session) {
	a := actorOf(s)
	commune := r.URL.Query().Get("commune")
	if commune == "" && a.Level() == actor.LevelCommune {
		commune = a.Unit
	}
	province, _ := u.units.CommuneProvince(commune, u.now())
	v := u.page(r, &s, "stay.title", "")
	v.Nav = "stay"
	p := stayPage{Commune: commune}
	if commune != "" {
		sv, err := u.stay.Unit(r.Context(), a, province, commune)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		p.View, p.UnitName = sv, u.unitName(v.Lang, commune)
	}
	v.Page = p
	u.render(w, r, http.StatusOK, "stay", v)
}
