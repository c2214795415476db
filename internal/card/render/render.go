// Package render draws the printed faces of the identity card (thẻ căn cước,
// Luật Căn cước 2023 Art. 18.2) as PNG images at ID-1 size and 300 dpi, and
// wraps them in a two-page PDF preview at the card's real size.
//
// The images are previews for the desk, never print masters: both faces
// carry a large "MẪU – DỮ LIỆU TỔNG HỢP" (sample – synthetic data)
// watermark, the national emblem is a plain drawn placeholder, and there is
// no seal, signature or security printing, so no image can pass as a card.
//
// Fonts: the Go fonts (golang.org/x/image/font/gofont) lack the Latin
// Extended Additional block (ạ ả ấ … ỹ, U+1EA0–U+1EF9) that Vietnamese
// needs, so text is set in DejaVu Sans Condensed (github.com/go-fonts/dejavu,
// free licence), which covers every Vietnamese letter; the MRZ, which is
// ASCII only, is set in Go Mono. A test checks that every rune drawn has a
// glyph.
package render

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"strings"
	"sync"

	"github.com/go-fonts/dejavu/dejavusanscondensed"
	"github.com/go-fonts/dejavu/dejavusanscondensedbold"
	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/f64"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"github.com/dancu-project/dancu/internal/card/lds"
	"github.com/dancu-project/dancu/internal/card/qr"
)

// Card size: ID-1 (ISO/IEC 7810) is 85.60 × 53.98 mm; at 300 dpi that is
// 1011.0 × 637.6 px, rounded up.
const (
	Width  = 1012
	Height = 638
	DPI    = 300
)

// Watermark is drawn across both faces so that no image passes as a card.
const (
	Watermark   = "MẪU – DỮ LIỆU TỔNG HỢP"
	WatermarkEN = "SAMPLE – SYNTHETIC DATA"
)

// Lifetime is printed as the expiry of a card issued at 58 or over.
const Lifetime = "Không thời hạn"

// Data is what the two faces print. Text fields are as printed (dates
// dd/mm/yyyy); FromChip fills it from a produced card.
type Data struct {
	PIN         string // 12 digits
	Name        string // full birth name, with diacritics
	Birth       string // dd/mm/yyyy
	Sex         string // "Nam" or "Nữ"
	Nationality string
	BirthPlace  string // nơi đăng ký khai sinh
	Residence   string // nơi cư trú
	Issue       string // dd/mm/yyyy
	Expiry      string // dd/mm/yyyy, or Lifetime
	Photo       []byte // JPEG from DG2; nil or undecodable → silhouette
	QR          qr.Payload
	MRZ         string // three lines of 30, joined by "\n"
}

// FromChip reads the printed fields from a card's chip dump (DG1 MRZ, DG2
// face, DG13 Vietnamese data) and its stored QR text, so the images show
// exactly what was personalised.
func FromChip(dgs map[int][]byte, qrText string) (Data, error) {
	var d Data
	dg13, err := lds.ParseDG13(dgs[13])
	if err != nil {
		return d, fmt.Errorf("render: DG13: %w", err)
	}
	if d.MRZ, err = lds.ParseDG1(dgs[1]); err != nil {
		return d, fmt.Errorf("render: DG1: %w", err)
	}
	if b := dgs[2]; b != nil { // no DG2 for a child under 6
		if d.Photo, err = lds.ParseDG2(b); err != nil {
			return d, fmt.Errorf("render: DG2: %w", err)
		}
	}
	if d.QR, err = qr.Parse(qrText); err != nil {
		return d, fmt.Errorf("render: QR: %w", err)
	}
	d.PIN, d.Name, d.Birth, d.Sex = dg13.PIN, dg13.FullName, dg13.Birth, dg13.Sex
	d.Nationality, d.BirthPlace, d.Residence = dg13.Nationality, dg13.BirthPlace, dg13.Address
	d.Issue, d.Expiry = dg13.Issue, dg13.Expiry
	return d, nil
}

