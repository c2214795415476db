package pin

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		wantErr error
	}{
		{"001090123456", nil},
		{"079203000001", nil},
		{"096499999999", nil},
		{"00109012345", ErrLength},
		{"0010901234567", ErrLength},
		{"00109012345a", ErrDigits},
		{"00109 123456", ErrDigits},
		{"003090123456", ErrProvince}, // 003 was never a province code
		{"100090123456", ErrProvince},
		{"001690123456", ErrCentury},
		{"001090000000", ErrSerial},
		{"", ErrLength},
		{"００１０９０１２３４５６", ErrLength}, // full-width digits are bytes, not 12
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if tt.wantErr == nil && err != nil {
			t.Errorf("Parse(%q) = %v, want ok", tt.in, err)
		}
		if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Errorf("Parse(%q) = %v, want %v", tt.in, err, tt.wantErr)
		}
	}
}

func TestFields(t *testing.T) {
	tests := []struct {
		pin  string
		year int
		sex  byte
		prov string
	}{
		{"001090123456", 1990, Male, "001"},
		{"001190123456", 1990, Female, "001"},
		{"079203000001", 2003, Male, "079"},
		{"096399000001", 2099, Female, "096"},
		{"031400000001", 2100, Male, "031"},
	}
	for _, tt := range tests {
		p, err := Parse(tt.pin)
		if err != nil {
			t.Fatal(err)
		}
		if p.BirthYear() != tt.year || p.Sex() != tt.sex || p.Province() != tt.prov {
			t.Errorf("%s: year %d sex %c prov %s", tt.pin, p.BirthYear(), p.Sex(), p.Province())
		}
		if err := p.Check(tt.year, tt.sex); err != nil {
			t.Errorf("%s: Check: %v", tt.pin, err)
		}
		if err := p.Check(tt.year+1, tt.sex); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: Check with wrong year = %v", tt.pin, err)
		}
	}
}

func TestPrefixRoundTrip(t *testing.T) {
	for _, year := range []int{1900, 1955, 1999, 2000, 2024, 2199} {
		for _, sex := range []byte{Male, Female} {
			pre, err := Prefix("048", year, sex)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Parse(string(FromSerial(pre, 42)))
			if err != nil {
				t.Fatalf("%d %c: %v", year, sex, err)
			}
			if p.BirthYear() != year || p.Sex() != sex || p.Serial() != 42 {
				t.Errorf("%d %c: got %s", year, sex, p)
			}
		}
	}
	if _, err := Prefix("048", 1899, Male); !errors.Is(err, ErrYear) {
		t.Errorf("1899: %v", err)
	}
	if _, err := Prefix("003", 1990, Male); !errors.Is(err, ErrProvince) {
		t.Errorf("003: %v", err)
	}
}

func TestScrambleIsBijection(t *testing.T) {
	seen := make([]bool, MaxSerial+1)
	for n := 0; n < MaxSerial; n++ {
		s := Scramble("001090", n)
		if s < 1 || s > MaxSerial {
			t.Fatalf("serial %d out of range", s)
		}
		if seen[s] {
			t.Fatalf("serial %d allocated twice", s)
		}
		seen[s] = true
	}
	if Scramble("001090", 0)+1 == Scramble("001090", 1) {
		t.Error("consecutive allocations give consecutive serials")
	}
}

func TestProvinceCodes(t *testing.T) {
	codes := ProvinceCodes()
	if len(codes) != 63 || codes[0] != "001" || codes[62] != "096" {
		t.Fatalf("codes = %v", codes)
	}
	if ProvinceName("079") != "TP Hồ Chí Minh" {
		t.Fatal(ProvinceName("079"))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"001090123456", "", "abc", "096499999999", "001690123456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if p != "" {
				t.Fatalf("error with a value: %q", p)
			}
			return
		}
		if p.String() != s || p.BirthYear() < 1900 || p.BirthYear() > 2199 || p.Serial() < 1 {
			t.Fatalf("accepted %q with fields %d %d", s, p.BirthYear(), p.Serial())
		}
		pre, err := Prefix(p.Province(), p.BirthYear(), p.Sex())
		if err != nil || string(FromSerial(pre, p.Serial())) != s {
			t.Fatalf("round trip of %q failed: %v", s, err)
		}
	})
}
