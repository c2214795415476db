package lds

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"reflect"
	"testing"
)

const mrzSample = "IDVNM0930470641001093047064<<2\n9301054M3301052VNM<<<<<<<<<<<8\nUNG<<HOANG<HIEP<<<<<<<<<<<<<<<"

// jpeg is the smallest byte string the DG2 encoder accepts as a JPEG.
var jpeg = []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0, 0xFF, 0xD9}

func sampleDG13() DG13Data {
	return DG13Data{
		PIN: "001093047064", FullName: "Ưng Hoàng Hiệp", Birth: "05/01/1993", Sex: "Nam",
		Nationality: "Việt Nam", Ethnicity: "Kinh", Religion: "Không", BirthPlace: "Hà Nội",
		Address: "Số 1 phố Tràng Tiền, Hoàn Kiếm, Hà Nội", Features: "Nốt ruồi C:2cm trên trước mép trái",
		Issue: "10/07/2024", Expiry: "05/01/2033", Father: "Ưng Văn A", Mother: "Nguyễn Thị B",
		Spouse: "Trần Thị C", OldID: "012345678",
	}
}

func TestTLV(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 255, 256, 65535, 65536} {
		b := AppendTLV(nil, 0x5F2E, bytes.Repeat([]byte{7}, n))
		tag, v, rest, err := ReadTLV(b)
		if err != nil || tag != 0x5F2E || len(v) != n || len(rest) != 0 {
			t.Errorf("len %d: tag %x len %d rest %d err %v", n, tag, len(v), len(rest), err)
		}
	}
	bad := []struct {
		name string
		in   []byte
		err  error
	}{
		{"empty", nil, ErrTruncated},
		{"tag only", []byte{0x61}, ErrTruncated},
		{"two-byte tag without length", []byte{0x5F, 0x1F}, ErrTruncated},
		{"three-byte tag", []byte{0x5F, 0x9F, 0x01, 0x00}, ErrTag},
		{"indefinite length", []byte{0x61, 0x80, 0, 0}, ErrLength},
		{"length of length 4", []byte{0x61, 0x84, 0, 0, 0, 1, 0}, ErrLength},
		{"non-minimal 81", []byte{0x61, 0x81, 0x05, 1, 2, 3, 4, 5}, ErrLength},
		{"non-minimal 82", []byte{0x61, 0x82, 0x00, 0x90}, ErrLength},
		{"over cap", []byte{0x61, 0x83, 0x20, 0, 0}, ErrLength},
		{"value truncated", []byte{0x61, 0x05, 1, 2}, ErrTruncated},
		{"length bytes truncated", []byte{0x61, 0x82, 0x01}, ErrTruncated},
	}
	for _, tt := range bad {
		if _, _, _, err := ReadTLV(tt.in); !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
	}
}

func TestDG1(t *testing.T) {
	b, err := DG1(mrzSample)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 0x61 || b[1] != 0x5D || b[2] != 0x5F || b[3] != 0x1F || b[4] != 0x5A {
		t.Errorf("DG1 header = % X", b[:5])
	}
	got, err := ParseDG1(b)
	if err != nil || got != mrzSample {
		t.Errorf("ParseDG1 = %q, %v", got, err)
	}
	if _, err := DG1("short"); err == nil {
		t.Error("DG1 accepted a short MRZ")
	}
	checkRejects(t, b, func(b []byte) error { _, err := ParseDG1(b); return err })
}

