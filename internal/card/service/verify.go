package service

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/card/lds"
	"github.com/dancu-project/dancu/internal/card/mrz"
	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/card/qr"
	"github.com/dancu-project/dancu/internal/card/verify"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
)

// EnsurePKI creates the CSCA and a first document signer in dir, their
// keys in keys (nil: in the clear in dir), when it has none, so a fresh
// data directory serves cards with no extra step. It reports whether it
// created them.
func EnsurePKI(dir string, keys pki.KeyStore) (bool, error) {
	if _, err := os.Stat(filepath.Join(dir, "csca.pem")); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("card pki: %w", err)
	}
	if _, err := (pki.Options{Keys: keys}).Init(dir); err != nil {
		return false, fmt.Errorf("card pki: init: %w", err)
	}
	return true, nil
}

// trustCache keeps what verification and publication need from the PKI
// directory, reloaded at most every trustTTL: the CSCA, a CRL and the
// signed master list.
type trustCache struct {
	mu         sync.Mutex
	loaded     time.Time
	csca       *x509.Certificate
	crl        *x509.RevocationList
	crlDER     []byte
	masterList []byte
	// base trusts the CSCA and CRL with an empty revocation list: most cards
	// presented are not revoked, and a shared store keeps its cache of
	// verified DS chains between requests.
	base *verify.TrustStore
	// change, when set (SharePKI), runs the reissue of the CRL or master
	// list so that it reaches every node.
	change func(ctx context.Context, fn func() error) error
}

const (
	trustTTL      = time.Minute
	crlValidity   = 7 * 24 * time.Hour
	crlRenewAhead = 24 * time.Hour // reissue a CRL this long before its next update
)

func (s *Service) trustNow() (*x509.Certificate, *x509.RevocationList, error) {
	csca, crl, _, err := s.trustStore()
	return csca, crl, err
}

