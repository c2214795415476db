// Package qr reads and writes the text payload of the QR code printed on the
// back of the identity card (DOMAIN.md §2):
//
//	PIN|old ID number|full name|ddmmyyyy birth|sex|address|ddmmyyyy issue
//
// A date of birth that is partly unknown in the register (a year only, or a
// month and year) keeps the eight digits, with "00" for the unknown day or
// month: "00001948", "00031952". Fixed-width readers still find every field,
// and "00" is the interoperable mark of an unknown month or day that ICAO
// 9303-10 gives for the chip's dates (DG11); the card's printed date and
// DG13 show "1948" and "03/1952". What real cards put in the QR for such a
// date is UNVERIFIED.
//
// The QR is not signed: reading it proves nothing about the card's
// authenticity, it only saves typing. Parse is tolerant of the 6-field variant
// that some tools produce (no old ID number) and of spaces around fields.
package qr

import (
	"strconv"
	"strings"
	"unicode/utf8"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/fold"
	"github.com/dancu-project/dancu/internal/pin"
)

// Payload is the content of the card's QR code.
type Payload struct {
	PIN     pin.PIN        // 12-digit personal identification number
	OldID   string         // 9- or 12-digit CMND, often empty
	Name    string         // full name with diacritics, as printed
	Birth   civildate.Date // date of birth, possibly partial (see the package doc)
	Sex     byte           // pin.Male or pin.Female
	Address string         // permanent address (nơi thường trú / nơi cư trú)
	Issue   civildate.Date // issue date of the card
}

// MaxLen caps the payload read by Parse; a real payload is under 300 bytes
// and a version-40 QR code holds under 3 KB.
const MaxLen = 2048

// Faults returned by Parse, Format and Encode. Their codes are part of the API.
var (
	ErrTooLong    = fault.New(fault.Invalid, "card.qr.too_long", "Nội dung mã QR quá dài.", "The QR payload is too long.")
	ErrEncoding   = fault.New(fault.Invalid, "card.qr.encoding", "Nội dung mã QR không phải văn bản UTF-8 hợp lệ.", "The QR payload is not valid UTF-8 text.")
	ErrFieldCount = fault.New(fault.Invalid, "card.qr.field_count", "Mã QR phải có 7 trường (hoặc 6) ngăn cách bởi dấu |.", "The QR payload must have 7 (or 6) fields separated by |.")
	ErrPIN        = fault.New(fault.Invalid, "card.qr.pin", "Trường 1 (số định danh cá nhân) không hợp lệ.", "Field 1 (personal identification number) is not valid.")
	ErrOldID      = fault.New(fault.Invalid, "card.qr.old_id", "Trường 2 (số CMND cũ) phải trống hoặc gồm 9 hoặc 12 chữ số.", "Field 2 (old ID number) must be empty or 9 or 12 digits.")
	ErrName       = fault.New(fault.Invalid, "card.qr.name", "Trường 3 (họ và tên) không được trống.", "Field 3 (full name) cannot be empty.")
	ErrBirth      = fault.New(fault.Invalid, "card.qr.birth", "Trường 4 (ngày sinh) phải là ngày hợp lệ dạng ddmmyyyy.", "Field 4 (date of birth) must be a valid date as ddmmyyyy.")
	ErrSex        = fault.New(fault.Invalid, "card.qr.sex", "Trường 5 (giới tính) phải là Nam hoặc Nữ.", "Field 5 (sex) must be Nam or Nữ.")
	ErrAddress    = fault.New(fault.Invalid, "card.qr.address", "Trường 6 (nơi thường trú) không được trống.", "Field 6 (address) cannot be empty.")
	ErrIssue      = fault.New(fault.Invalid, "card.qr.issue", "Trường 7 (ngày cấp) phải là ngày hợp lệ dạng ddmmyyyy.", "Field 7 (issue date) must be a valid date as ddmmyyyy.")
	ErrSeparator  = fault.New(fault.Invalid, "card.qr.separator", "Một trường chứa ký tự | hoặc xuống dòng, không thể mã hóa.", "A field contains | or a line break and cannot be encoded.")
	ErrRender     = fault.New(fault.Internal, "card.qr.render", "Không tạo được ảnh mã QR.", "Could not render the QR image.")
)