func TestDG2(t *testing.T) {
	b, err := DG2(jpeg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseDG2(b)
	if err != nil || !bytes.Equal(got, jpeg) {
		t.Errorf("ParseDG2 = % X, %v", got, err)
	}
	if _, err := DG2([]byte("GIF89a")); err == nil {
		t.Error("DG2 accepted a non-JPEG")
	}
	checkRejects(t, b, func(b []byte) error { _, err := ParseDG2(b); return err })
}

func TestDG13(t *testing.T) {
	d := sampleDG13()
	b, err := DG13(d)
	if err != nil {
		t.Fatal(err)
	}
	// Field 1 starts with 30 LL 02 01 01 0C, the form the parsers look for.
	if !bytes.Contains(b, []byte{0x30, 0x11, 0x02, 0x01, 0x01, 0x0C, 0x0C}) {
		t.Errorf("DG13 has no 30 11 02 01 01 0C 0C record for the PIN: % X", b[:12])
	}
	got, err := ParseDG13(b)
	if err != nil || !reflect.DeepEqual(got, d) {
		t.Errorf("ParseDG13 = %+v, %v", got, err)
	}
	d.Other = map[int][]string{15: {"x"}, 20: {"a", "b"}}
	b2, err := DG13(d)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ParseDG13(b2); err != nil || !reflect.DeepEqual(got, d) {
		t.Errorf("ParseDG13 with other fields = %+v, %v", got, err)
	}
	for _, bad := range []DG13Data{{}, {PIN: "1", Other: map[int][]string{2: {"clash"}}}, {PIN: "1", Other: map[int][]string{200: {"x"}}}, {PIN: "\xff"}} {
		if _, err := DG13(bad); err == nil {
			t.Errorf("DG13(%+v) accepted bad data", bad)
		}
	}
	rec := func(n byte, v string) []byte {
		return AppendTLV(nil, 0x30, AppendTLV(AppendTLV(nil, 0x02, []byte{n}), 0x0C, []byte(v)))
	}
	for name, body := range map[string][]byte{
		"no PIN":         rec(2, "A"),
		"repeat":         append(rec(1, "1"), rec(1, "1")...),
		"descending":     append(rec(2, "A"), rec(1, "1")...),
		"field 0":        rec(0, "x"),
		"bad utf8":       rec(1, "\xff"),
		"empty value":    append(rec(1, "1"), rec(2, "")...),
		"13 one value":   append(rec(1, "1"), rec(13, "A")...),
		"not utf8string": AppendTLV(nil, 0x30, AppendTLV(AppendTLV(nil, 0x02, []byte{1}), 0x04, []byte("1"))),
	} {
		if _, err := ParseDG13(AppendTLV(nil, TagDG13, body)); err == nil {
			t.Errorf("%s: ParseDG13 accepted it", name)
		}
	}
	checkRejects(t, b, func(b []byte) error { _, err := ParseDG13(b); return err })
}

func TestDG14DG15(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b14, err := DG14(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParseDG14(b14)
	if err != nil || !k.PublicKey.Equal(pub) {
		t.Errorf("ParseDG14 = %v, %v", pub, err)
	}
	checkRejects(t, b14, func(b []byte) error { _, err := ParseDG14(b); return err })
	b15, err := DG15(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err = ParseDG15(b15)
	if err != nil || !k.PublicKey.Equal(pub) {
		t.Errorf("ParseDG15 = %v, %v", pub, err)
	}
	checkRejects(t, b15, func(b []byte) error { _, err := ParseDG15(b); return err })
	if _, err := DG15("not a key"); err == nil {
		t.Error("DG15 accepted a non-key")
	}
}

// checkRejects feeds a decoder a valid encoding damaged in the ways the
// decoders must catch: other tag, every truncation, trailing garbage.
func checkRejects(t *testing.T, good []byte, parse func([]byte) error) {
	t.Helper()
	if err := parse(good); err != nil {
		t.Fatalf("good input rejected: %v", err)
	}
	wrong := append([]byte{0x42}, good[1:]...)
	if parse(wrong) == nil {
		t.Error("wrong outer tag accepted")
	}
	for n := 0; n < len(good); n++ {
		if parse(good[:n]) == nil {
			t.Errorf("truncation to %d bytes accepted", n)
		}
	}
	if parse(append(append([]byte{}, good...), 0)) == nil {
		t.Error("trailing byte accepted")
	}
}

func fuzzSeeds(f *testing.F, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
}

func FuzzParseDG1(f *testing.F) {
	b, _ := DG1(mrzSample)
	fuzzSeeds(f, b)
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseDG1(b); err == nil {
			if again, err := DG1(m); err != nil || !bytes.Equal(again, b) {
				t.Fatalf("re-encoding differs: %v", err)
			}
		}
	})
}

func FuzzParseDG2(f *testing.F) {
	b, _ := DG2(jpeg)
	fuzzSeeds(f, b)
	f.Fuzz(func(t *testing.T, b []byte) {
		if img, err := ParseDG2(b); err == nil {
			if again, err := DG2(img); err != nil || !bytes.Equal(again, b) {
				t.Fatalf("re-encoding differs: %v", err)
			}
		}
	})
}

func FuzzParseDG13(f *testing.F) {
	b, _ := DG13(sampleDG13())
	fuzzSeeds(f, b)
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := ParseDG13(b); err == nil {
			if _, err := DG13(d); err != nil {
				t.Fatalf("re-encoding failed: %v", err)
			}
		}
	})
}

func FuzzParseDG14(f *testing.F) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b, _ := DG14(&k.PublicKey)
	fuzzSeeds(f, b)
	f.Fuzz(func(t *testing.T, b []byte) {
		key, err := ParseDG14(b)
		if err != nil {
			return
		}
		// Round trip: the key read back encodes to a data group that reads
		// as the same key.
		again, err := DG14(key)
		if err != nil {
			t.Fatalf("parsed key does not encode: %v", err)
		}
		key2, err := ParseDG14(again)
		if err != nil || !reflect.DeepEqual(key, key2) {
			t.Fatalf("round trip changed the key: %v", err)
		}
	})
}

func FuzzParseDG15(f *testing.F) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b, _ := DG15(&k.PublicKey)
	fuzzSeeds(f, b)
	f.Fuzz(func(t *testing.T, b []byte) {
		key, err := ParseDG15(b)
		if err != nil {
			return
		}
		// Round trip: the key read back encodes to a data group that reads
		// as the same key.
		again, err := DG15(key)
		if err != nil {
			t.Fatalf("parsed key does not encode: %v", err)
		}
		key2, err := ParseDG15(again)
		if err != nil || !reflect.DeepEqual(key, key2) {
			t.Fatalf("round trip changed the key: %v", err)
		}
	})
}
