package fold

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Nguyễn Văn Đạt", "nguyen van dat"},
		{"nguyen van dat", "nguyen van dat"},
		{"  NGUYỄN   THỊ  hòa ", "nguyen thi hoa"},
		{"Hoà", "hoa"},            // old tone placement
		{"Ho\u0061\u0300", "hoa"}, // decomposed input
		{"Đặng Thị Ánh Tuyết", "dang thi anh tuyet"},
		{"H'Mông", "h'mong"},
		{"", ""},
		{"   ", ""},
		{"Phường Ba Đình", "phuong ba dinh"},
		{"a\tb", "a b"},
		{"a\fb\vc", "a b c"}, // form feed and vertical tab are white space too
	}
	for _, tt := range tests {
		if got := String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWords(t *testing.T) {
	got := Words(" Trần  Quốc Toản ")
	if strings.Join(got, "|") != "tran|quoc|toan" {
		t.Fatalf("Words = %q", got)
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"Nguyễn Văn Đạt", "  a  ", "\xff\xfe", "Đ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := String(s)
		if String(got) != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, String(got))
		}
		if strings.Contains(got, "  ") || strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") {
			t.Fatalf("bad spacing in %q", got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 out of valid input: %q", got)
		}
	})
}

func BenchmarkString(b *testing.B) {
	for b.Loop() {
		String("Nguyễn Thị Minh Khai")
	}
}

func FuzzFastPath(f *testing.F) {
	for _, s := range []string{"Nguyễn Văn Đạt", "ǅ Øre İstanbul", "Ho\u0061\u0300", "TRẦN\u00a0QUỐC", "a\x85b", "Ỹ ỷ ǜ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if fast, ok := foldFast(s); ok && fast != foldSlow(s) {
			t.Fatalf("fast path %q, general path %q for %q", fast, foldSlow(s), s)
		}
	})
}

// TestFastPathTable checks every letter of the tables against the general
// path, in both cases and inside words.
func TestFastPathTable(t *testing.T) {
	for _, r := range []struct{ lo, hi rune }{{0x00C0, 0x0250}, {0x1E00, 0x1F00}} {
		for c := r.lo; c < r.hi; c++ {
			s := "x" + string(c) + "Y " + string(c)
			if fast, ok := foldFast(s); ok && fast != foldSlow(s) {
				t.Errorf("U+%04X: fast %q, general %q", c, fast, foldSlow(s))
			}
		}
	}
	if _, ok := foldFast("Nguyễn Thị Minh Khai"); !ok {
		t.Error("a Vietnamese name took the general path")
	}
}
