package pades_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/card/cms"
	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/document/pades"
	"github.com/dancu-project/dancu/internal/document/result"
)

func sample(t testing.TB) result.Result {
	return result.Result{
		Kind: result.Residence, ID: "R7Q2K9", Code: "4F7KQ2", Number: "125/XNCT",
		Unit: "Công an phường Ba Đình", Place: "Hà Nội",
		Issued: time.Date(2026, 12, 7, 9, 30, 0, 0, civildate.Location()),
		Signer: "Trưởng Công an phường",
		Fields: map[string]string{
			"name": "Nguyễn Văn Ánh", "birth": "12/03/1990", "sex": "Nam", "pin": "001090012345",
			"temporary": "Số 5 ngõ 12 phố Đội Cấn, phường Ba Đình, thành phố Hà Nội",
			"from":      "01/12/2026", "to": "01/12/2028",
		},
		VerifyURL: "https://dancu.example/verify/R7Q2K9?c=4F7KQ2",
	}
}

func signer(t testing.TB) (*pki.ResultsSigner, string) {
	dir := t.TempDir()
	rs, err := pki.Options{}.InitResults(dir, pki.ResultsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rs, dir
}

func signed(t testing.TB, rs *pki.ResultsSigner) []byte {
	pdf, err := result.Render(sample(t))
	if err != nil {
		t.Fatal(err)
	}
	out, err := pades.Sign(pdf, pades.Signature{Cert: rs.Cert, Key: rs.Key(), Time: sample(t).Issued,
		Name: "Công an phường Ba Đình", Reason: "Kết quả giải quyết thủ tục", Location: "Hà Nội"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, pdf) {
		t.Fatal("the signature is not an incremental update: the original bytes changed")
	}
	return out
}

// nssTrusting makes an NSS database (pdfsig's trust store) that trusts the
// platform CA.
func nssTrusting(t *testing.T, ca []byte) string {
	if _, err := exec.LookPath("certutil"); err != nil {
		t.Skip("certutil (Debian libnss3-tools) is not installed; CI installs it")
	}
	dir := t.TempDir()
	if out, err := exec.Command("certutil", "-N", "-d", "sql:"+dir, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("certutil -N: %v\n%s", err, out)
	}
	caFile := filepath.Join(dir, "ca.der")
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("certutil", "-A", "-d", "sql:"+dir, "-n", "dancu-platform-ca", "-t", "CT,C,C", "-i", caFile).CombinedOutput(); err != nil {
		t.Fatalf("certutil -A: %v\n%s", err, out)
	}
	return dir
}

// TestPdfsigValid: Debian's pdfsig (poppler, NSS) checks the signature and
// the signer's chain to the platform CA, and qpdf the file's structure; an
// altered byte inside the signed ranges makes pdfsig refuse it.
func TestPdfsigValid(t *testing.T) {
	if _, err := exec.LookPath("pdfsig"); err != nil {
		t.Skip("pdfsig (Debian poppler-utils) is not installed; CI installs it")
	}
	rs, _ := signer(t)
	nss := nssTrusting(t, rs.CA.Raw)
	out := signed(t, rs)
	file := filepath.Join(t.TempDir(), "result.pdf")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, _ := exec.Command("pdfsig", "-nssdir", "sql:"+nss, file).CombinedOutput()
	for _, want := range []string{"Signature is Valid.", "Certificate is Trusted.", "Total document signed", "ETSI.CAdES.detached"} {
		if !strings.Contains(string(rep), want) {
			t.Errorf("pdfsig does not say %q:\n%s", want, rep)
		}
	}
	if _, err := exec.LookPath("qpdf"); err == nil {
		if q, err := exec.Command("qpdf", "--check", file).CombinedOutput(); err != nil {
			t.Errorf("qpdf --check: %v\n%s", err, q)
		}
	}

	// One byte of the page content changed: a byte in the first range.
	bad := append([]byte{}, out...)
	i := bytes.Index(bad, []byte("/MediaBox"))
	if i < 0 {
		i = 100
	}
	bad[i+1] ^= 0x01
	badFile := filepath.Join(t.TempDir(), "altered.pdf")
	if err := os.WriteFile(badFile, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, _ = exec.Command("pdfsig", "-nssdir", "sql:"+nss, badFile).CombinedOutput()
	if strings.Contains(string(rep), "Signature is Valid.") || !strings.Contains(string(rep), "Digest Mismatch") {
		t.Errorf("pdfsig accepts an altered file:\n%s", rep)
	}

	// A trust store without the platform CA: valid signature, untrusted signer.
	other := nssTrusting(t, mustOtherCA(t))
	rep, _ = exec.Command("pdfsig", "-nssdir", "sql:"+other, file).CombinedOutput()
	if strings.Contains(string(rep), "Certificate is Trusted.") {
		t.Errorf("pdfsig trusts the signer without the platform CA:\n%s", rep)
	}
}

func mustOtherCA(t *testing.T) []byte {
	rs, _ := signer(t)
	return rs.CA.Raw
}

// TestSignRefuses: what the signer does not understand is refused, never
// half-signed.
func TestSignRefuses(t *testing.T) {
	rs, _ := signer(t)
	pdf, err := result.Render(sample(t))
	if err != nil {
		t.Fatal(err)
	}
	once := signed(t, rs)
	sig := pades.Signature{Cert: rs.Cert, Key: rs.Key(), Time: time.Now()}
	for name, in := range map[string][]byte{
		"empty":        nil,
		"not a PDF":    []byte("hello"),
		"truncated":    pdf[:len(pdf)/2],
		"signed twice": once, // the catalog has a form now
		"xref stream":  []byte("%PDF-1.5\n1 0 obj\n<< /Type /XRef >>\nendobj\nstartxref\n9\n%%EOF\n"),
		"encrypted":    bytes.Replace(pdf, []byte("trailer\n<<"), []byte("trailer\n<< /Encrypt 9 0 R"), 1),
	} {
		if _, err := pades.Sign(in, sig); !errors.Is(err, pades.ErrUnsupported) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := pades.Sign(pdf, pades.Signature{Cert: rs.CA, Key: rs.Key()}); !errors.Is(err, cms.ErrKey) {
		t.Errorf("key of another certificate: %v", err)
	}
}

// FuzzSign: any input is signed or refused, without a panic, and a signed
// output keeps the input as its prefix.
func FuzzSign(f *testing.F) {
	rs, _ := signer(f)
	pdf, err := result.Render(sample(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pdf)
	f.Add([]byte("trailer << /Size 3 /Root 1 0 R >>\nxref\nstartxref\n0\n%%EOF"))
	f.Add([]byte("1 0 obj\n<< /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Kids [3 0 R] >>\nendobj\n3 0 obj\n<< >>\nendobj\nxref\ntrailer << /Size 4 /Root 1 0 R >>\nstartxref\n78\n%%EOF"))
	sig := pades.Signature{Cert: rs.Cert, Key: rs.Key(), Time: time.Now()}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := pades.Sign(in, sig)
		if err == nil && !bytes.HasPrefix(out, in) {
			t.Fatal("signed output does not keep the input")
		}
	})
}
