package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/storage"
)

// A hash chain proves only that the log agrees with itself: whoever can
// write the database can change an entry, recompute every later hash and
// move the head, and the chain verifies. A checkpoint states "entry seq has
// hash h" at a time, signed with an Ed25519 key that is not in the
// database; a rewrite of any entry up to seq then no longer matches it.
// Checkpoints are kept in the database and exported (a file of JSON lines,
// a JetStream subject), so that a rewrite of the database together with
// its checkpoint table is caught by the exported copy.

// Checkpoint is a signed statement of the chain's head (the body of
// events.AuditCheckpoint, with its checks). Its JSON form is
// one line of an exported checkpoint file and the body of a JetStream
// message.
type Checkpoint events.Checkpoint

// checkpointDomain separates checkpoint signatures from anything else the
// key might ever sign.
const checkpointDomain = "dancu audit checkpoint v1"

// message is what is signed: the fields length-prefixed, like entries'
// hashes, so that no two checkpoints share an encoding.
func (c Checkpoint) message() []byte {
	var b bytes.Buffer
	var n [8]byte
	for _, s := range []string{checkpointDomain, strconv.FormatInt(c.Seq, 10), c.Hash, c.At.UTC().Format(time.RFC3339Nano)} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		b.Write(n[:])
		b.WriteString(s)
	}
	return b.Bytes()
}

// ErrCheckpointSignature means a checkpoint is not signed by any trusted key.
var ErrCheckpointSignature = errors.New("checkpoint not signed by a trusted audit key")

// Check reports whether c is signed by one of keys.
func (c Checkpoint) Check(keys []ed25519.PublicKey) error {
	sig, err := base64.StdEncoding.DecodeString(c.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return ErrCheckpointSignature
	}
	for _, k := range keys {
		if hex.EncodeToString(k) == c.Key && ed25519.Verify(k, c.message(), sig) {
			return nil
		}
	}
	return ErrCheckpointSignature
}

// Signer signs checkpoints with the audit key.
type Signer struct {
	priv ed25519.PrivateKey
}

// NewSigner builds a signer from a 32-byte Ed25519 seed.
func NewSigner(seed []byte) (*Signer, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("audit key: a seed has %d bytes, not %d", ed25519.SeedSize, len(seed))
	}
	return &Signer{priv: ed25519.NewKeyFromSeed(seed)}, nil
}

// Public is the key that verifies the signer's checkpoints.
func (s *Signer) Public() ed25519.PublicKey { return s.priv.Public().(ed25519.PublicKey) }

// PublicHex is Public in the form --audit-pubkey takes.
func (s *Signer) PublicHex() string { return hex.EncodeToString(s.Public()) }

// Sign makes the checkpoint of entry seq with hash at time at.
func (s *Signer) Sign(seq int64, hash string, at time.Time) Checkpoint {
	c := Checkpoint{Seq: seq, Hash: hash, At: at.UTC(), Key: s.PublicHex()}
	c.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(s.priv, c.message()))
	return c
}

// ParseSeed reads an audit key as configured: 64 hex digits (a 32-byte
// Ed25519 seed).
func ParseSeed(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.SeedSize {
		return nil, errors.New("audit key must be 64 hex digits (a 32-byte Ed25519 seed)")
	}
	return b, nil
}

// ParsePublicKeys reads comma-separated public keys of 64 hex digits each
// (several while a key is being replaced).
func ParsePublicKeys(s string) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		b, err := hex.DecodeString(part)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("audit public key %q is not 64 hex digits", part)
		}
		keys = append(keys, ed25519.PublicKey(b))
	}
	return keys, nil
}

// KeyFile is the name of the development audit key in the data directory.
const KeyFile = "audit.key"

