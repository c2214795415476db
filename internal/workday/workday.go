// Package workday is the working-day calendar behind the legal deadlines of
// dossiers: Monday to Friday, less Vietnam's public holidays (Labour Code
// 45/2019/QH14 Art. 112: 1/1; Tết Nguyên đán, five days around the lunar new
// year; Giỗ Tổ Hùng Vương, 10/3 lunar; 30/4; 1/5; 2/9 and an adjacent day),
// with a compensatory day off when a holiday falls on a weekend and the
// make-up working Saturdays the government swaps for long breaks.
//
// Where the years come from, last wins: the rules computed from an embedded
// lunar table for 2020–2040 (data/lunar.csv); the official calendars shipped
// in data/holidays.json (2025, 2026, 2027); the overrides an administrator
// gives With (for example the year's notice once the government publishes
// it). A date in a year none of them covers is an error, never a guess.
//
// A dossier's clock: the counting day (day 0) is the day it is received, or
// the next working day when it is received after 15:00 Vietnam time or on a
// day off (the rule DOMAIN.md §8 and §11 record for the liên thông and
// online procedures; the article of Decree 61/2018/NĐ-CP, as amended by
// Decree 107/2021/NĐ-CP, that carries it is not verified here); it is due
// N working days after day 0; a supplement
// request stops the clock and the working days left resume from the day the
// supplement arrives (counted by the same 15:00 rule). Every date and time is
// Vietnam's (civildate.Location).
//
// A Calendar's years are fixed once built, so one value serves every
// request; administrators' overrides swap in atomically (Override).
package workday

import (
	"embed"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
)

//go:embed data/holidays.json data/lunar.csv
var dataFS embed.FS

// CutoffHour is the hour (Vietnam time) after which a dossier counts from
// the next working day: one received at 15:00:00 exactly counts today.
const CutoffHour = 15

// Faults. Their codes are part of the API.
var (
	ErrYearUnknown = fault.New(fault.Invalid, "workday.year_unknown", "Chưa có lịch ngày nghỉ của năm này.", "No holiday calendar for this year.")
	ErrLegalDays   = fault.New(fault.Invalid, "workday.legal_days", "Thời hạn giải quyết phải từ 0 đến 365 ngày làm việc.", "The legal time must be 0 to 365 working days.")
	ErrClockState  = fault.New(fault.Conflict, "workday.clock_state", "Thời hạn đang tạm dừng hoặc đang chạy, không thể thực hiện thao tác này.", "The clock is not in a state that allows this.")
)

// Calendar answers which civil dates are working days.
type Calendar struct {
	first, last int                       // years covered
	off         map[civildate.Date]string // day off → its name
	work        map[civildate.Date]string // weekend made a working day → why
	years       map[int]Year              // the year each date came from
	// over is this calendar with the administrators' overrides (Override),
	// answering in its place when set: every holder of the calendar sees
	// an override at once, without a lock on the read path.
	over atomic.Pointer[Calendar]
}

// Override makes c answer from now on as c.With(years...) would: each
// year replaces the shipped or computed year of the same number. A later
// call replaces the earlier overrides (none: back to the shipped years).
// It is how administrators' stored overrides reach every node (the
// services module reloads them periodically); nothing else changes a
// Calendar.
func (c *Calendar) Override(years ...Year) error {
	if len(years) == 0 {
		c.over.Store(nil)
		return nil
	}
	n, err := c.With(years...)
	if err != nil {
		return err
	}
	c.over.Store(n)
	return nil
}

// current is the calendar that answers: the overridden one when any.
func (c *Calendar) current() *Calendar {
	if o := c.over.Load(); o != nil {
		return o
	}
	return c
}

// Default is the calendar built from the embedded lunar table and the
// shipped official years.
func Default() (*Calendar, error) {
	lunar, err := dataFS.ReadFile("data/lunar.csv")
	if err != nil {
		return nil, fmt.Errorf("workday: %w", err)
	}
	table, err := parseLunar(lunar)
	if err != nil {
		return nil, fmt.Errorf("workday: embedded lunar table: %w", err)
	}
	b, err := dataFS.ReadFile("data/holidays.json")
	if err != nil {
		return nil, fmt.Errorf("workday: %w", err)
	}
	official, err := ParseYears(b)
	if err != nil {
		return nil, fmt.Errorf("workday: embedded holidays: %w", err)
	}
	years := make([]Year, 0, len(table))
	for y := range table {
		years = append(years, RulesYear(y, table[y]))
	}
	c := build(years)
	return c.With(official...)
}

func build(years []Year) *Calendar {
	c := &Calendar{off: map[civildate.Date]string{}, work: map[civildate.Date]string{}, years: map[int]Year{}}
	for _, y := range years {
		c.put(y)
	}
	return c
}

