package partnerapi_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/delivery"
	"github.com/dancu-project/dancu/internal/web/partnerapi"
)

func document(t *testing.T) map[string]any {
	t.Helper()
	raw, err := partnerapi.OpenAPI()
	if err != nil {
		t.Fatalf("assemble openapi: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi does not parse: %v", err)
	}
	return doc
}

// TestOpenAPIMatchesRoutes keeps the published document true: every route
// the server mounts is documented, and every documented operation exists.
// The routes are the partner API's own and the delivery module's partner
// routes (subscriptions, deliveries, delivery log), which the app mounts
// beside them under delivery.PartnerPrefix.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := document(t)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi version %v", doc["openapi"])
	}
	documented := map[string]bool{}
	for path, ops := range doc["paths"].(map[string]any) {
		for method, raw := range ops.(map[string]any) {
			documented[strings.ToUpper(method)+" "+path] = true
			op, _ := raw.(map[string]any)
			responses, _ := op["responses"].(map[string]any)
			if id, _ := op["operationId"].(string); id == "" || len(responses) == 0 {
				t.Errorf("%s %s: no operationId or responses", method, path)
			}
			if _, ok := responses["401"]; !ok {
				t.Errorf("%s %s: the 401 of a refused token is not documented", method, path)
			}
		}
	}
	mounted := map[string]bool{}
	for _, r := range (&partnerapi.API{}).Routes() {
		key := r.Method + " " + r.Path
		mounted[key] = true
		if !strings.HasPrefix(r.Path, partnerapi.Prefix+"/") {
			t.Errorf("route %s is outside %s", key, partnerapi.Prefix)
		}
		if !documented[key] {
			t.Errorf("route %s is not in the OpenAPI document", key)
		}
	}
	if delivery.PartnerPrefix != partnerapi.Prefix {
		t.Errorf("delivery mounts partner routes under %s, the partner API is %s", delivery.PartnerPrefix, partnerapi.Prefix)
	}
	for _, r := range delivery.Routes() {
		key := r.Method + " " + delivery.PartnerPrefix + r.Path
		mounted[key] = true
		if !documented[key] {
			t.Errorf("delivery route %s is not in the OpenAPI document", key)
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
		t.Errorf("the OpenAPI document has operations the server does not: %v", extra)
	}
}

// TestOpenAPIRefsResolve catches a $ref to a schema no fragment defines.
func TestOpenAPIRefsResolve(t *testing.T) {
	doc := document(t)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				if _, ok := schemas[strings.TrimPrefix(ref, "#/components/schemas/")]; !ok {
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