// Colours of the card.
var (
	ink     = color.RGBA{0x1a, 0x1a, 0x2e, 0xff}
	label   = color.RGBA{0x4a, 0x55, 0x68, 0xff}
	red     = color.RGBA{0xc0, 0x1c, 0x1c, 0xff}
	yellow  = color.RGBA{0xff, 0xd7, 0x00, 0xff}
	paper   = color.RGBA{0xee, 0xf4, 0xf1, 0xff}
	paper2  = color.RGBA{0xdc, 0xe9, 0xf2, 0xff}
	guilloc = color.RGBA{0xb8, 0xd0, 0xd8, 0xff}
	stamp   = color.RGBA{0xd0, 0x10, 0x10, 0x60} // watermark, about 38 % opaque
)

// fonts are parsed once; a *sfnt.Font is safe for concurrent use, the faces
// made from it are not, so each drawing makes its own.
var fonts = sync.OnceValues(func() (*[3]*sfnt.Font, error) {
	var f [3]*sfnt.Font
	for i, ttf := range [][]byte{dejavusanscondensed.TTF, dejavusanscondensedbold.TTF, gomono.TTF} {
		var err error
		if f[i], err = opentype.Parse(ttf); err != nil {
			return nil, fmt.Errorf("render: parse font %d: %w", i, err)
		}
	}
	return &f, nil
})

const (
	regular = iota
	bold
	mono
)

// canvas is one face being drawn, with its faces cached by style and size.
type canvas struct {
	img   *image.RGBA
	fonts *[3]*sfnt.Font
	faces map[[2]int]font.Face
}

func newCanvas() (*canvas, error) {
	f, err := fonts()
	if err != nil {
		return nil, err
	}
	return &canvas{img: image.NewRGBA(image.Rect(0, 0, Width, Height)), fonts: f, faces: map[[2]int]font.Face{}}, nil
}

