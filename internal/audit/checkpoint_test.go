package audit_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/audit/audittest"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func testSigner(t *testing.T, b byte) *audit.Signer {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = b
	}
	s, err := audit.NewSigner(seed)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheckpointSignature(t *testing.T) {
	s, other := testSigner(t, 1), testSigner(t, 2)
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	good := s.Sign(42, "abcd", at)
	keys := []ed25519.PublicKey{s.Public()}
	if err := good.Check(keys); err != nil {
		t.Fatalf("own signature refused: %v", err)
	}
	if err := good.Check([]ed25519.PublicKey{other.Public(), s.Public()}); err != nil {
		t.Fatalf("signature refused among several keys: %v", err)
	}
	for name, c := range map[string]audit.Checkpoint{
		"other seq":      func() audit.Checkpoint { c := good; c.Seq = 43; return c }(),
		"other hash":     func() audit.Checkpoint { c := good; c.Hash = "abce"; return c }(),
		"other time":     func() audit.Checkpoint { c := good; c.At = at.Add(time.Second); return c }(),
		"garbage sig":    func() audit.Checkpoint { c := good; c.Sig = "!!"; return c }(),
		"forged by key":  other.Sign(42, "abcd", at),
		"claims our key": func() audit.Checkpoint { c := other.Sign(42, "abcd", at); c.Key = good.Key; return c }(),
	} {
		if err := c.Check(keys); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := good.Check([]ed25519.PublicKey{other.Public()}); err == nil {
		t.Error("checked with the wrong key: accepted")
	}
	// JSON lines round trip, as in an exported file.
	line, _ := json.Marshal(good)
	back, err := audit.ReadCheckpoints(strings.NewReader("\n" + string(line) + "\n"))
	if err != nil || len(back) != 1 || back[0].Check(keys) != nil {
		t.Fatalf("file round trip: %+v %v", back, err)
	}
	if _, err := audit.ReadCheckpoints(strings.NewReader(string(line) + "\nnot json\n")); err == nil {
		t.Error("a garbage line in a checkpoint file was skipped silently")
	}
}

func TestParseAuditKeys(t *testing.T) {
	for _, bad := range []string{"", "abc", strings.Repeat("zz", 32), strings.Repeat("00", 31)} {
		if _, err := audit.ParseSeed(bad); err == nil {
			t.Errorf("seed %q accepted", bad)
		}
	}
	s := testSigner(t, 3)
	keys, err := audit.ParsePublicKeys(" " + s.PublicHex() + "," + testSigner(t, 4).PublicHex())
	if err != nil || len(keys) != 2 || !keys[0].Equal(s.Public()) {
		t.Fatalf("public keys: %v %v", keys, err)
	}
	if _, err := audit.ParsePublicKeys("00ff"); err == nil {
		t.Error("short public key accepted")
	}
}

func TestLoadSignerKeepsDevelopmentKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s1, path, err := audit.LoadSigner("", dir)
	if err != nil || path != filepath.Join(dir, audit.KeyFile) {
		t.Fatalf("first load: %q %v", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	s2, _, err := audit.LoadSigner("", dir)
	if err != nil || s1.PublicHex() != s2.PublicHex() {
		t.Fatal("the development key changed between starts")
	}
	configured, path, err := audit.LoadSigner(strings.Repeat("07", 32), dir)
	if err != nil || path != "" || configured.PublicHex() == s1.PublicHex() {
		t.Fatalf("configured key: %q %v", path, err)
	}
	if _, _, err := audit.LoadSigner("not hex", dir); err == nil {
		t.Error("malformed configured key accepted")
	}
}

func TestCheckpointsCatchRewrite(t *testing.T) {
	owner, attacker := testSigner(t, 1), testSigner(t, 9)
	keys := []ed25519.PublicKey{owner.Public()}
	cases := []struct {
		name     string
		tamper   func(t *testing.T, db *storage.DB)
		keys     []ed25519.PublicKey
		exported bool // verify against the exported file too
		want     string
	}{
		{"intact", func(*testing.T, *storage.DB) {}, keys, true, ""},
		{"whole chain rewritten", func(t *testing.T, db *storage.DB) { audittest.RewriteChain(t, db, 10, 0) }, keys, false, "rewritten"},
		{"rewritten after the first checkpoint", func(t *testing.T, db *storage.DB) { audittest.RewriteChain(t, db, 230, 0) }, keys, false, "rewritten"},
		{"truncated and rewritten", func(t *testing.T, db *storage.DB) { audittest.RewriteChain(t, db, 10, 150) }, keys, false, "removed"},
		{"truncated past the last checkpoint", func(t *testing.T, db *storage.DB) { audittest.RewriteChain(t, db, 240, 240) }, keys, false, "removed"},
		{"rewritten, stored checkpoints deleted", func(t *testing.T, db *storage.DB) {
			audittest.RewriteChain(t, db, 10, 0)
			mustExec(t, db, `DELETE FROM audit_checkpoints`)
		}, keys, false, "no signed checkpoint"},
		{"rewritten, stored checkpoints deleted, exported file kept", func(t *testing.T, db *storage.DB) {
			audittest.RewriteChain(t, db, 10, 0)
			mustExec(t, db, `DELETE FROM audit_checkpoints`)
		}, keys, true, "rewritten"},
		{"rewritten, stored checkpoints re-signed with another key", func(t *testing.T, db *storage.DB) {
			audittest.RewriteChain(t, db, 10, 0)
			mustExec(t, db, `DELETE FROM audit_checkpoints`)
			resign(t, db, attacker)
		}, keys, false, "not signed by the audit key"},
		{"rewritten, checkpoint hashes replaced", func(t *testing.T, db *storage.DB) {
			audittest.RewriteChain(t, db, 10, 0)
			mustExec(t, db, `UPDATE audit_checkpoints SET hash = (SELECT hash FROM audit_log WHERE audit_log.seq = audit_checkpoints.seq)`)
		}, keys, false, "not signed by the audit key"},
		{"wrong key given", func(*testing.T, *storage.DB) {}, []ed25519.PublicKey{attacker.Public()}, false, "not signed by the audit key"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			storagetest.Run(t, []storage.Migrations{audit.Migrations()}, func(t *testing.T, db *storage.DB) {
				ctx := context.Background()
				file := filepath.Join(t.TempDir(), "checkpoints.jsonl")
				cp := audit.NewCheckpointer(db, owner, slog.New(slog.NewTextHandler(t.Output(), nil)), time.Now, audit.FileExport(file))
				fill(t, db, 200)
				if _, made, err := cp.Checkpoint(ctx); err != nil || !made {
					t.Fatalf("checkpoint: %v %v", made, err)
				}
				fill(t, db, 50)
				if _, made, err := cp.Checkpoint(ctx); err != nil || !made {
					t.Fatalf("checkpoint: %v %v", made, err)
				}
				if _, made, err := cp.Checkpoint(ctx); err != nil || made {
					t.Fatalf("a checkpoint of an unchanged head: %v %v", made, err)
				}
				// A new checkpointer (a restart) on an unmoved head signs nothing.
				if _, made, err := audit.NewCheckpointer(db, owner, slog.New(slog.DiscardHandler), time.Now).Checkpoint(ctx); err != nil || made {
					t.Fatalf("a restart signed the unmoved head again: %v %v", made, err)
				}
				fill(t, db, 5) // a tail no checkpoint covers yet
				tt.tamper(t, db)
				opts := audit.VerifyOptions{Keys: tt.keys}
				if tt.exported {
					if opts.Exported, _ = audit.ReadCheckpointFile(file); len(opts.Exported) != 2 {
						t.Fatalf("exported file has %d checkpoints, want 2", len(opts.Exported))
					}
				}
				rep, err := audit.VerifyWith(ctx, db, opts)
				if err != nil {
					t.Fatal(err)
				}
				if tt.want == "" {
					if !rep.OK || rep.Entries != 255 || rep.Signed != 250 || rep.Checkpoints != 4 {
						t.Fatalf("intact log: %+v", rep)
					}
					return
				}
				if rep.OK || !strings.Contains(rep.Problem, tt.want) {
					t.Fatalf("want a failure saying %q, got %+v", tt.want, rep)
				}
				// Each rewrite is consistent: the chain alone agrees with
				// itself, only the signed checkpoints show it.
				if plain, err := audit.Verify(ctx, db); err != nil || !plain.OK {
					t.Fatalf("the rewrite is not consistent, the chain alone catches it: %+v %v", plain, err)
				}
			})
		})
	}
}

func mustExec(t *testing.T, db *storage.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.W.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatal(err)
	}
}

