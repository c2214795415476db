// Package result lays out the results of administrative procedures (kết quả
// giải quyết thủ tục hành chính) as PDF from templates: the confirmation of
// residence information (xác nhận thông tin về cư trú), the birth
// certificate extract (trích lục khai sinh) and a generic result. Fields are
// data; the template says which it needs and how each is labelled.
//
// Every page carries a QR code with the public verification address of the
// result and its verification code, so anyone can check it without
// signing in. Text is set in DejaVu Sans (github.com/go-fonts/dejavu, the
// font of the card preview), which covers every Vietnamese letter, through
// codeberg.org/go-pdf/fpdf, which embeds a subset of it.
//
// Like the card preview, every page says the data are synthetic: the
// platform never holds real personal data.
package result

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/go-fonts/dejavu/dejavusans"
	"github.com/go-fonts/dejavu/dejavusansbold"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
)

// Kind names a template.
type Kind string

// The templates shipped.
const (
	Residence    Kind = "residence_confirmation" // xác nhận thông tin về cư trú (tạm trú)
	BirthExtract Kind = "birth_extract"          // trích lục khai sinh
	Generic      Kind = "procedure_result"       // kết quả giải quyết thủ tục
)

// FieldSpec is one field a template prints.
type FieldSpec struct {
	Key      string
	Label    string // Vietnamese, as printed
	Required bool
}

// Template is a result's layout: its title and fields in print order.
type Template struct {
	Kind    Kind
	Title   string // Vietnamese, printed in capitals
	TitleEN string
	Fields  []FieldSpec
}

// Templates are the shipped templates by kind.
func Templates() map[Kind]Template {
	return map[Kind]Template{
		Residence: {Kind: Residence, Title: "Xác nhận thông tin về cư trú", TitleEN: "Confirmation of residence information",
			Fields: []FieldSpec{
				{"name", "Họ, chữ đệm và tên", true},
				{"birth", "Ngày, tháng, năm sinh", true},
				{"sex", "Giới tính", true},
				{"pin", "Số định danh cá nhân", true},
				{"permanent", "Nơi thường trú", false},
				{"temporary", "Nơi tạm trú", true},
				{"from", "Thời hạn tạm trú từ ngày", true},
				{"to", "Đến ngày", true},
				{"head", "Họ, chữ đệm và tên chủ hộ", false},
				{"relation", "Quan hệ với chủ hộ", false},
			}},
		BirthExtract: {Kind: BirthExtract, Title: "Trích lục khai sinh", TitleEN: "Birth certificate extract",
			Fields: []FieldSpec{
				{"name", "Họ, chữ đệm, tên", true},
				{"birth", "Ngày, tháng, năm sinh", true},
				{"sex", "Giới tính", true},
				{"ethnicity", "Dân tộc", true},
				{"nationality", "Quốc tịch", true},
				{"birthplace", "Nơi sinh", true},
				{"hometown", "Quê quán", false},
				{"pin", "Số định danh cá nhân", true},
				{"mother", "Họ, chữ đệm, tên người mẹ", false},
				{"father", "Họ, chữ đệm, tên người cha", false},
				{"registered", "Nơi đăng ký khai sinh", true},
				{"register_date", "Ngày đăng ký", true},
			}},
		Generic: {Kind: Generic, Title: "Kết quả giải quyết thủ tục hành chính", TitleEN: "Result of an administrative procedure",
			Fields: []FieldSpec{
				{"procedure", "Thủ tục", true},
				{"dossier", "Mã hồ sơ", true},
				{"name", "Người nộp hồ sơ", true},
				{"pin", "Số định danh cá nhân", false},
				{"decision", "Kết quả", true},
				{"note", "Ghi chú", false},
			}},
	}
}

