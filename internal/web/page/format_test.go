package page

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
)

// TestDateAndTimeText: civil dates as dd/mm/yyyy (partial ones as the
// register holds them), instants in Vietnam's time — 23:30 UTC on 7
// December is 06:30 on the 8th in Hà Nội.
func TestDateAndTimeText(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{civildate.Date{Year: 1990, Month: 1, Day: 31}, "31/01/1990"},
		{civildate.Date{Year: 1952, Month: 3}, "03/1952"},
		{civildate.Date{Year: 1948}, "1948"},
		{civildate.Date{}, "—"},
		{&civildate.Date{Year: 2000, Month: 2, Day: 29}, "29/02/2000"},
		{(*civildate.Date)(nil), "—"},
		{"2026-12-08", "08/12/2026"},
		{"", "—"},
		{"not a date", "not a date"},
		{nil, "—"},
	} {
		if got := DateText(c.in); got != c.want {
			t.Errorf("DateText(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
	at := time.Date(2026, 12, 7, 23, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		in   any
		want string
	}{{at, "08/12/2026 06:30"}, {&at, "08/12/2026 06:30"}, {time.Time{}, "—"}, {(*time.Time)(nil), "—"}} {
		if got := WhenText(c.in); got != c.want {
			t.Errorf("WhenText(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestKitFuncs: every template set has the kit's functions, names in the
// page's language; a module may not define one of them again.
func TestKitFuncs(t *testing.T) {
	fsys := fstest.MapFS{"t/x.html": {Data: []byte(`{{define "x"}}{{date .D}}|{{ethnicity "05"}}|{{religion ""}}|{{nationality "FRA"}}|{{ethnicity "99"}}{{end}}`)}}
	own := func(string) template.FuncMap {
		return template.FuncMap{"t": func(s string) string { return s }, "home": func() string { return "/" }}
	}
	ts, err := Parse(fsys, own, "t/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for l, want := range map[string]string{VI: "15/03/1985|Khơ-me|Không|Pháp|99", EN: "15/03/1985|Khmer|None|France|99"} {
		var b bytes.Buffer
		if err := ts.byLang[l].ExecuteTemplate(&b, "x", map[string]any{"D": civildate.Date{Year: 1985, Month: 3, Day: 15}}); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("%s: %q, want %q", l, b.String(), want)
		}
	}
	_, err = Parse(fsys, func(string) template.FuncMap {
		return template.FuncMap{"t": fmt.Sprint, "home": fmt.Sprint, "date": fmt.Sprint}
	}, "t/*.html")
	if err == nil || !strings.Contains(err.Error(), `"date"`) {
		t.Errorf("a module's own date function: %v", err)
	}
}
