// Package sod writes and reads the Document Security Object (EF.SOD, ICAO Doc
// 9303 Part 10 §4.6.2): the hashes of the chip's data groups in an
// LDSSecurityObject, signed by a document signer as a CMS SignedData
// (RFC 5652, content type id-icao-mrtd-security-ldsSecurityObject) and
// wrapped in tag 0x77. The CMS profile is in package cms.
package sod

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"sort"

	"github.com/dancu-project/dancu/internal/card/cms"
	"github.com/dancu-project/dancu/internal/card/lds"
	"github.com/dancu-project/dancu/internal/fault"
)

// OIDLDSSecurityObject is id-icao-mrtd-security-ldsSecurityObject.
var OIDLDSSecurityObject = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1}

// Faults returned by Sign and Parse. The CMS ones are those of package cms;
// their codes are part of the API.
var (
	ErrDataGroup   = fault.New(fault.Invalid, "card.sod.data_group", "Nhóm dữ liệu không hợp lệ để ký (số 1–16, đúng thẻ).", "A data group cannot be signed (number 1–16 with its tag).")
	ErrMalformed   = fault.New(fault.Invalid, "card.sod.malformed", "SOD không đúng cấu trúc.", "The SOD is malformed.")
	ErrUnsupported = fault.New(fault.Invalid, "card.sod.unsupported", "SOD dùng thuật toán hoặc phiên bản không hỗ trợ.", "The SOD uses an unsupported algorithm or version.")
	ErrKey         = cms.ErrKey
	ErrNoSigner    = cms.ErrNoSigner
	ErrSignature   = cms.ErrSignature
	ErrDigest      = cms.ErrDigest
)

// DataGroupHash is one entry of the LDSSecurityObject.
type DataGroupHash struct {
	Number int
	Hash   []byte
}

// LDSSecurityObject is the signed content (version 0, the V0 form without
// LDS version info).
type LDSSecurityObject struct {
	Version       int
	HashAlgorithm pkix.AlgorithmIdentifier
	Hashes        []DataGroupHash
}

// dgTags maps a data group number to its file tag (Doc 9303 Part 10 Table 34).
var dgTags = [17]int{0, 0x61, 0x75, 0x63, 0x76, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x70}

// MaxDataGroups bounds the hash list; there are 16 data groups.
const MaxDataGroups = 16

// Sign hashes each data group (keyed by number 1–16, each a complete TLV with
// its own tag) and signs the result with the DS key, returning EF.SOD.
func Sign(dgs map[int][]byte, ds *x509.Certificate, key crypto.Signer) ([]byte, error) {
	if len(dgs) == 0 {
		return nil, ErrDataGroup
	}
	nums := make([]int, 0, len(dgs))
	for n, b := range dgs {
		if n < 1 || n > MaxDataGroups {
			return nil, ErrDataGroup.WithField("dg")
		}
		tag, _, rest, err := lds.ReadTLV(b)
		if err != nil || tag != dgTags[n] || len(rest) != 0 {
			return nil, ErrDataGroup.WithField(dgName(n))
		}
		nums = append(nums, n)
	}
	sort.Ints(nums)
	obj := LDSSecurityObject{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: cms.OIDSHA256}}
	for _, n := range nums {
		h := sha256.Sum256(dgs[n])
		obj.Hashes = append(obj.Hashes, DataGroupHash{Number: n, Hash: h[:]})
	}
	content, err := asn1.Marshal(obj)
	if err != nil {
		return nil, cms.ErrSign.Wrap(err)
	}
	ci, err := cms.Sign(OIDLDSSecurityObject, content, ds, key)
	if err != nil {
		return nil, err
	}
	return lds.AppendTLV(nil, lds.TagSOD, ci), nil
}

func dgName(n int) string { return "dg" + string(rune('0'+n/10)) + string(rune('0'+n%10)) }

// SOD is a parsed EF.SOD. Parse checks its structure only; CheckDigest and
// CheckSignature check the cryptography, and package verify the chain.
type SOD struct {
	*cms.SignedData
	LDS LDSSecurityObject
	CMS []byte // the ContentInfo inside tag 0x77
}

// Hash returns the hash the SOD holds for data group n.
func (s *SOD) Hash(n int) ([]byte, bool) {
	for _, h := range s.LDS.Hashes {
		if h.Number == n {
			return h.Hash, true
		}
	}
	return nil, false
}

// Parse reads EF.SOD (tag 0x77 around a CMS ContentInfo).
func Parse(b []byte) (*SOD, error) {
	tag, ci, rest, err := lds.ReadTLV(b)
	if err != nil {
		return nil, ErrMalformed.Wrap(err)
	}
	if tag != lds.TagSOD || len(rest) != 0 {
		return nil, ErrMalformed
	}
	return ParseCMS(ci)
}

// ParseCMS reads the CMS ContentInfo of an SOD without the 0x77 wrapper.
func ParseCMS(ci []byte) (*SOD, error) {
	sd, err := cms.Parse(ci, OIDLDSSecurityObject)
	if err != nil {
		return nil, err
	}
	s := &SOD{SignedData: sd, CMS: ci}
	rest, err := asn1.Unmarshal(sd.Content, &s.LDS)
	if err != nil {
		return nil, ErrMalformed.Wrap(err)
	}
	if len(rest) != 0 {
		return nil, ErrMalformed
	}
	if err := checkLDS(&s.LDS); err != nil {
		return nil, err
	}
	return s, nil
}

func checkLDS(o *LDSSecurityObject) error {
	if o.Version != 0 || !o.HashAlgorithm.Algorithm.Equal(cms.OIDSHA256) {
		return ErrUnsupported
	}
	if len(o.Hashes) == 0 || len(o.Hashes) > MaxDataGroups {
		return ErrMalformed
	}
	last := 0
	for _, h := range o.Hashes {
		if h.Number <= last || h.Number > MaxDataGroups || len(h.Hash) != sha256.Size {
			return ErrMalformed
		}
		last = h.Number
	}
	return nil
}
