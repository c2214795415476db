package render

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/png"
	"strings"
	"unicode/utf16"
)

// Page size of the preview: the card's real size, 85.60 × 53.98 mm in
// PostScript points (1 pt = 1/72 in = 25.4/72 mm).
const (
	PageWidth  = 85.60 / 25.4 * 72 // ≈ 242.65 pt
	PageHeight = 53.98 / 25.4 * 72 // ≈ 153.01 pt
)

// PDF makes a two-page PDF 1.4 preview, front then back, each page the card
// at its real size. It is written by hand rather than with a PDF library:
// eight objects are all that is needed, each image a Flate-compressed RGB
// XObject (PDF 1.4 §4.8.4; PNG's own filtered stream cannot be used as is
// without predictor parameters, so the pixels are decoded and re-deflated).
func PDF(front, back []byte) ([]byte, error) {
	var pages [2][]byte
	var sizes [2]image.Point
	for i, p := range [][]byte{front, back} {
		img, err := png.Decode(bytes.NewReader(p))
		if err != nil {
			return nil, fmt.Errorf("render: PDF page %d: decode PNG: %w", i+1, err)
		}
		if pages[i], err = deflateRGB(img); err != nil {
			return nil, fmt.Errorf("render: PDF page %d: %w", i+1, err)
		}
		sizes[i] = img.Bounds().Size()
	}

	var b bytes.Buffer
	// The second line's high bytes tell transfer tools the file is binary.
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	var offsets []int
	obj := func(body ...[]byte) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n", len(offsets))
		for _, p := range body {
			b.Write(p)
		}
		b.WriteString("\nendobj\n")
	}
	stream := func(dict string, data []byte) []byte {
		return fmt.Appendf(nil, "<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
	}
	box := fmt.Sprintf("[0 0 %.2f %.2f]", PageWidth, PageHeight)
	draw := fmt.Appendf(nil, "q %.2f 0 0 %.2f 0 0 cm /Im Do Q", PageWidth, PageHeight)

	// 1 catalog, 2 page tree, then per page: page, image, contents.
	obj([]byte("<< /Type /Catalog /Pages 2 0 R >>"))
	obj([]byte("<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 2 >>"))
	for i := range pages {
		n := 3 + 3*i
		obj(fmt.Appendf(nil, "<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources << /XObject << /Im %d 0 R >> >> /Contents %d 0 R >>", box, n+1, n+2))
		obj(stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Interpolate true /Filter /FlateDecode",
			sizes[i].X, sizes[i].Y), pages[i]))
		obj(stream("", draw))
	}
	// The title says what the file is if it is seen out of context.
	obj([]byte("<< /Title " + pdfText(Watermark+" / "+WatermarkEN) + " /Producer (dancu) >>"))
	info := len(offsets)

	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o) // each entry exactly 20 bytes
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, info, xref)
	return b.Bytes(), nil
}

// deflateRGB writes the image's pixels as 8-bit RGB rows through zlib (the
// PDF FlateDecode filter is zlib, RFC 1950).
func deflateRGB(img image.Image) ([]byte, error) {
	r := img.Bounds()
	var b bytes.Buffer
	z, err := zlib.NewWriterLevel(&b, zlib.BestSpeed)
	if err != nil {
		return nil, fmt.Errorf("zlib: %w", err)
	}
	row := make([]byte, 3*r.Dx())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			// RGBA returns alpha-premultiplied 16-bit values; the card
			// images are opaque, so this is the colour itself.
			cr, cg, cb, _ := img.At(x, y).RGBA()
			i := 3 * (x - r.Min.X)
			row[i], row[i+1], row[i+2] = byte(cr>>8), byte(cg>>8), byte(cb>>8)
		}
		if _, err := z.Write(row); err != nil {
			return nil, fmt.Errorf("zlib: %w", err)
		}
	}
	if err := z.Close(); err != nil {
		return nil, fmt.Errorf("zlib: %w", err)
	}
	return b.Bytes(), nil
}

// pdfText is s as a PDF hex text string: UTF-16BE with a byte-order mark,
// which PDF 1.4 accepts for text strings (§3.8.1); hex avoids escaping and
// the end-of-line normalisation readers apply inside literal strings.
func pdfText(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteString(">")
	return b.String()
}
