package match_test

import (
	"context"
	"testing"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/match"
	"github.com/dancu-project/dancu/internal/seed"
	"github.com/dancu-project/dancu/internal/synth"
)

// TestMatchOutcomes builds an index of 3,000 synthetic people plus a few
// chosen ones and checks what a registrar would see for typical rows.
func TestMatchOutcomes(t *testing.T) {
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	b := match.NewBuilder(units, match.Options{Now: today})
	n := 0
	err = synth.Generate(synth.Config{Seed: 3, Persons: 3000, Areas: seed.Areas(units, today), Today: today}, func(h synth.Household) error {
		for _, m := range h.Members {
			d, _ := civildate.Parse(m.BirthDate)
			n++
			b.Add(match.Person{PIN: "0" + m.BirthProvince + "1" + civil2(m.BirthYear) + six(500000+n), FullName: m.FullName, BirthDate: d, Sex: string(m.Sex), CommuneCode: m.CommuneCode})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	chosen := []match.Person{
		{PIN: "001190000001", FullName: "Tạ Thị Hoà", BirthDate: civildate.Date{Year: 1990, Month: 3, Day: 12}, Sex: "F", CommuneCode: "00004"},
		{PIN: "001088999001", FullName: "Trịnh Công Sơn", BirthDate: civildate.Date{Year: 1988, Month: 2, Day: 28}, Sex: "M", CommuneCode: "00004"},
		{PIN: "079088999002", FullName: "Trịnh Công Sơn", BirthDate: civildate.Date{Year: 1988, Month: 2, Day: 28}, Sex: "M", CommuneCode: "26734"},
		{PIN: "001045000003", FullName: "Lưu Văn Khải", BirthDate: civildate.Date{Year: 1945}, Sex: "M", CommuneCode: "00004", Dead: true},
		{PIN: "001085000060", FullName: "Đỗ Văn Long", BirthDate: civildate.Date{Year: 1985, Month: 7, Day: 1}, Sex: "M", CommuneCode: "26734"},
		{PIN: "001190000050", FullName: "Quách Thị Hoà", BirthDate: civildate.Date{Year: 1990, Month: 3, Day: 12}, Sex: "F", CommuneCode: "00004"},
		{PIN: "001195000070", FullName: "Vương Thị Ngân", BirthDate: civildate.Date{Year: 1995, Month: 8, Day: 21}, Sex: "F", CommuneCode: "00004"},
		{PIN: "001187000071", FullName: "Kiều Thanh Huyền", BirthDate: civildate.Date{Year: 1987, Month: 11, Day: 4}, Sex: "F", CommuneCode: "26734"},
	}
	for _, p := range chosen {
		if !b.Add(p) {
			t.Fatalf("refused %+v", p)
		}
	}
	ix := b.Finish()
	tests := []struct {
		name    string
		rec     match.Record
		outcome match.Outcome
		pin     string
		diff    *match.Difference
		dead    bool
	}{
		{"clean row", match.Record{PIN: "001190000001", FullName: "Tạ Thị Hòa", BirthDate: "12/03/1990", Sex: "Nữ"}, match.Matched, "001190000001", nil, false},
		{"no PIN, no diacritics, swapped date", match.Record{FullName: "TA THI HOA", BirthDate: "03/12/1990", Sex: "nu", Address: "Phường Ba Đình, Hà Nội"}, match.Matched, "001190000001", &match.Difference{Field: "birth_date", Kind: "swapped_day_month"}, false},
		{"PIN of another person, name and date of this one", match.Record{PIN: "001085000060", FullName: "Tạ Thị Hoà", BirthDate: "12/03/1990", Address: "Phường Ba Đình, Hà Nội"}, match.Matched, "001190000001", &match.Difference{Field: "pin", Kind: "different"}, false},
		// The PIN names one woman, the name another born the same day in the same ward: a registrar decides.
		{"PIN and name of two neighbours", match.Record{PIN: "001190000050", FullName: "Tạ Thị Hoà", BirthDate: "12/03/1990", Address: "Phường Ba Đình, Hà Nội"}, match.Ambiguous, "", nil, false},
		{"PIN one digit wrong", match.Record{PIN: "001190000007", FullName: "Tạ Thị Hoà", BirthDate: "12/03/1990"}, match.Matched, "001190000001", &match.Difference{Field: "pin", Kind: "misspelt"}, false},
		{"twins by name and date only", match.Record{FullName: "Trịnh Công Sơn", BirthDate: "28/02/1988", Sex: "Nam"}, match.Ambiguous, "", nil, false},
		{"twin with address", match.Record{FullName: "Trịnh Công Sơn", BirthDate: "28/02/1988", Sex: "Nam", Address: "Phường Ba Đình, Thành phố Hà Nội"}, match.Matched, "001088999001", nil, false},
		{"dead person still listed", match.Record{PIN: "001045000003", FullName: "Lưu Văn Khải", BirthDate: "1945"}, match.Matched, "001045000003", nil, true},
		{"not in the register", match.Record{FullName: "Âu Dương Phong", BirthDate: "05/06/1944", Sex: "Nam"}, match.NotFound, "", nil, false},
		{"empty row", match.Record{}, match.NotFound, "", nil, false},
		// The slips: a transposed or inserted letter inside a word,
		// a year one off, no commune, and two differences at once.
		{"transposed letters in the given name", match.Record{FullName: "Vương Thị Nâgn", BirthDate: "21/08/1995", Sex: "Nữ", Address: "Phường Ba Đình, Hà Nội"}, match.Matched, "001195000070", &match.Difference{Field: "full_name", Kind: "misspelt"}, false},
		{"first letters transposed, no commune", match.Record{FullName: "Kiều Thanh uHyền", BirthDate: "04/11/1987", Sex: "Nữ"}, match.Matched, "001187000071", &match.Difference{Field: "full_name", Kind: "misspelt"}, false},
		{"year one off, the rest right", match.Record{FullName: "Vương Thị Ngân", BirthDate: "21/08/1996", Sex: "Nữ", Address: "Phường Ba Đình, Hà Nội"}, match.Matched, "001195000070", &match.Difference{Field: "birth_date", Kind: "different"}, false},
		{"no commune, name and date right", match.Record{FullName: "Kiều Thanh Huyền", BirthDate: "04/11/1987"}, match.Matched, "001187000071", nil, false},
		{"given name first with an inserted letter", match.Record{FullName: "Ngâan Vương Thị", BirthDate: "21/08/1995", Sex: "Nữ"}, match.Matched, "001195000070", &match.Difference{Field: "full_name", Kind: "misspelt"}, false},
		{"typo and year one off", match.Record{FullName: "Kiều Thnah Huyền", BirthDate: "04/11/1986", Sex: "Nữ"}, match.Matched, "001187000071", nil, false},
	}
	recs := make([]match.Record, len(tests))
	for i, tt := range tests {
		recs[i] = tt.rec
		recs[i].Ref = tt.name
	}
	results, err := ix.Match(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		r := results[i]
		if r.Ref != tt.name || r.Outcome != tt.outcome || r.PIN != tt.pin || r.Dead != tt.dead {
			t.Errorf("%s: %s %s (%.3f) dead %v; want %s %s dead %v; candidates %+v", tt.name, r.Outcome, r.PIN, r.Confidence, r.Dead, tt.outcome, tt.pin, tt.dead, r.Candidates)
			continue
		}
		if tt.diff != nil && !containsDiff(r.Differences, *tt.diff) {
			t.Errorf("%s: differences %v, want %v among them", tt.name, r.Differences, *tt.diff)
		}
		if tt.outcome == match.Ambiguous && (len(r.Candidates) < 2 || r.Reason == "") {
			t.Errorf("%s: ambiguous with reason %q, candidates %v", tt.name, r.Reason, r.Candidates)
		}
		// One record alone (the verify path's MatchOne, no estimate from a
		// file) decides the same.
		if one := ix.MatchOne(recs[i]); one.Outcome != r.Outcome || one.PIN != r.PIN {
			t.Errorf("%s: MatchOne %s %s, Match %s %s", tt.name, one.Outcome, one.PIN, r.Outcome, r.PIN)
		}
	}
}

func containsDiff(ds []match.Difference, d match.Difference) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

func civil2(y int) string { return string([]byte{byte('0' + y/10%10), byte('0' + y%10)}) }

func six(n int) string {
	b := []byte("000000")
	for i := 5; i >= 0 && n > 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b)
}