// LoadSigner returns the signer of the configured seed, or without one the
// development key kept in dataDir/audit.key, created (mode 0600) on first
// use; path is that file then, empty for a configured key. A key kept
// beside the database protects only against a rewrite by someone who can
// write the database but not read the data directory: production
// configures it.
func LoadSigner(configured, dataDir string) (s *Signer, path string, err error) {
	if configured != "" {
		seed, err := ParseSeed(configured)
		if err != nil {
			return nil, "", err
		}
		s, err := NewSigner(seed)
		return s, "", err
	}
	path = filepath.Join(dataDir, KeyFile)
	if s, err := ReadKeyFile(path); err == nil {
		return s, path, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, "", err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, "", fmt.Errorf("audit key: %w", err)
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, "", fmt.Errorf("audit key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		// Another process made it first: use theirs.
		s, err := ReadKeyFile(path)
		return s, path, err
	}
	if err != nil {
		return nil, "", fmt.Errorf("audit key: %w", err)
	}
	_, werr := f.WriteString(hex.EncodeToString(seed) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return nil, "", fmt.Errorf("audit key %s: %w", path, err)
	}
	s, err = NewSigner(seed)
	return s, path, err
}

// ReadKeyFile reads a key file written by LoadSigner.
func ReadKeyFile(path string) (*Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	seed, err := ParseSeed(string(b))
	if err != nil {
		return nil, fmt.Errorf("audit key %s: %w", path, err)
	}
	return NewSigner(seed)
}

// ExportFunc sends a checkpoint out of the database. An export that fails
// is logged and not retried: the next checkpoint covers every entry before
// it, so one missing copy only makes the exported record coarser.
type ExportFunc func(ctx context.Context, c Checkpoint) error

// FileExport appends each checkpoint as a JSON line to path (created 0600),
// synced before it returns. The file is meant to live outside the data
// directory, or to be shipped elsewhere as it grows.
func FileExport(path string) ExportFunc {
	var mu sync.Mutex
	return func(_ context.Context, c Checkpoint) error {
		line, err := json.Marshal(c)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("checkpoint file: %w", err)
		}
		_, werr := f.Write(append(line, '\n'))
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return fmt.Errorf("checkpoint file %s: %w", path, err)
		}
		return nil
	}
}

// CheckpointSubject is the JetStream subject checkpoints are published on
// (events.AuditCheckpoint).
var CheckpointSubject = events.AuditCheckpoint.String()

// Events declares what the audit log publishes.
var Events = events.Publishes("audit", events.AuditCheckpoint)

// PublishExport publishes each checkpoint on events.AuditCheckpoint; the
// message id is the sequence number and key, so two nodes signing the same
// head publish it once.
func PublishExport(bus *events.Bus) ExportFunc {
	return func(ctx context.Context, c Checkpoint) error {
		return events.Publish(ctx, bus, Events, events.AuditCheckpoint, "audit-checkpoint-"+strconv.FormatInt(c.Seq, 10)+"-"+c.Key[:16], events.Checkpoint(c), nil)
	}
}

// ReadCheckpointFile reads an exported file of checkpoints (JSON lines;
// blank lines skipped). A line that is not a checkpoint is an error, not
// skipped: the file is evidence.
func ReadCheckpointFile(path string) ([]Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint file: %w", err)
	}
	defer f.Close()
	return ReadCheckpoints(f)
}

// ReadCheckpoints reads checkpoints as JSON lines.
func ReadCheckpoints(r io.Reader) ([]Checkpoint, error) {
	var out []Checkpoint
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var c Checkpoint
		if err := json.Unmarshal(text, &c); err != nil || c.Seq <= 0 || c.Hash == "" {
			return nil, fmt.Errorf("checkpoint file line %d is not a checkpoint", line)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("checkpoint file: %w", err)
	}
	return out, nil
}

