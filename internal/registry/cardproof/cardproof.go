// Package cardproof lets the register accept an identity card read at the
// desk as evidence that a person arriving in a registrar's unit is there
// (registry.Arrival): it asks the card register whether the card is one the
// platform produced and handed over and that is still valid. It lives apart
// from both, since the card service reads the register.
package cardproof

import (
	"context"

	"github.com/dancu-project/dancu/internal/card/qr"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
)

// Checker is registry.Cards over the card service.
type Checker struct {
	Cards *cardservice.Service
}

// ErrNotValid refuses a card that is not a valid card of the card register.
var ErrNotValid = fault.New(fault.Forbidden, "card.not_valid", "Thẻ không có trong CSDL căn cước hoặc không còn hiệu lực.", "The card is not in the card register or is no longer valid.")

// CheckQR parses the QR payload and has the card register check it without
// reading the register's person record (the anonymous verification: the
// caller compares the person itself). The card must be known by its PIN
// and issue date, and handed over: a card lost, revoked, replaced or not
// yet given to its holder is no evidence that its holder is at the desk.
// The printed QR is not signed, so the payload must agree with the
// register too (registry compares PIN, birth, sex and name).
func (c Checker) CheckQR(ctx context.Context, payload string) (registry.CardProof, error) {
	p, err := qr.Parse(payload)
	if err != nil {
		return registry.CardProof{}, err
	}
	rep, err := c.Cards.Verify(ctx, nil, cardservice.VerifyInput{QR: payload})
	if err != nil {
		return registry.CardProof{}, err
	}
	if !rep.OK || rep.PIN != string(p.PIN) || rep.CardStatus != cardservice.HandedOver {
		return registry.CardProof{}, ErrNotValid
	}
	return registry.CardProof{PIN: string(p.PIN), Name: p.Name, Birth: p.Birth, Sex: string(p.Sex), Issue: p.Issue}, nil
}

// CheckChip has the card register verify a chip read: passive
// authentication against the platform's CSCA and revocation list, and the
// card's status. The data groups are signed, so the PIN they carry names
// the holder.
func (c Checker) CheckChip(ctx context.Context, chip registry.ChipRead) (registry.CardProof, error) {
	rep, err := c.Cards.Verify(ctx, nil, cardservice.VerifyInput{DataGroups: chip.DataGroups, SOD: chip.SOD})
	if err != nil {
		return registry.CardProof{}, err
	}
	if !rep.OK || rep.PIN == "" || rep.CardStatus != cardservice.HandedOver {
		return registry.CardProof{}, ErrNotValid
	}
	return registry.CardProof{PIN: rep.PIN, Signed: true}, nil
}
