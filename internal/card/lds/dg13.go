package lds

import (
	"unicode/utf8"
)

// DG13Data is the Vietnamese proprietary data group (root tag 6D), as read by
// the open-source parsers cited in DOMAIN.md §3. Values are the text printed
// on the card; dates are written dd/mm/yyyy (the DG13 date format on real
// cards is UNVERIFIED).
type DG13Data struct {
	PIN         string // 1
	FullName    string // 2
	Birth       string // 3, dd/mm/yyyy
	Sex         string // 4, "Nam" or "Nữ"
	Nationality string // 5
	Ethnicity   string // 6, dân tộc: the group's name, not its code
	Religion    string // 7, tôn giáo: "Không" for none
	BirthPlace  string // 8, nơi đăng ký khai sinh (quê quán on cards before 2024)
	Address     string // 9, nơi thường trú
	Features    string // 10, đặc điểm nhận dạng
	Issue       string // 11, dd/mm/yyyy
	Expiry      string // 12, dd/mm/yyyy, or "Không thời hạn"
	Father      string // 13, first value: the father's full name
	Mother      string // 13, second value: the mother's full name
	Spouse      string // 14: our choice, UNVERIFIED on real cards
	OldID       string // 16, old CMND number
	// Other keeps fields with numbers this profile does not know (15, 17…),
	// so a newer card still decodes; each value list is as on the chip.
	Other map[int][]string
}

// maxField is the highest DG13 field number accepted; one byte of INTEGER.
const maxField = 127

func (d *DG13Data) fields() map[int][]string {
	m := map[int][]string{}
	for n, v := range map[int]string{1: d.PIN, 2: d.FullName, 3: d.Birth, 4: d.Sex, 5: d.Nationality, 6: d.Ethnicity,
		7: d.Religion, 8: d.BirthPlace, 9: d.Address, 10: d.Features, 11: d.Issue, 12: d.Expiry, 14: d.Spouse, 16: d.OldID} {
		if v != "" {
			m[n] = []string{v}
		}
	}
	if d.Father != "" || d.Mother != "" {
		m[13] = []string{d.Father, d.Mother}
	}
	for n, v := range d.Other {
		m[n] = v
	}
	return m
}

// DG13 encodes d as 6D { 30 { 02 01 NN, 0C value [, 0C value] } … } in
// ascending field order. Empty fields are left out; field 13 carries father
// and mother as two UTF8Strings.
func DG13(d DG13Data) ([]byte, error) {
	m := d.fields()
	if m[1] == nil {
		return nil, ErrContent.WithField("dg13.1")
	}
	var body []byte
	for n := 1; n <= maxField; n++ {
		vals, ok := m[n]
		if !ok {
			continue
		}
		if _, known := d.Other[n]; known && n <= 16 && n != 15 {
			return nil, ErrContent.WithField("dg13.other") // would clash with a named field
		}
		rec := AppendTLV(nil, 0x02, []byte{byte(n)})
		for _, v := range vals {
			if !utf8.ValidString(v) {
				return nil, ErrContent.WithField("dg13")
			}
			rec = AppendTLV(rec, 0x0C, []byte(v))
		}
		body = AppendTLV(body, 0x30, rec)
	}
	for n := range d.Other {
		if n < 1 || n > maxField {
			return nil, ErrContent.WithField("dg13.other")
		}
	}
	if len(body) > MaxLen {
		return nil, ErrLength.WithField("dg13")
	}
	return AppendTLV(nil, TagDG13, body), nil
}

// ParseDG13 decodes DG13. Field numbers must ascend without repeats and every
// value must be a UTF8String.
func ParseDG13(b []byte) (DG13Data, error) {
	var d DG13Data
	body, err := only(b, TagDG13)
	if err != nil {
		return d, err
	}
	last := 0
	for len(body) > 0 {
		var rec []byte
		rec, body, err = expect(body, 0x30)
		if err != nil {
			return d, err
		}
		num, vals, err := expect(rec, 0x02)
		if err != nil {
			return d, err
		}
		if len(num) != 1 || num[0] == 0 || num[0] > maxField {
			return d, ErrContent.WithField("dg13")
		}
		n := int(num[0])
		if n <= last {
			return d, ErrContent.WithField("dg13") // repeated or out of order
		}
		last = n
		var list []string
		for len(vals) > 0 {
			var v []byte
			v, vals, err = expect(vals, 0x0C)
			if err != nil {
				return d, err
			}
			if !utf8.Valid(v) {
				return d, ErrContent.WithField("dg13")
			}
			list = append(list, string(v))
		}
		if err := d.set(n, list); err != nil {
			return d, err
		}
	}
	if d.PIN == "" {
		return d, ErrContent.WithField("dg13.1")
	}
	return d, nil
}

func (d *DG13Data) set(n int, vals []string) error {
	if n == 13 {
		if len(vals) != 2 {
			return ErrContent.WithField("dg13.13")
		}
		d.Father, d.Mother = vals[0], vals[1]
		return nil
	}
	named := map[int]*string{1: &d.PIN, 2: &d.FullName, 3: &d.Birth, 4: &d.Sex, 5: &d.Nationality, 6: &d.Ethnicity,
		7: &d.Religion, 8: &d.BirthPlace, 9: &d.Address, 10: &d.Features, 11: &d.Issue, 12: &d.Expiry, 14: &d.Spouse, 16: &d.OldID}
	if p, ok := named[n]; ok {
		if len(vals) != 1 || vals[0] == "" {
			return ErrContent.WithField("dg13")
		}
		*p = vals[0]
		return nil
	}
	if d.Other == nil {
		d.Other = map[int][]string{}
	}
	d.Other[n] = vals
	return nil
}
