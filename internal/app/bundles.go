package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/bundle"
	"github.com/dancu-project/dancu/internal/delivery"
	"github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/web"
	"github.com/dancu-project/dancu/internal/web/bundleweb"
	"github.com/dancu-project/dancu/internal/web/partnerapi"
	"github.com/dancu-project/dancu/internal/workday"
)

// openBundles builds the inter-agency bundles (a.Bundles) on the online
// services' dossiers, the register and the exchange partners, and returns
// their citizen and agency routes. Their steps go to partner agencies as
// signed webhooks under the webhooks' egress rule.
func (a *App) openBundles(cfg platform.Config, log *slog.Logger, now func() time.Time) ([]web.Mounter, error) {
	cal, err := workday.Default()
	if err != nil {
		return nil, fmt.Errorf("working-day calendar: %w", err)
	}
	egress, err := delivery.EgressFor(cfg.Production, cfg.WebhookNetworks)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(strings.TrimSuffix(cfg.Issuer(), "/oidc"), "/")
	deps := bundle.Deps{DB: a.DB, Register: a.Registry, Partners: a.Partners, Sectors: a.Exchange, Audit: a.Audit, Calendar: cal,
		Client: delivery.NewClient(10*time.Second, 4, egress), AnswerURL: base + partnerapi.Prefix, Production: cfg.Production, Log: log, Now: now}
	if a.Services != nil {
		deps.Dossiers = a.Services
	}
	if a.Bundles, err = bundle.New(deps); err != nil {
		return nil, err
	}
	h, err := bundleweb.New(bundleweb.Deps{Bundles: a.Bundles, Citizens: a.EID, Staff: a.Staff, Log: log, Now: now, SecureCookies: cfg.SecureCookies})
	if err != nil {
		return nil, err
	}
	return []web.Mounter{h}, nil
}

// startBundles runs the bundles' saga and offers consumers.
func (a *App) startBundles(ctx context.Context) error {
	done, err := a.Bundles.Start(ctx, a.Bus)
	if err != nil {
		return err
	}
	a.workersDone = append(a.workersDone, done...)
	return nil
}
