package verify

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/dancu-project/dancu/internal/card/lds"
	"github.com/dancu-project/dancu/internal/card/mrz"
	"github.com/dancu-project/dancu/internal/card/qr"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/fold"
)

func faultVI(err error) string { return fault.As(err).Message }
func faultEN(err error) string { return fault.As(err).English }

// Field names used in Fields. A source fills only what it carries.
const (
	FieldPIN     = "pin"
	FieldOldID   = "old_id"
	FieldName    = "name"
	FieldBirth   = "birth"   // ISO yyyy-mm-dd
	FieldSex     = "sex"     // "M" or "F"
	FieldAddress = "address" // permanent address
	FieldIssue   = "issue"   // ISO
	FieldExpiry  = "expiry"  // ISO, or empty for a lifetime card
)

// fieldNames are the Vietnamese labels of the fields, for messages.
var fieldNames = map[string][2]string{
	FieldPIN: {"Số định danh", "PIN"}, FieldOldID: {"Số CMND", "Old ID number"}, FieldName: {"Họ và tên", "Full name"},
	FieldBirth: {"Ngày sinh", "Date of birth"}, FieldSex: {"Giới tính", "Sex"}, FieldAddress: {"Nơi thường trú", "Address"},
	FieldIssue: {"Ngày cấp", "Issue date"}, FieldExpiry: {"Ngày hết hạn", "Expiry date"},
}

// Fields are comparable values from one source (card or register).
type Fields map[string]string

// Diff is one field that differs.
type Diff struct {
	Field string
	Card  string
	Reg   string
	// OnlyDiacritics is true when the values agree once diacritics and case
	// are removed: expected for the MRZ, a typo risk elsewhere.
	OnlyDiacritics bool
}

// Compare reports the fields present in both card and register whose values
// differ after trimming, NFC normalisation and collapsing spaces, in field
// name order.
func Compare(card, register Fields) []Diff {
	var out []Diff
	for k, cv := range card {
		rv, ok := register[k]
		if !ok {
			continue
		}
		a, b := clean(cv), clean(rv)
		if a == b {
			continue
		}
		out = append(out, Diff{Field: k, Card: cv, Reg: rv, OnlyDiacritics: fold.String(a) == fold.String(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

func clean(s string) string { return strings.Join(strings.Fields(norm.NFC.String(s)), " ") }

// FromDG13 takes the comparable fields of DG13.
func FromDG13(d lds.DG13Data) Fields {
	f := Fields{FieldPIN: d.PIN, FieldName: d.FullName, FieldAddress: d.Address, FieldOldID: d.OldID}
	if b, err := civildate.Parse(d.Birth); err == nil {
		f[FieldBirth] = b.String()
	} else {
		f[FieldBirth] = d.Birth
	}
	if b, err := civildate.Parse(d.Issue); err == nil {
		f[FieldIssue] = b.String()
	}
	if b, err := civildate.Parse(d.Expiry); err == nil {
		f[FieldExpiry] = b.String()
	} else {
		f[FieldExpiry] = "" // "Không thời hạn"
	}
	switch fold.String(d.Sex) {
	case "nam":
		f[FieldSex] = "M"
	case "nu":
		f[FieldSex] = "F"
	default:
		f[FieldSex] = d.Sex
	}
	return f
}

// FromMRZ takes the comparable fields of the MRZ. Its name has no
// diacritics, so a name diff from the MRZ is normally OnlyDiacritics.
func FromMRZ(d mrz.Data) Fields {
	f := Fields{FieldPIN: string(d.PIN), FieldName: d.Name, FieldBirth: d.Birth.String(), FieldSex: string(d.Sex)}
	f[FieldExpiry] = d.Expiry.String()
	return f
}

// FromQR takes the comparable fields of a QR payload.
func FromQR(p qr.Payload) Fields {
	return Fields{FieldPIN: string(p.PIN), FieldOldID: p.OldID, FieldName: p.Name, FieldBirth: p.Birth.String(),
		FieldSex: string(p.Sex), FieldAddress: p.Address, FieldIssue: p.Issue.String()}
}

// AddComparison appends one check per differing field (code "compare.<field>")
// or a single pass, to a Result from Passive or QR.
func (r *Result) AddComparison(diffs []Diff) {
	if len(diffs) == 0 {
		r.add("compare", Pass, "Dữ liệu trên thẻ khớp với CSDL.", "The card data matches the register.")
		return
	}
	for _, d := range diffs {
		n := fieldNames[d.Field]
		if n[0] == "" {
			n = [2]string{d.Field, d.Field}
		}
		st := Fail
		vi, en := "khác với CSDL", "differs from the register"
		if d.OnlyDiacritics {
			st = Warn
			vi, en = "chỉ khác dấu hoặc chữ hoa/thường so với CSDL", "differs from the register only in diacritics or case"
		}
		r.add("compare."+d.Field, st, fmt.Sprintf("%s %s (thẻ: %q, CSDL: %q).", n[0], vi, d.Card, d.Reg),
			fmt.Sprintf("%s %s (card: %q, register: %q).", n[1], en, d.Card, d.Reg))
	}
}

// QR checks a scanned QR payload against the register. The QR carries no
// signature, so the result always says that it proves nothing about the
// card's authenticity: only the chip (Passive) does.
func QR(payload string, register Fields) *Result {
	r := &Result{}
	r.add("qr.unsigned", Warn, "Mã QR không có chữ ký số: chỉ đối chiếu dữ liệu, không chứng minh thẻ là thật.",
		"The QR code is not signed: this only compares data and does not prove the card genuine.")
	p, err := qr.Parse(payload)
	if err != nil {
		r.add("qr.parse", Fail, "Không đọc được mã QR: "+faultVI(err), "The QR payload cannot be read: "+faultEN(err))
		return r
	}
	r.PIN = string(p.PIN)
	r.add("qr.parse", Pass, "Đọc được mã QR.", "The QR payload was read.")
	r.AddComparison(Compare(FromQR(p), register))
	return r
}
