package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/storage"
)

// TestPKIResultsSigner: init prints the platform CA's fingerprint (what
// relying parties of results pin), rotate-results-signer issues a new
// signer under the same CA and keeps the old one's certificate.
func TestPKIResultsSigner(t *testing.T) {
	env := apptest.Start(t, storage.SQLite, 0)
	dataDir := env.App.Config.DataDir
	ca := env.App.Results.Cert.Issuer.CommonName
	if !strings.HasPrefix(ca, "Dancu Platform CA") {
		t.Fatalf("results signer issued by %q", ca)
	}
	initOut := runPKI(t, "init", "--data", dataDir)
	out := initOut
	certs, _ := filepath.Glob(filepath.Join(dataDir, "pki", "results", "*.pem"))
	if len(certs) != 2 {
		t.Fatalf("results certificates: %v", certs)
	}
	first := env.App.Results.Cert.SerialNumber.Text(16)
	if !strings.Contains(out, "platform CA (results) SHA-256 fingerprint: ") || !strings.Contains(out, "current results signer: "+first) {
		t.Errorf("init: %s", out)
	}
	out = runPKI(t, "rotate-results-signer", "--data", dataDir)
	if !strings.Contains(out, "new results signer ") || strings.Contains(out, first) {
		t.Errorf("rotate-results-signer: %s", out)
	}
	certs, _ = filepath.Glob(filepath.Join(dataDir, "pki", "results", "*.pem"))
	if len(certs) != 3 {
		t.Errorf("after rotation: %v", certs)
	}
	keys, err := app.OpenPKI(env.App.Config, env.App.Log)
	if err != nil {
		t.Fatal(err)
	}
	rs, created, err := app.EnsureResults(env.App.Config, keys, nil)
	if err != nil || created {
		t.Fatalf("load after rotation: %v (created %v)", err, created)
	}
	if rs.Cert.SerialNumber.Text(16) == first || rs.Cert.CheckSignatureFrom(rs.CA) != nil || !strings.Contains(initOut, pki.Fingerprint(rs.CA)) {
		t.Errorf("current signer %s under %s", rs.Cert.SerialNumber.Text(16), rs.Cert.Issuer)
	}
	if err := env.App.Results.Cert.CheckSignatureFrom(rs.CA); err != nil {
		t.Errorf("the first signer is not under the same CA: %v", err)
	}
}
