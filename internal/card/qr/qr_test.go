package qr

import (
	"bytes"
	"errors"
	"image"
	_ "image/png"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/pin"
)

// sample is the example payload of DOMAIN.md §2.
const sample = "001090123456|012345678|NGUYEN VAN A|01011990|Nam|Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh|15042021"

func samplePayload() Payload {
	return Payload{
		PIN: "001090123456", OldID: "012345678", Name: "NGUYEN VAN A",
		Birth: civildate.Date{Year: 1990, Month: 1, Day: 1}, Sex: pin.Male,
		Address: "Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh",
		Issue:   civildate.Date{Year: 2021, Month: 4, Day: 15},
	}
}

func TestParse(t *testing.T) {
	want := samplePayload()
	noOld := want
	noOld.OldID = ""
	female := want
	female.Sex = pin.Female
	tests := []struct {
		name string
		in   string
		want Payload
		err  error
	}{
		{"sample", sample, want, nil},
		{"trailing newline and spaces", " 001090123456 | 012345678 |NGUYEN VAN A |01011990| Nam |Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh|15042021\r\n", want, nil},
		{"empty old id", "001090123456||NGUYEN VAN A|01011990|Nam|Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh|15042021", noOld, nil},
		{"six fields", "001090123456|NGUYEN VAN A|01011990|Nam|Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh|15042021", noOld, nil},
		{"female with diacritics", "001090123456|012345678|NGUYEN VAN A|01011990|Nữ|Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh|15042021", female, nil},
		{"empty", "", Payload{}, ErrFieldCount},
		{"five fields", "a|b|c|d|e", Payload{}, ErrFieldCount},
		{"eight fields", sample + "|x", Payload{}, ErrFieldCount},
		{"bad pin", "001090123450x|012345678|A|01011990|Nam|X|15042021", Payload{}, ErrPIN},
		{"bad province", "999090123456|012345678|A|01011990|Nam|X|15042021", Payload{}, ErrPIN},
		{"old id 8 digits", "001090123456|01234567|A|01011990|Nam|X|15042021", Payload{}, ErrOldID},
		{"empty name", "001090123456|012345678| |01011990|Nam|X|15042021", Payload{}, ErrName},
		{"birth 31 Feb", "001090123456|012345678|A|31021990|Nam|X|15042021", Payload{}, ErrBirth},
		{"birth iso", "001090123456|012345678|A|1990-01-01|Nam|X|15042021", Payload{}, ErrBirth},
		{"sex unknown", "001090123456|012345678|A|01011990|Khác|X|15042021", Payload{}, ErrSex},
		{"empty address", "001090123456|012345678|A|01011990|Nam||15042021", Payload{}, ErrAddress},
		{"issue short", "001090123456|012345678|A|01011990|Nam|X|1504202", Payload{}, ErrIssue},
		{"not utf8", "001090123456|012345678|\xff|01011990|Nam|X|15042021", Payload{}, ErrEncoding},
		{"too long", string(bytes.Repeat([]byte("a"), MaxLen+1)), Payload{}, ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Parse error = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got != tt.want {
				t.Errorf("Parse = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFormatRoundTrip(t *testing.T) {
	s, err := Format(samplePayload())
	if err != nil {
		t.Fatal(err)
	}
	if s != sample {
		t.Errorf("Format = %q, want %q", s, sample)
	}
	bad := samplePayload()
	bad.Address = "A|B"
	if _, err := Format(bad); !errors.Is(err, ErrSeparator) {
		t.Errorf("Format with | = %v, want ErrSeparator", err)
	}
	bad = samplePayload()
	bad.Issue = civildate.Date{Year: 2021, Month: 4}
	if _, err := Format(bad); !errors.Is(err, ErrIssue) {
		t.Errorf("Format with partial issue date = %v, want ErrIssue", err)
	}
	if _, err := Encode(bad); err == nil {
		t.Error("Encode accepted a partial issue date")
	}
}

// TestPartialBirth: a date of birth with an unknown day or month keeps eight
// digits, "00" for what is unknown, and reads back as the same partial date;
// "00" is refused in the issue date, which is always known.
func TestPartialBirth(t *testing.T) {
	for _, tt := range []struct {
		birth civildate.Date
		field string
	}{
		{civildate.Date{Year: 1948}, "00001948"},
		{civildate.Date{Year: 1952, Month: 3}, "00031952"},
		{civildate.Date{Year: 1990, Month: 1, Day: 1}, "01011990"},
	} {
		p := samplePayload()
		p.Birth = tt.birth
		s, err := Format(p)
		if err != nil {
			t.Fatalf("Format(%v): %v", tt.birth, err)
		}
		if f := strings.Split(s, "|")[3]; f != tt.field {
			t.Errorf("birth %v written %q, want %q", tt.birth, f, tt.field)
		}
		back, err := Parse(s)
		if err != nil || back != p {
			t.Errorf("Parse(Format) = %+v, %v; want %+v", back, err, p)
		}
	}
	for _, bad := range []string{"00131952", "00001700", "01001990"} {
		if _, err := Parse("001090123456||A|" + bad + "|Nam|X|15042021"); !errors.Is(err, ErrBirth) {
			t.Errorf("birth %q: %v, want ErrBirth", bad, err)
		}
	}
	if _, err := Parse("001090123456||A|01011990|Nam|X|00042021"); !errors.Is(err, ErrIssue) {
		t.Errorf("issue 00042021: %v, want ErrIssue", err)
	}
}

// TestEncodeDecodeInterop renders the QR with skip2/go-qrcode and reads it
// back with a different implementation (gozxing, a port of ZXing), so the
// image is not only self-consistent.
func TestEncodeDecodeInterop(t *testing.T) {
	p := samplePayload()
	p.Name = "Nguyễn Thị Đào"
	p.Sex = pin.Female
	png, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatalf("decode PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	hints := map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_CHARACTER_SET: "UTF-8"}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		t.Fatalf("gozxing could not read the QR: %v", err)
	}
	got, err := Parse(res.GetText())
	if err != nil {
		t.Fatalf("Parse(%q): %v", res.GetText(), err)
	}
	if got != p {
		t.Errorf("round trip = %+v, want %+v", got, p)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("001090123456|NGUYEN VAN A|01011990|Nam|X|15042021")
	f.Add("||||||")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		// Whatever parses must format and parse back to the same payload.
		out, err := Format(p)
		if err != nil {
			t.Fatalf("Format(Parse(%q)): %v", s, err)
		}
		q, err := Parse(out)
		if err != nil || q != p {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", s, q, err, p)
		}
	})
}
