package reconcile

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/reconcile/ingest"
	"github.com/dancu-project/dancu/internal/storage"
)

// ChunkSize is how much decoded text one stored chunk holds. A 10-million
// row file is a thousand chunks; only one is in memory at a time.
const ChunkSize = 1 << 20

// Upload stores a partner's file and queues a job for it, for the purpose
// (code) the partner declares. The partner's policy is checked first —
// reconcile allowed, the purpose declared and law-based — before a byte of
// the file is read. The file is read as a stream: its start is checked
// (encoding, format, header) and a file that cannot be read is refused
// before anything is written; then the decoded text goes into the database
// chunk by chunk. An upload cut short leaves no job behind.
func (s *Service) Upload(ctx context.Context, partnerID, purpose, createdBy, fileName string, raw io.Reader, o ingest.Options) (Job, error) {
	return s.upload(ctx, partnerID, purpose, createdBy, fileName, raw, o, nil)
}

// upload is Upload; stored, when not nil, runs once the whole file is
// stored and before the job is queued (it is invisible until then): an
// error from it discards the upload.
func (s *Service) upload(ctx context.Context, partnerID, purpose, createdBy, fileName string, raw io.Reader, o ingest.Options,
	stored func(id string, bytes int64) error) (Job, error) {
	if _, _, err := s.admit(ctx, partnerID, purpose); err != nil {
		return Job{}, err
	}
	prep, err := ingest.Prepare(raw, o)
	if err != nil {
		var f *fault.Error
		if errors.As(err, &f) {
			return Job{}, err
		}
		return Job{}, ErrUploadFailed.Wrap(err)
	}
	hdr, err := json.Marshal(prep.Header)
	if err != nil {
		return Job{}, fmt.Errorf("reconcile: header: %w", err)
	}
	now := fmtTime(s.now())
	id := storage.NewID()
	if len(fileName) > 200 {
		fileName = fileName[:200]
	}
	_, err = s.db.W.ExecContext(ctx, `INSERT INTO reconcile_jobs (id, partner_id, purpose, file_name, state, encoding, header,
		next_offset, next_line, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
		id, partnerID, purpose, fileName, Uploading, string(prep.Encoding), string(hdr), prep.Header.Start.Offset, prep.Header.Start.Line,
		createdBy, now)
	if err != nil {
		return Job{}, fmt.Errorf("reconcile: create job: %w", err)
	}
	total, chunks, err := s.storeChunks(ctx, id, prep.Text)
	if err == nil && stored != nil {
		err = stored(id, total)
	}
	if err == nil {
		_, err = s.db.W.ExecContext(ctx, `UPDATE reconcile_jobs SET state = $1, bytes = $2, chunks = $3, updated_at = $4 WHERE id = $5`,
			Queued, total, chunks, fmtTime(s.now()), id)
	}
	if err != nil {
		s.discard(id)
		if ctx.Err() != nil || !errors.As(err, new(*fault.Error)) {
			return Job{}, ErrUploadFailed.Wrap(err)
		}
		return Job{}, err
	}
	return s.Job(ctx, partnerID, id)
}

func (s *Service) storeChunks(ctx context.Context, id string, text io.Reader) (total int64, seq int, err error) {
	buf := make([]byte, ChunkSize)
	for {
		n, rerr := io.ReadFull(text, buf)
		if n > 0 {
			if _, err := s.db.W.ExecContext(ctx, `INSERT INTO reconcile_chunks (job_id, seq, start_offset, data) VALUES ($1, $2, $3, $4)`,
				id, seq, total, buf[:n]); err != nil {
				return 0, 0, fmt.Errorf("reconcile: store chunk: %w", err)
			}
			seq++
			total += int64(n)
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			return total, seq, nil
		}
		if rerr != nil {
			return 0, 0, rerr
		}
	}
}

// discard removes an upload that did not complete.
func (s *Service) discard(id string) {
	ctx := context.Background()
	s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM reconcile_chunks WHERE job_id = $1`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM reconcile_jobs WHERE id = $1`, id)
		return err
	})
}

const jobColumns = `id, partner_id, purpose, file_name, state, encoding, header, bytes, failure, created_by, created_at, updated_at, finished_at,
	rows_read, matched, ambiguous, not_found, errors, duplicates, decided, same_person`

func scanJob(sc interface{ Scan(...any) error }) (Job, error) {
	var j Job
	var hdr, created, updated, finished string
	err := sc.Scan(&j.ID, &j.PartnerID, &j.Purpose, &j.FileName, &j.State, &j.Encoding, &hdr, &j.Bytes, &j.Failure, &j.CreatedBy,
		&created, &updated, &finished, &j.RowsRead, &j.Matched, &j.Ambiguous, &j.NotFound, &j.Errors, &j.Duplicates, &j.Decided, &j.SamePerson)
	if err != nil {
		return j, err
	}
	var h ingest.Header
	if json.Unmarshal([]byte(hdr), &h) == nil {
		j.Format, j.Ignored = string(h.Format), h.Ignored
	}
	j.CreatedAt, j.UpdatedAt, j.Finished = parseTime(created), parseTime(updated), parseTime(finished)
	return j, nil
}

// Job returns one job. partnerID limits it to that partner's jobs; ""
// (staff) sees any.
func (s *Service) Job(ctx context.Context, partnerID, id string) (Job, error) {
	j, err := scanJob(s.db.R.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM reconcile_jobs WHERE id = $1 AND state <> 'deleting'`, id))
	if errors.Is(err, sql.ErrNoRows) || err == nil && partnerID != "" && j.PartnerID != partnerID {
		return Job{}, ErrJobNotFound
	}
	if err != nil {
		return Job{}, fmt.Errorf("reconcile: read job: %w", err)
	}
	return j, nil
}

