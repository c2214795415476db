// Package platform holds what every part of the running platform shares:
// configuration read from flags and the environment, and the logger.
package platform

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
)

// Config is the platform's configuration. Every field has a flag and an
// environment variable; flags win.
type Config struct {
	Addr        string // HTTP listen address
	DataDir     string // where the embedded database and JetStream live
	DB          string // postgres:// URL; empty means SQLite in DataDir
	NATSURL     string // external NATS; empty means embedded
	NATSListen  string // let outside clients reach the embedded NATS
	SeedPersons int    // synthetic persons created on first start
	Seed        int64  // random seed of the synthetic population
	LogLevel    string
	LogFormat   string // text or json
	// BootstrapPassword is the password of the accounts made on first start;
	// empty means a random one printed once.
	BootstrapPassword string
	SecureCookies     bool
	// PprofAddr, when set, serves Go's profiler on a separate listener.
	PprofAddr string
	// PublicURL is where users reach the platform; the OpenID Connect issuer
	// is PublicURL + "/oidc". Empty means http://<addr>.
	PublicURL string
	// EIDSecret seals e-ID secrets at rest (TOTP seeds, phone numbers, signing
	// keys). Empty means a random one kept in <data>/eid.secret, which suits one
	// node in development; several nodes must share one through
	// configuration, and production requires it there.
	EIDSecret string
	// Production refuses development stand-ins (the SMS log sink, the
	// face check that accepts every face, secrets kept in the data
	// directory, synthetic people) and webhooks to addresses inside the
	// platform's network; it implies SecureCookies. Validate lists what
	// it requires.
	Production bool
	// SMSGatewayURL and SMSGatewaySecret reach the SMS gateway that sends
	// one-time codes (gateway.SMS); empty means the development log sink.
	SMSGatewayURL    string
	SMSGatewaySecret string
	SMSSender        string // brand name on the messages; may be empty
	// PaymentReconcileAt is when (HH:MM, Vietnam time) the daily
	// reconciliation of the payment gateway's statement of the day before
	// runs; empty is 01:30.
	PaymentReconcileAt string
	// FaceVerifyURL and FaceVerifySecret reach the face-verification
	// service (gateway.Face); empty means every face is accepted
	// (development only).
	FaceVerifyURL    string
	FaceVerifySecret string
	// PKIKey seals the card PKI's private keys (CSCA, document signers,
	// master-list signer) at rest. Empty means a random one kept in
	// <data>/pki.secret, which production refuses.
	PKIKey string
	// WebhookNetworks are private networks (comma-separated CIDR prefixes)
	// partners' webhooks may be reached on in production.
	WebhookNetworks string
	// AuditKey signs checkpoints of the audit chain's head (64 hex digits,
	// an Ed25519 seed). Empty means a random one kept in <data>/audit.key:
	// development only, since a key beside the database it protects lets
	// whoever can rewrite the database sign the rewrite.
	AuditKey string
	// AuditCheckpointFile, when set, receives every signed checkpoint as a
	// JSON line (append-only), for `dancu audit verify --checkpoints`.
	AuditCheckpointFile string
	// NATSNamespace is the root of the event subjects and, upper-cased, the
	// stream's name; empty is "dancu" (stream DANCU). Platforms sharing a
	// NATS server (staging, test runs) each take their own.
	NATSNamespace string
	// DBRead is a PostgreSQL URL (a streaming replica) for reads that
	// tolerate replication lag: the statistics dashboards. Empty means DB.
	DBRead string
	// NATSReplicas is how many servers of a NATS cluster hold the event
	// stream (1, 3 or 5); 0 means 1. A cluster of three takes 3 so the loss
	// of one server loses no event and stops no publisher.
	NATSReplicas int
}

// DSN is the database to open.
func (c Config) DSN() string {
	if c.DB != "" {
		return c.DB
	}
	return filepath.Join(c.DataDir, "dancu.db")
}

// AuditDSN is where the audit log lives. On SQLite it has a file of its own:
// every read appends to it, and writes to the register's file would make
// every reader drop its page cache. On PostgreSQL it is the same database.
func (c Config) AuditDSN() string {
	if c.DB != "" {
		return c.DB
	}
	return filepath.Join(c.DataDir, "audit.db")
}