func (c *Calendar) put(y Year) {
	if old, ok := c.years[y.Year]; ok {
		for _, d := range old.Off {
			delete(c.off, d.Date)
		}
		for _, d := range old.Work {
			delete(c.work, d.Date)
		}
	}
	c.years[y.Year] = y
	for _, d := range y.Off {
		c.off[d.Date] = d.Name
	}
	for _, d := range y.Work {
		c.work[d.Date] = d.Name
	}
	if c.first == 0 || y.Year < c.first {
		c.first = y.Year
	}
	if y.Year > c.last {
		c.last = y.Year
	}
}

// With returns a calendar in which each given year replaces the year of the
// same number (an administrator's override, a newly published notice);
// the receiver is unchanged, and its own Override is not carried over. Each year is checked as ParseYears checks it.
func (c *Calendar) With(years ...Year) (*Calendar, error) {
	for _, y := range years {
		if err := y.Check(); err != nil {
			return nil, err
		}
	}
	n := &Calendar{off: make(map[civildate.Date]string, len(c.off)), work: make(map[civildate.Date]string, len(c.work)), years: make(map[int]Year, len(c.years)), first: c.first, last: c.last}
	for k, v := range c.off {
		n.off[k] = v
	}
	for k, v := range c.work {
		n.work[k] = v
	}
	for k, v := range c.years {
		n.years[k] = v
	}
	for _, y := range years {
		n.put(y)
	}
	return n, nil
}

// Year returns the calendar's list for year y, and whether it has one.
func (c *Calendar) Year(y int) (Year, bool) {
	v, ok := c.current().years[y]
	return v, ok
}

// IsWorkingDay reports whether d is a working day, and the name of the day
// off when it is not a weekend.
func (c *Calendar) IsWorkingDay(d civildate.Date) (bool, string, error) {
	if d.Partial() || d.Valid() != nil {
		return false, "", fault.Invalidf("date", "workday.date", "Ngày không hợp lệ: %s.", "Not a valid date: %s.", d.String())
	}
	c = c.current()
	if _, ok := c.years[d.Year]; !ok {
		return false, "", ErrYearUnknown.WithField("date")
	}
	if name, ok := c.work[d]; ok {
		return true, name, nil
	}
	if name, ok := c.off[d]; ok {
		return false, name, nil
	}
	wd := weekday(d)
	return wd != time.Saturday && wd != time.Sunday, "", nil
}

// NextWorkingDay is the first working day after d.
func (c *Calendar) NextWorkingDay(d civildate.Date) (civildate.Date, error) {
	for i := 0; i < 60; i++ { // Tết with its weekends is at most ten days
		d = addDays(d, 1)
		ok, _, err := c.IsWorkingDay(d)
		if err != nil {
			return civildate.Date{}, err
		}
		if ok {
			return d, nil
		}
	}
	return civildate.Date{}, fault.New(fault.Internal, "workday.no_working_day", "Lịch ngày nghỉ không hợp lệ.", "The holiday calendar has no working day in 60 days.")
}

// CountingDay is day 0 of a clock started by something received at the
// instant at: that day in Vietnam when it is a working day and the time is
// 15:00:00 or earlier, else the next working day.
func (c *Calendar) CountingDay(at time.Time) (civildate.Date, error) {
	local := at.In(civildate.Location())
	d := civildate.Of(at)
	ok, _, err := c.IsWorkingDay(d)
	if err != nil {
		return civildate.Date{}, err
	}
	cutoff := time.Date(local.Year(), local.Month(), local.Day(), CutoffHour, 0, 0, 0, civildate.Location())
	if ok && !local.After(cutoff) {
		return d, nil
	}
	return c.NextWorkingDay(d)
}

// AddWorkingDays is the n-th working day after from (n = 0: from itself).
func (c *Calendar) AddWorkingDays(from civildate.Date, n int) (civildate.Date, error) {
	if n < 0 || n > maxLegal {
		return civildate.Date{}, ErrLegalDays
	}
	d := from
	for ; n > 0; n-- {
		var err error
		if d, err = c.NextWorkingDay(d); err != nil {
			return civildate.Date{}, err
		}
	}
	return d, nil
}

// WorkingDaysBetween counts the working days in (from, to]: 0 when to is
// not after from.
func (c *Calendar) WorkingDaysBetween(from, to civildate.Date) (int, error) {
	n := 0
	for d := addDays(from, 1); !after(d, to); d = addDays(d, 1) {
		ok, _, err := c.IsWorkingDay(d)
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// maxLegal bounds a legal time: no procedure takes more than a year, and a
// bound keeps a bad input from walking the calendar for ever.
const maxLegal = 365

func utc(d civildate.Date) time.Time {
	return time.Date(d.Year, time.Month(d.Month), d.Day, 0, 0, 0, 0, time.UTC)
}

func fromUTC(t time.Time) civildate.Date {
	return civildate.Date{Year: t.Year(), Month: int(t.Month()), Day: t.Day()}
}

func addDays(d civildate.Date, n int) civildate.Date { return fromUTC(utc(d).AddDate(0, 0, n)) }

func weekday(d civildate.Date) time.Weekday { return utc(d).Weekday() }

// after reports whether a is a later date than b.
func after(a, b civildate.Date) bool { return utc(a).After(utc(b)) }
