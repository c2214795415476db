package pki

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The platform's results (kết quả giải quyết thủ tục) are signed under a
// CA of their own, not the CSCA. The CSCA's trust is ICAO's: every reader
// that imports the master list accepts whatever the CSCA certifies as a
// card's document signer, so a results key certified by the CSCA could sign
// a card's SOD that passive authentication accepts. A separate platform CA
// keeps the two trusts apart: relying parties of results (a PDF reader's
// trust list, pdfsig's NSS database) trust the platform CA, card readers
// the CSCA. Files, in the PKI directory beside the card keys:
//
//	results/ca.pem, ca.key        the platform CA (self-signed)
//	results/<serial>.pem, .key    every results signer ever issued
//	results/current               serial (hex) of the signer that signs now
//
// The keys are kept by the same KeyStore (ids "results/ca" and
// "results/<serial hex>"), sealed at rest by SealedFiles.

// ResultsOptions tune the platform CA and its results signers.
type ResultsOptions struct {
	// CAValidity defaults to 30 years: a result verifies for as long as
	// its signer's certificate, which must end within the CA.
	CAValidity time.Duration
	// SignerValidity defaults to 10 years; a signer is rotated long
	// before (RotateResultsSigner) and old ones stay for verification.
	SignerValidity time.Duration
}

// ResultsSigner is the loaded platform CA and the current results signer.
type ResultsSigner struct {
	CA   *x509.Certificate
	Cert *x509.Certificate
	key  crypto.Signer
}

// Key is the current results signer's private key (a KeyStore signer).
func (r *ResultsSigner) Key() crypto.Signer { return r.key }

// ErrResultsExist is returned by InitResults when the platform CA exists.
var ErrResultsExist = errors.New("card/pki: a platform CA for results already exists in this directory")

func (r ResultsOptions) withDefaults() ResultsOptions {
	if r.CAValidity == 0 {
		r.CAValidity = 30 * year
	}
	if r.SignerValidity == 0 {
		r.SignerValidity = 10 * year
	}
	return r
}

// InitResults creates the platform CA and a first results signer in dir
// (which may hold the card PKI; its files are not touched).
func (o Options) InitResults(dir string, r ResultsOptions) (*ResultsSigner, error) {
	o, r = o.withDefaults(), r.withDefaults()
	if err := os.MkdirAll(filepath.Join(dir, "results"), 0o700); err != nil {
		return nil, fmt.Errorf("card/pki: create results directory: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "results", "ca.pem")); err == nil {
		return nil, ErrResultsExist
	}
	der, err := o.newRootCA(dir, "results/ca", "Dancu Platform CA "+o.Country, r.CAValidity, "platform CA")
	if err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(dir, "results", "ca.pem"), pemBytes("CERTIFICATE", der), 0o600); err != nil {
		return nil, err
	}
	return o.RotateResultsSigner(dir, r)
}

// RotateResultsSigner issues a new results signer from the platform CA and
// makes it current; earlier signers stay, so results they signed verify.
func (o Options) RotateResultsSigner(dir string, r ResultsOptions) (*ResultsSigner, error) {
	o, r = o.withDefaults(), r.withDefaults()
	ca, caKey, err := o.loadResultsCA(dir)
	if err != nil {
		return nil, err
	}
	now := o.Now().UTC().Truncate(time.Second)
	notAfter := now.Add(r.SignerValidity)
	if notAfter.After(ca.NotAfter) {
		return nil, fmt.Errorf("card/pki: the platform CA ends %s, before a new results signer would", ca.NotAfter.Format(time.DateOnly))
	}
	serial, err := newSerial(o.Rand)
	if err != nil {
		return nil, err
	}
	hex := serial.Text(16)
	key, err := o.keys(dir).Generate("results/"+hex, o.Rand)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{Country: ca.Subject.Country, Organization: ca.Subject.Organization,
			CommonName: "Dancu Results Signer " + now.Format("20060102150405")},
		NotBefore: now,
		NotAfter:  notAfter,
		// Non-repudiation (contentCommitment) with digitalSignature is what
		// document signatures carry. No extended key usage is set: with
		// id-kp-documentSigning (RFC 9336) alone, Debian 12's pdfsig (NSS
		// 3.87) answers "Unknown issue with Certificate" — it checks a
		// signer for the e-mail signing usage — so the list would lock out
		// the readers in use (tried in TestPdfsigValid's setting).
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	der, err := x509.CreateCertificate(o.Rand, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("card/pki: issue results signer: %w", err)
	}
	if err := writeCurrent(filepath.Join(dir, "results"), hex, der); err != nil {
		return nil, err
	}
	return o.LoadResults(dir)
}

// LoadResults reads the platform CA and the current results signer with
// its key.
func (o Options) LoadResults(dir string) (*ResultsSigner, error) {
	o = o.withDefaults()
	ca, err := readCert(filepath.Join(dir, "results", "ca.pem"))
	if err != nil {
		return nil, err
	}
	cur, err := os.ReadFile(filepath.Join(dir, "results", "current"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("card/pki: no current results signer: %w", err)
	} else if err != nil {
		return nil, fmt.Errorf("card/pki: read results/current: %w", err)
	}
	hex := strings.TrimSpace(string(cur))
	if _, ok := new(big.Int).SetString(hex, 16); !ok {
		return nil, fmt.Errorf("card/pki: results/current is not a hexadecimal serial")
	}
	rs := &ResultsSigner{CA: ca}
	if rs.Cert, err = readCert(filepath.Join(dir, "results", hex+".pem")); err != nil {
		return nil, err
	}
	if err := rs.Cert.CheckSignatureFrom(ca); err != nil {
		return nil, fmt.Errorf("card/pki: results signer is not issued by the platform CA: %w", err)
	}
	if rs.key, err = o.keys(dir).Signer("results/" + hex); err != nil {
		return nil, err
	}
	if !samePublic(rs.key, rs.Cert) {
		return nil, fmt.Errorf("card/pki: current results signer key does not match its certificate")
	}
	return rs, nil
}

func (o Options) loadResultsCA(dir string) (*x509.Certificate, crypto.Signer, error) {
	ca, err := readCert(filepath.Join(dir, "results", "ca.pem"))
	if err != nil {
		return nil, nil, err
	}
	key, err := o.keys(dir).Signer("results/ca")
	if err != nil {
		return nil, nil, err
	}
	if !samePublic(key, ca) {
		return nil, nil, fmt.Errorf("card/pki: results/ca.key does not match results/ca.pem")
	}
	return ca, key, nil
}
