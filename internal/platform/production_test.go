package platform

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// parseSettled parses like the dancu command: flags, then Settle, then
// Validate.
func parseSettled(env map[string]string, args ...string) (Config, error) {
	var c Config
	getenv := func(k string) string { return env[k] }
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.Flags(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.Settle(fs, getenv)
	return c, c.Validate()
}

var secret32 = strings.Repeat("s", 32)

// production is the environment of a production start with everything it
// needs.
func production() map[string]string {
	return map[string]string{
		"DANCU_PRODUCTION":         "true",
		"DANCU_SMS_GATEWAY_URL":    "https://sms.example.vn/send",
		"DANCU_SMS_GATEWAY_SECRET": secret32,
		"DANCU_FACE_VERIFY_URL":    "https://face.example.vn/verify",
		"DANCU_FACE_VERIFY_SECRET": secret32,
		"DANCU_EID_SECRET":         secret32,
		"DANCU_PKI_KEY":            secret32,
		"DANCU_AUDIT_KEY":          strings.Repeat("a1", 32),
	}
}

func TestProductionConfig(t *testing.T) {
	c, err := parseSettled(production())
	if err != nil {
		t.Fatalf("complete production configuration refused: %v", err)
	}
	if !c.SecureCookies || c.SeedPersons != 0 {
		t.Fatalf("production defaults: secure cookies %v, seed persons %d", c.SecureCookies, c.SeedPersons)
	}
	if c, _ := parseSettled(nil); c.SecureCookies || c.SeedPersons != 10000 {
		t.Fatalf("development defaults changed: %+v", c)
	}
	for _, c := range []struct {
		name  string
		unset string
		set   map[string]string
		args  []string
		want  string
	}{
		{name: "no SMS gateway", unset: "DANCU_SMS_GATEWAY_URL", want: "SMS gateway"},
		{name: "SMS secret alone", unset: "DANCU_SMS_GATEWAY_URL", want: "sms-gateway-secret is set without"},
		{name: "no face service", unset: "DANCU_FACE_VERIFY_URL", want: "face-verification"},
		{name: "no e-ID secret", unset: "DANCU_EID_SECRET", want: "--eid-secret"},
		{name: "no PKI key", unset: "DANCU_PKI_KEY", want: "--pki-key"},
		{name: "no audit key", unset: "DANCU_AUDIT_KEY", want: "--audit-key"},
		{name: "malformed audit key", set: map[string]string{"DANCU_AUDIT_KEY": strings.Repeat("zz", 32)}, want: "audit-key is not 64 hex"},
		{name: "short PKI key", set: map[string]string{"DANCU_PKI_KEY": "short"}, want: "pki-key has fewer"},
		{name: "plain http gateway", set: map[string]string{"DANCU_SMS_GATEWAY_URL": "http://sms.example.vn/send"}, want: "must be https"},
		{name: "short gateway secret", set: map[string]string{"DANCU_FACE_VERIFY_SECRET": "short"}, want: "face-verify secret has fewer"},
		{name: "synthetic persons by flag", args: []string{"-seed-persons", "100"}, want: "synthetic persons"},
		{name: "synthetic persons by env", set: map[string]string{"DANCU_SEED_PERSONS": "100"}, want: "synthetic persons"},
	} {
		env := production()
		if c.unset != "" {
			delete(env, c.unset)
			if c.name == "no SMS gateway" || c.name == "no face service" {
				delete(env, strings.Replace(c.unset, "_URL", "_SECRET", 1))
			}
		}
		for k, v := range c.set {
			env[k] = v
		}
		if _, err := parseSettled(env, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
	// An explicit zero is fine in production.
	if _, err := parseSettled(production(), "-seed-persons", "0"); err != nil {
		t.Fatal(err)
	}
	// Development accepts a gateway too, and checks it the same way.
	if _, err := parseSettled(map[string]string{"DANCU_SMS_GATEWAY_URL": "http://127.0.0.1:9/send", "DANCU_SMS_GATEWAY_SECRET": secret32}); err != nil {
		t.Fatal(err)
	}
	if _, err := parseSettled(map[string]string{"DANCU_SMS_GATEWAY_URL": "https://sms.example.vn/send"}); err == nil {
		t.Fatal("a gateway without its secret accepted")
	}
}

// TestProductionSecretsNotFromFiles: production never generates or reads
// the e-ID secret or the PKI key from the data directory.
func TestProductionSecretsNotFromFiles(t *testing.T) {
	dir := t.TempDir()
	dev := Config{DataDir: dir}
	for _, load := range []func(Config) (string, error){Config.LoadEIDSecret, Config.LoadPKIKey} {
		if s, err := load(dev); err != nil || len(s) < 32 {
			t.Fatalf("development: %q %v", s, err)
		}
	}
	for _, name := range []string{"eid.secret", "pki.secret"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", name, st, err)
		}
	}
	prod := Config{DataDir: dir, Production: true}
	for _, load := range []func(Config) (string, error){Config.LoadEIDSecret, Config.LoadPKIKey} {
		if s, err := load(prod); err == nil {
			t.Fatalf("production read a secret from the data directory: %q", s)
		}
	}
	prod.EIDSecret, prod.PKIKey = secret32, secret32+"k"
	if s, _ := prod.LoadEIDSecret(); s != secret32 {
		t.Fatal("configured e-ID secret ignored")
	}
	if s, _ := prod.LoadPKIKey(); s != secret32+"k" {
		t.Fatal("configured PKI key ignored")
	}
}
