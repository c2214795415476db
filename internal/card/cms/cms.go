// Package cms writes and reads the one CMS SignedData profile (RFC 5652) the
// card PKI uses, for both EF.SOD and the CSCA master list: SHA-256,
// ecdsa-with-SHA256, one signer identified by issuerAndSerialNumber, signed
// attributes content-type and message-digest, the signer certificate
// included, the content encapsulated. It is written by hand with
// encoding/asn1; Parse accepts this profile only (plus id-ecPublicKey as the
// signature algorithm name, which some producers use) and never panics.
package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"sort"

	"github.com/dancu-project/dancu/internal/fault"
)

// Object identifiers of the profile.
var (
	OIDSignedData      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	OIDECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	OIDECPublicKey     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	OIDContentType     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDMessageDigest   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
)

// Faults returned by Sign and Parse. Their codes are part of the API.
var (
	ErrKey         = fault.New(fault.Invalid, "card.cms.key", "Khóa ký không khớp chứng thư.", "The signing key does not match the certificate.")
	ErrSign        = fault.New(fault.Internal, "card.cms.sign", "Không ký được dữ liệu.", "Could not sign the data.")
	ErrMalformed   = fault.New(fault.Invalid, "card.cms.malformed", "Dữ liệu ký số (CMS) không đúng cấu trúc.", "The signed data (CMS) is malformed.")
	ErrUnsupported = fault.New(fault.Invalid, "card.cms.unsupported", "Dữ liệu ký số dùng thuật toán, phiên bản hoặc loại nội dung không hỗ trợ.", "The signed data uses an unsupported algorithm, version or content type.")
	ErrNoSigner    = fault.New(fault.Invalid, "card.cms.no_signer", "Dữ liệu ký số không chứa chứng thư của người ký.", "The signed data does not contain the signer's certificate.")
	ErrSignature   = fault.New(fault.Invalid, "card.cms.signature", "Chữ ký số không hợp lệ.", "The signature is not valid.")
	ErrDigest      = fault.New(fault.Invalid, "card.cms.message_digest", "Giá trị băm trong thuộc tính ký không khớp nội dung.", "The signed message digest does not match the content.")
)

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     []byte `asn1:"explicit,tag:0"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type signerInfo struct {
	Version            int
	SID                issuerAndSerial
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue // [0] IMPLICIT SET OF Attribute
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
}

type signedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

// contentInfo is ContentInfo with content [0] EXPLICIT taken as a raw
// element: encoding/asn1 does not apply "explicit" to a RawValue, so the
// wrapper is checked and removed by hand in both directions.
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

// Sign signs content of the given type with cert's key and returns the DER
// ContentInfo.
func Sign(contentType asn1.ObjectIdentifier, content []byte, cert *x509.Certificate, key crypto.Signer) ([]byte, error) {
	if err := checkKey(cert, key); err != nil {
		return nil, err
	}
	digest := sha256.Sum256(content)
	ct, err := asn1.Marshal(contentType)
	if err != nil {
		return nil, ErrSign.Wrap(err)
	}
	md, err := asn1.Marshal(digest[:])
	if err != nil {
		return nil, ErrSign.Wrap(err)
	}
	si, err := signAttrs(cert, key, []attribute{
		{Type: OIDContentType, Values: []asn1.RawValue{{FullBytes: ct}}},
		{Type: OIDMessageDigest, Values: []asn1.RawValue{{FullBytes: md}}},
	})
	if err != nil {
		return nil, err
	}
	return marshalSignedData(signedData{
		Version:          3, // RFC 5652 §5.1: eContentType is not id-data
		DigestAlgorithms: []pkix.AlgorithmIdentifier{{Algorithm: OIDSHA256}},
		EncapContentInfo: encapContentInfo{EContentType: contentType, EContent: content},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: cert.Raw},
		SignerInfos:      []signerInfo{si},
	})
}

// checkKey returns ErrKey unless key is the ECDSA key of cert.
func checkKey(cert *x509.Certificate, key crypto.Signer) error {
	if cert == nil || key == nil {
		return ErrKey
	}
	pub, ok := key.Public().(*ecdsa.PublicKey)
	if !ok || !pub.Equal(cert.PublicKey) {
		return ErrKey
	}
	return nil
}

// signAttrs signs the signed attributes with key (ecdsa-with-SHA256 over
// their DER SET) and returns the one signer info both profiles carry: cert
// named by issuerAndSerialNumber, SHA-256.
func signAttrs(cert *x509.Certificate, key crypto.Signer, attributes []attribute) (signerInfo, error) {
	attrs := make([][]byte, 0, len(attributes))
	for _, a := range attributes {
		b, err := asn1.Marshal(a)
		if err != nil {
			return signerInfo{}, ErrSign.Wrap(err)
		}
		attrs = append(attrs, b)
	}
	// DER orders SET OF members by their encodings.
	sort.Slice(attrs, func(i, j int) bool { return bytes.Compare(attrs[i], attrs[j]) < 0 })
	attrBody := bytes.Join(attrs, nil)
	toSign, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: attrBody})
	if err != nil {
		return signerInfo{}, ErrSign.Wrap(err)
	}
	h := sha256.Sum256(toSign)
	sig, err := key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		return signerInfo{}, ErrSign.Wrap(err)
	}
	return signerInfo{
		Version:            1, // issuerAndSerialNumber
		SID:                issuerAndSerial{Issuer: asn1.RawValue{FullBytes: cert.RawIssuer}, Serial: cert.SerialNumber},
		DigestAlgorithm:    pkix.AlgorithmIdentifier{Algorithm: OIDSHA256},
		SignedAttrs:        asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: attrBody},
		SignatureAlgorithm: pkix.AlgorithmIdentifier{Algorithm: OIDECDSAWithSHA256},
		Signature:          sig,
	}, nil
}

// marshalSignedData returns the DER ContentInfo of type signed-data whose
// content is sd (a signedData or detachedSignedData).
func marshalSignedData(sd any) ([]byte, error) {
	sdDER, err := asn1.Marshal(sd)
	if err != nil {
		return nil, ErrSign.Wrap(err)
	}
	out, err := asn1.Marshal(contentInfo{OIDSignedData, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sdDER}})
	if err != nil {
		return nil, ErrSign.Wrap(err)
	}
	return out, nil
}

// SignedData is a parsed ContentInfo. Parse checks its structure only;
// CheckDigest and CheckSignature check the cryptography, and the caller
// checks the signer's chain.
type SignedData struct {
	Raw           []byte // the ContentInfo DER
	ContentType   asn1.ObjectIdentifier
	Content       []byte              // eContent
	Certificates  []*x509.Certificate // as included
	Signer        *x509.Certificate   // the included certificate the signer info names
	SignedAttrs   []byte              // DER of the signed attributes as a SET: what is signed
	MessageDigest []byte
	Signature     []byte
}

// CheckDigest reports whether the signed message digest is the SHA-256 of
// the content.
func (s *SignedData) CheckDigest() error {
	h := sha256.Sum256(s.Content)
	if !bytes.Equal(h[:], s.MessageDigest) {
		return ErrDigest
	}
	return nil
}

// CheckSignature verifies the signature over the signed attributes with the
// signer certificate's ECDSA key.
func (s *SignedData) CheckSignature() error {
	if s.Signer == nil {
		return ErrNoSigner
	}
	pub, ok := s.Signer.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return ErrUnsupported
	}
	h := sha256.Sum256(s.SignedAttrs)
	if !ecdsa.VerifyASN1(pub, h[:], s.Signature) {
		return ErrSignature
	}
	return nil
}

// Parse reads a DER ContentInfo whose encapsulated content must be of
// contentType.
func Parse(der []byte, contentType asn1.ObjectIdentifier) (*SignedData, error) {
	s := &SignedData{Raw: der}
	var ci contentInfo
	if err := unmarshal(der, &ci); err != nil {
		return nil, err
	}
	if !ci.ContentType.Equal(OIDSignedData) || ci.Content.Class != asn1.ClassContextSpecific || ci.Content.Tag != 0 || !ci.Content.IsCompound {
		return nil, ErrMalformed
	}
	var sd signedData
	if err := unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, err
	}
	if sd.Version != 3 || !sd.EncapContentInfo.EContentType.Equal(contentType) {
		return nil, ErrUnsupported
	}
	s.ContentType = sd.EncapContentInfo.EContentType
	if !hasSHA256(sd.DigestAlgorithms) {
		return nil, ErrUnsupported
	}
	s.Content = sd.EncapContentInfo.EContent
	if len(sd.Certificates.Bytes) == 0 {
		return nil, ErrNoSigner
	}
	var err error
	if s.Certificates, err = x509.ParseCertificates(sd.Certificates.Bytes); err != nil {
		return nil, ErrMalformed.Wrap(err)
	}
	if len(sd.SignerInfos) != 1 {
		return nil, ErrUnsupported
	}
	si := sd.SignerInfos[0]
	if si.Version != 1 || !si.DigestAlgorithm.Algorithm.Equal(OIDSHA256) {
		return nil, ErrUnsupported
	}
	if !si.SignatureAlgorithm.Algorithm.Equal(OIDECDSAWithSHA256) && !si.SignatureAlgorithm.Algorithm.Equal(OIDECPublicKey) {
		return nil, ErrUnsupported
	}
	if si.SignedAttrs.Class != asn1.ClassContextSpecific || si.SignedAttrs.Tag != 0 || !si.SignedAttrs.IsCompound {
		return nil, ErrMalformed
	}
	if s.SignedAttrs, err = asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: si.SignedAttrs.Bytes}); err != nil {
		return nil, ErrMalformed.Wrap(err)
	}
	if err := s.readAttrs(si.SignedAttrs.Bytes, contentType); err != nil {
		return nil, err
	}
	s.Signature = si.Signature
	if si.SID.Serial == nil {
		return nil, ErrMalformed
	}
	for _, c := range s.Certificates {
		if bytes.Equal(c.RawIssuer, si.SID.Issuer.FullBytes) && c.SerialNumber.Cmp(si.SID.Serial) == 0 {
			s.Signer = c
			break
		}
	}
	if s.Signer == nil {
		return nil, ErrNoSigner
	}
	return s, nil
}

// unmarshal decodes DER that must fill b.
func unmarshal(b []byte, v any) error {
	rest, err := asn1.Unmarshal(b, v)
	if err != nil {
		return ErrMalformed.Wrap(err)
	}
	if len(rest) != 0 {
		return ErrMalformed
	}
	return nil
}

func hasSHA256(algs []pkix.AlgorithmIdentifier) bool {
	for _, a := range algs {
		if a.Algorithm.Equal(OIDSHA256) {
			return true
		}
	}
	return false
}

// readAttrs takes content-type and message-digest from the signed
// attributes; each must appear once with one value, and content-type must
// equal the eContentType (RFC 5652 §11.1).
func (s *SignedData) readAttrs(b []byte, contentType asn1.ObjectIdentifier) error {
	seenCT := false
	for len(b) > 0 {
		var a attribute
		rest, err := asn1.Unmarshal(b, &a)
		if err != nil {
			return ErrMalformed.Wrap(err)
		}
		b = rest
		switch {
		case a.Type.Equal(OIDContentType):
			var oid asn1.ObjectIdentifier
			if seenCT || len(a.Values) != 1 || unmarshal(a.Values[0].FullBytes, &oid) != nil || !oid.Equal(contentType) {
				return ErrMalformed
			}
			seenCT = true
		case a.Type.Equal(OIDMessageDigest):
			if s.MessageDigest != nil || len(a.Values) != 1 || unmarshal(a.Values[0].FullBytes, &s.MessageDigest) != nil {
				return ErrMalformed
			}
		}
	}
	if !seenCT || len(s.MessageDigest) != sha256.Size {
		return ErrMalformed
	}
	return nil
}