// face is style at size px (the canvas is 300 dpi, so 1 pt = 300/72 px).
func (c *canvas) face(style, px int) font.Face {
	k := [2]int{style, px}
	if f, ok := c.faces[k]; ok {
		return f
	}
	f, err := opentype.NewFace(c.fonts[style], &opentype.FaceOptions{Size: float64(px), DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		// NewFace fails only for a non-positive size, which no caller passes.
		panic(fmt.Sprintf("render: face %d/%d: %v", style, px, err))
	}
	c.faces[k] = f
	return f
}

func (c *canvas) close() {
	for _, f := range c.faces {
		f.Close()
	}
}

// text draws s with its baseline at (x, y) and returns its width.
func (c *canvas) text(s string, style, px, x, y int, col color.Color) int {
	d := font.Drawer{Dst: c.img, Src: image.NewUniform(col), Face: c.face(style, px), Dot: fixed.P(x, y)}
	d.DrawString(s)
	return (d.Dot.X - fixed.I(x)).Ceil()
}

func (c *canvas) width(s string, style, px int) int {
	return font.MeasureString(c.face(style, px), s).Ceil()
}

// centre draws s centred on x.
func (c *canvas) centre(s string, style, px, x, y int, col color.Color) {
	c.text(s, style, px, x-c.width(s, style, px)/2, y, col)
}

// fit is the largest size up to px, down to min, at which s fits in w.
func (c *canvas) fit(s string, style, px, min, w int) int {
	for px > min && c.width(s, style, px) > w {
		px--
	}
	return px
}

// wrap breaks s into at most lines lines of width w, shrinking the size
// from px down to min before cutting the last line with an ellipsis: an
// address must stay readable rather than run off the card.
func (c *canvas) wrap(s string, style, px, min, w, lines int) ([]string, int) {
	for ; ; px-- {
		out := c.breakLines(s, style, px, w)
		if len(out) <= lines {
			return out, px
		}
		if px <= min {
			out = out[:lines]
			last := out[lines-1]
			for last != "" && c.width(last+"…", style, px) > w {
				r := []rune(last)
				last = strings.TrimRight(string(r[:len(r)-1]), " ,")
			}
			out[lines-1] = last + "…"
			return out, px
		}
	}
}

func (c *canvas) breakLines(s string, style, px, w int) []string {
	var out []string
	line := ""
	for _, word := range strings.Fields(s) {
		try := word
		if line != "" {
			try = line + " " + word
		}
		if line != "" && c.width(try, style, px) > w {
			out = append(out, line)
			line = word
			continue
		}
		line = try
	}
	if line != "" || len(out) == 0 {
		out = append(out, line)
	}
	return out
}

// fill paints r with col.
func (c *canvas) fill(r image.Rectangle, col color.Color) {
	xdraw.Draw(c.img, r, image.NewUniform(col), image.Point{}, xdraw.Over)
}

// shape fills an anti-aliased polygon (or several, even-odd is not needed:
// callers pass simple shapes) given as closed point lists.
func (c *canvas) shape(col color.Color, polys ...[][2]float32) {
	z := vector.NewRasterizer(Width, Height)
	for _, p := range polys {
		z.MoveTo(p[0][0], p[0][1])
		for _, q := range p[1:] {
			z.LineTo(q[0], q[1])
		}
		z.ClosePath()
	}
	z.Draw(c.img, c.img.Bounds(), image.NewUniform(col), image.Point{})
}

// ellipse is a polygon approximating an ellipse centred on (x, y).
func ellipse(x, y, rx, ry float64) [][2]float32 {
	const n = 96
	p := make([][2]float32, n)
	for i := range p {
		a := 2 * math.Pi * float64(i) / n
		p[i] = [2]float32{float32(x + rx*math.Cos(a)), float32(y + ry*math.Sin(a))}
	}
	return p
}

// star is a five-pointed star centred on (x, y), one point up.
func star(x, y, r float64) [][2]float32 {
	p := make([][2]float32, 10)
	for i := range p {
		rr := r
		if i%2 == 1 {
			rr = r * 0.382 // the inner radius of a regular pentagram
		}
		a := -math.Pi/2 + math.Pi*float64(i)/5
		p[i] = [2]float32{float32(x + rr*math.Cos(a)), float32(y + rr*math.Sin(a))}
	}
	return p
}

// background is the pale card stock with a few guilloche-like waves: only
// decoration, no security feature is imitated.
func (c *canvas) background() {
	for y := 0; y < Height; y++ {
		t := float64(y) / Height
		col := color.RGBA{
			uint8(float64(paper.R)*(1-t) + float64(paper2.R)*t),
			uint8(float64(paper.G)*(1-t) + float64(paper2.G)*t),
			uint8(float64(paper.B)*(1-t) + float64(paper2.B)*t), 0xff}
		xdraw.Draw(c.img, image.Rect(0, y, Width, y+1), image.NewUniform(col), image.Point{}, xdraw.Src)
	}
	for k := 0; k < 7; k++ {
		var line [][2]float32
		base := 120 + float64(k)*70
		for x := 0; x <= Width; x += 4 {
			line = append(line, [2]float32{float32(x), float32(base + 18*math.Sin(float64(x)/70+float64(k)))})
		}
		// A 1.5 px band: the wave, then back along itself shifted down.
		band := append([][2]float32{}, line...)
		for i := len(line) - 1; i >= 0; i-- {
			band = append(band, [2]float32{line[i][0], line[i][1] + 1.5})
		}
		c.shape(guilloc, band)
	}
}

// emblem is a placeholder for the national emblem: a red disc with a yellow
// star and a yellow ring, drawn here, not a copy of the artwork.
func (c *canvas) emblem(x, y, r float64) {
	c.shape(yellow, ellipse(x, y, r, r))
	c.shape(red, ellipse(x, y, r*0.9, r*0.9))
	c.shape(yellow, star(x, y-r*0.05, r*0.55))
}

// watermark draws the sample marking centred on (tx, ty) and rotated by
// angle (radians, negative rises to the right); then any keep rectangles are
// restored from under it (the QR must stay scannable).
func (c *canvas) watermark(tx, ty, angle float64, keep ...image.Rectangle) {
	saved := make([]*image.RGBA, len(keep))
	for i, r := range keep {
		saved[i] = image.NewRGBA(r)
		xdraw.Draw(saved[i], r, c.img, r.Min, xdraw.Src)
	}
	// Set the text flat on a transparent layer, then rotate it onto the card.
	// Sized so the whole marking stays on the card along its diagonal.
	const px1, px2 = 68, 38
	w := c.width(Watermark, bold, px1)
	if w2 := c.width(WatermarkEN, bold, px2); w2 > w {
		w = w2
	}
	layer := image.NewRGBA(image.Rect(0, 0, w+20, px1+px2+40))
	flat := &canvas{img: layer, fonts: c.fonts, faces: c.faces}
	lw := layer.Bounds().Dx()
	flat.centre(Watermark, bold, px1, lw/2, px1, stamp)
	flat.centre(WatermarkEN, bold, px2, lw/2, px1+px2+20, stamp)
	// Rotate about the layer's centre, which lands on (tx, ty).
	cos, sin := math.Cos(angle), math.Sin(angle)
	cx, cy := float64(lw)/2, float64(layer.Bounds().Dy())/2
	m := f64.Aff3{cos, -sin, tx - cos*cx + sin*cy, sin, cos, ty - sin*cx - cos*cy}
	xdraw.BiLinear.Transform(c.img, m, layer, layer.Bounds(), xdraw.Over, nil)
	for i, r := range keep {
		xdraw.Draw(c.img, r, saved[i], r.Min, xdraw.Src)
	}
}

// photo draws the portrait into r, scaled to cover it, or a grey silhouette
// when there is none (children under 6) or it is not a decodable JPEG.
func (c *canvas) photo(jpg []byte, r image.Rectangle) {
	c.fill(r.Inset(-3), label)
	if jpg != nil {
		if img, err := jpeg.Decode(bytes.NewReader(jpg)); err == nil && !img.Bounds().Empty() {
			src := img.Bounds()
			// Crop the source to the frame's aspect ratio, centred.
			want := float64(r.Dx()) / float64(r.Dy())
			if have := float64(src.Dx()) / float64(src.Dy()); have > want {
				w := int(float64(src.Dy()) * want)
				src.Min.X += (src.Dx() - w) / 2
				src.Max.X = src.Min.X + w
			} else {
				h := int(float64(src.Dx()) / want)
				src.Min.Y += (src.Dy() - h) / 2
				src.Max.Y = src.Min.Y + h
			}
			xdraw.CatmullRom.Scale(c.img, r, img, src, xdraw.Src, nil)
			return
		}
	}
	c.fill(r, color.RGBA{0xd4, 0xd8, 0xdc, 0xff})
	sil := color.RGBA{0x9a, 0xa1, 0xa9, 0xff}
	x := float64(r.Min.X) + float64(r.Dx())/2
	h := float64(r.Dy())
	c.shape(sil, ellipse(x, float64(r.Min.Y)+h*0.36, h*0.16, h*0.2))
	// Shoulders: the top half of an ellipse, cut at the frame's bottom.
	sh := ellipse(x, float64(r.Max.Y)+h*0.05, h*0.36, h*0.3)
	var top [][2]float32
	for _, p := range sh {
		if p[1] <= float32(r.Max.Y) {
			top = append(top, p)
		}
	}
	c.shape(sil, top)
}

// field draws a bilingual label and its value below it; it returns the y
// of the next field.
func (c *canvas) field(vi, en, value string, x, y, w, px, lines int) int {
	lbl := vi + " / " + en
	c.text(lbl, regular, c.fit(lbl, regular, 19, 14, w), x, y, label)
	y += 8
	ls, size := c.wrap(value, bold, px, px*3/4, w, lines)
	for _, l := range ls {
		y += size + 4
		c.text(l, bold, size, x, y, ink)
	}
	return y + 30
}

func (c *canvas) png() ([]byte, error) {
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, c.img); err != nil {
		return nil, fmt.Errorf("render: encode PNG: %w", err)
	}
	return b.Bytes(), nil
}

