package reconcile

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/match"
)

// ReportColumns are the columns of the report CSV.
var ReportColumns = []string{"row", "line", "ref", "outcome", "pin", "confidence", "differences", "dead", "review", "error_code", "duplicate_of", "same_person_as"}

// ReportRow is one line of the report: the partner's own reference, the
// outcome, and for a matched row the PIN, the confidence and the fields
// that disagree. No other register value is ever in it.
type ReportRow struct {
	Row         int64   `json:"row"`
	Line        int64   `json:"line"`
	Ref         string  `json:"ref"`
	Outcome     string  `json:"outcome"`
	PIN         string  `json:"pin,omitempty"`
	Confidence  float64 `json:"confidence"`
	Differences string  `json:"differences,omitempty"`
	Dead        bool    `json:"dead,omitempty"`
	Review      string  `json:"review,omitempty"` // "pending", "decided"
	ErrorCode   string  `json:"error_code,omitempty"`
	DuplicateOf int64   `json:"duplicate_of,omitempty"`
	// SamePersonAs is, for a matched row, the first row of the file matched
	// to the same person, when that is an earlier row; for a row a
	// registrar decided, the first other row naming that person.
	SamePersonAs int64 `json:"same_person_as,omitempty"`

	place Place // where the person named lives, for the partner's scope
}

// ActDisclose is the audit action of a PIN disclosed in a report.
const ActDisclose = "reconcile.disclose"

// reportPage is how many rows are read, audited and written at a time.
const reportPage = 1000

// Report walks a finished job's rows for partnerID in row order and hands
// them to emit a page at a time, as the partner's current policy allows
// (Disclose). Every row of a page that names a person is written to the
// audit log (actor "partner:<id>", the job's purpose) before the page is
// emitted: a failed audit stops the report.
func (s *Service) Report(ctx context.Context, partnerID, jobID string, emit func([]ReportRow) error) error {
	return s.report(ctx, partnerID, jobID, "", emit)
}

// ErrReportScope refuses a job's report to staff scoped to a unit: the
// report names people anywhere in the country, and a unit's staff read
// only the people of their unit.
var ErrReportScope = fault.New(fault.Forbidden, "reconcile.report.scope",
	"Báo cáo đối soát nêu số định danh của công dân trên cả nước; chỉ cán bộ có phạm vi toàn quốc được tải.",
	"A reconciliation report names people anywhere in the country; only staff with national scope may download it.")

// StaffReport is Report for a staff member: any partner's job, each
// disclosed PIN audited to the staff member (a.ID) exactly as the
// partner's download is to the partner. Only staff with national scope
// may read it (ErrReportScope).
func (s *Service) StaffReport(ctx context.Context, a actor.Actor, jobID string, emit func([]ReportRow) error) error {
	if err := CanDownloadReports(a); err != nil {
		return err
	}
	return s.report(ctx, "", jobID, a.ID, emit)
}

// CanDownloadReports tells whether a staff member may download reports:
// nil for staff with national scope, else ErrReportScope.
func CanDownloadReports(a actor.Actor) error {
	if a.Unit != "" || a.ID == "" {
		return ErrReportScope
	}
	return nil
}

// report emits the report of jobID (of partnerID; "" any partner),
// auditing each page's disclosures to to ("" the job's partner). The
// partner's report is what its current policy allows (Disclose): rows of
// persons outside its unit read as not found, a PIN only with the field
// "pin", a death only with "status"; each row that names a person is in
// that person's access log under the job's purpose before it is emitted.
// A staff report (national scope) shows the rows as stored.
func (s *Service) report(ctx context.Context, partnerID, jobID, to string, emit func([]ReportRow) error) error {
	j, err := s.Job(ctx, partnerID, jobID)
	if err != nil {
		return err
	}
	forPartner := to == ""
	var pol jobPolicy
	if forPartner {
		// The policy first: a partner refused learns nothing of the job.
		if pol, err = s.policyOf(ctx, j.PartnerID, j.Purpose); err != nil {
			return err
		}
		to = "partner:" + j.PartnerID
	}
	if err := ReportReady(j); err != nil {
		return err
	}
	var after int64
	for {
		page, err := s.reportPage(ctx, jobID, after)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		after = page[len(page)-1].Row
		var entries []audit.Entry
		for i := range page {
			r := &page[i]
			if r.Outcome != string(match.Matched) || r.PIN == "" {
				r.Confidence = 0 // only a row naming a person has one
				continue
			}
			if !forPartner {
				entries = append(entries, audit.Entry{Actor: to, Action: ActDisclose,
					Subject: "person:" + r.PIN, Purpose: Purpose, Detail: "job " + jobID + " of partner " + j.PartnerID})
				continue
			}
			d := pol.disclose(Linked{PIN: r.PIN, Dead: r.Dead, Place: r.place, Differences: r.Differences})
			if !d.InScope {
				*r = ReportRow{Row: r.Row, Line: r.Line, Ref: r.Ref, Outcome: string(match.NotFound)}
				continue
			}
			// As a lookup is: the fields disclosed, or only that the
			// partner's record is this person.
			detail := "job=" + jobID + " result=matched"
			if len(d.Fields) > 0 {
				detail = "job=" + jobID + " fields=" + strings.Join(d.Fields, ",") + " basis=" + pol.purpose.Basis
			}
			entries = append(entries, audit.Entry{Actor: to, Action: ActDisclose,
				Subject: "person:" + r.PIN, Purpose: pol.purpose.Code, Detail: detail})
			r.PIN, r.Dead, r.Differences = d.PIN, d.Dead, d.Differences
		}
		// One batch per page through the audit log's group commit.
		if err := s.audit.RecordAll(ctx, entries); err != nil {
			return fmt.Errorf("reconcile: audit report: %w", err)
		}
		if err := emit(page); err != nil {
			return err
		}
	}
}

