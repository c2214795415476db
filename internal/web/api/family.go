package api

import (
	"context"
	"net/http"

	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
)

// registerMarriage registers a marriage of two persons the staff member
// reaches; the answer is the record of "pin".
func (a *API) registerMarriage(w http.ResponseWriter, r *http.Request) error {
	return register(a, w, r, func(ctx context.Context, acc staff.Account, in registry.MarriageInput) (registry.Person, error) {
		return a.Registry.RegisterMarriage(ctx, acc.Actor(), in)
	})
}

// registerDivorce records the end of a person's marriage by divorce.
func (a *API) registerDivorce(w http.ResponseWriter, r *http.Request) error {
	return register(a, w, r, func(ctx context.Context, acc staff.Account, in registry.DivorceInput) (registry.Person, error) {
		return a.Registry.RegisterDivorce(ctx, acc.Actor(), in)
	})
}

// personMarriages lists a person's marriages, newest first.
func (a *API) personMarriages(w http.ResponseWriter, r *http.Request) error {
	v, err := a.Registry.Marriages(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("pin"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"items": v})
}
