package match

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// letter is a precomposed Latin letter split as ParseName splits it: the
// letter without its tone, lower case, and the tone digit (0 for none);
// folded is its ASCII letter.
type letter struct {
	toned  rune
	folded byte
	tone   byte
	marked bool
}

// Letters of the Latin blocks Vietnamese uses, split once from their NFD
// form, so that names in NFC (as the register stores them) parse without
// running the normaliser.
var (
	lettersLatin = buildLetters(0x00C0, 0x0250)
	lettersAddtl = buildLetters(0x1E00, 0x1F00)
)

func buildLetters(lo, hi rune) []letter {
	t := make([]letter, hi-lo)
	for r := lo; r < hi; r++ {
		if r == 'đ' || r == 'Đ' {
			t[r-lo] = letter{toned: 'đ', folded: 'd', marked: true}
			continue
		}
		d := norm.NFD.String(string(r))
		base, size := utf8.DecodeRuneInString(d)
		if base >= utf8.RuneSelf || !unicode.IsLetter(base) {
			continue
		}
		var rest strings.Builder
		var tone byte
		ok := true
		for _, m := range d[size:] {
			switch m {
			case toneAcute, toneGrave, toneHook, toneTilde, toneDot:
				if tone != 0 {
					ok = false
				}
				tone = toneDigit(m)
			default:
				if !unicode.Is(unicode.Mn, m) {
					ok = false
				}
				rest.WriteRune(m)
			}
		}
		if !ok {
			continue
		}
		// The letter with its vowel marks but no tone must be one rune
		// (â, ơ, ư, ă...), as ParseName writes the marks after the letter
		// in NFD order; keep it decomposed to equal the slow path's bytes.
		lowerBase := unicode.ToLower(base)
		if rest.Len() > 0 {
			if utf8.RuneCountInString(rest.String()) != 1 {
				continue
			}
			m, _ := utf8.DecodeRuneInString(rest.String())
			t[r-lo] = letter{toned: lowerBase, folded: byte(lowerBase), tone: tone, marked: true}
			t[r-lo].toned = -m // marker: write base then the mark
			continue
		}
		t[r-lo] = letter{toned: lowerBase, folded: byte(lowerBase), tone: tone, marked: tone != 0}
	}
	return t
}

// parseNameFast is ParseName for text of ASCII letters, spaces and the
// precomposed letters of the tables; ok is false for anything else.
func parseNameFast(s string) (n Name, ok bool) {
	var toned, folded []byte
	var tone byte
	words := 0
	end := func() {
		if len(folded) > 0 {
			if tone != 0 {
				toned = append(toned, tone)
			}
			n.Toned = append(n.Toned, string(toned))
			n.Folded = append(n.Folded, string(folded))
			words++
		}
		toned, folded, tone = toned[:0], folded[:0], 0
	}
	var tb, fb [64]byte
	toned, folded = tb[:0], fb[:0]
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			case c == ' ':
				end()
				continue
			default:
				return Name{}, false
			}
			toned = append(toned, c)
			folded = append(folded, c)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		var l letter
		switch {
		case r >= 0x00C0 && r < 0x0250:
			l = lettersLatin[r-0x00C0]
		case r >= 0x1E00 && r < 0x1F00:
			l = lettersAddtl[r-0x1E00]
		}
		if l.folded == 0 && l.toned == 0 {
			return Name{}, false
		}
		if l.tone != 0 {
			if tone != 0 {
				return Name{}, false // two tones in a word: let the slow path decide
			}
			tone = l.tone
		}
		if l.marked {
			n.Marked = true
		}
		if l.toned < 0 { // base letter + vowel mark, decomposed
			toned = append(toned, l.folded)
			toned = utf8.AppendRune(toned, -l.toned)
		} else {
			toned = utf8.AppendRune(toned, l.toned)
		}
		folded = append(folded, l.folded)
	}
	end()
	return n, true
}
