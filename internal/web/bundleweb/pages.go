package bundleweb

import (
	"errors"
	"io"
	"net/http"

	"github.com/dancu-project/dancu/internal/bundle"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/web/page"
)

var messages = page.Messages{
	page.VI: {
		"app.name": "Dân cư", "app.tagline": "Cổng dịch vụ công", "nav.skip": "Bỏ qua, đến nội dung chính", "lang.other": "English", "lang.other.code": "en",
		"nav.portal": "Trang cá nhân", "nav.bundles": "Hồ sơ liên thông",
		"err.internal.title": "Lỗi hệ thống", "err.internal.text": "Đã có lỗi xảy ra. Vui lòng thử lại sau.",
		"err.forbidden.title": "Không được phép", "err.notfound.title": "Không tìm thấy", "err.invalid.title": "Yêu cầu không hợp lệ",
		"bundles.title": "Hồ sơ liên thông", "bundles.lead": "Một hồ sơ cho nhiều thủ tục của nhiều cơ quan (Nghị định 63/2024/NĐ-CP): khai sinh, đăng ký thường trú và cấp thẻ bảo hiểm y tế cho trẻ; khai tử, xóa đăng ký thường trú và trợ cấp mai táng.",
		"bundles.offers": "Thủ tục đề nghị cho bạn", "bundles.offers.lead": "Cơ sở dữ liệu dân cư vừa ghi nhận một sự kiện liên quan đến bạn. Hồ sơ đã được điền sẵn; không có gì được thực hiện cho đến khi bạn xác nhận.",
		"bundles.mine": "Hồ sơ của bạn", "bundles.none": "Bạn chưa có hồ sơ liên thông nào.", "bundles.new.birth": "Nộp hồ sơ liên thông khai sinh", "bundles.new.death": "Nộp hồ sơ liên thông khai tử",
		"bundle.code": "Mã hồ sơ", "bundle.kind": "Loại", "bundle.status": "Trạng thái", "bundle.due": "Hạn giải quyết", "bundle.filed": "Ngày nộp", "bundle.advice": "Bạn cần làm gì tiếp theo",
		"bundle.steps": "Các bước", "step.agency": "Cơ quan", "step.status": "Trạng thái", "step.due": "Hạn", "step.result": "Kết quả",
		"kind.birth": "Khai sinh – thường trú – thẻ bảo hiểm y tế", "kind.death": "Khai tử – xóa thường trú – trợ cấp mai táng",
		"status.in_progress": "Đang giải quyết", "status.completed": "Hoàn thành", "status.completed_partly": "Hoàn thành một phần", "status.rejected": "Bị từ chối",
		"step.waiting": "Chờ bước trước", "step.running": "Đang xử lý", "step.review": "Chờ cơ quan xem xét", "step.sent": "Đã gửi cơ quan, chờ trả lời", "step.done": "Đã xong", "step.refused": "Không chấp nhận", "step.skipped": "Không thực hiện",
		"stepname.birth": "Đăng ký khai sinh", "stepname.residence": "Đăng ký thường trú", "stepname.insurance": "Cấp thẻ bảo hiểm y tế", "stepname.death": "Đăng ký khai tử", "stepname.household": "Cập nhật hộ gia đình", "stepname.funeral": "Trợ cấp mai táng",
		"role.mother": "Mẹ", "role.father": "Cha", "role.spouse": "Vợ hoặc chồng", "role.head": "Chủ hộ",
		"offer.birth": "Đăng ký thường trú và cấp thẻ bảo hiểm y tế cho trẻ", "offer.death": "Xóa đăng ký thường trú, cập nhật hộ gia đình và trợ cấp mai táng",
		"offer.person": "Người", "offer.date": "Ngày sự kiện", "offer.expires": "Hạn xác nhận", "offer.role": "Bạn là", "offer.confirm": "Xác nhận và nộp hồ sơ",
		"offer.confirmed": "Đã nộp hồ sơ liên thông.",
		"form.relation":   "Bạn là", "form.mother": "Mẹ", "form.father": "Cha", "form.child_name": "Họ, chữ đệm và tên của trẻ", "form.child_birth_date": "Ngày sinh của trẻ (dd/mm/yyyy)",
		"form.child_sex": "Giới tính của trẻ", "form.male": "Nam", "form.female": "Nữ", "form.birthplace": "Nơi sinh", "form.other_parent_pin": "Số định danh của cha hoặc mẹ còn lại (nếu có)",
		"form.head_pin": "Đăng ký thường trú vào hộ khác: số định danh của chủ hộ (để trống nếu ở cùng cha, mẹ)", "form.relation_to_head": "Quan hệ của trẻ với chủ hộ đó",
		"form.certificate": "Giấy chứng sinh của cơ sở y tế (PDF, PNG hoặc JPEG)", "form.submit": "Nộp hồ sơ",
		"form.deceased_pin": "Số định danh của người chết", "form.death_date": "Ngày chết (dd/mm/yyyy)", "form.death_place": "Nơi chết", "form.cause": "Nguyên nhân chết",
		"form.relation_dead": "Quan hệ với người chết", "form.notice": "Giấy báo tử (PDF, PNG hoặc JPEG)",
		"form.errors": "Vui lòng sửa các mục dưới đây.", "filed": "Đã nộp hồ sơ liên thông. Bạn theo dõi từng bước tại đây.",
		"birth.title": "Hồ sơ liên thông khai sinh", "death.title": "Hồ sơ liên thông khai tử", "bundle.title": "Hồ sơ liên thông",
	},
	page.EN: {
		"app.name": "Dân cư", "app.tagline": "Public services portal", "nav.skip": "Skip to the main content", "lang.other": "Tiếng Việt", "lang.other.code": "vi",
		"nav.portal": "My page", "nav.bundles": "Joint applications",
		"err.internal.title": "System error", "err.internal.text": "Something went wrong. Please try again later.",
		"err.forbidden.title": "Not allowed", "err.notfound.title": "Not found", "err.invalid.title": "Invalid request",
		"bundles.title": "Joint applications", "bundles.lead": "One application for the procedures of several agencies (Decree 63/2024): birth registration, permanent residence and the child's health-insurance card; death registration, deletion of permanent residence and the funeral allowance.",
		"bundles.offers": "Procedures offered to you", "bundles.offers.lead": "The population register has just recorded an event that concerns you. The application is filled in; nothing is done until you confirm it.",
		"bundles.mine": "Your applications", "bundles.none": "You have no joint application.", "bundles.new.birth": "File the joint birth application", "bundles.new.death": "File the joint death application",
		"bundle.code": "Code", "bundle.kind": "Kind", "bundle.status": "Status", "bundle.due": "Due", "bundle.filed": "Filed", "bundle.advice": "What to do next",
		"bundle.steps": "Steps", "step.agency": "Agency", "step.status": "Status", "step.due": "Due", "step.result": "Result",
		"kind.birth": "Birth – residence – health-insurance card", "kind.death": "Death – residence deletion – funeral allowance",
		"status.in_progress": "In progress", "status.completed": "Completed", "status.completed_partly": "Partly completed", "status.rejected": "Rejected",
		"step.waiting": "Waiting for the step before", "step.running": "In progress", "step.review": "Under the agency's review", "step.sent": "Sent to the agency, awaiting its answer", "step.done": "Done", "step.refused": "Refused", "step.skipped": "Not done",
		"stepname.birth": "Birth registration", "stepname.residence": "Permanent residence", "stepname.insurance": "Health-insurance card", "stepname.death": "Death registration", "stepname.household": "Household update", "stepname.funeral": "Funeral allowance",
		"role.mother": "Mother", "role.father": "Father", "role.spouse": "Spouse", "role.head": "Household head",
		"offer.birth": "Permanent residence and health-insurance card for the child", "offer.death": "Deletion of permanent residence, household update and funeral allowance",
		"offer.person": "Person", "offer.date": "Date of the event", "offer.expires": "Confirm by", "offer.role": "You are", "offer.confirm": "Confirm and file",
		"offer.confirmed": "The joint application was filed.",
		"form.relation":   "You are", "form.mother": "Mother", "form.father": "Father", "form.child_name": "Child's full name", "form.child_birth_date": "Child's date of birth (dd/mm/yyyy)",
		"form.child_sex": "Child's sex", "form.male": "Male", "form.female": "Female", "form.birthplace": "Place of birth", "form.other_parent_pin": "The other parent's PIN (if any)",
		"form.head_pin": "Register in another household: the head's PIN (leave empty to live with the parents)", "form.relation_to_head": "The child's relation to that head",
		"form.certificate": "The hospital's birth certificate (PDF, PNG or JPEG)", "form.submit": "File",
		"form.deceased_pin": "The deceased's PIN", "form.death_date": "Date of death (dd/mm/yyyy)", "form.death_place": "Place of death", "form.cause": "Cause of death",
		"form.relation_dead": "Relation to the deceased", "form.notice": "Death notice (PDF, PNG or JPEG)",
		"form.errors": "Please correct the fields below.", "filed": "The joint application was filed. Follow each step here.",
		"birth.title": "Joint birth application", "death.title": "Joint death application", "bundle.title": "Joint application",
	},
}

