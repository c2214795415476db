package events_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/bundle"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/delivery"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/notify"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/stats"
	"github.com/dancu-project/dancu/internal/stay"
)

// Every publisher's and consumer's declaration. TestContract's scan of the
// source fails when a declaration exists that these lists miss.
var (
	publishers = []events.Publisher{registry.Events, cardservice.Events, audit.Events, delivery.Events, events.DeadLetterPublisher, services.Events, services.DeskEvents, bundle.Events, stay.Events, eid.Events}
	consumers  = []events.Consumer{eid.DeathConsumer, cardservice.DeathConsumer, delivery.FanoutConsumer, delivery.FanoutCardConsumer, stats.PersonConsumer, stats.CardConsumer, stats.DossierConsumer, stats.EIDConsumer, bundle.SagaConsumer, bundle.OfferConsumer, notify.DossierConsumer}
)

// TestContract: every subject in the catalogue has a payload type and one
// publisher; every publisher declares only catalogue subjects; every
// consumer filters on one subject and handles only subjects somebody
// publishes.
func TestContract(t *testing.T) {
	catalogue := map[string]events.Topic{}
	for _, c := range events.Catalogue() {
		if _, dup := catalogue[c.String()]; dup {
			t.Errorf("%s twice in the catalogue", c)
		}
		catalogue[c.String()] = c
		if p := c.Payload(); p == nil || p.Kind() != reflect.Struct {
			t.Errorf("%s: payload %v is not a struct", c, p)
		}
		if !strings.HasPrefix(c.String(), events.Root+".") {
			t.Errorf("%s is not under %s.", c, events.Root)
		}
	}
	publishedBy := map[string][]string{}
	for _, p := range publishers {
		if len(p.Topics()) == 0 {
			t.Errorf("publisher %s declares nothing", p.Module)
		}
		for _, s := range p.Topics() {
			c, ok := catalogue[s.String()]
			if !ok || c.Payload() != s.Payload() {
				t.Errorf("%s publishes %s (%v), which the catalogue does not list", p.Module, s, s.Payload())
			}
			publishedBy[s.String()] = append(publishedBy[s.String()], p.Module)
		}
	}
	for s := range catalogue {
		if n := len(publishedBy[s]); n != 1 {
			t.Errorf("%s has %d publishers %v, want one", s, n, publishedBy[s])
		}
	}
	names := map[string]bool{}
	for _, c := range consumers {
		if names[c.Name] || c.Name == "" {
			t.Errorf("consumer name %q empty or taken twice", c.Name)
		}
		names[c.Name] = true
		if _, err := c.Filter(); err != nil {
			t.Error(err)
		}
		for _, s := range c.Handles {
			if _, ok := catalogue[s.String()]; !ok {
				t.Errorf("consumer %s handles %s, which the catalogue does not list", c.Name, s)
			}
			published := false
			for p := range publishedBy {
				published = published || events.Overlap(p, s.String())
			}
			if !published {
				t.Errorf("consumer %s handles %s, which nobody publishes", c.Name, s)
			}
		}
	}
}

// TestContractSource reads the module's source (tests aside): the
// declarations found there are the lists above, and nothing outside
// internal/events talks to NATS, writes the outbox or names a subject or
// the stream in a string.
func TestContractSource(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var declared, consumerNames []string
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules" || rel == filepath.Join("internal", "events") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			// The local cluster (dancu dev cluster) runs NATS servers; it
			// publishes and reads nothing, so it may start them.
			if strings.HasPrefix(rel, filepath.Join("internal", "cluster")+string(filepath.Separator)) && strings.HasPrefix(p, "github.com/nats-io/nats-server/") {
				continue
			}
			if strings.HasPrefix(p, "github.com/nats-io/") {
				t.Errorf("%s imports %s: only internal/events talks to NATS", rel, p)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				switch sel := selector(n.Fun); sel {
				case "events.Publishes":
					if len(n.Args) > 0 {
						declared = append(declared, literal(n.Args[0]))
					}
				case "storage.Enqueue":
					t.Errorf("%s: %s writes the outbox untyped; use events.Enqueue", fset.Position(n.Pos()), sel)
				}
			case *ast.CompositeLit:
				if selector(n.Type) == "events.Consumer" {
					name := "?"
					for _, e := range n.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok && selector(kv.Key) == "Name" {
							name = literal(kv.Value)
						}
					}
					consumerNames = append(consumerNames, name)
				}
			case *ast.BasicLit:
				if n.Kind != token.STRING {
					return true
				}
				s, _ := strconv.Unquote(n.Value)
				if s == events.Stream || strings.HasPrefix(s, events.Root+".") && s != "dancu.db" {
					t.Errorf("%s: %q names the stream or a subject; use internal/events' catalogue", fset.Position(n.Pos()), s)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, p := range publishers {
		if p.Module != "events" {
			listed = append(listed, p.Module)
		}
	}
	var listedConsumers []string
	for _, c := range consumers {
		listedConsumers = append(listedConsumers, c.Name)
	}
	slices.Sort(declared)
	slices.Sort(listed)
	slices.Sort(consumerNames)
	slices.Sort(listedConsumers)
	if !slices.Equal(declared, listed) {
		t.Errorf("events.Publishes in the source: %v; TestContract's publishers: %v", declared, listed)
	}
	if !slices.Equal(consumerNames, listedConsumers) {
		t.Errorf("events.Consumer in the source: %v; TestContract's consumers: %v", consumerNames, listedConsumers)
	}
}

// selector is "x.Y" for a selector expression on an identifier, the
// identifier's name for an identifier, "" otherwise.
func selector(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			return x.Name + "." + e.Sel.Name
		}
	case *ast.Ident:
		return e.Name
	}
	return ""
}

func literal(e ast.Expr) string {
	if b, ok := e.(*ast.BasicLit); ok {
		s, _ := strconv.Unquote(b.Value)
		return s
	}
	return "?"
}
