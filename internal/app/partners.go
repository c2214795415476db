package app

import (
	"context"

	"github.com/dancu-project/dancu/internal/exchange"
)

// BootstrapPartners creates the sample partners (a bank, the social
// insurance agency with its health-insurance card scheme, a hospital) with
// one system each when there is no partner yet, and returns the systems'
// client credentials, which are shown only now. Production starts with none.
func (a *App) BootstrapPartners(ctx context.Context) ([]exchange.SampleCredential, error) {
	if a.Config.Production {
		return nil, nil
	}
	return a.Partners.Bootstrap(ctx, a.OIDC.Clients())
}
