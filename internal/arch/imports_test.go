package arch_test

import (
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/dancu-project/dancu/"

// packages maps each package under internal/ (by its path below the module,
// e.g. "internal/exchange") to the module's packages its non-test files
// import, as the go tool resolves them for this platform.
func packages(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	err = filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			return filepath.SkipDir
		}
		p, err := build.ImportDir(path, 0)
		if _, none := err.(*build.NoGoError); none {
			return nil
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		var own []string
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module) {
				own = append(own, strings.TrimPrefix(imp, module))
			}
		}
		out[filepath.ToSlash(rel)] = own
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 20 {
		t.Fatalf("found %d packages under internal/: the walk is broken", len(out))
	}
	return out
}

func under(pkg, dir string) bool { return pkg == dir || strings.HasPrefix(pkg, dir+"/") }

// TestImportsPointOneWay keeps the layers: web → domain → storage/events.
// A domain package (anything under internal/ but the web layer and the
// composition root, app) never imports the web layer, the web layer never
// reaches the database but through a module's API, nothing imports app
// but cmd and app's own test helpers, and the storage and event packages
// import no module above them.
func TestImportsPointOneWay(t *testing.T) {
	pkgs := packages(t)
	names := make([]string, 0, len(pkgs))
	for p := range pkgs {
		names = append(names, p)
	}
	sort.Strings(names)
	// Below storage and events: packages that import nothing of the
	// module's domain and so may be used from the bottom layer.
	leaves := []string{"internal/fault", "internal/storage", "internal/events"}
	for _, p := range names {
		for _, imp := range pkgs[p] {
			switch {
			case !under(p, "internal/web") && !under(p, "internal/app") && under(imp, "internal/web"):
				t.Errorf("%s imports %s: a domain package never imports the web layer; move the HTTP part into internal/web or have the web layer call the domain", p, imp)
			case under(p, "internal/web") && under(imp, "internal/storage"):
				t.Errorf("%s imports %s: the web layer reads data through the owning module's Go API, not the database", p, imp)
			case under(imp, "internal/app") && !under(p, "internal/app"):
				t.Errorf("%s imports %s: only cmd and the composition root's own helpers build the application", p, imp)
			case (under(p, "internal/storage") || under(p, "internal/events")) && !slicesHasUnder(leaves, imp):
				t.Errorf("%s imports %s: storage and events are the bottom layer and import no module", p, imp)
			}
		}
	}
}

// TestExchangeNotOnProtocol: the data exchange registers its partners'
// OAuth clients through eid/oidcclient, never the OpenID provider's
// protocol package, so that the provider can change without the exchange.
func TestExchangeNotOnProtocol(t *testing.T) {
	pkgs := packages(t)
	for p, imps := range pkgs {
		if !under(p, "internal/exchange") {
			continue
		}
		for _, imp := range imps {
			if under(imp, "internal/eid/oidcop") {
				t.Errorf("%s imports %s: the exchange uses eid/oidcclient's registration, not the protocol package", p, imp)
			}
		}
	}
}

func slicesHasUnder(dirs []string, pkg string) bool {
	for _, d := range dirs {
		if under(pkg, d) {
			return true
		}
	}
	return false
}

// TestWalkSeesTheTree guards the two tests above against passing on an
// empty or wrong tree: it names packages and imports known to exist.
func TestWalkSeesTheTree(t *testing.T) {
	pkgs := packages(t)
	for _, want := range []string{"internal/exchange", "internal/web/api", "internal/storage", "internal/eid/oidcop"} {
		if _, ok := pkgs[want]; !ok {
			t.Errorf("package %s not found", want)
		}
	}
	found := false
	for _, imp := range pkgs["internal/web/api"] {
		found = found || imp == "internal/registry"
	}
	if !found {
		t.Errorf("internal/web/api's imports %v miss internal/registry", pkgs["internal/web/api"])
	}
	if _, err := os.Stat("../../go.mod"); err != nil {
		t.Errorf("not at the module root: %v", err)
	}
}
