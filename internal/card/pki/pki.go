// Package pki keeps the card-signing keys in the ICAO Doc 9303 Part 12 style:
// one self-signed country signing CA (CSCA) and document-signer (DS)
// certificates it issues. The DS key signs each card's SOD; readers trust
// the CSCA, which they get from the master list.
//
// Key material lives as PEM files in one directory:
//
//	csca.pem, csca.key           the CSCA certificate and key
//	ds/<serial>.pem, .key        every DS ever issued (old ones stay, so
//	                             cards signed with them still verify)
//	ds/current                   serial (hex) of the DS that signs now
//	revoked.txt                  "serial-hex RFC3339-time" per revoked DS
//	crlnumber                    last CRL number issued
//	crl.der, masterlist.pem      the latest CRL and the CSCA bundle
//
// Every file is written 0600 in a 0700 directory, atomically (temp file and
// rename). Private keys are never logged or put in errors, and are kept by
// a KeyStore (Options.Keys): sealed with a configured key in the platform
// (SealedFiles), in the clear by default for tests and tools (PlainFiles),
// or in a hardware module behind the same interface.
package pki

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/card"
)

// Options tune the authority. The zero value of a field means its default.
type Options struct {
	Country      string // ISO 3166 alpha-2, default "VN"
	Organization string // default "Bộ Công an"
	// CSCAValidity is how long the CSCA certificate is valid. Default: five
	// years of issuing DS certificates plus a DS certificate's validity, so
	// a DS issued in the CSCA's fifth year still covers its cards.
	CSCAValidity time.Duration
	// DSKeyUsage is how long a DS key signs cards: the short period ICAO
	// recommends (default 90 days), recorded in the certificate's
	// PrivateKeyUsagePeriod extension. After it, RotateSigner.
	DSKeyUsage time.Duration
	// DSValidity is how long a DS certificate verifies: the key usage
	// period plus the longest time a card it signs must verify, so the last
	// card signed on the last day of the usage period still verifies to its
	// end. The longest is a lifetime card's card.LifetimeVerifyYears (62
	// years: issued at 58, to the holder's 120th birthday); a fixed-term
	// card verifies at most 22 years (issued at 38, valid to 60). Default
	// DSKeyUsage + 62 years + 2 days (a card's last day is a whole civil
	// day in Vietnam).
	DSValidity time.Duration
	Now        func() time.Time // default time.Now
	Rand       io.Reader        // default crypto/rand
	// Keys holds the private keys; default PlainFiles in the directory.
	Keys KeyStore
}

func (o Options) keys(dir string) KeyStore {
	if o.Keys != nil {
		return o.Keys
	}
	return PlainFiles(dir)
}

const year = 365*24*time.Hour + 6*time.Hour

