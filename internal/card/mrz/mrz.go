// Package mrz writes and reads the machine-readable zone of the identity card:
// ICAO Doc 9303 Part 5 TD1, three lines of 30 characters.
//
//	line 1: ID VNM <document number: last 9 digits of the PIN> <check>
//	        <optional data: the full 12-digit PIN> << <check of the PIN>
//	line 2: <birth YYMMDD><check> <sex> <expiry YYMMDD><check> VNM
//	        <filler ×11> <composite check>
//	line 3: SURNAME<<GIVEN<NAMES without diacritics
//
// The last character of line 1 is not defined by ICAO (positions 16–30 are
// optional data). On Vietnamese cards it is a check digit over the optional
// data: for the published sample "IDVNM0930470641001093047064<<2" the ICAO
// 7-3-1 check digit of "001093047064<<" is 2. We write it the same way and
// verify it, but name it separately in errors, since it is a national
// convention inferred from samples (DOMAIN.md marks it UNVERIFIED).
//
// Cards without expiry (issued at 58 or over) have no expiry date. ICAO 9303
// Part 3 allows a data element that is not used to be filled with '<'; we
// write "<<<<<<" and the check digit '<' (a filler field has value 0 in the
// check-digit arithmetic, so '0' is also accepted when reading). What
// Vietnamese lifetime cards print here is UNVERIFIED.
package mrz

import (
	"strings"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/fold"
	"github.com/dancu-project/dancu/internal/pin"
)

// Line is the length of a TD1 line; a TD1 MRZ has three.
const Line = 30

// Data is what the card's MRZ carries.
type Data struct {
	PIN    pin.PIN        // the document number is its last 9 digits
	Birth  civildate.Date // full date of birth
	Sex    byte           // 'M', 'F' or '<' (unspecified)
	Expiry civildate.Date // zero for a card without expiry
	Name   string         // full name, Vietnamese order: surname first
}

// Faults returned by Format and Parse. Their codes are part of the API.
var (
	ErrShape          = fault.New(fault.Invalid, "card.mrz.shape", "MRZ phải gồm 3 dòng, mỗi dòng 30 ký tự.", "An MRZ has 3 lines of 30 characters.")
	ErrCharset        = fault.New(fault.Invalid, "card.mrz.charset", "MRZ chỉ được chứa A–Z, 0–9 và <.", "An MRZ contains only A–Z, 0–9 and <.")
	ErrDocCode        = fault.New(fault.Invalid, "card.mrz.document_code", "Mã loại giấy tờ phải là ID.", "The document code must be ID.")
	ErrState          = fault.New(fault.Invalid, "card.mrz.issuing_state", "Quốc gia cấp phải là VNM.", "The issuing state must be VNM.")
	ErrNationality    = fault.New(fault.Invalid, "card.mrz.nationality", "Quốc tịch phải là VNM.", "The nationality must be VNM.")
	ErrDocNumber      = fault.New(fault.Invalid, "card.mrz.document_number", "Số giấy tờ phải là 9 chữ số cuối của số định danh.", "The document number must be the last 9 digits of the PIN.")
	ErrDocCheck       = fault.New(fault.Invalid, "card.mrz.document_check", "Chữ số kiểm tra của số giấy tờ sai.", "The document number check digit is wrong.")
	ErrOptionalCheck  = fault.New(fault.Invalid, "card.mrz.optional_check", "Chữ số kiểm tra của số định danh (cuối dòng 1) sai.", "The check digit of the PIN (end of line 1) is wrong.")
	ErrPIN            = fault.New(fault.Invalid, "card.mrz.pin", "Số định danh trong MRZ không hợp lệ.", "The PIN in the MRZ is not valid.")
	ErrBirth          = fault.New(fault.Invalid, "card.mrz.birth", "Ngày sinh trong MRZ không hợp lệ hoặc không khớp số định danh.", "The date of birth in the MRZ is not valid or does not match the PIN.")
	ErrBirthCheck     = fault.New(fault.Invalid, "card.mrz.birth_check", "Chữ số kiểm tra của ngày sinh sai.", "The date of birth check digit is wrong.")
	ErrSex            = fault.New(fault.Invalid, "card.mrz.sex", "Giới tính trong MRZ phải là M, F hoặc <.", "The sex in the MRZ must be M, F or <.")
	ErrExpiry         = fault.New(fault.Invalid, "card.mrz.expiry", "Ngày hết hạn trong MRZ không hợp lệ.", "The expiry date in the MRZ is not valid.")
	ErrExpiryCheck    = fault.New(fault.Invalid, "card.mrz.expiry_check", "Chữ số kiểm tra của ngày hết hạn sai.", "The expiry date check digit is wrong.")
	ErrCompositeCheck = fault.New(fault.Invalid, "card.mrz.composite_check", "Chữ số kiểm tra tổng hợp (cuối dòng 2) sai.", "The composite check digit (end of line 2) is wrong.")
	ErrFiller         = fault.New(fault.Invalid, "card.mrz.filler", "Vùng đệm của MRZ chứa ký tự khác <.", "A filler area of the MRZ holds something other than <.")
	ErrName           = fault.New(fault.Invalid, "card.mrz.name", "Họ tên không biểu diễn được trong MRZ.", "The name cannot be written in the MRZ.")
)

