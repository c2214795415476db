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
// # Dates that are partly unknown or absent
//
// ICAO 9303-3 lets a date of birth be partly unknown: the unknown parts are
// written as filler characters, so a person registered with the year 1948
// only has "48<<<<" and one with March 1952 has "5203<<". The check digit
// is computed as always (§4.9: the filler has the value 0), so "48<<<<"
// has check digit 2 (4×7 + 8×3 = 52).
//
// A lifetime card (issued at 58 or over, Luật Căn cước Art. 21) has no
// expiry date. The field is filled with "<<<<<<" as for any data element not
// used, and its check digit is the one §4.9's arithmetic gives for six
// fillers: "0". We write the digit rather than a filler check character
// because common MRZ readers accept only a digit in a check-digit position
// (a "<" check digit was rejected by an independent reader library), and a
// computed "0" verifies with every reader that implements §4.9. An expiry
// date far in the future instead would be a false statement read by
// machines; what Vietnamese lifetime cards print here is UNVERIFIED. Parse
// accepts "0" and, for cards made before this rule, "<".
//
// # Names
//
// The name follows ICAO 9303-3's conventions for the MRZ: the primary
// identifier (the surname, the first word of a Vietnamese name), two
// fillers, the secondary identifier (middle and given names) with one filler
// between components. Diacritics are removed (Vietnamese "Đ" is "D", as in
// the standard's transliteration table, which also gives ß→SS, Æ→AE, Ø→OE,
// Œ→OE, Þ→TH, Ł→L); apostrophes are omitted (SIU'H → SIUH); hyphens become a
// filler (Ê-ban → E<BAN); other punctuation is omitted. A name longer than the
// 30 positions is truncated as the standard says, the secondary identifier
// first:
//
//  1. middle names are reduced to their initials, first to last, until the
//     name fits (the given name, by which a Vietnamese person is called, is
//     kept whole as long as possible);
//  2. if it still does not fit, the given name is cut and, if need be, the
//     last middle initials dropped, so that the field ends exactly at
//     position 30 with a letter (the standard's sign of a truncated name);
//  3. a surname too long to leave room for one initial is cut to 27
//     characters, followed by "<<" and the initial of the first given name.
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
	Birth  civildate.Date // date of birth; the day, or day and month, may be unknown
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

// Transliterate makes the MRZ name field (line 3, 30 positions) from a full
// name in Vietnamese order, surname first, following the conventions and
// truncation rules in the package documentation.
func Transliterate(name string) (string, error) {
	var parts [][]string // words, each split at hyphens into components
	for _, w := range strings.Fields(name) {
		var comps []string
		for _, c := range strings.FieldsFunc(w, isHyphen) {
			if t := latin(c); t != "" {
				comps = append(comps, t)
			}
		}
		if len(comps) > 0 {
			parts = append(parts, comps)
		}
	}
	if len(parts) == 0 {
		return "", ErrName
	}
	primary := strings.Join(parts[0], "<")
	var secondary []string
	for _, p := range parts[1:] {
		secondary = append(secondary, p...)
	}
	s := fitName(primary, secondary)
	return s + strings.Repeat("<", Line-len(s)), nil
}

// fitName joins primary << secondary, truncating to Line positions: middle
// names to initials, then the given name cut (and the last initials dropped)
// so that a truncated field ends with a letter at position 30, then the
// primary identifier itself.
func fitName(primary string, secondary []string) string {
	join := func(sec []string) string {
		if len(sec) == 0 {
			return primary
		}
		return primary + "<<" + strings.Join(sec, "<")
	}
	if s := join(secondary); len(s) <= Line {
		return s
	}
	if len(secondary) == 0 {
		return primary[:Line] // a surname alone of over 30 letters
	}
	sec := append([]string(nil), secondary...)
	for i := 0; i < len(sec)-1; i++ {
		sec[i] = sec[i][:1]
		if s := join(sec); len(s) <= Line {
			return s
		}
	}
	room := Line - len(primary) - 2 // for "I<I<…<Given"
	if room < 1 {
		return primary[:Line-3] + "<<" + sec[0][:1]
	}
	given := sec[len(sec)-1]
	initials := sec[:len(sec)-1]
	k := len(initials)
	if max := (room - 1) / 2; k > max { // each initial takes 2 positions, the given name at least 1
		k = max
	}
	out := primary + "<<"
	for _, in := range initials[:k] {
		out += in + "<"
	}
	return out + given[:min(len(given), room-2*k)]
}

