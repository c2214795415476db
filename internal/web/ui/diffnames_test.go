package ui

import (
	"testing"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/match"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/web/page"
)

// TestMatchDifferenceNames: every field and kind a match difference can
// name has its words in both languages, so the reconcile review never
// shows "full_name: missing_diacritics".
func TestMatchDifferenceNames(t *testing.T) {
	u, err := New(Deps{Registry: &registry.Service{}, Staff: &staff.Store{}, Units: &adminunit.Catalog{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{match.FieldPIN, match.FieldCardNumber, match.FieldFullName, match.FieldBirthDate, match.FieldSex, match.FieldAddress,
		match.KindMissingDiacritics, match.KindMisspelt, match.KindSwappedDayMonth, match.KindDifferent, match.KindOutdatedUnit, match.KindMissing, match.KindWordOrder} {
		for _, l := range page.Languages {
			if _, ok := u.msgs.Lookup(l, "recon.diff."+c); !ok {
				t.Errorf("no %s words for the match difference %q", l, c)
			}
		}
	}
}
