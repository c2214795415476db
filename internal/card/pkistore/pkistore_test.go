package pkistore_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/card/pkistore"
	"github.com/dancu-project/dancu/internal/lease"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

const secret = "0123456789abcdef0123456789abcdef"

func node(t *testing.T, db *storage.DB, name string) (*pkistore.Mirror, pki.Options) {
	dir := filepath.Join(t.TempDir(), "pki")
	keys, err := pki.SealedFiles(dir, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return &pkistore.Mirror{DB: db, Dir: dir, Leases: &lease.Leases{DB: db, Holder: name}}, pki.Options{Keys: keys}
}

// TestMirror: a PKI made on one node is the other's without a copied
// directory, a rotation reaches it on the next pull, a second PKI is
// refused, and a key in the clear never reaches the database.
func TestMirror(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{lease.Migrations(), pkistore.Migrations()}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		m1, o1 := node(t, db, "n1")
		m2, o2 := node(t, db, "n2")
		var a1 *pki.Authority
		if err := m1.Change(ctx, func() (err error) { a1, err = o1.Init(m1.Dir); return err }); err != nil {
			t.Fatal(err)
		}
		if n, err := m2.Pull(ctx); err != nil || n == 0 {
			t.Fatalf("pull on node 2: %d files, %v", n, err)
		}
		a2, err := o2.Load(m2.Dir)
		if err != nil {
			t.Fatalf("node 2 loads the database's PKI: %v", err)
		}
		if !a2.CSCA.Equal(a1.CSCA) || a2.Signer.SerialNumber.Cmp(a1.Signer.SerialNumber) != 0 {
			t.Fatal("node 2 has another CSCA or signer")
		}
		var rotated *pki.Authority
		if err := m1.Change(ctx, func() (err error) { rotated, err = o1.RotateSigner(m1.Dir); return err }); err != nil {
			t.Fatal(err)
		}
		if _, err := m2.Pull(ctx); err != nil {
			t.Fatal(err)
		}
		a2, err = o2.Load(m2.Dir)
		if err != nil {
			t.Fatal(err)
		}
		if a2.Signer.SerialNumber.Cmp(rotated.Signer.SerialNumber) != 0 || len(a2.Signers) != 2 {
			t.Fatalf("node 2 signs with %x (%d signers), want the rotated %x and the old one", a2.Signer.SerialNumber, len(a2.Signers), rotated.Signer.SerialNumber)
		}

		// A node whose directory has its own CSCA refuses the database's.
		m3, o3 := node(t, db, "n3")
		if _, err := o3.Init(m3.Dir); err != nil {
			t.Fatal(err)
		}
		if _, err := m3.Pull(ctx); !errors.Is(err, pkistore.ErrOtherPKI) {
			t.Fatalf("pull over another PKI: %v, want ErrOtherPKI", err)
		}

		// Keys in the clear are refused.
		plainDB := storagetest.Open(t, db.Dialect, []storage.Migrations{lease.Migrations(), pkistore.Migrations()})
		plainDir := filepath.Join(t.TempDir(), "pki")
		mp := &pkistore.Mirror{DB: plainDB, Dir: plainDir, Leases: &lease.Leases{DB: plainDB, Holder: "p"}}
		err = mp.Change(ctx, func() error { _, err := pki.Init(plainDir); return err })
		if err == nil || !strings.Contains(err.Error(), "in the clear") {
			t.Fatalf("push of unsealed keys: %v, want a refusal", err)
		}
		var n int
		if err := plainDB.R.QueryRow(`SELECT count(*) FROM pki_files`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d rows stored after the refusal (%v)", n, err)
		}
	})
}

// TestMirrorUploadsExistingDirectory: a data directory whose PKI was made
// before the database held one (development data) is uploaded at the
// first start, and a new node loads the same signer from the database.
func TestMirrorUploadsExistingDirectory(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{lease.Migrations(), pkistore.Migrations()}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		m1, o1 := node(t, db, "old")
		a1, err := o1.Init(m1.Dir) // files only, as before the mirror
		if err != nil {
			t.Fatal(err)
		}
		if err := m1.Change(ctx, func() error { return nil }); err != nil { // the first start
			t.Fatal(err)
		}
		m2, o2 := node(t, db, "new")
		if _, err := m2.Pull(ctx); err != nil {
			t.Fatal(err)
		}
		a2, err := o2.Load(m2.Dir)
		if err != nil {
			t.Fatalf("the new node loads the uploaded PKI: %v", err)
		}
		if !a2.CSCA.Equal(a1.CSCA) || a2.Signer.SerialNumber.Cmp(a1.Signer.SerialNumber) != 0 {
			t.Fatal("the new node has another CSCA or signer")
		}
	})
}
