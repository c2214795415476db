package stats

import (
	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/fault"
)

// Authorize is the one rule for who reads a unit's indicators, on every
// path (pages, exports, API): an actor whose role reads dashboards, for a
// unit inside its scope — the nation for a national actor, its province and
// the province's communes for a province's, its commune for a commune's.
// It runs before the code is looked at further, so a refusal says nothing
// of whether the unit exists.
func (s *Service) Authorize(a actor.Actor, code string) error {
	if !a.Can(actor.ReadDashboards) {
		return fault.ErrForbidden
	}
	if code == "" {
		code = Nation
	}
	switch a.Level() {
	case actor.LevelNational:
		return nil
	case actor.LevelProvince, actor.LevelCommune:
		if code == a.Unit {
			return nil
		}
		if a.Level() == actor.LevelProvince {
			if u, err := s.units.Commune(code, s.now()); err == nil && u.ProvinceCode == a.Unit {
				return nil
			}
		}
	}
	return fault.ErrForbidden
}

// Home is the unit whose dashboard an actor opens first.
func Home(a actor.Actor) string {
	if a.Level() == actor.LevelNational {
		return Nation
	}
	return a.Unit
}

// Suppressed is below the count a public figure may show: fewer people than
// this could point at someone.
const Suppressed = 10
