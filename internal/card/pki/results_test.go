package pki

import (
	"bytes"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestResultsSigner: the platform CA is apart from the CSCA (a results
// signer does not chain to the CSCA, so no card reader accepts it as a
// document signer), its keys are sealed at rest by the same KeyStore, a
// rotation keeps the old signer, and a second InitResults is refused.
func TestResultsSigner(t *testing.T) {
	dir, o, a := sealedAuthority(t)
	rs, err := o.InitResults(dir, ResultsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Cert.CheckSignatureFrom(rs.CA); err != nil {
		t.Errorf("results signer not issued by the platform CA: %v", err)
	}
	if err := rs.Cert.CheckSignatureFrom(a.CSCA); err == nil || bytes.Equal(rs.CA.Raw, a.CSCA.Raw) {
		t.Error("results signer chains to the CSCA")
	}
	pool := x509.NewCertPool()
	pool.AddCert(a.CSCA)
	if _, err := rs.Cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil {
		t.Error("a CSCA trust store accepts the results signer")
	}
	if rs.Cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 || rs.Cert.IsCA {
		t.Errorf("results signer key usage %v, CA %v", rs.Cert.KeyUsage, rs.Cert.IsCA)
	}
	for _, name := range []string{"results/ca.key", "results/" + rs.Cert.SerialNumber.Text(16) + ".key"} {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("BEGIN "+sealedKeyType)) {
			t.Errorf("%s is not sealed", name)
		}
	}
	if _, err := (Options{}).LoadResults(dir); err == nil {
		t.Error("sealed results keys load without the sealing key")
	}
	if _, err := o.InitResults(dir, ResultsOptions{}); !errors.Is(err, ErrResultsExist) {
		t.Errorf("second InitResults: %v", err)
	}
	rs2, err := o.RotateResultsSigner(dir, ResultsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rs2.Cert.Equal(rs.Cert) || !rs2.CA.Equal(rs.CA) {
		t.Error("rotation did not issue a new signer under the same CA")
	}
	if _, err := os.Stat(filepath.Join(dir, "results", rs.Cert.SerialNumber.Text(16)+".pem")); err != nil {
		t.Errorf("the old signer's certificate is gone: %v", err)
	}
	loaded, err := o.LoadResults(dir)
	if err != nil || !loaded.Cert.Equal(rs2.Cert) {
		t.Fatalf("load: %v", err)
	}
	// The card authority still loads beside the results keys.
	if _, err := o.Load(dir); err != nil {
		t.Errorf("card authority after results: %v", err)
	}
}

// TestSealResultsKeys: Seal seals results keys written in the clear.
func TestSealResultsKeys(t *testing.T) {
	dir := t.TempDir()
	if _, err := (Options{}).InitResults(dir, ResultsOptions{}); err != nil {
		t.Fatal(err)
	}
	keys, _ := SealedFiles(dir, sealingSecret)
	sealed, err := keys.Seal()
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != 2 {
		t.Errorf("sealed %v, want the CA and the signer", sealed)
	}
	if _, err := (Options{Keys: keys}).LoadResults(dir); err != nil {
		t.Errorf("load after sealing: %v", err)
	}
}
