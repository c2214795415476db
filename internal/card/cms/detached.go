package cms

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
)

// Object identifiers of the detached (PAdES) profile.
var (
	OIDData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	// OIDSigningCertificateV2 is id-aa-signingCertificateV2 (RFC 5035),
	// which CAdES and PAdES baseline signatures must carry: it binds the
	// signer certificate into what is signed, so it cannot be swapped.
	OIDSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
)

// detachedSignedData is SignedData whose encapsulated content is absent
// (RFC 5652 §5.2: eContent omitted for a detached signature).
type detachedSignedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	EncapContentInfo struct{ EContentType asn1.ObjectIdentifier }
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

// essCertIDv2 leaves hashAlgorithm out: its DEFAULT is SHA-256, and DER
// omits a field equal to its default.
type essCertIDv2 struct {
	CertHash     []byte
	IssuerSerial struct {
		Issuer []asn1.RawValue // GeneralNames: one directoryName [4]
		Serial *big.Int
	}
}

// SignDetached signs the SHA-256 digest of content that travels apart from
// the signature (a PDF's byte ranges) and returns the DER ContentInfo: a
// SignedData of version 1 over id-data without eContent, whose signed
// attributes are content-type, message-digest and signing-certificate-v2
// (the CAdES baseline B set; signing-time is left out as PAdES requires,
// the time being the PDF signature dictionary's /M). The card profile
// (Sign) is unchanged.
func SignDetached(digest []byte, cert *x509.Certificate, key crypto.Signer) ([]byte, error) {
	if err := checkKey(cert, key); err != nil {
		return nil, err
	}
	if len(digest) != sha256.Size {
		return nil, ErrSign
	}
	ct, err := asn1.Marshal(OIDData)
	if err != nil {
		return nil, ErrSign.Wrap(err)
	}
	md, err := asn1.Marshal(digest)
	if err != nil {
		return nil, ErrSign.Wrap(err)
	}
	certHash := sha256.Sum256(cert.Raw)
	var id essCertIDv2
	id.CertHash = certHash[:]
	id.IssuerSerial.Issuer = []asn1.RawValue{{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: cert.RawIssuer}}
	id.IssuerSerial.Serial = cert.SerialNumber
	scv2, err := asn1.Marshal(struct{ Certs []essCertIDv2 }{[]essCertIDv2{id}})
	if err != nil {
		return nil, ErrSign.Wrap(err)
	}
	si, err := signAttrs(cert, key, []attribute{
		{Type: OIDContentType, Values: []asn1.RawValue{{FullBytes: ct}}},
		{Type: OIDMessageDigest, Values: []asn1.RawValue{{FullBytes: md}}},
		{Type: OIDSigningCertificateV2, Values: []asn1.RawValue{{FullBytes: scv2}}},
	})
	if err != nil {
		return nil, err
	}
	sd := detachedSignedData{
		Version:          1, // id-data, issuerAndSerialNumber, no attribute certificates (RFC 5652 §5.1)
		DigestAlgorithms: []pkix.AlgorithmIdentifier{{Algorithm: OIDSHA256}},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: cert.Raw},
		SignerInfos:      []signerInfo{si},
	}
	sd.EncapContentInfo.EContentType = OIDData
	return marshalSignedData(sd)
}
