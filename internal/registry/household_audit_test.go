package registry_test

import (
	"context"
	"testing"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestHouseholdReadAuditsEveryMember: a household page shows every
// member, so each member's access log has the read, once per read.
func TestHouseholdReadAuditsEveryMember(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := setup(t, db)
		h, err := f.svc.Household(ctx, registrarBaDinh, f.household)
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Members) != 3 {
			t.Fatalf("household has %d members, want 3", len(h.Members))
		}
		if _, err := f.svc.Household(ctx, registrarBaDinh, f.household); err != nil {
			t.Fatal(err)
		}
		subjects := []string{"household:" + f.household}
		for _, m := range h.Members {
			subjects = append(subjects, "person:"+m.PIN)
		}
		for _, subject := range subjects {
			es, err := audit.BySubject(ctx, db, subject, 100)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range es {
				if e.Action == registry.ActionHouseholdRead && e.Actor == registrarBaDinh.ID {
					n++
				}
			}
			if n != 2 {
				t.Errorf("%s: %d household reads in its access log, want 2", subject, n)
			}
		}
		// A member of another household sees none.
		es, _ := audit.BySubject(ctx, db, "person:"+f.far, 100)
		for _, e := range es {
			if e.Action == registry.ActionHouseholdRead {
				t.Errorf("a person outside the household has a household read: %+v", e)
			}
		}
	})
}
