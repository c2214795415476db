package app_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/audit"
)

// updateMigrations rewrites the manifest from the files in the tree: run
// `go test ./internal/app -run TestMigrationsAppendOnly -update` after adding
// a migration file, and commit testdata/migrations.sum with it.
var updateMigrations = flag.Bool("update", false, "rewrite testdata/migrations.sum from the migration files")

const migrationManifest = "testdata/migrations.sum"

// migrationSums hashes every migration file of every module a database is
// migrated with: the register's modules and the audit log's own database.
func migrationSums(t *testing.T) map[string]string {
	t.Helper()
	sets := append(app.Migrations(), audit.Migrations())
	sums := map[string]string{}
	for _, set := range sets {
		names, err := fs.Glob(set.FS, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		if len(names) == 0 {
			t.Fatalf("module %s has no migration files", set.Module)
		}
		for _, name := range names {
			body, err := fs.ReadFile(set.FS, name)
			if err != nil {
				t.Fatal(err)
			}
			key := set.Module + "/" + name
			if _, dup := sums[key]; dup {
				t.Fatalf("%s: two migration sets use module name %q", key, set.Module)
			}
			h := sha256.Sum256(body)
			sums[key] = hex.EncodeToString(h[:])
		}
	}
	return sums
}

func readManifest(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(migrationManifest)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	defer f.Close()
	listed := map[string]string{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		key, sum, ok := strings.Cut(text, " ")
		if !ok {
			t.Fatalf("%s:%d: want \"module/file.sql sha256\", got %q", migrationManifest, line, text)
		}
		listed[key] = strings.TrimSpace(sum)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return listed
}

func writeManifest(t *testing.T, sums map[string]string) {
	t.Helper()
	keys := make([]string, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# sha256 of every published migration file (module/file). Published\n")
	b.WriteString("# migrations are append-only: a database that applied a file never applies\n")
	b.WriteString("# it again, so an edit would reach new databases only. Add a new file and\n")
	b.WriteString("# regenerate: go test ./internal/app -run TestMigrationsAppendOnly -update\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %s\n", k, sums[k])
	}
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(migrationManifest, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMigrationsAppendOnly fails when a migration file listed in the
// manifest was edited or removed (a database that already applied it would
// never see the change), and when a file is missing from the manifest (so
// that the manifest keeps covering every file).
func TestMigrationsAppendOnly(t *testing.T) {
	sums := migrationSums(t)
	if *updateMigrations {
		writeManifest(t, sums)
		return
	}
	listed := readManifest(t)
	keys := make([]string, 0, len(listed))
	for key := range listed {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		want := listed[key]
		got, ok := sums[key]
		switch {
		case !ok:
			t.Errorf("%s: removed; published migrations are append-only; add a new file", key)
		case got != want:
			t.Errorf("%s: changed (sha256 %s, manifest %s); published migrations are append-only; add a new file", key, got, want)
		}
	}
	var missing []string
	for key, sum := range sums {
		if _, ok := listed[key]; !ok {
			missing = append(missing, key+" "+sum)
		}
	}
	sort.Strings(missing)
	for _, line := range missing {
		t.Errorf("new migration not in %s; add the line (or run with -update):\n%s", migrationManifest, line)
	}
}