func (o Options) withDefaults() Options {
	if o.Country == "" {
		o.Country = "VN"
	}
	if o.Organization == "" {
		o.Organization = "Bộ Công an"
	}
	if o.DSKeyUsage == 0 {
		o.DSKeyUsage = 90 * 24 * time.Hour
	}
	if o.DSValidity == 0 {
		o.DSValidity = o.DSKeyUsage + card.LifetimeVerifyYears*year + 2*24*time.Hour
	}
	if o.CSCAValidity == 0 {
		o.CSCAValidity = 5*year + o.DSValidity
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return o
}

// Authority is the loaded key material.
type Authority struct {
	CSCA    *x509.Certificate
	Signer  *x509.Certificate   // the current DS
	Signers []*x509.Certificate // every DS, oldest first, current included
	Revoked []x509.RevocationListEntry

	cscaKey   crypto.Signer
	signerKey crypto.Signer
}

// SignerKey is the current DS private key, for sod.Sign.
func (a *Authority) SignerKey() crypto.Signer { return a.signerKey }

// ErrCSCATooShort is returned by RotateSigner when the CSCA ends before a new
// DS certificate would: the DS could not cover the cards it signs.
var ErrCSCATooShort = errors.New("card/pki: the CSCA ends before a new document signer would; a new CSCA is needed")

// ErrExists is returned by Init when the directory already has a CSCA.
var ErrExists = errors.New("card/pki: a CSCA already exists in this directory")

// OIDPrivateKeyUsagePeriod is id-ce-privateKeyUsagePeriod (RFC 3280 §4.2.1.4),
// which ICAO Part 12 uses on DS certificates.
var OIDPrivateKeyUsagePeriod = asn1.ObjectIdentifier{2, 5, 29, 16}

// Init creates a CSCA and a first DS in dir with default options.
func Init(dir string) (*Authority, error) { return Options{}.Init(dir) }

// RotateSigner issues a new DS with default options and makes it current.
func RotateSigner(dir string) (*Authority, error) { return Options{}.RotateSigner(dir) }

// Init creates a CSCA and a first DS in dir, which may exist but must not
// hold a CSCA: existing keys are never overwritten.
func (o Options) Init(dir string) (*Authority, error) {
	o = o.withDefaults()
	if err := os.MkdirAll(filepath.Join(dir, "ds"), 0o700); err != nil {
		return nil, fmt.Errorf("card/pki: create key directory: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "csca.pem")); err == nil {
		return nil, ErrExists
	}
	der, err := o.newRootCA(dir, "csca", "CSCA "+o.Country, o.CSCAValidity, "CSCA")
	if err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(dir, "csca.pem"), pemBytes("CERTIFICATE", der), 0o600); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(dir, "masterlist.pem"), pemBytes("CERTIFICATE", der), 0o600); err != nil {
		return nil, err
	}
	return o.RotateSigner(dir)
}

// newRootCA generates the key keyID and self-signs a CA certificate for it
// (o with defaults applied), valid from now for validity, that certifies
// end-entity signers only (path length zero). It returns the certificate's
// DER; what names the CA in errors. Both roots — the CSCA and the platform
// CA for results — are made here, so they differ only in name and validity.
func (o Options) newRootCA(dir, keyID, commonName string, validity time.Duration, what string) ([]byte, error) {
	// The key goes first: a certificate without its key would block Init.
	key, err := o.keys(dir).Generate(keyID, o.Rand)
	if err != nil {
		return nil, err
	}
	now := o.Now().UTC().Truncate(time.Second)
	serial, err := newSerial(o.Rand)
	if err != nil {
		return nil, err
	}
	name := pkix.Name{Country: []string{o.Country}, Organization: []string{o.Organization}, CommonName: commonName}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		Issuer:                name,
		NotBefore:             now,
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(o.Rand, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("card/pki: self-sign %s: %w", what, err)
	}
	return der, nil
}

// RotateSigner issues a new DS certificate from the CSCA in dir and makes it
// the current signer. Old DS certificates and keys stay for verification
// (the keys could be destroyed after their usage period; not done here).
func (o Options) RotateSigner(dir string) (*Authority, error) {
	o = o.withDefaults()
	a, err := o.load(dir, false)
	if err != nil {
		return nil, err
	}
	now := o.Now().UTC().Truncate(time.Second)
	serial, err := newSerial(o.Rand)
	if err != nil {
		return nil, err
	}
	hex := serial.Text(16)
	key, err := o.keys(dir).Generate("ds/"+hex, o.Rand)
	if err != nil {
		return nil, err
	}
	usage, err := asn1.Marshal(struct {
		NotBefore time.Time `asn1:"generalized,optional,tag:0"`
		NotAfter  time.Time `asn1:"generalized,optional,tag:1"`
	}{now, now.Add(o.DSKeyUsage)})
	if err != nil {
		return nil, fmt.Errorf("card/pki: encode key usage period: %w", err)
	}
	// A DS cannot outlive its CA, and a DS shorter than DSValidity would
	// leave the cards it signs unverifiable before their end: refuse rather
	// than cut it short. The way on is a new CSCA.
	notAfter := now.Add(o.DSValidity)
	if notAfter.After(a.CSCA.NotAfter) {
		return nil, fmt.Errorf("%w: the CSCA ends %s, a new DS must verify to %s", ErrCSCATooShort,
			a.CSCA.NotAfter.Format(time.DateOnly), notAfter.Format(time.DateOnly))
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{Country: a.CSCA.Subject.Country, Organization: a.CSCA.Subject.Organization,
			CommonName: "Document Signer " + now.Format("20060102150405")},
		NotBefore:       now,
		NotAfter:        notAfter,
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: OIDPrivateKeyUsagePeriod, Value: usage}},
	}
	der, err := x509.CreateCertificate(o.Rand, tmpl, a.CSCA, key.Public(), a.cscaKey)
	if err != nil {
		return nil, fmt.Errorf("card/pki: issue DS: %w", err)
	}
	if err := writeCurrent(filepath.Join(dir, "ds"), hex, der); err != nil {
		return nil, err
	}
	return o.Load(dir)
}

