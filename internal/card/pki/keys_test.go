package pki

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var sealingSecret = []byte(strings.Repeat("k", 32))

// sealedAuthority initialises a card PKI in a new directory with its keys
// sealed under sealingSecret.
func sealedAuthority(t *testing.T) (string, Options, *Authority) {
	t.Helper()
	dir := t.TempDir()
	keys, err := SealedFiles(dir, sealingSecret)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Keys: keys}
	a, err := o.Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, o, a
}

// TestSealedKeys: with a sealing key, no private key is written in the
// clear, the authority works as before, and the keys open only with that
// key and only under their own id.
func TestSealedKeys(t *testing.T) {
	dir, o, a := sealedAuthority(t)
	if _, err := o.IssueMasterList(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := o.IssueCRL(dir, time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	ds := filepath.Join("ds", a.Signer.SerialNumber.Text(16)+".key")
	for _, name := range []string{"csca.key", "mls.key", ds} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("BEGIN "+sealedKeyType)) || bytes.Contains(b, []byte("BEGIN PRIVATE KEY")) {
			t.Fatalf("%s is not sealed:\n%s", name, b)
		}
	}
	if b, err := o.RotateSigner(dir); err != nil || len(b.Signers) != 2 {
		t.Fatalf("rotate with sealed keys: %v", err)
	}

	// Without the key, or with another, the authority does not load; the
	// error names the file and never holds key material.
	other, _ := SealedFiles(dir, []byte(strings.Repeat("o", 32)))
	for name, opts := range map[string]Options{"no key": {}, "other key": {Keys: other}} {
		_, err := opts.Load(dir)
		if err == nil || !strings.Contains(err.Error(), "csca.key") || !strings.Contains(err.Error(), "--pki-key") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A sealed key copied over another id does not open.
	csca, _ := os.ReadFile(filepath.Join(dir, "csca.key"))
	if err := os.WriteFile(filepath.Join(dir, "mls.key"), csca, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Keys.Signer("mls"); err == nil {
		t.Fatal("the CSCA's sealed key opened as the master-list signer's")
	}
	for _, id := range []string{"../csca", "ds/../../x", "CSCA", ""} {
		if _, err := o.Keys.Signer(id); err == nil {
			t.Errorf("key id %q accepted", id)
		}
	}
	if _, err := SealedFiles(dir, []byte("short")); err == nil {
		t.Fatal("a short sealing secret accepted")
	}
}

// TestSealMigratesClearKeys: a directory made before sealing has its keys
// sealed in place, once, and the authority loads the same keys after.
func TestSealMigratesClearKeys(t *testing.T) {
	dir := t.TempDir()
	a, err := Init(dir) // unsealed, as older versions wrote it
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (Options{}).IssueMasterList(dir); err != nil {
		t.Fatal(err)
	}
	keys, _ := SealedFiles(dir, sealingSecret)
	sealed, err := keys.Seal()
	if err != nil || len(sealed) != 3 {
		t.Fatalf("sealed %v, %v; want csca, mls and the DS", sealed, err)
	}
	if again, err := keys.Seal(); err != nil || len(again) != 0 {
		t.Fatalf("second Seal: %v %v", again, err)
	}
	b, err := Options{Keys: keys}.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !samePublic(b.SignerKey(), a.Signer) || !samePublic(b.cscaKey, a.CSCA) {
		t.Fatal("sealing changed the keys")
	}
	if _, err := Load(dir); err == nil {
		t.Fatal("sealed keys loaded without the sealing key")
	}
	for _, name := range []string{"csca.key", "mls.key"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", name, st, err)
		}
	}
}
