package api

import (
	"errors"
	"net/http"

	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/stats"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
)

var errStatsOff = fault.New(fault.NotFound, "stats.off", "Chưa bật số liệu thống kê.", "Indicators are not enabled.")

func (a *API) statsRoutes() []Route {
	return []Route{{"GET", "/api/v1/stats/units/{code}", false, a.unitStats}}
}

// unitStats answers a unit's indicators and those of the units directly
// below it, under stats.Authorize (the dashboards' rule) before the code is
// looked up.
func (a *API) unitStats(w http.ResponseWriter, r *http.Request) error {
	if a.Stats == nil {
		return errStatsOff
	}
	code := r.PathValue("code")
	if err := a.Stats.Authorize(actorOf(r.Context()).Actor(), code); err != nil {
		return err
	}
	self, kids, err := a.Stats.Unit(r.Context(), code)
	if errors.Is(err, stats.ErrUnknownUnit) {
		return errUnknownUnit.WithField("code")
	}
	if err != nil {
		return err
	}
	if kids == nil {
		kids = []stats.Figures{}
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"unit": self, "children": kids})
}
