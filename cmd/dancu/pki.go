package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/card/pkistore"
	"github.com/dancu-project/dancu/internal/lease"
)

// pkiCmd runs "dancu pki init", "rotate-signer" and "rotate-results-signer"
// on the card PKI, which lives in the database and is mirrored in
// <data>/pki (app.ChangePKI): the change runs under the PKI lease and
// every running node uses it within seconds. Its private keys are sealed
// with the PKI key (--pki-key, as serve has it). Only certificates'
// serials and fingerprints are printed; keys stay sealed.
func pkiCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "init" && args[0] != "rotate-signer" && args[0] != "rotate-results-signer") {
		return fmt.Errorf("usage: dancu pki init|rotate-signer|rotate-results-signer [--data DIR]")
	}
	cfg, err := parseConfig("pki "+args[0], args[1:], getenv, stderr, nil)
	if err != nil {
		return err
	}
	log := cfg.Logger(stderr)
	svc, err := app.OpenServices(ctx, cfg, log, time.Now)
	if err != nil {
		return err
	}
	defer svc.Close()
	dir := app.PKIDir(cfg)
	var existed bool
	pull := &pkistore.Mirror{DB: svc.DB, Dir: dir}
	if _, err := pull.Pull(ctx); err != nil {
		return err
	}
	_, statErr := os.Stat(filepath.Join(dir, "csca.pem"))
	existed = statErr == nil
	if !existed && args[0] != "init" {
		return fmt.Errorf("no card PKI in the database or %s; run dancu pki init", dir)
	}
	leases := &lease.Leases{DB: svc.DB, Holder: lease.NewHolder()}
	// ChangePKI creates the PKI when there is none and seals keys left in
	// the clear.
	return app.ChangePKI(ctx, cfg, svc.DB, leases, log, func(keys *pki.FileKeys) error {
		opts := pki.Options{Keys: keys}
		switch args[0] {
		case "init":
			a, err := opts.Load(dir)
			if err != nil {
				return fmt.Errorf("read the card PKI: %w", err)
			}
			if !existed {
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
			fmt.Fprintf(stdout, "new document signer %s (certificate valid until %s); %d signers kept for verification; running nodes use it within seconds\n",
				a.Signer.SerialNumber.Text(16), a.Signer.NotAfter.Format("2006-01-02"), len(a.Signers))
		case "rotate-results-signer":
			rs, err := opts.RotateResultsSigner(dir, pki.ResultsOptions{})
			if err != nil {
				return fmt.Errorf("rotate the results signer in %s: %w", dir, err)
			}
			fmt.Fprintf(stdout, "new results signer %s (certificate valid until %s); earlier ones stay for verification; running nodes sign with it within seconds\n",
				rs.Cert.SerialNumber.Text(16), rs.Cert.NotAfter.Format("2006-01-02"))
		}
		return nil
	})
}

// oidcCmd runs "dancu oidc rotate-key": a new OpenID signing key, under
// the rotation lease, that every running node signs with within seconds;
// the old keys stay published for --overlap so their tokens verify.
func oidcCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rotate-key" {
		return fmt.Errorf("usage: dancu oidc rotate-key [--data DIR]")
	}
	cfg, err := parseConfig("oidc rotate-key", args[1:], getenv, stderr, nil)
	if err != nil {
		return err
	}
	svc, err := app.OpenServices(ctx, cfg, cfg.Logger(stderr), time.Now)
	if err != nil {
		return err
	}
	defer svc.Close()
	kid, err := app.RotateOIDCKey(ctx, cfg, svc.DB, &lease.Leases{DB: svc.DB, Holder: lease.NewHolder()}, 0)
	if err != nil {
		return fmt.Errorf("rotate the OpenID signing key: %w", err)
	}
	fmt.Fprintf(stdout, "new OpenID signing key %s; running nodes sign with it within seconds, earlier keys stay published for a week\n", kid)
	return nil
}
