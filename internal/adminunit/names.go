package adminunit

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/fold"
	"golang.org/x/text/unicode/norm"
)

// Type words allowed at each level, longest first so that "Thị trấn" is not
// read as "Thị xã" and "Thành phố" wins over shorter words.
var (
	provinceKinds       = []string{KindCity, KindProvince}
	districtKinds       = []string{KindCity, KindTown, KindRuralDistrict, KindUrbanDistrict}
	legacyCommuneKinds  = []string{KindTownship, KindWard, KindCommune}
	currentCommuneKinds = []string{KindSpecialZone, KindWard, KindCommune}
)

// clean makes s NFC with single spaces and no leading or trailing space. The
// published files contain decomposed letters, doubled spaces and line breaks
// inside names.
func clean(s string) string {
	if !norm.NFC.IsNormalString(s) {
		s = norm.NFC.String(s)
	}
	prevSpace := true
	for _, r := range s {
		isSpace := unicode.IsSpace(r)
		if isSpace && (prevSpace || r != ' ') {
			return strings.Join(strings.Fields(s), " ")
		}
		prevSpace = isSpace
	}
	if prevSpace && s != "" {
		return strings.TrimRight(s, " ")
	}
	return s
}

// normalizeName cleans a unit's name and splits off its type word, rewritten
// in its canonical spelling: "Thị Trấn Yên Minh" becomes "Thị trấn Yên Minh",
// "xã Vạn Phú" becomes "Xã Vạn Phú" and the mistyped "Xa Ea Kly" becomes
// "Xã Ea Kly". A doubled type word ("Phường Phường Đúc") is dropped once. kind
// is "" when the name starts with none of the allowed words.
func normalizeName(raw string, allowed []string) (name, kind string) {
	name = clean(raw)
	kind, rest := splitKind(name, allowed, false)
	if kind == "" {
		// Only when no word matches exactly: a type word typed without its
		// diacritics.
		kind, rest = splitKind(name, allowed, true)
	}
	if kind == "" {
		return name, ""
	}
	if again, rest2 := splitKind(rest, []string{kind}, false); again != "" && rest2 != "" {
		rest = rest2
	}
	switch {
	case rest == "":
		return kind, kind
	case len(name) == len(kind)+1+len(rest) && name[:len(kind)] == kind:
		return name, kind // already canonical: no copy
	}
	return kind + " " + rest, kind
}

// kindOf returns the type word of a normalised name.
func kindOf(name string, allowed []string) string {
	kind, _ := splitKind(name, allowed, false)
	return kind
}

// splitKind returns the allowed type word that starts name (compared without
// regard to case, or to diacritics when loose) and the rest of the name,
// which must have single spaces.
func splitKind(name string, allowed []string, loose bool) (kind, rest string) {
	for _, k := range allowed {
		words := strings.Count(k, " ") + 1
		// The end of name's first words words.
		end, n := 0, 0
		for n < words {
			i := strings.IndexByte(name[end:], ' ')
			if i < 0 {
				end = len(name)
				n++
				break
			}
			end += i
			if n++; n < words {
				end++
			}
		}
		if n < words {
			continue
		}
		head := name[:end]
		if strings.EqualFold(head, k) || (loose && fold.String(head) == fold.String(k)) {
			return k, strings.TrimPrefix(name[end:], " ")
		}
	}
	return "", name
}

// splitNameCode splits "Thành phố Hà Nội (01)" into its name and code. ok is
// false when s does not end in a parenthesised code.
func splitNameCode(s string) (name, code string, ok bool) {
	s = clean(s)
	if !strings.HasSuffix(s, ")") {
		return s, "", false
	}
	i := strings.LastIndexByte(s, '(')
	if i < 0 {
		return s, "", false
	}
	code = strings.TrimSpace(s[i+1 : len(s)-1])
	if !isDigits(code) {
		return s, "", false
	}
	return strings.TrimSpace(s[:i]), code, true
}

// folder computes keys, the comparable form of names for search and
// matching: [fold.String] (diacritics and case dropped, đ→d, single spaces)
// with apostrophes removed and hyphens made spaces, so "Ea H'leo",
// "Ea H’Leo" and "ea hleo" meet. fold.String allocates a normalisation
// buffer per call, too slow for the forty thousand names folded at Load, so
// the folder keeps a table of the folded form of each precomposed Latin
// letter and falls back to fold.String for anything else (decomposed input,
// other scripts), with the same result.
type folder struct {
	latin [latinHi - latinLo]rune // folded letter, or 0 for "not a single letter"
	extra [extraHi - extraLo]rune
}

const (
	latinLo, latinHi = 0x00C0, 0x0250 // Latin-1 Supplement to Latin Extended-B
	extraLo, extraHi = 0x1E00, 0x1F00 // Latin Extended Additional (ạ, ế, ữ ...)
)

func newFolder() *folder {
	f := new(folder)
	fill := func(tab []rune, lo rune) {
		for i := range tab {
			r := lo + rune(i)
			if !unicode.IsLetter(r) {
				continue
			}
			if rs := []rune(fold.String(string(r))); len(rs) == 1 && rs[0] < utf8.RuneSelf {
				tab[i] = rs[0]
			}
		}
	}
	fill(f.latin[:], latinLo)
	fill(f.extra[:], extraLo)
	return f
}

// lookup returns the folded ASCII letter for r, or 0.
func (f *folder) lookup(r rune) rune {
	switch {
	case r >= latinLo && r < latinHi:
		return f.latin[r-latinLo]
	case r >= extraLo && r < extraHi:
		return f.extra[r-extraLo]
	}
	return 0
}

func (f *folder) key(s string) string {
	b := make([]byte, 0, len(s))
	space := true // drops leading space
	for _, r := range s {
		switch {
		case r == '\'' || r == '’' || r == '‘':
			continue
		case r == '-' || r == '–' || (r < utf8.RuneSelf && unicode.IsSpace(r)):
			if !space {
				b = append(b, ' ')
				space = true
			}
			continue
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
		default:
			if r = f.lookup(r); r == 0 {
				return fold.String(keyReplacer.Replace(s))
			}
		}
		b = append(b, byte(r))
		space = false
	}
	if n := len(b); n > 0 && b[n-1] == ' ' {
		b = b[:n-1]
	}
	return string(b)
}

var keyReplacer = strings.NewReplacer("'", "", "’", "", "‘", "", "-", " ", "–", " ")

// isDigits reports whether s is non-empty and all ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isCode reports whether s is a code of exactly n digits.
func isCode(s string, n int) bool { return len(s) == n && isDigits(s) }
