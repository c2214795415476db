package servicesweb_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/notify"
	"github.com/dancu-project/dancu/internal/payment"
	"github.com/dancu-project/dancu/internal/web/api"
	"github.com/dancu-project/dancu/internal/web/openapitest"
	"github.com/dancu-project/dancu/internal/web/servicesweb"
)

var routeRE = regexp.MustCompile(`^(GET|POST|PUT|PATCH|DELETE) /api/`)

// TestRoutes: Routes lists every API route the package's source names, the
// handlers serve each of them (the mux answers with that very pattern), and
// the OpenAPI document has each with an operation id and its problems.
func TestRoutes(t *testing.T) {
	listed := servicesweb.Routes()
	// Every route literal in the package's source is listed.
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, _ := strconv.Unquote(lit.Value); routeRE.MatchString(s) && !slices.Contains(listed, s) {
					t.Errorf("%s: route %q is not in Routes()", fset.Position(lit.Pos()), s)
				}
			}
			return true
		})
	}
	// Every listed route is mounted as such.
	mux := http.NewServeMux()
	h := &servicesweb.Handler{}
	h.Mount(mux)
	(&servicesweb.API{Handler: h, Notices: (*notify.Service)(nil), Payments: (*payment.Service)(nil)}).Mount(mux)
	sample := strings.NewReplacer("{code}", "CT.TAT.01", "{id}", "abc", "{year}", "2026")
	for _, r := range listed {
		if r == servicesweb.CallbackRoute {
			continue
		}
		method, path, _ := strings.Cut(r, " ")
		req := httptest.NewRequest(method, sample.Replace(path), nil)
		if _, pattern := mux.Handler(req); pattern != r {
			t.Errorf("%s is served by %q", r, pattern)
		}
	}
	// And documented.
	doc := openapitest.Parse(t, api.OpenAPI())
	paths := doc["paths"].(map[string]any)
	for _, r := range listed {
		method, path, _ := strings.Cut(r, " ")
		op, _ := paths[path].(map[string]any)[strings.ToLower(method)].(map[string]any)
		if op == nil || op["operationId"] == nil || op["responses"] == nil {
			t.Errorf("%s is not in the OpenAPI document", r)
		}
	}
}
