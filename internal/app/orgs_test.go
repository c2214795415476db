package app_test

import (
	"context"
	"testing"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/storage"
)

// TestSampleOrganisation: the first start's sample citizens can act for a
// sample company at once, the level-2 one as its representative and the
// level-1 one as delegated staff.
func TestSampleOrganisation(t *testing.T) {
	env := apptest.Start(t, storage.SQLite, 300)
	ctx := context.Background()
	creds, err := env.App.BootstrapCitizens(ctx, apptest.Password)
	if err != nil || len(creds) != 2 {
		t.Fatalf("sample citizens %+v %v", creds, err)
	}
	want := map[string]string{creds[0].PIN: eid.RoleStaff, creds[1].PIN: eid.RoleRepresentative}
	for pin, role := range want {
		ms, err := env.App.EID.Memberships(ctx, pin)
		if err != nil || len(ms) != 1 || ms[0].Org.Code != app.SampleOrgCode || ms[0].Role != role {
			t.Fatalf("memberships of a sample citizen: %+v %v", ms, err)
		}
	}
}
