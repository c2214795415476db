package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/platform"
)

// recordCLI writes an administrative act done on the command line to the
// audit chain, as the web pages and the API do for theirs. The actor is the
// operating-system account that ran dancu: the command line has no sign-in.
func recordCLI(ctx context.Context, l *audit.Log, getenv func(string) string, action, subject, detail string) error {
	user := getenv("USER")
	if user == "" {
		user = "unknown"
	}
	if err := l.Record(ctx, audit.Entry{Actor: "cli:" + user, Action: action, Subject: subject, Purpose: "administration", Detail: detail}); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// auditVerify checks the audit chain, and the signed checkpoints of its
// head against the audit key's public half: the stored ones, and those of
// an exported file with --checkpoints. Without any key only the chain is
// checked, which a consistent rewrite of the whole log passes; the output
// says so.
func auditVerify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var pubkeys, file string
	cfg, err := parseConfig("audit verify", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&pubkeys, "audit-pubkey", getenv("DANCU_AUDIT_PUBKEY"), "public key(s) of the audit key, 64 hex digits, comma-separated; default: from --audit-key or the development key in the data directory (DANCU_AUDIT_PUBKEY)")
		fs.StringVar(&file, "checkpoints", "", "also check the checkpoints exported to this file (JSON lines)")
	})
	if err != nil {
		return err
	}
	keys, from, err := auditKeys(cfg, pubkeys)
	if err != nil {
		return err
	}
	var opts audit.VerifyOptions
	opts.Keys = keys
	if file != "" {
		if len(keys) == 0 {
			return errors.New("--checkpoints needs the audit key's public half: --audit-pubkey or --audit-key")
		}
		if opts.Exported, err = audit.ReadCheckpointFile(file); err != nil {
			return err
		}
	}
	svc, err := app.OpenServices(ctx, cfg, cfg.Logger(stderr), time.Now)
	if err != nil {
		return err
	}
	defer svc.Close()
	rep, err := audit.VerifyWith(ctx, svc.AuditDB, opts)
	if err != nil {
		return err
	}
	if !rep.OK {
		fmt.Fprintf(stdout, "audit log BROKEN at entry %d: %s (%d entries read)\n", rep.BadSeq, rep.Problem, rep.Entries)
		return fmt.Errorf("audit verification failed")
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries\n", rep.Entries)
	switch {
	case len(keys) == 0:
		fmt.Fprintln(stdout, "signed checkpoints NOT checked (no --audit-pubkey, --audit-key or key in the data directory): a rewrite of the whole log would pass")
	default:
		fmt.Fprintf(stdout, "signed checkpoints match: %d (key from %s%s); entries up to %d are signed, %d newer rest on the chain alone\n",
			rep.Checkpoints, from, exportedNote(file, len(opts.Exported)), rep.Signed, rep.Entries-rep.Signed)
	}
	return nil
}

func exportedNote(file string, n int) string {
	if file == "" {
		return ""
	}
	return fmt.Sprintf(", %d of them from %s", n, file)
}

// auditKeys are the public keys checkpoints are checked with, and where
// they came from: --audit-pubkey, else the configured --audit-key, else the
// development key file in the data directory (read, never created here).
func auditKeys(cfg platform.Config, pubkeys string) ([]ed25519.PublicKey, string, error) {
	if pubkeys != "" {
		keys, err := audit.ParsePublicKeys(pubkeys)
		return keys, "--audit-pubkey", err
	}
	if cfg.AuditKey != "" {
		s, _, err := audit.LoadSigner(cfg.AuditKey, cfg.DataDir)
		if err != nil {
			return nil, "", err
		}
		return []ed25519.PublicKey{s.Public()}, "--audit-key", nil
	}
	path := filepath.Join(cfg.DataDir, audit.KeyFile)
	s, err := audit.ReadKeyFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	return []ed25519.PublicKey{s.Public()}, path, nil
}

// auditCheckpoints prints the checkpoints stored in the database as JSON
// lines, the format of --audit-checkpoint-file: an operator starts an
// exported copy from them, or compares them with one.
func auditCheckpoints(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	svc, err := openServices(ctx, "audit checkpoints", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	defer svc.Close()
	cps, err := audit.StoredCheckpoints(ctx, svc.AuditDB)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	for _, c := range cps {
		if err := enc.Encode(c); err != nil {
			return err
		}
	}
	return nil
}
