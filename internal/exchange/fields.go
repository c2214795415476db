package exchange

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/dancu-project/dancu/internal/fault"
)

// Field is a piece of register data a lookup can disclose.
type Field struct {
	Name string // in requests, answers, policies and the access log
	Vi   string // shown to the citizen and to administrators
	// Scope is the e-ID consent scope that covers the field ("" when only
	// a law-based purpose can release it).
	Scope string
}

// Fields is the catalogue of disclosable fields, in display order. Sector
// identifiers are fields too: "sector_id.<scheme>".
var Fields = []Field{
	{"pin", "Số định danh cá nhân", "pin"},
	{"full_name", "Họ, chữ đệm và tên", "profile"},
	{"birth_date", "Ngày, tháng, năm sinh", "profile"},
	{"sex", "Giới tính", "profile"},
	{"permanent_address", "Nơi thường trú", "address"},
	{"temporary_address", "Nơi tạm trú", ""},
	{"birthplace", "Nơi đăng ký khai sinh", ""},
	{"hometown", "Quê quán", ""},
	{"ethnicity", "Dân tộc", ""},
	{"nationality", "Quốc tịch", ""},
	{"status", "Tình trạng (còn sống / đã mất)", ""},
	{"death_date", "Ngày mất", ""},
}

// SectorField is the field name of a scheme's identifier.
func SectorField(scheme string) string { return "sector_id." + scheme }

var sectorField = regexp.MustCompile(`^sector_id\.[a-z][a-z0-9_]{1,39}$`)

// FieldName returns the Vietnamese name of a field.
func FieldName(name string) string {
	for _, f := range Fields {
		if f.Name == name {
			return f.Vi
		}
	}
	if strings.HasPrefix(name, "sector_id.") {
		return "Mã định danh ngành (" + strings.TrimPrefix(name, "sector_id.") + ")"
	}
	return name
}

func knownField(name string) bool {
	for _, f := range Fields {
		if f.Name == name {
			return true
		}
	}
	return sectorField.MatchString(name)
}

// consentFields are the fields the scopes of a consent token cover.
func consentFields(scopes []string) []string {
	var out []string
	for _, f := range Fields {
		if f.Scope != "" && slices.Contains(scopes, f.Scope) {
			out = append(out, f.Name)
		}
	}
	return out
}

var purposeCode = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{1,63}$`)

// faultList gathers field faults so a form shows every problem at once.
type faultList fault.List

func (l *faultList) add(field string, base *fault.Error, vi, en string) {
	e := *base
	e.Field, e.Message, e.English = field, vi, en
	*l = append(*l, &e)
}

func (l faultList) err() error { return fault.List(l).Err() }

var staleVersion = fault.ErrStaleVersion

// validate checks a policy and fills defaults (a burst of one second's
// rate).
func (p *Policy) validate() faultList {
	var errs faultList
	for _, op := range p.Operations {
		if !slices.Contains(Operations, op) {
			errs.add("operations", ErrPolicyInvalid, fmt.Sprintf("Thao tác không tồn tại: %q.", op), fmt.Sprintf("Unknown operation %q.", op))
		}
	}
	for _, f := range p.Fields {
		if !knownField(f) {
			errs.add("fields", ErrPolicyInvalid, fmt.Sprintf("Trường dữ liệu không tồn tại: %q.", f), fmt.Sprintf("Unknown field %q.", f))
		}
	}
	seen := map[string]bool{}
	for i, pu := range p.Purposes {
		field := fmt.Sprintf("purposes[%d]", i)
		switch {
		case !purposeCode.MatchString(pu.Code):
			errs.add(field, ErrPolicyInvalid, "Mã mục đích gồm 2–64 chữ thường, chữ số, dấu chấm, gạch dưới hoặc gạch nối.", "A purpose code has 2–64 lower-case letters, digits, dots, underscores or hyphens.")
		case seen[pu.Code]:
			errs.add(field, ErrPolicyInvalid, fmt.Sprintf("Mục đích %q được khai báo hai lần.", pu.Code), fmt.Sprintf("Purpose %q is declared twice.", pu.Code))
		case strings.TrimSpace(pu.Description) == "":
			errs.add(field, ErrPolicyInvalid, fmt.Sprintf("Mục đích %q cần phần mô tả để công dân hiểu.", pu.Code), fmt.Sprintf("Purpose %q needs a description citizens can read.", pu.Code))
		case pu.Basis != BasisConsent && pu.Basis != BasisLaw:
			errs.add(field, ErrPolicyInvalid, "Căn cứ xử lý phải là sự đồng ý (consent) hoặc quy định của luật (law).", "The basis is consent or law.")
		case pu.Basis == BasisLaw && strings.TrimSpace(pu.Citation) == "":
			errs.add(field, ErrPolicyInvalid, fmt.Sprintf("Mục đích %q theo quy định của luật phải nêu điều khoản (ví dụ: Luật Bảo hiểm y tế, Điều 12).", pu.Code), fmt.Sprintf("Law-based purpose %q needs its legal citation.", pu.Code))
		}
		seen[pu.Code] = true
		for _, f := range pu.Fields {
			if !slices.Contains(p.Fields, f) {
				errs.add(field, ErrPolicyInvalid, fmt.Sprintf("Mục đích %q dùng trường %q ngoài danh sách trường được phép.", pu.Code, f), fmt.Sprintf("Purpose %q names field %q outside the policy's fields.", pu.Code, f))
			}
		}
	}
	if s := p.Scope; s != "" && !regexp.MustCompile(`^(\d{2}|\d{5})$`).MatchString(s) {
		errs.add("scope", ErrPolicyInvalid, "Phạm vi là mã tỉnh (2 số) hoặc mã xã (5 số), để trống cho toàn quốc.", "The scope is a 2-digit province or 5-digit commune code, empty for the whole country.")
	}
	// NaN compares false with everything, so "< 0" alone lets it through,
	// and a policy holding it could no longer be written as JSON.
	if math.IsNaN(p.RatePerSecond) || math.IsInf(p.RatePerSecond, 0) || p.RatePerSecond < 0 || p.Burst < 0 || p.DailyQuota < 0 {
		errs.add("rate_per_second", ErrPolicyInvalid, "Giới hạn tốc độ và hạn mức phải là số không âm.", "Limits must be numbers, not negative.")
	}
	if p.VerifyValuesPerPerson < 0 || p.VerifyValuesPerPerson > MaxVerifyValuesPerPerson {
		errs.add("verify_values_per_person", ErrPolicyInvalid, fmt.Sprintf("Số lần đối chiếu giá trị khác nhau cho một người mỗi ngày từ 0 (mặc định %d) đến %d.", DefaultVerifyValuesPerPerson, MaxVerifyValuesPerPerson),
			fmt.Sprintf("Different values verified per person and day: 0 (default %d) to %d.", DefaultVerifyValuesPerPerson, MaxVerifyValuesPerPerson))
	}
	if p.RatePerSecond > 0 && p.Burst == 0 {
		p.Burst = max(1, int(p.RatePerSecond))
	}
	return errs
}
