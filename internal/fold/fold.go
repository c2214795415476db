// Package fold turns Vietnamese text into the comparable form used for search:
// diacritics removed, đ/Đ made d, lower case, single spaces. "Nguyễn Văn Đạt"
// and "nguyen  van dat" fold to the same key, so a registrar can type a name
// with or without diacritics.
package fold

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// String folds s: NFD decomposition, combining marks dropped, đ→d, lower case,
// runs of white space collapsed to one space, trimmed.
func String(s string) string {
	if isPlainLower(s) {
		return s
	}
	if f, ok := foldFast(s); ok {
		return f
	}
	return foldSlow(s)
}

// foldSlow is the general path: any script, decomposed input, any space.
func foldSlow(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true // drops leading space
	it := norm.Iter{}
	it.InitString(norm.NFD, s)
	for !it.Done() {
		seg := it.Next()
		for len(seg) > 0 {
			r, n := utf8.DecodeRune(seg)
			seg = seg[n:]
			switch {
			case unicode.Is(unicode.Mn, r):
				continue
			case r == 'đ' || r == 'Đ':
				r = 'd'
			case unicode.IsSpace(r):
				if !space {
					b.WriteByte(' ')
					space = true
				}
				continue
			default:
				r = unicode.ToLower(r)
			}
			b.WriteRune(r)
			space = false
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// isPlainLower reports whether s is already folded ASCII, the common case for
// typed search queries, so folding costs no allocation.
func isPlainLower(s string) bool {
	prevSpace := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || (c >= 'A' && c <= 'Z') || c < ' ' || c == 0x7f {
			return false
		}
		if c == ' ' {
			if prevSpace {
				return false
			}
			prevSpace = true
			continue
		}
		prevSpace = false
	}
	return !prevSpace || s == ""
}

// Words splits folded text into its words.
func Words(s string) []string {
	return strings.Fields(String(s))
}