// Flags registers the configuration flags on fs with defaults from getenv.
func (c *Config) Flags(fs *flag.FlagSet, getenv func(string) string) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	envInt := func(name string, def int64) int64 {
		if v, err := strconv.ParseInt(getenv(name), 10, 64); err == nil {
			return v
		}
		return def
	}
	fs.StringVar(&c.Addr, "addr", env("DANCU_ADDR", "127.0.0.1:8080"), "HTTP listen address (DANCU_ADDR)")
	fs.StringVar(&c.DataDir, "data", env("DANCU_DATA", "data"), "data directory for the embedded database and JetStream (DANCU_DATA)")
	fs.StringVar(&c.DB, "db", env("DANCU_DB", ""), "PostgreSQL URL postgres://...; empty uses SQLite in the data directory (DANCU_DB)")
	fs.StringVar(&c.DBRead, "postgres-read-url", env("DANCU_POSTGRES_READ_URL", ""), "PostgreSQL URL of a streaming replica for reads that tolerate lag (the statistics dashboards); empty reads from --db (DANCU_POSTGRES_READ_URL)")
	fs.IntVar(&c.NATSReplicas, "nats-replicas", int(envInt("DANCU_NATS_REPLICAS", 1)), "servers of the NATS cluster holding the event stream: 1, 3 or 5 (DANCU_NATS_REPLICAS)")
	fs.StringVar(&c.NATSURL, "nats", env("DANCU_NATS", ""), "external NATS URL; empty starts an embedded server (DANCU_NATS)")
	fs.StringVar(&c.NATSListen, "nats-listen", env("DANCU_NATS_LISTEN", ""), "address where the embedded NATS accepts clients, e.g. 127.0.0.1:4223 (DANCU_NATS_LISTEN)")
	fs.StringVar(&c.NATSNamespace, "nats-namespace", env("DANCU_NATS_NAMESPACE", "dancu"), "root of the event subjects; the stream is its upper case (dancu: stream DANCU, subjects dancu.>); lets platforms share a NATS server (DANCU_NATS_NAMESPACE)")
	fs.IntVar(&c.SeedPersons, "seed-persons", int(envInt("DANCU_SEED_PERSONS", 10000)), "synthetic persons to create when the register is empty; 0 for none (DANCU_SEED_PERSONS)")
	fs.Int64Var(&c.Seed, "seed", envInt("DANCU_SEED", 1), "random seed of the synthetic population (DANCU_SEED)")
	fs.StringVar(&c.LogLevel, "log-level", env("DANCU_LOG_LEVEL", "info"), "debug, info, warn or error (DANCU_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("DANCU_LOG_FORMAT", "text"), "text or json (DANCU_LOG_FORMAT)")
	fs.StringVar(&c.BootstrapPassword, "bootstrap-password", env("DANCU_BOOTSTRAP_PASSWORD", ""), "password of the staff accounts created on first start; empty makes a random one (DANCU_BOOTSTRAP_PASSWORD)")
	fs.StringVar(&c.PprofAddr, "pprof-addr", env("DANCU_PPROF_ADDR", ""), "serve the Go profiler here, e.g. 127.0.0.1:6060; keep it private (DANCU_PPROF_ADDR)")
	fs.StringVar(&c.PublicURL, "public-url", env("DANCU_PUBLIC_URL", ""), "URL users reach the platform at; the OpenID issuer is this + /oidc (DANCU_PUBLIC_URL)")
	fs.StringVar(&c.EIDSecret, "eid-secret", env("DANCU_EID_SECRET", ""), "secret (32+ bytes) sealing e-ID data at rest; empty keeps a random one in the data directory (DANCU_EID_SECRET)")
	fs.BoolVar(&c.Production, "production", env("DANCU_PRODUCTION", "") == "true", "refuse development stand-ins (SMS log sink, accept-all face check, secrets in the data directory, synthetic people); requires the SMS gateway, face service, e-ID secret, PKI key and audit key; implies --secure-cookies (DANCU_PRODUCTION)")
	fs.StringVar(&c.WebhookNetworks, "webhook-networks", env("DANCU_WEBHOOK_NETWORKS", ""), "private networks partners' webhooks may be reached on in production, e.g. 10.20.0.0/16 (DANCU_WEBHOOK_NETWORKS)")
	fs.StringVar(&c.AuditKey, "audit-key", env("DANCU_AUDIT_KEY", ""), "Ed25519 seed (64 hex digits) signing audit checkpoints; empty keeps a random one in the data directory, development only (DANCU_AUDIT_KEY)")
	fs.StringVar(&c.AuditCheckpointFile, "audit-checkpoint-file", env("DANCU_AUDIT_CHECKPOINT_FILE", ""), "append each signed audit checkpoint to this file (JSON lines), best outside the data directory (DANCU_AUDIT_CHECKPOINT_FILE)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", env("DANCU_SECURE_COOKIES", "") == "true", "mark cookies Secure (behind HTTPS); implied by --production (DANCU_SECURE_COOKIES)")
	fs.StringVar(&c.SMSGatewayURL, "sms-gateway-url", env("DANCU_SMS_GATEWAY_URL", ""), "SMS gateway one-time codes are POSTed to; empty logs them (development only) (DANCU_SMS_GATEWAY_URL)")
	fs.StringVar(&c.SMSGatewaySecret, "sms-gateway-secret", env("DANCU_SMS_GATEWAY_SECRET", ""), "shared secret (32+ bytes) signing requests to the SMS gateway (DANCU_SMS_GATEWAY_SECRET)")
	fs.StringVar(&c.SMSSender, "sms-sender", env("DANCU_SMS_SENDER", ""), "brand name the SMS gateway sends under (DANCU_SMS_SENDER)")
	fs.StringVar(&c.PaymentReconcileAt, "payment-reconcile-at", env("DANCU_PAYMENT_RECONCILE_AT", "01:30"), "HH:MM, Vietnam time, when the payment gateway's statement of the day before is reconciled (DANCU_PAYMENT_RECONCILE_AT)")
	fs.StringVar(&c.FaceVerifyURL, "face-verify-url", env("DANCU_FACE_VERIFY_URL", ""), "face-verification service; empty accepts every face (development only) (DANCU_FACE_VERIFY_URL)")
	fs.StringVar(&c.FaceVerifySecret, "face-verify-secret", env("DANCU_FACE_VERIFY_SECRET", ""), "shared secret (32+ bytes) signing requests to the face-verification service (DANCU_FACE_VERIFY_SECRET)")
	fs.StringVar(&c.PKIKey, "pki-key", env("DANCU_PKI_KEY", ""), "secret (32+ bytes) sealing the card PKI's private keys; empty keeps a random one in the data directory (DANCU_PKI_KEY)")
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("addr is empty"))
	}
	if c.DB == "" && c.DataDir == "" {
		errs = append(errs, errors.New("data directory is empty"))
	}
	if c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		errs = append(errs, fmt.Errorf("db must be a postgres:// URL"))
	}
	if c.DBRead != "" && (c.DB == "" || !strings.HasPrefix(c.DBRead, "postgres://") && !strings.HasPrefix(c.DBRead, "postgresql://")) {
		errs = append(errs, errors.New("postgres-read-url needs --db on PostgreSQL and must be a postgres:// URL"))
	}
	if r := c.NATSReplicas; r < 0 || r > 5 {
		errs = append(errs, fmt.Errorf("nats-replicas %d is not between 1 and 5", r))
	}
	if c.SeedPersons < 0 {
		errs = append(errs, errors.New("seed-persons is negative"))
	}
	if p := c.BootstrapPassword; p != "" && len([]rune(p)) < 10 {
		errs = append(errs, errors.New("bootstrap password has fewer than 10 characters"))
	}
	if c.EIDSecret != "" && len(c.EIDSecret) < 32 {
		errs = append(errs, errors.New("eid-secret has fewer than 32 bytes"))
	}
	if c.AuditKey != "" && (len(c.AuditKey) != 64 || strings.Trim(strings.ToLower(c.AuditKey), "0123456789abcdef") != "") {
		errs = append(errs, errors.New("audit-key is not 64 hex digits (an Ed25519 seed)"))
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		errs = append(errs, fmt.Errorf("public-url %q is not an http(s) URL", c.PublicURL))
	}
	if c.PKIKey != "" && len(c.PKIKey) < 32 {
		errs = append(errs, errors.New("pki-key has fewer than 32 bytes"))
	}
	errs = append(errs, c.checkService("sms-gateway", c.SMSGatewayURL, c.SMSGatewaySecret),
		c.checkService("face-verify", c.FaceVerifyURL, c.FaceVerifySecret))
	if c.Production {
		errs = append(errs, c.productionErrors()...)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log-format %q is not text or json", c.LogFormat))
	}
	return errors.Join(errs...)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("log-level %q: %w", s, err)
	}
	return l, nil
}

// Logger builds the logger. Modules log codes, counts and route patterns,
// never names, PINs or form values.
func (c Config) Logger(w io.Writer) *slog.Logger {
	level, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Issuer is the OpenID Connect issuer URL.
func (c Config) Issuer() string {
	base := c.PublicURL
	if base == "" {
		base = "http://" + c.Addr
	}
	return strings.TrimRight(base, "/") + "/oidc"
}

// LoadEIDSecret returns the configured e-ID secret, or in development the
// one kept in <data>/eid.secret, creating it (mode 0600) on first use.
// Production refuses the file: the secret would sit beside the database it
// protects.
func (c Config) LoadEIDSecret() (string, error) {
	return c.loadSecret("eid-secret", c.EIDSecret, "eid.secret")
}
