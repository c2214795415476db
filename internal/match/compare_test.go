package match

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/civildate"
)

func catalog(t testing.TB) *adminunit.Catalog {
	t.Helper()
	c, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCompareNames(t *testing.T) {
	tests := []struct {
		partner, register string
		want              nameLevel
	}{
		{"Nguyễn Văn An", "Nguyễn Văn An", nameExact},
		{"NGUYỄN   VĂN  AN", "Nguyễn Văn An", nameExact},
		{"Nguye\u0302\u0303n Va\u0306n An", "Nguyễn Văn An", nameExact}, // decomposed
		{"Lê Thị Hoà", "Lê Thị Hòa", nameExact},                         // old tone placement
		{"Phạm Thị Thuý", "Phạm Thị Thúy", nameExact},
		{"Trần Thị Quỳnh", "Trần Thị Quỳnh", nameExact},
		{"Đặng Văn Đức", "Đặng Văn Đức", nameExact},
		{"NGUYEN VAN AN", "Nguyễn Văn An", nameUnmarked},
		{"dang van duc", "Đặng Văn Đức", nameUnmarked},
		{"An Nguyễn Văn", "Nguyễn Văn An", nameReordered},
		{"AN NGUYEN VAN", "Nguyễn Văn An", nameUnmarked},
		{"Nguyễn Văn Ân", "Nguyễn Văn An", nameRemarked},
		{"Nguyễn Văn Anh", "Nguyễn Văn An", nameSimilar},
		{"Ngyuễn Văn An", "Nguyễn Văn An", nameSimilar},
		{"Nguyễn An", "Nguyễn Văn An", nameSimilar},
		{"Trần Thị Nâgn", "Trần Thị Ngân", nameSimilar},        // transposed: one edit
		{"Nguyễn Thị Htủy", "Nguyễn Thị Thủy", nameSimilar},    // transposed at the front
		{"uHyền Lê Thị", "Lê Thị Huyền", nameSimilar},          // given name first and transposed
		{"Tran Thi Nagn", "Trần Thị Ngân", nameSimilar},        // no diacritics and transposed
		{"Nguyeen Vna Hung", "Nguyễn Văn Hùng", nameSimilar},   // two words with one slip each
		{"Nguyeen Vna Hugn", "Nguyễn Văn Hùng", nameDifferent}, // every word mistyped
		{"Trần Thị Bình", "Nguyễn Văn An", nameDifferent},
		{"", "Nguyễn Văn An", nameMissing},
		{"  ,. ", "Nguyễn Văn An", nameMissing},
		{"H'Hen Niê", "H’Hen Niê", nameExact},
	}
	for _, tt := range tests {
		if got := compareNames(ParseName(tt.partner), ParseName(tt.register)); got != tt.want {
			t.Errorf("compareNames(%q, %q) = %d, want %d", tt.partner, tt.register, got, tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want RawDate
		ok   bool
	}{
		{"31/01/1990", RawDate{1990, 1, 31}, true},
		{"1/2/1990", RawDate{1990, 2, 1}, true},
		{"1990-01-31", RawDate{1990, 1, 31}, true},
		{"31.01.1990", RawDate{1990, 1, 31}, true},
		{"31011990", RawDate{1990, 1, 31}, true},
		{"19900131", RawDate{1990, 1, 31}, true},
		{"01/1990", RawDate{1990, 1, 0}, true},
		{"1990-01", RawDate{1990, 1, 0}, true},
		{"1948", RawDate{1948, 0, 0}, true},
		{"12/31/1990", RawDate{1990, 31, 12}, true}, // month first: kept for the swap check
		{"31/31/1990", RawDate{}, false},
		{"00/01/1990", RawDate{}, false},
		{"1990/13", RawDate{}, false},
		{"ngày 1 tháng 2", RawDate{}, false},
		{"", RawDate{}, false},
		{"1/2/3/4", RawDate{}, false},
		{"99", RawDate{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseDate(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseDate(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCompareDates(t *testing.T) {
	reg := civildate.Date{Year: 1990, Month: 3, Day: 12}
	tests := []struct {
		in   string
		reg  civildate.Date
		want dateLevel
	}{
		{"12/03/1990", reg, dateExact},
		{"03/12/1990", reg, dateSwapped},
		{"1990", reg, datePartial},
		{"03/1990", reg, datePartial},
		{"12/03/1990", civildate.Date{Year: 1990}, datePartial},
		{"13/03/1990", reg, dateNear},
		{"12/03/1991", reg, dateYearOff},
		{"12/03/1989", reg, dateYearOff}, // two digits differ, still one year
		{"03/12/1991", reg, dateYearOff}, // and day and month swapped
		{"03/11/1991", reg, dateDifferent},
		{"12/03/1980", reg, dateNear},
		{"12/03/2001", reg, dateDifferent},
		{"01/07/1985", reg, dateDifferent},
		{"", reg, dateMissing},
		{"không rõ", reg, dateMissing},
	}
	for _, tt := range tests {
		d, ok := ParseDate(tt.in)
		if got := compareDates(d, ok, tt.reg); got != tt.want {
			t.Errorf("compareDates(%q, %v) = %d, want %d", tt.in, tt.reg, got, tt.want)
		}
	}
}

func TestComparePINs(t *testing.T) {
	tests := []struct {
		a, b string
		want pinLevel
	}{
		{"001090012345", "001090012345", pinExact},
		{"001090012346", "001090012345", pinTypo},
		{"001090013245", "001090012345", pinTypo},
		{"001090099999", "001090012345", pinDifferent},
		{"", "001090012345", pinMissing},
		{"12345", "001090012345", pinMissing},
	}
	for _, tt := range tests {
		if got := comparePINs(tt.a, tt.b); got != tt.want {
			t.Errorf("comparePINs(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCompare(t *testing.T) {
	units := catalog(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := Person{PIN: "001090012345", FullName: "Nguyễn Thị Hòa", BirthDate: civildate.Date{Year: 1990, Month: 3, Day: 12},
		Sex: "F", ProvinceCode: "01", CommuneCode: "00004"}
	base := Record{PIN: p.PIN, FullName: "Nguyễn Thị Hoà", BirthDate: "12/03/1990", Sex: "Nữ", Address: "Số 5 phố Phan Đình Phùng, Phường Ba Đình, Thành phố Hà Nội"}
	tests := []struct {
		name   string
		change func(*Record)
		want   []Difference
	}{
		{"all agree (tone placement, Nữ)", func(*Record) {}, nil},
		{"no diacritics", func(r *Record) { r.FullName = "NGUYEN THI HOA" }, []Difference{{FieldFullName, KindMissingDiacritics}}},
		{"typo", func(r *Record) { r.FullName = "Nguyễn Thị Hoài" }, []Difference{{FieldFullName, KindMisspelt}}},
		{"given name first", func(r *Record) { r.FullName = "Hòa Nguyễn Thị" }, []Difference{{FieldFullName, KindWordOrder}}},
		{"swapped date", func(r *Record) { r.BirthDate = "03/12/1990" }, []Difference{{FieldBirthDate, KindSwappedDayMonth}}},
		{"other date", func(r *Record) { r.BirthDate = "1985-07-01" }, []Difference{{FieldBirthDate, KindDifferent}}},
		{"no date", func(r *Record) { r.BirthDate = "" }, []Difference{{FieldBirthDate, KindMissing}}},
		{"sex", func(r *Record) { r.Sex = "nam" }, []Difference{{FieldSex, KindDifferent}}},
		{"PIN typo", func(r *Record) { r.PIN = "001090012346" }, []Difference{{FieldPIN, KindMisspelt}}},
		{"old address", func(r *Record) { r.Address = "P. Trúc Bạch, Q. Ba Đình, Hà Nội" }, []Difference{{FieldAddress, KindOutdatedUnit}}},
		{"old address without diacritics", func(r *Record) { r.Address = "phuong quan thanh, quan ba dinh, tp ha noi" }, []Difference{{FieldAddress, KindOutdatedUnit}}},
		{"new address short", func(r *Record) { r.Address = "P.Ba Đình, HN" }, nil},
		{"other commune", func(r *Record) { r.Address = "Xã Tân Lập, Tỉnh Phú Thọ" }, []Difference{{FieldAddress, KindDifferent}}},
		{"same province only", func(r *Record) { r.Address = "Phường Hoàn Kiếm, Thành phố Hà Nội" }, []Difference{{FieldAddress, KindDifferent}}},
		{"old commune code", func(r *Record) { r.Address = ""; r.Commune = "00013" }, []Difference{{FieldAddress, KindOutdatedUnit}}},
		{"current commune code", func(r *Record) { r.Address = ""; r.Commune = "00004" }, nil},
		{"card is PIN", func(r *Record) { r.PIN = ""; r.CardNumber = "001090012345" }, nil},
		{"card differs", func(r *Record) { r.CardNumber = "001090099999" }, []Difference{{FieldCardNumber, KindDifferent}}},
		{"old 9-digit ID not checked", func(r *Record) { r.CardNumber = "012345678" }, nil},
	}
	for _, tt := range tests {
		r := base
		tt.change(&r)
		got := Compare(r, p, units, now)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: Compare = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"31/01/1990", "1990-01-31", "31011990", "01/1990", "1948", "12/31/1990", "1/2/3", "", "٣١/٠١/١٩٩٠"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDate(s)
		if !ok {
			if d != (RawDate{}) {
				t.Fatalf("ParseDate(%q) failed but returned %v", s, d)
			}
			return
		}
		if d.Year < 1800 || d.Year > 2200 || d.Month < 0 || d.Month > 31 || d.Day < 0 || d.Day > 31 {
			t.Fatalf("ParseDate(%q) = %v out of range", s, d)
		}
		if d.Day != 0 && d.Month == 0 {
			t.Fatalf("ParseDate(%q) = %v: day without month", s, d)
		}
		// Any date read compares to itself as exact when it is a real date.
		if cd := (civildate.Date{Year: d.Year, Month: d.Month, Day: d.Day}); cd.Valid() == nil {
			if l := compareDates(d, true, cd); l != dateExact {
				t.Fatalf("%q compares to itself as %d", s, l)
			}
		}
	})
}

func FuzzParseName(f *testing.F) {
	for _, s := range []string{"Nguyễn Văn An", "NGUYEN VAN AN", "Lê Thị Hoà", "H'Hen Niê", "\xff\xfe", "a\u0301\u0301", "  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := ParseName(s)
		if len(n.Toned) != len(n.Folded) {
			t.Fatalf("ParseName(%q): %d toned words, %d folded", s, len(n.Toned), len(n.Folded))
		}
		for _, w := range n.Folded {
			if w == "" {
				t.Fatalf("ParseName(%q): empty word", s)
			}
		}
		if !n.Empty() && compareNames(n, n) != nameExact {
			t.Fatalf("ParseName(%q) does not equal itself", s)
		}
		// Folding is stable: the folded words parse to themselves.
		again := ParseName(joinWords(n.Folded))
		if !slices.Equal(again.Folded, n.Folded) {
			t.Fatalf("ParseName(%q): folded %q reparses to %q", s, n.Folded, again.Folded)
		}
	})
}

func joinWords(w []string) string {
	s := ""
	for i, x := range w {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}

func BenchmarkCompare(b *testing.B) {
	units := catalog(b)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := Person{PIN: "001090012345", FullName: "Nguyễn Thị Hòa", BirthDate: civildate.Date{Year: 1990, Month: 3, Day: 12}, Sex: "F", ProvinceCode: "01", CommuneCode: "00004"}
	r := Record{PIN: p.PIN, FullName: "NGUYEN THI HOA", BirthDate: "03/12/1990", Sex: "Nữ", CardNumber: p.PIN, Address: "P. Trúc Bạch, Q. Ba Đình, Hà Nội"}
	for b.Loop() {
		Compare(r, p, units, now)
	}
}

// TestComparerSameAsCompare checks the cached path gives Compare's answers.
func TestComparerSameAsCompare(t *testing.T) {
	units := catalog(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewComparer(units, func() time.Time { return now })
	p := Person{PIN: "001090012345", FullName: "Nguyễn Thị Hòa", BirthDate: civildate.Date{Year: 1990, Month: 3, Day: 12}, Sex: "F", ProvinceCode: "01", CommuneCode: "00004"}
	for _, addr := range []string{"P. Trúc Bạch, Q. Ba Đình, Hà Nội", "Phường Ba Đình, Hà Nội", "Xã Tân Lập, Phú Thọ", ""} {
		for range 2 { // first use fills the cache, the second reads it
			r := Record{PIN: p.PIN, FullName: "NGUYEN THI HOA", BirthDate: "12/03/1990", Address: addr}
			if got, want := c.Compare(r, p), Compare(r, p, units, now); !slices.Equal(got, want) {
				t.Fatalf("%q: Comparer %v, Compare %v", addr, got, want)
			}
		}
	}
}

func BenchmarkComparer(b *testing.B) {
	units := catalog(b)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewComparer(units, func() time.Time { return now })
	p := Person{PIN: "001090012345", FullName: "Nguyễn Thị Hòa", BirthDate: civildate.Date{Year: 1990, Month: 3, Day: 12}, Sex: "F", ProvinceCode: "01", CommuneCode: "00004"}
	r := Record{PIN: p.PIN, FullName: "NGUYEN THI HOA", BirthDate: "03/12/1990", Sex: "Nữ", CardNumber: p.PIN, Address: "P. Trúc Bạch, Q. Ba Đình, Hà Nội"}
	for b.Loop() {
		c.Compare(r, p)
	}
}

// TestParseNameFastPath checks the table path against the general one on
// every letter of the tables, in names of several shapes.
func TestParseNameFastPath(t *testing.T) {
	var checked int
	for _, r := range []struct{ lo, hi rune }{{0x00C0, 0x0250}, {0x1E00, 0x1F00}} {
		for c := r.lo; c < r.hi; c++ {
			for _, s := range []string{string(c), "Ng" + string(c) + "n Văn", "x" + string(c) + "Y " + string(c) + "a"} {
				if fast, ok := parseNameFast(s); ok {
					checked++
					if slow := parseNameSlow(s); !slices.Equal(fast.Toned, slow.Toned) || !slices.Equal(fast.Folded, slow.Folded) || fast.Marked != slow.Marked {
						t.Fatalf("%q (U+%04X): fast %+v, slow %+v", s, c, fast, slow)
					}
				}
			}
		}
	}
	if _, ok := parseNameFast("Nguyễn Thị Ánh Tuyết"); !ok || checked < 500 {
		t.Fatalf("fast path unused (%d names checked)", checked)
	}
}

func FuzzParseNameFastPath(f *testing.F) {
	for _, s := range []string{"Nguyễn Văn An", "ĐẶNG THỊ HOÀ", "Ỹ ỷ ǜ", "hoà", "a  b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if fast, ok := parseNameFast(s); ok {
			slow := parseNameSlow(s)
			if !slices.Equal(fast.Toned, slow.Toned) || !slices.Equal(fast.Folded, slow.Folded) || fast.Marked != slow.Marked {
				t.Fatalf("%q: fast %+v, slow %+v", s, fast, slow)
			}
		}
	})
}

func TestGazetteer(t *testing.T) {
	units := catalog(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := NewGazetteer(units, now)
	tests := []struct {
		text     string
		code     string // "" = check only ok/outdated and province
		province string
		outdated bool
		ok       bool
	}{
		{"Số 5 phố Phan Đình Phùng, Phường Ba Đình, Thành phố Hà Nội", "00004", "01", false, true},
		{"P.Ba Đình, HN", "00004", "01", false, true},
		{"P. Trúc Bạch, Q. Ba Đình, Hà Nội", "00004", "01", true, true},
		{"phuong quan thanh quan ba dinh thanh pho ha noi", "00004", "01", true, true},
		{"Phường 1, Quận 3, TP. Hồ Chí Minh", "", "79", true, true},
		{"Xã Tân Lập", "", "", false, false},
		{"", "", "", false, false},
		{"không rõ địa chỉ", "", "", false, false},
	}
	for _, tt := range tests {
		code, outdated, ok := g.Resolve(tt.text)
		if ok != tt.ok || outdated != tt.outdated || (tt.code != "" && code != tt.code) {
			t.Errorf("Resolve(%q) = %q, %v, %v; want %q, %v, %v", tt.text, code, outdated, ok, tt.code, tt.outdated, tt.ok)
			continue
		}
		if tt.province != "" {
			if p, err := units.CommuneProvince(code, now); err != nil || p != tt.province {
				t.Errorf("Resolve(%q) = %q in province %q (%v), want %s", tt.text, code, p, err, tt.province)
			}
		}
	}
}

func FuzzAddressWords(f *testing.F) {
	for _, s := range []string{"P. Trúc Bạch, Q. Ba Đình, Hà Nội", "Q1 TP.HCM", "\xff", "phường  1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w := addressWords(s)
		if !strings.HasPrefix(w, " ") || !strings.HasSuffix(w, " ") || strings.Contains(w, "  ") && strings.TrimSpace(w) != "" {
			t.Fatalf("addressWords(%q) = %q: not single-spaced and padded", s, w)
		}
	})
}

// BenchmarkCompareNewAddress is the verify API's common case: an address in
// the units in force, or none.
func BenchmarkCompareNewAddress(b *testing.B) {
	units := catalog(b)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := Person{PIN: "001090012345", FullName: "Nguyễn Thị Hòa", BirthDate: civildate.Date{Year: 1990, Month: 3, Day: 12}, Sex: "F", ProvinceCode: "01", CommuneCode: "00004"}
	r := Record{PIN: p.PIN, FullName: "Nguyễn Thị Hoà", BirthDate: "12/03/1990", Sex: "Nữ", CardNumber: p.PIN, Address: "Số 5 Phan Đình Phùng, Phường Ba Đình, Hà Nội"}
	for b.Loop() {
		Compare(r, p, units, now)
	}
}
