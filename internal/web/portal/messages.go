package portal

import (
	"html/template"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/web/page"
)

// messages is the catalogue of every string the pages show, by language and
// id. Both languages have the same ids (a test checks).
var messages = page.Messages{
	page.VI: {
		"app.name":        "Cổng công dân",
		"app.tagline":     "Định danh và xác thực điện tử",
		"app.footer":      "Mọi lượt truy cập dữ liệu của bạn đều được ghi nhật ký và bạn có thể xem tại đây.",
		"lang.other":      "English",
		"lang.other.code": "en",
		"nav.label":       "Chức năng",
		"nav.skip":        "Bỏ qua, đến nội dung chính",
		"nav.me":          "Thông tin của tôi",
		"nav.ecard":       "Căn cước điện tử",
		"nav.signins":     "Lịch sử đăng nhập",
		"nav.consents":    "Sự đồng ý chia sẻ",
		"nav.access":      "Ai đã truy cập dữ liệu của tôi",
		"nav.logout":      "Đăng xuất",
		"nav.verify":      "Kiểm tra căn cước điện tử",

		"login.title":     "Đăng nhập bằng tài khoản định danh điện tử",
		"login.lead":      "Nhập số định danh cá nhân và mật khẩu. Tài khoản mức 2 nhập thêm mã từ ứng dụng xác thực để dùng căn cước điện tử.",
		"login.pin":       "Số định danh cá nhân",
		"login.password":  "Mật khẩu",
		"login.totp":      "Mã xác thực (tài khoản mức 2)",
		"login.totp.hint": "6 chữ số trong ứng dụng xác thực; bỏ trống nếu chỉ đăng nhập mức 1.",
		"login.submit":    "Đăng nhập",
		"login.expired":   "Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại.",

		"me.title":         "Thông tin của tôi",
		"me.lead":          "Thông tin về bạn trong Cơ sở dữ liệu quốc gia về dân cư. Nếu có sai sót, hãy liên hệ Công an xã/phường nơi thường trú.",
		"me.pin":           "Số định danh cá nhân",
		"me.name":          "Họ, chữ đệm và tên",
		"me.other_names":   "Tên gọi khác",
		"me.birth":         "Ngày, tháng, năm sinh",
		"me.sex":           "Giới tính",
		"me.ethnicity":     "Dân tộc",
		"me.religion":      "Tôn giáo",
		"me.nationality":   "Quốc tịch",
		"me.birthplace":    "Nơi đăng ký khai sinh",
		"me.hometown":      "Quê quán",
		"me.permanent":     "Nơi thường trú",
		"me.temporary":     "Nơi tạm trú",
		"me.household":     "Hộ gia đình",
		"me.member":        "Họ và tên",
		"me.relation":      "Quan hệ với chủ hộ",
		"me.no_household":  "Bạn chưa thuộc hộ gia đình nào trong cơ sở dữ liệu.",
		"me.residences":    "Lịch sử cư trú",
		"me.kind":          "Loại cư trú",
		"me.address":       "Địa chỉ",
		"me.from":          "Từ ngày",
		"me.to":            "Đến ngày",
		"me.cards":         "Thẻ căn cước",
		"me.no_cards":      "Chưa có thẻ căn cước nào trên hệ thống.",
		"me.card.serial":   "Số seri",
		"me.card.status":   "Tình trạng",
		"me.card.issued":   "Ngày cấp",
		"me.card.expires":  "Có giá trị đến",
		"me.card.lifetime": "Không thời hạn",
		"kind.permanent":   "Thường trú",
		"kind.temporary":   "Tạm trú",
		"sex.M":            "Nam",
		"sex.F":            "Nữ",
		"card.applied":     "Đã nhận hồ sơ",
		"card.approved":    "Đã duyệt",
		"card.produced":    "Đã sản xuất",
		"card.handed_over": "Đang sử dụng",
		"card.lost":        "Đã báo mất",
		"card.revoked":     "Đã thu hồi",
		"card.replaced":    "Đã được thay thế",

		"ecard.title":   "Căn cước điện tử",
		"ecard.lead":    "Xuất trình mã QR này để chứng minh nhân thân. Mã được ký số bởi hệ thống định danh điện tử và chỉ có hiệu lực trong ít phút.",
		"ecard.expires": "Hiệu lực đến",
		"ecard.qr_alt":  "Mã QR căn cước điện tử",
		"ecard.text":    "Mã dạng văn bản",
		"ecard.verify":  "Người kiểm tra có thể dán mã tại trang Kiểm tra căn cước điện tử.",
		"ecard.refresh": "Lấy mã mới",

		"signins.title":   "Lịch sử đăng nhập",
		"signins.lead":    "Các lần tài khoản định danh điện tử của bạn được dùng để đăng nhập. Nếu có lần nào bạn không thực hiện, hãy khóa tài khoản và liên hệ cơ quan Công an.",
		"signins.at":      "Thời gian",
		"signins.level":   "Mức",
		"signins.factors": "Phương thức",
		"signins.where":   "Nơi đăng nhập",
		"signins.none":    "Chưa có lần đăng nhập nào.",
		"signins.pwd":     "Mật khẩu",
		"signins.mfa":     "Mật khẩu và mã xác thực",
		"signins.portal":  "Cổng công dân",
		"signins.service": "Dịch vụ",
		"signins.other":   "Khác",

		"consents.title":           "Sự đồng ý chia sẻ thông tin",
		"consents.lead":            "Các dịch vụ bạn đã đồng ý cho nhận thông tin của bạn. Rút lại sự đồng ý sẽ chấm dứt việc chia sẻ và thu hồi quyền truy cập của dịch vụ.",
		"consents.service":         "Dịch vụ",
		"consents.data":            "Thông tin được chia sẻ",
		"consents.purpose":         "Mục đích",
		"consents.given":           "Ngày đồng ý",
		"consents.state":           "Tình trạng",
		"consents.active":          "Đang có hiệu lực",
		"consents.withdrawn":       "Đã rút lại ngày",
		"consents.withdraw":        "Rút lại sự đồng ý",
		"consents.withdraw_field":  "Rút lại thông tin này",
		"consents.declined":        "bạn không chia sẻ",
		"consents.none":            "Bạn chưa đồng ý chia sẻ thông tin với dịch vụ nào.",
		"consents.withdrawn_flash": "Đã rút lại sự đồng ý. Dịch vụ không còn nhận được thông tin của bạn.",
		"scope.profile":            "Họ tên, ngày sinh, giới tính",
		"scope.address":            "Nơi thường trú",
		"scope.pin":                "Số định danh cá nhân",
		"scope.offline_access":     "Duy trì truy cập khi bạn không trực tuyến",

		"access.title":   "Ai đã truy cập dữ liệu của tôi",
		"access.lead":    "Các lượt cán bộ, hệ thống và dịch vụ đối tác xem hoặc thay đổi dữ liệu của bạn, mới nhất trước. Các lượt bạn tự xem không hiển thị ở đây.",
		"access.at":      "Thời gian",
		"access.who":     "Ai",
		"access.what":    "Thao tác",
		"access.why":     "Mục đích",
		"access.fields":  "Dữ liệu",
		"access.none":    "Chưa có ai khác truy cập dữ liệu của bạn.",
		"access.staff":   "Cán bộ",
		"access.partner": "Dịch vụ đối tác",
		"access.system":  "Hệ thống",
		"access.citizen": "Công dân khác (người giám hộ)",

		"action.person.read":                "Xem hồ sơ",
		"action.household.read":             "Xem hộ gia đình (thông tin của bạn trong sổ hộ)",
		"action.person.listed":              "Hiện trong kết quả tìm kiếm",
		"action.residence.read":             "Xem lịch sử cư trú",
		"action.events.read":                "Xem các sự kiện hộ tịch",
		"action.history.read":               "Xem lịch sử thay đổi hồ sơ",
		"action.person.birth":               "Đăng ký khai sinh",
		"action.person.death":               "Đăng ký khai tử",
		"action.person.move":                "Đăng ký thường trú nơi mới",
		"action.person.name_change":         "Thay đổi họ, chữ đệm, tên",
		"action.person.temporary_residence": "Đăng ký tạm trú",
		"action.person.verified":            "Đối chiếu thông tin (chỉ trả lời khớp / không khớp)",
		"action.person.disclosed":           "Nhận dữ liệu (định danh khách hàng điện tử)",
		"action.person.sector_id.written":   "Gắn mã định danh ngành",
		"action.person.sector_id.resolved":  "Tra cứu mã định danh ngành",
		"action.person.partner_refused":     "Yêu cầu bị từ chối (ngoài phạm vi được phép)",
		"action.card":                       "Cập nhật thẻ căn cước",
		"purpose.lookup":                    "Tra cứu",
		"purpose.search":                    "Tìm kiếm",
		"purpose.card-history":              "Xem lịch sử thẻ căn cước",
		"purpose.eid-registration":          "Đăng ký tài khoản định danh điện tử",
		"purpose.eid-level2-activation":     "Kích hoạt tài khoản định danh điện tử mức 2",
		"purpose.oidc":                      "Chia sẻ qua định danh điện tử:",
		"purpose.self-service":              "Tự tra cứu",

		"verify.title":   "Kiểm tra căn cước điện tử",
		"verify.lead":    "Dán mã căn cước điện tử (dạng văn bản hoặc đọc từ mã QR) để kiểm tra chữ ký số và thời hạn. Việc kiểm tra chỉ cần danh sách khóa công bố của hệ thống định danh.",
		"verify.field":   "Mã căn cước điện tử",
		"verify.submit":  "Kiểm tra",
		"verify.valid":   "Hợp lệ",
		"verify.invalid": "Không hợp lệ",

		"err.csrf.title":         "Yêu cầu bị từ chối",
		"err.csrf.text":          "Biểu mẫu đã hết hạn hoặc thiếu mã chống giả mạo. Vui lòng tải lại trang và thử lại.",
		"err.forbidden.title":    "Không được phép",
		"err.notfound.title":     "Không tìm thấy",
		"err.page_notfound.text": "Trang này không tồn tại.",
		"err.invalid.title":      "Không thực hiện được",
		"err.internal.title":     "Lỗi hệ thống",
		"err.internal.text":      "Lỗi hệ thống, vui lòng thử lại sau.",
		"err.back":               "Về trang thông tin của tôi",
	},
	page.EN: {
		"app.name":        "Citizen portal",
		"app.tagline":     "Electronic identification and authentication",
		"app.footer":      "Every access to your data is logged, and you can see it here.",
		"lang.other":      "Tiếng Việt",
		"lang.other.code": "vi",
		"nav.label":       "Sections",
		"nav.skip":        "Skip to main content",
		"nav.me":          "My data",
		"nav.ecard":       "Electronic ID card",
		"nav.signins":     "My sign-ins",
		"nav.consents":    "My consents",
		"nav.access":      "Who accessed my data",
		"nav.logout":      "Sign out",
		"nav.verify":      "Check an electronic ID card",

		"login.title":     "Sign in with your electronic ID",
		"login.lead":      "Enter your personal identification number and password. Level-2 accounts add the code from their authenticator app to use the electronic ID card.",
		"login.pin":       "Personal identification number",
		"login.password":  "Password",
		"login.totp":      "Authenticator code (level 2)",
		"login.totp.hint": "6 digits from your authenticator app; leave empty to sign in at level 1.",
		"login.submit":    "Sign in",
		"login.expired":   "Your session has ended; please sign in again.",

		"me.title":         "My data",
		"me.lead":          "What the national population database holds about you. If something is wrong, contact the police of the commune of your permanent residence.",
		"me.pin":           "Personal identification number",
		"me.name":          "Full name",
		"me.other_names":   "Other names",
		"me.birth":         "Date of birth",
		"me.sex":           "Sex",
		"me.ethnicity":     "Ethnicity",
		"me.religion":      "Religion",
		"me.nationality":   "Nationality",
		"me.birthplace":    "Place of birth registration",
		"me.hometown":      "Hometown",
		"me.permanent":     "Permanent residence",
		"me.temporary":     "Temporary residence",
		"me.household":     "Household",
		"me.member":        "Name",
		"me.relation":      "Relation to the head",
		"me.no_household":  "You are not in a household in the database.",
		"me.residences":    "Residence history",
		"me.kind":          "Kind",
		"me.address":       "Address",
		"me.from":          "From",
		"me.to":            "To",
		"me.cards":         "Identity cards",
		"me.no_cards":      "No identity card on record.",
		"me.card.serial":   "Serial",
		"me.card.status":   "Status",
		"me.card.issued":   "Issued",
		"me.card.expires":  "Valid until",
		"me.card.lifetime": "No expiry",
		"kind.permanent":   "Permanent",
		"kind.temporary":   "Temporary",
		"sex.M":            "Male",
		"sex.F":            "Female",
		"card.applied":     "Application received",
		"card.approved":    "Approved",
		"card.produced":    "Produced",
		"card.handed_over": "In use",
		"card.lost":        "Reported lost",
		"card.revoked":     "Revoked",
		"card.replaced":    "Replaced",

		"ecard.title":   "Electronic ID card",
		"ecard.lead":    "Show this QR code to prove who you are. It is digitally signed by the electronic identification system and valid for a few minutes only.",
		"ecard.expires": "Valid until",
		"ecard.qr_alt":  "Electronic ID card QR code",
		"ecard.text":    "As text",
		"ecard.verify":  "A verifier can paste the code on the Check an electronic ID card page.",
		"ecard.refresh": "Get a new code",

		"signins.title":   "My sign-ins",
		"signins.lead":    "When your electronic ID account was used to sign in. If you do not recognise one, lock your account and contact the police.",
		"signins.at":      "Time",
		"signins.level":   "Level",
		"signins.factors": "Method",
		"signins.where":   "Where",
		"signins.none":    "No sign-ins yet.",
		"signins.pwd":     "Password",
		"signins.mfa":     "Password and authenticator code",
		"signins.portal":  "Citizen portal",
		"signins.service": "Service",
		"signins.other":   "Other",

		"consents.title":           "My consents",
		"consents.lead":            "Services you allowed to receive your data. Withdrawing a consent stops the sharing and revokes the service's access.",
		"consents.service":         "Service",
		"consents.data":            "Data shared",
		"consents.purpose":         "Purpose",
		"consents.given":           "Given on",
		"consents.state":           "Status",
		"consents.active":          "In force",
		"consents.withdrawn":       "Withdrawn on",
		"consents.withdraw":        "Withdraw consent",
		"consents.withdraw_field":  "Withdraw this item",
		"consents.declined":        "not shared by you",
		"consents.none":            "You have not consented to share data with any service.",
		"consents.withdrawn_flash": "Consent withdrawn. The service no longer receives your data.",
		"scope.profile":            "Name, date of birth, sex",
		"scope.address":            "Permanent residence",
		"scope.pin":                "Personal identification number",
		"scope.offline_access":     "Access while you are offline",

		"access.title":   "Who accessed my data",
		"access.lead":    "Staff, systems and partner services that read or changed your data, newest first. Your own views are not listed.",
		"access.at":      "Time",
		"access.who":     "Who",
		"access.what":    "Action",
		"access.why":     "Purpose",
		"access.fields":  "Data",
		"access.none":    "No one else has accessed your data yet.",
		"access.staff":   "Staff member",
		"access.partner": "Partner service",
		"access.system":  "System",
		"access.citizen": "Another citizen (guardian)",

		"action.person.read":                "Read the record",
		"action.household.read":             "Viewed your household (your entry in it)",
		"action.person.listed":              "Listed in search results",
		"action.residence.read":             "Read the residence history",
		"action.events.read":                "Read the life events",
		"action.history.read":               "Read the change history",
		"action.person.birth":               "Birth registration",
		"action.person.death":               "Death registration",
		"action.person.move":                "New permanent residence",
		"action.person.name_change":         "Name change",
		"action.person.temporary_residence": "Temporary residence registration",
		"action.person.verified":            "Checked details (answered match / no match only)",
		"action.person.disclosed":           "Received data (electronic customer identification)",
		"action.person.sector_id.written":   "Linked a sector identifier",
		"action.person.sector_id.resolved":  "Looked up a sector identifier",
		"action.person.partner_refused":     "Request refused (outside the permitted scope)",
		"action.card":                       "Identity card update",
		"purpose.lookup":                    "Lookup",
		"purpose.search":                    "Search",
		"purpose.card-history":              "Identity card history",
		"purpose.eid-registration":          "Electronic ID registration",
		"purpose.eid-level2-activation":     "Level-2 electronic ID activation",
		"purpose.oidc":                      "Shared through the electronic ID:",
		"purpose.self-service":              "Own lookup",

		"verify.title":   "Check an electronic ID card",
		"verify.lead":    "Paste the electronic ID card code (as text or read from the QR code) to check its digital signature and validity. The check needs only the identity provider's published keys.",
		"verify.field":   "Electronic ID card code",
		"verify.submit":  "Check",
		"verify.valid":   "Valid",
		"verify.invalid": "Not valid",

		"err.csrf.title":         "Request refused",
		"err.csrf.text":          "The form has expired or lacks its anti-forgery token. Reload the page and try again.",
		"err.forbidden.title":    "Not allowed",
		"err.notfound.title":     "Not found",
		"err.page_notfound.text": "This page does not exist.",
		"err.invalid.title":      "Not possible",
		"err.internal.title":     "System error",
		"err.internal.text":      "Internal error, please try again later.",
		"err.back":               "Back to my data",
	},
}