// Front draws the face with the photo and the holder's data: emblem
// placeholder, state and card title, photo, PIN, name, date of birth, sex,
// nationality, place of birth registration, place of residence and expiry.
func Front(d Data) ([]byte, error) {
	c, err := newCanvas()
	if err != nil {
		return nil, err
	}
	defer c.close()
	c.background()
	c.emblem(112, 100, 70)

	// Header, centred in the band right of the emblem.
	hx := 200 + (Width-200)/2
	c.centre("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold, c.fit("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold, 32, 20, Width-240), hx, 52, ink)
	c.centre("SOCIALIST REPUBLIC OF VIET NAM", regular, 22, hx, 82, label)
	c.centre("CĂN CƯỚC", bold, 54, hx, 142, red)
	c.centre("IDENTITY CARD", bold, 24, hx, 172, red)

	// Photo on the left, 3:4, with the expiry below it.
	pr := image.Rect(44, 212, 44+222, 212+296)
	c.photo(d.Photo, pr)
	c.text("Có giá trị đến / Date of expiry", regular, c.fit("Có giá trị đến / Date of expiry", regular, 19, 14, pr.Dx()+10), pr.Min.X-3, pr.Max.Y+34, label)
	c.text(d.Expiry, bold, 26, pr.Min.X-3, pr.Max.Y+68, ink)

	x, w := 300, Width-300-36
	y := 212
	c.text("Số định danh cá nhân / Personal identification No.", regular, 19, x, y, label)
	c.text(d.PIN, bold, 44, x, y+50, red)
	y += 88
	// A long name wraps to a second line (pushing the rest down) rather
	// than being cut: the name is the one field that must be whole.
	y = c.field("Họ, chữ đệm và tên khai sinh", "Full name", strings.ToUpper(d.Name), x, y, w, 32, 2)
	// Date of birth, sex and nationality share one row.
	col := w / 3
	c.text("Ngày sinh / Date of birth", regular, c.fit("Ngày sinh / Date of birth", regular, 19, 14, col-10), x, y, label)
	c.text(d.Birth, bold, 28, x, y+38, ink)
	c.text("Giới tính / Sex", regular, 19, x+col+10, y, label)
	c.text(d.Sex, bold, 28, x+col+10, y+38, ink)
	c.text("Quốc tịch / Nationality", regular, c.fit("Quốc tịch / Nationality", regular, 19, 14, col-10), x+2*col, y, label)
	c.text(d.Nationality, bold, c.fit(d.Nationality, bold, 28, 18, col), x+2*col, y+38, ink)
	y += 38 + 38
	y = c.field("Nơi đăng ký khai sinh", "Place of birth", d.BirthPlace, x, y, w, 26, 1)
	c.field("Nơi cư trú", "Place of residence", d.Residence, x, y, w, 26, 2)

	// Along the diagonal, over the photo and the data.
	c.watermark(Width/2, Height/2+20, math.Atan2(-Height, Width)*0.8)
	return c.png()
}

