package services

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/fault"
)

func shipped(t testing.TB, code string) Procedure {
	t.Helper()
	f, err := parseCatalogue(shippedJSON)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Procedures {
		if p.Code == code {
			return p
		}
	}
	t.Fatalf("no shipped %s", code)
	return Procedure{}
}

// TestShippedCatalogue: every shipped procedure passes the checker, and the
// residence, card, civil-status and stay procedures are there.
func TestShippedCatalogue(t *testing.T) {
	f, err := parseCatalogue(shippedJSON)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range f.Procedures {
		if err := CheckProcedure(p); err != nil {
			t.Errorf("%s: %v", p.Code, err)
		}
		seen[p.Service] = true
	}
	for _, l := range f.Listed {
		seen[l.Service] = true
	}
	for n := 1; n <= 25; n++ {
		if !seen[n] {
			t.Errorf("essential service %d neither shipped nor listed", n)
		}
	}
}

func TestValidateForm(t *testing.T) {
	p := shipped(t, "CT.TAT.01")
	pre := map[string]string{FromFullName: "Nguyễn Văn An", FromPIN: "001090000017", FromBirthDate: "1990-05-01", FromSex: "M", FromPermanent: "Hà Nội"}
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	good := map[string]string{"temp_commune": "00004", "temp_address": "Số 1 Phố Huế", "from": "2026-12-10", "to": "2027-12-10", "phone": "0912345678"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		if v == "\x00delete" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name, field, code string
		form              map[string]string
	}{
		{"ok", "", "", good},
		{"locked name changed", "full_name", "form.locked", with("full_name", "Trần Thị B")},
		{"locked same value allowed", "", "", with("full_name", "Nguyễn Văn An")},
		{"missing address", "temp_address", "form.required", with("temp_address", "\x00delete")},
		{"bad commune", "temp_commune", "form.commune", with("temp_commune", "12")},
		{"bad phone", "phone", "form.phone", with("phone", "12ab")},
		{"bad date", "from", "form.date", with("from", "2026-13-40")},
		{"over two years", "to", "form.date_span", with("to", "2029-01-01")},
		{"before start", "to", "form.date_order", with("to", "2026-01-01")},
		{"unknown field", "evil", "form.unknown_field", with("evil", "x")},
		{"control chars", "temp_address", "form.characters", with("temp_address", "a\x07b")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vals, err := ValidateForm(p, c.form, pre, nil, now)
			if c.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if vals["full_name"] != "Nguyễn Văn An" || vals["pin"] != "001090000017" {
					t.Fatalf("prefill not applied: %v", vals)
				}
				return
			}
			var found *fault.Error
			for _, f := range fault.Faults(err) {
				if f.Field == c.field {
					found = f
				}
			}
			if found == nil || found.Code != c.code || found.Message == "" || found.English == "" {
				t.Fatalf("want %s on %s, got %v", c.code, c.field, err)
			}
		})
	}
	// The Vietnamese text names the field by its Vietnamese label.
	_, err := ValidateForm(p, with("temp_address", "\x00delete"), pre, nil, now)
	if f := fault.Faults(err); len(f) != 1 || f[0].Message != "Vui lòng nhập số nhà, đường phố, thôn, tổ." {
		t.Fatalf("message: %+v", f)
	}
}

func TestSniff(t *testing.T) {
	pdf := []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n")
	cases := []struct {
		name string
		body []byte
		want error
	}{
		{"pdf", pdf, nil},
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0}, nil},
		{"png", []byte("\x89PNG\r\n\x1a\nxxxx"), nil},
		{"exe", []byte("MZ\x90\x00"), ErrUploadType},
		{"html named pdf", []byte("<html><script>alert(1)</script>"), ErrUploadType},
		{"pdf with js", []byte("%PDF-1.4\n<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>\n%%EOF"), ErrUploadActive},
		{"pdf with escaped js", []byte("%PDF-1.4\n<< /S /J#61vaScript >>\n%%EOF"), ErrUploadActive},
		{"pdf with launch", []byte("%PDF-1.4\n<< /S /Launch /F (cmd.exe) >>\n%%EOF"), ErrUploadActive},
		{"empty", nil, ErrUploadEmpty},
		{"too large", append([]byte("%PDF-"), make([]byte, MaxUpload)...), ErrUploadSize},
	}
	for _, c := range cases {
		_, err := Sniff(c.body)
		if c.want == nil && err != nil || c.want != nil && fault.As(err).Code != fault.As(c.want).Code {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func TestUnitCode(t *testing.T) {
	if got := UnitCode("01", "00004"); got != "000.04.00.H01" {
		t.Fatal(got)
	}
	if got := UnitCode("79", ""); got != "000.00.00.H79" {
		t.Fatal(got)
	}
}

// FuzzValidateForm: whatever a filer sends, the validator answers values or
// field faults, never panics, and never lets a locked field differ from the
// register.
func FuzzValidateForm(f *testing.F) {
	p := shipped(f, "CT.TAT.01")
	pre := map[string]string{FromFullName: "Nguyễn Văn An", FromPIN: "001090000017", FromBirthDate: "1990-05-01", FromSex: "M"}
	f.Add([]byte(`{"temp_commune":"00004","temp_address":"x","from":"2026-12-10","to":"2027-01-01","phone":"0912345678"}`))
	f.Add([]byte(`{"full_name":"X","to":"9999-99-99"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var form map[string]string
		if json.Unmarshal(b, &form) != nil {
			return
		}
		vals, err := ValidateForm(p, form, pre, nil, time.Now())
		if err != nil {
			if fault.As(err) == nil {
				t.Fatalf("not a fault: %v", err)
			}
			return
		}
		if vals["full_name"] != pre[FromFullName] || vals["pin"] != pre[FromPIN] {
			t.Fatalf("locked field changed: %v", vals)
		}
	})
}

// FuzzParseProcedure: an administrator's override is parsed and checked
// without panics; what is accepted passes CheckProcedure and validates a
// form without panics.
func FuzzParseProcedure(f *testing.F) {
	b, _ := json.Marshal(shipped(f, "CT.TAT.01"))
	f.Add(b)
	f.Add([]byte(`{"code":"A","fields":[{"name":"a","type":"text","pattern":"(a+)+$"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProcedure(b)
		if err != nil {
			return
		}
		if err := CheckProcedure(p); err != nil {
			t.Fatal(err)
		}
		_, _ = ValidateForm(p, map[string]string{"a": "aaaa"}, nil, nil, time.Now())
	})
}
