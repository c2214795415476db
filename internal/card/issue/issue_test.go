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
	if !c.Lifetime || !strings.Contains(c.MRZ, "M<<<<<<<VNM") {
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
