package platform

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func parse(t *testing.T, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	var c Config
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.Flags(fs, func(k string) string { return env[k] })
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, c.Validate()
}

func TestConfig(t *testing.T) {
	c, err := parse(t, nil)
	if err != nil || c.Addr != "127.0.0.1:8080" || c.SeedPersons != 10000 || !strings.HasSuffix(c.DSN(), "dancu.db") {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, err = parse(t, map[string]string{"DANCU_ADDR": ":9999", "DANCU_DB": "postgres://x@h/db", "DANCU_SEED_PERSONS": "5"})
	if err != nil || c.Addr != ":9999" || c.DSN() != "postgres://x@h/db" || c.SeedPersons != 5 {
		t.Fatalf("env: %+v %v", c, err)
	}
	c, err = parse(t, map[string]string{"DANCU_ADDR": ":9999"}, "-addr", ":7000", "-data", "/tmp/d")
	if err != nil || c.Addr != ":7000" || c.DSN() != "/tmp/d/dancu.db" {
		t.Fatalf("flags over env: %+v %v", c, err)
	}
	for _, bad := range [][]string{{"-db", "mysql://x"}, {"-seed-persons", "-1"}, {"-log-level", "loud"}, {"-bootstrap-password", "short"}, {"-log-format", "xml"},
		{"-postgres-read-url", "postgres://r/db"}, {"-db", "postgres://p/db", "-postgres-read-url", "mysql://r"}, {"-nats-replicas", "7"}} {
		if _, err := parse(t, nil, bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestClusterSettings: the read replica's URL and the stream's replicas
// (issue 21) come from flags and the environment.
func TestClusterSettings(t *testing.T) {
	c, err := parse(t, map[string]string{"DANCU_NATS_REPLICAS": "3", "DANCU_POSTGRES_READ_URL": "postgres://r:5432,p:5432/db?target_session_attrs=prefer-standby"},
		"-db", "postgres://p:5432,r:5432/db?target_session_attrs=read-write")
	if err != nil || c.NATSReplicas != 3 || !strings.HasPrefix(c.DBRead, "postgres://r:5432") {
		t.Fatalf("cluster settings: %+v %v", c, err)
	}
	if c, _ := parse(t, nil); c.NATSReplicas != 1 || c.DBRead != "" {
		t.Fatalf("defaults: replicas %d, read URL %q", c.NATSReplicas, c.DBRead)
	}
}

func TestEIDSecret(t *testing.T) {
	dir := t.TempDir()
	c := Config{DataDir: dir}
	a, err := c.LoadEIDSecret()
	if err != nil || len(a) < 32 {
		t.Fatalf("generated secret %q: %v", a, err)
	}
	b, _ := c.LoadEIDSecret()
	if a != b {
		t.Fatal("the kept secret changed between starts")
	}
	c.EIDSecret = strings.Repeat("x", 32)
	if got, _ := c.LoadEIDSecret(); got != c.EIDSecret {
		t.Fatal("configured secret ignored")
	}
	if _, err := parse(t, nil, "-eid-secret", "short"); err == nil {
		t.Fatal("short secret accepted")
	}
	c2, _ := parse(t, nil, "-addr", "127.0.0.1:9000")
	if c2.Issuer() != "http://127.0.0.1:9000/oidc" {
		t.Fatalf("issuer %q", c2.Issuer())
	}
}
