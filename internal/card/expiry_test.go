package card

import (
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
)

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

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
		{"time of day ignored", born, time.Date(2012, 6, 14, 23, 59, 0, 0, time.UTC), day(2014, 6, 15), false},
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
