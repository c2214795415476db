package app

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/platform"
)

// FirstStart is what a first start generated and the operator must be
// told once: the staff accounts, and in development the sample citizens
// and partner systems.
type FirstStart struct {
	Staff    []Credential
	Citizens []CitizenCredential
	Partners []exchange.SampleCredential
	Issuer   string // the OpenID issuer citizens sign in at
	URL      string // where the platform runs
}

// Empty reports whether there is nothing to tell.
func (f FirstStart) Empty() bool {
	return len(f.Staff) == 0 && len(f.Citizens) == 0 && len(f.Partners) == 0
}

// CredentialsFile is where first start writes what it generated:
// <data>/first-start-credentials.txt.
func CredentialsFile(cfg platform.Config) string {
	return filepath.Join(cfg.DataDir, "first-start-credentials.txt")
}

// WriteCredentials appends the first start's credentials to path, mode
// 0600 (also when the file existed with a looser one), and syncs it. The
// secrets go nowhere else: not to a log and not to standard output, where
// they would stay in a terminal's scroll-back or a service manager's
// journal. The operator reads the file, keeps the secrets elsewhere and
// deletes it.
func WriteCredentials(path string, f FirstStart, now time.Time) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# dancu first start, %s. Keep these elsewhere and delete this file.\n", now.UTC().Format(time.RFC3339))
	if len(f.Staff) > 0 {
		fmt.Fprintf(&b, "\nStaff accounts (sign in at %s/login; change the password after the first sign-in):\n", f.URL)
		for _, c := range f.Staff {
			fmt.Fprintf(&b, "  %-15s %-10s %-32s password: %s\n", c.Username, c.Role, c.Unit, c.Password)
		}
	}
	if len(f.Citizens) > 0 {
		fmt.Fprintf(&b, "\nSample citizens with an electronic ID (development only; sign in at %s):\n", f.Issuer)
		for _, c := range f.Citizens {
			fmt.Fprintf(&b, "  level %d  PIN %s  %-24s password: %s", c.Level, c.PIN, c.FullName, c.Password)
			if c.TOTPSecret != "" {
				fmt.Fprintf(&b, "  TOTP secret: %s", c.TOTPSecret)
			}
			b.WriteByte('\n')
		}
	}
	if len(f.Partners) > 0 {
		fmt.Fprintf(&b, "\nSample partner systems (development only; client credentials at %s/oauth/token, then %s/api/partner/v1):\n", f.Issuer, f.URL)
		for _, c := range f.Partners {
			fmt.Fprintf(&b, "  %-28s client id: %-22s secret: %s\n", c.PartnerName, c.ClientID, c.Secret)
		}
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("first-start credentials: %w", err)
	}
	if err := file.Chmod(0o600); err != nil {
		file.Close()
		return fmt.Errorf("first-start credentials: %w", err)
	}
	if _, err := file.Write(b.Bytes()); err != nil {
		file.Close()
		return fmt.Errorf("first-start credentials: %w", err)
	}
	if err := file.Sync(); err != nil {
		file.Close()
		return fmt.Errorf("first-start credentials: %w", err)
	}
	return file.Close()
}
