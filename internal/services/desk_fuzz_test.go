package services

import (
	"bytes"
	"testing"
)

// FuzzSniff: the content check the desk's digitization (and online
// uploads) relies on never panics, and what it accepts is one of the three
// kinds, within the size cap, starting with that kind's signature, and for
// a PDF without the names that run something.
func FuzzSniff(f *testing.F) {
	for _, s := range [][]byte{
		[]byte("%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"),
		[]byte("%PDF-1.4\n<< /OpenAction << /S /J#61vaScript >> >>\n%%EOF"),
		{0xFF, 0xD8, 0xFF, 0xE0},
		[]byte("\x89PNG\r\n\x1a\n"),
		[]byte("MZ"),
		nil,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		mt, err := Sniff(b)
		if err != nil {
			if mt != "" {
				t.Fatalf("refused with a type %q", mt)
			}
			return
		}
		if len(b) == 0 || len(b) > MaxUpload {
			t.Fatalf("accepted %d bytes", len(b))
		}
		switch mt {
		case "application/pdf":
			if !bytes.HasPrefix(b, []byte("%PDF-")) || activePDF.Match(b) {
				t.Fatalf("accepted a PDF %q", b)
			}
		case "image/jpeg":
			if !bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) {
				t.Fatal("accepted a JPEG without its signature")
			}
		case "image/png":
			if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
				t.Fatal("accepted a PNG without its signature")
			}
		default:
			t.Fatalf("accepted type %q", mt)
		}
	})
}
