package deskweb

import (
	"testing"

	"github.com/dancu-project/dancu/internal/web/page"
)

// TestMessages: both languages have the same messages, every message a
// template names is registered, and sizes read as people write them.
func TestMessages(t *testing.T) {
	msgs := page.NewCatalogue()
	if err := msgs.Register("desk pages", messages); err != nil {
		t.Fatal(err)
	}
	if m := msgs.Missing(); len(m) > 0 {
		t.Errorf("messages missing in a language: %v", m)
	}
	u, err := msgs.Unknown(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	if len(u) > 0 {
		t.Errorf("templates name unknown messages: %v", u)
	}
	for _, c := range []struct {
		n    int64
		want string
	}{{0, "0 B"}, {900, "900 B"}, {1536, "1,5 KB"}, {5 << 20, "5 MB"}, {(5 << 20) + (1 << 19), "5,5 MB"}, {10 << 20, "10 MB"}} {
		if got := sizeText(c.n); got != c.want {
			t.Errorf("sizeText(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