// writeCurrent stores a newly issued signer's certificate as <hex>.pem in
// sub and names it in sub/current, the file the next load reads.
func writeCurrent(sub, hex string, der []byte) error {
	if err := writeFile(filepath.Join(sub, hex+".pem"), pemBytes("CERTIFICATE", der), 0o600); err != nil {
		return err
	}
	return writeFile(filepath.Join(sub, "current"), []byte(hex+"\n"), 0o600)
}

// Load reads the authority in dir with default options (unsealed keys).
func Load(dir string) (*Authority, error) { return Options{}.Load(dir) }

// Load reads the authority in dir: the CSCA with its key and every DS, the
// current one with its key.
func (o Options) Load(dir string) (*Authority, error) { return o.load(dir, true) }

// samePublic reports whether a signer's public key is a certificate's.
func samePublic(s crypto.Signer, c *x509.Certificate) bool {
	pub, ok := s.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(c.PublicKey)
}

func (o Options) load(dir string, withSigner bool) (*Authority, error) {
	a := &Authority{}
	keys := o.keys(dir)
	var err error
	if a.CSCA, err = readCert(filepath.Join(dir, "csca.pem")); err != nil {
		return nil, err
	}
	if a.cscaKey, err = keys.Signer("csca"); err != nil {
		return nil, err
	}
	if !samePublic(a.cscaKey, a.CSCA) {
		return nil, fmt.Errorf("card/pki: csca.key does not match csca.pem")
	}
	names, err := filepath.Glob(filepath.Join(dir, "ds", "*.pem"))
	if err != nil {
		return nil, fmt.Errorf("card/pki: list DS certificates: %w", err)
	}
	for _, n := range names {
		c, err := readCert(n)
		if err != nil {
			return nil, err
		}
		a.Signers = append(a.Signers, c)
	}
	sort.Slice(a.Signers, func(i, j int) bool { return a.Signers[i].NotBefore.Before(a.Signers[j].NotBefore) })
	if a.Revoked, err = readRevoked(dir); err != nil {
		return nil, err
	}
	if !withSigner {
		return a, nil
	}
	cur, err := os.ReadFile(filepath.Join(dir, "ds", "current"))
	if err != nil {
		return nil, fmt.Errorf("card/pki: read current DS: %w", err)
	}
	hex := strings.TrimSpace(string(cur))
	if _, ok := new(big.Int).SetString(hex, 16); !ok {
		return nil, fmt.Errorf("card/pki: ds/current is not a hexadecimal serial")
	}
	if a.Signer, err = readCert(filepath.Join(dir, "ds", hex+".pem")); err != nil {
		return nil, err
	}
	if a.signerKey, err = keys.Signer("ds/" + hex); err != nil {
		return nil, err
	}
	if !samePublic(a.signerKey, a.Signer) {
		return nil, fmt.Errorf("card/pki: current DS key does not match its certificate")
	}
	return a, nil
}

