package card

import (
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
)

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

// ict is a wall-clock time in Vietnam (UTC+7), returned in UTC as a server
// clock would give it.
func ict(y, m, d, hh, mm int) time.Time {
	return time.Date(y, time.Month(m), d, hh, mm, 0, 0, time.FixedZone("ICT", 7*3600)).UTC()
}

func TestExpiry(t *testing.T) {
	born := civildate.Date{Year: 2000, Month: 6, Day: 15}
	tests := []struct {
		name     string
		birth    civildate.Date
		issue    time.Time
		want     time.Time
		lifetime bool
	}{
		{"newborn runs to 14", born, day(2000, 7, 1), day(2014, 6, 15), false},
		{"day before 12th birthday runs to 14", born, day(2012, 6, 14), day(2014, 6, 15), false},
		{"on 12th birthday skips to 25", born, day(2012, 6, 15), day(2025, 6, 15), false},
		{"at 14 runs to 25", born, day(2014, 6, 15), day(2025, 6, 15), false},
		{"day before 23rd birthday runs to 25", born, day(2023, 6, 14), day(2025, 6, 15), false},
		{"on 23rd birthday skips to 40", born, day(2023, 6, 15), day(2040, 6, 15), false},
		{"at 25 runs to 40", born, day(2025, 6, 15), day(2040, 6, 15), false},
		{"day before 38th birthday runs to 40", born, day(2038, 6, 14), day(2040, 6, 15), false},
		{"on 38th birthday skips to 60", born, day(2038, 6, 15), day(2060, 6, 15), false},
		{"day before 58th birthday runs to 60", born, day(2058, 6, 14), day(2060, 6, 15), false},
		{"on 58th birthday is lifetime", born, day(2058, 6, 15), time.Time{}, true},
		{"at 70 is lifetime", born, day(2070, 1, 1), time.Time{}, true},
		{"time of day ignored", born, time.Date(2012, 6, 14, 16, 59, 0, 0, time.UTC), day(2014, 6, 15), false},
		// The issue day is Vietnam's (UTC+7): 00:30 ICT on a birthday is
		// 17:30 UTC the day before, 23:30 ICT the day before is 16:30 UTC.
		{"00:30 ICT on 12th birthday skips to 25", born, ict(2012, 6, 15, 0, 30), day(2025, 6, 15), false},
		{"23:30 ICT the day before 12th birthday runs to 14", born, ict(2012, 6, 14, 23, 30), day(2014, 6, 15), false},
		{"00:30 ICT on 23rd birthday skips to 40", born, ict(2023, 6, 15, 0, 30), day(2040, 6, 15), false},
		{"23:30 ICT the day before 23rd birthday runs to 25", born, ict(2023, 6, 14, 23, 30), day(2025, 6, 15), false},
		{"00:30 ICT on 38th birthday skips to 60", born, ict(2038, 6, 15, 0, 30), day(2060, 6, 15), false},
		{"23:30 ICT the day before 38th birthday runs to 40", born, ict(2038, 6, 14, 23, 30), day(2040, 6, 15), false},
		{"00:30 ICT on 58th birthday is lifetime", born, ict(2058, 6, 15, 0, 30), time.Time{}, true},
		{"23:30 ICT the day before 58th birthday runs to 60", born, ict(2058, 6, 14, 23, 30), day(2060, 6, 15), false},
		{"29 Feb birth expires 28 Feb in common year", civildate.Date{Year: 2004, Month: 2, Day: 29}, day(2010, 1, 1), day(2018, 2, 28), false},
		{"29 Feb birth expires 29 Feb in leap year", civildate.Date{Year: 1996, Month: 2, Day: 29}, day(2020, 1, 1), day(2036, 2, 29), false},
		{"year-only birth counts from 1 January", civildate.Date{Year: 1990}, day(2014, 12, 31), day(2030, 1, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, life := Expiry(tt.birth, tt.issue)
			if life != tt.lifetime || !got.Equal(tt.want) {
				t.Errorf("Expiry(%v, %v) = %v, %v; want %v, %v", tt.birth, tt.issue.Format(time.DateOnly), got.Format(time.DateOnly), life, tt.want.Format(time.DateOnly), tt.lifetime)
			}
		})
	}
}

func TestVerifyUntil(t *testing.T) {
	born := civildate.Date{Year: 1968, Month: 3, Day: 10}
	tests := []struct {
		name  string
		birth civildate.Date
		issue time.Time
		want  civildate.Date
	}{
		{"fixed-term card verifies to its expiry", born, day(2020, 1, 1), civildate.Date{Year: 2028, Month: 3, Day: 10}},
		{"lifetime card issued at 58 verifies 62 years", born, day(2026, 3, 10), civildate.Date{Year: 2088, Month: 3, Day: 10}},
		{"lifetime card at 00:30 ICT counts from Vietnam's day", born, ict(2026, 12, 8, 0, 30), civildate.Date{Year: 2088, Month: 12, Day: 8}},
		{"longest fixed term: issued at 38, valid to 60", born, day(2006, 3, 10), civildate.Date{Year: 2028, Month: 3, Day: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifyUntil(tt.birth, tt.issue); got != tt.want {
				t.Errorf("VerifyUntil = %v, want %v", got, tt.want)
			}
		})
	}
	// No card verifies longer than LifetimeVerifyYears after its issue.
	for age := 0; age <= 110; age++ {
		issue := day(1968+age, 3, 9)
		got := VerifyUntil(born, issue)
		if limit := civildate.Of(issue.AddDate(LifetimeVerifyYears, 0, 1)); got.Earliest().After(limit.Earliest()) {
			t.Errorf("issued at %d: verifies to %v, after %v", age, got, limit)
		}
	}
}
