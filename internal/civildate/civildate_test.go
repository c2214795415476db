package civildate

import (
	"errors"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr error
	}{
		{"1990-01-31", "1990-01-31", nil},
		{"31/01/1990", "1990-01-31", nil},
		{"1/2/1990", "1990-02-01", nil},
		{"31011990", "1990-01-31", nil},
		{"1948", "1948", nil},
		{"03/1952", "1952-03", nil},
		{"1952-03", "1952-03", nil},
		{" 2000-02-29 ", "2000-02-29", nil},
		{"1900-02-29", "", ErrDay},
		{"2023-02-29", "", ErrDay},
		{"31/04/2020", "", ErrDay},
		{"2020-13-01", "", ErrDay},
		{"2020-00-01", "", ErrDay},
		{"1700", "", ErrRange},
		{"90-01-01", "", ErrFormat},
		{"hôm qua", "", ErrFormat},
		{"", "", ErrFormat},
		{"2020-1a-01", "", ErrFormat},
		{"+2020", "", ErrFormat},
		{"2020-01-01-01", "", ErrFormat},
	}
	for _, tt := range tests {
		d, err := Parse(tt.in)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, d, err, tt.wantErr)
			}
			continue
		}
		if err != nil || d.String() != tt.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tt.in, d, err, tt.want)
		}
	}
}

func TestDisplayAndFuture(t *testing.T) {
	today := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		d       Date
		display string
		future  bool
	}{
		{Date{1990, 1, 31}, "31/01/1990", false},
		{Date{1952, 3, 0}, "03/1952", false},
		{Date{1948, 0, 0}, "1948", false},
		{Date{2026, 11, 23}, "23/11/2026", false},
		{Date{2026, 11, 24}, "24/11/2026", true},
		{Date{2027, 0, 0}, "2027", true},
	}
	for _, tt := range tests {
		if got := tt.d.Display(); got != tt.display {
			t.Errorf("%v.Display() = %q", tt.d, got)
		}
		if got := tt.d.NotFuture(today) != nil; got != tt.future {
			t.Errorf("%v future = %v", tt.d, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1990-01-31", "31/01/1990", "1948", "03/1952", "29022000", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(d.String())
		if err != nil || again != d {
			t.Fatalf("%q parsed to %v, whose ISO form %q does not round-trip: %v", s, d, d.String(), err)
		}
		if d.Valid() != nil {
			t.Fatalf("accepted invalid %v", d)
		}
	})
}

// TestTodayInVietnam runs the clock at 00:30 and 23:30 Vietnam time (UTC+7):
// the civil date is Vietnam's, never UTC's, and a date typed as "today" in
// Hà Nội just after midnight is not in the future.
func TestTodayInVietnam(t *testing.T) {
	tests := []struct {
		name string
		now  time.Time
		want Date
	}{
		{"00:30 ICT on 8 Dec is 17:30 UTC on 7 Dec", time.Date(2026, 12, 7, 17, 30, 0, 0, time.UTC), Date{2026, 12, 8}},
		{"23:30 ICT on 7 Dec is 16:30 UTC on 7 Dec", time.Date(2026, 12, 7, 16, 30, 0, 0, time.UTC), Date{2026, 12, 7}},
		{"00:30 ICT on 1 Jan: a new year in Vietnam only", time.Date(2026, 12, 31, 17, 30, 0, 0, time.UTC), Date{2027, 1, 1}},
		{"a clock in another zone gives the same day", time.Date(2026, 12, 7, 12, 30, 0, 0, time.FixedZone("EST", -5*3600)), Date{2026, 12, 8}},
		{"29 February at 00:30 ICT", time.Date(2028, 2, 28, 17, 30, 0, 0, time.UTC), Date{2028, 2, 29}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Today(tt.now); got != tt.want {
				t.Errorf("Today(%v) = %v, want %v", tt.now, got, tt.want)
			}
			if err := tt.want.NotFuture(tt.now); err != nil {
				t.Errorf("%v is today in Vietnam but NotFuture says %v", tt.want, err)
			}
			next := Of(tt.now.Add(24 * time.Hour))
			if err := next.NotFuture(tt.now); err == nil {
				t.Errorf("%v is tomorrow in Vietnam but NotFuture accepts it", next)
			}
			if got := tt.want.Time(); !got.Equal(time.Date(tt.want.Year, time.Month(tt.want.Month), tt.want.Day, 0, 0, 0, 0, time.UTC).Add(-7 * time.Hour)) {
				t.Errorf("%v.Time() = %v, want midnight UTC+7", tt.want, got)
			}
		})
	}
	if _, off := time.Date(2026, 6, 1, 0, 0, 0, 0, Location()).Zone(); off != 7*3600 {
		t.Errorf("Location() offset = %d s, want 25200", off)
	}
}
