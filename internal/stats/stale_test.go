package stats_test

import (
	"context"
	"testing"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/stats"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestStaleOnlyAfterBulkLoad: births through the register keep the
// counters built (a node restarting under live traffic must not rebuild and
// race the consumers); a bulk load marked stale asks for a rebuild, which
// clears the mark.
func TestStaleOnlyAfterBulkLoad(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			env := apptest.Start(t, d, 100)
			s := env.App.Stats
			built := func(want bool, when string) {
				t.Helper()
				got, err := s.Built(ctx)
				if err != nil || got != want {
					t.Fatalf("%s: built %v (%v), want %v", when, got, err, want)
				}
			}
			built(true, "after the first start")
			var hh string
			if err := env.App.DB.R.QueryRow(`SELECT household_id FROM persons WHERE status = 'alive' AND relation = 'Chủ hộ' ORDER BY pin DESC LIMIT 1`).Scan(&hh); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"Lê Thị Mai", "Lê Văn Tùng"} {
				sex := "F"
				if name == "Lê Văn Tùng" {
					sex = "M"
				}
				if _, err := env.App.Registry.RegisterBirth(ctx, actor.SystemActor("stale-test"), registry.BirthInput{FullName: name, Sex: sex, BirthDate: "01/12/2026", HouseholdID: hh, ConfirmTwin: true}); err != nil {
					t.Fatal(err)
				}
			}
			built(true, "after births")
			if err := stats.MarkStale(ctx, env.App.DB); err != nil {
				t.Fatal(err)
			}
			built(false, "after a bulk load")
			if err := s.Rebuild(ctx); err != nil {
				t.Fatal(err)
			}
			built(true, "after the rebuild")
		})
	}
}
