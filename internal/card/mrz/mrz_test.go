package mrz

import (
	"errors"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/civildate"
)

// The published sample of DOMAIN.md §2 (from an open-source parser's mock).
const (
	s1     = "IDVNM0930470641001093047064<<2"
	s2     = "9301054M3301052VNM<<<<<<<<<<<8"
	s3     = "UNG<<HOANG<HIEP<<<<<<<<<<<<<<<"
	sample = s1 + "\n" + s2 + "\n" + s3
)

func sampleData() Data {
	return Data{
		PIN:    "001093047064",
		Birth:  civildate.Date{Year: 1993, Month: 1, Day: 5},
		Sex:    'M',
		Expiry: civildate.Date{Year: 2033, Month: 1, Day: 5},
		Name:   "UNG HOANG HIEP",
	}
}

func TestCheckDigit(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want byte
	}{
		{"093047064", '1'},
		{"001093047064<<", '2'}, // the trailing 2 of the sample's line 1
		{"930105", '4'},
		{"330105", '2'},
		{"L898902C3", '6'}, // ICAO 9303 Part 4 specimen document number
		{"<<<<<<", '0'},
	} {
		if got := CheckDigit(tt.in); got != tt.want {
			t.Errorf("CheckDigit(%q) = %c, want %c", tt.in, got, tt.want)
		}
	}
}

// TestSample checks that the published sample verifies in full, including
// the composite check digit 8, and that Format reproduces it byte for byte.
func TestSample(t *testing.T) {
	d, err := Parse(sample)
	if err != nil {
		t.Fatalf("Parse(sample): %v", err)
	}
	if d != sampleData() {
		t.Errorf("Parse = %+v, want %+v", d, sampleData())
	}
	out, err := Format(sampleData())
	if err != nil {
		t.Fatal(err)
	}
	if out != sample {
		t.Errorf("Format =\n%s\nwant\n%s", out, sample)
	}
	if _, err := Parse(s1 + s2 + s3); err != nil {
		t.Errorf("Parse of 90 characters run together: %v", err)
	}
}

func TestFormat(t *testing.T) {
	d := Data{PIN: "079190000123", Birth: civildate.Date{Year: 1990, Month: 12, Day: 31}, Sex: 'F', Name: "Đặng Thị Ngọc   Ánh"}
	out, err := Format(d)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out, "\n")
	if lines[2] != "DANG<<THI<NGOC<ANH<<<<<<<<<<<<" {
		t.Errorf("name line = %q", lines[2])
	}
	if lines[1][8:15] != "<<<<<<<" {
		t.Errorf("lifetime expiry = %q, want <<<<<<<", lines[1][8:15])
	}
	back, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(Format): %v", err)
	}
	if back.Name != "DANG THI NGOC ANH" || back.Birth != d.Birth || !back.Expiry.IsZero() || back.PIN != d.PIN {
		t.Errorf("round trip = %+v", back)
	}
	long := d
	long.Name = "Tôn Nữ Thị Hoàng Lan Phương Khánh Linh Ngọc"
	out, err = Format(long)
	if err != nil || len(strings.Split(out, "\n")[2]) != Line {
		t.Errorf("long name: %q, %v", out, err)
	}
	for _, bad := range []Data{
		{PIN: "12", Birth: d.Birth, Sex: 'M', Name: "A"},
		{PIN: d.PIN, Birth: civildate.Date{Year: 1990}, Sex: 'M', Name: "A"},
		{PIN: d.PIN, Birth: d.Birth, Sex: 'X', Name: "A"},
		{PIN: d.PIN, Birth: d.Birth, Sex: 'M', Name: "  "},
		{PIN: d.PIN, Birth: d.Birth, Sex: 'M', Name: "A", Expiry: civildate.Date{Year: 2199, Month: 1, Day: 1}},
	} {
		if _, err := Format(bad); err == nil {
			t.Errorf("Format(%+v) accepted bad data", bad)
		}
	}
}

func TestParseErrors(t *testing.T) {
	set := func(line string, i int, c string) string { return line[:i] + c + line[i+1:] }
	tests := []struct {
		name string
		in   string
		err  error
	}{
		{"short", s1 + "\n" + s2, ErrShape},
		{"lower case", strings.ToLower(sample), ErrCharset},
		{"passport code", "P" + s1[1:] + s2 + s3, ErrDocCode},
		{"other state", set(s1, 4, "X") + s2 + s3, ErrState},
		{"document check", set(s1, 14, "2") + s2 + s3, ErrDocCheck},
		{"optional check", set(s1, 29, "3") + s2 + s3, ErrOptionalCheck},
		{"birth check", s1 + set(s2, 6, "5") + s3, ErrBirthCheck},
		{"expiry check", s1 + set(s2, 14, "3") + s3, ErrExpiryCheck},
		{"composite check", s1 + set(s2, 29, "9") + s3, ErrCompositeCheck},
		{"sex", s1 + set(s2, 7, "X") + s3, ErrSex},
		{"nationality", s1 + set(s2, 17, "X") + s3, ErrNationality},
		{"empty name", s1 + s2 + strings.Repeat("<", 30), ErrName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(tt.in); !errors.Is(err, tt.err) {
				t.Errorf("Parse error = %v, want %v", err, tt.err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add(s1 + s2 + s3)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		// A valid MRZ must be reproduced by Format from what Parse read
		// (names compare in their MRZ form).
		out, err := Format(d)
		if err != nil {
			t.Fatalf("Format(Parse(%q)): %v", s, err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("Parse(Format(Parse(%q))): %v", s, err)
		}
	})
}