// vnTime is the time zone the pages show times in (UTC+7, no daylight time).
var vnTime = time.FixedZone("ICT", 7*3600)

// funcs are the template functions of language l.
func funcs(msgs *page.Catalogue, l string) template.FuncMap {
	tr := func(key string) string { return msgs.T(l, key) }
	return template.FuncMap{
		"t":     tr,
		"home":  func() string { return "/citizen/" },
		"when":  func(t time.Time) string { return t.In(vnTime).Format("02/01/2006 15:04") },
		"cdate": func(d civildate.Date) string { return d.Display() },
		"sex":   func(s string) string { return tr("sex." + s) },
		"kind":  func(s string) string { return tr("kind." + s) },
		"cardstatus": func(s string) string {
			return tr("card." + s)
		},
		"isodate": func(s string) string { // yyyy-mm-dd to dd/mm/yyyy
			if d, err := civildate.Parse(s); err == nil {
				return d.Display()
			}
			return s
		},
	}
}

// scopeText describes the data a scope releases.
func (p *Portal) scopeText(l, scope string) string {
	if s, ok := p.msgs.Lookup(l, "scope."+scope); ok {
		return s
	}
	return scope
}

// actionText words an audited action for the citizen.
func (p *Portal) actionText(l, action string) string {
	if s, ok := p.msgs.Lookup(l, "action."+action); ok {
		return s
	}
	if strings.HasPrefix(action, "card.") {
		return p.msgs.T(l, "action.card")
	}
	return action
}

// purposeText words a declared purpose; a partner's purpose is its own text.
func (p *Portal) purposeText(l, purpose string) string {
	if rest, ok := strings.CutPrefix(purpose, "oidc: "); ok {
		return p.msgs.T(l, "purpose.oidc") + " " + rest
	}
	if s, ok := p.msgs.Lookup(l, "purpose."+purpose); ok {
		return s
	}
	return purpose
}
