package workday

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
)

// Year is one year's list of days off and make-up working days.
type Year struct {
	Year   int    `json:"year"`
	Status string `json:"status"` // StatusOfficial, StatusRules or StatusOverride
	Source string `json:"source"` // where the list comes from, for the administrator
	Off    []Day  `json:"off"`    // days off; weekend days inside a break may be listed for their names
	Work   []Day  `json:"work"`   // weekend days made working days (ngày làm bù)
}

// Day is a dated entry of a Year.
type Day struct {
	Date civildate.Date `json:"date"`
	Name string         `json:"name"`
}

// Statuses of a Year.
const (
	StatusOfficial = "official" // the government's published calendar
	StatusRules    = "rules"    // computed from the Labour Code's rules
	StatusOverride = "override" // set by an administrator
)

// Limits of a holiday file: a year has about twenty entries.
const (
	maxFileBytes   = 1 << 20
	maxYearEntries = 200
	maxNameRunes   = 200
	maxSourceRunes = 2000
	minYear        = 2000
	maxYear        = 2100
)

// Faults of the holiday file. Their codes are part of the API.
var (
	ErrFile      = fault.New(fault.Invalid, "workday.file", "Tệp lịch ngày nghỉ không đúng định dạng.", "The holiday file is not in the expected format.")
	ErrFileYear  = fault.New(fault.Invalid, "workday.file_year", "Năm trong tệp lịch ngày nghỉ không hợp lệ hoặc bị trùng.", "A year in the holiday file is out of range or repeated.")
	ErrFileDay   = fault.New(fault.Invalid, "workday.file_day", "Một ngày trong tệp lịch ngày nghỉ không hợp lệ.", "A day in the holiday file is invalid.")
	ErrFileLarge = fault.New(fault.TooLarge, "workday.file_large", "Tệp lịch ngày nghỉ quá lớn.", "The holiday file is too large.")
)

// file is the format of data/holidays.json and of an administrator's upload.
type file struct {
	About string `json:"about"`
	Years []Year `json:"years"`
}

// ParseYears reads a holiday file: {"years": [{"year", "status", "source",
// "off": [{"date", "name"}], "work": [...]}]}. Unknown fields, trailing
// data, a repeated year and any entry Check refuses are faults; nothing is
// partly accepted.
func ParseYears(b []byte) ([]Year, error) {
	if len(b) > maxFileBytes {
		return nil, ErrFileLarge
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		if fe := (*fault.Error)(nil); asFault(err, &fe) {
			return nil, ErrFileDay.Wrap(err)
		}
		return nil, ErrFile.Wrap(err)
	}
	if dec.More() {
		return nil, ErrFile.Wrap(fmt.Errorf("trailing data"))
	}
	seen := map[int]bool{}
	for _, y := range f.Years {
		if seen[y.Year] {
			return nil, ErrFileYear.WithField(strconv.Itoa(y.Year))
		}
		seen[y.Year] = true
		if err := y.Check(); err != nil {
			return nil, err
		}
	}
	return f.Years, nil
}

// Check refuses a year out of range, an unknown status, an entry outside
// its year, a date listed twice, a make-up working day that is not a
// weekend day, and names or sources that are too long or not UTF-8.
func (y Year) Check() error {
	field := strconv.Itoa(y.Year)
	if y.Year < minYear || y.Year > maxYear {
		return ErrFileYear.WithField(field)
	}
	switch y.Status {
	case StatusOfficial, StatusRules, StatusOverride:
	default:
		return ErrFile.WithField(field + ".status")
	}
	if !text(y.Source, maxSourceRunes) {
		return ErrFile.WithField(field + ".source")
	}
	if len(y.Off)+len(y.Work) > maxYearEntries {
		return ErrFileLarge.WithField(field)
	}
	seen := map[civildate.Date]bool{}
	for i, list := range [][]Day{y.Off, y.Work} {
		for _, d := range list {
			f := field + "." + d.Date.String()
			if d.Date.Year != y.Year || d.Date.Partial() || d.Date.Valid() != nil || seen[d.Date] || !text(d.Name, maxNameRunes) {
				return ErrFileDay.WithField(f)
			}
			seen[d.Date] = true
			if wd := weekday(d.Date); i == 1 && wd != time.Saturday && wd != time.Sunday {
				return ErrFileDay.WithField(f)
			}
		}
	}
	return nil
}

