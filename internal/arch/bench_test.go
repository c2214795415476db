package arch_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoFatalInRunParallel: the function given to b.RunParallel runs on
// goroutines of its own, where Fatal, FailNow and Skip end that goroutine
// only (the testing package's rule: call them from the benchmark's own
// goroutine) and the benchmark goes on or hangs. Report with Error and
// return instead.
func TestNoFatalInRunParallel(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	parallel := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || name == "node_modules" || (strings.HasPrefix(name, ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || !isSelector(call.Fun, "RunParallel") || len(call.Args) != 1 {
				return true
			}
			parallel++
			ast.Inspect(call.Args[0], func(n ast.Node) bool {
				c, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				for _, name := range []string{"Fatal", "Fatalf", "FailNow", "Skip", "Skipf", "SkipNow"} {
					if isSelector(c.Fun, name) {
						rel, _ := filepath.Rel(root, fset.Position(c.Pos()).Filename)
						t.Errorf("%s:%d: %s inside RunParallel; use Error and return", rel, fset.Position(c.Pos()).Line, name)
					}
				}
				return true
			})
			return false
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if parallel == 0 {
		t.Fatal("no RunParallel call found: the walk is broken")
	}
}

func isSelector(e ast.Expr, name string) bool {
	s, ok := e.(*ast.SelectorExpr)
	return ok && s.Sel.Name == name
}
