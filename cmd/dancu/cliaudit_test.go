package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/audit/audittest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestAuditVerifyCatchesRewrite runs the platform, stops it, rewrites the
// whole audit chain and its head consistently while it is down, and checks
// that `dancu audit verify` fails: against the checkpoints stored in the
// database, and once those are deleted too, against the exported file.
func TestAuditVerifyCatchesRewrite(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(t.TempDir(), "checkpoints.jsonl")
			key := strings.Repeat("5a", 32)
			env := map[string]string{"DANCU_DATA": dir, "DANCU_AUDIT_KEY": key, "DANCU_AUDIT_CHECKPOINT_FILE": file}
			auditURL := filepath.Join(dir, "audit.db")
			if d == storage.Postgres {
				auditURL = storagetest.URL(t, d)
				env["DANCU_DB"] = auditURL
			}
			getenv := func(k string) string { return env[k] }
			verify := func(args ...string) (string, error) {
				var out, errOut bytes.Buffer
				err := run(context.Background(), append([]string{"audit", "verify"}, args...), getenv, &out, &errOut)
				return out.String() + errOut.String(), err
			}
			_, _, stop := startServe(t, env, "--seed-persons", "20")
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			signer, _, _ := audit.LoadSigner(key, "")
			pub := signer.PublicHex()
			if out, err := verify(); err != nil || !strings.Contains(out, "intact") || !strings.Contains(out, "signed checkpoints match") {
				t.Fatalf("verify after a clean stop: %v\n%s", err, out)
			}
			if out, err := verify("--checkpoints", file, "--audit-pubkey", pub); err != nil || !strings.Contains(out, "intact") {
				t.Fatalf("verify against the exported file: %v\n%s", err, out)
			}
			if out, err := verify("--audit-pubkey", strings.Repeat("00", 32)); err == nil || !strings.Contains(out, "not signed by the audit key") {
				t.Fatalf("verify with a wrong public key: %v\n%s", err, out)
			}

			db, err := storage.Open(context.Background(), auditURL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			audittest.RewriteChain(t, db, 1, 0)
			if out, err := verify("--audit-key", ""); err != nil || !strings.Contains(out, "NOT checked") {
				t.Fatalf("the chain alone should pass a consistent rewrite, and say checkpoints were not checked: %v\n%s", err, out)
			}
			if out, err := verify(); err == nil || !strings.Contains(out, "rewritten") {
				t.Fatalf("rewrite not caught by the stored checkpoints: %v\n%s", err, out)
			}
			if _, err := db.W.Exec(`DELETE FROM audit_checkpoints`); err != nil {
				t.Fatal(err)
			}
			if out, err := verify(); err == nil || !strings.Contains(out, "no signed checkpoint") {
				t.Fatalf("deleted checkpoints not reported: %v\n%s", err, out)
			}
			if out, err := verify("--checkpoints", file); err == nil || !strings.Contains(out, "rewritten") {
				t.Fatalf("rewrite not caught by the exported file: %v\n%s", err, out)
			}
		})
	}
}