// Parse reads a QR payload. It accepts 7 fields, or 6 when the old ID number
// field is missing, each trimmed of spaces; the error names the first field
// that is wrong.
func Parse(s string) (Payload, error) {
	var p Payload
	if len(s) > MaxLen {
		return p, ErrTooLong
	}
	if !utf8.ValidString(s) {
		return p, ErrEncoding
	}
	// Scanners often append a line break; a BOM is seen from some phone apps.
	s = strings.TrimPrefix(strings.TrimSpace(s), "\uFEFF")
	f := strings.Split(s, "|")
	switch len(f) {
	case 7:
	case 6:
		f = append(f[:1], append([]string{""}, f[1:]...)...)
	default:
		return p, ErrFieldCount
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	id, err := pin.Parse(f[0])
	if err != nil {
		return p, ErrPIN.WithField("qr.pin").Wrap(err)
	}
	p.PIN = id
	if !oldID(f[1]) {
		return p, ErrOldID.WithField("qr.old_id")
	}
	p.OldID = f[1]
	if f[2] == "" {
		return p, ErrName.WithField("qr.name")
	}
	p.Name = f[2]
	if p.Birth, err = date(f[3], true); err != nil {
		return p, ErrBirth.WithField("qr.birth").Wrap(err)
	}
	switch fold.String(f[4]) {
	case "nam", "m", "male":
		p.Sex = pin.Male
	case "nu", "f", "female":
		p.Sex = pin.Female
	default:
		return p, ErrSex.WithField("qr.sex")
	}
	if f[5] == "" {
		return p, ErrAddress.WithField("qr.address")
	}
	p.Address = f[5]
	if p.Issue, err = date(f[6], false); err != nil {
		return p, ErrIssue.WithField("qr.issue").Wrap(err)
	}
	return p, nil
}

// date reads exactly ddmmyyyy (the other forms civildate accepts would hide
// a misread). With partial, "00" marks an unknown day ("00mmyyyy") or an
// unknown day and month ("0000yyyy").
func date(s string, partial bool) (civildate.Date, error) {
	if len(s) != 8 {
		return civildate.Date{}, civildate.ErrFormat
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return civildate.Date{}, civildate.ErrFormat
		}
	}
	if partial && s[:2] == "00" {
		if s[2:4] == "00" {
			return civildate.Parse(s[4:])
		}
		return civildate.Parse(s[4:] + "-" + s[2:4])
	}
	return civildate.Parse(s)
}

func oldID(s string) bool {
	if s != "" && len(s) != 9 && len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Validate checks p as Parse would check the text Format makes from it.
func (p Payload) Validate() error {
	if _, err := pin.Parse(string(p.PIN)); err != nil {
		return ErrPIN.WithField("qr.pin").Wrap(err)
	}
	if !oldID(p.OldID) {
		return ErrOldID.WithField("qr.old_id")
	}
	for _, v := range []string{string(p.PIN), p.OldID, p.Name, p.Address} {
		if strings.ContainsAny(v, "|\r\n") {
			return ErrSeparator
		}
		if !utf8.ValidString(v) {
			return ErrEncoding
		}
	}
	if strings.TrimSpace(p.Name) == "" {
		return ErrName.WithField("qr.name")
	}
	if p.Birth.IsZero() || p.Birth.Valid() != nil {
		return ErrBirth.WithField("qr.birth")
	}
	if p.Sex != pin.Male && p.Sex != pin.Female {
		return ErrSex.WithField("qr.sex")
	}
	if strings.TrimSpace(p.Address) == "" {
		return ErrAddress.WithField("qr.address")
	}
	if p.Issue.Partial() || p.Issue.Valid() != nil {
		return ErrIssue.WithField("qr.issue")
	}
	return nil
}

// Format writes the 7-field payload. It returns an error rather than a
// silently altered text when a field cannot be represented (a | inside the
// address, a partial issue date), because a wrong QR would be printed on a
// card.
func Format(p Payload) (string, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	sex := "Nam"
	if p.Sex == pin.Female {
		sex = "Nữ"
	}
	var b strings.Builder
	b.Grow(64 + len(p.Name) + len(p.Address))
	for i, v := range []string{string(p.PIN), p.OldID, strings.TrimSpace(p.Name), ddmmyyyy(p.Birth), sex, strings.TrimSpace(p.Address), ddmmyyyy(p.Issue)} {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// ddmmyyyy writes a date as eight digits, "00" for an unknown day or month.
func ddmmyyyy(d civildate.Date) string {
	two := func(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }
	return two(d.Day) + two(d.Month) + strconv.Itoa(d.Year)
}

// Encode renders the payload as a PNG QR code (error-correction level M,
// 512 px), ready for the card printer.
func Encode(p Payload) ([]byte, error) {
	s, err := Format(p)
	if err != nil {
		return nil, err
	}
	return EncodeText(s, 512)
}

// EncodeText renders any text as a PNG QR code of size pixels
// (error-correction level M): the card's encoder, also used for what the
// desk shows a citizen's phone (an authenticator app's otpauth:// URI).
func EncodeText(text string, size int) ([]byte, error) {
	png, err := qrcode.Encode(text, qrcode.Medium, size)
	if err != nil {
		return nil, ErrRender.Wrap(err)
	}
	return png, nil
}
