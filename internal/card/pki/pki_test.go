package pki

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/card"
)

func TestInitRotateRevoke(t *testing.T) {
	dir := t.TempDir()
	a, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !a.CSCA.IsCA || a.CSCA.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign || a.CSCA.CheckSignatureFrom(a.CSCA) != nil {
		t.Errorf("CSCA is not a self-signed CA with certSign|crlSign: %+v", a.CSCA.KeyUsage)
	}
	if a.Signer.IsCA || a.Signer.KeyUsage != x509.KeyUsageDigitalSignature || len(a.Signer.ExtKeyUsage) != 0 {
		t.Errorf("DS key usage = %v, ext %v", a.Signer.KeyUsage, a.Signer.ExtKeyUsage)
	}
	if err := a.Signer.CheckSignatureFrom(a.CSCA); err != nil {
		t.Errorf("DS not issued by CSCA: %v", err)
	}
	found := false
	for _, e := range a.Signer.Extensions {
		found = found || e.Id.Equal(OIDPrivateKeyUsagePeriod)
	}
	if !found {
		t.Error("DS has no private key usage period")
	}
	if a.Signer.NotAfter.After(a.CSCA.NotAfter) {
		t.Error("DS outlives the CSCA")
	}
	for _, name := range []string{"csca.key", filepath.Join("ds", a.Signer.SerialNumber.Text(16)+".key")} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, %v; want 0600", name, st.Mode().Perm(), err)
		}
	}
	if st, _ := os.Stat(filepath.Join(dir, "ds")); st.Mode().Perm() != 0o700 {
		t.Errorf("ds dir mode = %v", st.Mode().Perm())
	}
	if _, err := Init(dir); !errors.Is(err, ErrExists) {
		t.Errorf("second Init = %v, want ErrExists", err)
	}

	first := a.Signer
	b, err := RotateSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.Signer.SerialNumber.Cmp(first.SerialNumber) == 0 || len(b.Signers) != 2 {
		t.Fatalf("rotation kept the signer or lost the old: %d signers", len(b.Signers))
	}
	c, err := Load(dir)
	if err != nil || c.Signer.SerialNumber.Cmp(b.Signer.SerialNumber) != 0 || c.SignerKey() == nil {
		t.Fatalf("Load after rotate: %v", err)
	}

	now := time.Now()
	if err := Revoke(dir, first.SerialNumber, now); err != nil {
		t.Fatal(err)
	}
	if err := Revoke(dir, first.SerialNumber, now); err != nil {
		t.Fatal(err)
	}
	der, err := IssueCRL(dir, now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(c.CSCA); err != nil {
		t.Errorf("CRL not signed by CSCA: %v", err)
	}
	if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Errorf("CRL entries = %v", crl.RevokedCertificateEntries)
	}
	der2, _ := IssueCRL(dir, now, time.Hour)
	crl2, _ := x509.ParseRevocationList(der2)
	if crl2.Number.Int64() != crl.Number.Int64()+1 {
		t.Errorf("CRL number %v after %v", crl2.Number, crl.Number)
	}

	ml, err := ParseMasterList(c.MasterList())
	if err != nil || len(ml) != 1 || !ml[0].Equal(c.CSCA) {
		t.Errorf("master list: %v", err)
	}
	if _, err := ParseMasterList([]byte("junk")); err == nil {
		t.Error("junk master list accepted")
	}
	pool := x509.NewCertPool()
	pool.AddCert(c.CSCA)
	if _, err := first.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("old DS does not chain: %v", err)
	}
}

func TestLoadErrorsNameNoKey(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); err == nil {
		t.Error("Load of an empty dir succeeded")
	}
	if _, err := Init(dir); err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(filepath.Join(dir, "csca.key"))
	// Corrupt the key body: the error must name the file, not echo it.
	bad := strings.Replace(string(key), "\n", "\nAAAA", 2)
	if err := os.WriteFile(filepath.Join(dir, "csca.key"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	if err == nil {
		t.Fatal("Load with a corrupt key succeeded")
	}
	if strings.Contains(err.Error(), "AAAA") || strings.Contains(err.Error(), "BEGIN") {
		t.Errorf("error leaks key material: %v", err)
	}
	if _, err := RotateSigner(t.TempDir()); err == nil {
		t.Error("RotateSigner without a CSCA succeeded")
	}
}

// TestSignerCoversItsCards: every DS, the first and each rotated one, is
// valid until the last card it may sign must stop verifying (signed on the
// last day of its key usage period, a lifetime card verifying 62 years);
// a CSCA too short for that refuses the rotation instead of issuing a DS
// that would leave cards unverifiable.
func TestSignerCoversItsCards(t *testing.T) {
	start := time.Date(2026, 12, 7, 17, 30, 0, 0, time.UTC)
	now := start
	o := Options{Now: func() time.Time { return now }}
	dir := t.TempDir()
	a, err := o.Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	need := func(signedAt time.Time) time.Time {
		return signedAt.AddDate(card.LifetimeVerifyYears, 0, 1)
	}
	for i, at := range []time.Time{start, start.AddDate(1, 0, 0), start.AddDate(4, 11, 0)} {
		if i > 0 {
			now = at
			if a, err = o.RotateSigner(dir); err != nil {
				t.Fatalf("rotate at %v: %v", at, err)
			}
		}
		end, ok := usagePeriodEnd(t, a.Signer)
		if !ok {
			t.Fatal("DS has no private key usage period")
		}
		if a.Signer.NotAfter.Before(need(end)) {
			t.Errorf("DS of %v ends %v, before a lifetime card signed at %v stops verifying (%v)", at, a.Signer.NotAfter, end, need(end))
		}
		if a.Signer.NotAfter.After(a.CSCA.NotAfter) {
			t.Errorf("DS outlives its CSCA")
		}
	}
	// Near the CSCA's end a new DS could not cover its cards: refused.
	now = a.CSCA.NotAfter.AddDate(-10, 0, 0)
	if _, err := o.RotateSigner(dir); !errors.Is(err, ErrCSCATooShort) {
		t.Errorf("rotation 10 years before the CSCA ends: %v, want ErrCSCATooShort", err)
	}
}

func usagePeriodEnd(t *testing.T, c *x509.Certificate) (time.Time, bool) {
	t.Helper()
	for _, ext := range c.Extensions {
		if ext.Id.Equal(OIDPrivateKeyUsagePeriod) {
			var p struct {
				NotBefore time.Time `asn1:"generalized,optional,tag:0"`
				NotAfter  time.Time `asn1:"generalized,optional,tag:1"`
			}
			if _, err := asn1.Unmarshal(ext.Value, &p); err != nil {
				t.Fatal(err)
			}
			return p.NotAfter, true
		}
	}
	return time.Time{}, false
}
