package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/web"
	"github.com/dancu-project/dancu/internal/web/deskweb"
)

// openDesk builds the one-stop desk on the dossiers service and returns
// its routes: the desk API and pages.
func (a *App) openDesk(base string, secure bool, units *adminunit.Catalog, log *slog.Logger, now func() time.Time) (web.Mounter, error) {
	cards := a.Cards
	desk, err := services.NewDesk(a.Services, services.DeskDeps{
		// A card in its holder's hands, read by the platform: the
		// register's scope is the desk's own rule, checked before.
		Cards: func(ctx context.Context, pin, serial string) (bool, error) {
			cs, _, err := cards.Cards(ctx, actor.SystemActor("desk-intake"), pin)
			if err != nil {
				if fault.As(err).Kind == fault.Internal {
					return false, err
				}
				return false, nil // unknown person: no such card
			}
			for _, c := range cs {
				if c.Serial == serial && c.Status == cardservice.HandedOver {
					return true, nil
				}
			}
			return false, nil
		},
		Officers: func(ctx context.Context) ([]actor.Actor, error) {
			accs, err := a.Staff.List(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]actor.Actor, 0, len(accs))
			for _, acc := range accs {
				if !acc.Disabled {
					out = append(out, acc.Actor())
				}
			}
			return out, nil
		},
		UnitName: func(code string) (string, bool) {
			switch len(code) {
			case 5:
				if u, err := units.Commune(code, now()); err == nil {
					return u.Name, true
				}
			case 2:
				if u, err := units.Province(code, now()); err == nil {
					return u.Name, true
				}
			}
			return "", false
		},
	})
	if err != nil {
		return nil, err
	}
	return deskweb.New(deskweb.Deps{Desk: desk, Staff: a.Staff, Log: log, BaseURL: base, SecureCookies: secure})
}
