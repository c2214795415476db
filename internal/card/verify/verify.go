// Package verify performs passive authentication of a chip identity card
// (ICAO Doc 9303 Part 11 §5.1) and compares what a card says with the
// register. Every check is reported, passed or not, with a reason in
// Vietnamese and English, so a desk officer sees exactly what failed
// ("DG13 hash does not match the SOD"), not just "invalid".
package verify

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/dancu-project/dancu/internal/card/lds"
	"github.com/dancu-project/dancu/internal/card/mrz"
	"github.com/dancu-project/dancu/internal/card/sod"
)

// Status is the outcome of one check.
type Status int

// Outcomes. Warn does not make a result fail; Skip means the check could not
// run (its input was missing or an earlier check failed).
const (
	Pass Status = iota
	Fail
	Warn
	Skip
)

func (s Status) String() string {
	return [...]string{"pass", "fail", "warn", "skip"}[s]
}

// Check is one verified property.
type Check struct {
	Code    string // stable, e.g. "dg13.hash"
	Status  Status
	Message string // Vietnamese
	English string
}

// Result lists every check in order.
type Result struct {
	Checks []Check
	PIN    string // from DG1, when it could be read
}

// OK reports whether no check failed.
func (r *Result) OK() bool {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return false
		}
	}
	return true
}

// Failed returns the failed checks.
func (r *Result) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c)
		}
	}
	return out
}

// Find returns the check with the code.
func (r *Result) Find(code string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Code == code {
			return c, true
		}
	}
	return Check{}, false
}

func (r *Result) add(code string, s Status, vi, en string) {
	r.Checks = append(r.Checks, Check{Code: code, Status: s, Message: vi, English: en})
}

// TrustStore is what a verifier trusts: CSCA certificates (from the master
// list), their CRLs, and card numbers the register has revoked (lost,
// stolen, replaced cards), as 12-digit PINs or 9-digit document numbers.
// It is safe for concurrent use; it caches which CSCA issued each DS seen.
type TrustStore struct {
	cscas   []*x509.Certificate
	crls    map[*x509.Certificate][]*x509.RevocationList
	revoked map[string]bool

	mu     sync.RWMutex
	issuer map[string]*x509.Certificate // DS DER → the CSCA that signed it
}

// ErrCRL is returned by NewTrustStore for a CRL no CSCA signed.
var ErrCRL = errors.New("verify: a CRL is not signed by any trusted CSCA")

// NewTrustStore builds a trust store. Each CRL must be signed by one of the
// CSCAs; revokedCards may be nil.
func NewTrustStore(cscas []*x509.Certificate, crls []*x509.RevocationList, revokedCards []string) (*TrustStore, error) {
	ts := &TrustStore{cscas: cscas, crls: map[*x509.Certificate][]*x509.RevocationList{}, revoked: map[string]bool{}, issuer: map[string]*x509.Certificate{}}
	for _, crl := range crls {
		found := false
		for _, ca := range cscas {
			if bytes.Equal(crl.RawIssuer, ca.RawSubject) && crl.CheckSignatureFrom(ca) == nil {
				ts.crls[ca] = append(ts.crls[ca], crl)
				found = true
				break
			}
		}
		if !found {
			return nil, ErrCRL
		}
	}
	for _, n := range revokedCards {
		ts.revoked[n] = true
	}
	return ts, nil
}

// csca returns the trusted CSCA that signed ds, or nil.
func (ts *TrustStore) csca(ds *x509.Certificate) *x509.Certificate {
	ts.mu.RLock()
	ca, ok := ts.issuer[string(ds.Raw)]
	ts.mu.RUnlock()
	if ok {
		return ca
	}
	for _, c := range ts.cscas {
		if bytes.Equal(ds.RawIssuer, c.RawSubject) && ds.CheckSignatureFrom(c) == nil {
			ca = c
			break
		}
	}
	if ca != nil { // failures are not cached: a bad DS should stay expensive
		ts.mu.Lock()
		ts.issuer[string(ds.Raw)] = ca
		ts.mu.Unlock()
	}
	return ca
}

func dateVN(t time.Time) string { return t.Format("02/01/2006") }

