package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/card/pki"
)

// pkiCmd runs "dancu pki init" and "dancu pki rotate-signer" on the card PKI
// under the data directory, its private keys sealed with the PKI key
// (--pki-key, as serve has it). Only certificates' serials and fingerprints
// are printed; keys stay sealed in their 0600 files.
func pkiCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "init" && args[0] != "rotate-signer" && args[0] != "rotate-results-signer") {
		return fmt.Errorf("usage: dancu pki init|rotate-signer|rotate-results-signer [--data DIR]")
	}
	cfg, err := parseConfig("pki "+args[0], args[1:], getenv, stderr, nil)
	if err != nil {
		return err
	}
	dir := app.PKIDir(cfg)
	_, statErr := os.Stat(filepath.Join(dir, "csca.pem"))
	if statErr != nil && args[0] != "init" {
		return fmt.Errorf("no card PKI in %s; run dancu pki init", dir)
	}
	// OpenPKI creates the PKI in an empty directory and seals keys left
	// in the clear.
	keys, err := app.OpenPKI(cfg, cfg.Logger(stderr))
	if err != nil {
		return err
	}
	opts := pki.Options{Keys: keys}
	switch args[0] {
	case "init":
		a, err := opts.Load(dir)
		if err != nil {
			return fmt.Errorf("read the card PKI: %w", err)
		}
		if statErr != nil {
			fmt.Fprintf(stdout, "card PKI created in %s\n", dir)
		} else {
			fmt.Fprintf(stdout, "card PKI already present in %s (keys are never overwritten)\n", dir)
		}
		fmt.Fprintf(stdout, "CSCA SHA-256 fingerprint: %s\ncurrent document signer: %s\n", pki.Fingerprint(a.CSCA), a.Signer.SerialNumber.Text(16))
		// The results' platform CA, which relying parties of signed
		// results trust (results/ca.pem).
		rs, _, err := app.EnsureResults(cfg, keys, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "platform CA (results) SHA-256 fingerprint: %s\ncurrent results signer: %s\n", pki.Fingerprint(rs.CA), rs.Cert.SerialNumber.Text(16))
	case "rotate-signer":
		a, err := opts.RotateSigner(dir)
		if err != nil {
			return fmt.Errorf("rotate the document signer in %s: %w", dir, err)
		}
		fmt.Fprintf(stdout, "new document signer %s (certificate valid until %s); %d signers kept for verification\n",
			a.Signer.SerialNumber.Text(16), a.Signer.NotAfter.Format("2006-01-02"), len(a.Signers))
	case "rotate-results-signer":
		if _, _, err := app.EnsureResults(cfg, keys, nil); err != nil {
			return err
		}
		rs, err := opts.RotateResultsSigner(dir, pki.ResultsOptions{})
		if err != nil {
			return fmt.Errorf("rotate the results signer in %s: %w", dir, err)
		}
		fmt.Fprintf(stdout, "new results signer %s (certificate valid until %s); earlier ones stay for verification; restart serve to use it\n",
			rs.Cert.SerialNumber.Text(16), rs.Cert.NotAfter.Format("2006-01-02"))
	}
	return nil
}
