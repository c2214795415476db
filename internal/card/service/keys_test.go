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
		f.svc = service.NewWithKeys(db, f.reg, log, f.pkiDir, keys, func() time.Time { return today })
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
