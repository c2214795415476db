package stay

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
)

// Columns of a guest list file, in any order; ref, full_name and arrival
// are required, and one of pin, qr or passport with nationality per row.
var Columns = []string{"ref", "pin", "qr", "passport", "nationality", "full_name", "birth_date", "arrival", "until", "reason"}

// Faults of a file as a whole: nothing of such a file is stored.
var (
	ErrCSV     = fault.New(fault.Malformed, "stay.csv", "Tệp CSV không đọc được.", "The CSV file cannot be read.")
	ErrHeader  = fault.New(fault.Invalid, "stay.csv_header", "Dòng tiêu đề của tệp CSV thiếu cột bắt buộc (ref, full_name, arrival) hoặc có cột lạ.", "The CSV header misses a required column (ref, full_name, arrival) or has an unknown one.")
	ErrRows    = fault.New(fault.TooLarge, "stay.csv_rows", "Tệp có quá 200.000 dòng hoặc không có dòng nào.", "The file has over 200,000 rows or none.")
	ErrCSVTime = fault.New(fault.Invalid, "stay.arrival", "Thời điểm đến không hợp lệ (dd/mm/yyyy HH:MM giờ Việt Nam, hoặc RFC 3339).", "The arrival time is not valid (dd/mm/yyyy HH:MM Vietnam time, or RFC 3339).")
)

// Header maps a file's header to column positions, refusing a header
// without the required columns or with an unknown or repeated one.
func Header(rec []string) (map[string]int, error) {
	idx := make(map[string]int, len(rec))
	for i, h := range rec {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))
		known := false
		for _, c := range Columns {
			known = known || c == h
		}
		if _, dup := idx[h]; !known || dup {
			return nil, ErrHeader
		}
		idx[h] = i
	}
	for _, c := range []string{"ref", "full_name", "arrival"} {
		if _, ok := idx[c]; !ok {
			return nil, ErrHeader
		}
	}
	return idx, nil
}

// ParseRow reads one row of a guest list with the positions Header gave;
// a time that does not parse is a field fault, the other rules are
// Notify's.
func ParseRow(idx map[string]int, rec []string) (Guest, *fault.Error) {
	get := func(c string) string {
		if i, ok := idx[c]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	g := Guest{Ref: get("ref"), PIN: get("pin"), QR: get("qr"), Passport: get("passport"), Nationality: get("nationality"),
		FullName: get("full_name"), BirthDate: get("birth_date"), Until: get("until"), Reason: get("reason")}
	t, err := ParseTime(get("arrival"))
	if err != nil || t.IsZero() {
		return g, ErrCSVTime.WithField("arrival")
	}
	g.Arrival = t
	return g, nil
}

// ParseTime reads a time as RFC 3339, or as "dd/mm/yyyy HH:MM" or
// "yyyy-mm-dd HH:MM" in Vietnam time (what a hotel's software exports).
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"02/01/2006 15:04", "2006-01-02 15:04", "02/01/2006 15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, civildate.Location()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("stay: unreadable time")
}

// RowOutcome is the outcome of one row of a file, by its line number.
type RowOutcome struct {
	Line int `json:"line"`
	Outcome
}

// Report is what became of a file: counts, and every row not accepted as
// it was (refused, duplicate) with its faults.
type Report struct {
	Rows       int          `json:"rows"`
	Accepted   int          `json:"accepted"`
	Duplicates int          `json:"duplicates"`
	Refused    int          `json:"refused"`
	Late       int          `json:"late"`
	Offers     int          `json:"temporary_residence_offers"`
	Refusals   []RowOutcome `json:"refusals"`
}

// NotifyCSV reads a guest list file (UTF-8 CSV, comma-separated, a header
// row) as it streams in and reports its guests as Notify does. The rule of
// a file: a file that cannot be read to its end (broken CSV, bad header,
// more than MaxRows rows, a body cut short) stores nothing; a file that
// can is checked row by row, every valid row is stored in one transaction
// and every other row is reported with its line and faults.
func (s *Service) NotifyCSV(ctx context.Context, who string, h Host, r io.Reader) (Report, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return Report{}, ErrRows
	}
	if err != nil {
		return Report{}, csvFault(err)
	}
	idx, err := Header(head)
	if err != nil {
		return Report{}, err
	}
	var guests []Guest
	var lines []int
	var early []RowOutcome
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Report{}, csvFault(err)
		}
		line, _ := cr.FieldPos(0)
		if len(guests)+len(early) >= MaxRows {
			return Report{}, ErrRows
		}
		g, f := ParseRow(idx, rec)
		if f != nil {
			early = append(early, RowOutcome{Line: line, Outcome: Outcome{Ref: g.Ref, Status: Refused, Errors: []*fault.Error{f}}})
			continue
		}
		guests = append(guests, g)
		lines = append(lines, line)
	}
	if len(guests)+len(early) == 0 {
		return Report{}, ErrRows
	}
	out, err := s.Notify(ctx, who, h, guests)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Rows: len(guests) + len(early), Refused: len(early), Refusals: early}
	for i, o := range out {
		switch o.Status {
		case Accepted:
			rep.Accepted++
			if o.Late {
				rep.Late++
			}
			if o.Offer {
				rep.Offers++
			}
		case Duplicate:
			rep.Duplicates++
		default:
			rep.Refused++
			rep.Refusals = append(rep.Refusals, RowOutcome{Line: lines[i], Outcome: o})
		}
	}
	sort.SliceStable(rep.Refusals, func(i, j int) bool { return rep.Refusals[i].Line < rep.Refusals[j].Line })
	return rep, nil
}

func csvFault(err error) error {
	if f := fault.As(err); f.Kind != fault.Internal && f.Kind != fault.Canceled {
		return err
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return ErrCSV.Wrap(err)
	}
	return err
}