type listPage struct {
	Offers  []bundle.Offer
	Bundles []bundle.Bundle
}

func (h *Handler) listPage(w http.ResponseWriter, r *http.Request, s eid.Session) {
	h.renderList(w, r, s, "")
}

func (h *Handler) renderList(w http.ResponseWriter, r *http.Request, s eid.Session, flash string) {
	os, err := h.d.Bundles.Offers(r.Context(), s.PIN)
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	bs, err := h.d.Bundles.Mine(r.Context(), s.PIN)
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	v := h.newView(r, &s, "bundles.title")
	v.Flash, v.Page = flash, listPage{Offers: os, Bundles: bs}
	h.kit.Render(w, r, http.StatusOK, v.Lang, "list.html", v)
}

func (h *Handler) onePage(w http.ResponseWriter, r *http.Request, s eid.Session) {
	b, err := h.d.Bundles.Get(r.Context(), s.PIN, r.PathValue("code"))
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	v := h.newView(r, &s, "bundle.title")
	if r.URL.Query().Get("filed") == "1" {
		v.Flash = h.kit.Messages.T(v.Lang, "filed")
	}
	v.Page = b
	h.kit.Render(w, r, http.StatusOK, v.Lang, "bundle.html", v)
}

func (h *Handler) confirmPage(w http.ResponseWriter, r *http.Request, s eid.Session) {
	b, err := h.d.Bundles.Confirm(r.Context(), filer(s), r.PathValue("id"))
	if err != nil {
		h.kit.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/citizen/bundles/"+b.Code+"?filed=1", http.StatusSeeOther)
}

// formPage is a filing form with its values and field errors.
type formPage struct {
	Key    string
	Values map[string]string
	Errors map[string]string
}

func (h *Handler) birthPage(w http.ResponseWriter, r *http.Request, s eid.Session) {
	h.renderForm(w, r, s, http.StatusOK, "birth", formPage{Key: page.NewToken()[:32], Values: map[string]string{"relation": "mother"}}, "")
}

func (h *Handler) deathPage(w http.ResponseWriter, r *http.Request, s eid.Session) {
	h.renderForm(w, r, s, http.StatusOK, "death", formPage{Key: page.NewToken()[:32], Values: map[string]string{}}, "")
}

func (h *Handler) renderForm(w http.ResponseWriter, r *http.Request, s eid.Session, status int, kind string, f formPage, msg string) {
	v := h.newView(r, &s, kind+".title")
	v.Page, v.Error = f, msg
	h.kit.Render(w, r, status, v.Lang, kind+".html", v)
}

func readFile(r *http.Request, field string) ([]byte, string) {
	f, hdr, err := r.FormFile(field)
	if err != nil {
		return nil, ""
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxUpload))
	if err != nil {
		return nil, ""
	}
	return b, hdr.Filename
}