// StoredCheckpoints reads the checkpoints kept in the database, oldest first.
func StoredCheckpoints(ctx context.Context, db *storage.DB) ([]Checkpoint, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT seq, hash, at, pubkey, sig FROM audit_checkpoints ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("audit checkpoints: %w", err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		var c Checkpoint
		var at string
		if err := rows.Scan(&c.Seq, &c.Hash, &at, &c.Key, &c.Sig); err != nil {
			return nil, fmt.Errorf("audit checkpoints: %w", err)
		}
		// An unreadable time fails the signature check, which is the
		// report an operator needs.
		c.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Checkpointer signs the chain's head now and then and exports it. A
// checkpoint reads only the head row and writes one row; it never touches
// the group commit's path beyond that one short write.
type Checkpointer struct {
	DB     *storage.DB
	Signer *Signer
	Export []ExportFunc
	Log    *slog.Logger
	Now    func() time.Time
	// A checkpoint is made when Every entries were added since the last,
	// or when Interval passed and any entry was added; the head is looked
	// at every Poll.
	Every    int64
	Interval time.Duration
	Poll     time.Duration

	mu       sync.Mutex
	started  bool // lastSeq read from the stored checkpoints
	lastSeq  int64
	lastTime time.Time
}

// NewCheckpointer returns a checkpointer with the production cadence: every
// 10,000 entries or every minute, whichever comes first.
func NewCheckpointer(db *storage.DB, s *Signer, log *slog.Logger, now func() time.Time, export ...ExportFunc) *Checkpointer {
	return &Checkpointer{DB: db, Signer: s, Export: export, Log: log, Now: now, Every: 10_000, Interval: time.Minute, Poll: time.Second}
}

// Run makes checkpoints until ctx ends. The first comes at the first poll
// that finds entries, so a new log is covered within a second. The caller
// makes the last one at shutdown with Checkpoint, once the log is closed.
func (c *Checkpointer) Run(ctx context.Context) {
	t := time.NewTicker(c.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, _, err := c.checkpoint(ctx, false); err != nil && ctx.Err() == nil {
			c.Log.Warn("audit checkpoint", "err", err)
		}
	}
}

// Checkpoint signs the head now if it moved since the last checkpoint,
// stores and exports it; made reports whether it did.
func (c *Checkpointer) Checkpoint(ctx context.Context) (cp Checkpoint, made bool, err error) {
	return c.checkpoint(ctx, true)
}

func (c *Checkpointer) checkpoint(ctx context.Context, force bool) (Checkpoint, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started {
		// A restart whose head has not moved signs nothing again.
		if err := c.DB.R.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM audit_checkpoints`).Scan(&c.lastSeq); err != nil {
			return Checkpoint{}, false, fmt.Errorf("read last checkpoint: %w", err)
		}
		c.started = true
	}
	var seq int64
	var hash string
	if err := c.DB.R.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		return Checkpoint{}, false, fmt.Errorf("read head: %w", err)
	}
	now := c.Now()
	due := force || seq-c.lastSeq >= c.Every || now.Sub(c.lastTime) >= c.Interval
	if seq == 0 || seq == c.lastSeq || !due {
		return Checkpoint{}, false, nil
	}
	cp := c.Signer.Sign(seq, hash, now)
	// Another node may have signed the same head: its row stands.
	_, err := c.DB.W.ExecContext(ctx, `INSERT INTO audit_checkpoints (seq, hash, at, pubkey, sig) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING`,
		cp.Seq, cp.Hash, cp.At.Format(time.RFC3339Nano), cp.Key, cp.Sig)
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("store checkpoint: %w", err)
	}
	c.lastSeq, c.lastTime = seq, now
	for _, export := range c.Export {
		if err := export(ctx, cp); err != nil {
			c.Log.Warn("audit checkpoint export", "seq", cp.Seq, "err", err)
		}
	}
	return cp, true, nil
}

// checkpointIndex groups checkpoints by the entry they cover.
func checkpointIndex(cps []Checkpoint) map[int64][]Checkpoint {
	m := make(map[int64][]Checkpoint, len(cps))
	for _, c := range cps {
		m[c.Seq] = append(m[c.Seq], c)
	}
	return m
}
