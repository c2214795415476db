package match

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fold"
)

// Name is a personal name split into comparable words. Two spellings of the
// same name in any case, composed or decomposed, with the tone mark on
// either vowel ("Hoà"/"Hòa", "Thuý"/"Thúy") have equal Toned words; the
// same name with or without diacritics has equal Folded words.
type Name struct {
	// Toned words: lower case, vowel marks (â ê ô ă ơ ư đ) kept, the tone
	// moved to a digit at the end of the word (1 sắc, 2 huyền, 3 hỏi,
	// 4 ngã, 5 nặng), so its placement on the syllable does not matter.
	Toned []string
	// Folded words: no diacritics at all (fold.String).
	Folded []string
	// Marked reports whether the text carried any Vietnamese diacritic; a
	// partner's "NGUYEN VAN AN" did not.
	Marked bool
}

// Tone marks as NFD combining characters.
const (
	toneAcute = '\u0301' // sắc
	toneGrave = '\u0300' // huyền
	toneHook  = '\u0309' // hỏi
	toneTilde = '\u0303' // ngã
	toneDot   = '\u0323' // nặng
)

// ParseName splits a name into words, dropping punctuation other than the
// apostrophe and hyphen some minority names carry ("H'Hen Niê").
func ParseName(s string) Name {
	if n, ok := parseNameFast(s); ok {
		return n
	}
	return parseNameSlow(s)
}

// parseNameSlow handles any text: decomposed letters, punctuation, other
// scripts, invalid UTF-8.
func parseNameSlow(s string) Name {
	var n Name
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, " ")
	}
	var toned, folded strings.Builder
	flush := func() {
		if folded.Len() > 0 {
			n.Toned = append(n.Toned, toned.String())
			n.Folded = append(n.Folded, folded.String())
		}
		toned.Reset()
		folded.Reset()
	}
	var tone rune
	endWord := func() {
		if tone != 0 {
			toned.WriteByte(toneDigit(tone))
			tone = 0
		}
		flush()
	}
	it := norm.Iter{}
	it.InitString(norm.NFD, s)
	for !it.Done() {
		seg := it.Next()
		for len(seg) > 0 {
			r, size := utf8.DecodeRune(seg)
			seg = seg[size:]
			switch {
			case r == toneAcute || r == toneGrave || r == toneHook || r == toneTilde || r == toneDot:
				if folded.Len() > 0 {
					tone = r
					n.Marked = true
				}
			case unicode.Is(unicode.Mn, r):
				if folded.Len() > 0 {
					toned.WriteRune(r)
					n.Marked = true
				}
			case r == 'đ' || r == 'Đ':
				toned.WriteRune('đ')
				folded.WriteByte('d')
				n.Marked = true
			case unicode.IsLetter(r) || unicode.IsDigit(r) || ((r == '\'' || r == '-' || r == '’') && folded.Len() > 0):
				if r == '’' {
					r = '\''
				}
				r = unicode.ToLower(r)
				toned.WriteRune(r)
				folded.WriteRune(r)
			default: // space or punctuation ends a word
				endWord()
			}
		}
	}
	endWord()
	return n
}

func toneDigit(r rune) byte {
	switch r {
	case toneAcute:
		return '1'
	case toneGrave:
		return '2'
	case toneHook:
		return '3'
	case toneTilde:
		return '4'
	}
	return '5'
}

// Empty reports whether the name has no words.
func (n Name) Empty() bool { return len(n.Folded) == 0 }

// nameLevel is how close a partner's name is to the register's.
type nameLevel uint8

const (
	nameMissing   nameLevel = iota // the partner has no name
	nameExact                      // same words, same diacritics, same order
	nameReordered                  // same words in another order ("An Nguyễn Văn")
	nameUnmarked                   // same letters, the partner has no diacritics
	nameRemarked                   // same letters, other diacritics ("Nguyễn Văn Ân")
	nameSimilar                    // a typo or a missing middle name
	nameDifferent                  // another name
	// nameSlip is nameSimilar where every word the partner wrote
	// differently is a word no name in the register has ("Nâgn",
	// "uHyền"): a slip of the keyboard, not another real name one letter
	// away ("An"/"Anh", "Hùng"/"Dũng"), so far rarer by chance. Only the
	// index, which knows the register's words, tells it apart.
	nameSlip
	nameLevels
)

// compareNames rates partner name a against register name b.
func compareNames(a, b Name) nameLevel {
	switch {
	case a.Empty():
		return nameMissing
	case b.Empty():
		return nameDifferent
	case slices.Equal(a.Toned, b.Toned):
		return nameExact
	case sameFolded(a.Folded, b.Folded):
		if !a.Marked {
			return nameUnmarked
		}
		if sameSet(a.Toned, b.Toned) {
			return nameReordered
		}
		return nameRemarked
	case sameSet(a.Toned, b.Toned):
		return nameReordered
	case similarNames(a.Folded, b.Folded):
		return nameSimilar
	}
	return nameDifferent
}

