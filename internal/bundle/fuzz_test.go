package bundle

import (
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
)

// FuzzFormDate: the forms' date parser (dd/mm/yyyy or YYYY-MM-DD, from
// citizens' and partners' input) never panics, and a date it accepts is
// full, not after today and within the window.
func FuzzFormDate(f *testing.F) {
	for _, s := range []string{"05/12/2026", "2026-12-05", "31/02/2026", "", "//", "1/1/1", "2026-13-01", " 01/12/2026 ", "99999/12/01", "0000-00-00"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, civildate.Location())
	f.Fuzz(func(t *testing.T, s string) {
		d, err := date(s, now, BirthWindowDays)
		if err != nil {
			return
		}
		if d.Partial() || d.NotFuture(now) != nil {
			t.Fatalf("%q accepted as %v", s, d)
		}
		if civildate.Today(now).Time().Sub(d.Time()) > BirthWindowDays*24*time.Hour {
			t.Fatalf("%q outside the window accepted as %v", s, d)
		}
	})
}
