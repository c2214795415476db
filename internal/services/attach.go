package services

import (
	"bytes"
	"regexp"

	"github.com/dancu-project/dancu/internal/fault"
)

// MaxUpload caps one uploaded file: a scanned page or a short PDF. It is
// below document.MaxSize, which bounds what the document store keeps.
const MaxUpload = 5 << 20

// MaxUploads caps the files of one submission.
const MaxUploads = 10

// Faults of uploads. Their codes are part of the API.
var (
	ErrUploadType   = fault.New(fault.Invalid, "upload.type", "Tệp đính kèm không phải giấy tờ được chấp nhận (PDF, JPEG, PNG).", "The attachment is not an accepted document (PDF, JPEG, PNG).")
	ErrUploadSize   = fault.New(fault.TooLarge, "upload.too_large", "Tệp đính kèm vượt quá 5 MB.", "The attachment exceeds 5 MB.")
	ErrUploadActive = fault.New(fault.Invalid, "upload.active_content", "Tệp PDF có mã lệnh hoặc hành động tự chạy nên không được chấp nhận.", "The PDF holds scripts or automatic actions and is refused.")
	ErrUploadCount  = fault.New(fault.Invalid, "upload.count", "Quá nhiều tệp đính kèm (tối đa 10).", "Too many attachments (at most 10).")
	ErrUploadEmpty  = fault.New(fault.Invalid, "upload.empty", "Tệp đính kèm trống.", "The attachment is empty.")
)

// Upload is a file the filer attaches.
type Upload struct {
	Document string // the procedure's document code it answers
	Name     string // the file's name as sent, for the title
	Body     []byte
}

// activePDF finds the name objects that make a PDF run something when opened
// or clicked: scripts, launch actions, embedded files, forms that submit, rich
// media. Names may be written with #xx escapes (/J#61vaScript), so those are
// decoded before matching.
var activePDF = regexp.MustCompile(`/(JavaScript|JS|Launch|EmbeddedFile|SubmitForm|ImportData|RichMedia|XFA|GoToR|GoToE)\b`)

var pdfNameEscape = regexp.MustCompile(`#([0-9A-Fa-f]{2})`)

// Sniff says what an uploaded file is, from its bytes, never its name or the
// type the client declared: a PDF, a JPEG or a PNG within MaxUpload, and a
// PDF without active content. Anything else is a typed fault and nothing is
// stored.
func Sniff(b []byte) (string, error) {
	if len(b) == 0 {
		return "", ErrUploadEmpty
	}
	if len(b) > MaxUpload {
		return "", ErrUploadSize
	}
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		decoded := pdfNameEscape.ReplaceAllFunc(b, func(m []byte) []byte {
			var c byte
			for _, h := range m[1:] {
				c <<= 4
				switch {
				case h >= '0' && h <= '9':
					c |= h - '0'
				case h >= 'a' && h <= 'f':
					c |= h - 'a' + 10
				default:
					c |= h - 'A' + 10
				}
			}
			return []byte{c}
		})
		if activePDF.Match(decoded) {
			return "", ErrUploadActive
		}
		if !bytes.Contains(b[max(0, len(b)-1024):], []byte("%%EOF")) {
			return "", ErrUploadType
		}
		return "application/pdf", nil
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg", nil
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png", nil
	}
	return "", ErrUploadType
}
