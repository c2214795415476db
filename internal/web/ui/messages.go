package ui

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/web/page"
)

// messages is the catalogue of every string the pages show, by language and
// message id. Both languages have the same ids (a test checks).
var messages = page.Messages{
	page.VI: {
		"app.name":    "Dân cư",
		"app.tagline": "Cơ sở dữ liệu quốc gia về dân cư",
		"app.footer":  "Hệ thống dành cho cán bộ được phân quyền. Mọi lượt tra cứu đều được ghi nhật ký.",

		"lang.other":      "English",
		"lang.other.code": "en",

		"nav.skip":   "Bỏ qua, đến nội dung chính",
		"nav.label":  "Chức năng chính",
		"nav.home":   "Trang chủ",
		"nav.search": "Tra cứu công dân",
		"nav.birth":  "Khai sinh",
		"nav.death":  "Khai tử",
		"nav.move":   "Thường trú nơi mới",
		"nav.logout": "Đăng xuất",

		// Data cleaning (reconciliation of partners' datasets).
		"nav.reconcile":               "Làm sạch dữ liệu",
		"recon.title":                 "Làm sạch dữ liệu của đối tác",
		"recon.lead":                  "Tiến độ đối soát dữ liệu của các đối tác với Cơ sở dữ liệu quốc gia về dân cư.",
		"recon.partners":              "Tiến độ theo đối tác (lượt gần nhất)",
		"recon.jobs":                  "Các lượt đối soát",
		"recon.none":                  "Chưa có lượt đối soát nào.",
		"recon.col.partner":           "Đối tác",
		"recon.col.progress":          "Tiến độ làm sạch",
		"recon.col.state":             "Trạng thái",
		"recon.col.file":              "Tệp",
		"recon.col.created":           "Thời điểm gửi",
		"recon.col.read":              "Dòng đã đọc",
		"recon.col.matched":           "Khớp",
		"recon.col.ambiguous":         "Cần xem xét",
		"recon.col.not_found":         "Không tìm thấy",
		"recon.col.errors":            "Dòng lỗi",
		"recon.col.duplicates":        "Trùng lặp",
		"recon.col.decided":           "Đã quyết định",
		"recon.col.same_person":       "Cùng một người",
		"recon.col.report":            "Báo cáo",
		"recon.report.download":       "Tải báo cáo",
		"recon.report.note":           "Mỗi số định danh trong báo cáo tải về được ghi vào nhật ký truy cập của công dân dưới tên bạn.",
		"recon.col.row":               "Dòng",
		"recon.col.partner_name":      "Họ tên (theo đối tác)",
		"recon.col.partner_birth":     "Ngày sinh (theo đối tác)",
		"recon.col.candidates":        "Số ứng viên",
		"recon.state.queued":          "Đang chờ",
		"recon.state.running":         "Đang xử lý",
		"recon.state.done":            "Hoàn thành",
		"recon.state.failed":          "Lỗi",
		"recon.state.uploading":       "Đang tải lên",
		"recon.state.cancelled":       "Đã huỷ",
		"recon.queue.title":           "Dòng cần xem xét",
		"recon.queue.lead":            "Các dòng dữ liệu của đối tác khớp với nhiều công dân có ứng viên thuộc địa bàn bạn quản lý.",
		"recon.queue.link":            "Danh sách dòng cần xem xét",
		"recon.queue.empty":           "Không có dòng nào cần xem xét trong địa bàn của bạn.",
		"recon.review.title":          "Xem xét dòng dữ liệu",
		"recon.review.lead":           "So sánh dữ liệu đối tác gửi với các công dân ứng viên và chọn đúng người, hoặc \"Không ai trong số này\".",
		"recon.review.open":           "Xem xét",
		"recon.review.partner_record": "Dữ liệu đối tác gửi",
		"recon.review.card":           "Số thẻ",
		"recon.review.address":        "Địa chỉ",
		"recon.review.choose":         "Công dân ứng viên",
		"recon.review.confidence":     "Độ tin cậy",
		"recon.review.out_of_scope":   "Ứng viên ngoài địa bàn bạn quản lý.",
		"recon.review.none":           "Không ai trong số này",
		"recon.review.submit":         "Lưu quyết định",
		"recon.review.decided":        "Đã được quyết định bởi",
		"recon.flash.decided":         "Đã lưu quyết định.",
		"recon.flash.uploaded":        "Đã nhận tệp; lượt đối soát của đối tác đã vào hàng chờ xử lý.",
		"recon.flash.cancelled":       "Đã huỷ lượt đối soát; tệp của đối tác và các mục chờ xem xét đã được xoá.",
		"recon.flash.deleted":         "Đã xoá lượt đối soát cùng toàn bộ dữ liệu của nó.",
		"recon.col.manage":            "Quản lý",
		"recon.cancel":                "Huỷ",
		"recon.delete":                "Xoá…",
		"recon.delete.warning":        "Xoá hẳn lượt đối soát: tệp của đối tác, kết quả từng dòng, báo cáo và các quyết định xem xét. Không thể hoàn tác.",
		"recon.delete.confirm":        "Xoá hẳn",
		"recon.upload.title":          "Tải tệp lên thay cho đối tác",
		"recon.upload.lead":           "Khi đối tác bàn giao tệp dữ liệu (ví dụ trên ổ đĩa), quản trị viên tải tệp lên tại đây. Lượt đối soát thuộc về đối tác như khi đối tác tự gửi qua API, và việc tải lên được ghi nhật ký dưới tên bạn.",
		"recon.upload.partner":        "Đối tác",
		"recon.upload.partner.choose": "— Chọn đối tác —",
		"recon.upload.purpose":        "Mục đích xử lý dữ liệu",
		"recon.upload.purpose.choose": "— Chọn mục đích —",
		"recon.upload.purpose_hint":   "Mục đích theo quy định của luật trong chính sách của đối tác đã chọn; báo cáo chỉ nêu những gì chính sách cho phép, và mỗi công dân được nêu thấy mục đích này trong nhật ký truy cập của mình.",
		"recon.upload.encoding":       "Bảng mã",
		"recon.upload.format":         "Định dạng",
		"recon.upload.delimiter":      "Dấu phân cách (CSV)",
		"recon.upload.auto":           "Tự nhận biết",
		"recon.upload.delim.comma":    "Dấu phẩy ,",
		"recon.upload.delim.semi":     "Dấu chấm phẩy ;",
		"recon.upload.delim.tab":      "Tab",
		"recon.upload.delim.pipe":     "Dấu gạch đứng |",
		"recon.upload.file":           "Tệp dữ liệu",
		"recon.upload.file_hint":      "CSV hoặc JSON Lines, tối đa 4 GB. Cần cột họ tên và một trong các cột số định danh, số thẻ hoặc ngày sinh.",
		"recon.upload.submit":         "Tải lên và đối soát",
		"recon.upload.no_partner":     "Chưa có đối tác nào được phép đối soát dữ liệu.",

		"role.registrar": "Cán bộ đăng ký",
		"role.leader":    "Lãnh đạo",
		"role.admin":     "Quản trị viên",
		"role.system":    "Hệ thống",
		"unit.national":  "Toàn quốc",

		"login.title":   "Đăng nhập",
		"login.lead":    "Đăng nhập bằng tài khoản cán bộ được cấp.",
		"login.submit":  "Đăng nhập",
		"login.expired": "Phiên làm việc đã hết hạn, vui lòng đăng nhập lại.",

		"home.title":       "Trang chủ",
		"home.whoami":      "Tài khoản đang đăng nhập",
		"home.name":        "Họ và tên",
		"home.username":    "Tên đăng nhập",
		"home.role":        "Vai trò",
		"home.unit":        "Địa bàn quản lý",
		"home.search":      "Tra cứu nhanh",
		"home.tasks":       "Đăng ký",
		"home.task.birth":  "Cấp số định danh cá nhân cho trẻ mới sinh và đưa vào hộ.",
		"home.task.death":  "Ghi nhận công dân đã chết, chọn chủ hộ mới nếu cần.",
		"home.task.move":   "Chuyển nơi thường trú đến địa bàn của bạn.",
		"home.readonly":    "Tài khoản của bạn chỉ có quyền tra cứu.",
		"search.title":     "Tra cứu công dân",
		"search.submit":    "Tìm kiếm",
		"search.results":   "Kết quả",
		"search.none":      "Không tìm thấy công dân phù hợp.",
		"search.next":      "Trang sau",
		"person.title":     "Thông tin công dân",
		"person.actions":   "Thao tác",
		"person.record":    "Thông tin trong Cơ sở dữ liệu quốc gia về dân cư",
		"person.pin":       "Số định danh cá nhân",
		"person.full_name": "Họ và tên",

		"person.other_names":  "Tên gọi khác",
		"person.birth_date":   "Ngày sinh",
		"person.sex":          "Giới tính",
		"person.ethnicity":    "Dân tộc",
		"person.religion":     "Tôn giáo",
		"person.nationality":  "Quốc tịch",
		"person.birthplace":   "Nơi sinh",
		"person.hometown":     "Quê quán",
		"person.permanent":    "Nơi thường trú",
		"person.since":        "từ",
		"person.temporary":    "Nơi tạm trú",
		"person.status":       "Tình trạng",
		"person.death_date":   "ngày mất",
		"person.relation":     "Quan hệ với chủ hộ",
		"person.father":       "Cha",
		"person.mother":       "Mẹ",
		"person.spouse":       "Vợ/chồng",
		"person.version":      "Phiên bản",
		"person.household":    "Hộ gia đình",
		"person.no_household": "Chưa thuộc hộ gia đình nào.",
		"person.residences":   "Quá trình cư trú",
		"person.current":      "Hiện tại",
		"person.events":       "Sự kiện hộ tịch",
		"person.no_events":    "Chưa có sự kiện nào được đăng ký trên hệ thống.",
		"person.history":      "Lịch sử thay đổi",

		"person.action.death": "Khai tử",
		"person.action.move":  "Đăng ký thường trú nơi mới",
		"person.action.birth": "Khai sinh cho con",

		"household.title":   "Hộ gia đình",
		"household.id":      "Mã hộ",
		"household.address": "Địa chỉ",
		"household.head":    "Chủ hộ",
		"household.created": "Ngày lập hộ trên hệ thống",
		"household.members": "Thành viên trong hộ",

		"col.pin":        "Số định danh",
		"col.name":       "Họ và tên",
		"col.birth_date": "Ngày sinh",
		"col.sex":        "Giới tính",
		"col.address":    "Nơi thường trú",
		"col.status":     "Tình trạng",
		"col.relation":   "Quan hệ với chủ hộ",
		"col.kind":       "Loại",
		"col.from":       "Từ ngày",
		"col.to":         "Đến ngày",
		"col.event":      "Sự kiện",
		"col.effective":  "Ngày hiệu lực",
		"col.recorded":   "Thời điểm ghi",
		"col.by":         "Người thực hiện",
		"col.reason":     "Lý do",
		"col.version":    "Phiên bản",
		"col.at":         "Thời điểm",

		"status.alive":  "Còn sống",
		"status.dead":   "Đã chết",
		"sex.M":         "Nam",
		"sex.F":         "Nữ",
		"res.permanent": "Thường trú",
		"res.temporary": "Tạm trú",
		"event.birth":   "Khai sinh",
		"event.death":   "Khai tử",
		"event.move":    "Đăng ký thường trú nơi mới",

		"event.name_change": "Thay đổi họ tên",
		"religion.none":     "Không",
		"nation.VNM":        "Việt Nam",

		"form.required_note": "Các mục có dấu * là bắt buộc.",
		"form.cancel":        "Hủy",
		"form.subject":       "Công dân được đăng ký",
		"form.head_notice":   "Người này là chủ hộ của hộ còn thành viên khác: hãy chọn chủ hộ mới.",

		"birth.title":   "Đăng ký khai sinh",
		"birth.lead":    "Khai sinh cho trẻ em: hệ thống cấp số định danh cá nhân và đưa trẻ vào hộ gia đình.",
		"birth.child":   "Thông tin của trẻ",
		"birth.place":   "Nơi sinh",
		"birth.parents": "Cha, mẹ và hộ gia đình",
		"birth.submit":  "Đăng ký khai sinh",
		"death.title":   "Đăng ký khai tử",
		"death.lead":    "Ghi nhận công dân đã chết. Hồ sơ được giữ lại với tình trạng «Đã chết».",
		"death.submit":  "Đăng ký khai tử",
		"move.title":    "Đăng ký thường trú nơi mới",
		"move.lead":     "Chuyển nơi thường trú của công dân đến một hộ đã có, hoặc lập hộ mới.",

		"move.destination": "Nơi thường trú mới",
		"move.submit":      "Đăng ký thường trú",

		"flash.birth": "Đã đăng ký khai sinh. Số định danh cá nhân:",
		"flash.death": "Đã đăng ký khai tử.",
		"flash.move":  "Đã đăng ký thường trú nơi mới.",

		"temporary.title":  "Đăng ký tạm trú",
		"temporary.lead":   "Ghi nhận nơi tạm trú ngoài xã/phường nơi thường trú, tối đa 2 năm mỗi lần.",
		"temporary.place":  "Nơi tạm trú",
		"temporary.submit": "Đăng ký tạm trú",
		"flash.temporary":  "Đã đăng ký tạm trú.",

		// Organisation accounts of the electronic ID (orgs.go).
		"org.title":            "Đăng ký tổ chức",
		"org.lead":             "Đăng ký tài khoản định danh điện tử của doanh nghiệp hoặc cơ quan cùng người đại diện theo pháp luật, sau khi kiểm tra giấy chứng nhận đăng ký. Người đại diện phải có tài khoản định danh điện tử mức 2; họ ủy quyền cho nhân viên trên Cổng công dân.",
		"org.kind.company":     "Doanh nghiệp (mã số thuế)",
		"org.kind.agency":      "Cơ quan, đơn vị (mã đơn vị có quan hệ với ngân sách)",
		"org.submit":           "Đăng ký tổ chức",
		"home.task.org":        "Doanh nghiệp, cơ quan và người đại diện theo pháp luật.",
		"flash.org":            "Đã đăng ký tổ chức có mã",
		"f.kind":               "Loại tổ chức",
		"f.code":               "Mã số thuế hoặc mã đơn vị",
		"hint.code":            "Doanh nghiệp: 10 chữ số (chi nhánh: thêm -NNN). Cơ quan: 7 chữ số.",
		"f.name":               "Tên tổ chức",
		"f.representative_pin": "Số định danh cá nhân của người đại diện theo pháp luật",

		// Identity cards (thẻ căn cước).
		"nav.verify":              "Kiểm tra thẻ",
		"card.section":            "Thẻ căn cước",
		"card.title":              "Thẻ căn cước",
		"card.serial":             "Số seri thẻ",
		"card.number":             "Số thẻ (số định danh)",
		"card.issue_date":         "Ngày cấp",
		"card.expiry_date":        "Có giá trị đến",
		"card.lifetime":           "Không thời hạn",
		"card.none":               "Công dân chưa có thẻ căn cước nào trên hệ thống.",
		"card.history":            "Lịch sử thẻ",
		"card.facts":              "Thông tin thẻ",
		"card.signer":             "Chứng thư người ký (DS)",
		"card.print":              "Dữ liệu in và chip",
		"card.mrz":                "Vùng đọc máy (MRZ)",
		"card.qr":                 "Mã QR mặt sau",
		"card.qr_alt":             "Mã QR của thẻ",
		"card.download":           "Tải dữ liệu chip (JSON)",
		"card.images":             "Ảnh thẻ (mẫu, dữ liệu tổng hợp)",
		"card.images_note":        "Ảnh có dấu «MẪU – DỮ LIỆU TỔNG HỢP», không dùng thay thẻ. Mỗi lần tải được ghi nhật ký như một lần xem hồ sơ công dân.",
		"card.front":              "Mặt trước (PNG)",
		"card.back":               "Mặt sau (PNG)",
		"card.preview_pdf":        "Bản xem trước PDF (kích thước thật)",
		"card.not_produced":       "Thẻ chưa được sản xuất: chưa có dữ liệu chip, MRZ và mã QR.",
		"card.status.applied":     "Đã tiếp nhận hồ sơ",
		"card.status.approved":    "Đã duyệt",
		"card.status.produced":    "Đã sản xuất",
		"card.status.handed_over": "Đã trả thẻ",
		"card.status.lost":        "Báo mất",
		"card.status.revoked":     "Đã thu hồi",
		"card.status.replaced":    "Đã cấp đổi",
		"card.reason.death":       "Công dân đã chết",
		"card.reason.loss":        "Mất thẻ",
		"card.reason.replacement": "Cấp đổi, cấp lại",
		"card.step.apply":         "Tiếp nhận hồ sơ cấp thẻ",
		"card.step.approve":       "Duyệt",
		"card.step.produce":       "Sản xuất thẻ",
		"card.step.hand-over":     "Trả thẻ cho công dân",
		"card.step.report-lost":   "Báo mất",
		"card.step.reissue":       "Cấp lại",
		"card.step.revoke":        "Thu hồi",
		"flash.card_apply":        "Đã tiếp nhận hồ sơ cấp thẻ căn cước.",
		"flash.card_approve":      "Đã duyệt hồ sơ cấp thẻ.",
		"flash.card_produce":      "Đã sản xuất thẻ: chip đã được ký số.",
		"flash.card_hand_over":    "Đã trả thẻ cho công dân.",
		"flash.card_report_lost":  "Đã ghi nhận báo mất thẻ.",
		"flash.card_reissue":      "Đã tiếp nhận hồ sơ cấp lại thẻ.",
		"flash.card_revoke":       "Đã thu hồi thẻ.",
		"verify.title":            "Kiểm tra thẻ căn cước",
		"verify.lead":             "Dán chuỗi đọc từ mã QR hoặc chọn tệp dữ liệu chip để kiểm tra chữ ký số, tình trạng thu hồi và đối chiếu với CSDL.",
		"verify.qr":               "Chuỗi mã QR",
		"verify.qr_hint":          "Dạng: số định danh|số CMND|họ tên|ngày sinh|giới tính|nơi thường trú|ngày cấp.",
		"verify.chip":             "Tệp dữ liệu chip",
		"verify.chip_hint":        "Tệp JSON gồm data_groups và sod, như tệp tải về từ trang thẻ.",
		"verify.submit":           "Kiểm tra",
		"verify.ok":               "Thẻ hợp lệ",
		"verify.failed":           "Thẻ không hợp lệ",
		"verify.check":            "Mục kiểm tra",
		"verify.status.pass":      "Đạt",
		"verify.status.fail":      "Không đạt",
		"verify.status.warn":      "Lưu ý",
		"verify.status.skip":      "Bỏ qua",

		// Cancelling an application that cannot be produced (issue 15).
		"card.status.cancelled":      "Đã hủy hồ sơ",
		"card.reason.withdrawn":      "Công dân rút hồ sơ",
		"card.reason.not_producible": "Dữ liệu chưa in được thẻ",
		"card.step.cancel":           "Hủy hồ sơ",
		"flash.card_cancel":          "Đã hủy hồ sơ cấp thẻ; có thể tiếp nhận hồ sơ mới.",

		"person.action.temporary":   "Đăng ký tạm trú",
		"event.temporary_residence": "Đăng ký tạm trú",

		"marriage.title":           "Đăng ký kết hôn",
		"marriage.lead":            "Ghi nhận hai công dân kết hôn: hồ sơ của mỗi người ghi tên người kia. Nam từ đủ 20 tuổi, nữ từ đủ 18 tuổi; cả hai còn sống và chưa có vợ/chồng.",
		"marriage.submit":          "Đăng ký kết hôn",
		"divorce.title":            "Ghi chú ly hôn",
		"divorce.lead":             "Ghi nhận bản án hoặc quyết định ly hôn đã có hiệu lực: hai người không còn là vợ chồng. Nơi thường trú không đổi; chuyển đi thì đăng ký thường trú nơi mới.",
		"divorce.submit":           "Ghi chú ly hôn",
		"home.task.marriage":       "Ghi nhận kết hôn, có thể nhập hộ của vợ/chồng.",
		"home.task.divorce":        "Ghi nhận ly hôn theo bản án, quyết định của Tòa án.",
		"person.action.marriage":   "Đăng ký kết hôn",
		"person.action.divorce":    "Ghi chú ly hôn",
		"event.marriage":           "Kết hôn",
		"event.divorce":            "Ly hôn",
		"flash.marriage":           "Đã đăng ký kết hôn.",
		"flash.divorce":            "Đã ghi chú ly hôn.",
		"f.spouse_pin":             "Số định danh của người kết hôn cùng",
		"f.marriage_date":          "Ngày đăng ký kết hôn",
		"f.divorce_date":           "Ngày bản án, quyết định ly hôn có hiệu lực",
		"f.join_pin":               "Nhập hộ",
		"join.none":                "Không ai chuyển hộ",
		"join.pin":                 "Công dân được đăng ký nhập hộ của vợ/chồng",
		"join.spouse_pin":          "Vợ/chồng nhập hộ của công dân được đăng ký",
		"hint.marriage.relation":   "Mặc định «Vợ» hoặc «Chồng» khi người kia là chủ hộ; nếu không, nhập quan hệ với chủ hộ.",
		"f.confirm_twin":           "Xác nhận sinh đôi (sinh ba…) với con đã đăng ký cùng ngày sinh",
		"f.confirm_implausible":    "Xác nhận đúng: tuổi của mẹ dưới 14 hoặc trên 60, hoặc sinh cách con trước dưới 9 tháng",
		"birth.confirm":            "Xác nhận trường hợp đặc biệt",
		"hint.birth.confirm":       "Chỉ đánh dấu khi hệ thống báo và giấy tờ xác nhận đúng; hồ sơ sẽ được đánh dấu để cán bộ xem.",
		"person.birth_flags":       "Khai sinh được xác nhận",
		"birthflag.twin":           "sinh đôi",
		"birthflag.mother_age":     "tuổi của mẹ khi sinh",
		"birthflag.birth_interval": "sinh cách con trước dưới 9 tháng",
		"f.from":                   "Tạm trú từ ngày",
		"f.to":                     "Đến ngày",

		"f.q":                     "Số định danh cá nhân hoặc họ tên",
		"hint.q":                  "Có thể gõ không dấu, ví dụ: nguyen van an.",
		"f.birth_date":            "Ngày sinh",
		"hint.birth_date":         "Đủ ngày, tháng, năm: dd/mm/yyyy.",
		"hint.birth_date.find":    "dd/mm/yyyy, hoặc chỉ năm sinh yyyy.",
		"f.commune":               "Xã/phường (mã)",
		"hint.commune":            "Mã 5 chữ số.",
		"f.full_name":             "Họ và tên",
		"hint.full_name":          "Viết có dấu, ví dụ: Nguyễn Thị Mai.",
		"f.sex":                   "Giới tính",
		"f.ethnicity":             "Dân tộc",
		"f.religion":              "Tôn giáo",
		"hint.religion":           "Để trống nếu không theo tôn giáo nào.",
		"f.nationality":           "Quốc tịch",
		"hint.nationality":        "Mã quốc gia 3 chữ cái; VNM là Việt Nam.",
		"f.birthplace_commune":    "Xã/phường nơi sinh (mã)",
		"f.birthplace_detail":     "Nơi sinh chi tiết",
		"hint.birthplace_detail":  "Cơ sở y tế hoặc địa chỉ.",
		"f.mother_pin":            "Số định danh cá nhân của mẹ",
		"f.father_pin":            "Số định danh cá nhân của cha",
		"hint.mother_pin":         "12 chữ số. Cần có số của mẹ hoặc của cha.",
		"hint.father_pin":         "12 chữ số.",
		"hint.birthplace_commune": "Mã 5 chữ số.",
		"f.household_id":          "Mã hộ gia đình",

		"hint.household_id.birth": "Để trống: trẻ vào hộ của mẹ, nếu không có thì hộ của cha.",
		"hint.household_id.move":  "Để trống: lập hộ mới tại địa chỉ dưới đây, người này làm chủ hộ.",

		"f.reason":              "Lý do, giấy tờ làm căn cứ",
		"hint.reason":           "Tối đa 500 ký tự.",
		"f.pin":                 "Số định danh cá nhân",
		"hint.pin":              "12 chữ số.",
		"f.death_date":          "Ngày mất",
		"hint.death_date":       "dd/mm/yyyy; nếu không rõ ngày có thể ghi mm/yyyy hoặc yyyy.",
		"f.new_head_pin":        "Số định danh của chủ hộ mới",
		"hint.new_head_pin":     "Khi người này là chủ hộ của hộ còn thành viên khác. Để trống: vợ/chồng trong hộ, nếu không thì thành viên thành niên lớn tuổi nhất làm chủ hộ.",
		"f.date":                "Ngày đăng ký thường trú",
		"hint.date":             "dd/mm/yyyy.",
		"f.commune_code":        "Xã/phường nơi đến (mã)",
		"hint.commune_code":     "Mã 5 chữ số; chỉ cần khi lập hộ mới.",
		"f.address_detail":      "Địa chỉ chi tiết",
		"hint.address_detail":   "Số nhà, đường phố, thôn, tổ dân phố.",
		"f.relation_to_head":    "Quan hệ với chủ hộ",
		"hint.relation_to_head": "Chỉ cần khi nhập vào hộ đã có, ví dụ: Con, Vợ, Cháu.",
		"f.username":            "Tên đăng nhập",
		"f.password":            "Mật khẩu",

		"arrival.legend":           "Căn cứ công dân đến địa bàn",
		"arrival.lead":             "Chỉ cần khi công dân chưa cư trú tại địa bàn bạn quản lý: nhập mã hồ sơ công dân đã tự nộp (đăng nhập bằng định danh điện tử), hoặc đọc mã QR trên thẻ căn cước của công dân có mặt tại bộ phận một cửa.",
		"f.arrival_application":    "Mã hồ sơ đề nghị của công dân",
		"hint.arrival_application": "Mã công dân nhận được khi nộp đề nghị trên Cổng dịch vụ.",
		"f.card_qr":                "Nội dung mã QR trên thẻ căn cước",
		"hint.card_qr":             "Quét mã QR mặt sau thẻ bằng máy đọc tại quầy; thẻ phải còn hiệu lực và đúng của công dân này.",

		"nav.departures":   "Chuyển đi",
		"departures.title": "Công dân chuyển đi khỏi địa bàn",
		"departures.lead":  "Những người đã đăng ký thường trú nơi khác: hồ sơ của họ nay do nơi đến quản lý, nên bạn không còn mở được; danh sách này cho biết ai đã chuyển, ngày nào và đến đâu. Mỗi lần xem được ghi nhật ký.",
		"departures.none":  "Chưa có công dân nào chuyển đi khỏi địa bàn.",
		"departures.left":  "Nơi đi",
		"departures.to":    "Nơi đến",

		"err.summary":             "Vui lòng kiểm tra lại",
		"err.prefix":              "Lỗi:",
		"err.back_home":           "Về trang chủ",
		"err.notfound.title":      "Không tìm thấy",
		"err.page_notfound.title": "Không tìm thấy trang",
		"err.page_notfound.text":  "Trang bạn tìm không tồn tại.",
		"err.forbidden.title":     "Không có quyền truy cập",
		"err.invalid.title":       "Yêu cầu không hợp lệ",
		"err.internal.title":      "Lỗi hệ thống",
		"err.internal.text":       "Lỗi hệ thống, vui lòng thử lại sau.",
		"err.csrf.title":          "Yêu cầu bị từ chối",
		"err.csrf.text":           "Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang và gửi lại.",
		"err.badform":             "Không đọc được dữ liệu biểu mẫu.",
	},
	page.EN: {
		"app.name":    "Dân cư",
		"app.tagline": "National population database",
		"app.footer":  "For authorised staff only. Every lookup is logged.",

		"lang.other":      "Tiếng Việt",
		"lang.other.code": "vi",

		"nav.skip":   "Skip to main content",
		"nav.label":  "Main functions",
		"nav.home":   "Home",
		"nav.search": "Find a person",
		"nav.birth":  "Birth",
		"nav.death":  "Death",
		"nav.move":   "New residence",
		"nav.logout": "Sign out",

		// Data cleaning (reconciliation of partners' datasets).
		"nav.reconcile":               "Data cleaning",
		"recon.title":                 "Partners' data cleaning",
		"recon.lead":                  "Progress of partners' datasets reconciled against the national population register.",
		"recon.partners":              "Progress by partner (latest job)",
		"recon.jobs":                  "Jobs",
		"recon.none":                  "No reconciliation job yet.",
		"recon.col.partner":           "Partner",
		"recon.col.progress":          "Cleaning progress",
		"recon.col.state":             "State",
		"recon.col.file":              "File",
		"recon.col.created":           "Sent at",
		"recon.col.read":              "Rows read",
		"recon.col.matched":           "Matched",
		"recon.col.ambiguous":         "To review",
		"recon.col.not_found":         "Not found",
		"recon.col.errors":            "Bad rows",
		"recon.col.duplicates":        "Duplicates",
		"recon.col.decided":           "Decided",
		"recon.col.same_person":       "Same person",
		"recon.col.report":            "Report",
		"recon.report.download":       "Download report",
		"recon.report.note":           "Each identification number in a downloaded report is written to the citizen's access log under your name.",
		"recon.col.row":               "Row",
		"recon.col.partner_name":      "Name (partner's)",
		"recon.col.partner_birth":     "Birth date (partner's)",
		"recon.col.candidates":        "Candidates",
		"recon.state.queued":          "Queued",
		"recon.state.running":         "Running",
		"recon.state.done":            "Done",
		"recon.state.failed":          "Failed",
		"recon.state.uploading":       "Uploading",
		"recon.state.cancelled":       "Cancelled",
		"recon.queue.title":           "Rows to review",
		"recon.queue.lead":            "Partners' rows that fit several people, with a candidate in your unit.",
		"recon.queue.link":            "Rows to review",
		"recon.queue.empty":           "No row to review in your unit.",
		"recon.review.title":          "Review a row",
		"recon.review.lead":           "Compare the partner's data with the candidates and choose the right person, or \"None of them\".",
		"recon.review.open":           "Review",
		"recon.review.partner_record": "The partner's data",
		"recon.review.card":           "Card number",
		"recon.review.address":        "Address",
		"recon.review.choose":         "Candidates",
		"recon.review.confidence":     "Confidence",
		"recon.review.out_of_scope":   "A candidate outside your unit.",
		"recon.review.none":           "None of them",
		"recon.review.submit":         "Save the decision",
		"recon.review.decided":        "Decided by",
		"recon.flash.decided":         "Decision saved.",
		"recon.flash.uploaded":        "File received; the partner's job is queued.",
		"recon.flash.cancelled":       "Job cancelled; the partner's file and the open review items were removed.",
		"recon.flash.deleted":         "Job deleted with everything it held.",
		"recon.col.manage":            "Manage",
		"recon.cancel":                "Cancel",
		"recon.delete":                "Delete…",
		"recon.delete.warning":        "Deletes the job for good: the partner's file, each row's result, the report and the review decisions. This cannot be undone.",
		"recon.delete.confirm":        "Delete for good",
		"recon.upload.title":          "Upload a file on a partner's behalf",
		"recon.upload.lead":           "When a partner hands over its data file (on a disk, say), an administrator uploads it here. The job belongs to the partner as if it had sent the file through the API, and the upload is logged under your name.",
		"recon.upload.partner":        "Partner",
		"recon.upload.partner.choose": "— Choose a partner —",
		"recon.upload.purpose":        "Purpose of processing",
		"recon.upload.purpose.choose": "— Choose a purpose —",
		"recon.upload.purpose_hint":   "A law-based purpose of the chosen partner's policy; the report says only what the policy allows, and each citizen it names sees this purpose in their access log.",
		"recon.upload.encoding":       "Encoding",
		"recon.upload.format":         "Format",
		"recon.upload.delimiter":      "Delimiter (CSV)",
		"recon.upload.auto":           "Detect",
		"recon.upload.delim.comma":    "Comma ,",
		"recon.upload.delim.semi":     "Semicolon ;",
		"recon.upload.delim.tab":      "Tab",
		"recon.upload.delim.pipe":     "Vertical bar |",
		"recon.upload.file":           "Data file",
		"recon.upload.file_hint":      "CSV or JSON Lines, up to 4 GB, with a name column and one of the PIN, card number or birth date columns.",
		"recon.upload.submit":         "Upload and reconcile",
		"recon.upload.no_partner":     "No partner is allowed to reconcile data yet.",

		"role.registrar": "Registrar",
		"role.leader":    "Leader",
		"role.admin":     "Administrator",
		"role.system":    "System",
		"unit.national":  "Whole country",

		"login.title":   "Sign in",
		"login.lead":    "Sign in with your staff account.",
		"login.submit":  "Sign in",
		"login.expired": "Your session has expired; sign in again.",

		"home.title":       "Home",
		"home.whoami":      "Signed in as",
		"home.name":        "Full name",
		"home.username":    "Username",
		"home.role":        "Role",
		"home.unit":        "Administrative unit",
		"home.search":      "Quick search",
		"home.tasks":       "Registrations",
		"home.task.birth":  "Allocate an identification number to a newborn and add them to a household.",
		"home.task.death":  "Record a person's death, choosing a new household head if needed.",
		"home.task.move":   "Move a person's permanent residence into your unit.",
		"home.readonly":    "Your account can only look records up.",
		"search.title":     "Find a person",
		"search.submit":    "Search",
		"search.results":   "Results",
		"search.none":      "No matching person found.",
		"search.next":      "Next page",
		"person.title":     "Person",
		"person.actions":   "Actions",
		"person.record":    "Record in the national population database",
		"person.pin":       "Personal identification number",
		"person.full_name": "Full name",

		"person.other_names":  "Other names",
		"person.birth_date":   "Date of birth",
		"person.sex":          "Sex",
		"person.ethnicity":    "Ethnic group",
		"person.religion":     "Religion",
		"person.nationality":  "Nationality",
		"person.birthplace":   "Place of birth",
		"person.hometown":     "Home town",
		"person.permanent":    "Permanent residence",
		"person.since":        "since",
		"person.temporary":    "Temporary residence",
		"person.status":       "Status",
		"person.death_date":   "died",
		"person.relation":     "Relation to head",
		"person.father":       "Father",
		"person.mother":       "Mother",
		"person.spouse":       "Spouse",
		"person.version":      "Version",
		"person.household":    "Household",
		"person.no_household": "Not in any household.",
		"person.residences":   "Residence history",
		"person.current":      "Current",
		"person.events":       "Life events",
		"person.no_events":    "No event registered in the system yet.",
		"person.history":      "Change history",

		"person.action.death": "Register death",
		"person.action.move":  "Register new permanent residence",
		"person.action.birth": "Register a child's birth",

		"household.title":   "Household",
		"household.id":      "Household ID",
		"household.address": "Address",
		"household.head":    "Head",
		"household.created": "Created in the system",
		"household.members": "Household members",

		"col.pin":        "ID number",
		"col.name":       "Full name",
		"col.birth_date": "Date of birth",
		"col.sex":        "Sex",
		"col.address":    "Permanent residence",
		"col.status":     "Status",
		"col.relation":   "Relation to head",
		"col.kind":       "Kind",
		"col.from":       "From",
		"col.to":         "To",
		"col.event":      "Event",
		"col.effective":  "Effective",
		"col.recorded":   "Recorded",
		"col.by":         "By",
		"col.reason":     "Reason",
		"col.version":    "Version",
		"col.at":         "At",

		"status.alive":  "Alive",
		"status.dead":   "Dead",
		"sex.M":         "Male",
		"sex.F":         "Female",
		"res.permanent": "Permanent",
		"res.temporary": "Temporary",
		"event.birth":   "Birth",
		"event.death":   "Death",
		"event.move":    "New permanent residence",

		"event.name_change": "Change of name",
		"religion.none":     "None",
		"nation.VNM":        "Viet Nam",

		"form.required_note": "Fields marked * are required.",
		"form.cancel":        "Cancel",
		"form.subject":       "Person being registered",
		"form.head_notice":   "This person heads a household with other members: choose a new head.",

		"birth.title":   "Register a birth",
		"birth.lead":    "Registers a newborn: the system allocates an identification number and adds the child to a household.",
		"birth.child":   "The child",
		"birth.place":   "Place of birth",
		"birth.parents": "Parents and household",
		"birth.submit":  "Register birth",
		"death.title":   "Register a death",
		"death.lead":    "Records a person's death. The record is kept with the status «Dead».",
		"death.submit":  "Register death",
		"move.title":    "Register a new permanent residence",
		"move.lead":     "Moves a person's permanent residence into an existing household, or starts a new one.",

		"move.destination": "New permanent residence",
		"move.submit":      "Register residence",

		"flash.birth": "Birth registered. Personal identification number:",
		"flash.death": "Death registered.",
		"flash.move":  "New permanent residence registered.",

		"temporary.title":  "Register a temporary residence",
		"temporary.lead":   "Records a place of stay outside the commune of permanent residence, for at most two years at a time.",
		"temporary.place":  "Place of stay",
		"temporary.submit": "Register temporary residence",
		"flash.temporary":  "Temporary residence registered.",

		// Organisation accounts of the electronic ID (orgs.go).
		"org.title":            "Register an organisation",
		"org.lead":             "Registers the electronic ID account of a company or an agency with its legal representative, after checking the registration certificate. The representative must hold a level-2 electronic ID; they delegate staff in the citizen portal.",
		"org.kind.company":     "Company (tax code)",
		"org.kind.agency":      "Agency or unit (budget unit code)",
		"org.submit":           "Register the organisation",
		"home.task.org":        "Companies, agencies and their legal representatives.",
		"flash.org":            "Registered the organisation with code",
		"f.kind":               "Kind of organisation",
		"f.code":               "Tax code or unit code",
		"hint.code":            "Company: 10 digits (branch: add -NNN). Agency: 7 digits.",
		"f.name":               "Name of the organisation",
		"f.representative_pin": "Personal identification number of the legal representative",

		// Identity cards.
		"nav.verify":              "Check a card",
		"card.section":            "Identity card",
		"card.title":              "Identity card",
		"card.serial":             "Card serial",
		"card.number":             "Card number (PIN)",
		"card.issue_date":         "Issued",
		"card.expiry_date":        "Valid until",
		"card.lifetime":           "No expiry",
		"card.none":               "This person has no identity card in the system.",
		"card.history":            "Card history",
		"card.facts":              "Card details",
		"card.signer":             "Document signer certificate",
		"card.print":              "Printed and chip data",
		"card.mrz":                "Machine-readable zone (MRZ)",
		"card.qr":                 "QR code on the back",
		"card.qr_alt":             "The card's QR code",
		"card.download":           "Download chip data (JSON)",
		"card.images":             "Card images (sample, synthetic data)",
		"card.images_note":        "The images are marked \"MẪU – DỮ LIỆU TỔNG HỢP\" (sample) and cannot stand for a card. Each download is logged as a read of the person's record.",
		"card.front":              "Front (PNG)",
		"card.back":               "Back (PNG)",
		"card.preview_pdf":        "PDF preview (actual size)",
		"card.not_produced":       "The card is not produced yet: no chip data, MRZ or QR code.",
		"card.status.applied":     "Application taken",
		"card.status.approved":    "Approved",
		"card.status.produced":    "Produced",
		"card.status.handed_over": "Handed over",
		"card.status.lost":        "Reported lost",
		"card.status.revoked":     "Revoked",
		"card.status.replaced":    "Replaced",
		"card.reason.death":       "The holder died",
		"card.reason.loss":        "Card lost",
		"card.reason.replacement": "Replacement",
		"card.step.apply":         "Take a card application",
		"card.step.approve":       "Approve",
		"card.step.produce":       "Produce the card",
		"card.step.hand-over":     "Hand the card over",
		"card.step.report-lost":   "Report lost",
		"card.step.reissue":       "Reissue",
		"card.step.revoke":        "Revoke",
		"flash.card_apply":        "Card application taken.",
		"flash.card_approve":      "Card application approved.",
		"flash.card_produce":      "Card produced: the chip is signed.",
		"flash.card_hand_over":    "Card handed over.",
		"flash.card_report_lost":  "Card reported lost.",
		"flash.card_reissue":      "Reissue application taken.",
		"flash.card_revoke":       "Card revoked.",
		"verify.title":            "Check an identity card",
		"verify.lead":             "Paste the text read from the QR code or choose a chip dump file to check the digital signatures, revocation and the register.",
		"verify.qr":               "QR text",
		"verify.qr_hint":          "Form: ID number|old ID|full name|birth date|sex|permanent address|issue date.",
		"verify.chip":             "Chip dump file",
		"verify.chip_hint":        "A JSON file with data_groups and sod, like the one downloaded from the card page.",
		"verify.submit":           "Check",
		"verify.ok":               "The card is valid",
		"verify.failed":           "The card is not valid",
		"verify.check":            "Check",
		"verify.status.pass":      "Passed",
		"verify.status.fail":      "Failed",
		"verify.status.warn":      "Note",
		"verify.status.skip":      "Skipped",

		// Cancelling an application that cannot be produced (issue 15).
		"card.status.cancelled":      "Application cancelled",
		"card.reason.withdrawn":      "Withdrawn by the applicant",
		"card.reason.not_producible": "Data cannot be put on a card",
		"card.step.cancel":           "Cancel the application",
		"flash.card_cancel":          "Card application cancelled; a new one can be taken.",

		"person.action.temporary":   "Register temporary residence",
		"event.temporary_residence": "Temporary residence",

		"marriage.title":           "Register a marriage",
		"marriage.lead":            "Records that two persons married: each record names the other. Men from 20 full years, women from 18; both alive and unmarried.",
		"marriage.submit":          "Register marriage",
		"divorce.title":            "Record a divorce",
		"divorce.lead":             "Records a divorce judgment or decision in force: the two are no longer spouses. Residence does not change; a move is registered on its own.",
		"divorce.submit":           "Record divorce",
		"home.task.marriage":       "Record a marriage, optionally joining the spouse's household.",
		"home.task.divorce":        "Record a divorce from a court's judgment or decision.",
		"person.action.marriage":   "Register marriage",
		"person.action.divorce":    "Record divorce",
		"event.marriage":           "Marriage",
		"event.divorce":            "Divorce",
		"flash.marriage":           "Marriage registered.",
		"flash.divorce":            "Divorce recorded.",
		"f.spouse_pin":             "Spouse's identification number",
		"f.marriage_date":          "Date of the marriage",
		"f.divorce_date":           "Date the divorce took effect",
		"f.join_pin":               "Joins the household",
		"join.none":                "Nobody moves",
		"join.pin":                 "The person joins the spouse's household",
		"join.spouse_pin":          "The spouse joins the person's household",
		"hint.marriage.relation":   "«Vợ» (wife) or «Chồng» (husband) by default when the other heads the household; otherwise enter the relation to the head.",
		"f.confirm_twin":           "Confirm twins (or more) of a child registered born the same day",
		"f.confirm_implausible":    "Confirm: the mother under 14 or over 60, or a birth less than nine months from a sibling's",
		"birth.confirm":            "Confirm a special case",
		"hint.birth.confirm":       "Tick only when the system asks and the papers confirm it; the record is flagged for staff to see.",
		"person.birth_flags":       "Birth confirmed",
		"birthflag.twin":           "twin",
		"birthflag.mother_age":     "mother's age at the birth",
		"birthflag.birth_interval": "born less than nine months from a sibling",
		"f.from":                   "From",
		"f.to":                     "Until",

		"f.q":                     "Identification number or name",
		"hint.q":                  "Diacritics are optional, e.g. nguyen van an.",
		"f.birth_date":            "Date of birth",
		"hint.birth_date":         "Full date: dd/mm/yyyy.",
		"hint.birth_date.find":    "dd/mm/yyyy, or the year alone: yyyy.",
		"f.commune":               "Commune (code)",
		"hint.commune":            "5 digits.",
		"f.full_name":             "Full name",
		"hint.full_name":          "With diacritics, e.g. Nguyễn Thị Mai.",
		"f.sex":                   "Sex",
		"f.ethnicity":             "Ethnic group",
		"f.religion":              "Religion",
		"hint.religion":           "Leave empty for none.",
		"f.nationality":           "Nationality",
		"hint.nationality":        "3-letter country code; VNM is Viet Nam.",
		"f.birthplace_commune":    "Commune of birth (code)",
		"f.birthplace_detail":     "Place of birth, details",
		"hint.birthplace_detail":  "Health facility or address.",
		"f.mother_pin":            "Mother's identification number",
		"f.father_pin":            "Father's identification number",
		"hint.mother_pin":         "12 digits. The mother's or the father's number is required.",
		"hint.father_pin":         "12 digits.",
		"hint.birthplace_commune": "5 digits.",
		"f.household_id":          "Household ID",

		"hint.household_id.birth": "Leave empty: the child joins the mother's household, else the father's.",
		"hint.household_id.move":  "Leave empty: a new household at the address below, headed by this person.",

		"f.reason":              "Reason, supporting documents",
		"hint.reason":           "At most 500 characters.",
		"f.pin":                 "Personal identification number",
		"hint.pin":              "12 digits.",
		"f.death_date":          "Date of death",
		"hint.death_date":       "dd/mm/yyyy; mm/yyyy or yyyy when the day is unknown.",
		"f.new_head_pin":        "New household head's identification number",
		"hint.new_head_pin":     "When this person heads a household with other members. Empty: the spouse in the household, else the eldest adult member, becomes head.",
		"f.date":                "Date of registration",
		"hint.date":             "dd/mm/yyyy.",
		"f.commune_code":        "Destination commune (code)",
		"hint.commune_code":     "5 digits; only for a new household.",
		"f.address_detail":      "Street address",
		"hint.address_detail":   "House number, street, village or residential group.",
		"f.relation_to_head":    "Relation to head",
		"hint.relation_to_head": "Only when joining an existing household, e.g. Con (child), Vợ (wife).",
		"f.username":            "Username",
		"f.password":            "Password",

		"arrival.legend":           "Evidence that the person has arrived",
		"arrival.lead":             "Only when the person does not yet live in your unit: enter the id of the application the citizen filed (signed in with the e-ID), or read the QR code of the identity card of the citizen at the desk.",
		"f.arrival_application":    "Citizen's application id",
		"hint.arrival_application": "The id the citizen received when filing the application on the portal.",
		"f.card_qr":                "Text of the identity card's QR code",
		"hint.card_qr":             "Scan the QR code on the back of the card with the desk's reader; the card must be valid and this person's.",

		"nav.departures":   "Departures",
		"departures.title": "People who moved out of your unit",
		"departures.lead":  "People whose permanent residence was registered elsewhere: their record is now the destination's, so you can no longer open it; this list says who left, when and where to. Every view is logged.",
		"departures.none":  "Nobody has moved out of your unit yet.",
		"departures.left":  "Left",
		"departures.to":    "Moved to",

		"err.summary":             "Please check the following",
		"err.prefix":              "Error:",
		"err.back_home":           "Back to home",
		"err.notfound.title":      "Not found",
		"err.page_notfound.title": "Page not found",
		"err.page_notfound.text":  "The page you asked for does not exist.",
		"err.forbidden.title":     "Access refused",
		"err.invalid.title":       "Invalid request",
		"err.internal.title":      "System error",
		"err.internal.text":       "Internal error, please try again later.",
		"err.csrf.title":          "Request refused",
		"err.csrf.text":           "The form has expired or is not valid. Reload the page and send it again.",
		"err.badform":             "The form data could not be read.",
	},
}

