package registry

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"Nguyễn Văn An", "Nguyễn Văn An", nil},
		{"  Trần   Thị  Hoà ", "Trần Thị Hoà", nil},
		{"Nguye\u0302\u0303n Va\u0306n An", "Nguyễn Văn An", nil}, // decomposed to NFC
		{"Y Moan Ê-đê", "Y Moan Ê-đê", nil},
		{"H'Hen Niê", "H'Hen Niê", nil},
		{"", "", ErrNameRequired},
		{"   ", "", ErrNameRequired},
		{"Nguyễn Văn 2", "", ErrNameInvalid},
		{"<script>", "", ErrNameInvalid},
		{"An\x00", "", ErrNameInvalid},
		{"\xff\xfe", "", ErrNameInvalid},
		{strings.Repeat("A", 101), "", ErrNameInvalid},
	}
	for _, tt := range tests {
		got, err := NormalizeName(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("NormalizeName(%q) = %q, %v; want %v", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"Nguyễn Văn An", " a  b ", "x1", "Ê-đê", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeName(s)
		if err != nil {
			return
		}
		if !norm.NFC.IsNormalString(got) || strings.Contains(got, "  ") || strings.TrimSpace(got) != got {
			t.Fatalf("%q normalised to %q", s, got)
		}
		again, err := NormalizeName(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", s, got, again, err)
		}
	})
}
