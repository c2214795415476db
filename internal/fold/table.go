package fold

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Letters with diacritics in the Latin blocks Vietnamese uses, each mapped to
// its folded ASCII letter (0 when the letter does not fold to ASCII). Built
// once from the same rule as the slow path (NFD, marks dropped, lower case),
// so the fast path gives identical results without normalising.
var (
	latin1Ext  = buildTable(0x00C0, 0x0250) // Latin-1 Supplement, Extended-A and -B
	latinAddtl = buildTable(0x1E00, 0x1F00) // Latin Extended Additional (ạ ả ấ ầ ... ỹ)
)

func buildTable(lo, hi rune) []byte {
	t := make([]byte, hi-lo)
	var buf [utf8.UTFMax]byte
	for r := lo; r < hi; r++ {
		if r == 'đ' || r == 'Đ' {
			t[r-lo] = 'd'
			continue
		}
		n := utf8.EncodeRune(buf[:], r)
		d := norm.NFD.Bytes(buf[:n])
		if len(d) == 0 || d[0] >= utf8.RuneSelf || !isLetterASCII(d[0]) {
			continue
		}
		ok := true
		for _, m := range string(d[1:]) {
			if !unicode.Is(unicode.Mn, m) {
				ok = false
				break
			}
		}
		if ok {
			t[r-lo] = byte(unicode.ToLower(rune(d[0])))
		}
	}
	return t
}

func isLetterASCII(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// foldFast folds s when every rune is ASCII or a letter of the tables; ok is
// false otherwise (combining marks, other scripts, non-ASCII spaces), and
// the caller takes the general path.
func foldFast(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	space := true
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r':
				if !space {
					b = append(b, ' ')
					space = true
				}
				continue
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			}
			b = append(b, c)
			space = false
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		var f byte
		switch {
		case r >= 0x00C0 && r < 0x0250:
			f = latin1Ext[r-0x00C0]
		case r >= 0x1E00 && r < 0x1F00:
			f = latinAddtl[r-0x1E00]
		}
		if f == 0 {
			return "", false
		}
		b = append(b, f)
		space = false
	}
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return string(b), true
}
