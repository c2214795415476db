package exchange

import (
	"context"
	"fmt"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
)

// ActionSectorRead is the audit action of a staff member reading a
// person's sector identifiers (the staff person page).
const ActionSectorRead = "person.sector_id.read"

// HeldSectorID is one of a person's sector identifiers as the staff
// person page shows it: the scheme's Vietnamese name and owner beside the
// value.
type HeldSectorID struct {
	Scheme     string    `json:"scheme"`
	SchemeName string    `json:"scheme_name"`
	OwnerID    string    `json:"owner_id"`
	Value      string    `json:"value"`
	WrittenAt  time.Time `json:"written_at"`
}

// PersonSectorIDs lists the sector identifiers partners linked to the
// person pinText, for staff member a. The register's scope rule decides
// first (a person outside a's unit is refused as the register refuses
// any read, before anything is listed); the read is then audited in the
// person's access log as every staff read is, with purpose.
func (s *Service) PersonSectorIDs(ctx context.Context, a actor.Actor, pinText, purpose string) ([]HeldSectorID, error) {
	c, err := s.register.ReadCoreUnaudited(ctx, a, pinText)
	if err != nil {
		return nil, err
	}
	ids, err := s.store.SectorIDs(ctx, c.PIN)
	if err != nil {
		return nil, err
	}
	if err := s.audit.Record(ctx, audit.Entry{Actor: a.ID, Action: ActionSectorRead, Subject: "person:" + c.PIN,
		Purpose: purpose, Detail: fmt.Sprintf("count=%d", len(ids)), At: s.now().UTC()}); err != nil {
		return nil, fmt.Errorf("audit sector id read: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	schemes, err := s.store.Schemes(ctx)
	if err != nil {
		return nil, err
	}
	byCode := map[string]Scheme{}
	for _, sc := range schemes {
		byCode[sc.Code] = sc
	}
	out := make([]HeldSectorID, 0, len(ids))
	for _, id := range ids {
		sc := byCode[id.Scheme]
		out = append(out, HeldSectorID{Scheme: id.Scheme, SchemeName: sc.Name, OwnerID: sc.OwnerID, Value: id.Value, WrittenAt: id.WrittenAt})
	}
	return out, nil
}
