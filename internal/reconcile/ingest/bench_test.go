package ingest

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// benchFile is n rows of a typical partner file.
func benchFile(n int) []byte {
	var b bytes.Buffer
	b.WriteString("Mã;Họ và tên;Số định danh;Ngày sinh;Giới tính;Địa chỉ\n")
	for i := range n {
		fmt.Fprintf(&b, "KH%07d;Nguyễn Thị Thuỳ Dương;0011%08d;%02d/%02d/19%02d;Nữ;\"Số %d, phố Huế, phường Hai Bà Trưng, Hà Nội\"\n",
			i, i, 1+i%28, 1+i%12, i%100, i%300)
	}
	return b.Bytes()
}

// BenchmarkIngest measures decoding and parsing: rows/s is the figure.
func BenchmarkIngest(b *testing.B) {
	for _, tc := range []struct {
		name string
		enc  func([]byte) []byte
	}{
		{"utf-8", func(x []byte) []byte { return x }},
		{"tcvn3", func(x []byte) []byte { return EncodeTCVN3(string(x)) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const rows = 100_000
			raw := tc.enc(benchFile(rows))
			b.SetBytes(int64(len(raw)))
			b.ResetTimer()
			for b.Loop() {
				p, err := Prepare(bytes.NewReader(raw), Options{})
				if err != nil {
					b.Fatal(err)
				}
				ps := NewParser(p.Text, p.Header, Position{Line: 1})
				n := 0
				for {
					r, err := ps.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if n > 0 && r.Err != nil { // row 1 is the header, read as data here
						b.Fatalf("row %d: %v", r.Num, r.Err)
					}
					n++
				}
				if n != rows+1 {
					b.Fatalf("%d rows", n)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
