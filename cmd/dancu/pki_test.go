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
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/storage"
)

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
	pkiRun := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(ctx, append([]string{"pki"}, args...), func(string) string { return "" }, &out, &errOut); err != nil {
			t.Fatalf("pki %v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}
	if out := pkiRun("init", "--data", dataDir); !strings.Contains(out, "already present") {
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
	if out := pkiRun("rotate-signer", "--data", dataDir); !strings.Contains(out, "2 signers kept") {
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
