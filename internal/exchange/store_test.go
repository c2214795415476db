package exchange_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func migrations() []storage.Migrations {
	return []storage.Migrations{storage.OwnMigrations(), exchange.Migrations()}
}

func codes(err error) []string {
	var out []string
	for _, f := range fault.Faults(err) {
		out = append(out, f.Field+":"+f.Code)
	}
	return out
}

// TestPartnerValidation shows every problem of a partner form at once, in
// Vietnamese, and writes nothing when any is wrong.
func TestPartnerValidation(t *testing.T) {
	law := exchange.Purpose{Code: "aml", Description: "Phòng, chống rửa tiền", Basis: exchange.BasisLaw, Citation: "Luật PCRT, Điều 9"}
	tests := []struct {
		name   string
		p      exchange.Partner
		fields []string // fields at fault, in order; none means accepted
	}{
		{"valid", exchange.Partner{ID: "bank-a", Name: "Ngân hàng A", Kind: exchange.KindBank, Policy: exchange.Policy{
			Operations: []exchange.Operation{exchange.OpVerify}, Fields: []string{"full_name", "sector_id.tax_code"}, Purposes: []exchange.Purpose{law}, Scope: "01"}}, nil},
		{"bad id, name, kind", exchange.Partner{ID: "Bank A", Name: " ", Kind: "spaceship"}, []string{"id", "name", "kind"}},
		{"law purpose without citation", exchange.Partner{ID: "b1", Name: "B", Kind: exchange.KindBank, Policy: exchange.Policy{
			Purposes: []exchange.Purpose{{Code: "x1", Description: "X", Basis: exchange.BasisLaw}}}}, []string{"purposes[0]"}},
		{"unknown operation and field, bad scope", exchange.Partner{ID: "b2", Name: "B", Kind: exchange.KindBank, Policy: exchange.Policy{
			Operations: []exchange.Operation{"delete"}, Fields: []string{"password"}, Scope: "1"}}, []string{"operations", "fields", "scope"}},
		{"purpose field outside the policy", exchange.Partner{ID: "b3", Name: "B", Kind: exchange.KindBank, Policy: exchange.Policy{
			Fields: []string{"full_name"}, Purposes: []exchange.Purpose{{Code: "kyc", Description: "eKYC", Basis: exchange.BasisConsent, Fields: []string{"pin"}}}}}, []string{"purposes[0]"}},
		{"negative limits", exchange.Partner{ID: "b4", Name: "B", Kind: exchange.KindBank, Policy: exchange.Policy{RatePerSecond: -1}}, []string{"rate_per_second"}},
		{"rate not a number", exchange.Partner{ID: "b5", Name: "B", Kind: exchange.KindBank, Policy: exchange.Policy{RatePerSecond: math.NaN()}}, []string{"rate_per_second"}},
		{"infinite rate", exchange.Partner{ID: "b6", Name: "B", Kind: exchange.KindBank, Policy: exchange.Policy{RatePerSecond: math.Inf(1)}}, []string{"rate_per_second"}},
	}
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := exchange.NewStore(db, time.Now)
		for _, tc := range tests {
			_, err := s.AddPartner(ctx, tc.p)
			if tc.fields == nil {
				if err != nil {
					t.Errorf("%s: %v", tc.name, err)
				}
				continue
			}
			var got []string
			for _, f := range fault.Faults(err) {
				got = append(got, f.Field)
				if f.Message == "" || f.English == "" {
					t.Errorf("%s: fault without a message: %+v", tc.name, f)
				}
			}
			if len(got) != len(tc.fields) {
				t.Errorf("%s: faults %v, want fields %v", tc.name, codes(err), tc.fields)
				continue
			}
			for i := range got {
				if got[i] != tc.fields[i] {
					t.Errorf("%s: faults %v, want fields %v", tc.name, codes(err), tc.fields)
				}
			}
			if _, err := s.Partner(ctx, tc.p.ID); !errors.Is(err, exchange.ErrPartnerNotFound) {
				t.Errorf("%s: a refused partner was stored", tc.name)
			}
		}
		if _, err := s.AddPartner(ctx, tests[0].p); !errors.Is(err, exchange.ErrPartnerExists) {
			t.Errorf("duplicate id: %v", err)
		}
		// Two editors: the second, working from the old version, is told.
		p, _ := s.Partner(ctx, "bank-a")
		pol := p.Policy
		pol.DailyQuota = 10
		if np, err := s.SetPolicy(ctx, "bank-a", p.Version, pol); err != nil || np.Version != 2 || np.Policy.DailyQuota != 10 {
			t.Fatalf("set policy: %+v %v", np, err)
		}
		if _, err := s.SetPolicy(ctx, "bank-a", p.Version, pol); !errors.Is(err, fault.ErrStaleVersion) {
			t.Errorf("stale policy edit: %v", err)
		}
	})
}

// TestLinked lists the partners that deal with a person: recorded links
// and the owners of the person's sector identifiers, each once.
func TestLinked(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := exchange.NewStore(db, time.Now)
		for _, p := range exchange.Samples() {
			if _, err := s.AddPartner(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		const pin = "001090000001"
		links := []exchange.Link{{PIN: pin, PartnerID: "nganhang-a", Via: "verify"}, {PIN: pin, PartnerID: "nganhang-a", Via: "lookup"},
			{PIN: pin, PartnerID: "bv-bachmai", Via: "verify"}, {PIN: "001090000002", PartnerID: "bhxh", Via: "reconcile"}}
		if err := s.AddLinks(ctx, links); err != nil {
			t.Fatal(err)
		}
		if err := s.AddLinks(ctx, links); err != nil {
			t.Fatalf("links recorded twice: %v", err)
		}
		got, err := s.Linked(ctx, pin)
		if err != nil || len(got) != 2 || got[0] != "bv-bachmai" || got[1] != "nganhang-a" {
			t.Fatalf("linked %v %v", got, err)
		}
		if got, _ := s.Linked(ctx, "001090000003"); len(got) != 0 {
			t.Fatalf("a person nobody dealt with has links %v", got)
		}
	})
}
