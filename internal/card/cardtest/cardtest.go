// Package cardtest holds fixtures shared by the card packages' tests and
// benchmarks: a sample citizen, a tiny face JPEG and a throw-away authority.
// It is imported only from _test files.
package cardtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/card/issue"
	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/pin"
)

// Issued is the issue time of the sample card.
var Issued = time.Date(2024, 7, 10, 9, 0, 0, 0, time.UTC)

// Person is the citizen of the MRZ sample in DOMAIN.md §2, with invented
// details.
func Person() issue.Person {
	return issue.Person{
		PIN: "001093047064", OldID: "012345678", Name: "Ưng Hoàng Hiệp",
		Birth: civildate.Date{Year: 1993, Month: 1, Day: 5}, Sex: pin.Male,
		Nationality: "Việt Nam", Ethnicity: "Kinh", Religion: "Không", BirthPlace: "Hà Nội",
		Address:  "Số 1 phố Tràng Tiền, Phường Hoàn Kiếm, Hà Nội",
		Features: "Nốt ruồi C:1cm dưới sau mép phải", Father: "Ưng Văn Hùng", Mother: "Nguyễn Thị Lan",
	}
}

// Face is a real JPEG of a 240×320 grey gradient, a portrait-sized image,
// so hashing DG2 in benchmarks costs about what a real one does.
func Face(tb testing.TB) []byte {
	img := image.NewGray(image.Rect(0, 0, 240, 320))
	for y := 0; y < 320; y++ {
		for x := 0; x < 240; x++ {
			img.SetGray(x, y, color.Gray{Y: uint8((x*7 + y*3) % 256)})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 75}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// Authority makes a CSCA and DS in a temporary directory, valid from a year
// before Issued.
func Authority(tb testing.TB) (*pki.Authority, string) {
	dir := tb.TempDir()
	a, err := pki.Options{Now: func() time.Time { return Issued.AddDate(-1, 0, 0) }}.Init(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return a, dir
}

// Request is the sample issue request with face and chip keys.
func Request(tb testing.TB) issue.Request {
	chip, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	aa, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return issue.Request{Person: Person(), Issued: Issued, Face: Face(tb), Chip: &chip.PublicKey, Active: &aa.PublicKey}
}