// sameFolded reports whether the folded words are equal in order or as a set
// (a name written given name first, or surname last).
func sameFolded(a, b []string) bool {
	return slices.Equal(a, b) || sameSet(a, b)
}

// sameSet reports whether a and b hold the same words, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) <= 8 {
		var used [8]bool
	outer:
		for _, w := range a {
			for j, v := range b {
				if !used[j] && v == w {
					used[j] = true
					continue outer
				}
			}
			return false
		}
		return true
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// similarNames reports a typo-level difference: the names as written (or with
// the given name moved back to the end) are within a small edit distance, or
// the partner left out or added a middle name.
func similarNames(a, b []string) bool {
	sa, sb := strings.Join(a, " "), strings.Join(b, " ")
	limit := 1
	if len(sb) >= 10 {
		limit = 2
	}
	if osa(sa, sb, limit) <= limit {
		return true
	}
	if len(a) > 1 { // "An Nguyen Van" → "Nguyen Van An"
		rot := append(slices.Clone(a[1:]), a[0])
		if osa(strings.Join(rot, " "), sb, limit) <= limit {
			return true
		}
	}
	if wordsWithin(a, b) {
		return true
	}
	// Middle names dropped or added: same surname and given name, the
	// shorter list of middle words contained in the longer one.
	if len(a) >= 2 && len(b) >= 2 && a[0] == b[0] && a[len(a)-1] == b[len(b)-1] && len(a) != len(b) {
		short, long := a[1:len(a)-1], b[1:len(b)-1]
		if len(short) > len(long) {
			short, long = long, short
		}
		for _, w := range short {
			if !slices.Contains(long, w) {
				return false
			}
		}
		return true
	}
	return false
}

// wordsWithin reports whether a and b have the same number of words that
// pair up, in any order, each pair within one edit (a letter changed,
// inserted, left out, or two neighbours transposed: "ngan"/"nagn"), with
// at most two words edited and at least one word left exact.
func wordsWithin(a, b []string) bool {
	if len(a) != len(b) || len(a) < 2 || len(a) > 8 {
		return false
	}
	var used [8]bool
	edited := 0
	// Exact words first, so a slip does not take another word's partner.
	var exact [8]bool
	for i, w := range a {
		for j, v := range b {
			if !used[j] && v == w {
				used[j], exact[i] = true, true
				break
			}
		}
	}
outer:
	for i, w := range a {
		if exact[i] {
			continue
		}
		for j, v := range b {
			if !used[j] && len(w) >= 2 && osa(w, v, 1) <= 1 {
				used[j] = true
				edited++
				continue outer
			}
		}
		return false
	}
	return edited <= 2 && edited < len(a)
}

// osa is the optimal-string-alignment distance (Levenshtein plus adjacent
// transpositions) between a and b over bytes, giving up early once it
// exceeds limit (then any value > limit is returned).
func osa(a, b string, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	if a == b {
		return 0
	}
	n := len(b)
	var buf [3 * 64]int
	var rows []int
	if n+1 <= 64 {
		rows = buf[:3*(n+1)]
	} else {
		rows = make([]int, 3*(n+1))
	}
	prev2, prev, cur := rows[:n+1], rows[n+1:2*(n+1)], rows[2*(n+1):]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= n; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			best = min(best, v)
		}
		if best > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[n]
}

// RawDate is a date as a partner wrote it, read without calendar checks so
// that "13/25/1990" (day and month swapped) still compares. Zero parts are
// unknown.
type RawDate struct {
	Year, Month, Day int
}

// ParseDate reads dd/mm/yyyy, d-m-yyyy, dd.mm.yyyy, yyyy-mm-dd, yyyy/mm/dd,
// ddmmyyyy, yyyymmdd, mm/yyyy, yyyy-mm and yyyy. Day and month may each be
// 1..31 (one of them too large for a month is a swap the comparison
// reports). ok is false for anything else.
func ParseDate(s string) (d RawDate, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 32 {
		return d, false
	}
	var parts [4]string
	n := 0
	start := -1
	for i := 0; i <= len(s); i++ {
		digit := i < len(s) && s[i] >= '0' && s[i] <= '9'
		switch {
		case digit && start < 0:
			start = i
		case !digit && start >= 0:
			if n == 3 {
				return d, false
			}
			parts[n] = s[start:i]
			n++
			start = -1
		}
		if i < len(s) && !digit && !strings.ContainsRune("/-. ", rune(s[i])) {
			return d, false
		}
	}
	num := func(p string) int {
		v := 0
		for i := 0; i < len(p); i++ {
			v = v*10 + int(p[i]-'0')
		}
		return v
	}
	switch n {
	case 1:
		p := parts[0]
		switch len(p) {
		case 4:
			d = RawDate{Year: num(p)}
		case 8:
			// ddmmyyyy as on the card's QR code, else yyyymmdd.
			if y := num(p[4:]); y >= 1800 && num(p[2:4]) >= 1 && num(p[:2]) >= 1 {
				d = RawDate{Year: y, Month: num(p[2:4]), Day: num(p[:2])}
			} else {
				d = RawDate{Year: num(p[:4]), Month: num(p[4:6]), Day: num(p[6:])}
			}
		default:
			return d, false
		}
	case 2:
		a, b := parts[0], parts[1]
		switch {
		case len(b) == 4 && len(a) <= 2:
			d = RawDate{Year: num(b), Month: num(a)}
		case len(a) == 4 && len(b) <= 2:
			d = RawDate{Year: num(a), Month: num(b)}
		default:
			return d, false
		}
	case 3:
		a, b, c := parts[0], parts[1], parts[2]
		switch {
		case len(c) == 4 && len(a) <= 2 && len(b) <= 2:
			d = RawDate{Year: num(c), Month: num(b), Day: num(a)}
		case len(a) == 4 && len(b) <= 2 && len(c) <= 2:
			d = RawDate{Year: num(a), Month: num(b), Day: num(c)}
		default:
			return d, false
		}
	default:
		return d, false
	}
	if d.Year < 1800 || d.Year > 2200 || d.Month < 0 || d.Month > 31 || d.Day < 0 || d.Day > 31 ||
		(len(parts[1]) > 0 && d.Month == 0) || (n == 3 && d.Day == 0) || (d.Month > 12 && (d.Day == 0 || d.Day > 12)) {
		return RawDate{}, false
	}
	return d, true
}

