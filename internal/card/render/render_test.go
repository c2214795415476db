package render

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"

	"github.com/dancu-project/dancu/internal/card/cardtest"
	"github.com/dancu-project/dancu/internal/card/issue"
	"github.com/dancu-project/dancu/internal/card/lds"
	"github.com/dancu-project/dancu/internal/card/mrz"
	"github.com/dancu-project/dancu/internal/card/qr"
	"github.com/dancu-project/dancu/internal/civildate"
)

// sample issues the cardtest card and reads it back as the service does.
func sample(t *testing.T, edit func(*issue.Request)) (Data, *issue.Card) {
	t.Helper()
	auth, _ := cardtest.Authority(t)
	req := cardtest.Request(t)
	if edit != nil {
		edit(&req)
	}
	c, err := issue.Issue(req, auth.Signer, auth.SignerKey())
	if err != nil {
		t.Fatal(err)
	}
	d, err := FromChip(c.DataGroups, c.QR)
	if err != nil {
		t.Fatal(err)
	}
	return d, c
}

// save writes an image for a person to look at when RENDER_OUT names a
// directory (go test ./internal/card/render -run TestFrontBack -args, with
// RENDER_OUT=/tmp/cards).
func save(t *testing.T, name string, b []byte) {
	if dir := os.Getenv("RENDER_OUT"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img
}

// vietnamese is every letter with a Vietnamese diacritic, upper and lower
// case, plus the strings the card always prints.
const vietnamese = "Nguyễn Thị Hoà, Đắk Lắk – " +
	"ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ" +
	"àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ" +
	Watermark + WatermarkEN + Lifetime + "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM CĂN CƯỚC BỘ CÔNG AN …"

// TestGlyphs checks that no rune falls back to the notdef box: the Go fonts
// fail this for ạ…ỹ (U+1EA0–U+1EF9), which is why DejaVu is used for text.
func TestGlyphs(t *testing.T) {
	f, err := fonts()
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, ft *sfnt.Font, s string) {
		face, err := opentype.NewFace(ft, &opentype.FaceOptions{Size: 24, DPI: 72, Hinting: font.HintingFull})
		if err != nil {
			t.Fatal(err)
		}
		defer face.Close()
		for _, r := range s {
			if r == ' ' {
				continue
			}
			_, adv, ok := face.GlyphBounds(r)
			if _, ok2 := face.GlyphAdvance(r); !ok || !ok2 || adv <= 0 {
				t.Errorf("%s has no glyph for %q (U+%04X)", name, r, r)
			}
		}
	}
	check("regular", f[regular], vietnamese)
	check("bold", f[bold], vietnamese)
	check("mono", f[mono], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")
}

func TestFrontBack(t *testing.T) {
	d, c := sample(t, nil)
	if d.Name != "Ưng Hoàng Hiệp" || d.Photo == nil || d.MRZ != c.MRZ || d.Expiry != "05/01/2033" {
		t.Fatalf("FromChip: %+v", d)
	}
	front, err := Front(d)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Back(d)
	if err != nil {
		t.Fatal(err)
	}
	save(t, "front.png", front)
	save(t, "back.png", back)
	for name, b := range map[string][]byte{"front": front, "back": back} {
		if got := decodePNG(t, b).Bounds().Size(); got != image.Pt(Width, Height) {
			t.Errorf("%s is %v, want %dx%d", name, got, Width, Height)
		}
	}
	// 1012 × 638 px at 300 dpi is the ID-1 card to within a pixel.
	if w, h := 85.60/25.4*DPI, 53.98/25.4*DPI; Width-w > 1 || Width-w < 0 || Height-h > 1 || Height-h < 0 {
		t.Errorf("size %dx%d is not ID-1 at %d dpi (%.1fx%.1f)", Width, Height, DPI, w, h)
	}

	// The QR on the back reads back, with another implementation, as the
	// stored payload.
	bmp, err := gozxing.NewBinaryBitmapFromImage(decodePNG(t, back))
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_CHARACTER_SET: "UTF-8", gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("QR on the back not readable: %v", err)
	}
	if res.GetText() != c.QR {
		t.Errorf("QR reads %q, want %q", res.GetText(), c.QR)
	}

	// Another name gives another front (and back: the QR and MRZ carry it).
	d2 := d
	d2.Name = "Nguyễn Thị Hoà"
	d2.QR.Name = d2.Name
	front2, err := Front(d2)
	if err != nil {
		t.Fatal(err)
	}
	back2, err := Back(d2)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(front, front2) || bytes.Equal(back, back2) {
		t.Error("a different name rendered the same image")
	}
	// Rendering is deterministic: same data, same bytes (no clock, no
	// randomness), so a cached or re-downloaded image is comparable.
	if again, _ := Front(d); !bytes.Equal(again, front) {
		t.Error("Front is not deterministic")
	}
}

