package ingest

import (
	"bytes"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/dancu-project/dancu/internal/fault"
)

// Encoding names a character encoding a partner's file may be in.
type Encoding string

// Encodings understood. Vietnamese offices still produce Windows-1258 (Excel
// "CSV" on a Vietnamese Windows) and TCVN3 (the ABC fonts of the 1990s).
const (
	UTF8        Encoding = "utf-8"
	UTF16       Encoding = "utf-16" // with a byte-order mark (Excel's "Unicode text")
	Windows1258 Encoding = "windows-1258"
	TCVN3       Encoding = "tcvn3"
)

// Faults about a whole file. Their codes are part of the partner API.
var (
	ErrEmpty           = fault.New(fault.Invalid, "reconcile.file.empty", "Tệp không có dữ liệu.", "The file is empty.")
	ErrBinary          = fault.New(fault.Invalid, "reconcile.file.binary", "Tệp không phải văn bản (CSV hoặc JSON Lines); có thể là tệp Excel hoặc tệp nén.", "The file is not text (CSV or JSON Lines); it may be an Excel or compressed file.")
	ErrUnknownEncoding = fault.New(fault.Invalid, "reconcile.file.encoding", "Không nhận ra bảng mã của tệp; hãy lưu lại ở UTF-8 hoặc khai báo bảng mã (windows-1258, tcvn3).", "The file's character encoding is not recognised; save it as UTF-8 or declare the encoding (windows-1258, tcvn3).")
	ErrBadEncodingName = fault.New(fault.Invalid, "reconcile.encoding.unsupported", "Bảng mã khai báo không được hỗ trợ; dùng utf-8, utf-16, windows-1258 hoặc tcvn3.", "The declared encoding is not supported; use utf-8, utf-16, windows-1258 or tcvn3.")
)

// ParseEncoding reads a declared encoding name; "" means detect.
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return "", nil
	case "utf-8", "utf8":
		return UTF8, nil
	case "utf-16", "utf16", "unicode":
		return UTF16, nil
	case "windows-1258", "cp1258", "1258", "win1258":
		return Windows1258, nil
	case "tcvn3", "tcvn", "abc", "vn3", "tcvn-5712", "tcvn5712":
		return TCVN3, nil
	}
	return "", ErrBadEncodingName.WithField("encoding")
}

// SampleSize is how much of a file Sniff looks at.
const SampleSize = 1 << 20

// Sniff inspects the start of a file: it refuses empty and binary files and
// returns the encoding, the declared one if given, else the detected one.
// full says whether sample is the whole file (so a rune cut at its end is
// an error, not the edge of the sample).
func Sniff(sample []byte, declared Encoding, full bool) (Encoding, error) {
	if len(bytes.TrimSpace(bytes.TrimPrefix(sample, utf8BOM))) == 0 {
		return "", ErrEmpty
	}
	if hasUTF16BOM(sample) {
		if declared != "" && declared != UTF16 {
			return "", ErrUnknownEncoding
		}
		return UTF16, nil
	}
	if looksBinary(sample) {
		return "", ErrBinary
	}
	if declared != "" {
		return declared, nil
	}
	s := bytes.TrimPrefix(sample, utf8BOM)
	if !full {
		s = trimCutRune(s)
	}
	if utf8.Valid(s) {
		return UTF8, nil
	}
	// Not UTF-8: decode with each single-byte candidate and keep the one
	// whose text looks most like Vietnamese.
	best, bestScore := Encoding(""), 0
	for _, enc := range []Encoding{Windows1258, TCVN3} {
		text, err := io.ReadAll(Decoder(bytes.NewReader(s), enc))
		if err != nil {
			continue
		}
		if sc := vietnameseScore(string(text)); sc > bestScore {
			best, bestScore = enc, sc
		}
	}
	if best == "" {
		return "", ErrUnknownEncoding
	}
	return best, nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func hasUTF16BOM(b []byte) bool {
	return len(b) >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF))
}

// looksBinary: text files have no NUL and almost no other control bytes.
// TCVN3 uses a few C0 bytes (0x01, 0x02, 0x04-0x06, 0x11-0x17) for capital
// letters with tone marks, so those count less.
func looksBinary(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	ctl := 0
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && !tcvnControl(c) || c == 0x7f {
			ctl++
		}
	}
	return ctl*100 > len(b)
}

func tcvnControl(c byte) bool {
	return c < 0x18 && tcvnLow[c] >= 0x80
}

// trimCutRune drops an incomplete UTF-8 sequence at the end of a sample.
func trimCutRune(b []byte) []byte {
	for i := 1; i <= 3 && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < 0x80 {
			return b
		}
		if c >= 0xC0 { // a leading byte: is its sequence complete?
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			return b
		}
	}
	return b
}

// Decoder returns r converted to UTF-8 in Unicode normal form C, so a name
// typed with combining tone marks (Windows-1258, TCVN3, macOS) compares
// equal to the precomposed one. Invalid bytes become U+FFFD, which the
// parser reports per row.
func Decoder(r io.Reader, enc Encoding) io.Reader {
	var t transform.Transformer
	switch enc {
	case Windows1258:
		t = charmap.Windows1258.NewDecoder()
	case TCVN3:
		t = tcvnDecoder{}
	case UTF16:
		t = xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM).NewDecoder()
	default:
		// BOMOverride drops a UTF-8 byte-order mark; the UTF-8 decoder
		// replaces invalid sequences.
		t = xunicode.BOMOverride(xunicode.UTF8.NewDecoder())
	}
	return transform.NewReader(r, transform.Chain(t, norm.NFC))
}

// vietnameseScore rates how much decoded text looks like Vietnamese. A
// Vietnamese syllable carries at most one tone mark, and its letters beyond
// ASCII are from a fixed set; decoding with the wrong table yields words
// with two or three tones, foreign letters, stray marks and symbols.
func vietnameseScore(s string) int {
	score := 0
	word := make([]rune, 0, 16)
	flush := func() {
		if len(word) == 0 {
			return
		}
		tones, viet, foreign := 0, 0, 0
		for _, r := range word {
			if r < 0x80 {
				continue
			}
			if strings.ContainsRune(vietLetters, r) {
				viet++
				for _, m := range norm.NFD.String(string(r)) {
					switch m {
					case 0x300, 0x301, 0x303, 0x309, 0x323:
						tones++
					}
				}
			} else {
				foreign++
			}
		}
		switch {
		case foreign > 0 || tones > 1:
			score -= 5 * (foreign + tones)
		default:
			score += 2 * viet
		}
		word = word[:0]
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			word = append(word, r)
			continue
		case r < 0x80:
			if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
				score -= 5
			}
		case r == utf8.RuneError, unicode.Is(unicode.Mn, r), unicode.IsControl(r):
			score -= 5 // a tone mark left over after composition, or garbage
		default:
			score -= 2 // ¤ § ¶ ‰ and other symbols
		}
		flush()
	}
	flush()
	return score
}

// vietLetters are the letters of the Vietnamese alphabet beyond ASCII, in
// both cases, precomposed (NFC).
const vietLetters = "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ" +
	"ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬĐÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ"
