// Package reconcile cleans a partner's dataset against the population
// register (làm sạch dữ liệu): the partner uploads a file, a job matches it
// row by row in the background, ambiguous rows go to a registrar's review
// queue, and the partner downloads a report with each row's matched PIN,
// confidence and the fields that disagree with the register.
//
// A job lives in the database, not in a process: the upload is stored in
// chunks, any node's worker claims a job with a lease, and each batch's
// results commit together with the checkpoint, so a job survives a restart
// and resumes without losing or doubling a row.
package reconcile

import (
	"context"
	"embed"
	"fmt"
	"log/slog"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/match"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the reconciliation tables.
func Migrations() storage.Migrations {
	return storage.Migrations{Module: "reconcile", FS: storage.Sub(migrationFS, "migrations")}
}

// Matcher finds register persons for partner records (match.Index).
type Matcher interface {
	Match(ctx context.Context, recs []match.Record) ([]match.Result, error)
}

// Place is an administrative unit a person is registered in.
type Place struct {
	Province, Commune string
}

// Locator tells where candidates live, so a review reaches the registrars
// of their units.
type Locator interface {
	Places(ctx context.Context, pins []string) (map[string][]Place, error)
}

// Recorder writes audit entries (audit.Log).
type Recorder interface {
	Record(ctx context.Context, e audit.Entry) error
	RecordAll(ctx context.Context, es []audit.Entry) error
}

// PersonReader reads a person within an actor's scope, auditing the read
// (registry.Service).
type PersonReader interface {
	Get(ctx context.Context, a actor.Actor, pin, purpose string) (registry.Person, error)
}

// Deps are what the service needs. Registry may be nil where no review page
// is served.
type Deps struct {
	DB     *storage.DB
	Audit  Recorder
	Places Locator
	// Partners gives each job's partner with its current policy, which
	// the upload, the worker, the report and a decision apply.
	Partners Partners
	Registry PersonReader
	Log      *slog.Logger
	Now      func() time.Time
}

// Service runs reconciliation.
type Service struct {
	db     *storage.DB
	audit  Recorder
	places Locator
	// partners: see Deps.Partners.
	partners Partners
	reg      PersonReader
	log      *slog.Logger
	now      func() time.Time
	// purgeFor and purgeBatch: see the constants of the same names.
	purgeFor   time.Duration
	purgeBatch int
}

// New builds the service.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Audit == nil || d.Places == nil || d.Partners == nil {
		return nil, fmt.Errorf("reconcile: DB, Audit, Places and Partners are required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{db: d.DB, audit: d.Audit, places: d.Places, partners: d.Partners, reg: d.Registry, log: d.Log, now: d.Now,
		purgeFor: purgeFor, purgeBatch: purgeBatch}, nil
}

// Purpose is the purpose of what staff read through this package (review
// pages, staff reports); a partner's disclosures carry the purpose its job
// declared.
const Purpose = "data cleaning"

// Job states.
const (
	Uploading = "uploading"
	Queued    = "queued"
	Running   = "running"
	Done      = "done"
	Failed    = "failed"
	// Cancelled is a job its partner stopped before it finished: its
	// upload is gone, the rows read so far stay until the job is deleted.
	Cancelled = "cancelled"
	// Deleting is a deleted job whose rows are still being removed: it is
	// in no list and no lookup.
	Deleting = "deleting"
)

// Row outcomes in the results (match outcomes plus these).
const (
	OutcomeError     = "error"
	OutcomeDuplicate = "duplicate"
)