// trustStore returns the CSCA, the CRL and the shared trust store.
func (s *Service) trustStore() (*x509.Certificate, *x509.RevocationList, *verify.TrustStore, error) {
	t := &s.trust
	t.mu.Lock()
	defer t.mu.Unlock()
	now := s.now()
	if t.csca != nil && now.Sub(t.loaded) < trustTTL && now.Before(t.crl.NextUpdate) {
		return t.csca, t.crl, t.base, nil
	}
	a, err := s.pki.Load(s.pkiDir)
	if err != nil {
		return nil, nil, nil, ErrPKI.Wrap(err)
	}
	// A CRL that is missing, unreadable, stale soon, or older than the list
	// of revoked signers is issued again.
	readCRL := func() ([]byte, *x509.RevocationList, bool) {
		der, err := os.ReadFile(filepath.Join(s.pkiDir, "crl.der"))
		if err != nil {
			return nil, nil, false
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil || now.Add(crlRenewAhead).After(crl.NextUpdate) || len(crl.RevokedCertificateEntries) != len(a.Revoked) {
			return nil, nil, false
		}
		return der, crl, true
	}
	der, crl, ok := readCRL()
	if !ok {
		err := t.reissue(func() error {
			// Another node may have issued one since: the change pulled it.
			if der, crl, ok = readCRL(); ok {
				return nil
			}
			d, err := s.pki.IssueCRL(s.pkiDir, now, crlValidity)
			if err != nil {
				return err
			}
			c, err := x509.ParseRevocationList(d)
			der, crl = d, c
			return err
		})
		if err != nil {
			return nil, nil, nil, ErrPKI.Wrap(err)
		}
	}
	ml, err := os.ReadFile(filepath.Join(s.pkiDir, "masterlist.der"))
	if err != nil {
		err = t.reissue(func() (err error) {
			if ml, err = os.ReadFile(filepath.Join(s.pkiDir, "masterlist.der")); err == nil {
				return nil
			}
			ml, err = s.pki.IssueMasterList(s.pkiDir)
			return err
		})
		if err != nil {
			return nil, nil, nil, ErrPKI.Wrap(err)
		}
	}
	base, err := verify.NewTrustStore([]*x509.Certificate{a.CSCA}, []*x509.RevocationList{crl}, nil)
	if err != nil {
		return nil, nil, nil, ErrPKI.Wrap(err)
	}
	t.csca, t.crl, t.crlDER, t.masterList, t.base, t.loaded = a.CSCA, crl, der, ml, base, now
	return t.csca, t.crl, t.base, nil
}

// SharePKI has the CRL and master list this node reissues (when stale or
// missing) made through change — pkistore.Mirror.Change: under the PKI
// lease, after a pull (another node's fresh one is taken instead) and
// pushed after — so every node serves the one CRL instead of each its own
// until the next PKI change. Verifications wait on the lease meanwhile
// (a CRL is reissued about once a week).
func (s *Service) SharePKI(change func(ctx context.Context, fn func() error) error) {
	s.trust.mu.Lock()
	defer s.trust.mu.Unlock()
	s.trust.change = change
}

// reissue runs fn through the shared change when there is one; t.mu is
// held.
func (t *trustCache) reissue(fn func() error) error {
	if t.change == nil {
		return fn()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return t.change(ctx, fn)
}

// MasterList is the CSCA master list in ICAO form (CMS SignedData, DER).
func (s *Service) MasterList() ([]byte, error) {
	if _, _, err := s.trustNow(); err != nil {
		return nil, err
	}
	s.trust.mu.Lock()
	defer s.trust.mu.Unlock()
	return s.trust.masterList, nil
}

// CRL is the CSCA's current certificate revocation list (DER).
func (s *Service) CRL() ([]byte, error) {
	if _, _, err := s.trustNow(); err != nil {
		return nil, err
	}
	s.trust.mu.Lock()
	defer s.trust.mu.Unlock()
	return s.trust.crlDER, nil
}

// VerifyInput is what a reader presents: a chip dump, or a QR string.
type VerifyInput struct {
	Serial     string         `json:"serial,omitempty"` // ignored: the dump names itself, the SOD decides
	PIN        string         `json:"pin,omitempty"`    // ignored, likewise
	DataGroups map[int][]byte `json:"data_groups,omitempty"`
	SOD        []byte         `json:"sod,omitempty"`
	QR         string         `json:"qr,omitempty"`
}

// CheckView is one check of a report.
type CheckView struct {
	Code    string `json:"code"`
	Status  string `json:"status"` // pass, fail, warn, skip
	Message string `json:"message"`
	English string `json:"english"`
}

// Report is the answer of a verification.
type Report struct {
	OK         bool        `json:"ok"`
	Kind       string      `json:"kind"` // "chip" or "qr"
	PIN        string      `json:"pin,omitempty"`
	Serial     string      `json:"serial,omitempty"`
	CardStatus string      `json:"card_status,omitempty"`
	Compared   bool        `json:"compared"`
	Checks     []CheckView `json:"checks"`
}

// Verify checks a chip dump (passive authentication with the platform's
// CSCA and CRL, and the register's revocation list) or a QR string. With a
// staff member (a != nil) the card is also compared with the register,
// through an audited, scoped read; without one only the card's own checks
// are reported. Verification writes nothing but that audit entry.
func (s *Service) Verify(ctx context.Context, a *actor.Actor, in VerifyInput) (*Report, error) {
	hasChip := len(in.DataGroups) > 0 || len(in.SOD) > 0
	if hasChip == (in.QR != "") {
		return nil, ErrVerifyInput
	}
	var rep *Report
	var err error
	if hasChip {
		rep, err = s.verifyChip(ctx, a, in)
	} else {
		rep, err = s.verifyQR(ctx, a, in.QR)
	}
	if rep != nil && a == nil {
		rep.Serial = "" // the public learns the card's status, not its serial
	}
	return rep, err
}

func (s *Service) verifyChip(ctx context.Context, a *actor.Actor, in VerifyInput) (*Report, error) {
	if len(in.SOD) == 0 || len(in.DataGroups) == 0 {
		return nil, ErrChipInvalid
	}
	for n, dg := range in.DataGroups {
		if n < 1 || n > 16 || len(dg) == 0 {
			return nil, ErrChipInvalid.WithField(fmt.Sprintf("data_groups.%d", n))
		}
	}
	csca, crl, ts, err := s.trustStore()
	if err != nil {
		return nil, err
	}
	c, err := loadCard(ctx, s.db.R, "sod_hash = $1", "", hexHash(in.SOD))
	found := err == nil
	if err != nil && !errors.Is(err, errNoCard) {
		return nil, err
	}
	if found && revokedStatuses[c.Status] {
		// This card's number goes on the revocation list verify checks.
		// Only this card's: a reissued card carries the same number.
		if ts, err = verify.NewTrustStore([]*x509.Certificate{csca}, []*x509.RevocationList{crl}, []string{c.PIN}); err != nil {
			return nil, ErrPKI.Wrap(err)
		}
	}
	res := ts.Passive(in.DataGroups, in.SOD, s.now())
	rep := &Report{Kind: "chip", PIN: res.PIN}
	registerCheck(res, rep, c, found)
	if a != nil && res.PIN != "" {
		card := cardFields(in.DataGroups)
		if card != nil {
			if err := s.compare(ctx, *a, res, rep, card, c, found); err != nil {
				return nil, err
			}
		}
	}
	if !rep.Compared {
		notCompared(res, a == nil)
	}
	return finish(res, rep), nil
}

// cardFields takes the comparable fields of DG13, else of the MRZ in DG1.
func cardFields(dgs map[int][]byte) verify.Fields {
	if b, ok := dgs[13]; ok {
		if d, err := lds.ParseDG13(b); err == nil {
			return verify.FromDG13(d)
		}
	}
	if b, ok := dgs[1]; ok {
		if text, err := lds.ParseDG1(b); err == nil {
			if d, err := mrz.Parse(text); err == nil {
				return verify.FromMRZ(d)
			}
		}
	}
	return nil
}

func (s *Service) verifyQR(ctx context.Context, a *actor.Actor, payload string) (*Report, error) {
	rep := &Report{Kind: "qr"}
	var c Card
	found := false
	var register verify.Fields
	p, perr := qr.Parse(payload)
	if perr == nil {
		rep.PIN = string(p.PIN)
		var err error
		c, err = loadCard(ctx, s.db.R, "pin = $1 AND issue_date = $2 AND sod_hash <> ''", "", string(p.PIN), p.Issue.String())
		if err == nil {
			found = true
		} else if !errors.Is(err, errNoCard) {
			return nil, err
		}
	}
	var skipReason *fault.Error
	if a != nil && perr == nil {
		person, err := s.reg.Get(ctx, *a, string(p.PIN), "card-verification")
		switch {
		case err == nil:
			register = registerFields(person, c, found)
		case fault.As(err).Kind == fault.Internal:
			return nil, err
		default:
			skipReason = fault.As(err)
		}
	}
	res := verify.QR(payload, register)
	if register == nil {
		// verify.QR compares with whatever it is given; with no register
		// record its "matches" would be empty, so those checks are dropped.
		kept := res.Checks[:0]
		for _, ch := range res.Checks {
			if !strings.HasPrefix(ch.Code, "compare") {
				kept = append(kept, ch)
			}
		}
		res.Checks = kept
	} else {
		rep.Compared = true
	}
	if perr == nil {
		registerCheck(res, rep, c, found)
	}
	if !rep.Compared {
		if skipReason != nil {
			res.Checks = append(res.Checks, verify.Check{Code: "compare", Status: verify.Skip, Message: "Không đối chiếu được với CSDL: " + skipReason.Message,
				English: "Not compared with the register: " + skipReason.English})
		} else {
			notCompared(res, a == nil)
		}
	}
	return finish(res, rep), nil
}

// compare adds the comparison with the register, or a skip saying why not.
func (s *Service) compare(ctx context.Context, a actor.Actor, res *verify.Result, rep *Report, card verify.Fields, c Card, found bool) error {
	p, err := s.reg.Get(ctx, a, res.PIN, "card-verification")
	if err != nil {
		f := fault.As(err)
		if f.Kind == fault.Internal {
			return err
		}
		res.Checks = append(res.Checks, verify.Check{Code: "compare", Status: verify.Skip, Message: "Không đối chiếu được với CSDL: " + f.Message,
			English: "Not compared with the register: " + f.English})
		rep.Compared = true // a reason is given; no second skip
		return nil
	}
	res.AddComparison(verify.Compare(card, registerFields(p, c, found)))
	rep.Compared = true
	return nil
}

// registerFields are the register's values to compare a card with; issue
// and expiry come from the card's own row when it is known.
func registerFields(p registry.Person, c Card, found bool) verify.Fields {
	f := verify.Fields{verify.FieldPIN: p.PIN, verify.FieldName: p.FullName, verify.FieldBirth: p.BirthDate.String(),
		verify.FieldSex: p.Sex, verify.FieldAddress: p.Permanent.Text}
	if found {
		f[verify.FieldIssue] = c.IssueDate
		f[verify.FieldExpiry] = c.ExpiryDate
	}
	return f
}

func notCompared(res *verify.Result, anonymous bool) {
	if anonymous {
		res.Checks = append(res.Checks, verify.Check{Code: "compare", Status: verify.Skip,
			Message: "Chưa đối chiếu với CSDL: cần cán bộ đăng nhập.", English: "Not compared with the register: a signed-in staff member is needed."})
		return
	}
	res.Checks = append(res.Checks, verify.Check{Code: "compare", Status: verify.Skip,
		Message: "Không đọc được dữ liệu thẻ để đối chiếu.", English: "The card data could not be read for comparison."})
}

// registerCheck says what the card register knows of this card: a revoked
// or lost card fails with its reason.
func registerCheck(res *verify.Result, rep *Report, c Card, found bool) {
	if !found {
		res.Checks = append(res.Checks, verify.Check{Code: "card.register", Status: verify.Warn,
			Message: "Không tìm thấy thẻ này trong CSDL căn cước.", English: "This card is not in the card register."})
		return
	}
	rep.Serial, rep.CardStatus = c.Serial, c.Status
	switch c.Status {
	case Lost:
		res.Checks = append(res.Checks, verify.Check{Code: "card.register", Status: verify.Fail,
			Message: "Thẻ đã bị báo mất.", English: "The card was reported lost."})
	case Revoked, Replaced:
		why := ReasonText[c.Reason]
		if why[0] == "" {
			why = [2]string{c.Reason, c.Reason}
		}
		res.Checks = append(res.Checks, verify.Check{Code: "card.register", Status: verify.Fail,
			Message: "Thẻ đã bị thu hồi (lý do: " + why[0] + ").", English: "The card has been revoked (reason: " + why[1] + ")."})
	default:
		res.Checks = append(res.Checks, verify.Check{Code: "card.register", Status: verify.Pass,
			Message: "Thẻ có trong CSDL căn cước và còn hiệu lực.", English: "The card is in the card register and valid."})
	}
}

func finish(res *verify.Result, rep *Report) *Report {
	rep.OK = res.OK()
	rep.Checks = make([]CheckView, len(res.Checks))
	for i, c := range res.Checks {
		rep.Checks[i] = CheckView{Code: c.Code, Status: c.Status.String(), Message: c.Message, English: c.English}
	}
	return rep
}

// QRImage renders a produced card's QR code as PNG.
func (s *Service) QRImage(ctx context.Context, a actor.Actor, serial string) ([]byte, error) {
	c, err := s.Get(ctx, a, serial, "card-qr")
	if err != nil {
		return nil, err
	}
	if c.QR == "" {
		return nil, ErrNoChip
	}
	p, err := qr.Parse(c.QR)
	if err != nil {
		return nil, fmt.Errorf("stored QR of %s: %w", c.Serial, err)
	}
	return qr.Encode(p)
}
