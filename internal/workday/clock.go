package workday

import (
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
)

// Clock is a dossier's legal clock, a value the dossier stores (every field
// is plain data) and passes back to the Calendar's methods, which return the
// next value. While it runs, day 0 is From and it is due on Due; while it is
// stopped (a supplement requested), Used says how many working days went by
// and Due keeps the date it had when it stopped.
type Clock struct {
	Legal   int            `json:"legal"`   // legal time in working days
	Used    int            `json:"used"`    // working days used by earlier running periods
	From    civildate.Date `json:"from"`    // day 0 of the running period
	Due     civildate.Date `json:"due"`     // the last day to finish on
	Stopped bool           `json:"stopped"` // a supplement is awaited
}

// Start begins the clock of something received at the instant received
// with a legal time of legal working days.
func (c *Calendar) Start(received time.Time, legal int) (Clock, error) {
	if legal < 0 || legal > maxLegal {
		return Clock{}, ErrLegalDays
	}
	from, err := c.CountingDay(received)
	if err != nil {
		return Clock{}, err
	}
	due, err := c.AddWorkingDays(from, legal)
	if err != nil {
		return Clock{}, err
	}
	return Clock{Legal: legal, From: from, Due: due}, nil
}

// Stop stops a running clock at the instant at (a supplement requested):
// the working days after day 0 up to and including at's date are used.
func (c *Calendar) Stop(k Clock, at time.Time) (Clock, error) {
	if k.Stopped {
		return k, ErrClockState
	}
	n, err := c.WorkingDaysBetween(k.From, civildate.Of(at))
	if err != nil {
		return k, err
	}
	k.Used += n
	k.Stopped = true
	return k, nil
}

// Resume restarts a stopped clock when the supplement arrives at the
// instant at: day 0 is counted like a receipt (the 15:00 cut-off), and the
// working days left run from it. A clock stopped after its due date stays
// overdue with the same due date.
func (c *Calendar) Resume(k Clock, at time.Time) (Clock, error) {
	if !k.Stopped {
		return k, ErrClockState
	}
	from, err := c.CountingDay(at)
	if err != nil {
		return k, err
	}
	k.Stopped = false
	k.From = from
	if left := k.Legal - k.Used; left >= 0 {
		if k.Due, err = c.AddWorkingDays(from, left); err != nil {
			return k, err
		}
	}
	return k, nil
}

// State is where a clock stands at an instant.
type State string

// States of a clock.
const (
	OnTime  State = "on_time"
	DueSoon State = "due_soon" // the early warning
	Overdue State = "overdue"
	Paused  State = "paused" // stopped, waiting for a supplement
)

// Warning says when a running clock is due soon: when at most Days working
// days are left, or less than Percent per cent of the legal time.
type Warning struct {
	Days    int
	Percent int
}

// DefaultWarning warns one working day ahead, or with less than a fifth of
// the legal time left.
func DefaultWarning() Warning { return Warning{Days: 1, Percent: 20} }

// Status is the clock's state at the instant now and the working days left
// after today (negative: working days overdue, counted after the due date).
type Status struct {
	State State `json:"state"`
	Left  int   `json:"left"`
}

// Status says whether k is on time, due soon, overdue or paused at now.
func (c *Calendar) Status(k Clock, now time.Time, w Warning) (Status, error) {
	today := civildate.Of(now)
	if k.Stopped {
		return Status{State: Paused, Left: k.Legal - k.Used}, nil
	}
	if after(today, k.Due) {
		n, err := c.WorkingDaysBetween(k.Due, today)
		if err != nil {
			return Status{}, err
		}
		return Status{State: Overdue, Left: -n}, nil
	}
	left, err := c.WorkingDaysBetween(today, k.Due)
	if err != nil {
		return Status{}, err
	}
	if left <= w.Days || left*100 < w.Percent*k.Legal {
		return Status{State: DueSoon, Left: left}, nil
	}
	return Status{State: OnTime, Left: left}, nil
}
