package workday

import (
	"testing"

	"github.com/dancu-project/dancu/internal/civildate"
)

// TestOverride: an administrator's year replaces the shipped one for every
// holder of the calendar at once; an extra day off stops counting, a
// make-up Saturday counts, and removing the override restores the year.
func TestOverride(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	shipped, _ := c.Year(2026)
	mon := civildate.Date{Year: 2026, Month: 12, Day: 14} // a Monday
	sat := civildate.Date{Year: 2026, Month: 12, Day: 19} // a Saturday
	y := shipped
	y.Status, y.Source = StatusOverride, "test"
	y.Off = append(append([]Day{}, shipped.Off...), Day{Date: mon, Name: "Nghỉ bù"})
	y.Work = []Day{{Date: sat, Name: "Làm bù"}}
	before, _ := c.AddWorkingDays(civildate.Date{Year: 2026, Month: 12, Day: 11}, 5)
	if err := c.Override(y); err != nil {
		t.Fatal(err)
	}
	if ok, name, _ := c.IsWorkingDay(mon); ok || name != "Nghỉ bù" {
		t.Errorf("overridden Monday: working %v %q, want a day off", ok, name)
	}
	if ok, _, _ := c.IsWorkingDay(sat); !ok {
		t.Error("make-up Saturday is not a working day")
	}
	if got, _ := c.Year(2026); got.Status != StatusOverride {
		t.Errorf("Year(2026) status %q", got.Status)
	}
	// Friday 11/12 + 5 working days: Mon 14 off and Sat 19 on, so the same
	// due date as before (one day lost, one gained), but through other days.
	after, _ := c.AddWorkingDays(civildate.Date{Year: 2026, Month: 12, Day: 11}, 4)
	if want := (civildate.Date{Year: 2026, Month: 12, Day: 18}); after != want {
		t.Errorf("4 working days after 11/12 with the override: %v, want %v", after, want)
	}
	bad := y
	bad.Work = []Day{{Date: mon, Name: "not a weekend"}}
	if err := c.Override(bad); err == nil {
		t.Error("a make-up working day on a Monday was accepted")
	}
	if ok, _, _ := c.IsWorkingDay(mon); ok {
		t.Error("a refused override replaced the one in force")
	}
	if err := c.Override(); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := c.IsWorkingDay(mon); !ok {
		t.Error("after removing the override the Monday is still off")
	}
	if again, _ := c.AddWorkingDays(civildate.Date{Year: 2026, Month: 12, Day: 11}, 5); again != before {
		t.Errorf("after removing the override: %v, want %v", again, before)
	}
}
