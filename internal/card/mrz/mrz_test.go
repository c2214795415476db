package mrz

import (
	"errors"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/pin"
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
	if lines[1][8:15] != "<<<<<<0" {
		t.Errorf("lifetime expiry = %q, want <<<<<<0 (fillers, check digit 0)", lines[1][8:15])
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
		{PIN: d.PIN, Sex: 'M', Name: "A"},
		{PIN: d.PIN, Birth: civildate.Date{Year: 1990, Month: 13}, Sex: 'M', Name: "A"},
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

// TestPartialBirth writes and reads dates of birth with an unknown day, or an
// unknown month and day, as fillers (ICAO 9303-3), with the check digit over
// the fillers as value 0.
func TestPartialBirth(t *testing.T) {
	tests := []struct {
		birth civildate.Date
		field string // positions 1–7 of line 2
	}{
		{civildate.Date{Year: 1948}, "48<<<<2"},
		{civildate.Date{Year: 1952, Month: 3}, "5203<<2"},
		{civildate.Date{Year: 1990, Month: 12, Day: 31}, "9012318"},
	}
	for _, tt := range tests {
		t.Run(tt.birth.String(), func(t *testing.T) {
			p := "001090000123"
			if tt.birth.Year < 1950 {
				p = "001048000123"
			} else if tt.birth.Year < 1960 {
				p = "001052000123"
			}
			out, err := Format(Data{PIN: pin.PIN(p), Birth: tt.birth, Sex: 'M', Name: "Lò Văn A"})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Split(out, "\n")[1][:7]; got != tt.field {
				t.Errorf("birth field = %q, want %q", got, tt.field)
			}
			back, err := Parse(out)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if back.Birth != tt.birth {
				t.Errorf("Parse birth = %v, want %v", back.Birth, tt.birth)
			}
		})
	}
	// Fillers in the year, or a filler month before a known day, are no
	// date form: refused even with correct check digits.
	good, err := Format(Data{PIN: "001048000123", Birth: civildate.Date{Year: 1948}, Sex: 'M', Name: "Lò Văn A"})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(good, "\n")
	for _, bad := range []string{"48<<15", "<<<<<<", "4<0315", "4800<<"} {
		l2 := bad + string(CheckDigit(bad)) + lines[1][7:29]
		l2 += string(composite(lines[0], l2+"0"))
		if _, err := Parse(lines[0] + l2 + lines[2]); !errors.Is(err, ErrBirth) {
			t.Errorf("birth %q: err = %v, want %v", bad, err, ErrBirth)
		}
	}
}

// TestLifetimeExpiry: the expiry of a card without expiry is six fillers with
// the check digit 0 that ICAO 9303-3 §4.9 gives them; the older '<' check
// character still reads.
func TestLifetimeExpiry(t *testing.T) {
	out, err := Format(Data{PIN: "001158000123", Birth: civildate.Date{Year: 1958, Month: 2, Day: 1}, Sex: 'F', Name: "Hà Thị B"})
	if err != nil {
		t.Fatal(err)
	}
	l2 := strings.Split(out, "\n")[1]
	if l2[8:15] != "<<<<<<0" {
		t.Errorf("expiry field = %q", l2[8:15])
	}
	for i := 0; i < len(l2); i++ {
		if i == 6 || i == 14 || i == 29 {
			if l2[i] < '0' || l2[i] > '9' {
				t.Errorf("check digit at %d is %q, not a digit", i+1, l2[i])
			}
		}
	}
	d, err := Parse(out)
	if err != nil || !d.Expiry.IsZero() {
		t.Fatalf("Parse = %+v, %v", d, err)
	}
	old := strings.Replace(out, "<<<<<<0", "<<<<<<<", 1)
	if _, err := Parse(old); err != nil {
		t.Errorf("a card written with a '<' check character no longer reads: %v", err)
	}
}

// TestTransliterate covers ICAO 9303-3's punctuation rules (apostrophe
// omitted, hyphen a filler) and the truncation rules of the package doc.
func TestTransliterate(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"Siu H'Mai", "SIU<<HMAI"},
		{"SIU'H Nay", "SIUH<<NAY"},
		{"Ksor H’Lan", "KSOR<<HLAN"},
		{"Nay Ê-ban", "NAY<<E<BAN"},
		{"Nguyễn-Trần Thị Mai", "NGUYEN<TRAN<<THI<MAI"},
		{"Đặng   Thị Ngọc Ánh", "DANG<<THI<NGOC<ANH"},
		{"Lê Văn A.", "LE<<VAN<A"},
		{"Müller Jürgen", "MULLER<<JURGEN"},
		{"Straß Œdipe", "STRASS<<OEDIPE"},
		{"Nguyễn", "NGUYEN"},
		// 6+2+5+1+3+1+4+1+4+1+6+1+4 = 39: middle names become initials,
		// first to last, until the name fits.
		{"Nguyễn Hoàng Bảo Minh Khuê Phương Thảo", "NGUYEN<<H<B<M<KHUE<PHUONG<THAO"},
		{"Tôn Nữ Thị Hoàng Lan Phương Khánh Linh Ngọc", "TON<<N<T<H<L<P<KHANH<LINH<NGOC"},
		// Initials and the whole given name still too long: the given name
		// is cut so that position 30 is a letter.
		{"Lê A B C D E F G H I J K Nguyệtthuthuythanh", "LE<<A<B<C<D<E<F<G<H<I<J<K<NGUY"},
		{"Lê A B C D E F G H I J K L M Thu", "LE<<A<B<C<D<E<F<G<H<I<J<K<L<TH"},
		// A surname with no room left: cut to 27, then << and an initial.
		{"Abcdefghijklmnopqrstuvwxyzabcdef Minh", "ABCDEFGHIJKLMNOPQRSTUVWXYZA<<M"},
		{"Abcdefghijklmnopqrstuvwxyzabcdef", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Transliterate(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want + strings.Repeat("<", Line-len(tt.want))
			if got != want {
				t.Errorf("Transliterate(%q) =\n%s\nwant\n%s", tt.name, got, want)
			}
		})
	}
	for _, bad := range []string{"", "  ", "'-'", "李"} {
		if got, err := Transliterate(bad); !errors.Is(err, ErrName) {
			t.Errorf("Transliterate(%q) = %q, %v; want ErrName", bad, got, err)
		}
	}
}
