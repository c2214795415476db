package portal

import (
	"testing"

	"github.com/dancu-project/dancu/internal/web/page"
)

// TestCatalogue checks that the portal's catalogue (its texts, the account
// pages' and the provider pages') registers without a clash, that both
// languages have the same messages, and that every message a template or
// the consent page names exists.
func TestCatalogue(t *testing.T) {
	kit, err := newKit(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range kit.Messages.Missing() {
		t.Errorf("message %s is missing", id)
	}
	has := func(id string) bool { _, ok := kit.Messages.Lookup(page.VI, id); return ok }
	unknown, err := kit.Messages.Unknown(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range unknown {
		t.Errorf("a template uses an unknown message: %s", u)
	}
	for scope, ids := range scopeClaims {
		for _, id := range ids {
			if !has(id) {
				t.Errorf("scope %s: unknown message %q", scope, id)
			}
		}
	}
	for _, role := range []string{"representative", "manager", "accountant", "staff"} {
		if !has("role." + role) {
			t.Errorf("role %s has no name", role)
		}
	}
}
