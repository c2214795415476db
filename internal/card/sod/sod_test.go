package sod

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dancu-project/dancu/internal/card/lds"
	"github.com/dancu-project/dancu/internal/card/pki"
)

const mrzSample = "IDVNM0930470641001093047064<<2\n9301054M3301052VNM<<<<<<<<<<<8\nUNG<<HOANG<HIEP<<<<<<<<<<<<<<<"

func groups(t testing.TB) map[int][]byte {
	dg1, err := lds.DG1(mrzSample)
	if err != nil {
		t.Fatal(err)
	}
	dg13, err := lds.DG13(lds.DG13Data{PIN: "001093047064", FullName: "Ưng Hoàng Hiệp"})
	if err != nil {
		t.Fatal(err)
	}
	return map[int][]byte{1: dg1, 13: dg13}
}

func authority(t testing.TB) (*pki.Authority, string) {
	dir := t.TempDir()
	a, err := pki.Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	return a, dir
}

func TestSignParse(t *testing.T) {
	a, _ := authority(t)
	dgs := groups(t)
	b, err := Sign(dgs, a.Signer, a.SignerKey())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckDigest(); err != nil {
		t.Error(err)
	}
	if err := s.CheckSignature(); err != nil {
		t.Error(err)
	}
	if !s.Signer.Equal(a.Signer) {
		t.Error("signer is not the DS")
	}
	if len(s.LDS.Hashes) != 2 || s.LDS.Hashes[0].Number != 1 || s.LDS.Hashes[1].Number != 13 {
		t.Fatalf("hashes = %+v", s.LDS.Hashes)
	}
	for n, dg := range dgs {
		h, ok := s.Hash(n)
		want := sha256.Sum256(dg)
		if !ok || !bytes.Equal(h, want[:]) {
			t.Errorf("DG%d hash mismatch", n)
		}
	}
	if _, ok := s.Hash(2); ok {
		t.Error("hash for an absent DG2")
	}
}

func TestSignErrors(t *testing.T) {
	a, _ := authority(t)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	dgs := groups(t)
	if _, err := Sign(dgs, a.Signer, other); !errors.Is(err, ErrKey) {
		t.Errorf("wrong key: %v", err)
	}
	if _, err := Sign(nil, a.Signer, a.SignerKey()); !errors.Is(err, ErrDataGroup) {
		t.Errorf("no DGs: %v", err)
	}
	if _, err := Sign(map[int][]byte{17: dgs[1]}, a.Signer, a.SignerKey()); !errors.Is(err, ErrDataGroup) {
		t.Errorf("DG17: %v", err)
	}
	if _, err := Sign(map[int][]byte{2: dgs[1]}, a.Signer, a.SignerKey()); !errors.Is(err, ErrDataGroup) {
		t.Errorf("DG1 content as DG2: %v", err)
	}
	if _, err := Sign(map[int][]byte{1: append(dgs[1], 0)}, a.Signer, a.SignerKey()); !errors.Is(err, ErrDataGroup) {
		t.Errorf("trailing byte: %v", err)
	}
}

func TestTamper(t *testing.T) {
	a, _ := authority(t)
	b, err := Sign(groups(t), a.Signer, a.SignerKey())
	if err != nil {
		t.Fatal(err)
	}
	s, _ := Parse(b)
	// Change one byte of a DG hash inside the signed content.
	i := bytes.Index(b, s.LDS.Hashes[0].Hash)
	bad := append([]byte{}, b...)
	bad[i] ^= 1
	s2, err := Parse(bad)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.CheckDigest(); !errors.Is(err, ErrDigest) {
		t.Errorf("tampered content: CheckDigest = %v", err)
	}
	// Change the message digest too: now the signature fails.
	j := bytes.Index(bad, s.MessageDigest)
	h := sha256.Sum256(s2.Content)
	copy(bad[j:], h[:])
	s3, err := Parse(bad)
	if err != nil {
		t.Fatal(err)
	}
	if s3.CheckDigest() != nil {
		t.Fatal("digest fix did not take")
	}
	if err := s3.CheckSignature(); !errors.Is(err, ErrSignature) {
		t.Errorf("tampered attributes: CheckSignature = %v", err)
	}
	// Structural damage never panics and is always an error.
	for n := 0; n < len(b); n++ {
		if _, err := Parse(b[:n]); err == nil {
			t.Fatalf("truncation to %d accepted", n)
		}
	}
	if _, err := Parse(append(append([]byte{}, b...), 0)); err == nil {
		t.Error("trailing byte accepted")
	}
	if _, err := Parse(append([]byte{0x76}, b[1:]...)); err == nil {
		t.Error("wrong tag accepted")
	}
}

// TestOpenSSLVerify checks the CMS against an independent implementation:
// Debian's openssl must verify it against the CSCA and extract exactly the
// LDSSecurityObject.
func TestOpenSSLVerify(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed (apt-get install openssl); interoperability not checked")
	}
	a, dir := authority(t)
	b, err := Sign(groups(t), a.Signer, a.SignerKey())
	if err != nil {
		t.Fatal(err)
	}
	s, _ := Parse(b)
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "sod.der"), s.CMS, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(openssl, "cms", "-verify", "-inform", "DER", "-in", "sod.der",
		"-CAfile", filepath.Join(dir, "csca.pem"), "-purpose", "any", "-out", "content.der")
	cmd.Dir = work
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(work, "content.der"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, s.Content) {
		t.Errorf("openssl extracted % X\nwant % X", got, s.Content)
	}
	// And a tampered SOD must fail there too.
	bad := append([]byte{}, s.CMS...)
	bad[bytes.Index(bad, s.LDS.Hashes[0].Hash)] ^= 1
	if err := os.WriteFile(filepath.Join(work, "bad.der"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(openssl, "cms", "-verify", "-inform", "DER", "-in", "bad.der",
		"-CAfile", filepath.Join(dir, "csca.pem"), "-purpose", "any", "-out", "bad.out")
	cmd.Dir = work
	if err := cmd.Run(); err == nil {
		t.Error("openssl verified a tampered SOD")
	}
}

func FuzzParse(f *testing.F) {
	dir := f.TempDir()
	a, err := pki.Init(dir)
	if err != nil {
		f.Fatal(err)
	}
	b, err := Sign(groups(f), a.Signer, a.SignerKey())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{0x77, 0x00})
	genuine, err := Parse(b)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			return
		}
		// Whatever verifies under the genuine document signer attests the
		// data-group hashes it signed, not altered ones.
		if s.CheckDigest() == nil && s.CheckSignature() == nil && s.Signer.Equal(a.Signer) && !bytes.Equal(s.Content, genuine.Content) {
			t.Fatalf("altered security object verifies under the document signer")
		}
	})
}
