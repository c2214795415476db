package result_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/document/result"
)

func residence() result.Result {
	return result.Result{
		Kind: result.Residence, ID: "R7Q2K9", Code: "4F7KQ2", Number: "125/XNCT",
		Unit: "Công an phường Ba Đình", Place: "Hà Nội",
		Issued: time.Date(2026, 12, 7, 23, 30, 0, 0, time.UTC), // 8 Dec in Vietnam
		Signer: "Trưởng Công an phường",
		Fields: map[string]string{
			"name": "Nguyễn Thị Ngọc Ánh", "birth": "12/03/1990", "sex": "Nữ", "pin": "001190012345",
			"temporary": "Số 5 ngõ 12 phố Đội Cấn, phường Ba Đình, thành phố Hà Nội",
			"from":      "01/12/2026", "to": "01/12/2028",
		},
		VerifyURL: "https://dancu.example/verify/R7Q2K9?c=4F7KQ2",
	}
}

// TestCheck: a result must fit its template.
func TestCheck(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(*result.Result)
		want error
	}{
		"fits":            {func(*result.Result) {}, nil},
		"unknown kind":    {func(r *result.Result) { r.Kind = "passport" }, result.ErrKind},
		"missing field":   {func(r *result.Result) { delete(r.Fields, "temporary") }, result.ErrField},
		"blank field":     {func(r *result.Result) { r.Fields["name"] = "  " }, result.ErrField},
		"foreign field":   {func(r *result.Result) { r.Fields["salary"] = "1" }, result.ErrField},
		"control char":    {func(r *result.Result) { r.Fields["name"] = "A\x00B" }, result.ErrField},
		"no verify URL":   {func(r *result.Result) { r.VerifyURL = "" }, result.ErrField},
		"no issuing unit": {func(r *result.Result) { r.Unit = "" }, result.ErrField},
	} {
		t.Run(name, func(t *testing.T) {
			r := residence()
			c.edit(&r)
			err := result.Check(r)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("Check = %v, want %v", err, c.want)
			}
			if _, err := result.Render(r); c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("Render = %v, want %v", err, c.want)
			}
		})
	}
}

// TestRenderTemplates: every template lays out; the text, read back by
// poppler's pdftotext, keeps its Vietnamese letters, the Vietnam date and
// the verification address; the same result gives the same bytes.
func TestRenderTemplates(t *testing.T) {
	rs := []result.Result{residence()}
	b := residence()
	b.Kind, b.Number = result.BirthExtract, "88/TLKS"
	b.Fields = map[string]string{"name": "Trần Đức Huy", "birth": "01/02/2025", "sex": "Nam", "ethnicity": "Kinh",
		"nationality": "Việt Nam", "birthplace": "Bệnh viện Phụ sản Hà Nội", "pin": "001225000123",
		"registered": "UBND phường Ba Đình", "register_date": "10/02/2025", "mother": "Nguyễn Thị Ngọc Ánh"}
	g := residence()
	g.Kind = result.Generic
	g.Fields = map[string]string{"procedure": "Đăng ký tạm trú", "dossier": "000.00.01.H26-261207-0001", "name": "Nguyễn Thị Ngọc Ánh", "decision": "Chấp thuận"}
	rs = append(rs, b, g)
	for _, r := range rs {
		pdf, err := result.Render(r)
		if err != nil {
			t.Fatalf("%s: %v", r.Kind, err)
		}
		again, _ := result.Render(r)
		if !bytes.Equal(pdf, again) {
			t.Errorf("%s: two layouts differ", r.Kind)
		}
		text := pdftotext(t, pdf)
		if text == "" {
			continue
		}
		want := []string{strings.ToUpper(result.Templates()[r.Kind].Title), r.Fields["name"], "ngày 08 tháng 12 năm 2026", r.VerifyURL,
			"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Document id: " + r.ID, "Check code: " + r.Code}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the PDF text lacks %q:\n%s", r.Kind, w, text)
			}
		}
	}
	bulk, err := result.Bulk(rs)
	if err != nil {
		t.Fatal(err)
	}
	if text := pdftotext(t, bulk); text != "" && strings.Count(text, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") != 3 {
		t.Errorf("bulk print does not hold the three results:\n%s", text)
	}
	if _, err := exec.LookPath("qpdf"); err == nil {
		f := filepath.Join(t.TempDir(), "bulk.pdf")
		if err := os.WriteFile(f, bulk, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("qpdf", "--check", f).CombinedOutput(); err != nil {
			t.Errorf("qpdf --check on the bulk print: %v\n%s", err, out)
		}
	}
	if _, err := result.Bulk(nil); !errors.Is(err, result.ErrField) {
		t.Errorf("empty bulk: %v", err)
	}
}

func pdftotext(t *testing.T, pdf []byte) string {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Log("pdftotext (poppler-utils) absent: text not checked")
		return ""
	}
	f := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}
