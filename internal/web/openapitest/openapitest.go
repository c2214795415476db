// Package openapitest keeps a published OpenAPI document true in tests:
// the document parses as OpenAPI 3.1, every route a server mounts is
// documented, every documented operation is mounted, and every schema
// reference resolves. The platform's API and the partner API share it.
package openapitest

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

// Document is a parsed OpenAPI document.
type Document map[string]any

// Parse parses raw and fails the test unless it is an OpenAPI 3.1.0
// document.
func Parse(t testing.TB, raw []byte) Document {
	t.Helper()
	var doc Document
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi does not parse: %v", err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi version %v", doc["openapi"])
	}
	return doc
}

// Route is a method and path a server mounts; From names what mounts it
// in failure messages ("delivery").
type Route struct {
	Method, Path, From string
}

// Operation is one documented operation.
type Operation struct {
	ID        string
	Responses map[string]any
}

// MatchRoutes fails the test for an operation without an operationId or
// responses, a route that is not documented, and a documented operation
// no route serves. It returns the operations by "METHOD /path" for the
// caller's own checks.
func MatchRoutes(t testing.TB, doc Document, routes []Route) map[string]Operation {
	t.Helper()
	paths, _ := doc["paths"].(map[string]any)
	documented := map[string]Operation{}
	for path, ops := range paths {
		opsMap, _ := ops.(map[string]any)
		for method, raw := range opsMap {
			m, _ := raw.(map[string]any)
			var op Operation
			op.ID, _ = m["operationId"].(string)
			op.Responses, _ = m["responses"].(map[string]any)
			documented[strings.ToUpper(method)+" "+path] = op
			if op.ID == "" || len(op.Responses) == 0 {
				t.Errorf("%s %s: no operationId or responses", method, path)
			}
		}
	}
	mounted := map[string]bool{}
	for _, r := range routes {
		key := r.Method + " " + r.Path
		mounted[key] = true
		if _, ok := documented[key]; !ok {
			t.Errorf("%s route %s is not in the OpenAPI document", r.From, key)
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
	return documented
}

// RefsResolve fails the test for each $ref to a component (a schema, a
// parameter, a response...) the document's components do not define.
func RefsResolve(t testing.TB, doc Document) {
	t.Helper()
	components, _ := doc["components"].(map[string]any)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				kind, name, _ := strings.Cut(strings.TrimPrefix(ref, "#/components/"), "/")
				defined, _ := components[kind].(map[string]any)
				if _, ok := defined[name]; !ok || !strings.HasPrefix(ref, "#/components/") {
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
	walk(map[string]any(doc))
}
