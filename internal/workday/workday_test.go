package workday

import (
	"errors"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
)

func cal(t testing.TB) *Calendar {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func date(t testing.TB, s string) civildate.Date {
	t.Helper()
	d, err := civildate.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// ict is a wall-clock time in Vietnam.
func ict(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04:05", s, civildate.Location())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestWorkingDays(t *testing.T) {
	c := cal(t)
	for _, tc := range []struct {
		day  string
		want bool
	}{
		{"2025-01-01", false}, // Tết Dương lịch, Wednesday
		{"2025-01-24", true},  // Friday before the Tết break
		{"2025-01-27", false}, // Tết Ất Tỵ break
		{"2025-02-03", true},  // back to work
		{"2025-04-07", false}, // Giỗ Tổ, Monday
		{"2025-04-26", true},  // make-up Saturday for Friday 2/5
		{"2025-05-02", false}, // swapped Friday
		{"2025-09-01", false},
		{"2026-01-01", false},
		{"2026-02-13", true}, // last working day before Tết Bính Ngọ
		{"2026-02-14", false},
		{"2026-02-17", false}, // mùng 1 Tết
		{"2026-02-20", false},
		{"2026-02-22", false},
		{"2026-02-23", true},  // first working day after
		{"2026-04-27", false}, // compensatory day for Giỗ Tổ on Sunday 26/4
		{"2026-04-28", true},
		{"2026-04-30", false},
		{"2026-05-01", false},
		{"2026-05-02", false}, // Saturday
		{"2026-09-02", false},
		{"2026-12-07", true},  // a Monday
		{"2027-02-10", false}, // computed compensatory day for Tết on the weekend
		{"2027-05-03", false}, // compensatory for 1/5 on Saturday
		{"2030-02-01", false}, // lunar New Year's Eve in Vietnam (Tết 2/2/2030, a day before China's)
		{"2030-02-07", false}, // rules: compensatory day for Sunday 3/2
		{"2030-02-08", true},
	} {
		got, _, err := c.IsWorkingDay(date(t, tc.day))
		if err != nil || got != tc.want {
			t.Errorf("IsWorkingDay(%s) = %v, %v; want %v", tc.day, got, err, tc.want)
		}
	}
	if _, _, err := c.IsWorkingDay(date(t, "2041-01-02")); !errors.Is(err, ErrYearUnknown) {
		t.Errorf("2041: %v, want %v", err, ErrYearUnknown)
	}
	if _, _, err := c.IsWorkingDay(civildate.Date{Year: 2026, Month: 2}); fault.As(err).Code != "workday.date" {
		t.Errorf("partial date: %v", err)
	}
}

func TestCountingDay(t *testing.T) {
	c := cal(t)
	for _, tc := range []struct {
		name, at, want string
	}{
		{"00:30 on a Tuesday counts that day", "2026-03-10 00:30:00", "2026-03-10"},
		{"14:59", "2026-03-10 14:59:00", "2026-03-10"},
		{"15:00:00 exactly is not after 15:00", "2026-03-10 15:00:00", "2026-03-10"},
		{"15:00:01", "2026-03-10 15:00:01", "2026-03-11"},
		{"15:01", "2026-03-10 15:01:00", "2026-03-11"},
		{"23:30", "2026-03-10 23:30:00", "2026-03-11"},
		{"Friday 15:01 counts from Monday", "2026-03-13 15:01:00", "2026-03-16"},
		{"Saturday morning counts from Monday", "2026-03-14 09:00:00", "2026-03-16"},
		{"Friday before Tết after 15:00 counts after Tết", "2026-02-13 15:01:00", "2026-02-23"},
		{"received during Tết", "2026-02-17 10:00:00", "2026-02-23"},
		{"Thursday before the 30/4 swap", "2025-04-29 16:00:00", "2025-05-05"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.CountingDay(ict(t, tc.at))
			if err != nil || got != date(t, tc.want) {
				t.Errorf("CountingDay(%s) = %v, %v; want %s", tc.at, got, err, tc.want)
			}
		})
	}
	// The instant decides, not the location it is expressed in: 17:30 UTC on
	// the 9th is 00:30 on the 10th in Hà Nội, and 08:01 UTC is 15:01.
	if got, _ := c.CountingDay(time.Date(2026, 3, 9, 17, 30, 0, 0, time.UTC)); got != date(t, "2026-03-10") {
		t.Errorf("00:30 ICT given in UTC: %v", got)
	}
	if got, _ := c.CountingDay(time.Date(2026, 3, 10, 8, 1, 0, 0, time.UTC)); got != date(t, "2026-03-11") {
		t.Errorf("15:01 ICT given in UTC: %v", got)
	}
}

func TestStartDue(t *testing.T) {
	c := cal(t)
	for _, tc := range []struct {
		at    string
		legal int
		want  string
	}{
		{"2026-03-10 09:00:00", 0, "2026-03-10"}, // same working day (birth registration)
		{"2026-03-10 09:00:00", 3, "2026-03-13"},
		{"2026-03-10 15:30:00", 3, "2026-03-16"},
		{"2026-02-10 10:00:00", 5, "2026-02-24"}, // across Tết Bính Ngọ
		{"2026-04-23 14:00:00", 5, "2026-05-05"}, // across Giỗ Tổ's compensatory day and 30/4–1/5
		{"2025-04-24 08:00:00", 2, "2025-04-26"}, // the make-up Saturday counts
		{"2026-12-30 11:00:00", 2, "2027-01-04"}, // across the year and 1/1/2027
	} {
		k, err := c.Start(ict(t, tc.at), tc.legal)
		if err != nil || k.Due != date(t, tc.want) {
			t.Errorf("Start(%s, %d).Due = %v, %v; want %s", tc.at, tc.legal, k.Due, err, tc.want)
		}
	}
	if _, err := c.Start(ict(t, "2026-03-10 09:00:00"), -1); !errors.Is(err, ErrLegalDays) {
		t.Errorf("negative legal time: %v", err)
	}
	if _, err := c.Start(ict(t, "2040-12-20 09:00:00"), 30); !errors.Is(err, ErrYearUnknown) {
		t.Errorf("due beyond the calendar: %v", err)
	}
}

// TestClockAcrossTet stops a 5-day clock two days in, before Tết 2026, and
// resumes it after the break: the three days left run from the resume day.
func TestClockAcrossTet(t *testing.T) {
	c := cal(t)
	k, err := c.Start(ict(t, "2026-02-10 10:00:00"), 5) // Tuesday; due 24/2
	if err != nil {
		t.Fatal(err)
	}
	if k.From != date(t, "2026-02-10") || k.Due != date(t, "2026-02-24") {
		t.Fatalf("start: %+v", k)
	}
	k, err = c.Stop(k, ict(t, "2026-02-12 16:00:00")) // Wed 11 and Thu 12 used
	if err != nil || k.Used != 2 || !k.Stopped {
		t.Fatalf("stop: %+v %v", k, err)
	}
	if _, err := c.Stop(k, ict(t, "2026-02-12 16:00:00")); !errors.Is(err, ErrClockState) {
		t.Errorf("second stop: %v", err)
	}
	st, _ := c.Status(k, ict(t, "2026-03-30 10:00:00"), DefaultWarning())
	if st.State != Paused || st.Left != 3 {
		t.Errorf("paused status: %+v", st)
	}
	for _, tc := range []struct{ at, from, due string }{
		{"2026-02-20 10:00:00", "2026-02-23", "2026-02-26"}, // supplement sent during Tết
		{"2026-02-23 09:00:00", "2026-02-23", "2026-02-26"},
		{"2026-02-24 16:00:00", "2026-02-25", "2026-03-02"}, // after 15:00: from Wednesday, due Monday
	} {
		r, err := c.Resume(k, ict(t, tc.at))
		if err != nil || r.Stopped || r.From != date(t, tc.from) || r.Due != date(t, tc.due) {
			t.Errorf("Resume(%s) = %+v, %v; want from %s due %s", tc.at, r, err, tc.from, tc.due)
		}
	}
	// A second supplement: stop again the day after the resume.
	r, _ := c.Resume(k, ict(t, "2026-02-23 09:00:00"))
	r, _ = c.Stop(r, ict(t, "2026-02-24 11:00:00"))
	if r.Used != 3 {
		t.Errorf("second stop used %d, want 3", r.Used)
	}
	r, _ = c.Resume(r, ict(t, "2026-03-02 08:00:00"))
	if r.Due != date(t, "2026-03-04") {
		t.Errorf("second resume due %v, want 2026-03-04", r.Due)
	}
	if _, err := c.Resume(r, ict(t, "2026-03-02 08:00:00")); !errors.Is(err, ErrClockState) {
		t.Errorf("resume a running clock: %v", err)
	}
}

func TestClockStoppedWhenOverdue(t *testing.T) {
	c := cal(t)
	k, _ := c.Start(ict(t, "2026-03-02 09:00:00"), 2) // due Wed 4/3
	k, _ = c.Stop(k, ict(t, "2026-03-09 09:00:00"))   // 5 working days used
	k, _ = c.Resume(k, ict(t, "2026-03-10 09:00:00"))
	if k.Due != date(t, "2026-03-04") {
		t.Errorf("due moved to %v; an overdue clock keeps its due date", k.Due)
	}
	st, _ := c.Status(k, ict(t, "2026-03-10 09:00:00"), DefaultWarning())
	if st.State != Overdue || st.Left != -4 {
		t.Errorf("status %+v, want overdue by 4", st)
	}
}

func TestStatus(t *testing.T) {
	c := cal(t)
	k, _ := c.Start(ict(t, "2026-03-02 09:00:00"), 15) // due Mon 23/3
	if k.Due != date(t, "2026-03-23") {
		t.Fatalf("due %v", k.Due)
	}
	for _, tc := range []struct {
		now   string
		state State
		left  int
	}{
		{"2026-03-02 09:00:00", OnTime, 15},
		{"2026-03-17 09:00:00", OnTime, 4},  // 4/15 = 27 %
		{"2026-03-18 09:00:00", DueSoon, 3}, // 3/15 = 20 %, not less: but see below
		{"2026-03-20 23:59:00", DueSoon, 1},
		{"2026-03-22 10:00:00", DueSoon, 1}, // Sunday: Monday is left
		{"2026-03-23 16:59:00", DueSoon, 0}, // the due day itself
		{"2026-03-24 00:30:00", Overdue, -1},
		{"2026-03-28 10:00:00", Overdue, -4}, // Saturday: four working days late
	} {
		w := DefaultWarning()
		if tc.now == "2026-03-18 09:00:00" {
			w.Percent = 21 // 3/15 = 20 % is not less than 20 %
		}
		st, err := c.Status(k, ict(t, tc.now), w)
		if err != nil || st.State != tc.state || st.Left != tc.left {
			t.Errorf("Status at %s = %+v, %v; want %s %d", tc.now, st, err, tc.state, tc.left)
		}
	}
	if st, _ := c.Status(k, ict(t, "2026-03-18 09:00:00"), DefaultWarning()); st.State != OnTime {
		t.Errorf("exactly 20 %% left warns: %+v", st)
	}
}

func TestWithOverride(t *testing.T) {
	c := cal(t)
	// The government swaps Friday 2/1/2026 for Saturday 10/1/2026.
	y, _ := c.Year(2026)
	y.Status = StatusOverride
	y.Source = "test notice"
	y.Off = append(append([]Day(nil), y.Off...), Day{Date: date(t, "2026-01-02"), Name: "Nghỉ hoán đổi"})
	y.Work = []Day{{Date: date(t, "2026-01-10"), Name: "Làm bù"}}
	o, err := c.With(y)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := o.IsWorkingDay(date(t, "2026-01-02")); ok {
		t.Error("swapped Friday is a working day")
	}
	if ok, name, _ := o.IsWorkingDay(date(t, "2026-01-10")); !ok || name != "Làm bù" {
		t.Error("make-up Saturday is not a working day")
	}
	if ok, _, _ := c.IsWorkingDay(date(t, "2026-01-02")); !ok {
		t.Error("With changed the receiver")
	}
	// An override drops the old year's days: a year with no Tết is taken as given.
	o2, _ := c.With(Year{Year: 2026, Status: StatusOverride})
	if ok, _, _ := o2.IsWorkingDay(date(t, "2026-02-17")); !ok {
		t.Error("the replaced year's days off survived")
	}
	bad := Year{Year: 2026, Status: StatusOverride, Work: []Day{{Date: date(t, "2026-01-07"), Name: "x"}}}
	if _, err := c.With(bad); !errors.Is(err, ErrFileDay) {
		t.Errorf("make-up day on a Wednesday: %v", err)
	}
}

func TestRulesYear2027MatchesFile(t *testing.T) {
	c := cal(t)
	table := lunarTable(t)
	want := RulesYear(2027, table[2027])
	got, _ := c.Year(2027)
	if len(got.Off) != len(want.Off) || len(got.Work) != 0 {
		t.Fatalf("2027 in the file has %d days off, the rules %d", len(got.Off), len(want.Off))
	}
	for i := range want.Off {
		if got.Off[i].Date != want.Off[i].Date {
			t.Errorf("2027 day %d: file %v, rules %v", i, got.Off[i].Date, want.Off[i].Date)
		}
	}
	// The rules for 2025 give what the government announced on the days that
	// are not the government's choice.
	r25 := RulesYear(2025, table[2025])
	off := map[civildate.Date]bool{}
	for _, d := range r25.Off {
		off[d.Date] = true
	}
	for _, s := range []string{"2025-01-01", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-04-07", "2025-04-30", "2025-05-01", "2025-09-02"} {
		if !off[date(t, s)] {
			t.Errorf("rules 2025 miss %s", s)
		}
	}
}

func lunarTable(t testing.TB) map[int]LunarYear {
	b, err := dataFS.ReadFile("data/lunar.csv")
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseLunar(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLunarTable recomputes every row of the embedded table with the
// astronomical algorithm, and checks the years people remember.
func TestLunarTable(t *testing.T) {
	table := lunarTable(t)
	if len(table) != 21 {
		t.Fatalf("table has %d years, want 2020–2040", len(table))
	}
	for y := 2020; y <= 2040; y++ {
		tet, m3 := lunarToSolar(1, 1, y), lunarToSolar(1, 3, y)
		if table[y].Tet != tet || table[y].Month3 != m3 {
			t.Errorf("%d: table %+v, computed Tết %v month 3 %v", y, table[y], tet, m3)
		}
	}
	for y, want := range map[int][2]string{
		2024: {"2024-02-10", "2024-04-18"},
		2025: {"2025-01-29", "2025-04-07"},
		2026: {"2026-02-17", "2026-04-26"},
		2023: {"2023-01-22", "2023-04-29"}, // leap second month: Giỗ Tổ late
	} {
		if table[y].Tet != date(t, want[0]) || addDays(table[y].Month3, 9) != date(t, want[1]) {
			t.Errorf("%d: Tết %v, Giỗ Tổ %v; want %v", y, table[y].Tet, addDays(table[y].Month3, 9), want)
		}
	}
}

// TestRulesYears: every computed year 2020–2040 passes the checks an
// uploaded year must pass and gives at least the eleven days the Labour
// Code grants, none of them on a weekend unless compensated.
func TestRulesYears(t *testing.T) {
	table := lunarTable(t)
	for y := 2020; y <= 2040; y++ {
		ry := RulesYear(y, table[y])
		if err := ry.Check(); err != nil {
			t.Errorf("%d: %v", y, err)
		}
		weekdays := 0
		for _, d := range ry.Off {
			if wd := weekday(d.Date); wd != time.Saturday && wd != time.Sunday {
				weekdays++
			}
		}
		if weekdays < 11 {
			t.Errorf("%d: %d weekdays off, want at least 11", y, weekdays)
		}
	}
}
