package ui

import (
	"net/http"
	"slices"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/stay"
	"github.com/dancu-project/dancu/internal/web/page"
)

// The administrators' page of partners' properties (hotels, hospitals,
// dormitories): the list, and the form that registers one for a partner
// whose policy has the operation "stay". stay.Service.RegisterProperty
// holds every rule (who may, the fields, the partner's policy and scope);
// this page maps the form and shows names: the partner's, the commune's.

var stayAdminMessages = page.Messages{
	page.VI: {
		"admin.stay.title":          "Cơ sở lưu trú của đối tác",
		"admin.intro.stay":          "Khách sạn, bệnh viện, ký túc xá thông báo lưu trú qua API đối tác.",
		"admin.stay.lead":           "Cơ sở được đăng ký cho một đối tác có thao tác \"thông báo lưu trú\" trong chính sách, tại một xã, phường thuộc địa bàn của chính sách. Đối tác gửi danh sách khách của cơ sở qua API đối tác.",
		"admin.stay.none":           "Chưa có cơ sở nào.",
		"admin.stay.new":            "Đăng ký cơ sở",
		"admin.stay.done":           "Đã đăng ký cơ sở:",
		"admin.stay.no_partner":     "Chưa có đối tác nào được phép thông báo lưu trú. Thêm thao tác \"thông báo lưu trú\" vào chính sách của đối tác trước.",
		"admin.stay.province":       "Tỉnh, thành phố của cơ sở",
		"admin.stay.choose":         "Chọn",
		"admin.stay.col.id":         "Mã cơ sở",
		"admin.stay.col.name":       "Tên cơ sở",
		"admin.stay.col.kind":       "Loại",
		"admin.stay.col.partner":    "Đối tác",
		"admin.stay.col.commune":    "Xã, phường",
		"admin.stay.col.address":    "Địa chỉ",
		"f.property_id":             "Mã cơ sở (dùng trong đường dẫn API)",
		"hint.property_id":          "Chữ thường không dấu, số, '-' và '_', ví dụ ks-hoan-kiem-1.",
		"f.property_kind":           "Loại cơ sở",
		"f.property_name":           "Tên cơ sở",
		"f.property_partner":        "Đối tác quản lý cơ sở",
		"f.property_commune":        "Xã, phường",
		"f.property_address":        "Địa chỉ",
		"stay.kind.hotel":           "Khách sạn, nhà nghỉ",
		"stay.kind.hospital":        "Bệnh viện",
		"stay.kind.dormitory":       "Ký túc xá",
		"stay.kind.household":       "Hộ gia đình",
		"admin.stay.choose_kind":    "— Chọn loại —",
		"admin.stay.choose_partner": "— Chọn đối tác —",
	},
	page.EN: {
		"admin.stay.title":          "Partners' lodgings",
		"admin.intro.stay":          "Hotels, hospitals and dormitories reporting guests through the partner API.",
		"admin.stay.lead":           "A lodging is registered for a partner whose policy has the operation \"stay notification\", in a commune inside the policy's scope. The partner sends the lodging's guests through the partner API.",
		"admin.stay.none":           "No lodgings yet.",
		"admin.stay.new":            "Register a lodging",
		"admin.stay.done":           "Lodging registered:",
		"admin.stay.no_partner":     "No partner may report guests yet. Add the operation \"stay notification\" to a partner's policy first.",
		"admin.stay.province":       "Province of the lodging",
		"admin.stay.choose":         "Choose",
		"admin.stay.col.id":         "Id",
		"admin.stay.col.name":       "Name",
		"admin.stay.col.kind":       "Kind",
		"admin.stay.col.partner":    "Partner",
		"admin.stay.col.commune":    "Commune",
		"admin.stay.col.address":    "Address",
		"f.property_id":             "Lodging id (used in the API's paths)",
		"hint.property_id":          "Lower-case letters, digits, '-' and '_', for example ks-hoan-kiem-1.",
		"f.property_kind":           "Kind",
		"f.property_name":           "Name",
		"f.property_partner":        "Partner running it",
		"f.property_commune":        "Commune",
		"f.property_address":        "Address",
		"stay.kind.hotel":           "Hotel, guesthouse",
		"stay.kind.hospital":        "Hospital",
		"stay.kind.dormitory":       "Dormitory",
		"stay.kind.household":       "Household",
		"admin.stay.choose_kind":    "— Choose a kind —",
		"admin.stay.choose_partner": "— Choose a partner —",
	},
}

// propertyFields are the form's fields; the service's names map to them.
var propertyFields = []string{"property_id", "property_kind", "property_name", "property_partner", "property_commune", "property_address", "province"}

