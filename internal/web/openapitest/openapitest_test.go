package openapitest

import (
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps the failures instead of failing, so
// the checks can be shown to fail where they should.
type recorder struct {
	testing.TB
	failures []string
}

type fatal struct{}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(fatal{})
}

// run runs check against a recorder and returns the failures, one line
// each.
func run(t *testing.T, check func(tb testing.TB)) string {
	t.Helper()
	r := &recorder{TB: t}
	func() {
		defer func() {
			if v := recover(); v != nil {
				if _, ok := v.(fatal); !ok {
					panic(v)
				}
			}
		}()
		check(r)
	}()
	return strings.Join(r.failures, "\n")
}

const good = `{"openapi":"3.1.0","paths":{"/p":{"get":{"operationId":"getP","responses":{"200":{"$ref":"#/components/schemas/P"}}}}},
"components":{"schemas":{"P":{"type":"object"}}}}`

func TestChecks(t *testing.T) {
	get := []Route{{Method: "GET", Path: "/p", From: "api"}}
	tests := []struct {
		name   string
		raw    string
		routes []Route
		want   string // a failure that must be reported; "" for none
	}{
		{"document and routes agree", good, get, ""},
		{"not JSON", `{"openapi":`, get, "openapi does not parse"},
		{"other version", `{"openapi":"3.0.3","paths":{}}`, get, "openapi version 3.0.3"},
		{"route not documented", good, append(get, Route{Method: "POST", Path: "/p", From: "delivery"}), "delivery route POST /p is not in the OpenAPI document"},
		{"operation not mounted", good, nil, "operations the server does not: [GET /p]"},
		{"operation without id", strings.Replace(good, `"operationId":"getP",`, "", 1), get, "get /p: no operationId or responses"},
		{"dangling reference", strings.Replace(good, `"P":{"type"`, `"Q":{"type"`, 1), get, "dangling $ref #/components/schemas/P"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, func(tb testing.TB) {
				doc := Parse(tb, []byte(tt.raw))
				MatchRoutes(tb, doc, tt.routes)
				RefsResolve(tb, doc)
			})
			if tt.want == "" && got != "" {
				t.Fatalf("failures on a true document:\n%s", got)
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("failures %q lack %q", got, tt.want)
			}
		})
	}
}

func TestMatchRoutesReturnsOperations(t *testing.T) {
	ops := MatchRoutes(t, Parse(t, []byte(good)), []Route{{Method: "GET", Path: "/p"}})
	if op := ops["GET /p"]; op.ID != "getP" || op.Responses["200"] == nil || len(ops) != 1 {
		t.Fatalf("operations %+v", ops)
	}
}
