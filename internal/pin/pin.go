// Package pin holds the 12-digit personal identification number (số định danh
// cá nhân): its legal structure PPP G YY RRRRRR (Decree 137/2015/NĐ-CP,
// Circular 07/2016/TT-BCA), a validator that says what is wrong with a
// malformed number, and the serial permutation used to allocate new numbers.
package pin

import (
	"strconv"

	"github.com/dancu-project/dancu/internal/fault"
)

// PIN is a validated personal identification number.
type PIN string

// Sex as stored in the register: 'M' (Nam) or 'F' (Nữ).
const (
	Male   byte = 'M'
	Female byte = 'F'
)

// MaxSerial is the largest 6-digit serial; serials run 000001–999999.
const MaxSerial = 999999

// Faults returned by Parse and Check. Their codes are part of the API.
var (
	ErrLength   = fault.New(fault.Invalid, "pin.length", "Số định danh cá nhân phải gồm đúng 12 chữ số.", "A personal identification number has exactly 12 digits.")
	ErrDigits   = fault.New(fault.Invalid, "pin.not_digits", "Số định danh cá nhân chỉ được chứa chữ số.", "A personal identification number contains digits only.")
	ErrProvince = fault.New(fault.Invalid, "pin.province", "Ba chữ số đầu không phải mã tỉnh nơi đăng ký khai sinh hợp lệ.", "The first three digits are not a valid birth-registration province code.")
	ErrCentury  = fault.New(fault.Invalid, "pin.century_sex", "Chữ số thứ tư (thế kỷ và giới tính) không hợp lệ.", "The fourth digit (century and sex) is not valid.")
	ErrSerial   = fault.New(fault.Invalid, "pin.serial", "Sáu chữ số cuối không được là 000000.", "The last six digits cannot be 000000.")
	ErrMismatch = fault.New(fault.Invalid, "pin.mismatch", "Số định danh không khớp với năm sinh hoặc giới tính.", "The number does not match the birth year or sex.")
	ErrYear     = fault.New(fault.Invalid, "pin.birth_year", "Năm sinh nằm ngoài khoảng 1900–2199 mà số định danh biểu diễn được.", "The birth year is outside 1900–2199, which the number can represent.")
)

// Parse validates s and returns it as a PIN, or a fault saying what is wrong.
// Spaces are not tolerated: a PIN is typed as 12 digits.
func Parse(s string) (PIN, error) {
	if len(s) != 12 {
		return "", ErrLength.WithField("pin")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", ErrDigits.WithField("pin")
		}
	}
	if _, ok := provinceNames[s[:3]]; !ok {
		return "", ErrProvince.WithField("pin")
	}
	if s[3] > '5' {
		// 6–9 would continue the scheme past 2199; the law has not said so.
		return "", ErrCentury.WithField("pin")
	}
	if s[6:] == "000000" {
		return "", ErrSerial.WithField("pin")
	}
	return PIN(s), nil
}

// Check reports whether p agrees with a birth year and sex from the register.
func (p PIN) Check(birthYear int, sex byte) error {
	if p.BirthYear() != birthYear || p.Sex() != sex {
		return ErrMismatch.WithField("pin")
	}
	return nil
}

// Province is the 3-digit birth-registration province code.
func (p PIN) Province() string { return string(p[:3]) }

// Sex is 'M' or 'F' from the century-and-sex digit.
func (p PIN) Sex() byte {
	if (p[3]-'0')%2 == 0 {
		return Male
	}
	return Female
}

// BirthYear is the full birth year: century from the fourth digit plus YY.
func (p PIN) BirthYear() int {
	g := int(p[3] - '0')
	yy, _ := strconv.Atoi(string(p[4:6]))
	return 1900 + (g/2)*100 + yy
}

// Serial is the 6-digit serial.
func (p PIN) Serial() int {
	n, _ := strconv.Atoi(string(p[6:]))
	return n
}

// String returns the 12 digits.
func (p PIN) String() string { return string(p) }

// Prefix is the first six digits PPPGYY, the space a serial is drawn from.
func Prefix(province string, birthYear int, sex byte) (string, error) {
	if _, ok := provinceNames[province]; !ok {
		return "", ErrProvince.WithField("province")
	}
	if birthYear < 1900 || birthYear > 2199 {
		return "", ErrYear.WithField("birth_date")
	}
	g := (birthYear - 1900) / 100 * 2
	if sex == Female {
		g++
	} else if sex != Male {
		return "", ErrCentury.WithField("sex")
	}
	b := make([]byte, 0, 6)
	b = append(b, province...)
	b = append(b, byte('0'+g), byte('0'+birthYear%100/10), byte('0'+birthYear%10))
	return string(b), nil
}

// FromSerial builds the PIN for a prefix and a serial in 1..MaxSerial.
func FromSerial(prefix string, serial int) PIN {
	b := make([]byte, 12)
	copy(b, prefix)
	for i := 11; i >= 6; i-- {
		b[i] = byte('0' + serial%10)
		serial /= 10
	}
	return PIN(b)
}

// Scramble maps the n-th allocation (0-based) under a prefix to a serial in
// 1..MaxSerial. It is a bijection on 0..MaxSerial-1, so counters give unique
// numbers while the serials do not reveal registration order. The multiplier is
// prime and does not divide 999999 = 3³·7·11·13·37; the offset varies by prefix.
func Scramble(prefix string, n int) int {
	const mult = 524287
	off := 0
	for i := 0; i < len(prefix); i++ {
		off = (off*31 + int(prefix[i])) % MaxSerial
	}
	return (n%MaxSerial*mult+off)%MaxSerial + 1
}

// ProvinceName names the birth-registration province of a 3-digit code, or "".
func ProvinceName(code string) string { return provinceNames[code] }

// ProvinceCodes lists the 63 birth-registration province codes in order.
func ProvinceCodes() []string {
	out := make([]string, 0, len(provinceNames))
	for i := 0; i < 1000; i++ {
		c := strconv.Itoa(1000 + i)[1:]
		if _, ok := provinceNames[c]; ok {
			out = append(out, c)
		}
	}
	return out
}

// provinceNames is Circular 07/2016/TT-BCA Appendix 1: "0" + the two-digit
// statistical code of the 63 provinces before the 2025 merger. Numbers issued
// before the merger keep these codes for life, so all 63 remain valid.
var provinceNames = map[string]string{
	"001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
	"010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
	"017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
	"025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
	"033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
	"038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
	"046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
	"054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
	"064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng", "070": "Bình Phước",
	"072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa–Vũng Tàu", "079": "TP Hồ Chí Minh",
	"080": "Long An", "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long",
	"087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ", "093": "Hậu Giang",
	"094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}
