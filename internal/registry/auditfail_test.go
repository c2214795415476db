package registry_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"

	"github.com/dancu-project/dancu/internal/registry"
)

// brokenAudit is an audit log whose store fails every write, as a full
// disk or a lost database connection would.
type brokenAudit struct{}

var errAuditDown = errors.New("audit store down")

func (brokenAudit) Record(context.Context, audit.Entry) error      { return errAuditDown }
func (brokenAudit) RecordAll(context.Context, []audit.Entry) error { return errAuditDown }
func (brokenAudit) RecordTx(context.Context, *storage.DB, *sql.Tx, audit.Entry) error {
	return errAuditDown
}

// TestStaffReadsDiscloseNothingWithoutAudit: when the audit entry of a
// staff read cannot be written, the read answers an error and no data of
// the person — every read of the register by staff, for a person in scope
// who exists (the branch that would otherwise disclose).
func TestStaffReadsDiscloseNothingWithoutAudit(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := setup(t, db)
		units, err := adminunit.Load()
		if err != nil {
			t.Fatal(err)
		}
		svc := registry.NewService(db, units, brokenAudit{}, func() time.Time { return today })
		for _, tc := range []struct {
			name string
			read func() (any, error)
		}{
			{"person", func() (any, error) { return svc.Get(ctx, registrarBaDinh, f.mother, "lookup") }},
			{"search", func() (any, error) { return svc.Search(ctx, registrarBaDinh, registry.Query{Text: f.mother}) }},
			{"household", func() (any, error) { return svc.Household(ctx, registrarBaDinh, f.household) }},
			{"residences", func() (any, error) { return svc.Residences(ctx, registrarBaDinh, f.mother) }},
			{"events", func() (any, error) { return svc.Events(ctx, registrarBaDinh, f.mother) }},
			{"history", func() (any, error) { return svc.History(ctx, registrarBaDinh, f.mother) }},
		} {
			got, err := tc.read()
			if !errors.Is(err, errAuditDown) {
				t.Errorf("%s: error %v, want the audit failure", tc.name, err)
			}
			if s := fmt.Sprintf("%+v", got); containsAny(s, f.mother, "Trần Thị Hoà", "Quán Thánh") {
				t.Errorf("%s: disclosed %s though its audit entry failed", tc.name, s)
			}
		}
	})
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
