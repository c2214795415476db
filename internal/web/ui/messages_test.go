package ui

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/web/page"
)

// TestCatalogue checks that both languages have the same messages and that
// every message a template names exists.
func TestCatalogue(t *testing.T) {
	u, err := New(Deps{Registry: &registry.Service{}, Staff: &staff.Store{}, Units: &adminunit.Catalog{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range u.msgs.Missing() {
		t.Errorf("message %s is missing", id)
	}
	unknown, err := u.msgs.Unknown(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range unknown {
		t.Errorf("a template uses an unknown message: %s", u)
	}
	// The staff pages' own shorthands: a field's hint and label.
	has := func(id string) bool { _, ok := u.msgs.Lookup(page.VI, id); return ok }
	hintRE, fieldRE := regexp.MustCompile(`"hint=([^"]+)"`), regexp.MustCompile(`field \.Form "([^"]+)"`)
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	for _, name := range files {
		b, err := fs.ReadFile(templateFS, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range hintRE.FindAllStringSubmatch(string(b), -1) {
			if !has(m[1]) {
				t.Errorf("%s: unknown hint %q", name, m[1])
			}
		}
		for _, m := range fieldRE.FindAllStringSubmatch(string(b), -1) {
			if !has("f." + m[1]) {
				t.Errorf("%s: field %q has no label f.%s", name, m[1], m[1])
			}
		}
	}
	if len(ethnicities) != 54 {
		t.Errorf("%d ethnic groups, want 54", len(ethnicities))
	}
}
