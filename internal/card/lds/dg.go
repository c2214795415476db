package lds

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"strings"
)

// DG1 wraps the 90-character TD1 MRZ (line breaks removed) as 61 { 5F1F }.
// It checks only the shape; mrz.Parse checks the content.
func DG1(mrzText string) ([]byte, error) {
	m := strings.NewReplacer("\n", "", "\r", "").Replace(mrzText)
	if !mrzChars([]byte(m)) {
		return nil, ErrContent.WithField("dg1")
	}
	return AppendTLV(nil, TagDG1, AppendTLV(nil, 0x5F1F, []byte(m))), nil
}

// ParseDG1 returns the MRZ in DG1 as three lines joined by "\n".
func ParseDG1(b []byte) (string, error) {
	v, err := only(b, TagDG1)
	if err != nil {
		return "", err
	}
	m, err := only(v, 0x5F1F)
	if err != nil {
		return "", err
	}
	if !mrzChars(m) {
		return "", ErrContent.WithField("dg1")
	}
	return string(m[:30]) + "\n" + string(m[30:60]) + "\n" + string(m[60:]), nil
}

// mrzChars reports whether m is 90 MRZ characters (A–Z, 0–9, <): line
// breaks or anything else inside DG1 would make two encodings of one MRZ.
func mrzChars(m []byte) bool {
	if len(m) != 90 {
		return false
	}
	for _, c := range m {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '<') {
			return false
		}
	}
	return true
}

// DG2 holds one face image. This is a simplified but self-consistent form of
// the Part 10 biometric information template:
//
//	75 { 7F61 { 02 01 01                      number of instances
//	            7F60 { A1 { 80 02 0101        header version 1.1
//	                        87 02 0101        format owner (ISO/IEC JTC1 SC37)
//	                        88 02 0008 }      format type (face image)
//	                   5F2E <JPEG> } } }
//
// The biometric data block 5F2E holds the JPEG itself instead of an ISO/IEC
// 19794-5 face record around it; a reader that expects the ISO record must
// be taught this profile (or the encoder extended) before real chips.
func DG2(jpeg []byte) ([]byte, error) {
	if !isJPEG(jpeg) {
		return nil, ErrContent.WithField("dg2")
	}
	bht := AppendTLV(nil, 0x80, []byte{1, 1})
	bht = AppendTLV(bht, 0x87, []byte{1, 1})
	bht = AppendTLV(bht, 0x88, []byte{0, 8})
	bit := AppendTLV(nil, 0xA1, bht)
	bit = AppendTLV(bit, 0x5F2E, jpeg)
	group := AppendTLV(nil, 0x02, []byte{1})
	group = AppendTLV(group, 0x7F60, bit)
	return AppendTLV(nil, TagDG2, AppendTLV(nil, 0x7F61, group)), nil
}

var dg2Header = func() []byte {
	bht := AppendTLV(nil, 0x80, []byte{1, 1})
	bht = AppendTLV(bht, 0x87, []byte{1, 1})
	bht = AppendTLV(bht, 0x88, []byte{0, 8})
	return bht
}()

// ParseDG2 returns the face JPEG from DG2.
func ParseDG2(b []byte) ([]byte, error) {
	v, err := only(b, TagDG2)
	if err != nil {
		return nil, err
	}
	group, err := only(v, 0x7F61)
	if err != nil {
		return nil, err
	}
	count, rest, err := expect(group, 0x02)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(count, []byte{1}) {
		return nil, ErrContent.WithField("dg2")
	}
	bit, err := only(rest, 0x7F60)
	if err != nil {
		return nil, err
	}
	bht, rest, err := expect(bit, 0xA1)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(bht, dg2Header) {
		return nil, ErrContent.WithField("dg2")
	}
	img, err := only(rest, 0x5F2E)
	if err != nil {
		return nil, err
	}
	if !isJPEG(img) {
		return nil, ErrContent.WithField("dg2")
	}
	return img, nil
}

