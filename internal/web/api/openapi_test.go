package api_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/delivery"
	"github.com/dancu-project/dancu/internal/web/api"
)

// TestOpenAPIMatchesRoutes keeps the published document true: every route
// the server mounts is documented, and every documented operation exists.
// The routes are the API's own and the delivery module's administrators'
// routes under delivery.AdminPrefix.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
			var op struct {
				OperationID string                     `json:"operationId"`
				Responses   map[string]json.RawMessage `json:"responses"`
			}
			json.Unmarshal(raw, &op)
			if op.OperationID == "" || len(op.Responses) == 0 {
				t.Errorf("%s %s: no operationId or responses", method, path)
			}
		}
	}
	mounted := map[string]bool{}
	for _, r := range (&api.API{}).Routes() {
		key := r.Method + " " + r.Path
		mounted[key] = true
		if !documented[key] {
			t.Errorf("route %s is not in openapi.json", key)
		}
	}
	for _, r := range delivery.Routes() {
		key := r.Method + " " + delivery.AdminPrefix + r.Path
		mounted[key] = true
		if !documented[key] {
			t.Errorf("delivery route %s is not in openapi.json", key)
		}
	}
	var extra []string
	for key := range documented {
		if !mounted[key] {
			extra = append(extra, key)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("openapi.json documents operations the server does not have: %v", extra)
	}
}

// TestOpenAPIRefsResolve catches a $ref to a schema that does not exist.
func TestOpenAPIRefsResolve(t *testing.T) {
	var doc map[string]any
	json.Unmarshal(api.OpenAPI(), &doc)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				name := strings.TrimPrefix(ref, "#/components/schemas/")
				if _, ok := schemas[name]; !ok {
					t.Errorf("dangling $ref %s", ref)
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
}
