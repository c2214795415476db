package partnerapi

import (
	"net/http"

	"github.com/dancu-project/dancu/internal/exchange"
)

func (a *API) exchangeRoutes() []Route {
	return []Route{
		{"GET", Prefix + "/me", "", a.me},
	}
}

// me tells a partner system who it is and under which policy, so an
// integrator can check the configuration before the first real call.
func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	c, _ := CallerFrom(r.Context())
	return WriteJSON(w, http.StatusOK, struct {
		Partner exchange.Partner `json:"partner"`
		System  exchange.System  `json:"system"`
	}{c.Partner, c.System})
}
