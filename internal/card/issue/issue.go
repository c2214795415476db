// Package issue assembles everything printed on and written into one card
// from register data: the chip's data groups and SOD, the MRZ and the QR
// payload, with the expiry of Art. 21. It does no I/O and renders no image
// (qr.Encode does that when the card is printed).
package issue

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/dancu-project/dancu/internal/card"
	"github.com/dancu-project/dancu/internal/card/lds"
	"github.com/dancu-project/dancu/internal/card/mrz"
	"github.com/dancu-project/dancu/internal/card/qr"
	"github.com/dancu-project/dancu/internal/card/sod"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/pin"
)

// Person is the register data a card carries.
type Person struct {
	PIN         pin.PIN
	OldID       string // 9- or 12-digit CMND, may be empty
	Name        string // full name with diacritics
	Birth       civildate.Date
	Sex         byte   // pin.Male or pin.Female
	Nationality string // its name, "Việt Nam"
	Ethnicity   string // the ethnic group's name ("Kinh", "Ê-đê"), never its code
	Religion    string // the religion's name; empty for none, written "Không"
	BirthPlace  string // nơi đăng ký khai sinh, the place of birth registration
	Address     string // nơi cư trú
	Features    string // identifying features
	Father      string // full names; empty when the register has none
	Mother      string
	Spouse      string
}

// NoReligion is written in DG13 field 7 for a person without religion, as
// the card's data says it ("Không": none), rather than leaving it out.
const NoReligion = "Không"

// Check reports whether a card can be made for p: the MRZ and the QR, the
// two formats that can refuse register data, are built for an issue at
// issued. The card service calls it when an application is taken, so that
// an application that could never be produced is refused at the desk
// rather than left open.
func Check(p Person, issued time.Time) error {
	exp := civildate.Date{}
	if e, lifetime := card.Expiry(p.Birth, issued); !lifetime {
		exp = civildate.Date{Year: e.Year(), Month: int(e.Month()), Day: e.Day()}
	}
	if _, err := mrz.Format(mrz.Data{PIN: p.PIN, Birth: p.Birth, Sex: p.Sex, Expiry: exp, Name: p.Name}); err != nil {
		return fmt.Errorf("issue: MRZ: %w", err)
	}
	if _, err := qr.Format(qr.Payload{PIN: p.PIN, OldID: p.OldID, Name: p.Name, Birth: p.Birth, Sex: p.Sex, Address: p.Address, Issue: civildate.Of(issued)}); err != nil {
		return fmt.Errorf("issue: QR: %w", err)
	}
	return nil
}

// Request is one card to issue.
type Request struct {
	Person
	Issued time.Time
	Face   []byte           // JPEG; nil for a child under 6 (no photo, DG2 left out)
	Chip   crypto.PublicKey // chip-authentication key read from the chip (DG14), optional
	Active crypto.PublicKey // active-authentication key (DG15), optional
}

// Card is what personalisation writes and prints.
type Card struct {
	DataGroups map[int][]byte // DG number → TLV
	SOD        []byte         // EF.SOD
	MRZ        string         // three lines
	QR         string         // payload text
	Expiry     time.Time      // zero when Lifetime
	Lifetime   bool
}

// Lifetime is written in DG13 field 12 for a card without expiry.
const Lifetime = "Không thời hạn"

// Issue builds a card and signs its SOD with the DS key.
func Issue(r Request, ds *x509.Certificate, key crypto.Signer) (*Card, error) {
	c := &Card{DataGroups: map[int][]byte{}}
	c.Expiry, c.Lifetime = card.Expiry(r.Birth, r.Issued)
	issued := civildate.Of(r.Issued)
	var exp civildate.Date
	expText := Lifetime
	if !c.Lifetime {
		exp = civildate.Date{Year: c.Expiry.Year(), Month: int(c.Expiry.Month()), Day: c.Expiry.Day()}
		expText = exp.Display()
	}
	var err error
	if c.MRZ, err = mrz.Format(mrz.Data{PIN: r.PIN, Birth: r.Birth, Sex: r.Sex, Expiry: exp, Name: r.Name}); err != nil {
		return nil, fmt.Errorf("issue: MRZ: %w", err)
	}
	if c.QR, err = qr.Format(qr.Payload{PIN: r.PIN, OldID: r.OldID, Name: r.Name, Birth: r.Birth, Sex: r.Sex, Address: r.Address, Issue: issued}); err != nil {
		return nil, fmt.Errorf("issue: QR: %w", err)
	}
	if c.DataGroups[1], err = lds.DG1(c.MRZ); err != nil {
		return nil, fmt.Errorf("issue: DG1: %w", err)
	}
	if r.Face != nil {
		if c.DataGroups[2], err = lds.DG2(r.Face); err != nil {
			return nil, fmt.Errorf("issue: DG2: %w", err)
		}
	}
	sex := "Nam"
	if r.Sex == pin.Female {
		sex = "Nữ"
	}
	religion := r.Religion
	if religion == "" {
		religion = NoReligion
	}
	if c.DataGroups[13], err = lds.DG13(lds.DG13Data{
		PIN: string(r.PIN), FullName: r.Name, Birth: r.Birth.Display(), Sex: sex,
		Nationality: r.Nationality, Ethnicity: r.Ethnicity, Religion: religion, BirthPlace: r.BirthPlace,
		Address: r.Address, Features: r.Features, Issue: issued.Display(), Expiry: expText,
		Father: r.Father, Mother: r.Mother, Spouse: r.Spouse, OldID: r.OldID,
	}); err != nil {
		return nil, fmt.Errorf("issue: DG13: %w", err)
	}
	if r.Chip != nil {
		if c.DataGroups[14], err = lds.DG14(r.Chip); err != nil {
			return nil, fmt.Errorf("issue: DG14: %w", err)
		}
	}
	if r.Active != nil {
		if c.DataGroups[15], err = lds.DG15(r.Active); err != nil {
			return nil, fmt.Errorf("issue: DG15: %w", err)
		}
	}
	if c.SOD, err = sod.Sign(c.DataGroups, ds, key); err != nil {
		return nil, fmt.Errorf("issue: SOD: %w", err)
	}
	return c, nil
}
