package ingest

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"

	"github.com/dancu-project/dancu/internal/fault"
)

// readAll prepares raw and parses every row, also returning the decoded text.
func readAll(t testing.TB, raw []byte, o Options) (Prepared, []Row, []byte, error) {
	t.Helper()
	p, err := Prepare(bytes.NewReader(raw), o)
	if err != nil {
		return p, nil, nil, err
	}
	text, err := io.ReadAll(p.Text)
	if err != nil {
		t.Fatal(err)
	}
	rows := parseFrom(t, text, p.Header, p.Header.Start)
	return p, rows, text, nil
}

func parseFrom(t testing.TB, text []byte, h Header, pos Position) []Row {
	t.Helper()
	if pos.Offset > int64(len(text)) {
		t.Fatalf("position %d beyond the text (%d bytes)", pos.Offset, len(text))
	}
	ps := NewParser(bytes.NewReader(text[pos.Offset:]), h, pos)
	var rows []Row
	for {
		r, err := ps.Next()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
		if len(rows) > 1_000_000 {
			t.Fatal("runaway parser")
		}
	}
}

// encode1258 writes s as Windows-1258 does: base letters (with their
// circumflex, breve or horn) precomposed, tone marks as combining marks.
func encode1258(t *testing.T, s string) []byte {
	t.Helper()
	enc := charmap.Windows1258.NewEncoder()
	var out []byte
	for _, r := range s {
		if b, err := enc.Bytes([]byte(string(r))); err == nil {
			out = append(out, b...)
			continue
		}
		d := []rune(norm.NFD.String(string(r)))
		var base, tone []rune
		for _, m := range d {
			switch m {
			case 0x300, 0x301, 0x303, 0x309, 0x323:
				tone = append(tone, m)
			default:
				base = append(base, m)
			}
		}
		b, err := enc.Bytes([]byte(norm.NFC.String(string(base)) + string(tone)))
		if err != nil {
			t.Fatalf("cannot write %q in Windows-1258: %v", r, err)
		}
		out = append(out, b...)
	}
	return out
}

const sampleCSV = "ma,ho_ten,so_dinh_danh,ngay_sinh,gioi_tinh,dia_chi\n" +
	"K1,Nguyễn Văn Đạt,001090123456,15/03/1990,Nam,\"Số 5, phố Huế, Hà Nội\"\n" +
	"K2,Trần Thị Hoà,079185000123,1985,Nữ,Quận 1 TP Hồ Chí Minh\n"

func TestEncodings(t *testing.T) {
	want := []string{"Nguyễn Văn Đạt", "Trần Thị Hoà"}
	nfd := norm.NFD.String(sampleCSV)
	tests := []struct {
		name     string
		raw      []byte
		declared Encoding
		enc      Encoding
	}{
		{"utf-8", []byte(sampleCSV), "", UTF8},
		{"utf-8 with BOM", append([]byte{0xEF, 0xBB, 0xBF}, sampleCSV...), "", UTF8},
		{"utf-8 decomposed (macOS)", []byte(nfd), "", UTF8},
		{"windows-1258 detected", encode1258(t, sampleCSV), "", Windows1258},
		{"tcvn3 detected", EncodeTCVN3(sampleCSV), "", TCVN3},
		{"windows-1258 declared", encode1258(t, sampleCSV), Windows1258, Windows1258},
		{"tcvn3 declared", EncodeTCVN3(sampleCSV), TCVN3, TCVN3},
		{"utf-16 with BOM", utf16le(sampleCSV), "", UTF16},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, rows, _, err := readAll(t, tc.raw, Options{Encoding: tc.declared})
			if err != nil {
				t.Fatal(err)
			}
			if p.Encoding != tc.enc {
				t.Errorf("encoding %q, want %q", p.Encoding, tc.enc)
			}
			if len(rows) != 2 {
				t.Fatalf("%d rows, want 2: %+v", len(rows), rows)
			}
			for i, r := range rows {
				if r.Err != nil {
					t.Fatalf("row %d: %v", i+1, r.Err)
				}
				if r.Record.FullName != want[i] {
					t.Errorf("row %d name %q (% x), want %q", i+1, r.Record.FullName, r.Record.FullName, want[i])
				}
			}
			if rows[0].Record.Address != "Số 5, phố Huế, Hà Nội" || rows[0].Record.PIN != "001090123456" || rows[1].Record.Sex != "Nữ" {
				t.Errorf("fields read wrongly: %+v / %+v", rows[0].Record, rows[1].Record)
			}
		})
	}
}