// Back draws the reverse: the QR code, the issue date and issuer, and the
// three-line MRZ in a monospaced font.
func Back(d Data) ([]byte, error) {
	qrPNG, err := qr.Encode(d.QR)
	if err != nil {
		return nil, fmt.Errorf("render: QR: %w", err)
	}
	code, err := png.Decode(bytes.NewReader(qrPNG))
	if err != nil {
		return nil, fmt.Errorf("render: decode QR image: %w", err)
	}
	c, err := newCanvas()
	if err != nil {
		return nil, err
	}
	defer c.close()
	c.background()

	// The QR keeps its white quiet zone; nearest-neighbour scaling keeps
	// the modules sharp for scanners.
	qrRect := image.Rect(Width-44-270, 28, Width-44, 28+270)
	xdraw.NearestNeighbor.Scale(c.img, qrRect, code, code.Bounds(), xdraw.Src, nil)

	x := 52
	c.text("Ngày, tháng, năm cấp / Date of issue", regular, 22, x, 84, label)
	c.text(d.Issue, bold, 34, x, 128, ink)
	c.text("Cơ quan cấp / Issuing authority", regular, 22, x, 190, label)
	c.text("BỘ CÔNG AN", bold, 38, x, 236, red)
	c.text("MINISTRY OF PUBLIC SECURITY", regular, 22, x, 268, label)

	// MRZ band: white, the bottom third, 30 columns of Go Mono.
	band := image.Rect(0, Height-222, Width, Height)
	c.fill(band, color.RGBA{0xff, 0xff, 0xff, 0xff})
	lines := strings.Split(d.MRZ, "\n")
	px := c.fit(strings.Repeat("<", 30), mono, 52, 30, Width-80)
	lw := c.width(strings.Repeat("<", 30), mono, px)
	for i, l := range lines {
		c.text(l, mono, px, (Width-lw)/2, band.Min.Y+62+i*64, color.Black)
	}

	// Below the QR and over the MRZ, nearly level, so the whole marking
	// shows without crossing the code.
	c.watermark(Width/2-30, 384, -0.08, qrRect)
	return c.png()
}
