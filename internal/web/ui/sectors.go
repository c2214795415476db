package ui

import (
	"context"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/exchange"
)

// SectorReader lists the sector identifiers (tax code, social insurance
// number…) partners linked to a person, scope-checked and audited as a
// staff read (*exchange.Service).
type SectorReader interface {
	PersonSectorIDs(ctx context.Context, a actor.Actor, pin, purpose string) ([]exchange.HeldSectorID, error)
}