func utf16le(s string) []byte {
	out := []byte{0xFF, 0xFE}
	for _, r := range s {
		out = append(out, byte(r), byte(r>>8)) // every rune of the sample is in the BMP
	}
	return out
}

// TestDetectionPrefersRightLegacyEncoding decodes the same names written in
// both legacy encodings: each must be recognised as itself.
func TestDetectionPrefersRightLegacyEncoding(t *testing.T) {
	names := []string{"Phạm Thị Thuỳ Dương", "Lê Hoàng Đức", "Võ Thị Ngọc Ánh", "Đặng Quốc Bảo", "Hồ Thị Thu Hương"}
	text := "ho_ten;ngay_sinh\n"
	for _, n := range names {
		text += n + ";01/01/1980\n"
	}
	for enc, raw := range map[Encoding][]byte{Windows1258: encode1258(t, text), TCVN3: EncodeTCVN3(text)} {
		got, err := Sniff(raw, "", true)
		if err != nil || got != enc {
			t.Errorf("%s text detected as %q (%v)", enc, got, err)
		}
	}
}

func TestHeaderAliasesAndDelimiters(t *testing.T) {
	tests := []struct {
		name, text string
		delim      string
	}{
		{"english comma", "full_name,pin,birth_date,sex,address,card_number,ref\nAn,001090123456,1990,M,HN,001090123456,r1\n", ","},
		{"vietnamese with diacritics, semicolon", "Mã;Họ và tên;Số định danh;Ngày sinh;Giới tính;Địa chỉ;Số thẻ\nr1;An;001090123456;1990;Nam;HN;001090123456\n", ";"},
		{"tab", "ma\tho_ten\tso_dinh_danh\tngay_sinh\tgioi_tinh\tdia_chi\tso_the\nr1\tAn\t001090123456\t1990\tNam\tHN\t001090123456\n", "\t"},
		{"pipe, upper case", "MA|HO_TEN|SO_DINH_DANH|NGAY_SINH|GIOI_TINH|DIA_CHI|SO_THE\nr1|An|001090123456|1990|Nam|HN|001090123456\n", "|"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, rows, _, err := readAll(t, []byte(tc.text), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if p.Header.Delimiter != tc.delim {
				t.Errorf("delimiter %q, want %q", p.Header.Delimiter, tc.delim)
			}
			if len(p.Header.Columns) != 7 {
				t.Errorf("columns %v, want all 7 fields", p.Header.Columns)
			}
			if len(rows) != 1 || rows[0].Err != nil {
				t.Fatalf("rows %+v", rows)
			}
			r := rows[0].Record
			if r.Ref != "r1" || r.FullName != "An" || r.PIN != "001090123456" || r.BirthDate != "1990" || r.Address != "HN" || r.CardNumber != "001090123456" {
				t.Errorf("record %+v", r)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
		// file-level fault code, or "" when the file is read
		fileCode string
		// per-row fault codes by row number ("" = good row)
		rowCodes []string
		rowLines []int64
	}{
		{name: "empty file", raw: nil, fileCode: "reconcile.file.empty"},
		{name: "only blank lines", raw: []byte("\r\n\n  \n"), fileCode: "reconcile.file.empty"},
		{name: "only a BOM", raw: []byte{0xEF, 0xBB, 0xBF}, fileCode: "reconcile.file.empty"},
		{name: "binary (zip/xlsx)", raw: []byte("PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00b\xee\x9dh^\x01\x00\x00\x90\x04"), fileCode: "reconcile.file.binary"},
		{name: "binary without NUL", raw: bytes.Repeat([]byte{0x1b, 0x7f, 0x1c, 'a'}, 100), fileCode: "reconcile.file.binary"},
		{name: "missing name column", raw: []byte("ma,so_dinh_danh,ngay_sinh\n1,001090123456,1990\n"), fileCode: "reconcile.file.missing_columns"},
		{name: "name only", raw: []byte("ho_ten,dia_chi\nAn,HN\n"), fileCode: "reconcile.file.missing_columns"},
		{name: "no known column", raw: []byte("a,b,c\n1,2,3\n"), fileCode: "reconcile.file.missing_columns"},
		{name: "duplicate column", raw: []byte("ho_ten,full_name,ngay_sinh\nAn,An,1990\n"), fileCode: "reconcile.file.duplicate_column"},
		{name: "json lines missing columns", raw: []byte(`{"ma":"1","dia_chi":"HN"}` + "\n"), fileCode: "reconcile.file.missing_columns"},
		{
			name:     "broken quotes",
			raw:      []byte("ma,ho_ten,ngay_sinh\n1,\"An,1990\n2,Binh,1991\n3,\"Chi\"x,1992\n4,\"Dung \"\"Bé\"\"\",1993\n"),
			rowCodes: []string{"reconcile.row.quote", "", "reconcile.row.quote", ""},
			rowLines: []int64{2, 3, 4, 5},
		},
		{
			name:     "wrong delimiter in some rows",
			raw:      []byte("ma;ho_ten;ngay_sinh\n1;An;1990\n2,Binh,1991\n3;Chi;1992\n4;Dung;1993;extra\n"),
			rowCodes: []string{"", "reconcile.row.field_count", "", "reconcile.row.field_count"},
			rowLines: []int64{2, 3, 4, 5},
		},
		{
			name:     "quoted field over two lines is one row",
			raw:      []byte("ma,ho_ten,dia_chi,ngay_sinh\n1,An,\"Số 5\nHà Nội\",1990\n2,Binh,HN,1991\n"),
			rowCodes: []string{"", ""},
			rowLines: []int64{2, 4},
		},
		{
			name:     "row without a name",
			raw:      []byte("ma,ho_ten,ngay_sinh\n1,,1990\n2,Binh,1991\n"),
			rowCodes: []string{"reconcile.row.name_missing", ""},
			rowLines: []int64{2, 3},
		},
		{
			name:     "UTF-8 mixed with another encoding",
			raw:      []byte("ma,ho_ten,ngay_sinh\n1,Nguyễn,1990\n2,Tr\xffn,1991\n"),
			fileCode: "reconcile.file.encoding",
		},
		{
			name:     "json lines with a broken line",
			raw:      []byte(`{"ma":"1","ho_ten":"An","ngay_sinh":"1990"}` + "\n" + `{"ma":"2","ho_ten":` + "\n" + `{"ma":3,"ho_ten":"Chi","so_dinh_danh":1090123456}` + "\n"),
			rowCodes: []string{"", "reconcile.row.json", ""},
			rowLines: []int64{1, 2, 3},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, rows, _, err := readAll(t, tc.raw, Options{})
			if tc.fileCode != "" {
				var f *fault.Error
				if !errors.As(err, &f) || f.Code != tc.fileCode {
					t.Fatalf("error %v, want fault %s", err, tc.fileCode)
				}
				if f.Message == "" || f.English == "" || f.Message == f.English {
					t.Errorf("fault %s needs a Vietnamese and an English message", f.Code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(tc.rowCodes) {
				t.Fatalf("%d rows, want %d: %+v", len(rows), len(tc.rowCodes), rows)
			}
			for i, r := range rows {
				code := ""
				if r.Err != nil {
					code = r.Err.Code
				}
				if code != tc.rowCodes[i] || r.Line != tc.rowLines[i] || r.Num != int64(i+1) {
					t.Errorf("row %d: code %q line %d num %d, want %q line %d", i+1, code, r.Line, r.Num, tc.rowCodes[i], tc.rowLines[i])
				}
			}
		})
	}
}

// TestInvalidUTF8Row: when the sample is UTF-8 but a later byte is not,
// that row alone is reported.
func TestInvalidUTF8Row(t *testing.T) {
	raw := []byte("ma,ho_ten,ngay_sinh\n" + strings.Repeat("1,Nguyễn Văn An,1990\n", SampleSize/20) + "2,Tr\xe2n,1991\n")
	_, rows, _, err := readAll(t, raw, Options{})
	if err != nil {
		t.Fatal(err)
	}
	last := rows[len(rows)-1]
	if last.Err == nil || last.Err.Code != "reconcile.row.encoding" {
		t.Errorf("last row %+v, want reconcile.row.encoding", last)
	}
	for _, r := range rows[:len(rows)-1] {
		if r.Err != nil {
			t.Fatalf("row %d: %v", r.Num, r.Err)
		}
	}
}

// TestResume starts a parser at every row's end position and checks that
// it returns exactly the rows that follow.
func TestResume(t *testing.T) {
	raw := []byte("ma,ho_ten,ngay_sinh\r\n1,An,1990\r\n\r\n2,\"Binh\r\nX\",1991\r\n3,\"Chi,1992\r\n4,Dung,1993\r\n5,Em,1994")
	p, rows, text, err := readAll(t, raw, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows: %+v", len(rows), rows)
	}
	for i, r := range rows {
		rest := parseFrom(t, text, p.Header, r.End)
		if len(rest) != len(rows)-i-1 {
			t.Fatalf("resuming after row %d: %d rows, want %d", r.Num, len(rest), len(rows)-i-1)
		}
		for j := range rest {
			a, b := rest[j], rows[i+1+j]
			if a.Num != b.Num || a.Line != b.Line || a.Record != b.Record || (a.Err == nil) != (b.Err == nil) {
				t.Fatalf("resuming after row %d: row %+v, want %+v", r.Num, a, b)
			}
		}
	}
}

func TestDuplicateKey(t *testing.T) {
	_, rows, _, err := readAll(t, []byte("ho_ten,ngay_sinh\nNguyễn Văn An,1990\nnguyễn  văn an ,1990\nNguyen Van An,1990\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].Key() != rows[1].Key() {
		t.Error("rows differing only in case and spacing should share a key")
	}
	if rows[0].Key() == rows[2].Key() {
		t.Error("a name without diacritics is a different row")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sampleCSV))
	f.Add([]byte("ma;ho_ten;ngay_sinh\n1;\"An\n2;B;3\n"))
	f.Add([]byte("ho_ten\tngay_sinh\n\"a\"\"b\"\t1\n"))
	f.Add([]byte(`{"ho_ten":"An","ngay_sinh":"1990"}` + "\n{}\n[1]\n"))
	f.Add(EncodeTCVN3("ho_ten,ngay_sinh\nNguyễn Văn Đạt,1990\n"))
	f.Add([]byte{0xFF, 0xFE, 'h', 0, 'o', 0})
	f.Add([]byte("ho_ten,so_the\n\"x\" ,1\n\"unterminated\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, rows, text, err := readAll(t, raw, Options{})
		if err != nil {
			if fault.As(err).Kind != fault.Invalid {
				t.Fatalf("non-validation error %v", err)
			}
			return
		}
		prev := p.Header.Start
		for i, r := range rows {
			if r.Num != int64(i+1) || r.End.Row != r.Num {
				t.Fatalf("row numbering: %+v", r)
			}
			if r.End.Offset < prev.Offset || r.End.Offset > int64(len(text)) || r.Line < prev.Line {
				t.Fatalf("position went backwards or out of the text: %+v after %+v", r.End, prev)
			}
			prev = r.End
		}
		if len(rows) > 0 { // resuming in the middle yields the same tail
			mid := rows[len(rows)/2]
			rest := parseFrom(t, text, p.Header, mid.End)
			if len(rest) != len(rows)-len(rows)/2-1 {
				t.Fatalf("resume: %d rows, want %d", len(rest), len(rows)-len(rows)/2-1)
			}
		}
	})
}
