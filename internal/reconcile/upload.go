package reconcile

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/reconcile/ingest"
)

// MaxUpload bounds one dataset upload (10 million rows of about 150 bytes
// fit with room to spare).
const MaxUpload = 4 << 30

// UploadTimeout is how long an upload may take, at least 0.5 MB/s for the
// largest file; the HTTP server's own timeouts suit interactive calls.
const UploadTimeout = 2 * time.Hour

// ActUpload is the audit action of a file uploaded on a partner's behalf.
const ActUpload = "reconcile.upload"

// Faults of an upload's declared options and size. Codes and messages are
// the partner API's and the staff page's.
var (
	ErrUploadTooLarge = fault.New(fault.TooLarge, "reconcile.upload.too_large", "Tệp tải lên vượt quá 4 GB; hãy chia thành nhiều tệp.", "The upload is larger than 4 GB; split it into several files.")
	ErrBadDelimiter   = fault.New(fault.Invalid, "reconcile.delimiter.unsupported", "Dấu phân cách phải là một trong: , ; tab |", "The delimiter must be one of: , ; tab |").WithField("delimiter")
	ErrBadFormat      = fault.New(fault.Invalid, "reconcile.format.unsupported", "Định dạng phải là csv hoặc jsonl.", "The format must be csv or jsonl.").WithField("format")
	errAuditUpload    = fault.New(fault.Internal, "reconcile.upload.audit", "Lỗi hệ thống, vui lòng thử lại sau.", "Internal error, please try again later.")
)

// UploadOptions reads an uploader's declared encoding, format and
// delimiter, each "" to detect, with the values the partner API's query
// parameters take.
func UploadOptions(encoding, format, delimiter string) (ingest.Options, error) {
	enc, err := ingest.ParseEncoding(encoding)
	if err != nil {
		return ingest.Options{}, err
	}
	o := ingest.Options{Encoding: enc}
	switch format {
	case "":
	case "csv":
		o.Format = ingest.CSV
	case "jsonl", "ndjson":
		o.Format = ingest.JSONL
	default:
		return ingest.Options{}, ErrBadFormat
	}
	switch delimiter {
	case "":
	case ",", ";", "|":
		o.Delimiter = delimiter[0]
	case "\t", "tab":
		o.Delimiter = '\t'
	default:
		return ingest.Options{}, ErrBadDelimiter
	}
	return o, nil
}

// UploadFor stores a file on partnerID's behalf, for a purpose its policy
// declares (checked as for the partner's own upload): the job is the partner's
// as if it had uploaded the file itself (its job list, its report), and by
// ("staff:<user>") is its creator and the audit actor. The act is audited
// once the whole file is stored and before the job is queued, so a refused
// or cut upload leaves no entry, and an entry that cannot be written
// leaves no job. The detail names the job, the partner and the size, never
// the file's name or content (they may name people).
func (s *Service) UploadFor(ctx context.Context, partnerID, purpose, by, fileName string, raw io.Reader, o ingest.Options) (Job, error) {
	return s.upload(ctx, partnerID, purpose, by, fileName, raw, o, func(id string, bytes int64) error {
		err := s.audit.Record(ctx, audit.Entry{Actor: by, Action: ActUpload, Subject: "reconcile:" + id, Purpose: Purpose,
			Detail: fmt.Sprintf("job %s uploaded for partner %s (%d bytes)", id, partnerID, bytes)})
		if err != nil {
			return errAuditUpload.Wrap(err)
		}
		return nil
	})
}