var propertyRename = map[string]string{"id": "property_id", "kind": "property_kind", "name": "property_name", "partner_id": "property_partner",
	"commune": "property_commune", "address": "property_address"}

// propertyRow is one line of the list, with names for codes.
type propertyRow struct {
	stay.Property
	KindName, PartnerName, CommuneName string
}

// propertiesView is what the page shows.
type propertiesView struct {
	Rows      []propertyRow
	Kinds     []option
	Partners  []option
	Provinces []adminunit.Unit
	Province  string
	Communes  []adminunit.Unit
	Done      string
}

// mountStayAdmin adds the page to the administration (national
// administrators: adminOnly, and the service's own rule).
func (u *UI) mountStayAdmin(s func(string, handler)) {
	if u.admin.Partners == nil {
		return
	}
	s("GET /admin/stay-properties", u.adminOnly(u.propertyList))
	s("POST /admin/stay-properties", u.adminOnly(u.propertyCreate))
}

func (u *UI) propertyRules() stay.PropertyRules {
	return stay.PropertyRules{Partners: u.admin.Partners, Province: func(c string) (string, bool) {
		p, err := u.units.CommuneProvince(c, u.now())
		return p, err == nil
	}}
}

func (u *UI) propertyList(w http.ResponseWriter, r *http.Request, s staff.Session) {
	f := newForm(r.URL.Query(), propertyFields...)
	u.showProperties(w, r, s, f, http.StatusOK, nil)
}

func (u *UI) propertyCreate(w http.ResponseWriter, r *http.Request, s staff.Session) {
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, propertyFields...)
	p, err := u.stay.RegisterProperty(r.Context(), actorOf(s), u.propertyRules(), stay.Property{ID: f.trim("property_id"), Kind: f.trim("property_kind"),
		Name: f.Get("property_name"), PartnerID: f.trim("property_partner"), Commune: f.trim("property_commune"), Address: f.Get("property_address")})
	if err != nil {
		u.showProperties(w, r, s, f, 0, err)
		return
	}
	http.Redirect(w, r, "/admin/stay-properties?done="+p.ID, http.StatusSeeOther)
}

// showProperties draws the list and the form; err, when set, is the
// form's refusal.
func (u *UI) showProperties(w http.ResponseWriter, r *http.Request, s staff.Session, f *form, status int, err error) {
	v := u.page(r, &s, "admin.stay.title", "")
	v.Nav = "admin"
	v.Form = f
	if err != nil {
		if status = u.formFaults(w, r, v, err, propertyRename); status == 0 {
			return
		}
	}
	a := actorOf(s)
	list, lerr := u.stay.Properties(r.Context(), a, "")
	if lerr != nil {
		u.fail(w, r, lerr)
		return
	}
	partners, perr := u.admin.Partners.Partners(r.Context())
	if perr != nil {
		u.fail(w, r, perr)
		return
	}
	pv := propertiesView{Provinces: u.units.Provinces(u.now())}
	names := map[string]string{}
	for _, p := range partners {
		names[p.ID] = p.Name
		if !p.Disabled && p.Policy.Allows(exchange.OpStay) {
			pv.Partners = append(pv.Partners, option{Value: p.ID, Label: p.Name})
		}
	}
	for _, k := range []string{stay.Hotel, stay.Hospital, stay.Dormitory} {
		pv.Kinds = append(pv.Kinds, option{Value: k, Label: u.tr(v.Lang, "stay.kind."+k)})
	}
	for _, p := range list {
		pv.Rows = append(pv.Rows, propertyRow{Property: p, KindName: u.tr(v.Lang, "stay.kind."+p.Kind), PartnerName: or(names[p.PartnerID], p.PartnerID),
			CommuneName: u.unitName(v.Lang, p.Commune)})
	}
	// The commune select lists the chosen province's communes (the
	// province chosen first, or the one of the commune sent).
	pv.Province = f.trim("province")
	if c := f.trim("property_commune"); c != "" {
		if p, err := u.units.CommuneProvince(c, u.now()); err == nil {
			pv.Province = p
		}
	}
	if !slices.ContainsFunc(pv.Provinces, func(p adminunit.Unit) bool { return p.Code == pv.Province }) {
		pv.Province = ""
	}
	if pv.Province != "" {
		pv.Communes = u.units.Communes(pv.Province, u.now())
	}
	if d := r.URL.Query().Get("done"); d != "" && r.Method == http.MethodGet {
		pv.Done = d
	}
	v.Page = pv
	if status == 0 {
		status = http.StatusOK
	}
	u.render(w, r, status, "admin-stay", v)
}