// relationsEN translates the relations to the head the register records.
var relationsEN = map[string]string{
	"Chủ hộ": "Head", "Vợ": "Wife", "Chồng": "Husband", "Vợ/Chồng": "Spouse", "Con": "Child",
	"Con dâu": "Daughter-in-law", "Con rể": "Son-in-law", "Cháu": "Grandchild", "Cha": "Father",
	"Bố": "Father", "Mẹ": "Mother", "Anh": "Elder brother", "Chị": "Elder sister", "Em": "Younger sibling",
	"Ông": "Grandfather", "Bà": "Grandmother", "Khác": "Other",
}

// relations are offered when a person joins a household.
var relations = []string{"Vợ", "Chồng", "Con", "Con dâu", "Con rể", "Cháu", "Cha", "Mẹ", "Anh", "Chị", "Em", "Ông", "Bà", "Khác"}

// religions are offered on the birth form: none, then the register's
// catalogue, which also checks what the form sends.
var religions = append([]string{"Không"}, registry.Religions()...)

// tr is a message in language l; a missing id shows itself, so it is noticed.
func (u *UI) tr(l, id string) string { return u.msgs.T(l, id) }

// vietnam is the time zone of displayed times (no daylight saving).
var vietnam = time.FixedZone("ICT", 7*3600)