func isHyphen(r rune) bool {
	return r == '-' || r == '\u2010' || r == '\u2011' || r == '\u2012' || r == '\u2013' || r == '\u2014' || r == '\u2212'
}

// latin transliterates one name component to A–Z: diacritics dropped, the
// ICAO 9303-3 multi-letter forms of a few Latin letters, apostrophes and any
// other character without an MRZ form omitted.
func latin(s string) string {
	var b strings.Builder
	for _, r := range fold.String(s) {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteByte(byte(r - 'a' + 'A'))
		case r >= '0' && r <= '9':
			// Not a letter: a name has none, and a digit would misread.
		default:
			if t, ok := icaoLatin[r]; ok {
				b.WriteString(t)
			}
		}
	}
	return b.String()
}

// icaoLatin are letters that fold leaves as they are and ICAO 9303-3's
// transliteration table writes with other letters.
var icaoLatin = map[rune]string{
	'ß': "SS", 'æ': "AE", 'ø': "OE", 'œ': "OE", 'þ': "TH", 'ł': "L", 'ð': "D",
	'ı': "I", 'ħ': "H", 'ŋ': "N", 'ŧ': "T", 'ŀ': "L", 'ĳ': "IJ",
}

// Format writes the three lines joined by "\n".
func Format(d Data) (string, error) {
	if _, err := pin.Parse(string(d.PIN)); err != nil {
		return "", ErrPIN.WithField("mrz.pin").Wrap(err)
	}
	if d.Birth.IsZero() || d.Birth.Valid() != nil {
		return "", ErrBirth.WithField("mrz.birth")
	}
	if d.Sex != 'M' && d.Sex != 'F' && d.Sex != '<' {
		return "", ErrSex.WithField("mrz.sex")
	}
	expiry := noDate
	expiryCheck := CheckDigit(noDate) // "0": see the package documentation
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

// noDate is a date field that is not used: six fillers.
const noDate = "<<<<<<"

// yymmdd writes a date, an unknown month or day as two fillers.
func yymmdd(d civildate.Date) string {
	b := []byte{byte('0' + d.Year%100/10), byte('0' + d.Year%10), '<', '<', '<', '<'}
	if d.Month > 0 {
		b[2], b[3] = byte('0'+d.Month/10), byte('0'+d.Month%10)
		if d.Day > 0 {
			b[4], b[5] = byte('0'+d.Day/10), byte('0'+d.Day%10)
		}
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
	if d.Birth, err = readDate(birth, century, true); err != nil || d.Birth.Year != p.BirthYear() {
		return d, ErrBirth
	}
	switch l2[7] {
	case 'M', 'F', '<':
		d.Sex = l2[7]
	default:
		return d, ErrSex
	}
	expiry := l2[8:14]
	if expiry == noDate {
		if l2[14] != '0' && l2[14] != '<' { // '<' on cards made before the digit
			return d, ErrExpiryCheck
		}
	} else {
		if l2[14] != CheckDigit(expiry) {
			return d, ErrExpiryCheck
		}
		if d.Expiry, err = readDate(expiry, 2000, false); err != nil {
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
	// The name field holds letters and fillers only (ICAO 9303-3): a digit
	// there is a misread, and Format could never write it back.
	for i := 0; i < len(l3); i++ {
		if c := l3[i]; c != '<' && (c < 'A' || c > 'Z') {
			return d, ErrName
		}
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

// readDate reads YYMMDD in the given century. With partial, an unknown
// day ("YYMM<<") or month and day ("YY<<<<") is accepted as fillers.
func readDate(s string, century int, partial bool) (civildate.Date, error) {
	digits := func(i int) (int, bool) {
		if s[i] < '0' || s[i] > '9' || s[i+1] < '0' || s[i+1] > '9' {
			return 0, false
		}
		return int(s[i]-'0')*10 + int(s[i+1]-'0'), true
	}
	yy, ok := digits(0)
	if !ok {
		return civildate.Date{}, civildate.ErrFormat
	}
	d := civildate.Date{Year: century + yy}
	switch {
	case partial && s[2:] == "<<<<":
		return d, d.Valid()
	case partial && s[4:] == "<<":
		if d.Month, ok = digits(2); !ok || d.Month == 0 {
			return d, civildate.ErrFormat
		}
		return d, d.Valid()
	}
	if d.Month, ok = digits(2); !ok {
		return d, civildate.ErrFormat
	}
	if d.Day, ok = digits(4); !ok {
		return d, civildate.ErrFormat
	}
	if d.Month == 0 || d.Day == 0 {
		return d, civildate.ErrDay
	}
	return d, d.Valid()
}
