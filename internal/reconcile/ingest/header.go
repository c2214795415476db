package ingest

import (
	"strings"

	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/fold"
)

// Fields a row may carry, by their canonical names (the snake_case names of
// match.Record's fields).
const (
	FieldRef        = "ref"
	FieldPIN        = "pin"
	FieldCardNumber = "card_number"
	FieldFullName   = "full_name"
	FieldBirthDate  = "birth_date"
	FieldSex        = "sex"
	FieldAddress    = "address"
	FieldCommune    = "commune"
)

// aliases maps a column name, folded (no diacritics, lower case, runs of
// anything but letters and digits turned into one "_"), to its field.
// Partners name columns in Vietnamese with or without diacritics, or in
// English.
var aliases = map[string]string{
	"ma": FieldRef, "ma_ban_ghi": FieldRef, "ma_ho_so": FieldRef, "ma_khach_hang": FieldRef, "ma_kh": FieldRef,
	"ref": FieldRef, "reference": FieldRef, "id": FieldRef, "record_id": FieldRef, "customer_id": FieldRef,

	"so_dinh_danh": FieldPIN, "so_dinh_danh_ca_nhan": FieldPIN, "ma_dinh_danh": FieldPIN, "so_ddcn": FieldPIN,
	"pin": FieldPIN, "personal_id": FieldPIN, "personal_identification_number": FieldPIN, "id_number": FieldPIN,

	"so_the": FieldCardNumber, "so_the_can_cuoc": FieldCardNumber, "so_cccd": FieldCardNumber, "cccd": FieldCardNumber,
	"so_cmnd": FieldCardNumber, "cmnd": FieldCardNumber, "so_cmnd_cccd": FieldCardNumber, "card_number": FieldCardNumber,
	"card_no": FieldCardNumber, "id_card": FieldCardNumber, "id_card_number": FieldCardNumber,

	"ho_ten": FieldFullName, "ho_va_ten": FieldFullName, "hoten": FieldFullName, "ho_ten_khai_sinh": FieldFullName,
	"ten": FieldFullName, "full_name": FieldFullName, "fullname": FieldFullName, "name": FieldFullName,

	"ngay_sinh": FieldBirthDate, "ngay_thang_nam_sinh": FieldBirthDate, "ngaysinh": FieldBirthDate,
	"birth_date": FieldBirthDate, "date_of_birth": FieldBirthDate, "dob": FieldBirthDate, "birthdate": FieldBirthDate,

	"gioi_tinh": FieldSex, "gioitinh": FieldSex, "sex": FieldSex, "gender": FieldSex,

	"dia_chi": FieldAddress, "dia_chi_thuong_tru": FieldAddress, "noi_thuong_tru": FieldAddress, "noi_o": FieldAddress,
	"noi_o_hien_tai": FieldAddress, "address": FieldAddress, "permanent_address": FieldAddress,

	"ma_xa": FieldCommune, "ma_phuong_xa": FieldCommune, "ma_xa_phuong": FieldCommune, "commune": FieldCommune,
	"commune_code": FieldCommune, "ward_code": FieldCommune,
}

// FieldOf returns the field a column name stands for, or "".
func FieldOf(column string) string {
	return aliases[columnKey(column)]
}

func columnKey(s string) string {
	f := fold.String(s)
	var b strings.Builder
	under := true
	for _, r := range f {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			under = false
		} else if !under {
			b.WriteByte('_')
			under = true
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}

// Header faults.
var (
	ErrMissingColumns = fault.New(fault.Invalid, "reconcile.file.missing_columns",
		"Thiếu cột bắt buộc: cần cột họ tên (ho_ten / Họ và tên / full_name) và ít nhất một trong các cột số định danh (so_dinh_danh / pin), số thẻ (so_the / card_number) hoặc ngày sinh (ngay_sinh / birth_date).",
		"Required columns are missing: a name column (ho_ten / Họ và tên / full_name) and at least one of identification number (so_dinh_danh / pin), card number (so_the / card_number) or birth date (ngay_sinh / birth_date).")
	ErrDuplicateColumn = fault.New(fault.Invalid, "reconcile.file.duplicate_column",
		"Hai cột cùng chỉ một trường (ví dụ ho_ten và full_name); hãy giữ lại một cột.",
		"Two columns stand for the same field (for example ho_ten and full_name); keep one.")
)

// checkFields enforces the required columns on the set of fields present.
func checkFields(has func(string) bool) error {
	if !has(FieldFullName) || !(has(FieldPIN) || has(FieldCardNumber) || has(FieldBirthDate)) {
		var missing []string
		if !has(FieldFullName) {
			missing = append(missing, FieldFullName)
		}
		if !(has(FieldPIN) || has(FieldCardNumber) || has(FieldBirthDate)) {
			missing = append(missing, FieldPIN+"|"+FieldCardNumber+"|"+FieldBirthDate)
		}
		return ErrMissingColumns.WithField(strings.Join(missing, ","))
	}
	return nil
}
