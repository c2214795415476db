package verify_test

import (
	"bytes"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/card/cardtest"
	"github.com/dancu-project/dancu/internal/card/issue"
	"github.com/dancu-project/dancu/internal/card/lds"
	"github.com/dancu-project/dancu/internal/card/mrz"
	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/card/sod"
	"github.com/dancu-project/dancu/internal/card/verify"
)

var checkAt = cardtest.Issued.AddDate(1, 0, 0)

type fixture struct {
	auth *pki.Authority
	dir  string
	card *issue.Card
	ts   *verify.TrustStore
}

func setup(t testing.TB) *fixture {
	a, dir := cardtest.Authority(t)
	c, err := issue.Issue(cardtest.Request(t), a.Signer, a.SignerKey())
	if err != nil {
		t.Fatal(err)
	}
	crlDER, err := pki.IssueCRL(dir, checkAt.Add(-time.Hour), 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	crl, _ := x509.ParseRevocationList(crlDER)
	ts, err := verify.NewTrustStore([]*x509.Certificate{a.CSCA}, []*x509.RevocationList{crl}, []string{"079190000999"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{a, dir, c, ts}
}

func clone(m map[int][]byte) map[int][]byte {
	out := map[int][]byte{}
	for k, v := range m {
		out[k] = append([]byte{}, v...)
	}
	return out
}

func status(t *testing.T, r *verify.Result, code string) verify.Status {
	t.Helper()
	c, ok := r.Find(code)
	if !ok {
		t.Fatalf("no check %q in %+v", code, r.Checks)
	}
	return c.Status
}

func TestPassiveGood(t *testing.T) {
	f := setup(t)
	r := f.ts.Passive(f.card.DataGroups, f.card.SOD, checkAt)
	if !r.OK() {
		t.Fatalf("good card failed: %+v", r.Failed())
	}
	for _, c := range r.Checks {
		if c.Status != verify.Pass {
			t.Errorf("%s = %v: %s", c.Code, c.Status, c.English)
		}
	}
	if r.PIN != "001093047064" {
		t.Errorf("PIN = %q", r.PIN)
	}
	for _, code := range []string{"sod.signature", "sod.message_digest", "ds.chain", "ds.validity", "csca.validity", "ds.revocation",
		"dg1.hash", "dg2.hash", "dg13.hash", "dg14.hash", "dg15.hash", "dg1.mrz", "card.revoked", "dg13.consistent"} {
		if status(t, r, code) != verify.Pass {
			t.Errorf("%s did not pass", code)
		}
	}
}

func TestPassiveFailures(t *testing.T) {
	f := setup(t)
	other, _ := cardtest.Authority(t)
	otherTS, _ := verify.NewTrustStore([]*x509.Certificate{other.CSCA}, nil, nil)
	revokedCard, _ := verify.NewTrustStore([]*x509.Certificate{f.auth.CSCA}, nil, []string{"093047064"})

	tamperedDG13 := clone(f.card.DataGroups)
	i := bytes.Index(tamperedDG13[13], []byte("Hiệp"))
	tamperedDG13[13][i] = 'X'

	unread := clone(f.card.DataGroups)
	delete(unread, 2)

	extra := clone(f.card.DataGroups)
	extra[3] = lds.AppendTLV(nil, 0x63, []byte{1})

	// A DG1 with a wrong MRZ check digit, correctly signed: the signature
	// is fine, the MRZ is not.
	badMRZ := clone(f.card.DataGroups)
	m := []byte(strings.ReplaceAll(f.card.MRZ, "\n", ""))
	m[59] = '0'
	if m[59] == f.card.MRZ[61] {
		m[59] = '1'
	}
	badMRZ[1] = lds.AppendTLV(nil, 0x61, lds.AppendTLV(nil, 0x5F1F, m))
	badMRZSOD, err := sod.Sign(badMRZ, f.auth.Signer, f.auth.SignerKey())
	if err != nil {
		t.Fatal(err)
	}
	noDG1 := clone(f.card.DataGroups)
	delete(noDG1, 1)

	tests := []struct {
		name   string
		ts     *verify.TrustStore
		dgs    map[int][]byte
		sod    []byte
		at     time.Time
		code   string
		want   verify.Status
		ok     bool
		reason string
	}{
		{"DG13 tampered", f.ts, tamperedDG13, f.card.SOD, checkAt, "dg13.hash", verify.Fail, false, "Băm của DG13 không khớp với SOD"},
		{"DG2 not read", f.ts, unread, f.card.SOD, checkAt, "dg2.hash", verify.Skip, true, ""},
		{"DG3 not signed", f.ts, extra, f.card.SOD, checkAt, "dg3.hash", verify.Fail, false, "DG3 không có trong SOD"},
		{"other country's CSCA", otherTS, f.card.DataGroups, f.card.SOD, checkAt, "ds.chain", verify.Fail, false, ""},
		{"no CRL", revokedCard, f.card.DataGroups, f.card.SOD, checkAt, "ds.revocation", verify.Warn, false, ""},
		{"card number revoked", revokedCard, f.card.DataGroups, f.card.SOD, checkAt, "card.revoked", verify.Fail, false, ""},
		{"before DS validity", f.ts, f.card.DataGroups, f.card.SOD, cardtest.Issued.AddDate(-2, 0, 0), "ds.validity", verify.Fail, false, ""},
		{"after DS validity", f.ts, f.card.DataGroups, f.card.SOD, f.auth.Signer.NotAfter.Add(time.Second), "ds.validity", verify.Fail, false, ""},
		{"CRL stale", f.ts, f.card.DataGroups, f.card.SOD, checkAt.AddDate(0, 0, 5), "ds.revocation", verify.Warn, true, ""},
		{"bad MRZ check digit", f.ts, badMRZ, badMRZSOD, checkAt, "dg1.mrz", verify.Fail, false, "kiểm tra tổng hợp"},
		{"DG1 missing", f.ts, noDG1, f.card.SOD, checkAt, "dg1.mrz", verify.Fail, false, ""},
		{"SOD garbage", f.ts, f.card.DataGroups, []byte{0x77, 0x03, 1, 2, 3}, checkAt, "sod.parse", verify.Fail, false, ""},
		{"SOD empty", f.ts, f.card.DataGroups, nil, checkAt, "sod.parse", verify.Fail, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.ts.Passive(tt.dgs, tt.sod, tt.at)
			c, ok := r.Find(tt.code)
			if !ok {
				t.Fatalf("no check %s: %+v", tt.code, r.Checks)
			}
			if c.Status != tt.want {
				t.Errorf("%s = %v (%s), want %v", tt.code, c.Status, c.English, tt.want)
			}
			if r.OK() != tt.ok {
				t.Errorf("OK = %v, want %v; failed: %+v", r.OK(), tt.ok, r.Failed())
			}
			if tt.reason != "" && !strings.Contains(c.Message, tt.reason) {
				t.Errorf("message %q lacks %q", c.Message, tt.reason)
			}
			if c.Message == "" || c.English == "" {
				t.Error("check without a reason")
			}
		})
	}
}

func TestRevokedDS(t *testing.T) {
	f := setup(t)
	if err := pki.Revoke(f.dir, f.auth.Signer.SerialNumber, cardtest.Issued); err != nil {
		t.Fatal(err)
	}
	der, err := pki.IssueCRL(f.dir, checkAt, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	crl, _ := x509.ParseRevocationList(der)
	ts, err := verify.NewTrustStore([]*x509.Certificate{f.auth.CSCA}, []*x509.RevocationList{crl}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := ts.Passive(f.card.DataGroups, f.card.SOD, checkAt)
	if status(t, r, "ds.revocation") != verify.Fail || r.OK() {
		t.Error("revoked DS passed")
	}
	other, _ := cardtest.Authority(t)
	if _, err := verify.NewTrustStore([]*x509.Certificate{other.CSCA}, []*x509.RevocationList{crl}, nil); err == nil {
		t.Error("CRL from an untrusted CSCA accepted")
	}
}

func TestCompareAndQR(t *testing.T) {
	f := setup(t)
	d13, _ := lds.ParseDG13(f.card.DataGroups[13])
	reg := verify.Fields{
		verify.FieldPIN: "001093047064", verify.FieldName: "Ưng  Hoàng Hiệp", verify.FieldBirth: "1993-01-05",
		verify.FieldSex: "M", verify.FieldAddress: "Số 1 phố Tràng Tiền, Phường Hoàn Kiếm, Hà Nội", verify.FieldIssue: "2024-07-10",
		verify.FieldExpiry: "2033-01-05", verify.FieldOldID: "012345678",
	}
	if d := verify.Compare(verify.FromDG13(d13), reg); len(d) != 0 {
		t.Errorf("DG13 vs register: %+v", d)
	}
	moved := verify.Fields{}
	for k, v := range reg {
		moved[k] = v
	}
	moved[verify.FieldAddress] = "Số 2 phố Hàng Bài, Hà Nội"
	d := verify.Compare(verify.FromDG13(d13), moved)
	if len(d) != 1 || d[0].Field != verify.FieldAddress || d[0].OnlyDiacritics {
		t.Errorf("moved: %+v", d)
	}
	md, err := mrz.Parse(f.card.MRZ)
	if err != nil {
		t.Fatal(err)
	}
	d = verify.Compare(verify.FromMRZ(md), reg)
	if len(d) != 1 || d[0].Field != verify.FieldName || !d[0].OnlyDiacritics {
		t.Errorf("MRZ vs register: %+v", d)
	}
	r := &verify.Result{}
	r.AddComparison(d)
	if status(t, r, "compare.name") != verify.Warn {
		t.Error("diacritics-only diff is not a warning")
	}

	q := verify.QR(f.card.QR, reg)
	if status(t, q, "qr.unsigned") != verify.Warn || status(t, q, "compare") != verify.Pass || !q.OK() {
		t.Errorf("QR: %+v", q.Checks)
	}
	q = verify.QR(f.card.QR, moved)
	if status(t, q, "compare.address") != verify.Fail || q.OK() {
		t.Errorf("QR with moved address: %+v", q.Checks)
	}
	q = verify.QR("garbage", reg)
	if status(t, q, "qr.parse") != verify.Fail {
		t.Errorf("garbage QR: %+v", q.Checks)
	}
}

func FuzzPassive(f *testing.F) {
	fx := setup(f)
	f.Add(fx.card.SOD, fx.card.DataGroups[1], fx.card.DataGroups[13])
	if r := fx.ts.Passive(map[int][]byte{1: fx.card.DataGroups[1], 13: fx.card.DataGroups[13]}, fx.card.SOD, checkAt); !r.OK() {
		f.Fatalf("the genuine card fails: %+v", r.Failed())
	}
	f.Fuzz(func(t *testing.T, sodBytes, dg1, dg13 []byte) {
		r := fx.ts.Passive(map[int][]byte{1: dg1, 13: dg13}, sodBytes, checkAt)
		for _, c := range r.Checks {
			if c.Message == "" || c.English == "" {
				t.Fatalf("check %s has no reason", c.Code)
			}
		}
		// Altered data groups never pass: only the card's own do.
		if r.OK() && (!bytes.Equal(dg1, fx.card.DataGroups[1]) || !bytes.Equal(dg13, fx.card.DataGroups[13])) {
			t.Fatalf("altered data groups pass passive authentication")
		}
	})
}

// BenchmarkVerify is passive authentication of one card with all five data
// groups (DG2 a portrait-sized JPEG). The DS→CSCA signature is cached per DS
// by the trust store, as in a long-running verifier.
func BenchmarkVerify(b *testing.B) {
	f := setup(b)
	if r := f.ts.Passive(f.card.DataGroups, f.card.SOD, checkAt); !r.OK() {
		b.Fatalf("fixture fails: %+v", r.Failed())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f.ts.Passive(f.card.DataGroups, f.card.SOD, checkAt)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cards/s")
}
