package services

import (
	"fmt"
	"github.com/dancu-project/dancu/internal/adminunit"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/pin"
)

// Units says which commune codes exist on the current map
// (*adminunit.Catalog's CommuneProvince).
type Units interface {
	CommuneProvince(code string, on time.Time) (string, error)
	Commune(code string, on time.Time) (adminunit.Unit, error)
	Province(code string, on time.Time) (adminunit.Unit, error)
}

// Limits of a submitted form, whatever the procedure says.
const (
	maxFieldLen  = 500 // a field without MaxLen
	maxFormBytes = 32 << 10
	maxFormKeys  = 100
)

var phoneRE = regexp.MustCompile(`^(\+84|0)[0-9]{9,10}$`)

// ValidateForm checks what the filer declared against the procedure's form
// and merges it with what the register asserts (prefill, by field name).
// A locked field takes the register's value: a declared value that differs
// is refused (form.locked), so the filer learns they cannot change it.
// Every problem is returned at once, each on its field, in Vietnamese with
// an English line. units may be nil (commune codes are then only checked for
// shape); now dates the check.
func ValidateForm(p Procedure, declared, prefill map[string]string, units Units, now time.Time) (map[string]string, error) {
	var l fault.List
	if len(declared) > maxFormKeys {
		l.Add("", ferr("", "form.too_large", "Biểu mẫu có quá nhiều trường.", "The form has too many fields."))
		return nil, l.Err()
	}
	size := 0
	for k, v := range declared {
		size += len(k) + len(v)
		if _, ok := p.Field(k); !ok {
			l.Add(k, ferr(k, "form.unknown_field", fmt.Sprintf("Trường %q không thuộc biểu mẫu.", k), fmt.Sprintf("Field %q is not on the form.", k)))
		}
	}
	if size > maxFormBytes {
		l.Add("", ferr("", "form.too_large", "Biểu mẫu quá lớn.", "The form is too large."))
		return nil, l.Err()
	}
	out := make(map[string]string, len(p.Fields))
	for _, f := range p.Fields {
		v, given := declared[f.Name]
		v = strings.TrimSpace(v)
		if f.Prefill != "" {
			reg := prefill[f.Prefill]
			if f.Locked {
				if given && v != "" && v != reg {
					l.Add(f.Name, ferr(f.Name, "form.locked", f.Label.VI+" do Cơ sở dữ liệu quốc gia về dân cư cung cấp, không được sửa.", f.Label.EN+" comes from the population register and cannot be changed."))
					continue
				}
				v = reg
			} else if !given || v == "" {
				v = reg
			}
		}
		if v == "" {
			if f.Required {
				l.Add(f.Name, ferr(f.Name, "form.required", "Vui lòng nhập "+lower(f.Label.VI)+".", f.Label.EN+" is required."))
			}
			continue
		}
		if err := checkValue(f, v, units, now); err != nil {
			l.Add(f.Name, err)
			continue
		}
		out[f.Name] = v
	}
	// Bounds between dates, once each date is valid on its own.
	for _, f := range p.Fields {
		for _, s := range []*DateSpan{f.MaxDaysAfter, f.MaxMonthsAfter} {
			if s == nil || out[f.Name] == "" || out[s.Field] == "" {
				continue
			}
			to, _ := civildate.Parse(out[f.Name])
			from, _ := civildate.Parse(out[s.Field])
			limit := from.Time().AddDate(0, s.Months, s.Days)
			if to.Time().Before(from.Time()) {
				l.Add(f.Name, ferr(f.Name, "form.date_order", f.Label.VI+" phải sau ngày bắt đầu.", f.Label.EN+" must be after the start date."))
			} else if to.Time().After(limit) {
				l.Add(f.Name, ferr(f.Name, "form.date_span", f.Label.VI+" vượt quá thời hạn cho phép.", f.Label.EN+" is beyond the allowed span."))
			}
		}
	}
	if err := l.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func lower(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

func checkValue(f Field, v string, units Units, now time.Time) *fault.Error {
	bad := func(code, vi, en string) *fault.Error {
		return ferr(f.Name, code, fmt.Sprintf(vi, f.Label.VI), fmt.Sprintf(en, f.Label.EN))
	}
	if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) }) {
		return bad("form.characters", "%s có ký tự không hợp lệ.", "%s holds invalid characters.")
	}
	limit := f.MaxLen
	if limit == 0 {
		limit = maxFieldLen
	}
	if utf8.RuneCountInString(v) > limit {
		return ferr(f.Name, "form.too_long", fmt.Sprintf("%s dài quá %d ký tự.", f.Label.VI, limit), fmt.Sprintf("%s is longer than %d characters.", f.Label.EN, limit))
	}
	switch f.Type {
	case TypeDate:
		d, err := civildate.Parse(v)
		if err != nil || d.Partial() || d.Year < 1900 || d.Year > 2200 {
			return bad("form.date", "%s phải là ngày hợp lệ (năm-tháng-ngày).", "%s must be a valid date (YYYY-MM-DD).")
		}
	case TypeSelect:
		if !slices.Contains(f.Options, v) {
			return bad("form.option", "%s: lựa chọn không hợp lệ.", "%s: not one of the choices.")
		}
	case TypePIN:
		if _, err := pin.Parse(v); err != nil {
			return bad("form.pin", "%s không phải số định danh cá nhân hợp lệ (12 chữ số).", "%s is not a valid 12-digit PIN.")
		}
	case TypeCommune:
		if len(v) != 5 || strings.Trim(v, "0123456789") != "" {
			return bad("form.commune", "%s: mã xã, phường không hợp lệ.", "%s: not a commune code.")
		}
		if units != nil {
			if _, err := units.CommuneProvince(v, now); err != nil {
				return bad("form.commune", "%s: mã xã, phường không hợp lệ.", "%s: not a commune code.")
			}
		}
	case TypePhone:
		if !phoneRE.MatchString(strings.ReplaceAll(v, " ", "")) {
			return bad("form.phone", "%s không phải số điện thoại hợp lệ.", "%s is not a valid phone number.")
		}
	case TypeNumber:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || (f.Min != 0 || f.Max != 0) && (n < f.Min || n > f.Max) {
			return bad("form.number", "%s phải là số trong giới hạn cho phép.", "%s must be a number within bounds.")
		}
	}
	if f.Pattern != "" {
		re, err := regexp.Compile(f.Pattern)
		if err != nil || !re.MatchString(v) {
			return bad("form.pattern", "%s không đúng định dạng.", "%s is not in the expected format.")
		}
	}
	return nil
}

// ferr is an Invalid fault on a field whose Vietnamese and English texts
// are already formatted (each with its own language's label).
func ferr(field, code, vi, en string) *fault.Error {
	return &fault.Error{Kind: fault.Invalid, Code: code, Field: field, Message: vi, English: en}
}
