package stay_test

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/stay"
)

// FuzzParseRow feeds arbitrary files to the header and row parser: no
// panic, a row that parses has an arrival time, and a refused time names
// its field.
func FuzzParseRow(f *testing.F) {
	f.Add("ref,pin,full_name,arrival\nr1,001090123456,Nguyễn Văn A,01/03/2026 22:15\n")
	f.Add("ref,passport,nationality,full_name,birth_date,arrival\nr2,C123,FR,Marie,1990-01-02,2026-03-01T23:30:00+07:00\n")
	f.Add("\uFEFFREF,Full_Name,Arrival,qr\nr3,A,2026-03-01 08:00,001|x|y\n")
	f.Add("ref,full_name,arrival,arrival\n")
	f.Fuzz(func(t *testing.T, file string) {
		cr := csv.NewReader(strings.NewReader(file))
		cr.FieldsPerRecord = -1
		head, err := cr.Read()
		if err != nil {
			return
		}
		idx, err := stay.Header(head)
		if err != nil {
			return
		}
		for {
			rec, err := cr.Read()
			if err != nil {
				return
			}
			g, ferr := stay.ParseRow(idx, rec)
			if ferr == nil && g.Arrival.IsZero() {
				t.Fatalf("row %q parsed without an arrival", rec)
			}
			if ferr != nil && ferr.Field != "arrival" {
				t.Fatalf("row %q: fault on %q", rec, ferr.Field)
			}
		}
	})
}
