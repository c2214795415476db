package servicesweb

import (
	"testing"

	"github.com/dancu-project/dancu/internal/web/page"
)

// TestCataloguePages: both languages have the same messages, every
// message a template names is registered, and the templates parse.
func TestCataloguePages(t *testing.T) {
	h := &Handler{}
	k, err := newKit(h)
	if err != nil {
		t.Fatal(err)
	}
	if m := k.Messages.Missing(); len(m) > 0 {
		t.Errorf("messages missing in a language: %v", m)
	}
	u, err := k.Messages.Unknown(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	if len(u) > 0 {
		t.Errorf("templates name unknown messages: %v", u)
	}
	for _, tc := range []struct {
		in   int64
		want string
	}{{0, "0"}, {7000, "7.000"}, {70000, "70.000"}, {1234567, "1.234.567"}, {999, "999"}} {
		if got := vnd(tc.in); got != tc.want {
			t.Errorf("vnd(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := k.Messages.T(page.EN, "status.returned"); got != "Result returned" {
		t.Errorf("English status: %q", got)
	}
}
