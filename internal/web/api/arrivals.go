package api

import (
	"net/http"

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