// value is the ICAO 9303 Part 3 §4.9 value of an MRZ character, or -1.
func value(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	case c == '<':
		return 0
	}
	return -1
}

// CheckDigit is the ICAO 9303 check digit of s (weights 7, 3, 1 repeating,
// sum modulo 10). s must hold only MRZ characters.
func CheckDigit(s string) byte {
	w := [3]int{7, 3, 1}
	sum := 0
	for i := 0; i < len(s); i++ {
		sum += value(s[i]) * w[i%3]
	}
	return byte('0' + sum%10)
}

// Transliterate makes the MRZ name field: surname (the first word of a
// Vietnamese name) << given names joined by <, diacritics removed (đ→D),
// anything else that is not A–Z turned into <, cut to 30 characters.
func Transliterate(name string) (string, error) {
	words := strings.Fields(strings.ToUpper(fold.String(name)))
	var clean []string
	for _, w := range words {
		b := make([]byte, 0, len(w))
		for i := 0; i < len(w); i++ {
			c := w[i]
			if c >= 'A' && c <= 'Z' {
				b = append(b, c)
			} else if c == '-' || c == '\'' || c >= 0x80 {
				// Hyphens and apostrophes separate name parts; a letter
				// fold could not reduce to A–Z has no MRZ form.
				if len(b) > 0 && b[len(b)-1] != '<' {
					b = append(b, '<')
				}
			}
		}
		if s := strings.Trim(string(b), "<"); s != "" {
			clean = append(clean, s)
		}
	}
	if len(clean) == 0 {
		return "", ErrName
	}
	s := clean[0] + "<<" + strings.Join(clean[1:], "<")
	if len(s) > Line {
		s = s[:Line]
	}
	return s + strings.Repeat("<", Line-len(s)), nil
}

// Format writes the three lines joined by "\n".
func Format(d Data) (string, error) {
	if _, err := pin.Parse(string(d.PIN)); err != nil {
		return "", ErrPIN.WithField("mrz.pin").Wrap(err)
	}
	if d.Birth.Partial() || d.Birth.Valid() != nil {
		return "", ErrBirth.WithField("mrz.birth")
	}
	if d.Sex != 'M' && d.Sex != 'F' && d.Sex != '<' {
		return "", ErrSex.WithField("mrz.sex")
	}
	expiry := "<<<<<<"
	expiryCheck := byte('<')
	if !d.Expiry.IsZero() {
		if d.Expiry.Partial() || d.Expiry.Valid() != nil || d.Expiry.Year < 2000 || d.Expiry.Year > 2099 {
			return "", ErrExpiry.WithField("mrz.expiry")
		}
		expiry = yymmdd(d.Expiry)
		expiryCheck = CheckDigit(expiry)
	}
	name, err := Transliterate(d.Name)
	if err != nil {
		return "", ErrName.WithField("mrz.name")
	}
	p := string(d.PIN)
	doc := p[3:]
	opt := p + "<<"
	l1 := "IDVNM" + doc + string(CheckDigit(doc)) + opt + string(CheckDigit(opt))
	birth := yymmdd(d.Birth)
	l2 := birth + string(CheckDigit(birth)) + string(d.Sex) + expiry + string(expiryCheck) + "VNM" + strings.Repeat("<", 11)
	l2 += string(composite(l1, l2))
	return l1 + "\n" + l2 + "\n" + name, nil
}