// Jobs lists the newest jobs, of one partner or ("" ) of all.
func (s *Service) Jobs(ctx context.Context, partnerID string, limit int) ([]Job, error) {
	q := `SELECT ` + jobColumns + ` FROM reconcile_jobs WHERE state NOT IN ('uploading', 'deleting')`
	args := []any{}
	if partnerID != "" {
		q += ` AND partner_id = $1`
		args = append(args, partnerID)
	}
	q += fmt.Sprintf(` ORDER BY created_at DESC, id LIMIT %d`, max(1, min(limit, 1000)))
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reconcile: list jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("reconcile: list jobs: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// PartnerFigure is a partner's cleaning progress: the figures of its latest
// job.
type PartnerFigure struct {
	PartnerID string `json:"partner_id"`
	Job       Job    `json:"job"`
}

// Partners returns every partner's cleaning progress, by partner id. A
// cancelled job is not a partner's progress: its latest job not cancelled
// is.
func (s *Service) Partners(ctx context.Context) ([]PartnerFigure, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+jobColumns+` FROM reconcile_jobs j
		WHERE state NOT IN ('uploading', 'cancelled', 'deleting') AND created_at = (SELECT max(created_at) FROM reconcile_jobs k
			WHERE k.partner_id = j.partner_id AND k.state NOT IN ('uploading', 'cancelled', 'deleting'))
		ORDER BY partner_id, id`)
	if err != nil {
		return nil, fmt.Errorf("reconcile: partner progress: %w", err)
	}
	defer rows.Close()
	var out []PartnerFigure
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("reconcile: partner progress: %w", err)
		}
		if len(out) > 0 && out[len(out)-1].PartnerID == j.PartnerID {
			continue // two jobs created in the same instant
		}
		out = append(out, PartnerFigure{PartnerID: j.PartnerID, Job: j})
	}
	return out, rows.Err()
}

// chunkReader reads a job's stored text from an offset, one chunk at a time.
type chunkReader struct {
	ctx  context.Context
	db   *storage.DB
	job  string
	next int // seq of the next chunk to load
	buf  []byte
}

func openChunks(ctx context.Context, db *storage.DB, job string, offset int64) (*chunkReader, error) {
	r := &chunkReader{ctx: ctx, db: db, job: job}
	var seq int
	var start int64
	err := db.R.QueryRowContext(ctx, `SELECT seq, start_offset FROM reconcile_chunks WHERE job_id = $1 AND start_offset <= $2
		ORDER BY seq DESC LIMIT 1`, job, offset).Scan(&seq, &start)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil // empty text
	}
	if err != nil {
		return nil, fmt.Errorf("reconcile: open chunks: %w", err)
	}
	r.next = seq
	if err := r.load(); err != nil {
		return nil, err
	}
	skip := offset - start
	if skip > int64(len(r.buf)) {
		skip = int64(len(r.buf))
	}
	r.buf = r.buf[skip:]
	return r, nil
}

func (r *chunkReader) load() error {
	var data []byte
	err := r.db.R.QueryRowContext(r.ctx, `SELECT data FROM reconcile_chunks WHERE job_id = $1 AND seq = $2`, r.job, r.next).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return io.EOF
	}
	if err != nil {
		return fmt.Errorf("reconcile: read chunk: %w", err)
	}
	r.next++
	r.buf = data
	return nil
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if err := r.load(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
