package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/dancu-project/dancu/internal/card/cms"
)

// ICAO Doc 9303 Part 12 §9 object identifiers of the CSCA master list.
var (
	OIDCSCAMasterList           = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 2}
	OIDMasterListSigningKeyEKU  = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 3}
	errMasterListSignerMismatch = errors.New("card/pki: mls.key does not match mls.pem")
)

// cscaMasterList is CscaMasterList ::= SEQUENCE { version INTEGER (v0),
// certList SET OF Certificate }.
type cscaMasterList struct {
	Version  int
	CertList []asn1.RawValue `asn1:"set"`
}

// IssueMasterList signs the CSCA master list in the ICAO form: a CMS
// SignedData (content type id-icao-cscaMasterList) holding the CSCA
// certificates, signed by a master list signer certificate that the CSCA
// issues (created in mls.pem/mls.key on first use, key usage
// digitalSignature, extended key usage id-icao-cscaMasterListSigningKey).
// It writes masterlist.der and returns it. The PEM bundle (MasterList)
// stays for tools that want plain certificates.
func (o Options) IssueMasterList(dir string) ([]byte, error) {
	o = o.withDefaults()
	a, err := o.load(dir, false)
	if err != nil {
		return nil, err
	}
	signer, key, err := o.masterListSigner(dir, a)
	if err != nil {
		return nil, err
	}
	// The certificates go in DER SET OF order; with one CSCA that is trivial,
	// but a rolled-over CSCA and its link certificates will join it.
	content, err := asn1.Marshal(cscaMasterList{Version: 0, CertList: []asn1.RawValue{{FullBytes: a.CSCA.Raw}}})
	if err != nil {
		return nil, fmt.Errorf("card/pki: encode master list: %w", err)
	}
	der, err := cms.Sign(OIDCSCAMasterList, content, signer, key)
	if err != nil {
		return nil, fmt.Errorf("card/pki: sign master list: %w", err)
	}
	if err := writeFile(filepath.Join(dir, "masterlist.der"), der, 0o600); err != nil {
		return nil, err
	}
	return der, nil
}

func (o Options) masterListSigner(dir string, a *Authority) (*x509.Certificate, crypto.Signer, error) {
	certPath := filepath.Join(dir, "mls.pem")
	keys := o.keys(dir)
	if c, err := readCert(certPath); err == nil {
		k, err := keys.Signer("mls")
		if err != nil {
			return nil, nil, err
		}
		if !samePublic(k, c) {
			return nil, nil, errMasterListSignerMismatch
		}
		if now := o.Now(); now.Before(c.NotAfter) && !now.Before(c.NotBefore) {
			return c, k, nil
		}
		// Expired: issue a new one below, overwriting the old pair.
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	key, err := keys.Generate("mls", o.Rand)
	if err != nil {
		return nil, nil, err
	}
	serial, err := newSerial(o.Rand)
	if err != nil {
		return nil, nil, err
	}
	now := o.Now().UTC().Truncate(time.Second)
	notAfter := now.Add(5 * year)
	if notAfter.After(a.CSCA.NotAfter) {
		notAfter = a.CSCA.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{Country: a.CSCA.Subject.Country, Organization: a.CSCA.Subject.Organization,
			CommonName: "Master List Signer " + now.Format("20060102")},
		NotBefore:          now,
		NotAfter:           notAfter,
		KeyUsage:           x509.KeyUsageDigitalSignature,
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{OIDMasterListSigningKeyEKU},
	}
	der, err := x509.CreateCertificate(o.Rand, tmpl, a.CSCA, key.Public(), a.cscaKey)
	if err != nil {
		return nil, nil, fmt.Errorf("card/pki: issue master list signer: %w", err)
	}
	if err := writeFile(certPath, pemBytes("CERTIFICATE", der), 0o600); err != nil {
		return nil, nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("card/pki: parse master list signer: %w", err)
	}
	return c, key, nil
}

// ParseSignedMasterList verifies a CMS master list and returns its CSCA
// certificates. The signer must be issued by anchor, a CSCA obtained out of
// band (a master list cannot vouch for itself), and be valid at t.
func ParseSignedMasterList(der []byte, anchor *x509.Certificate, t time.Time) ([]*x509.Certificate, error) {
	sd, err := cms.Parse(der, OIDCSCAMasterList)
	if err != nil {
		return nil, fmt.Errorf("card/pki: master list: %w", err)
	}
	if err := sd.CheckDigest(); err != nil {
		return nil, fmt.Errorf("card/pki: master list: %w", err)
	}
	if err := sd.CheckSignature(); err != nil {
		return nil, fmt.Errorf("card/pki: master list: %w", err)
	}
	if !bytes.Equal(sd.Signer.RawIssuer, anchor.RawSubject) || sd.Signer.CheckSignatureFrom(anchor) != nil {
		return nil, fmt.Errorf("card/pki: master list signer is not issued by the trusted CSCA")
	}
	if t.Before(sd.Signer.NotBefore) || t.After(sd.Signer.NotAfter) {
		return nil, fmt.Errorf("card/pki: master list signer is not valid at %s", t.Format(time.DateOnly))
	}
	var ml cscaMasterList
	rest, err := asn1.Unmarshal(sd.Content, &ml)
	if err != nil || len(rest) != 0 || ml.Version != 0 {
		return nil, fmt.Errorf("card/pki: master list content is malformed")
	}
	out := make([]*x509.Certificate, 0, len(ml.CertList))
	for _, raw := range ml.CertList {
		c, err := x509.ParseCertificate(raw.FullBytes)
		if err != nil {
			return nil, fmt.Errorf("card/pki: master list certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("card/pki: master list holds no certificate")
	}
	return out, nil
}
