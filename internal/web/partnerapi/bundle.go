package partnerapi

import (
	"net/http"

	"github.com/dancu-project/dancu/internal/bundle"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
)

// bundleRoutes are the partner agencies' side of the inter-agency bundles
// (liên thông): where they take the steps sent to them, and their answers.
func (a *API) bundleRoutes() []Route {
	return []Route{
		{"PUT", Prefix + "/bundles/endpoint", exchange.OpSubscribe, a.bundleEndpoint},
		{"POST", Prefix + "/bundles/{bundle}/steps/{step}/answer", "", a.bundleAnswer},
	}
}

func (a *API) bundleEndpoint(w http.ResponseWriter, r *http.Request) error {
	c, _ := CallerFrom(r.Context())
	var in struct {
		URL string `json:"url"`
	}
	if err := Decode(w, r, &in, maxBody); err != nil {
		return err
	}
	e, err := a.Bundles.SetEndpoint(r.Context(), c.Partner, in.URL)
	if err != nil {
		return err
	}
	jsonbody.Write(w, http.StatusOK, e)
	return nil
}

// bundleAnswer takes the answer to a step; the step must have been sent
// to the calling partner (checked first, bundle.step_not_found otherwise).
func (a *API) bundleAnswer(w http.ResponseWriter, r *http.Request) error {
	c, _ := CallerFrom(r.Context())
	if err := a.Bundles.CheckStep(r.Context(), c.Partner, r.PathValue("bundle"), r.PathValue("step")); err != nil {
		return err
	}
	var in bundle.Answer
	if err := Decode(w, r, &in, maxBody); err != nil {
		return err
	}
	status, err := a.Bundles.Answer(r.Context(), c.Partner, r.PathValue("bundle"), r.PathValue("step"), in)
	if err != nil {
		return err
	}
	jsonbody.Write(w, http.StatusOK, map[string]string{"status": status})
	return nil
}
