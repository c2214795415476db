package app_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/platform"
)

// TestFirstStartAtRest opens the platform on a data directory an older
// version left: mode 0755 and a card PKI with its keys in the clear. After
// Open every directory is 0700 and every file 0600, the keys are sealed,
// and each staff account has its own random password, logged nowhere.
func TestFirstStartAtRest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	if _, err := pki.Init(filepath.Join(dir, "pki")); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "pki", "csca.pem"), 0o644)
	var logs bytes.Buffer
	cfg := platform.Config{Addr: "127.0.0.1:0", DataDir: dir, LogLevel: "debug", LogFormat: "text"}
	ctx := context.Background()
	a, err := app.Open(ctx, cfg, cfg.Logger(&logs), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := a.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range creds {
		if len(c.Password) < 16 || seen[c.Password] {
			t.Fatalf("staff passwords are not distinct random ones: %+v", creds)
		}
		seen[c.Password] = true
		if _, err := a.Staff.Authenticate(ctx, c.Username, c.Password); err != nil {
			t.Fatalf("%s cannot sign in with its password: %v", c.Username, err)
		}
	}
	if len(seen) != 5 {
		t.Fatalf("%d staff accounts", len(seen))
	}
	path := app.CredentialsFile(cfg)
	if err := os.WriteFile(path, []byte("# an older file, readable by all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	first := app.FirstStart{Staff: creds, Partners: []exchange.SampleCredential{{PartnerName: "Ngân hàng mẫu", ClientID: "bank", Secret: "partner-secret-value"}}}
	if err := app.WriteCredentials(path, first, time.Now()); err != nil {
		t.Fatal(err)
	}
	a.Close()

	written, _ := os.ReadFile(path)
	for _, c := range creds {
		if !strings.Contains(string(written), c.Username) || !strings.Contains(string(written), "password: "+c.Password) {
			t.Fatalf("credentials file lacks %s:\n%s", c.Username, written)
		}
		if strings.Contains(logs.String(), c.Password) {
			t.Fatalf("a password is in the log")
		}
	}
	if !strings.Contains(string(written), "partner-secret-value") || !strings.HasPrefix(string(written), "# an older file") {
		t.Fatalf("credentials file:\n%s", written)
	}
	if !strings.Contains(logs.String(), "permissions tightened") || !strings.Contains(logs.String(), "sealed the card PKI") {
		t.Fatalf("the tightening and the sealing are not logged:\n%s", logs.String())
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if !info.Mode().IsRegular() && !d.IsDir() {
			return nil
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, info.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"csca.key", "mls.key"} {
		b, err := os.ReadFile(filepath.Join(dir, "pki", name))
		if err != nil && name == "mls.key" {
			continue // made on the first master-list request
		}
		if err != nil || bytes.Contains(b, []byte("BEGIN PRIVATE KEY")) {
			t.Fatalf("%s not sealed: %v", name, err)
		}
	}
	if _, err := pki.Load(filepath.Join(dir, "pki")); err == nil {
		t.Fatal("the PKI loads without its sealing key")
	}
}