// Result is what one result document prints.
type Result struct {
	Kind   Kind
	ID     string // the result's id, in the verification address
	Code   string // the short verification code
	Number string // số văn bản, e.g. "125/XNCT"
	Unit   string // issuing unit (cơ quan cấp), e.g. "Công an phường Ba Đình"
	Place  string // place in the date line, e.g. "Hà Nội"
	Issued time.Time
	Signer string            // the signing official's title, e.g. "Trưởng Công an phường"
	Fields map[string]string // by FieldSpec.Key
	// VerifyURL is the public verification address with the code, which
	// the QR code holds.
	VerifyURL string
}

// Faults of Render. Their codes are part of the API.
var (
	ErrKind   = fault.New(fault.Invalid, "result.kind", "Loại kết quả không có mẫu.", "There is no template for this kind of result.")
	ErrField  = fault.New(fault.Invalid, "result.field", "Thiếu thông tin bắt buộc của kết quả hoặc có thông tin không thuộc mẫu.", "A required field of the result is missing or a field is not in the template.")
	ErrRender = fault.New(fault.Internal, "result.render", "Không tạo được tệp PDF của kết quả.", "Could not lay out the result as PDF.")
)

// Synthetic is printed at the foot of every page.
const Synthetic = "MẪU – DỮ LIỆU TỔNG HỢP, KHÔNG CÓ GIÁ TRỊ PHÁP LÝ / SAMPLE – SYNTHETIC DATA"

// Check reports whether r fits its template: a known kind, every required
// field present, no field the template does not print, no control
// characters, a verification address.
func Check(r Result) error {
	t, ok := Templates()[r.Kind]
	if !ok {
		return ErrKind
	}
	known := map[string]bool{}
	for _, f := range t.Fields {
		known[f.Key] = true
		if f.Required && strings.TrimSpace(r.Fields[f.Key]) == "" {
			return ErrField.Wrap(fmt.Errorf("missing %q", f.Key))
		}
	}
	for k, v := range r.Fields {
		if !known[k] || strings.ContainsFunc(v, func(c rune) bool { return c < 0x20 && c != '\n' }) {
			return ErrField.Wrap(fmt.Errorf("field %q", k))
		}
	}
	if r.VerifyURL == "" || r.Unit == "" || r.Issued.IsZero() {
		return ErrField.Wrap(fmt.Errorf("unit, issue time and verification address are required"))
	}
	return nil
}

// Render lays out one result as a PDF.
func Render(r Result) ([]byte, error) { return Bulk([]Result{r}) }

