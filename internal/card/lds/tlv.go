// Package lds encodes and decodes the data groups of the chip's Logical Data
// Structure (ICAO Doc 9303 Part 10) as BER-TLV: DG1 (MRZ), DG2 (face), DG13
// (Vietnamese data), DG14 (chip authentication key) and DG15 (active
// authentication key).
//
// Encoders write the definite, minimal (DER) form; decoders accept only that
// form, so a data group has exactly one encoding and its hash in the SOD is
// unambiguous. Decoders never panic: wrong tags, lengths beyond the input or
// MaxLen, truncation and trailing bytes are errors.
package lds

import (
	"github.com/dancu-project/dancu/internal/fault"
)

// MaxLen caps one TLV value. The largest data group, DG2, holds one face
// JPEG of a few tens of kilobytes; a chip has at most a few hundred KB.
const MaxLen = 1 << 20

// Tags of the data group files (Doc 9303 Part 10 §4.6.1) and of EF.SOD.
const (
	TagDG1  = 0x61
	TagDG2  = 0x75
	TagDG13 = 0x6D
	TagDG14 = 0x6E
	TagDG15 = 0x6F
	TagSOD  = 0x77
)

// Faults returned by the decoders. Their codes are part of the API.
var (
	ErrTruncated = fault.New(fault.Invalid, "card.lds.truncated", "Dữ liệu chip bị cắt cụt.", "The chip data is truncated.")
	ErrTag       = fault.New(fault.Invalid, "card.lds.tag", "Thẻ (tag) dữ liệu chip không đúng.", "A chip data tag is wrong.")
	ErrLength    = fault.New(fault.Invalid, "card.lds.length", "Độ dài dữ liệu chip không hợp lệ hoặc quá lớn.", "A chip data length is not valid or too large.")
	ErrTrailing  = fault.New(fault.Invalid, "card.lds.trailing", "Có dữ liệu thừa sau nhóm dữ liệu.", "There are extra bytes after the data group.")
	ErrContent   = fault.New(fault.Invalid, "card.lds.content", "Nội dung nhóm dữ liệu không hợp lệ.", "The content of a data group is not valid.")
)

// AppendTLV appends tag, the minimal length and val to dst. Tags of one or two
// bytes are written as given (0x5F1F is two bytes).
func AppendTLV(dst []byte, tag int, val []byte) []byte {
	if tag > 0xFF {
		dst = append(dst, byte(tag>>8))
	}
	dst = append(dst, byte(tag))
	n := len(val)
	switch {
	case n < 0x80:
		dst = append(dst, byte(n))
	case n <= 0xFF:
		dst = append(dst, 0x81, byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 0x82, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, val...)
}

// ReadTLV reads one TLV from b and returns its tag, value and the bytes after
// it. Tags have one or two bytes; lengths are definite, minimal and at most
// MaxLen.
func ReadTLV(b []byte) (tag int, val, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, ErrTruncated
	}
	tag = int(b[0])
	i := 1
	if b[0]&0x1F == 0x1F {
		// Multi-byte tag: one more byte is all ICAO uses.
		if b[1]&0x80 != 0 {
			return 0, nil, nil, ErrTag
		}
		tag = tag<<8 | int(b[1])
		i = 2
	}
	if i >= len(b) {
		return 0, nil, nil, ErrTruncated
	}
	n := int(b[i])
	i++
	if n >= 0x80 {
		k := n & 0x7F
		if k == 0 || k > 3 {
			return 0, nil, nil, ErrLength // indefinite or absurd length
		}
		if i+k > len(b) {
			return 0, nil, nil, ErrTruncated
		}
		n = 0
		for j := 0; j < k; j++ {
			n = n<<8 | int(b[i+j])
		}
		i += k
		// Minimal form only: the length could not have been shorter.
		if n < 0x80 || (k > 1 && n>>(8*(k-1)) == 0) {
			return 0, nil, nil, ErrLength
		}
	}
	if n > MaxLen {
		return 0, nil, nil, ErrLength
	}
	if n > len(b)-i {
		return 0, nil, nil, ErrTruncated
	}
	return tag, b[i : i+n], b[i+n:], nil
}

// expect reads one TLV with the given tag.
func expect(b []byte, tag int) (val, rest []byte, err error) {
	t, v, r, err := ReadTLV(b)
	if err != nil {
		return nil, nil, err
	}
	if t != tag {
		return nil, nil, ErrTag
	}
	return v, r, nil
}

// only reads a TLV with the given tag that must fill b.
func only(b []byte, tag int) ([]byte, error) {
	v, r, err := expect(b, tag)
	if err != nil {
		return nil, err
	}
	if len(r) != 0 {
		return nil, ErrTrailing
	}
	return v, nil
}

// Tag returns the tag of the data group in b, or an error if b does not start
// with a complete TLV.
func Tag(b []byte) (int, error) {
	t, _, _, err := ReadTLV(b)
	return t, err
}
