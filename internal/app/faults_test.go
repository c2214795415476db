package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/delivery"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/reconcile"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestStoreFaultsAlike asks every module's store for something missing and
// for something taken, on SQLite and on PostgreSQL: each answers with its
// module's typed fault (the kind problem.Status maps, the stable code the
// API sends), never a driver's error, so that no answer depends on the
// database behind it.
func TestStoreFaultsAlike(t *testing.T) {
	prefix, err := pin.Prefix("001", 1990, pin.Male)
	if err != nil {
		t.Fatal(err)
	}
	nobody := pin.FromSerial(prefix, 999_999).String()
	national := actor.Actor{ID: "staff:admin", Name: "admin", Role: actor.Admin}
	codes := map[string]map[string]string{} // case → dialect → code
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 5)
			a := env.App
			ctx := context.Background()
			if _, err := a.BootstrapPartners(ctx); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name string
				call func() error
				want *fault.Error
			}{
				// Missing.
				{"registry person", func() error { _, err := a.Registry.Get(ctx, national, nobody, "test"); return err }, registry.ErrPersonNotFound},
				{"card", func() error { _, err := a.Cards.Get(ctx, national, "C00000000", "test"); return err }, cardservice.ErrCardNotFound},
				{"e-ID account", func() error { _, err := a.EID.Account(ctx, nobody); return err }, eid.ErrNoAccount},
				{"organisation", func() error { _, err := a.EID.Org(ctx, "no-such-org"); return err }, eid.ErrOrgNotFound},
				{"OpenID client", func() error { _, err := a.OIDC.Clients().Get(ctx, "no-such-client"); return err }, oidcop.ErrClientNotFound},
				{"OpenID client (admin)", func() error { _, err := a.OIDC.Clients().Lookup(ctx, "no-such-client"); return err }, oidcop.ErrClientNotFound},
				{"partner", func() error { _, err := a.Partners.Partner(ctx, "no-such-partner"); return err }, exchange.ErrPartnerNotFound},
				{"partner system", func() error { _, _, err := a.Partners.System(ctx, "no-such-client"); return err }, exchange.ErrSystemNotFound},
				{"sector scheme", func() error { _, err := a.Partners.Scheme(ctx, "no_such_scheme"); return err }, exchange.ErrSchemeNotFound},
				{"subscription", func() error { return a.Deliveries.Unsubscribe(ctx, "", "no-such-subscription") }, delivery.ErrNotFound},
				{"reconciliation job", func() error { _, err := a.Reconcile.Job(ctx, "", "no-such-job"); return err }, reconcile.ErrJobNotFound},
				// Taken: a unique violation of either engine.
				{"staff username", func() error {
					return a.Staff.Create(ctx, staff.Account{Username: "admin", DisplayName: "Lại", Role: actor.Admin}, apptest.Password)
				}, staff.ErrAccountExists},
				{"partner id", func() error {
					_, err := a.Partners.AddPartner(ctx, exchange.Partner{ID: "nganhang-a", Name: "Lại", Kind: exchange.KindOther})
					return err
				}, exchange.ErrPartnerExists},
				{"OpenID client id", func() error {
					return a.OIDC.Clients().Add(ctx, oidcop.Client{ID: "nganhang-a-system", Secret: oidcop.NewSecret(), Name: "Lại", Purpose: "Thử",
						GrantTypes: []string{oidcop.GrantClientCredentials}})
				}, oidcop.ErrClientExists},
			} {
				err := c.call()
				f := fault.As(err)
				if !errors.Is(err, c.want) || f.Kind != c.want.Kind || f.Code != c.want.Code {
					t.Errorf("%s: %v (kind %v, code %q), want %s", c.name, err, f.Kind, f.Code, c.want.Code)
				}
				if codes[c.name] == nil {
					codes[c.name] = map[string]string{}
				}
				codes[c.name][string(d)] = f.Code
			}
		})
	}
	for name, by := range codes {
		if len(by) == 2 && by["sqlite"] != by["postgres"] {
			t.Errorf("%s: SQLite answers %q, PostgreSQL %q", name, by["sqlite"], by["postgres"])
		}
	}
}