// resign stores checkpoints of the current head signed with s.
func resign(t *testing.T, db *storage.DB, s *audit.Signer) {
	t.Helper()
	cp := audit.NewCheckpointer(db, s, slog.New(slog.DiscardHandler), time.Now)
	if _, made, err := cp.Checkpoint(context.Background()); err != nil || !made {
		t.Fatalf("attacker's checkpoint: %v %v", made, err)
	}
}

func TestCheckpointerCadence(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite, []storage.Migrations{audit.Migrations()})
	ctx := context.Background()
	clock := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	cp := audit.NewCheckpointer(db, testSigner(t, 1), slog.New(slog.DiscardHandler), func() time.Time { return clock })
	cp.Every, cp.Interval, cp.Poll = 100, time.Minute, 5*time.Millisecond
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); cp.Run(runCtx) }()
	count := func() int {
		cps, err := audit.StoredCheckpoints(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		return len(cps)
	}
	waitFor := func(want int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); count() != want; {
			if time.Now().After(deadline) {
				t.Fatalf("%d checkpoints, want %d", count(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	fill(t, db, 3)
	waitFor(1) // the first entries are covered at once
	fill(t, db, 50)
	time.Sleep(50 * time.Millisecond)
	if n := count(); n != 1 {
		t.Fatalf("%d checkpoints before 100 entries or a minute", n)
	}
	fill(t, db, 60)
	waitFor(2) // 100 entries since the last
	stop()
	<-done
	rep, err := audit.VerifyWith(ctx, db, audit.VerifyOptions{Keys: []ed25519.PublicKey{testSigner(t, 1).Public()}})
	if err != nil || !rep.OK || rep.Checkpoints != 2 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// TestCheckpointPublished sends checkpoints to a real (embedded) JetStream,
// where an operator's mirror reads them back as the lines of a file.
func TestCheckpointPublished(t *testing.T) {
	ctx := context.Background()
	bus, err := events.Open(ctx, "", t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	db := storagetest.Open(t, storage.SQLite, []storage.Migrations{audit.Migrations()})
	s := testSigner(t, 1)
	cp := audit.NewCheckpointer(db, s, slog.New(slog.NewTextHandler(t.Output(), nil)), time.Now, audit.PublishExport(bus))
	fill(t, db, 7)
	want, _, err := cp.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := bus.JS.OrderedConsumer(ctx, events.Stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{audit.CheckpointSubject}})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got, err := audit.ReadCheckpoints(strings.NewReader(string(msg.Data())))
	if err != nil || len(got) != 1 || got[0].Seq != want.Seq || got[0].Check([]ed25519.PublicKey{s.Public()}) != nil {
		t.Fatalf("published checkpoint: %+v %v", got, err)
	}
}