// dateLevel is how close a partner's birth date is to the register's.
type dateLevel uint8

const (
	dateMissing   dateLevel = iota // no date, or not a date
	dateExact                      // the same date
	datePartial                    // one side is partial (year, or month and year) and the known parts agree
	dateSwapped                    // day and month swapped
	dateNear                       // one part differs (a typo in the day, month or one digit of the year)
	dateDifferent                  // another date
	dateYearOff                    // day and month agree, the year is one off (a common slip, far rarer by chance than dateNear)
	dateLevels
)

// compareDates rates partner date a against register date b.
func compareDates(a RawDate, ok bool, b civildate.Date) dateLevel {
	if !ok || a.Year == 0 {
		return dateMissing
	}
	if b.IsZero() {
		return dateDifferent
	}
	if a.Year == b.Year && a.Month == b.Month && a.Day == b.Day {
		return dateExact
	}
	if a.Year == b.Year && (a.Month == 0 || b.Month == 0 || (a.Month == b.Month && (a.Day == 0 || b.Day == 0))) {
		return datePartial
	}
	if a.Year == b.Year && a.Day != 0 && a.Day == b.Month && a.Month == b.Day {
		return dateSwapped
	}
	if a.Month != 0 && a.Day != 0 && (a.Year-b.Year == 1 || b.Year-a.Year == 1) &&
		((a.Month == b.Month && a.Day == b.Day) || (a.Month == b.Day && a.Day == b.Month)) {
		return dateYearOff // also with day and month swapped: the two slips are independent
	}
	same := 0
	if a.Year == b.Year || oneDigitOff(a.Year, b.Year) {
		same++
	}
	if a.Year == b.Year {
		same++ // a right year counts twice: the last part never decides alone
	}
	if a.Month == b.Month {
		same++
	}
	if a.Day == b.Day {
		same++
	}
	if same >= 3 {
		return dateNear
	}
	return dateDifferent
}

// oneDigitOff reports whether two years differ in exactly one decimal digit.
func oneDigitOff(a, b int) bool {
	diff := 0
	for i := 0; i < 4; i++ {
		if a%10 != b%10 {
			diff++
		}
		a, b = a/10, b/10
	}
	return diff == 1
}

// ParseSex reads "M"/"F", "Nam"/"Nữ", "nam"/"nu", "male"/"female" in any
// case; "" when it is none of them.
func ParseSex(s string) string {
	switch fold.String(s) {
	case "m", "nam", "male", "trai":
		return "M"
	case "f", "nu", "n", "female", "gai":
		return "F"
	}
	return ""
}

// digits keeps the decimal digits of s ("0010 9001 2345" → "001090012345").
func digits(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// pinLevel is how close a partner's PIN is to the register's.
type pinLevel uint8

const (
	pinMissing   pinLevel = iota // none, or not 12 digits
	pinExact                     // equal
	pinTypo                      // one digit wrong or two neighbours swapped
	pinDifferent                 // another number
	pinLevels
)

func comparePINs(a, b string) pinLevel {
	if len(a) != 12 {
		return pinMissing
	}
	if a == b {
		return pinExact
	}
	if len(b) != 12 {
		return pinDifferent
	}
	diff, first := 0, -1
	for i := 0; i < 12; i++ {
		if a[i] != b[i] {
			if first < 0 {
				first = i
			}
			diff++
		}
	}
	if diff == 1 {
		return pinTypo
	}
	if diff == 2 && first < 11 && a[first] == b[first+1] && a[first+1] == b[first] {
		return pinTypo
	}
	return pinDifferent
}
