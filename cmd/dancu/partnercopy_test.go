package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/storage"
)

func TestSeedPartnerCopy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	env := map[string]string{"DANCU_DATA": dir}
	getenv := func(k string) string { return env[k] }
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"seed", "--persons", "400"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("seed: %v\n%s", err, errOut.String())
	}
	file := filepath.Join(dir, "bank.csv")
	out.Reset()
	if err := run(ctx, []string{"seed", "--partner-copy", file, "--rows", "120", "--seed", "3"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("partner copy: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "wrote 120 rows") {
		t.Fatalf("output: %s", out.String())
	}
	read := func(path string) [][]string {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return rows
	}
	rows := read(file)
	truth := read(filepath.Join(dir, "bank.truth.csv"))
	if len(rows) != 121 || len(truth) != 121 {
		t.Fatalf("%d rows and %d truths, want 121 with the headers", len(rows), len(truth))
	}
	if strings.Join(rows[0], ",") != "ref,pin,full_name,birth_date,sex,address,card_number" || strings.Join(truth[0], ",") != "ref,true_pin,corruptions" {
		t.Fatalf("headers %v / %v", rows[0], truth[0])
	}
	// The copy did not add anyone to the register, and the sampling is audited.
	db, err := storage.Open(ctx, filepath.Join(dir, "dancu.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	db.R.QueryRow(`SELECT COUNT(*) FROM persons`).Scan(&n)
	if n != 400 {
		t.Fatalf("register has %d persons after the copy, want 400", n)
	}
	adb, err := storage.Open(ctx, filepath.Join(dir, "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer adb.Close()
	if err := adb.R.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'registry.sample' AND actor = 'system:partner-copy'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("sampling audit entries: %d, %v", n, err)
	}
	// Bad input: clear errors, nothing written.
	for _, args := range [][]string{{"seed", "--partner-copy", filepath.Join(dir, "x.csv"), "--rows", "0"},
		{"seed", "--partner-copy", filepath.Join(dir, "no-such-dir", "x.csv")}} {
		if err := run(ctx, args, getenv, &out, &errOut); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.csv")); !os.IsNotExist(err) {
		t.Errorf("a failed copy left a file: %v", err)
	}
}
