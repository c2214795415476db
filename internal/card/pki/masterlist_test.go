package pki

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestSignedMasterList(t *testing.T) {
	dir := t.TempDir()
	a, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	der, err := Options{}.IssueMasterList(dir)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := ParseSignedMasterList(der, a.CSCA, time.Now())
	if err != nil || len(certs) != 1 || !certs[0].Equal(a.CSCA) {
		t.Fatalf("ParseSignedMasterList: %v", err)
	}
	if st, err := os.Stat(filepath.Join(dir, "mls.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mls.key mode: %v", err)
	}
	// The second list reuses the signer.
	if _, err := (Options{}).IssueMasterList(dir); err != nil {
		t.Fatal(err)
	}
	other, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSignedMasterList(der, other.CSCA, time.Now()); err == nil {
		t.Error("master list accepted under a foreign CSCA")
	}
	if _, err := ParseSignedMasterList(der, a.CSCA, time.Now().AddDate(10, 0, 0)); err == nil {
		t.Error("master list accepted after its signer expired")
	}
	bad := append([]byte{}, der...)
	bad[len(bad)-10] ^= 1 // inside the signature
	if _, err := ParseSignedMasterList(bad, a.CSCA, time.Now()); err == nil {
		t.Error("tampered master list accepted")
	}
	for n := 0; n < len(der); n += 7 {
		if _, err := ParseSignedMasterList(der[:n], a.CSCA, time.Now()); err == nil {
			t.Fatalf("truncated master list (%d bytes) accepted", n)
		}
	}

	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed; master list interoperability not checked")
	}
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "ml.der"), der, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(openssl, "cms", "-verify", "-inform", "DER", "-in", "ml.der",
		"-CAfile", filepath.Join(dir, "csca.pem"), "-purpose", "any", "-out", "content.der")
	cmd.Dir = work
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl cms -verify of the master list: %v\n%s", err, out)
	}
}
