package app

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/document"
	"github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/web/verifypage"
)

// openDocuments builds the citizen's document store (a.Documents), the
// issuer of signed results (a.Results) and returns the public
// verification page. The results signer lives in
// the card PKI's directory under a platform CA of its own (pki.InitResults
// says why it is not the CSCA), its keys sealed by the same KeyStore; a
// fresh data directory gets one, as it gets a CSCA. A results signer
// rotated on any node is used at the next result (FollowResults).
func (a *App) openDocuments(cfg platform.Config, keys pki.KeyStore, log *slog.Logger, now func() time.Time) (*verifypage.Page, error) {
	rs, created, err := EnsureResults(cfg, keys, now)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("created the platform CA and results signer", "dir", filepath.Join(PKIDir(cfg), "results"))
	}
	a.Documents = document.NewStore(a.DB, now)
	a.Results = &document.Issuer{Store: a.Documents, Cert: rs.Cert, Key: rs.Key(), BaseURL: strings.TrimSuffix(cfg.Issuer(), "/oidc"), Now: now,
		Signer: FollowResults(PKIDir(cfg), keys, now, rs, log)}
	page, err := verifypage.New(verifypage.Deps{Verifier: a.Documents, Log: log, Now: now, SecureCookies: cfg.SecureCookies})
	if err != nil {
		return nil, fmt.Errorf("verify page: %w", err)
	}
	return page, nil
}

// EnsureResults loads the results signer from the PKI directory, creating
// the platform CA and a first signer when there is none (created reports
// it). now is the clock (time.Now when nil).
func EnsureResults(cfg platform.Config, keys pki.KeyStore, now func() time.Time) (rs *pki.ResultsSigner, created bool, err error) {
	dir := PKIDir(cfg)
	o := pki.Options{Keys: keys, Now: now}
	if _, statErr := os.Stat(filepath.Join(dir, "results", "ca.pem")); errors.Is(statErr, fs.ErrNotExist) {
		rs, err = o.InitResults(dir, pki.ResultsOptions{})
		created = err == nil
	} else {
		rs, err = o.LoadResults(dir)
	}
	if err != nil {
		return nil, false, fmt.Errorf("results signer: %w", err)
	}
	return rs, created, nil
}

// FollowResults gives the results signer <dir>/results/current names,
// loaded again when that file changes: a signer rotated on another node
// arrives here with the PKI files pulled from the database (within a
// second) and signs the next result, without a restart. Until the new
// signer's files are all there (they arrive one by one) the previous one
// keeps signing; first is the signer loaded at start.
func FollowResults(dir string, keys pki.KeyStore, now func() time.Time, first *pki.ResultsSigner, log *slog.Logger) func() (*x509.Certificate, crypto.Signer, error) {
	path := filepath.Join(dir, "results", "current")
	var mu sync.Mutex
	cur, _ := os.ReadFile(path)
	rs := first
	return func() (*x509.Certificate, crypto.Signer, error) {
		b, err := os.ReadFile(path)
		mu.Lock()
		defer mu.Unlock()
		if err == nil && !bytes.Equal(b, cur) {
			next, err := pki.Options{Keys: keys, Now: now}.LoadResults(dir)
			if err != nil {
				log.Warn("results signer: the new one is not complete yet; the previous one signs", "err", err)
			} else {
				log.Info("results signer: now signing with a rotated one", "serial", next.Cert.SerialNumber.Text(16))
				rs, cur = next, b
			}
		}
		return rs.Cert, rs.Key(), nil
	}
}
