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
