package partnerapi_test

import (
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/web/openapitest"
	"github.com/dancu-project/dancu/internal/web/partnerapi"
)

func document(t *testing.T) openapitest.Document {
	t.Helper()
	raw, err := partnerapi.OpenAPI()
	if err != nil {
		t.Fatalf("assemble openapi: %v", err)
	}
	return openapitest.Parse(t, raw)
}

// TestOpenAPIMatchesRoutes keeps the published document true: every route
// the server mounts is documented, and every documented operation exists.
// The routes include the delivery routes (subscriptions, deliveries,
// delivery log) of delivery.go, behind the same authentication, rate
// limit and quota, so each documents the 401 of a refused token and the
// 429 of a limit.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := document(t)
	var routes []openapitest.Route
	for _, r := range (&partnerapi.API{}).Routes() {
		if !strings.HasPrefix(r.Path, partnerapi.Prefix+"/") {
			t.Errorf("route %s %s is outside %s", r.Method, r.Path, partnerapi.Prefix)
		}
		routes = append(routes, openapitest.Route{Method: r.Method, Path: r.Path, From: "partner API"})
	}
	for key, op := range openapitest.MatchRoutes(t, doc, routes) {
		if _, ok := op.Responses["401"]; !ok {
			t.Errorf("%s: the 401 of a refused token is not documented", key)
		}
		if _, ok := op.Responses["429"]; !ok {
			t.Errorf("%s: the 429 of the rate limit and quota is not documented", key)
		}
	}
}

// TestOpenAPIRefsResolve catches a $ref to a schema no fragment defines.
func TestOpenAPIRefsResolve(t *testing.T) {
	openapitest.RefsResolve(t, document(t))
}