// TestNoPhotoLifetimeLongText covers a card without photo (under 6), a
// lifetime card, an undecodable photo and texts too long for their fields.
func TestNoPhotoLifetimeLongText(t *testing.T) {
	d, _ := sample(t, func(r *issue.Request) { r.Face = nil })
	if d.Photo != nil {
		t.Fatal("photo without DG2")
	}
	d.Expiry = Lifetime
	d.Name = "Công Tôn Nữ Thị Hoàng Anh Nguyễn Phước Bảo Ngọc Thùy Dương"
	d.Residence = strings.Repeat("Thôn Đắk Lắk, Xã Ea Kao, ", 8)
	d.BirthPlace = strings.Repeat("Ủy ban nhân dân xã Ea Kao, ", 5)
	front, err := Front(d)
	if err != nil {
		t.Fatal(err)
	}
	save(t, "front-nophoto.png", front)
	d.Photo = []byte{0xFF, 0xD8, 0xFF, 0x00, 1, 2, 3}
	if _, err := Front(d); err != nil {
		t.Fatalf("bad JPEG must fall back to the silhouette: %v", err)
	}
	// Wrapping never goes past its line limit and ends with an ellipsis.
	c, err := newCanvas()
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	lines, _ := c.wrap(d.Residence, bold, 26, 19, 600, 2)
	if len(lines) != 2 || !strings.HasSuffix(lines[1], "…") || c.width(lines[1], bold, 19) > 600 {
		t.Errorf("wrap: %q", lines)
	}
}

