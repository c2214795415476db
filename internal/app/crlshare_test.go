package app_test

import (
	"bytes"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestReissuedCRLReachesTheDatabase (issue 21): a CRL a node issues (at
// the first verification, or again when stale) is stored in the database's copy of the
// PKI, where the other nodes pull it, and the node serves that one.
func TestReissuedCRLReachesTheDatabase(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 0)
			stored := func() []byte {
				t.Helper()
				var b []byte
				err := env.App.DB.R.QueryRow(`SELECT content FROM pki_files WHERE path = 'crl.der'`).Scan(&b)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					t.Fatal(err)
				}
				return b
			}
			// The first CRL is issued at the first verification (none
			// at start); remove any, as a stale one would be replaced.
			before := stored()
			os.Remove(filepath.Join(app.PKIDir(env.App.Config), "crl.der"))
			served, err := env.App.Cards.CRL()
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(served, before) {
				t.Fatal("the CRL was not issued again")
			}
			if after := stored(); !bytes.Equal(after, served) {
				t.Fatalf("the database holds another CRL (%d bytes) than the one served (%d bytes)", len(after), len(served))
			}
		})
	}
}
