package issue_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/card/cardtest"
	"github.com/dancu-project/dancu/internal/card/issue"
	"github.com/dancu-project/dancu/internal/card/lds"
	"github.com/dancu-project/dancu/internal/card/sod"
	"github.com/dancu-project/dancu/internal/civildate"
)

func TestIssue(t *testing.T) {
	a, _ := cardtest.Authority(t)
	c, err := issue.Issue(cardtest.Request(t), a.Signer, a.SignerKey())
	if err != nil {
		t.Fatal(err)
	}
	// Born 05/01/1993, issued 10/07/2024 at 31: runs to 40.
	if c.Lifetime || !c.Expiry.Equal(time.Date(2033, 1, 5, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("expiry = %v, lifetime %v", c.Expiry, c.Lifetime)
	}
	want := "IDVNM0930470641001093047064<<2\n9301054M3301052VNM<<<<<<<<<<<8\nUNG<<HOANG<HIEP<<<<<<<<<<<<<<<"
	if c.MRZ != want {
		t.Errorf("MRZ =\n%s\nwant the DOMAIN.md sample\n%s", c.MRZ, want)
	}
	if !strings.HasPrefix(c.QR, "001093047064|012345678|Ưng Hoàng Hiệp|05011993|Nam|") || !strings.HasSuffix(c.QR, "|10072024") {
		t.Errorf("QR = %q", c.QR)
	}
	for _, n := range []int{1, 2, 13, 14, 15} {
		if c.DataGroups[n] == nil {
			t.Errorf("DG%d missing", n)
		}
	}
	d, err := lds.ParseDG13(c.DataGroups[13])
	if err != nil || d.Expiry != "05/01/2033" || d.Issue != "10/07/2024" || d.Birth != "05/01/1993" {
		t.Errorf("DG13 = %+v, %v", d, err)
	}
	s, err := sod.Parse(c.SOD)
	if err != nil || s.CheckSignature() != nil || len(s.LDS.Hashes) != 5 {
		t.Errorf("SOD: %v", err)
	}
}

func TestIssueLifetimeAndErrors(t *testing.T) {
	a, _ := cardtest.Authority(t)
	r := cardtest.Request(t)
	r.Birth = civildate.Date{Year: 1960, Month: 3, Day: 1}
	r.PIN = "001060000123"
	r.Face, r.Chip, r.Active = nil, nil, nil
	c, err := issue.Issue(r, a.Signer, a.SignerKey())
	if err != nil {
		t.Fatal(err)
	}
	if !c.Lifetime || !strings.Contains(c.MRZ, "M<<<<<<0VNM") {
		t.Errorf("lifetime card: %v\n%s", c.Lifetime, c.MRZ)
	}
	if d, _ := lds.ParseDG13(c.DataGroups[13]); d.Expiry != issue.Lifetime {
		t.Errorf("DG13 expiry = %q", d.Expiry)
	}
	if len(c.DataGroups) != 2 {
		t.Errorf("data groups = %d, want DG1 and DG13 only", len(c.DataGroups))
	}
	bad := cardtest.Request(t)
	bad.Address = "a|b"
	if _, err := issue.Issue(bad, a.Signer, a.SignerKey()); err == nil {
		t.Error("address with | accepted")
	}
	bad = cardtest.Request(t)
	bad.Face = []byte("not a jpeg")
	if _, err := issue.Issue(bad, a.Signer, a.SignerKey()); err == nil {
		t.Error("non-JPEG face accepted")
	}
}

// BenchmarkIssue builds every data group, the SOD (one ECDSA P-256
// signature), the MRZ and the QR payload for one card, without rendering
// the QR image, on all cores.
func BenchmarkIssue(b *testing.B) {
	a, _ := cardtest.Authority(b)
	r := cardtest.Request(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := issue.Issue(r, a.Signer, a.SignerKey()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cards/s")
}

// TestDG13Names: DG13 carries the names the register's codes stand for, the
// religion "Không" when there is none, the place of birth registration in
// field 8 and both parents' names in field 13; a partial date of birth is
// written as the card prints it.
func TestDG13Names(t *testing.T) {
	a, _ := cardtest.Authority(t)
	r := cardtest.Request(t)
	r.Religion = ""
	r.BirthPlace = "Tỉnh Nam Định"
	r.Birth = civildate.Date{Year: 1993}
	c, err := issue.Issue(r, a.Signer, a.SignerKey())
	if err != nil {
		t.Fatal(err)
	}
	d, err := lds.ParseDG13(c.DataGroups[13])
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"6 ethnicity":  {d.Ethnicity, "Kinh"},
		"7 religion":   {d.Religion, issue.NoReligion},
		"8 birthplace": {d.BirthPlace, "Tỉnh Nam Định"},
		"13 father":    {d.Father, r.Father},
		"13 mother":    {d.Mother, r.Mother},
		"3 birth":      {d.Birth, "1993"},
	}
	for k, v := range want {
		if v[0] != v[1] {
			t.Errorf("DG13 field %s = %q, want %q", k, v[0], v[1])
		}
	}
	if !strings.Contains(c.MRZ, "\n93<<<<") || !strings.Contains(c.QR, "|00001993|") {
		t.Errorf("partial birth: MRZ %q, QR %q", c.MRZ, c.QR)
	}
}

// TestCheck refuses what Issue would refuse, before any card exists.
func TestCheck(t *testing.T) {
	p := cardtest.Person()
	if err := issue.Check(p, cardtest.Issued); err != nil {
		t.Fatalf("Check(sample) = %v", err)
	}
	for name, bad := range map[string]func(*issue.Person){
		"name without Latin letters": func(p *issue.Person) { p.Name = "李小龍" },
		"no address":                 func(p *issue.Person) { p.Address = "" },
		"no birth date":              func(p *issue.Person) { p.Birth = civildate.Date{} },
	} {
		q := cardtest.Person()
		bad(&q)
		if err := issue.Check(q, cardtest.Issued); err == nil {
			t.Errorf("%s: Check accepted it", name)
		}
	}
}