func TestFromChipErrors(t *testing.T) {
	_, c := sample(t, nil)
	for name, edit := range map[string]func(map[int][]byte) (map[int][]byte, string){
		"no DG13": func(m map[int][]byte) (map[int][]byte, string) { delete(m, 13); return m, c.QR },
		"no DG1":  func(m map[int][]byte) (map[int][]byte, string) { delete(m, 1); return m, c.QR },
		"bad DG2": func(m map[int][]byte) (map[int][]byte, string) { m[2] = []byte{0x75, 0}; return m, c.QR },
		"bad QR":  func(m map[int][]byte) (map[int][]byte, string) { return m, "x|y" },
	} {
		dgs := map[int][]byte{}
		for k, v := range c.DataGroups {
			dgs[k] = v
		}
		if _, err := FromChip(edit(dgs)); err == nil || !strings.HasPrefix(err.Error(), "render: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestPDF(t *testing.T) {
	d, _ := sample(t, nil)
	front, err := Front(d)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Back(d)
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := PDF(front, back)
	if err != nil {
		t.Fatal(err)
	}
	save(t, "card.pdf", pdf)
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Fatalf("not a PDF 1.4 file: %q…", pdf[:20])
	}
	// Every xref entry points at its "N 0 obj".
	m := regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`).FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no startxref")
	}
	at, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(pdf[at:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %d does not point at the xref table", at)
	}
	rest := pdf[at+len("xref\n"):]
	head, rest, _ := bytes.Cut(rest, []byte("\n"))
	n, _ := strconv.Atoi(strings.Fields(string(head))[1])
	if n != 10 {
		t.Errorf("%d xref entries, want 10", n)
	}
	for i := 0; i < n; i++ {
		e := string(rest[20*i : 20*i+20])
		if i == 0 {
			if e != "0000000000 65535 f \n" {
				t.Errorf("entry 0: %q", e)
			}
			continue
		}
		off, err := strconv.Atoi(e[:10])
		if err != nil || e[10:] != " 00000 n \n" {
			t.Fatalf("entry %d: %q", i, e)
		}
		if want := strconv.Itoa(i) + " 0 obj\n"; !bytes.HasPrefix(pdf[off:], []byte(want)) {
			t.Errorf("entry %d points at %q", i, pdf[off:off+12])
		}
	}
	if !bytes.Contains(pdf, []byte("/MediaBox [0 0 242.65 153.01]")) || bytes.Count(pdf, []byte("/Type /Page ")) != 2 {
		t.Error("want two pages of 242.65 × 153.01 pt")
	}
	if _, err := PDF([]byte("not a png"), back); err == nil {
		t.Error("PDF accepted a page that is not a PNG")
	}

	// An independent reader opens it, when one is installed.
	ran := false
	dir := t.TempDir()
	file := filepath.Join(dir, "card.pdf")
	if err := os.WriteFile(file, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if qpdf, err := exec.LookPath("qpdf"); err == nil {
		ran = true
		if out, err := exec.Command(qpdf, "--check", file).CombinedOutput(); err != nil {
			t.Errorf("qpdf --check: %v\n%s", err, out)
		}
	}
	if pdftoppm, err := exec.LookPath("pdftoppm"); err == nil {
		ran = true
		// 300 dpi gives back the card's pixel size; -r is the resolution.
		out, err := exec.Command(pdftoppm, "-r", "300", "-png", "-f", "2", "-l", "2", file, filepath.Join(dir, "page")).CombinedOutput()
		if err != nil || len(out) != 0 {
			t.Fatalf("pdftoppm: %v\n%s", err, out)
		}
		pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
		if len(pages) != 1 {
			t.Fatalf("pdftoppm made %v", pages)
		}
		b, err := os.ReadFile(pages[0])
		if err != nil {
			t.Fatal(err)
		}
		if sz := decodePNG(t, b).Bounds().Size(); sz.X < Width-2 || sz.X > Width+2 || sz.Y < Height-2 || sz.Y > Height+2 {
			t.Errorf("page 2 at 300 dpi is %v, want about %dx%d", sz, Width, Height)
		}
	}
	if !ran {
		t.Skip("neither qpdf nor pdftoppm is installed (Debian: apt-get install qpdf poppler-utils); structure checked only")
	}
}

func BenchmarkFront(b *testing.B) {
	auth, _ := cardtest.Authority(b)
	c, err := issue.Issue(cardtest.Request(b), auth.Signer, auth.SignerKey())
	if err != nil {
		b.Fatal(err)
	}
	d, err := FromChip(c.DataGroups, c.QR)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Front(d); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPrintedQRAndChipAgree reads, for the same person, the printed card (the
// fields the faces draw and the QR decoded from the rendered back), the QR
// payload, the chip's DG13 and its DG1 MRZ, and compares every field they
// share: PIN, name, date of birth (partial ones too), sex, residence, issue
// and expiry dates, place of birth registration, nationality.
func TestPrintedQRAndChipAgree(t *testing.T) {
	for name, edit := range map[string]func(*issue.Request){
		"full dates":     nil,
		"year of birth":  func(r *issue.Request) { r.Birth = civildate.Date{Year: 1993} },
		"month of birth": func(r *issue.Request) { r.Birth = civildate.Date{Year: 1993, Month: 7} },
		"lifetime, no face": func(r *issue.Request) {
			r.PIN, r.Birth, r.Face = "001060000123", civildate.Date{Year: 1960, Month: 3, Day: 1}, nil
		},
		"apostrophe": func(r *issue.Request) { r.Name, r.Religion = "Siu H'Mai", "" },
	} {
		t.Run(name, func(t *testing.T) {
			d, c := sample(t, edit)
			back, err := Back(d)
			if err != nil {
				t.Fatal(err)
			}
			bmp, err := gozxing.NewBinaryBitmapFromImage(decodePNG(t, back))
			if err != nil {
				t.Fatal(err)
			}
			res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{
				gozxing.DecodeHintType_CHARACTER_SET: "UTF-8", gozxing.DecodeHintType_TRY_HARDER: true})
			if err != nil {
				t.Fatalf("printed QR not readable: %v", err)
			}
			q, err := qr.Parse(res.GetText())
			if err != nil {
				t.Fatalf("printed QR %q: %v", res.GetText(), err)
			}
			g, err := lds.ParseDG13(c.DataGroups[13])
			if err != nil {
				t.Fatal(err)
			}
			mrzText, err := lds.ParseDG1(c.DataGroups[1])
			if err != nil {
				t.Fatal(err)
			}
			m, err := mrz.Parse(mrzText)
			if err != nil {
				t.Fatalf("chip MRZ: %v", err)
			}
			if d.MRZ != mrzText || d.MRZ != c.MRZ {
				t.Errorf("printed MRZ %q, chip %q", d.MRZ, mrzText)
			}
			printedBirth, err := civildate.Parse(d.Birth)
			if err != nil {
				t.Fatalf("printed birth %q: %v", d.Birth, err)
			}
			printedIssue, _ := civildate.Parse(d.Issue)
			sexMRZ := map[string]byte{"Nam": 'M', "Nữ": 'F'}[d.Sex]
			translit, _ := mrz.Transliterate(d.Name)
			for field, v := range map[string][]string{
				"PIN":        {d.PIN, q.PIN.String(), g.PIN, m.PIN.String()},
				"name":       {d.Name, q.Name, g.FullName},
				"MRZ name":   {strings.TrimRight(strings.ReplaceAll(strings.Replace(translit, "<<", " ", 1), "<", " "), " "), m.Name},
				"birth":      {printedBirth.String(), q.Birth.String(), m.Birth.String()},
				"birth text": {d.Birth, g.Birth},
				"sex":        {d.Sex, g.Sex, map[byte]string{'M': "Nam", 'F': "Nữ"}[q.Sex], map[byte]string{'M': "Nam", 'F': "Nữ"}[m.Sex]},
				"sex code":   {string(sexMRZ), string(m.Sex)},
				"residence":  {d.Residence, q.Address, g.Address},
				"issue":      {printedIssue.String(), q.Issue.String()},
				"issue text": {d.Issue, g.Issue},
				"expiry":     {d.Expiry, g.Expiry, map[bool]string{true: Lifetime, false: m.Expiry.Display()}[m.Expiry.IsZero()]},
				"birthplace": {d.BirthPlace, g.BirthPlace},
				"national":   {d.Nationality, g.Nationality},
			} {
				for _, x := range v[1:] {
					if x != v[0] {
						t.Errorf("%s differs: %q", field, v)
						break
					}
				}
			}
			if res.GetText() != c.QR {
				t.Errorf("printed QR %q, stored %q", res.GetText(), c.QR)
			}
		})
	}
}