// ReportReady returns nil when the job has a report (it is done), else the
// fault saying why not: not finished yet, or cancelled.
func ReportReady(j Job) error {
	switch j.State {
	case Done:
		return nil
	case Cancelled:
		return ErrJobCancelled
	default:
		return ErrJobNotDone
	}
}

func (s *Service) reportPage(ctx context.Context, jobID string, after int64) ([]ReportRow, error) {
	rows, err := s.db.R.QueryContext(ctx, fmt.Sprintf(`SELECT r.row_num, r.line, r.ref, r.outcome, r.pin, r.confidence, r.differences, r.dead,
		r.error_code, r.duplicate_of, r.same_person_as, r.province, r.commune, COALESCE(v.state, ''), COALESCE(v.decision_pin, ''), COALESCE(v.candidates, '')
		FROM reconcile_rows r LEFT JOIN reconcile_reviews v ON v.job_id = r.job_id AND v.row_num = r.row_num
		WHERE r.job_id = $1 AND r.row_num > $2 ORDER BY r.row_num LIMIT %d`, reportPage), jobID, after)
	if err != nil {
		return nil, fmt.Errorf("reconcile: report: %w", err)
	}
	defer rows.Close()
	var out []ReportRow
	for rows.Next() {
		var r ReportRow
		var dead int
		var state, decision, cands string
		if err := rows.Scan(&r.Row, &r.Line, &r.Ref, &r.Outcome, &r.PIN, &r.Confidence, &r.Differences, &dead,
			&r.ErrorCode, &r.DuplicateOf, &r.SamePersonAs, &r.place.Province, &r.place.Commune, &state, &decision, &cands); err != nil {
			return nil, fmt.Errorf("reconcile: report: %w", err)
		}
		r.Dead = dead == 1
		if r.Outcome == string(match.Ambiguous) {
			r.PIN, r.Confidence = "", 0 // candidates are never disclosed
			switch {
			case state == ReviewDecided && decision != "":
				r.Outcome, r.Review, r.PIN, r.Confidence = string(match.Matched), "decided", decision, 1
				var cs []match.Candidate
				json.Unmarshal([]byte(cands), &cs)
				for _, c := range cs {
					if c.PIN == decision {
						r.Differences = encodeDiffs(c.Differences)
					}
				}
			case state == ReviewDecided:
				r.Outcome, r.Review = string(match.NotFound), "decided"
			default:
				r.Review = "pending"
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// WriteReportCSV writes the report of a finished job as CSV (UTF-8 with a
// byte-order mark, so spreadsheet programs read the Vietnamese right).
func (s *Service) WriteReportCSV(ctx context.Context, w io.Writer, partnerID, jobID string) error {
	if _, err := s.Job(ctx, partnerID, jobID); err != nil {
		return err
	}
	return writeReportCSV(w, func(emit func([]ReportRow) error) error { return s.Report(ctx, partnerID, jobID, emit) })
}

// WriteStaffReportCSV writes the report of any partner's finished job for
// a staff member with national scope; see StaffReport.
func (s *Service) WriteStaffReportCSV(ctx context.Context, w io.Writer, a actor.Actor, jobID string) error {
	return writeReportCSV(w, func(emit func([]ReportRow) error) error { return s.StaffReport(ctx, a, jobID, emit) })
}

func writeReportCSV(w io.Writer, report func(emit func([]ReportRow) error) error) error {
	started := false
	cw := csv.NewWriter(w)
	err := report(func(page []ReportRow) error {
		if !started {
			started = true
			if _, err := w.Write([]byte{0xEF, 0xBB, 0xBF}); err != nil {
				return err
			}
			if err := cw.Write(ReportColumns); err != nil {
				return err
			}
		}
		for _, r := range page {
			dead := ""
			if r.Dead {
				dead = "1"
			}
			dup := ""
			if r.DuplicateOf > 0 {
				dup = strconv.FormatInt(r.DuplicateOf, 10)
			}
			same := ""
			if r.SamePersonAs > 0 {
				same = strconv.FormatInt(r.SamePersonAs, 10)
			}
			conf := ""
			if r.Outcome == string(match.Matched) {
				conf = strconv.FormatFloat(r.Confidence, 'f', 4, 64)
			}
			if err := cw.Write([]string{strconv.FormatInt(r.Row, 10), strconv.FormatInt(r.Line, 10), safeCell(r.Ref), r.Outcome, r.PIN,
				conf, r.Differences, dead, r.Review, r.ErrorCode, dup, same}); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
	if err == nil && !started { // a job with no rows still gets its header
		if _, err := w.Write([]byte{0xEF, 0xBB, 0xBF}); err != nil {
			return err
		}
		cw.Write(ReportColumns)
		cw.Flush()
		return cw.Error()
	}
	return err
}

// safeCell keeps a partner's reference from being read as a formula by a
// spreadsheet (CSV injection).
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
