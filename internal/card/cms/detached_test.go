package cms_test

import (
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/card/cms"
	"github.com/dancu-project/dancu/internal/card/pki"
)

// TestSignDetached: OpenSSL verifies the detached signature over the
// content given apart (and refuses other content); a key of another
// certificate or a digest of the wrong size is refused.
func TestSignDetached(t *testing.T) {
	dir := t.TempDir()
	rs, err := pki.Options{}.InitResults(dir, pki.ResultsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("nội dung được ký tách rời")
	h := sha256.Sum256(content)
	der, err := cms.SignDetached(h[:], rs.Cert, rs.Key())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cms.SignDetached(h[:], rs.CA, rs.Key()); !errors.Is(err, cms.ErrKey) {
		t.Errorf("key of another certificate: %v", err)
	}
	if _, err := cms.SignDetached(h[:5], rs.Cert, rs.Key()); err == nil {
		t.Error("short digest accepted")
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed; CI installs it")
	}
	w := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sig, data, other := w("sig.der", der), w("content", content), w("other", []byte("khác"))
	ca := w("ca.pem", []byte(pemCert(rs.CA.Raw)))
	if out, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", data, "-CAfile", ca, "-purpose", "any", "-out", os.DevNull).CombinedOutput(); err != nil {
		t.Errorf("openssl refuses the signature: %v\n%s", err, out)
	}
	if out, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", other, "-CAfile", ca, "-purpose", "any", "-out", os.DevNull).CombinedOutput(); err == nil {
		t.Errorf("openssl accepts other content:\n%s", out)
	}
	out, err := exec.Command("openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", sig).CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"id-smime-aa-signingCertificateV2", "eContent: <ABSENT>"} {
		if !contains(out, want) {
			t.Errorf("the CMS lacks %q", want)
		}
	}
}

func pemCert(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
