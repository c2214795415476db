package oidcop

import (
	"context"
	"fmt"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/eid"
)

// Scopes a client may be registered for, besides openid and offline_access.
const (
	ScopeProfile = "profile" // name, birth date, sex from the register
	ScopeAddress = "address" // permanent residence from the register
	ScopePIN     = "pin"     // the personal identification number
)

// scopeClaims describes, in Vietnamese, the data each scope releases; the
// consent page lists them one by one.
var scopeClaims = map[string][]string{
	ScopeProfile:            {"Họ, chữ đệm và tên", "Ngày, tháng, năm sinh", "Giới tính"},
	ScopeAddress:            {"Nơi thường trú"},
	ScopePIN:                {"Số định danh cá nhân"},
	ScopeOrg:                {"Tổ chức bạn chọn thay mặt và vai trò của bạn"},
	oidc.ScopeOfflineAccess: {"Duy trì truy cập khi bạn không trực tuyến (mã làm mới)"},
}

// Accounts is what the provider needs from the eid accounts.
type Accounts interface {
	SignIn(ctx context.Context, in eid.SignInInput) (eid.Authentication, error)
	AccountBySubject(ctx context.Context, subject string) (eid.Account, error)
}

// claimSource reads the claims a token's scopes release. Register data is
// read through Register.Get as the relying party, for its declared purpose,
// so the read is in the citizen's access log.
type claimSource struct {
	accounts Accounts
	register eid.Register
	clients  *Clients
}

func (c *claimSource) fill(ctx context.Context, ui *oidc.UserInfo, subject, clientID string, scopes []string) error {
	profile, address, pin := slices.Contains(scopes, ScopeProfile), slices.Contains(scopes, ScopeAddress), slices.Contains(scopes, ScopePIN)
	if !profile && !address && !pin {
		return nil
	}
	acct, err := c.accounts.AccountBySubject(ctx, subject)
	if err != nil || acct.Status != eid.StatusActive {
		return oidc.ErrAccessDenied().WithDescription("the account is not active")
	}
	if pin {
		ui.AppendClaims("pin", acct.PIN)
	}
	if !profile && !address {
		return nil
	}
	client, err := c.clients.Get(ctx, clientID)
	if err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	reader := actor.Actor{ID: "partner:" + client.ID, Name: client.Name, Role: actor.System}
	p, err := c.register.Get(ctx, reader, acct.PIN, "oidc: "+client.Purpose)
	if err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	if profile {
		ui.Name = p.FullName
		ui.Birthdate = p.BirthDate.String()
		switch p.Sex {
		case "M":
			ui.Gender = oidc.Gender("male")
		case "F":
			ui.Gender = oidc.Gender("female")
		}
	}
	if address {
		ui.Address = &oidc.UserInfoAddress{Formatted: p.Permanent.Text, Region: p.Permanent.ProvinceCode, Country: "VN"}
	}
	return nil
}
