// Package pades signs a PDF as PAdES baseline B-B (ETSI EN 319 142-1): an
// incremental update appends a signature field and a signature dictionary
// (/Filter /Adobe.PPKLite, /SubFilter /ETSI.CAdES.detached) whose /Contents
// is a CMS SignedData (internal/card/cms, detached mode) over the file's
// bytes outside /Contents, which /ByteRange names. The original bytes are
// untouched, so a reader can still show the revision before the signature.
//
// It reads the PDFs this platform lays out (internal/document/result,
// fpdf): a classic cross-reference table and trailer, a catalog without a
// form and a first page without annotations. Anything else — a
// cross-reference stream, an encrypted file, an existing form — is refused
// with ErrUnsupported rather than half-understood.
package pades

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/dancu-project/dancu/internal/card/cms"
	"github.com/dancu-project/dancu/internal/fault"
)

// Faults of Sign. Their codes are part of the API.
var (
	ErrUnsupported = fault.New(fault.Invalid, "pades.unsupported", "Tệp PDF có cấu trúc không hỗ trợ ký số.", "The PDF's structure is not supported for signing.")
	ErrSign        = fault.New(fault.Internal, "pades.sign", "Không ký số được tệp PDF.", "Could not sign the PDF.")
)

// contentsSize is the bytes reserved for the CMS in /Contents: one P-256
// certificate and signature need under 2 KB; 8 KB leaves room for a longer
// chain.
const contentsSize = 8192

// Signature is who signs and the dictionary's descriptive entries.
type Signature struct {
	Cert     *x509.Certificate
	Key      crypto.Signer
	Time     time.Time // /M, the claimed signing time
	Name     string    // /Name
	Reason   string    // /Reason
	Location string    // /Location
}

var (
	reStartXref = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)
	reSize      = regexp.MustCompile(`/Size\s+(\d+)`)
	reRoot      = regexp.MustCompile(`/Root\s+(\d+)\s+0\s+R`)
	reInfo      = regexp.MustCompile(`/Info\s+(\d+)\s+0\s+R`)
	rePages     = regexp.MustCompile(`/Pages\s+(\d+)\s+0\s+R`)
	reKids      = regexp.MustCompile(`/Kids\s*\[\s*(\d+)\s+0\s+R`)
)

