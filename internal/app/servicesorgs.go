package app

import (
	"context"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/services"
)

// serviceOrgs answers the services module's one rule of filing for an
// organisation from the e-ID's organisation accounts: a membership in force
// now (legal representative, or a delegation not expired nor revoked) of an
// active account.
type serviceOrgs struct{ eid *eid.Service }

func (o serviceOrgs) Acting(ctx context.Context, pin string) ([]services.Organisation, error) {
	ms, err := o.eid.Memberships(ctx, pin)
	if err != nil {
		return nil, err
	}
	out := make([]services.Organisation, 0, len(ms))
	for _, m := range ms {
		out = append(out, services.Organisation{ID: m.Org.ID, Kind: m.Org.Kind, Code: m.Org.Code, Name: m.Org.Name, Role: m.Role})
	}
	return out, nil
}

func (o serviceOrgs) ActFor(ctx context.Context, pin, orgID string) (services.Organisation, error) {
	if acct, err := o.eid.Account(ctx, pin); err != nil || acct.Status != eid.StatusActive {
		return services.Organisation{}, services.ErrNotForOrg
	}
	ms, err := o.Acting(ctx, pin)
	if err != nil {
		return services.Organisation{}, err
	}
	for _, m := range ms {
		if m.ID == orgID {
			return m, nil
		}
	}
	return services.Organisation{}, services.ErrNotForOrg
}
