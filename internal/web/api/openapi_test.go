package api_test

import (
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/web/api"
	"github.com/dancu-project/dancu/internal/web/bundleweb"
	"github.com/dancu-project/dancu/internal/web/deskweb"
	"github.com/dancu-project/dancu/internal/web/openapitest"
	"github.com/dancu-project/dancu/internal/web/servicesweb"
)

// TestOpenAPIMatchesRoutes keeps the published document true: every route
// the server mounts is documented, and every documented operation exists.
// The routes include the administrators' delivery routes (delivery.go).
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := openapitest.Parse(t, api.OpenAPI())
	var routes []openapitest.Route
	for _, r := range (&api.API{}).Routes() {
		routes = append(routes, openapitest.Route{Method: r.Method, Path: r.Path, From: "API"})
	}
	// The online services' routes (servicesweb) are in the same document.
	for _, r := range servicesweb.Routes() {
		method, path, _ := strings.Cut(r, " ")
		routes = append(routes, openapitest.Route{Method: method, Path: path, From: "services"})
	}
	// The one-stop desk's routes (deskweb) are in the same document.
	for _, r := range deskweb.Routes() {
		routes = append(routes, openapitest.Route{Method: r.Method, Path: r.Path, From: "desk"})
	}
	// The inter-agency bundles' routes (bundleweb) are in the same document.
	for _, r := range bundleweb.Routes() {
		method, path, _ := strings.Cut(r, " ")
		routes = append(routes, openapitest.Route{Method: method, Path: path, From: "bundles"})
	}
	openapitest.MatchRoutes(t, doc, routes)
}

// TestOpenAPIRefsResolve catches a $ref to a schema that does not exist.
func TestOpenAPIRefsResolve(t *testing.T) {
	openapitest.RefsResolve(t, openapitest.Parse(t, api.OpenAPI()))
}