// Sign returns pdf with an incremental PAdES B-B signature appended.
func Sign(pdf []byte, s Signature) ([]byte, error) {
	m := reStartXref.FindSubmatch(pdf)
	if m == nil {
		return nil, ErrUnsupported.Wrap(fmt.Errorf("no startxref at the end"))
	}
	prev, _ := strconv.Atoi(string(m[1]))
	if prev <= 0 || prev >= len(pdf) || !bytes.HasPrefix(pdf[prev:], []byte("xref")) {
		return nil, ErrUnsupported.Wrap(fmt.Errorf("not a classic cross-reference table"))
	}
	t := bytes.LastIndex(pdf, []byte("trailer"))
	if t < prev {
		return nil, ErrUnsupported.Wrap(fmt.Errorf("no trailer"))
	}
	trailer := pdf[t:]
	if bytes.Contains(trailer, []byte("/Encrypt")) {
		return nil, ErrUnsupported.Wrap(fmt.Errorf("encrypted"))
	}
	size, root, info := num(reSize, trailer), num(reRoot, trailer), num(reInfo, trailer)
	if size <= 0 || root <= 0 {
		return nil, ErrUnsupported.Wrap(fmt.Errorf("trailer without /Size or /Root"))
	}
	catalog, err := object(pdf, root)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(catalog, []byte("/AcroForm")) {
		return nil, ErrUnsupported.Wrap(fmt.Errorf("the catalog already has a form"))
	}
	pagesObj, err := object(pdf, num(rePages, catalog))
	if err != nil {
		return nil, err
	}
	pageNum := num(reKids, pagesObj)
	page, err := object(pdf, pageNum)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(page, []byte("/Annots")) {
		return nil, ErrUnsupported.Wrap(fmt.Errorf("the first page has annotations"))
	}

	sigNum, fieldNum := size, size+1
	var b bytes.Buffer
	b.Write(pdf)
	if pdf[len(pdf)-1] != '\n' {
		b.WriteByte('\n')
	}
	offsets := map[int]int{}
	obj := func(n int, body []byte) {
		offsets[n] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n", n)
		b.Write(body)
		b.WriteString("\nendobj\n")
	}
	obj(root, extend(catalog, fmt.Sprintf("/AcroForm << /Fields [%d 0 R] /SigFlags 3 >>", fieldNum)))
	obj(pageNum, extend(page, fmt.Sprintf("/Annots [%d 0 R]", fieldNum)))
	// An invisible signature: a widget of zero size, print flag set
	// (ISO 32000-1 §12.7.4.5; PAdES allows it).
	obj(fieldNum, fmt.Appendf(nil, "<< /Type /Annot /Subtype /Widget /FT /Sig /T %s /V %d 0 R /F 132 /Rect [0 0 0 0] /P %d 0 R >>",
		text("Signature1"), sigNum, pageNum))

	// The signature dictionary with fixed-width placeholders, filled below.
	const brHolder = "/ByteRange [0 0000000000 0000000000 0000000000]"
	offsets[sigNum] = b.Len()
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached %s /Contents ", sigNum, brHolder)
	contentsAt := b.Len()
	b.WriteByte('<')
	b.Write(bytes.Repeat([]byte("0"), 2*contentsSize))
	b.WriteByte('>')
	contentsEnd := b.Len()
	// A date is an ASCII string (ISO 32000-1 §7.9.4), not a text string.
	fmt.Fprintf(&b, " /M (D:%s%s)", s.Time.Format("20060102150405"), s.Time.Format("-07'00'"))
	for _, e := range [][2]string{{"Name", s.Name}, {"Reason", s.Reason}, {"Location", s.Location}} {
		if e[1] != "" {
			fmt.Fprintf(&b, " /%s %s", e[0], text(e[1]))
		}
	}
	b.WriteString(" >>\nendobj\n")

	xref := b.Len()
	nums := make([]int, 0, len(offsets))
	for n := range offsets {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	b.WriteString("xref\n")
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		fmt.Fprintf(&b, "%d %d\n", nums[i], j-i+1)
		for k := i; k <= j; k++ {
			fmt.Fprintf(&b, "%010d 00000 n \n", offsets[nums[k]])
		}
		i = j + 1
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R", fieldNum+1, root)
	if info > 0 {
		fmt.Fprintf(&b, " /Info %d 0 R", info)
	}
	fmt.Fprintf(&b, " /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", prev, xref)

	out := b.Bytes()
	br := fmt.Sprintf("/ByteRange [0 %010d %010d %010d]", contentsAt, contentsEnd, len(out)-contentsEnd)
	at := bytes.LastIndex(out[:contentsAt], []byte(brHolder))
	copy(out[at:], br)
	h := sha256.New()
	h.Write(out[:contentsAt])
	h.Write(out[contentsEnd:])
	der, err := cms.SignDetached(h.Sum(nil), s.Cert, s.Key)
	if err != nil {
		return nil, err
	}
	if len(der) > contentsSize {
		return nil, ErrSign.Wrap(fmt.Errorf("signature of %d bytes exceeds the %d reserved", len(der), contentsSize))
	}
	hex.Encode(out[contentsAt+1:], der)
	return out, nil
}

func num(re *regexp.Regexp, b []byte) int {
	m := re.FindSubmatch(b)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// object returns the dictionary of object n's latest definition, from "<<"
// to its closing ">>".
func object(pdf []byte, n int) ([]byte, error) {
	if n <= 0 {
		return nil, ErrUnsupported.Wrap(fmt.Errorf("missing object reference"))
	}
	// The last "N 0 obj" at a line start (a later revision wins); a plain
	// search, as a multi-line regular expression over a binary file costs
	// more than the whole signature.
	head := fmt.Appendf(nil, "%d 0 obj", n)
	at := -1
	for i := 0; ; {
		j := bytes.Index(pdf[i:], head)
		if j < 0 {
			break
		}
		j += i
		end := j + len(head)
		if (j == 0 || pdf[j-1] == '\n' || pdf[j-1] == '\r') && end < len(pdf) && delimits(pdf[end]) {
			at = end
		}
		i = end
	}
	if at < 0 {
		return nil, ErrUnsupported.Wrap(fmt.Errorf("object %d not found", n))
	}
	rest := pdf[at:]
	end := bytes.Index(rest, []byte("endobj"))
	if end < 0 {
		return nil, ErrUnsupported.Wrap(fmt.Errorf("object %d has no endobj", n))
	}
	body := bytes.TrimSpace(rest[:end])
	if !bytes.HasPrefix(body, []byte("<<")) || !bytes.HasSuffix(body, []byte(">>")) || bytes.Contains(body, []byte("stream")) {
		return nil, ErrUnsupported.Wrap(fmt.Errorf("object %d is not a plain dictionary", n))
	}
	return body, nil
}

// delimits reports whether c may follow "obj": white space or a dictionary.
func delimits(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '<' }

// extend adds entries before a dictionary's closing ">>".
func extend(dict []byte, entries string) []byte {
	out := append([]byte{}, dict[:len(dict)-2]...)
	return append(out, "\n"+entries+"\n>>"...)
}

// text is s as a PDF text string in hex UTF-16BE with a byte-order mark,
// which needs no escaping.
func text(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteString(">")
	return b.String()
}