// Passive checks a card's data groups (number → TLV as read) and EF.SOD at
// time at. A data group listed in the SOD but not read is reported Skip; one
// read but not in the SOD fails.
func (ts *TrustStore) Passive(dgs map[int][]byte, sodBytes []byte, at time.Time) *Result {
	r := &Result{Checks: make([]Check, 0, 16)}
	s, err := sod.Parse(sodBytes)
	if err != nil {
		r.add("sod.parse", Fail, "Không đọc được SOD: "+faultVI(err), "The SOD cannot be read: "+faultEN(err))
		return r
	}
	r.add("sod.parse", Pass, "Đọc được SOD.", "The SOD was read.")

	if err := s.CheckSignature(); err != nil {
		r.add("sod.signature", Fail, "Chữ ký số của SOD không hợp lệ.", "The SOD signature is not valid.")
	} else {
		r.add("sod.signature", Pass, "Chữ ký số của SOD hợp lệ.", "The SOD signature is valid.")
	}
	if err := s.CheckDigest(); err != nil {
		r.add("sod.message_digest", Fail, "Giá trị băm đã ký không khớp nội dung SOD.", "The signed message digest does not match the SOD content.")
	} else {
		r.add("sod.message_digest", Pass, "Giá trị băm đã ký khớp nội dung SOD.", "The signed message digest matches the SOD content.")
	}

	ds := s.Signer
	ca := ts.csca(ds)
	switch {
	case ca == nil:
		r.add("ds.chain", Fail, "Chứng thư người ký (DS) không do CSCA tin cậy nào cấp.", "The document signer certificate was not issued by a trusted CSCA.")
	case ds.IsCA || ds.KeyUsage&x509.KeyUsageDigitalSignature == 0:
		// A DS is an end entity that signs; a CA certificate or one without
		// digitalSignature must not sign SODs even if the CSCA issued it.
		r.add("ds.chain", Fail, "Chứng thư DS không được phép ký (thiếu digitalSignature hoặc là CA).", "The DS certificate may not sign (no digitalSignature, or it is a CA).")
	default:
		r.add("ds.chain", Pass, "Chứng thư DS do CSCA tin cậy cấp.", "The DS certificate was issued by a trusted CSCA.")
	}
	if at.Before(ds.NotBefore) || at.After(ds.NotAfter) {
		r.add("ds.validity", Fail, fmt.Sprintf("Chứng thư DS không có hiệu lực vào thời điểm kiểm tra (hiệu lực %s–%s).", dateVN(ds.NotBefore), dateVN(ds.NotAfter)),
			fmt.Sprintf("The DS certificate is not valid at the check time (valid %s–%s).", dateVN(ds.NotBefore), dateVN(ds.NotAfter)))
	} else {
		r.add("ds.validity", Pass, "Chứng thư DS còn hiệu lực.", "The DS certificate is valid.")
	}
	if ca == nil {
		r.add("csca.validity", Skip, "Không có CSCA để kiểm tra.", "No CSCA to check.")
		r.add("ds.revocation", Skip, "Không có CSCA để kiểm tra thu hồi.", "No CSCA to check revocation against.")
	} else {
		if at.Before(ca.NotBefore) || at.After(ca.NotAfter) {
			r.add("csca.validity", Fail, "Chứng thư CSCA không có hiệu lực vào thời điểm kiểm tra.", "The CSCA certificate is not valid at the check time.")
		} else {
			r.add("csca.validity", Pass, "Chứng thư CSCA còn hiệu lực.", "The CSCA certificate is valid.")
		}
		ts.revocation(r, ca, ds, at)
	}

	ts.hashes(r, s, dgs)
	ts.mrz(r, dgs)
	return r
}

