package app

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
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
// fresh data directory gets one, as it gets a CSCA. A rotated results
// signer is used after a restart.
func (a *App) openDocuments(cfg platform.Config, keys pki.KeyStore, log *slog.Logger, now func() time.Time) (*verifypage.Page, error) {
	rs, created, err := EnsureResults(cfg, keys, now)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("created the platform CA and results signer", "dir", filepath.Join(PKIDir(cfg), "results"))
	}
	a.Documents = document.NewStore(a.DB, now)
	a.Results = &document.Issuer{Store: a.Documents, Cert: rs.Cert, Key: rs.Key(), BaseURL: strings.TrimSuffix(cfg.Issuer(), "/oidc"), Now: now}
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
