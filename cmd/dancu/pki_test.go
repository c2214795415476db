package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/card/pki"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/storage"
)

// runPKI runs "dancu pki" with args and an empty environment and returns
// what it printed; a failure ends the test.
func runPKI(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), append([]string{"pki"}, args...), func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("pki %v: %v\n%s", args, err, errOut.String())
	}
	return out.String()
}

// TestPKIRotateSigner rotates the document signer with the command while the
// platform runs: the card made before still verifies, the next card is
// signed by the new signer.
func TestPKIRotateSigner(t *testing.T) {
	env := apptest.Start(t, storage.SQLite, 60)
	ctx := context.Background()
	dataDir := env.App.Config.DataDir
	if _, err := os.Stat(filepath.Join(dataDir, "pki", "csca.pem")); err != nil {
		t.Fatalf("the platform did not create its PKI: %v", err)
	}
	if out := runPKI(t, "init", "--data", dataDir); !strings.Contains(out, "already present") {
		t.Fatalf("init over an existing PKI: %s", out)
	}
	var pins []string
	rows, err := env.App.DB.R.Query(`SELECT pin FROM persons WHERE status = 'alive' AND length(birth_date) = 10 ORDER BY pin LIMIT 2`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p string
		rows.Scan(&p)
		pins = append(pins, p)
	}
	rows.Close()
	if len(pins) != 2 {
		t.Fatalf("persons: %v", pins)
	}
	admin := actor.Actor{ID: "staff:test", Role: actor.Admin}
	cards := env.App.Cards
	produce := func(p string) cardservice.Card {
		t.Helper()
		c, err := cards.Apply(ctx, admin, p)
		if err == nil {
			_, err = cards.Approve(ctx, admin, c.Serial)
		}
		if err == nil {
			c, err = cards.Produce(ctx, admin, c.Serial)
		}
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	old := produce(pins[0])
	if out := runPKI(t, "rotate-signer", "--data", dataDir); !strings.Contains(out, "2 signers kept") {
		t.Fatalf("rotate-signer: %s", out)
	}
	fresh := produce(pins[1])
	if fresh.SignerSerial == old.SignerSerial {
		t.Fatalf("the new card is signed by the old signer %s", old.SignerSerial)
	}
	for _, c := range []cardservice.Card{old, fresh} {
		chip, err := cards.Chip(ctx, admin, c.Serial)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := cards.Verify(ctx, nil, cardservice.VerifyInput{DataGroups: chip.DataGroups, SOD: chip.SOD})
		if err != nil || !rep.OK {
			t.Fatalf("card %s after rotation: %v %+v", c.Serial, err, rep)
		}
	}
	for _, args := range [][]string{{"pki"}, {"pki", "nonsense"}, {"pki", "rotate-signer", "--data", t.TempDir()}} {
		if err := run(ctx, args, func(string) string { return "" }, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// TestPKIInitSealsClearKeys: "pki init" on a data directory whose card PKI
// an older version wrote in the clear seals its keys with the PKI key, and
// a key other than the one that sealed them is refused with a clear error.
func TestPKIInitSealsClearKeys(t *testing.T) {
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "pki")
	if _, err := pki.Init(pkiDir); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	env := map[string]string{"DANCU_DATA": dir, "DANCU_PKI_KEY": strings.Repeat("k", 32)}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"pki", "init"}, func(k string) string { return env[k] }, &out, &errOut); err != nil || !strings.Contains(out.String(), "already present") {
		t.Fatalf("pki init: %v\n%s%s", err, out.String(), errOut.String())
	}
	b, err := os.ReadFile(filepath.Join(pkiDir, "csca.key"))
	if err != nil || bytes.Contains(b, []byte("BEGIN PRIVATE KEY")) || !bytes.Contains(b, []byte("SEALED")) {
		t.Fatalf("csca.key not sealed: %v\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(dir, "pki.secret")); err == nil {
		t.Fatal("a configured PKI key left a pki.secret file")
	}
	env["DANCU_PKI_KEY"] = strings.Repeat("w", 32)
	err = run(ctx, []string{"pki", "rotate-signer"}, func(k string) string { return env[k] }, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "--pki-key") {
		t.Fatalf("rotate with another key: %v", err)
	}
}
