package service_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestSealedPKIKeys: a PKI directory of an older version (keys in the
// clear) is sealed in place; the service with the sealing key produces and
// verifies cards as before, and one without it signs nothing.
func TestSealedPKIKeys(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		f := setup(t, db)
		ctx := context.Background()
		old := f.issued(t, f.adult) // signed with the key in the clear
		keys, err := pki.SealedFiles(f.pkiDir, []byte(strings.Repeat("p", 32)))
		if err != nil {
			t.Fatal(err)
		}
		if sealed, err := keys.Seal(); err != nil || len(sealed) < 2 {
			t.Fatalf("sealed %v: %v", sealed, err)
		}
		unsealed := f.svc // reads the keys in the clear
		log := audit.NewLog(db, func() time.Time { return today }, slog.New(slog.DiscardHandler))
		t.Cleanup(log.Close)
		f.svc = service.NewWithKeys(db, f.reg, log, f.pkiDir, keys, service.SyntheticBiometrics{}, func() time.Time { return today })
		fresh := f.issued(t, f.teen)
		for _, c := range []service.Card{old, fresh} {
			chip, _ := f.svc.Chip(ctx, registrarBaDinh, c.Serial)
			if rep, err := f.svc.Verify(ctx, nil, service.VerifyInput{DataGroups: chip.DataGroups, SOD: chip.SOD}); err != nil || !rep.OK {
				t.Fatalf("verify %s: %v %+v", c.Serial, err, rep)
			}
		}
		c, err := unsealed.Apply(ctx, registrarBaDinh, f.child)
		if err == nil {
			_, err = unsealed.Approve(ctx, registrarBaDinh, c.Serial)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := unsealed.Produce(ctx, registrarBaDinh, c.Serial); !errors.Is(err, service.ErrPKI) {
			t.Fatalf("produced without the sealing key: %v", err)
		}
	})
}

// TestNoBiometricsNoCard: without a source of captured portraits and
// fingerprints (a production platform, until the desk's capture is wired
// in) a card is refused at production with card.no_biometrics, and nothing
// is signed or stored: the card stays approved.
func TestNoBiometricsNoCard(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		f := setup(t, db)
		ctx := context.Background()
		log := audit.NewLog(db, func() time.Time { return today }, slog.New(slog.DiscardHandler))
		t.Cleanup(log.Close)
		svc := service.NewWithKeys(db, f.reg, log, f.pkiDir, nil, nil, func() time.Time { return today })
		c, err := svc.Apply(ctx, registrarBaDinh, f.adult)
		if err == nil {
			_, err = svc.Approve(ctx, registrarBaDinh, c.Serial)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Produce(ctx, registrarBaDinh, c.Serial); !errors.Is(err, service.ErrNoBiometrics) {
			t.Fatalf("produced without biometrics: %v", err)
		}
		if got, err := svc.Get(ctx, registrarBaDinh, c.Serial, "test"); err != nil || got.Status != service.Approved || got.SignerSerial != "" {
			t.Fatalf("after the refusal: %+v %v", got, err)
		}
		if n := count(t, db, `SELECT count(*) FROM card_biometrics`); n != 0 {
			t.Fatalf("%d biometrics stored", n)
		}
	})
}