// fieldView is one input of a form as a template draws it.
type fieldView struct {
	ID, Name, Label, Value, Hint, Type string
	Placeholder, List, InputMode       string
	Autocomplete, Size, Class          string
	Describe                           string // ids for aria-describedby
	Required                           bool
	Errors                             []string
	ErrPrefix                          string
}

// funcs are the template functions of language l.
func (u *UI) funcs(l string) template.FuncMap {
	t := func(id string) string { return u.tr(l, id) }
	opt := func(prefix, id string) string { // an optional message: "" when absent
		s, _ := u.msgs.Lookup(l, prefix+id)
		return s
	}
	return template.FuncMap{
		"t":    t,
		"home": func() string { return "/" },
		"date": func(d civildate.Date) string {
			if d.IsZero() {
				return "—"
			}
			return d.Display()
		},
		"when": func(at time.Time) string {
			if at.IsZero() {
				return "—"
			}
			return at.In(vietnam).Format("02/01/2006 15:04")
		},
		"sex":       func(s string) string { return or(opt("sex.", s), s) },
		"status":    func(s string) string { return or(opt("status.", s), s) },
		"birthflag": func(s string) string { return or(opt("birthflag.", s), s) },
		"evkind":    func(s string) string { return or(opt("event.", s), s) },
		"reskind": func(s string) string {
			return or(opt("res.", s), s)
		},
		"nation": func(s string) string { return or(opt("nation.", s), s) },
		"religion": func(s string) string {
			if s == "" {
				return t("religion.none")
			}
			return s
		},
		"ethnic": ethnicName,
		"rel": func(s string) string {
			if l == page.EN {
				if e, ok := relationsEN[s]; ok {
					return e
				}
			}
			return s
		},
		"who": func(id string) string {
			if _, after, ok := strings.Cut(id, ":"); ok {
				return after
			}
			return id
		},
		"field": func(f *form, name string, opts ...string) fieldView {
			fv := fieldView{ID: "f-" + name, Name: name, Label: t("f." + name), Type: "text",
				Hint: opt("hint.", name), ErrPrefix: t("err.prefix")}
			if f != nil {
				fv.Value = f.Get(name)
				fv.Errors = f.Errors(name)
			}
			for _, o := range opts {
				k, v, _ := strings.Cut(o, "=")
				switch k {
				case "req":
					fv.Required = true
				case "num":
					fv.InputMode = "numeric"
				case "type":
					fv.Type = v
				case "ph":
					fv.Placeholder = v
				case "list":
					fv.List = v
				case "ac":
					fv.Autocomplete = v
				case "size":
					fv.Size = v
				case "class":
					fv.Class = v
				case "hint":
					fv.Hint = t(v)
				default:
					panic(fmt.Sprintf("ui: unknown field option %q", o))
				}
			}
			if fv.Type == "password" {
				fv.Value = "" // never sent back
			}
			var ids []string
			if fv.Hint != "" {
				ids = append(ids, fv.ID+"-hint")
			}
			for i := range fv.Errors {
				ids = append(ids, fmt.Sprintf("%s-error-%d", fv.ID, i))
			}
			fv.Describe = strings.Join(ids, " ")
			return fv
		},
	}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
