package exchange

import "github.com/dancu-project/dancu/internal/fault"

// Faults of the exchange. Their codes are part of the partner API: partners
// match on them, so they never change once published.
var (
	ErrPartnerNotFound  = fault.New(fault.NotFound, "partner.not_found", "Không tìm thấy đối tác.", "No such partner.")
	ErrPartnerExists    = fault.New(fault.Conflict, "partner.exists", "Mã đối tác đã tồn tại.", "The partner id is taken.")
	ErrPartnerInvalid   = fault.New(fault.Invalid, "partner.invalid", "Thông tin đối tác không hợp lệ.", "The partner is not valid.")
	ErrPartnerDisabled  = fault.New(fault.Forbidden, "partner.disabled", "Đối tác hoặc hệ thống này đã bị tạm dừng kết nối.", "This partner or system is disabled.")
	ErrSystemNotFound   = fault.New(fault.Unauthenticated, "partner.unknown_system", "Ứng dụng này chưa được đăng ký là hệ thống của đối tác nào.", "This client is not registered as a partner system.")
	ErrCertRequired     = fault.New(fault.Unauthenticated, "partner.certificate_required", "Hệ thống này phải kết nối bằng chứng thư số đã đăng ký (mTLS).", "This system must connect with its registered TLS client certificate.")
	ErrPolicyInvalid    = fault.New(fault.Invalid, "policy.invalid", "Chính sách chia sẻ dữ liệu không hợp lệ.", "The policy is not valid.")
	ErrOperation        = fault.New(fault.Forbidden, "policy.operation_not_allowed", "Chính sách của đối tác không cho phép thao tác này.", "The partner's policy does not allow this operation.")
	ErrField            = fault.New(fault.Forbidden, "policy.field_not_allowed", "Chính sách của đối tác không cho phép đọc trường dữ liệu này.", "The partner's policy does not allow this field.")
	ErrPurpose          = fault.New(fault.Forbidden, "policy.purpose_not_declared", "Mục đích xử lý dữ liệu này chưa được đăng ký trong chính sách của đối tác.", "This purpose is not declared in the partner's policy.")
	ErrPurposeRequired  = fault.New(fault.Invalid, "policy.purpose_required", "Phải nêu mục đích xử lý dữ liệu.", "A purpose is required.")
	ErrOutOfScope       = fault.New(fault.Forbidden, "policy.out_of_scope", "Công dân này không thuộc địa bàn đối tác được phép tra cứu.", "This person is outside the partner's administrative scope.")
	ErrRateLimited      = fault.New(fault.Limited, "policy.rate_limited", "Đối tác gửi quá nhiều yêu cầu; vui lòng thử lại sau.", "Too many requests; retry later.")
	ErrQuotaExhausted   = fault.New(fault.Limited, "policy.quota_exhausted", "Đối tác đã dùng hết hạn mức yêu cầu trong ngày.", "The partner's daily quota is used up.")
	ErrConsentRequired  = fault.New(fault.Forbidden, "consent.required", "Cần sự đồng ý của công dân (mã đồng ý) để đọc các trường dữ liệu này.", "The citizen's consent (a consent token) is needed for these fields.")
	ErrConsentInvalid   = fault.New(fault.Forbidden, "consent.invalid", "Mã đồng ý không hợp lệ, đã hết hạn, bị thu hồi, hoặc không phải của công dân và đối tác này.", "The consent token is invalid, expired, revoked, or not for this citizen and partner.")
	ErrSchemeNotFound   = fault.New(fault.NotFound, "sector_id.unknown_scheme", "Không có loại mã định danh ngành này.", "No such sector identifier scheme.")
	ErrSchemeNotOwner   = fault.New(fault.Forbidden, "sector_id.not_owner", "Chỉ cơ quan quản lý loại mã này mới được ghi liên kết.", "Only the scheme's owning partner may write its links.")
	ErrSectorIDInvalid  = fault.New(fault.Invalid, "sector_id.invalid", "Mã định danh ngành không hợp lệ.", "The sector identifier is not valid.")
	ErrSectorIDTaken    = fault.New(fault.Conflict, "sector_id.taken", "Mã định danh ngành này đã gắn với một công dân khác.", "This sector identifier is linked to another person.")
	ErrSectorIDNotFound = fault.New(fault.NotFound, "sector_id.not_found", "Không tìm thấy liên kết mã định danh ngành.", "No such sector identifier link.")
)