// isJPEG checks the start-of-image marker; decoding the image is the face
// matcher's job.
func isJPEG(b []byte) bool { return len(b) >= 4 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF }

// OIDs of DG14 (BSI TR-03110 / Doc 9303 Part 11 §9.2).
var (
	OIDPKECDH       = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 1, 2}
	OIDCAECDHAES128 = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 3, 2, 2}
)

type chipAuthPublicKeyInfo struct {
	Protocol asn1.ObjectIdentifier
	Key      asn1.RawValue // SubjectPublicKeyInfo
}

type chipAuthInfo struct {
	Protocol asn1.ObjectIdentifier
	Version  int
}

// securityInfos is a SET OF SecurityInfo; DER sorts the members by their
// encoding, and the shorter ChipAuthenticationInfo sorts first.
type securityInfos struct {
	Info chipAuthInfo
	Key  chipAuthPublicKeyInfo
}

// DG14 holds the chip-authentication public key as SecurityInfos, simplified
// to exactly two entries: ChipAuthenticationPublicKeyInfo (id-PK-ECDH, the
// key as a named-curve SubjectPublicKeyInfo rather than the explicit domain
// parameters of TR-03110) and ChipAuthenticationInfo (id-CA-ECDH-AES-CBC-
// CMAC-128, version 1).
func DG14(chipKey crypto.PublicKey) ([]byte, error) {
	spki, err := x509.MarshalPKIXPublicKey(chipKey)
	if err != nil {
		return nil, ErrContent.WithField("dg14").Wrap(err)
	}
	set, err := asn1.MarshalWithParams(securityInfos{
		Info: chipAuthInfo{Protocol: OIDCAECDHAES128, Version: 1},
		Key:  chipAuthPublicKeyInfo{Protocol: OIDPKECDH, Key: asn1.RawValue{FullBytes: spki}},
	}, "set")
	if err != nil {
		return nil, ErrContent.WithField("dg14").Wrap(err)
	}
	return AppendTLV(nil, TagDG14, set), nil
}

// ParseDG14 returns the chip-authentication public key from DG14.
func ParseDG14(b []byte) (crypto.PublicKey, error) {
	v, err := only(b, TagDG14)
	if err != nil {
		return nil, err
	}
	var si securityInfos
	rest, err := asn1.UnmarshalWithParams(v, &si, "set")
	if err != nil {
		return nil, ErrContent.WithField("dg14").Wrap(err)
	}
	if len(rest) != 0 {
		return nil, ErrTrailing.WithField("dg14")
	}
	if !si.Key.Protocol.Equal(OIDPKECDH) || !si.Info.Protocol.Equal(OIDCAECDHAES128) || si.Info.Version != 1 {
		return nil, ErrContent.WithField("dg14")
	}
	pub, err := x509.ParsePKIXPublicKey(si.Key.Key.FullBytes)
	if err != nil {
		return nil, ErrContent.WithField("dg14").Wrap(err)
	}
	return pub, nil
}

// DG15 holds the active-authentication public key as a SubjectPublicKeyInfo.
func DG15(aaKey crypto.PublicKey) ([]byte, error) {
	spki, err := x509.MarshalPKIXPublicKey(aaKey)
	if err != nil {
		return nil, ErrContent.WithField("dg15").Wrap(err)
	}
	return AppendTLV(nil, TagDG15, spki), nil
}

// ParseDG15 returns the active-authentication public key from DG15.
func ParseDG15(b []byte) (crypto.PublicKey, error) {
	v, err := only(b, TagDG15)
	if err != nil {
		return nil, err
	}
	// ParsePKIXPublicKey rejects trailing data itself.
	pub, err := x509.ParsePKIXPublicKey(v)
	if err != nil {
		return nil, ErrContent.WithField("dg15").Wrap(err)
	}
	return pub, nil
}
