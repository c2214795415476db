package cms_test

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"testing"

	"github.com/dancu-project/dancu/internal/card/cms"
	"github.com/dancu-project/dancu/internal/card/pki"
)

var oidTest = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1}

func TestSignParse(t *testing.T) {
	a, err := pki.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	content := []byte{0x30, 0x03, 0x02, 0x01, 0x00}
	der, err := cms.Sign(oidTest, content, a.Signer, a.SignerKey())
	if err != nil {
		t.Fatal(err)
	}
	sd, err := cms.Parse(der, oidTest)
	if err != nil {
		t.Fatal(err)
	}
	if sd.CheckDigest() != nil || sd.CheckSignature() != nil || string(sd.Content) != string(content) || !sd.Signer.Equal(a.Signer) {
		t.Errorf("round trip failed: %+v", sd)
	}
	if _, err := cms.Parse(der, asn1.ObjectIdentifier{1, 2, 3}); !errors.Is(err, cms.ErrUnsupported) {
		t.Errorf("other content type: %v", err)
	}
	if _, err := cms.Sign(oidTest, content, a.Signer, nil); !errors.Is(err, cms.ErrKey) {
		t.Errorf("nil key: %v", err)
	}
	if _, err := cms.Sign(oidTest, content, a.CSCA, a.SignerKey()); !errors.Is(err, cms.ErrKey) {
		t.Errorf("key of another certificate: %v", err)
	}
	for n := 0; n < len(der); n++ {
		if _, err := cms.Parse(der[:n], oidTest); err == nil {
			t.Fatalf("truncation to %d accepted", n)
		}
	}
	if _, err := cms.Parse(append(append([]byte{}, der...), 0), oidTest); err == nil {
		t.Error("trailing byte accepted")
	}
}

func FuzzParse(f *testing.F) {
	a, err := pki.Init(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	der, err := cms.Sign(oidTest, []byte{0x30, 0x00}, a.Signer, a.SignerKey())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(der)
	genuine := []byte{0x30, 0x00}
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := cms.Parse(b, oidTest)
		if err != nil {
			return
		}
		// An altered message never verifies under the genuine signer: if it
		// does, it says exactly what was signed.
		if sd.CheckDigest() == nil && sd.CheckSignature() == nil && sd.Signer.Equal(a.Signer) && !bytes.Equal(sd.Content, genuine) {
			t.Fatalf("altered content %x verifies under the document signer", sd.Content)
		}
	})
}
