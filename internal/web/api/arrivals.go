package api

import (
	"context"
	"net/http"

	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
)

// departures lists the moves out of the staff member's unit: after a move
// the person is the destination's, and this is what the unit left sees.
func (a *API) departures(w http.ResponseWriter, r *http.Request) error {
	v, err := a.Registry.Departures(r.Context(), actorOf(r.Context()).Actor(), intParam(r, "limit"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"items": v})
}

// registerArrival is register for a move or a temporary residence, whose
// arrival evidence may be a chip read with its portrait (tens of
// kilobytes, above the register forms' limit).
func registerArrival[T any](a *API, w http.ResponseWriter, r *http.Request, run func(ctx context.Context, acc staff.Account, in T) (registry.Person, error)) error {
	var in T
	if err := decodeLimit(w, r, &in, maxChipBody); err != nil {
		return err
	}
	return a.act(w, r, in, func(ctx context.Context) (registry.Person, error) { return run(ctx, actorOf(ctx), in) })
}
