package workday

import (
	"errors"
	"testing"

	"github.com/dancu-project/dancu/internal/fault"
)

func TestParseYearsRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, in, code string
	}{
		{"not JSON", `{`, "workday.file"},
		{"unknown field", `{"years":[],"extra":1}`, "workday.file"},
		{"trailing data", `{"years":[]} {}`, "workday.file"},
		{"year out of range", `{"years":[{"year":1999,"status":"official"}]}`, "workday.file_year"},
		{"repeated year", `{"years":[{"year":2026,"status":"official"},{"year":2026,"status":"official"}]}`, "workday.file_year"},
		{"unknown status", `{"years":[{"year":2026,"status":"maybe"}]}`, "workday.file"},
		{"date in another year", `{"years":[{"year":2026,"status":"official","off":[{"date":"2027-01-01","name":"x"}]}]}`, "workday.file_day"},
		{"impossible date", `{"years":[{"year":2026,"status":"official","off":[{"date":"2026-02-30","name":"x"}]}]}`, "workday.file_day"},
		{"partial date", `{"years":[{"year":2026,"status":"official","off":[{"date":"2026-02","name":"x"}]}]}`, "workday.file_day"},
		{"listed twice", `{"years":[{"year":2026,"status":"official","off":[{"date":"2026-01-01","name":"x"}],"work":[{"date":"2026-01-01","name":"y"}]}]}`, "workday.file_day"},
		{"make-up on a weekday", `{"years":[{"year":2026,"status":"official","work":[{"date":"2026-01-05","name":"x"}]}]}`, "workday.file_day"},
		{"newline in a name", `{"years":[{"year":2026,"status":"official","off":[{"date":"2026-01-01","name":"a\nb"}]}]}`, "workday.file_day"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseYears([]byte(tc.in))
			if err == nil || fault.As(err).Code != tc.code {
				t.Errorf("ParseYears = %v, want %s", err, tc.code)
			}
		})
	}
	if _, err := ParseYears(make([]byte, maxFileBytes+1)); !errors.Is(err, ErrFileLarge) {
		t.Errorf("large file: %v", err)
	}
}

// FuzzParseYears: any input is either refused with a workday fault or gives
// years every one of which Check accepts and a calendar takes.
func FuzzParseYears(f *testing.F) {
	b, err := dataFS.ReadFile("data/holidays.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"years":[{"year":2026,"status":"override","work":[{"date":"2026-01-10","name":"Làm bù"}]}]}`))
	f.Add([]byte(`{"years":[{"year":2026,"status":"official","off":[{"date":"10/01/2026","name":"x"}]}]}`))
	c, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		years, err := ParseYears(in)
		if err != nil {
			if code := fault.As(err).Code; len(code) < 8 || code[:8] != "workday." {
				t.Fatalf("refusal without a workday code: %v", err)
			}
			return
		}
		for _, y := range years {
			if err := y.Check(); err != nil {
				t.Fatalf("accepted year fails Check: %v", err)
			}
		}
		if _, err := c.With(years...); err != nil {
			t.Fatalf("accepted years refused by With: %v", err)
		}
	})
}
