package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/platform"
)

// TestOIDCRotateKey: "dancu oidc rotate-key" makes a new signing key and
// retires the previous one after the overlap (it stays published), and a
// wrong subcommand is refused.
func TestOIDCRotateKey(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DANCU_DATA": dir}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	var kids []string
	for range 2 {
		var out, errOut bytes.Buffer
		if err := run(ctx, []string{"oidc", "rotate-key"}, getenv, &out, &errOut); err != nil {
			t.Fatalf("oidc rotate-key: %v\n%s", err, errOut.String())
		}
		f := strings.Fields(out.String())
		if len(f) < 5 || f[0] != "new" {
			t.Fatalf("output: %s", out.String())
		}
		kids = append(kids, strings.TrimSuffix(f[4], ";"))
	}
	db, auditDB, err := app.OpenStores(ctx, platform.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer app.CloseStores(db, auditDB)
	retired := map[string]bool{}
	rows, err := db.R.Query(`SELECT id, retire_at FROM eid_oidc_keys`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, retire string
		rows.Scan(&id, &retire)
		retired[id] = retire != ""
	}
	rows.Close()
	if len(retired) != 2 || !retired[kids[0]] || retired[kids[1]] {
		t.Fatalf("keys %v after rotating to %v: want the first retired (still published), the second current", retired, kids)
	}
	if err := run(ctx, []string{"oidc", "nonsense"}, getenv, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Fatal("oidc nonsense: no error")
	}
}
