package app

import (
	"context"
	"fmt"
	"time"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/staff"
)

// SampleOrgCode is the tax code of the sample company made on first start.
const SampleOrgCode = "0100000001"

// bootstrapOrganisation makes a sample company on first start (development
// only, with the sample citizens): the level-2 citizen is its legal
// representative, registered by the bootstrap registrar, and has delegated
// the level-1 citizen as staff for a year, so "act for an organisation" can
// be tried at once (portal: Tổ chức của tôi; OpenID: scope "org").
func (a *App) bootstrapOrganisation(ctx context.Context, citizens []CitizenCredential) error {
	var rep, delegate string
	for _, c := range citizens {
		switch c.Level {
		case eid.Level2:
			rep = c.PIN
		case eid.Level1:
			delegate = c.PIN
		}
	}
	if rep == "" || delegate == "" {
		return nil
	}
	registrar := staff.Account{Username: "dangky.hanoi", Role: "registrar", Unit: "01", Province: "01"}.Actor()
	org, err := a.EID.RegisterOrg(ctx, registrar, eid.OrgInput{Kind: eid.OrgCompany, Code: SampleOrgCode, Name: "Công ty TNHH Dịch vụ Mẫu Dancu", RepresentativePIN: rep})
	if err != nil {
		return fmt.Errorf("sample organisation: %w", err)
	}
	if _, err := a.EID.Delegate(ctx, eid.Session{PIN: rep, Level: eid.Level2}, org.ID, delegate, eid.RoleStaff, a.Now().Add(365*24*time.Hour)); err != nil {
		return fmt.Errorf("sample delegation: %w", err)
	}
	a.Log.Info("created a sample organisation for the sample citizens", "tax_code", SampleOrgCode)
	return nil
}