func text(s string, max int) bool {
	return utf8.ValidString(s) && utf8.RuneCountInString(s) <= max && !strings.ContainsAny(s, "\x00\r\n")
}

// RulesYear computes a year from the Labour Code's rules and the lunar
// dates of that year: 1/1; Tết = the lunar New Year's Eve and days 1–4 of
// month 1; Giỗ Tổ 10/3 lunar; 30/4; 1/5; 2/9 with 3/9 when 2/9 is a
// Thursday, else 1/9 (the Prime Minister picks each year, Decree
// 145/2020/NĐ-CP Art. 62); and for each holiday on a weekend the next
// working day off (Art. 111(3)). The government's notice usually arranges
// Tết differently; an official year replaces this one.
func RulesYear(year int, l LunarYear) Year {
	y := Year{Year: year, Status: StatusRules, Source: "Bộ luật Lao động 2019 Điều 112 (tính theo quy tắc)"}
	day := func(m, d int) civildate.Date { return civildate.Date{Year: year, Month: m, Day: d} }
	add := func(d civildate.Date, name string) {
		for _, o := range y.Off {
			if o.Date == d { // two holidays on one day (not so 2020–2040) are one day off
				return
			}
		}
		y.Off = append(y.Off, Day{Date: d, Name: name})
	}
	add(day(1, 1), "Tết Dương lịch")
	for i := -1; i <= 3; i++ {
		add(addDays(l.Tet, i), "Tết Nguyên đán")
	}
	add(addDays(l.Month3, 9), "Giỗ Tổ Hùng Vương")
	add(day(4, 30), "Ngày Chiến thắng")
	add(day(5, 1), "Ngày Quốc tế Lao động")
	if weekday(day(9, 2)) == time.Thursday {
		add(day(9, 2), "Quốc khánh")
		add(day(9, 3), "Quốc khánh")
	} else {
		add(day(9, 1), "Quốc khánh")
		add(day(9, 2), "Quốc khánh")
	}
	off := map[civildate.Date]bool{}
	for _, d := range y.Off {
		off[d.Date] = true
	}
	var comp []Day
	for _, d := range y.Off {
		if wd := weekday(d.Date); wd != time.Saturday && wd != time.Sunday {
			continue
		}
		// The next weekday not already off; taken in order, so Tết's two
		// weekend days give two consecutive compensatory days.
		c := addDays(d.Date, 1)
		for weekday(c) == time.Saturday || weekday(c) == time.Sunday || off[c] {
			c = addDays(c, 1)
		}
		off[c] = true
		comp = append(comp, Day{Date: c, Name: "Nghỉ bù " + d.Name})
	}
	for _, c := range comp {
		if c.Date.Year == year { // a 31/12 weekend holiday does not exist; keep the year closed anyway
			y.Off = append(y.Off, c)
		}
	}
	sortDays(y.Off)
	return y
}

func sortDays(ds []Day) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && after(ds[j-1].Date, ds[j].Date); j-- {
			ds[j-1], ds[j] = ds[j], ds[j-1]
		}
	}
}

// LunarYear holds the Gregorian dates of a lunar year's first day (Tết) and
// the first day of its third month.
type LunarYear struct {
	Tet, Month3 civildate.Date
}

// parseLunar reads data/lunar.csv: "year,tet,month3" rows after comments
// and a header.
func parseLunar(b []byte) (map[int]LunarYear, error) {
	out := map[int]LunarYear{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "year,") {
			continue
		}
		parts := strings.Split(line, ",")
		if len(parts) != 3 {
			return nil, fmt.Errorf("line %d: want 3 fields", i+1)
		}
		y, err := strconv.Atoi(parts[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		tet, err1 := civildate.Parse(parts[1])
		m3, err2 := civildate.Parse(parts[2])
		if err1 != nil || err2 != nil || tet.Year != y || m3.Year != y || tet.Partial() || m3.Partial() {
			return nil, fmt.Errorf("line %d: bad dates", i+1)
		}
		out[y] = LunarYear{Tet: tet, Month3: m3}
	}
	return out, nil
}

func asFault(err error, target **fault.Error) bool {
	return errors.As(err, target)
}