// Faults of this package. Codes are part of the partner API.
var (
	ErrJobNotFound    = fault.New(fault.NotFound, "reconcile.job.not_found", "Không tìm thấy lượt đối soát.", "No such reconciliation job.")
	ErrJobNotDone     = fault.New(fault.Conflict, "reconcile.job.not_done", "Lượt đối soát chưa xong; báo cáo có khi trạng thái là hoàn thành.", "The job is not finished; the report is ready when its state is done.")
	ErrReviewNotFound = fault.New(fault.NotFound, "reconcile.review.not_found", "Không tìm thấy dòng cần xem xét.", "No such row to review.")
	ErrAlreadyDecided = fault.New(fault.Conflict, "reconcile.review.decided", "Dòng này đã được quyết định.", "This row has already been decided.")
	ErrNotACandidate  = fault.New(fault.Invalid, "reconcile.review.not_candidate", "Số định danh được chọn không nằm trong danh sách ứng viên.", "The chosen identification number is not one of the candidates.")
	ErrJobEnded       = fault.New(fault.Conflict, "reconcile.job.ended", "Lượt đối soát đã kết thúc (hoàn thành, lỗi hoặc đã huỷ) nên không thể huỷ.", "The job has already ended (done, failed or cancelled); it cannot be cancelled.")
	ErrJobUploading   = fault.New(fault.Conflict, "reconcile.job.uploading", "Tệp của lượt đối soát đang được tải lên; hãy thử lại khi tải xong.", "The job's file is still being uploaded; try again when the upload is over.")
	ErrJobCancelled   = fault.New(fault.Conflict, "reconcile.job.cancelled", "Lượt đối soát đã bị huỷ nên không có báo cáo.", "The job was cancelled; it has no report.")
	ErrUploadFailed   = fault.New(fault.Invalid, "reconcile.upload.incomplete", "Tải tệp lên không trọn vẹn; vui lòng gửi lại.", "The upload did not complete; send the file again.")
)

// Progress is what a job has done so far.
type Progress struct {
	State      string `json:"state"`
	RowsRead   int64  `json:"rows_read"`
	Matched    int64  `json:"matched"`
	Ambiguous  int64  `json:"ambiguous"`
	NotFound   int64  `json:"not_found"`
	Errors     int64  `json:"errors"`
	Duplicates int64  `json:"duplicates"`
	// Decided are ambiguous rows a registrar settled with a PIN.
	Decided int64 `json:"decided"`
	// SamePerson are matched rows whose person an earlier row of the file
	// already matched (with other data: not a duplicate), and rows a
	// registrar linked to a person another row already names: the partner
	// holds several records for one person. They are records and cleaned.
	SamePerson int64 `json:"same_person"`
}

// Records are the distinct rows: duplicates are not counted twice.
func (p Progress) Records() int64 { return p.RowsRead - p.Duplicates }

// Cleaned are the records linked to a register person: matched, or
// decided by a registrar.
func (p Progress) Cleaned() int64 { return p.Matched + p.Decided }

// Percent is Cleaned of Records, rounded down (99% means at least 99).
func (p Progress) Percent() int64 {
	if p.Records() <= 0 {
		return 0
	}
	return p.Cleaned() * 100 / p.Records()
}

// Figure is the cleaning-progress sentence in English,
// "71,429 of 72,119 records cleaned, 99%".
func (p Progress) Figure() string {
	return fmt.Sprintf("%s of %s records cleaned, %d%%", group(p.Cleaned(), ','), group(p.Records(), ','), p.Percent())
}

// FigureVI is the same in Vietnamese, "Đã làm sạch 71.429/72.119 bản ghi (99%)".
func (p Progress) FigureVI() string {
	return fmt.Sprintf("Đã làm sạch %s/%s bản ghi (%d%%)", group(p.Cleaned(), '.'), group(p.Records(), '.'), p.Percent())
}

// group writes n with a thousands separator.
func group(n int64, sep byte) string {
	s := fmt.Sprint(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, sep)
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// Job is a reconciliation job.
type Job struct {
	ID        string    `json:"id"`
	PartnerID string    `json:"partner_id"`
	Purpose   string    `json:"purpose"` // code of a law-based purpose of the partner's policy
	FileName  string    `json:"file_name"`
	Encoding  string    `json:"encoding"`
	Format    string    `json:"format"`
	Bytes     int64     `json:"bytes"`
	Failure   string    `json:"failure,omitempty"`
	CreatedBy string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Finished  time.Time `json:"finished_at,omitzero"`
	// Ignored are columns of the file that map to no field.
	Ignored []string `json:"ignored_columns,omitempty"`
	Progress
}

// stamp is the fixed-width UTC time format of the tables, so text order is
// time order (leases compare as text).
const stamp = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(stamp) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(stamp, s)
	return t
}
