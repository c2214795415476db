// Package civildate holds the dates of civil records, which are often partial:
// a person born in 1948 may have only a year, or a month and year, in the
// register. Dates are stored as ISO text ("1948", "1952-03", "1990-01-31"),
// which sorts correctly and reads the same in SQLite and PostgreSQL.
package civildate

import (
	"strconv"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/fault"
)

// Date is a calendar date whose month and day may be unknown (zero).
type Date struct {
	Year, Month, Day int
}

// Faults returned by Parse. Their codes are part of the API.
var (
	ErrFormat = fault.New(fault.Invalid, "date.format", "Ngày không đúng định dạng (dd/mm/yyyy, mm/yyyy, yyyy hoặc yyyy-mm-dd).", "The date is not in a known format (dd/mm/yyyy, mm/yyyy, yyyy or yyyy-mm-dd).")
	ErrDay    = fault.New(fault.Invalid, "date.impossible", "Ngày không tồn tại trong lịch.", "No such day in the calendar.")
	ErrFuture = fault.New(fault.Invalid, "date.future", "Ngày không được ở tương lai.", "The date cannot be in the future.")
	ErrRange  = fault.New(fault.Invalid, "date.range", "Năm phải từ 1880 trở đi.", "The year must be 1880 or later.")
)

// Parse reads the forms registrars and cards use: "yyyy-mm-dd", "yyyy-mm",
// "yyyy", "dd/mm/yyyy", "mm/yyyy" and the card QR's "ddmmyyyy".
func Parse(s string) (Date, error) {
	s = strings.TrimSpace(s)
	var d Date
	var ok bool
	switch {
	case strings.Contains(s, "/"):
		parts := strings.Split(s, "/")
		switch len(parts) {
		case 3:
			d, ok = ints(parts[2], parts[1], parts[0])
		case 2:
			d, ok = ints(parts[1], parts[0], "")
		}
	case strings.Contains(s, "-"):
		parts := strings.Split(s, "-")
		switch len(parts) {
		case 3:
			d, ok = ints(parts[0], parts[1], parts[2])
		case 2:
			d, ok = ints(parts[0], parts[1], "")
		}
	case len(s) == 8:
		d, ok = ints(s[4:], s[2:4], s[:2])
	case len(s) == 4:
		d, ok = ints(s, "", "")
	}
	if !ok {
		return Date{}, ErrFormat
	}
	if err := d.Valid(); err != nil {
		return Date{}, err
	}
	return d, nil
}

// ints reads the numeric parts; the year must have four digits, month and day
// one or two.
func ints(y, m, d string) (Date, bool) {
	var out Date
	var ok bool
	if len(y) != 4 {
		return out, false
	}
	if out.Year, ok = num(y); !ok {
		return out, false
	}
	if m != "" {
		if len(m) > 2 {
			return out, false
		}
		if out.Month, ok = num(m); !ok {
			return out, false
		}
		if out.Month == 0 {
			out.Month = -1 // written but zero: an impossible month, not an unknown one
		}
	}
	if d != "" {
		if len(d) > 2 {
			return out, false
		}
		if out.Day, ok = num(d); !ok {
			return out, false
		}
		if out.Day == 0 {
			out.Day = -1
		}
	}
	return out, true
}

func num(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// Valid reports whether the known parts form a real calendar date.
func (d Date) Valid() error {
	if d.Year < 1880 || d.Year > 9999 {
		return ErrRange
	}
	if d.Month == 0 {
		if d.Day != 0 {
			return ErrFormat
		}
		return nil
	}
	if d.Month < 1 || d.Month > 12 {
		return ErrDay
	}
	if d.Day == 0 {
		return nil
	}
	if d.Day < 1 || d.Day > daysIn(d.Year, d.Month) {
		return ErrDay
	}
	return nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Partial reports whether the month or day is unknown.
func (d Date) Partial() bool { return d.Month == 0 || d.Day == 0 }

// IsZero reports whether no date is set.
func (d Date) IsZero() bool { return d.Year == 0 }

// Earliest is the first day the date can denote, for comparisons.
func (d Date) Earliest() time.Time {
	m, day := d.Month, d.Day
	if m == 0 {
		m = 1
	}
	if day == 0 {
		day = 1
	}
	return time.Date(d.Year, time.Month(m), day, 0, 0, 0, 0, time.UTC)
}

// After reports whether d is certainly after the civil date (in Vietnam) of
// the instant t.
func (d Date) After(t time.Time) bool {
	return d.Earliest().After(Of(t).Earliest())
}

// NotFuture returns ErrFuture when d is after the civil date of the instant
// now.
func (d Date) NotFuture(now time.Time) error {
	if d.After(now) {
		return ErrFuture
	}
	return nil
}

// String is the ISO form: "1948", "1952-03" or "1990-01-31".
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	b := make([]byte, 0, 10)
	b = strconv.AppendInt(b, int64(d.Year), 10)
	if d.Month > 0 {
		b = append(b, '-', byte('0'+d.Month/10), byte('0'+d.Month%10))
		if d.Day > 0 {
			b = append(b, '-', byte('0'+d.Day/10), byte('0'+d.Day%10))
		}
	}
	return string(b)
}

// Display is the Vietnamese form: "31/01/1990", "03/1952" or "1948".
func (d Date) Display() string {
	if d.IsZero() {
		return ""
	}
	y := strconv.Itoa(d.Year)
	switch {
	case d.Month == 0:
		return y
	case d.Day == 0:
		return two(d.Month) + "/" + y
	default:
		return two(d.Day) + "/" + two(d.Month) + "/" + y
	}
}

func two(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

// Of returns the civil date of the instant t: the date in Vietnam
// (Asia/Ho_Chi_Minh), whatever t's own location. Every civil date the
// platform derives from the clock — a card's issue date and so its expiry,
// a registration's date, a deadline, "today" in an age rule — goes through
// Of (or Today), so that 00:30 on 8 December in Hà Nội is the 8th even
// though it is still the 7th in UTC.
func Of(t time.Time) Date {
	y, m, d := t.In(vietnam).Date()
	return Date{y, int(m), d}
}

// Today is the civil date in Vietnam at the instant now; the same as Of,
// named for the call sites that ask "what day is it".
func Today(now time.Time) Date { return Of(now) }

// Location is Vietnam's time zone, for formatting instants (times of day)
// the way a Vietnamese reader expects them.
func Location() *time.Location { return vietnam }

// vietnam is Asia/Ho_Chi_Minh from the system's or Go's time zone database,
// or, where neither is installed (a minimal container), a fixed UTC+7: the
// same for every date since 1975, as Vietnam keeps no daylight saving time.
// It is set once at start and never changes.
var vietnam = loadVietnam()

func loadVietnam() *time.Location {
	if loc, err := time.LoadLocation("Asia/Ho_Chi_Minh"); err == nil {
		return loc
	}
	return time.FixedZone("ICT", 7*60*60)
}

// Time is the first instant of the date d in Vietnam (a partial date counts
// from its earliest day).
func (d Date) Time() time.Time {
	e := d.Earliest()
	return time.Date(e.Year(), e.Month(), e.Day(), 0, 0, 0, 0, vietnam)
}

// MarshalText writes the ISO form.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads any form Parse accepts; empty text is the zero date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
