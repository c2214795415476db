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
	return []Route{{"GET", "/api/v1/stats/units/{code}", false, a.unitStats},
		{"GET", "/api/v1/stats/units/{code}/index", false, a.unitIndex},
		{"GET", "/api/v1/stats/units/{code}/what-if", false, a.unitWhatIf},
		{"GET", "/api/v1/stats/units/{code}/early-warning", false, a.unitEarlyWarning}}
}

// statsUnit runs the one scope rule (stats.Authorize) on the path's unit
// before anything else and returns the code.
func (a *API) statsUnit(r *http.Request) (string, error) {
	if a.Stats == nil {
		return "", errStatsOff
	}
	code := r.PathValue("code")
	if err := a.Stats.Authorize(actorOf(r.Context()).Actor(), code); err != nil {
		return "", err
	}
	return code, nil
}

func unitFault(err error) error {
	if errors.Is(err, stats.ErrUnknownUnit) {
		return errUnknownUnit.WithField("code")
	}
	return err
}

// unitIndex answers the unit's dossier counts and Decision 766 service
// index, the units below it ranked by index, and the unit among its peers.
func (a *API) unitIndex(w http.ResponseWriter, r *http.Request) error {
	code, err := a.statsUnit(r)
	if err != nil {
		return err
	}
	self, kids, err := a.Stats.DossierFigures(r.Context(), code)
	if err != nil {
		return unitFault(err)
	}
	peers, err := a.Stats.Peers(r.Context(), code)
	if err != nil {
		return unitFault(err)
	}
	if kids == nil {
		kids = []stats.UnitDossiers{}
	}
	if peers == nil {
		peers = []stats.UnitDossiers{}
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"unit": self, "children": kids, "peers": peers})
}

// unitWhatIf answers the unit's overdue dossiers, each with the points the
// unit's index would gain had it been finished on time, and the gain had
// all of them been.
func (a *API) unitWhatIf(w http.ResponseWriter, r *http.Request) error {
	code, err := a.statsUnit(r)
	if err != nil {
		return err
	}
	list, all, err := a.Stats.WhatIf(r.Context(), code)
	if err != nil {
		return unitFault(err)
	}
	if list == nil {
		list = []stats.OpenDossier{}
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"dossiers": list, "all_gain": all})
}

// unitEarlyWarning answers the unit's open dossiers the early warning
// names.
func (a *API) unitEarlyWarning(w http.ResponseWriter, r *http.Request) error {
	code, err := a.statsUnit(r)
	if err != nil {
		return err
	}
	list, err := a.Stats.EarlyWarning(r.Context(), code)
	if err != nil {
		return unitFault(err)
	}
	if list == nil {
		list = []stats.OpenDossier{}
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"dossiers": list})
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