// composite is the TD1 composite check digit (Part 5 §4.2.2): over line 1
// positions 6–30 and line 2 positions 1–7, 9–15 and 19–29.
func composite(l1, l2 string) byte {
	return CheckDigit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
}

func yymmdd(d civildate.Date) string {
	b := []byte{
		byte('0' + d.Year%100/10), byte('0' + d.Year%10),
		byte('0' + d.Month/10), byte('0' + d.Month%10),
		byte('0' + d.Day/10), byte('0' + d.Day%10),
	}
	return string(b)
}

// Parse reads an MRZ: three lines of 30 separated by line breaks, or the 90
// characters run together. Every check digit is verified and the error names
// the one that failed; the birth century comes from the PIN.
func Parse(s string) (Data, error) {
	var d Data
	s = strings.TrimSpace(s)
	if len(s) > 3*Line+8 {
		return d, ErrShape
	}
	s = strings.NewReplacer("\r", "", "\n", "").Replace(s)
	if len(s) != 3*Line {
		return d, ErrShape
	}
	for i := 0; i < len(s); i++ {
		if value(s[i]) < 0 {
			return d, ErrCharset
		}
	}
	l1, l2, l3 := s[:Line], s[Line:2*Line], s[2*Line:]
	if l1[0:2] != "ID" {
		return d, ErrDocCode
	}
	if l1[2:5] != "VNM" {
		return d, ErrState
	}
	doc, opt := l1[5:14], l1[15:29]
	if l1[14] != CheckDigit(doc) {
		return d, ErrDocCheck
	}
	if l1[29] != CheckDigit(opt) {
		return d, ErrOptionalCheck
	}
	if opt[12:] != "<<" {
		return d, ErrFiller
	}
	p, err := pin.Parse(opt[:12])
	if err != nil {
		return d, ErrPIN.WithField("mrz.pin").Wrap(err)
	}
	if p[3:] != pin.PIN(doc) {
		return d, ErrDocNumber
	}
	d.PIN = p
	birth := l2[0:6]
	if l2[6] != CheckDigit(birth) {
		return d, ErrBirthCheck
	}
	century := p.BirthYear() / 100 * 100
	if d.Birth, err = readDate(birth, century); err != nil || d.Birth.Year != p.BirthYear() {
		return d, ErrBirth
	}
	switch l2[7] {
	case 'M', 'F', '<':
		d.Sex = l2[7]
	default:
		return d, ErrSex
	}
	expiry := l2[8:14]
	if expiry == "<<<<<<" {
		if l2[14] != '<' && l2[14] != '0' {
			return d, ErrExpiryCheck
		}
	} else {
		if l2[14] != CheckDigit(expiry) {
			return d, ErrExpiryCheck
		}
		if d.Expiry, err = readDate(expiry, 2000); err != nil {
			return d, ErrExpiry
		}
	}
	if l2[15:18] != "VNM" {
		return d, ErrNationality
	}
	if l2[18:29] != strings.Repeat("<", 11) {
		return d, ErrFiller
	}
	if l2[29] != composite(l1, l2) {
		return d, ErrCompositeCheck
	}
	sur, given, ok := strings.Cut(strings.TrimRight(l3, "<"), "<<")
	if sur == "" || strings.HasPrefix(sur, "<") {
		return d, ErrName
	}
	d.Name = strings.ReplaceAll(sur, "<", " ")
	if ok {
		if g := strings.ReplaceAll(given, "<", " "); strings.TrimSpace(g) != "" {
			d.Name += " " + strings.Join(strings.Fields(g), " ")
		}
	}
	return d, nil
}

func readDate(s string, century int) (civildate.Date, error) {
	for i := 0; i < 6; i++ {
		if s[i] < '0' || s[i] > '9' {
			return civildate.Date{}, civildate.ErrFormat
		}
	}
	d := civildate.Date{
		Year:  century + int(s[0]-'0')*10 + int(s[1]-'0'),
		Month: int(s[2]-'0')*10 + int(s[3]-'0'),
		Day:   int(s[4]-'0')*10 + int(s[5]-'0'),
	}
	if d.Month == 0 || d.Day == 0 {
		return d, civildate.ErrDay
	}
	return d, d.Valid()
}