// Bulk lays out several results in one PDF for printing at the desk, each
// starting on a new page. The file is unsigned: the signed originals are
// the separate files each Render made and the platform signed; the printed
// pages carry each one's QR code, which leads to the original's check.
func Bulk(rs []Result) ([]byte, error) {
	if len(rs) == 0 {
		return nil, ErrField.Wrap(fmt.Errorf("no result"))
	}
	for _, r := range rs {
		if err := Check(r); err != nil {
			return nil, err
		}
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes("dejavu", "", dejavusans.TTF)
	pdf.AddUTF8FontFromBytes("dejavu", "B", dejavusansbold.TTF)
	pdf.SetMargins(20, 15, 20)
	pdf.SetAutoPageBreak(true, 25)
	// Fixed dates and sorted resources (fonts, images: fpdf writes them
	// from maps otherwise) make the same result lay out to the same bytes.
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(rs[0].Issued)
	pdf.SetModificationDate(rs[0].Issued)
	pdf.SetProducer("dancu", true)
	if len(rs) == 1 {
		pdf.SetTitle(Templates()[rs[0].Kind].Title, true)
	}
	pdf.SetFooterFunc(func() {
		pdf.SetY(-18)
		pdf.SetFont("dejavu", "", 7)
		pdf.SetTextColor(150, 0, 0)
		pdf.CellFormat(0, 4, Synthetic, "", 1, "C", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	for _, r := range rs {
		if err := layout(pdf, r); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		return nil, ErrRender.Wrap(err)
	}
	return b.Bytes(), nil
}

func layout(pdf *fpdf.Fpdf, r Result) error {
	t := Templates()[r.Kind]
	png, err := qrcode.Encode(r.VerifyURL, qrcode.Medium, 256)
	if err != nil {
		return ErrRender.Wrap(err)
	}
	// Named by what it encodes: fpdf keys images by their bytes, and two
	// names for one image (the same result printed twice) would write a
	// duplicate key into the resources.
	img := "qr:" + r.VerifyURL
	pdf.RegisterImageOptionsReader(img, fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(png))

	pdf.AddPage()
	// Header: the issuing unit on the left, the national motto on the right
	// (Decree 30/2020/NĐ-CP layout of an administrative document).
	top := pdf.GetY()
	pdf.SetFont("dejavu", "B", 10)
	pdf.SetXY(15, top)
	pdf.MultiCell(75, 5, strings.ToUpper(r.Unit), "", "C", false)
	pdf.SetFont("dejavu", "", 10)
	pdf.SetX(15)
	pdf.CellFormat(75, 6, "Số: "+r.Number, "", 1, "C", false, 0, "")
	left := pdf.GetY()
	pdf.SetXY(90, top)
	pdf.SetFont("dejavu", "B", 10)
	pdf.CellFormat(105, 5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "", 2, "C", false, 0, "")
	pdf.CellFormat(105, 5, "Độc lập - Tự do - Hạnh phúc", "", 2, "C", false, 0, "")
	pdf.Line(122, pdf.GetY()+0.5, 163, pdf.GetY()+0.5)
	pdf.SetFont("dejavu", "", 10)
	pdf.Ln(2)
	pdf.SetX(90)
	d := civildate.Of(r.Issued)
	pdf.CellFormat(105, 6, fmt.Sprintf("%s, ngày %02d tháng %02d năm %d", r.Place, d.Day, d.Month, d.Year), "", 1, "C", false, 0, "")
	pdf.SetY(max(left, pdf.GetY()) + 8)

	pdf.SetFont("dejavu", "B", 15)
	pdf.CellFormat(0, 8, strings.ToUpper(t.Title), "", 1, "C", false, 0, "")
	pdf.SetFont("dejavu", "", 9)
	pdf.CellFormat(0, 5, t.TitleEN, "", 1, "C", false, 0, "")
	pdf.Ln(6)

	pdf.SetFont("dejavu", "", 11)
	for _, f := range t.Fields {
		v, ok := r.Fields[f.Key]
		if !ok {
			continue
		}
		pdf.SetFont("dejavu", "", 11)
		pdf.CellFormat(65, 7, f.Label+":", "", 0, "L", false, 0, "")
		pdf.SetFont("dejavu", "B", 11)
		pdf.MultiCell(0, 7, v, "", "L", false)
	}
	pdf.Ln(10)

	// Signature block on the right, QR code and verification on the left.
	y := pdf.GetY()
	if y > 230 {
		pdf.AddPage()
		y = pdf.GetY()
	}
	pdf.ImageOptions(img, 20, y, 32, 32, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	pdf.SetXY(20, y+33)
	pdf.SetFont("dejavu", "", 8)
	pdf.MultiCell(80, 4, "Kiểm tra tính xác thực / Verify:\n"+r.VerifyURL+"\nMã giấy tờ / Document id: "+r.ID+"\nMã kiểm tra / Check code: "+r.Code, "", "L", false)
	pdf.SetXY(110, y)
	pdf.SetFont("dejavu", "B", 11)
	pdf.MultiCell(85, 6, strings.ToUpper(r.Signer), "", "C", false)
	pdf.SetX(110)
	pdf.SetFont("dejavu", "", 10)
	pdf.MultiCell(85, 6, "(Đã ký số / digitally signed)", "", "C", false)
	if err := pdf.Error(); err != nil {
		return ErrRender.Wrap(err)
	}
	return nil
}