func (ts *TrustStore) revocation(r *Result, ca, ds *x509.Certificate, at time.Time) {
	crls := ts.crls[ca]
	if len(crls) == 0 {
		r.add("ds.revocation", Warn, "Không có CRL của CSCA: chưa kiểm tra được việc thu hồi DS.", "No CRL from the CSCA: DS revocation not checked.")
		return
	}
	stale := false
	for _, crl := range crls {
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(ds.SerialNumber) == 0 && !at.Before(e.RevocationTime) {
				r.add("ds.revocation", Fail, "Chứng thư DS đã bị thu hồi (có trong CRL).", "The DS certificate is revoked (listed in the CRL).")
				return
			}
		}
		stale = stale || at.After(crl.NextUpdate)
	}
	if stale {
		r.add("ds.revocation", Warn, "DS không có trong CRL, nhưng CRL đã quá hạn cập nhật.", "The DS is not in the CRL, but the CRL is past its next update.")
		return
	}
	r.add("ds.revocation", Pass, "Chứng thư DS không bị thu hồi.", "The DS certificate is not revoked.")
}

func (ts *TrustStore) hashes(r *Result, s *sod.SOD, dgs map[int][]byte) {
	for _, h := range s.LDS.Hashes {
		code := fmt.Sprintf("dg%d.hash", h.Number)
		dg, ok := dgs[h.Number]
		if !ok {
			r.add(code, Skip, fmt.Sprintf("DG%d không được đọc.", h.Number), fmt.Sprintf("DG%d was not read.", h.Number))
			continue
		}
		got := sha256.Sum256(dg)
		if !bytes.Equal(got[:], h.Hash) {
			r.add(code, Fail, fmt.Sprintf("Băm của DG%d không khớp với SOD.", h.Number), fmt.Sprintf("DG%d hash does not match the SOD.", h.Number))
		} else {
			r.add(code, Pass, fmt.Sprintf("Băm của DG%d khớp với SOD.", h.Number), fmt.Sprintf("DG%d hash matches the SOD.", h.Number))
		}
	}
	extra := make([]int, 0)
	for n := range dgs {
		if _, ok := s.Hash(n); !ok {
			extra = append(extra, n)
		}
	}
	sort.Ints(extra)
	for _, n := range extra {
		r.add(fmt.Sprintf("dg%d.hash", n), Fail, fmt.Sprintf("DG%d không có trong SOD (không được ký).", n), fmt.Sprintf("DG%d is not in the SOD (not signed).", n))
	}
}

func (ts *TrustStore) mrz(r *Result, dgs map[int][]byte) {
	b, ok := dgs[1]
	if !ok {
		r.add("dg1.mrz", Fail, "Thiếu DG1 (MRZ).", "DG1 (MRZ) is missing.")
		r.add("card.revoked", Skip, "Không có số thẻ để kiểm tra.", "No card number to check.")
		return
	}
	text, err := lds.ParseDG1(b)
	var d mrz.Data
	if err == nil {
		d, err = mrz.Parse(text)
	}
	if err != nil {
		r.add("dg1.mrz", Fail, "MRZ trong DG1 không hợp lệ: "+faultVI(err), "The MRZ in DG1 is not valid: "+faultEN(err))
		r.add("card.revoked", Skip, "Không có số thẻ để kiểm tra.", "No card number to check.")
		return
	}
	r.PIN = string(d.PIN)
	r.add("dg1.mrz", Pass, "MRZ hợp lệ, mọi chữ số kiểm tra đúng.", "The MRZ is valid; every check digit is right.")
	if ts.revoked[string(d.PIN)] || ts.revoked[string(d.PIN[3:])] {
		r.add("card.revoked", Fail, "Thẻ đã bị thu hồi hoặc báo mất trong CSDL.", "The card is revoked or reported lost in the register.")
	} else {
		r.add("card.revoked", Pass, "Thẻ không bị thu hồi.", "The card is not revoked.")
	}
	if b13, ok := dgs[13]; ok {
		d13, err := lds.ParseDG13(b13)
		switch {
		case err != nil:
			r.add("dg13.consistent", Fail, "Không đọc được DG13.", "DG13 cannot be read.")
		case d13.PIN != string(d.PIN):
			r.add("dg13.consistent", Fail, "Số định danh trong DG13 khác trong MRZ.", "The PIN in DG13 differs from the MRZ.")
		default:
			r.add("dg13.consistent", Pass, "DG13 khớp với MRZ.", "DG13 agrees with the MRZ.")
		}
	}
}