// Revoke records a DS certificate (by serial) as revoked at t; the next
// IssueCRL lists it. Revoking twice is not an error.
func Revoke(dir string, serial *big.Int, t time.Time) error {
	revoked, err := readRevoked(dir)
	if err != nil {
		return err
	}
	for _, r := range revoked {
		if r.SerialNumber.Cmp(serial) == 0 {
			return nil
		}
	}
	var b bytes.Buffer
	for _, r := range revoked {
		fmt.Fprintf(&b, "%s %s\n", r.SerialNumber.Text(16), r.RevocationTime.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "%s %s\n", serial.Text(16), t.UTC().Format(time.RFC3339))
	return writeFile(filepath.Join(dir, "revoked.txt"), b.Bytes(), 0o600)
}

func readRevoked(dir string) ([]x509.RevocationListEntry, error) {
	b, err := os.ReadFile(filepath.Join(dir, "revoked.txt"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("card/pki: read revoked.txt: %w", err)
	}
	var out []x509.RevocationListEntry
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("card/pki: revoked.txt line %d: want serial and time", i+1)
		}
		s, ok := new(big.Int).SetString(f[0], 16)
		t, err := time.Parse(time.RFC3339, f[1])
		if !ok || err != nil {
			return nil, fmt.Errorf("card/pki: revoked.txt line %d: bad serial or time", i+1)
		}
		out = append(out, x509.RevocationListEntry{SerialNumber: s, RevocationTime: t})
	}
	return out, nil
}

// IssueCRL is Options.IssueCRL with default options (unsealed keys).
func IssueCRL(dir string, now time.Time, nextUpdate time.Duration) ([]byte, error) {
	return Options{}.IssueCRL(dir, now, nextUpdate)
}

// IssueCRL signs a CRL of the revoked DS certificates with the CSCA, valid
// from now for nextUpdate, writes it to crl.der and returns the DER. CRL
// numbers increase by one each time.
func (o Options) IssueCRL(dir string, now time.Time, nextUpdate time.Duration) ([]byte, error) {
	a, err := o.load(dir, false)
	if err != nil {
		return nil, err
	}
	n := int64(0)
	if b, err := os.ReadFile(filepath.Join(dir, "crlnumber")); err == nil {
		if n, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err != nil {
			return nil, fmt.Errorf("card/pki: crlnumber: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("card/pki: read crlnumber: %w", err)
	}
	n++
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(n),
		ThisUpdate:                now.UTC(),
		NextUpdate:                now.UTC().Add(nextUpdate),
		RevokedCertificateEntries: a.Revoked,
	}, a.CSCA, a.cscaKey)
	if err != nil {
		return nil, fmt.Errorf("card/pki: sign CRL: %w", err)
	}
	if err := writeFile(filepath.Join(dir, "crlnumber"), []byte(strconv.FormatInt(n, 10)+"\n"), 0o600); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(dir, "crl.der"), der, 0o600); err != nil {
		return nil, err
	}
	return der, nil
}

// MasterList is the CSCA bundle readers import, as PEM. ICAO's master list
// is a CMS SignedData signed by a master-list signer; this PEM bundle is the
// interim form: readers that need the signed ICAO master list are a known limit
// (docs/architecture.md).
func (a *Authority) MasterList() []byte { return pemBytes("CERTIFICATE", a.CSCA.Raw) }

// ParseMasterList reads a PEM bundle of CSCA certificates; each must be a
// self-signed CA.
func ParseMasterList(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("card/pki: master list: %w", err)
		}
		if !c.IsCA || c.CheckSignatureFrom(c) != nil {
			return nil, fmt.Errorf("card/pki: master list: %q is not a self-signed CA", c.Subject.CommonName)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("card/pki: master list holds no certificate")
	}
	return out, nil
}

// Fingerprint is the SHA-256 of a certificate, for logs and audit (never a key).
func Fingerprint(c *x509.Certificate) string {
	s := sha256.Sum256(c.Raw)
	return fmt.Sprintf("%X", s[:])
}

func newSerial(r io.Reader) (*big.Int, error) {
	s, err := rand.Int(r, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("card/pki: serial number: %w", err)
	}
	return s.Add(s, big.NewInt(1)), nil // positive, never zero
}

func pemBytes(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// writeFile writes atomically: a reader sees the old file or the new one.
func writeFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("card/pki: write %s: %w", filepath.Base(path), err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("card/pki: write %s: %w", filepath.Base(path), err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("card/pki: write %s: %w", filepath.Base(path), err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("card/pki: write %s: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("card/pki: write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("card/pki: write %s: %w", filepath.Base(path), err)
	}
	return nil
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("card/pki: read %s: %w", filepath.Base(path), err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("card/pki: %s is not a PEM certificate", filepath.Base(path))
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("card/pki: parse %s: %w", filepath.Base(path), err)
	}
	return c, nil
}
