package platform

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dancu-project/dancu/internal/eid/gateway"
)

// Settle applies what follows from the flags as a whole, after fs is
// parsed: production implies secure cookies, and starts with no synthetic
// population unless one is asked for explicitly (which Validate then
// refuses, rather than ignoring the setting).
func (c *Config) Settle(fs *flag.FlagSet, getenv func(string) string) {
	if !c.Production {
		return
	}
	c.SecureCookies = true
	explicit := getenv("DANCU_SEED_PERSONS") != ""
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "seed-persons" {
			explicit = true
		}
	})
	if !explicit {
		c.SeedPersons = 0
	}
}

// checkService checks an outside service's settings: both or neither, and
// a usable URL and secret (gateway.CheckURL).
func (c Config) checkService(name, url, secret string) error {
	switch {
	case url == "" && secret == "":
		return nil
	case url == "":
		return fmt.Errorf("%s-secret is set without %s-url", name, name)
	}
	return gateway.CheckURL(name, url, secret)
}

// productionErrors lists what production requires: the real outside
// services, and secrets from configuration rather than files beside the
// data they protect.
func (c Config) productionErrors() []error {
	var errs []error
	if c.SMSGatewayURL == "" {
		errs = append(errs, errors.New("production needs an SMS gateway (--sms-gateway-url and --sms-gateway-secret); the log sink is for development"))
	}
	if c.FaceVerifyURL == "" {
		errs = append(errs, errors.New("production needs a face-verification service (--face-verify-url and --face-verify-secret); accepting every face is for development"))
	}
	if c.EIDSecret == "" {
		errs = append(errs, errors.New("production needs --eid-secret (DANCU_EID_SECRET): a secret kept in the data directory would sit beside the data it protects"))
	}
	if c.PKIKey == "" {
		errs = append(errs, errors.New("production needs --pki-key (DANCU_PKI_KEY) to seal the card PKI's private keys"))
	}
	if c.AuditKey == "" {
		errs = append(errs, errors.New("production needs --audit-key (DANCU_AUDIT_KEY) to sign audit checkpoints: a key kept beside the audit log would sign a rewrite of it"))
	}
	if c.SeedPersons > 0 {
		errs = append(errs, errors.New("production does not create synthetic persons; leave --seed-persons unset or 0"))
	}
	return errs
}

// LoadPKIKey returns the configured key sealing the card PKI's private
// keys, or in development the one kept in <data>/pki.secret, creating it
// (mode 0600) on first use. Production refuses the file.
func (c Config) LoadPKIKey() (string, error) {
	return c.loadSecret("pki-key", c.PKIKey, "pki.secret")
}

// loadSecret is a configured secret, or in development one generated once
// and kept in the data directory under name. Production accepts only the
// configured one (flag is its setting, for the error).
func (c Config) loadSecret(flag, configured, name string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	if c.Production {
		return "", fmt.Errorf("production needs --%s: a secret from a file in the data directory is refused", flag)
	}
	path := filepath.Join(c.DataDir, name)
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return string(b), nil
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	secret := hex.EncodeToString(buf)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		// Another process made it first: use theirs.
		b, rerr := os.ReadFile(path)
		if rerr != nil || len(b) < 32 {
			return "", fmt.Errorf("%s unreadable or short", path)
		}
		return string(b), nil
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close()
	if _, err := f.WriteString(secret); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return secret, nil
}