func (h *Handler) birthSubmit(w http.ResponseWriter, r *http.Request, s eid.Session) {
	vals := map[string]string{}
	for _, k := range []string{"relation", "child_name", "child_birth_date", "child_sex", "birthplace", "other_parent_pin", "head_pin", "relation_to_head"} {
		vals[k] = r.PostFormValue(k)
	}
	cert, name := readFile(r, "birth_certificate")
	b, err := h.d.Bundles.FileBirth(r.Context(), filer(s), bundle.BirthForm{Relation: vals["relation"], ChildName: vals["child_name"], ChildBirthDate: vals["child_birth_date"],
		ChildSex: vals["child_sex"], Birthplace: vals["birthplace"], OtherParentPIN: vals["other_parent_pin"], HeadPIN: vals["head_pin"], Relation2Head: vals["relation_to_head"],
		Certificate: cert, CertificateName: name, IdempotencyKey: r.PostFormValue("key")})
	h.afterFiling(w, r, s, "birth", vals, b, err)
}

func (h *Handler) deathSubmit(w http.ResponseWriter, r *http.Request, s eid.Session) {
	vals := map[string]string{}
	for _, k := range []string{"deceased_pin", "death_date", "death_place", "cause", "relation"} {
		vals[k] = r.PostFormValue(k)
	}
	notice, name := readFile(r, "death_notice")
	b, err := h.d.Bundles.FileDeath(r.Context(), filer(s), bundle.DeathForm{DeceasedPIN: vals["deceased_pin"], DeathDate: vals["death_date"], DeathPlace: vals["death_place"],
		Cause: vals["cause"], Relation: vals["relation"], Notice: notice, NoticeName: name, IdempotencyKey: r.PostFormValue("key")})
	h.afterFiling(w, r, s, "death", vals, b, err)
}

// afterFiling shows the bundle, or the form again with each field's
// fault in the page's language.
func (h *Handler) afterFiling(w http.ResponseWriter, r *http.Request, s eid.Session, kind string, vals map[string]string, b bundle.Bundle, err error) {
	if err == nil {
		http.Redirect(w, r, "/citizen/bundles/"+b.Code+"?filed=1", http.StatusSeeOther)
		return
	}
	var l fault.List
	f := fault.As(err)
	if !errors.As(err, &l) && (f.Kind != fault.Invalid || f.Field == "") {
		h.kit.Fail(w, r, err)
		return
	}
	if len(l) == 0 {
		l = fault.List{f}
	}
	lang := page.Lang(r)
	fp := formPage{Key: r.PostFormValue("key"), Values: vals, Errors: map[string]string{}}
	for _, e := range l {
		fp.Errors[e.Field] = page.FaultText(lang, e)
	}
	h.renderForm(w, r, s, http.StatusUnprocessableEntity, kind, fp, h.kit.Messages.T(lang, "form.errors"))
}
