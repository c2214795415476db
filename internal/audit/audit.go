// Package audit keeps the append-only, hash-chained audit log: every write to
// the register and every read of a person's record by someone other than that
// person appends an entry (actor, action, subject, purpose, time). Verify walks
// the chain and reports the first entry that was changed or removed.
package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/dancu-project/dancu/internal/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the audit tables.
func Migrations() storage.Migrations {
	return storage.Migrations{Module: "audit", FS: storage.Sub(migrationFS, "migrations")}
}

// Entry is one audited act.
type Entry struct {
	Seq      int64
	At       time.Time
	Actor    string // "staff:tuan.nv", "citizen:001090123456", "partner:bank-a", "system:seed"
	Action   string // "person.read", "person.birth", ...
	Subject  string // "person:001090123456"
	Purpose  string // why: "search", "registration", a declared partner purpose
	Detail   string // short, non-personal context
	PrevHash string
	Hash     string
}

// ChainHash is the hash the chain expects for e given its PrevHash: the
// algorithm is no secret (tools that check an exported log use it); what
// protects the chain against a rewrite is the signed checkpoints.
func (e Entry) ChainHash() string { return e.hash() }

// hash chains e to prev. Fields are length-prefixed so that no two different
// entries share an encoding.
func (e *Entry) hash() string {
	h := sha256.New()
	var n [8]byte
	write := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	write(e.PrevHash)
	write(strconv.FormatInt(e.Seq, 10))
	write(e.At.UTC().Format(time.RFC3339Nano))
	write(e.Actor)
	write(e.Action)
	write(e.Subject)
	write(e.Purpose)
	write(e.Detail)
	return hex.EncodeToString(h.Sum(nil))
}

// AppendTx appends entries inside the caller's write transaction, so an act
// and its audit entry commit together or not at all.
func AppendTx(ctx context.Context, db *storage.DB, tx *sql.Tx, now time.Time, entries ...Entry) error {
	_, err := appendTx(ctx, db, tx, now, nil, entries)
	return err
}

// chainHead is the chain's last entry, as a writer last left it.
type chainHead struct {
	seq  int64
	hash string
}

// appendTx appends entries in tx and returns the new head. With known, the
// head the caller left after its last append, it moves the head first,
// on the condition that no one else moved it since (the update takes the
// head's lock as the read below does), and so spares the read; when
// someone did, it reads the head and chains from it.
func appendTx(ctx context.Context, db *storage.DB, tx *sql.Tx, now time.Time, known *chainHead, entries []Entry) (chainHead, error) {
	if len(entries) == 0 {
		return chainHead{}, nil
	}
	if known != nil {
		args, head := chain(entries, *known, now)
		move, err := db.TxStmt(ctx, tx, moveIfQuery)
		if err != nil {
			return chainHead{}, fmt.Errorf("audit: move head: %w", err)
		}
		res, err := move.ExecContext(ctx, head.seq, head.hash, known.seq, known.hash)
		if err != nil {
			return chainHead{}, fmt.Errorf("audit: move head: %w", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			return head, insertEntries(ctx, db, tx, args)
		}
	}
	stmt, err := db.TxStmt(ctx, tx, headQuery(db))
	if err != nil {
		return chainHead{}, fmt.Errorf("audit: read head: %w", err)
	}
	var from chainHead
	if err := stmt.QueryRowContext(ctx).Scan(&from.seq, &from.hash); err != nil {
		return chainHead{}, fmt.Errorf("audit: read head: %w", err)
	}
	args, head := chain(entries, from, now)
	if err := insertEntries(ctx, db, tx, args); err != nil {
		return chainHead{}, err
	}
	move, err := db.TxStmt(ctx, tx, moveQuery)
	if err != nil {
		return chainHead{}, fmt.Errorf("audit: move head: %w", err)
	}
	if _, err := move.ExecContext(ctx, head.seq, head.hash); err != nil {
		return chainHead{}, fmt.Errorf("audit: move head: %w", err)
	}
	return head, nil
}

// chain numbers and hashes entries after from and returns their columns
// and the new head.
func chain(entries []Entry, from chainHead, now time.Time) ([]any, chainHead) {
	seq, prev := from.seq, from.hash
	args := make([]any, 0, len(entries)*9)
	for i := range entries {
		e := &entries[i]
		seq++
		e.Seq, e.PrevHash = seq, prev
		if e.At.IsZero() {
			e.At = now
		}
		e.At = e.At.UTC()
		e.Hash = e.hash()
		prev = e.Hash
		args = append(args, e.Seq, e.At.Format(time.RFC3339Nano), e.Actor, e.Action, e.Subject, e.Purpose, e.Detail, e.PrevHash, e.Hash)
	}
	return args, chainHead{seq, prev}
}

// insertEntries writes the chained entries' columns.
func insertEntries(ctx context.Context, db *storage.DB, tx *sql.Tx, args []any) error {
	// Group commits carry up to hundreds of entries: a few multi-row INSERTs
	// of fixed sizes, each prepared once, cost less than one statement
	// parsed per batch.
	for len(args) > 0 {
		rows := insertChunk(len(args) / 9)
		ins, err := db.TxStmt(ctx, tx, insertQuery(db, rows))
		if err != nil {
			return fmt.Errorf("audit: append: %w", err)
		}
		if _, err := ins.ExecContext(ctx, args[:rows*9]...); err != nil {
			return fmt.Errorf("audit: append: %w", err)
		}
		args = args[rows*9:]
	}
	return nil
}

func headQuery(db *storage.DB) string {
	return `SELECT seq, hash FROM audit_head WHERE id = 1` + db.ForUpdate()
}

func insertQuery(db *storage.DB, rows int) string {
	return `INSERT INTO audit_log (seq, at, actor, action, subject, purpose, detail, prev_hash, hash) VALUES ` + db.Values(rows, 9)
}

const moveQuery = `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`

// moveIfQuery moves the head only from the one its writer left.
const moveIfQuery = `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3 AND hash = $4`

// chunkSizes are the multi-row INSERT sizes prepared ahead.
var chunkSizes = [...]int{256, 64, 16, 8, 4, 2, 1}

// insertChunk is the largest prepared INSERT size not above n entries.
func insertChunk(n int) int {
	for _, size := range chunkSizes {
		if n >= size {
			return size
		}
	}
	return 1
}

// Log records reads in batches: many concurrent requests share one
// transaction (group commit), and each waits until its entry is durable before
// the data it read is returned.
type Log struct {
	db     *storage.DB
	now    func() time.Time
	log    *slog.Logger
	reqs   chan request
	closed chan struct{}
}

type request struct {
	es   []Entry
	done chan error
}

// NewLog starts the batching writer; Close stops it.
func NewLog(db *storage.DB, now func() time.Time, logger *slog.Logger) *Log {
	l := &Log{db: db, now: now, log: logger, reqs: make(chan request, 4096), closed: make(chan struct{})}
	queries := []string{headQuery(db), moveQuery, moveIfQuery}
	for _, n := range chunkSizes {
		queries = append(queries, insertQuery(db, n))
	}
	// Without them every batch parses its statements again: slower, not wrong.
	if err := db.PrepareWrites(context.Background(), queries...); err != nil {
		logger.Warn("audit: prepare statements", "err", err)
	}
	go l.run()
	return l
}

// maxBatch bounds the entries of one group commit, and so the parameters of
// its INSERT (9 each) under SQLite's limit of 32,766.
const maxBatch = 1000

// A busy log starts a group commit at most every commitEvery, unless
// fillTo entries are waiting: a commit costs far more than an entry (on
// SQLite ≈ 150 µs against ≈ 10 µs), so under load fuller batches leave the
// CPU to the requests. A request arriving at an idle log is committed at
// once; under load one waits at most commitEvery longer. 2 ms rather than
// 1: at 10,000 partner verifications a second half the commits (≈ 5 µs of
// CPU a call on SQLite), and the millisecond is the one a verify no
// longer waits for its quota count's own commit (exchange.Limits reserves
// blocks of calls).
const (
	commitEvery = 2 * time.Millisecond
	fillTo      = 256
)

func (l *Log) run() {
	defer close(l.closed)
	var batch []request
	var entries []Entry
	var lastStart time.Time
	// The head this writer left: the next batch moves it on without
	// reading it (appendTx), unless another writer moved it meanwhile.
	var head *chainHead
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for first := range l.reqs {
		batch = append(batch[:0], first)
		entries = append(entries[:0], first.es...)
		waiting := false
		if wait := commitEvery - time.Since(lastStart); wait > 0 {
			timer.Reset(wait)
			waiting = true
		}
	drain:
		for len(entries) < maxBatch {
			var r request
			var ok bool
			select {
			case r, ok = <-l.reqs:
			default:
				if !waiting || len(entries) >= fillTo {
					break drain
				}
				select {
				case r, ok = <-l.reqs:
				case <-timer.C:
					waiting = false
					break drain
				}
			}
			if !ok {
				break drain
			}
			batch = append(batch, r)
			entries = append(entries, r.es...)
		}
		// Since Go 1.23 a stopped timer delivers no stale tick.
		timer.Stop()
		lastStart = time.Now()
		var moved chainHead
		err := l.db.Tx(context.Background(), func(tx *sql.Tx) error {
			var err error
			moved, err = appendTx(context.Background(), l.db, tx, l.now(), head, entries)
			return err
		})
		if err != nil {
			l.log.Error("audit batch failed", "entries", len(batch), "err", err)
			head = nil
		} else {
			head = &moved
		}
		for _, r := range batch {
			r.done <- err
		}
	}
}

// Record appends e and returns once it is committed. A caller must not
// disclose the data it read if Record fails.
func (l *Log) Record(ctx context.Context, e Entry) error {
	return l.RecordAll(ctx, []Entry{e})
}

// RecordAll appends several entries (one per person a page shows) in one
// group commit and returns once they are committed.
func (l *Log) RecordAll(ctx context.Context, es []Entry) error {
	if len(es) == 0 {
		return nil
	}
	now := l.now()
	for i := range es {
		if es[i].At.IsZero() {
			es[i].At = now
		}
	}
	r := request{es: es, done: make(chan error, 1)}
	select {
	case l.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RecordTx records e for an act done in tx on db. When db holds the audit
// log too (PostgreSQL, or one SQLite file in tests) the entry joins tx and
// commits atomically with the act; waiting for the batch writer there would
// deadlock on SQLite's single writer. Otherwise the entry is written ahead
// through the batch writer, before the act commits.
func (l *Log) RecordTx(ctx context.Context, db *storage.DB, tx *sql.Tx, e Entry) error {
	if db == l.db {
		return AppendTx(ctx, l.db, tx, l.now(), e)
	}
	return l.Record(ctx, e)
}

// Close stops accepting entries and waits for those queued to be written.
func (l *Log) Close() {
	close(l.reqs)
	<-l.closed
}

// Report is the result of Verify.
type Report struct {
	Entries int64
	OK      bool
	BadSeq  int64  // first entry found wrong, 0 if none
	Problem string // what is wrong, in English, for operators
	// Checkpoints is how many signed checkpoints were checked (stored and
	// exported); Signed is the newest entry one of them covers. Entries
	// after Signed are vouched for by the chain alone.
	Checkpoints int
	Signed      int64
}

// VerifyOptions is what Verify checks besides the chain.
type VerifyOptions struct {
	// Keys are the audit keys whose checkpoints are trusted. Without keys
	// checkpoints are not checked, and a rewrite of the whole chain and its
	// head passes.
	Keys []ed25519.PublicKey
	// Exported are checkpoints kept outside the database (an exported
	// file), checked like the stored ones: they catch a rewrite that
	// replaced the stored checkpoints too.
	Exported []Checkpoint
}

// Verify walks the whole chain in order.
func Verify(ctx context.Context, db *storage.DB) (Report, error) {
	return VerifyWith(ctx, db, VerifyOptions{})
}

// VerifyWith walks the chain up to its head and checks it against the
// signed checkpoints: each must be signed by one of opts.Keys and name the
// hash the chain has at its entry. Checkpoints and the head are read before
// the chain, so entries a running server appends meanwhile are not taken
// for a rewrite.
func VerifyWith(ctx context.Context, db *storage.DB, opts VerifyOptions) (Report, error) {
	var rep Report
	var cps []Checkpoint
	if len(opts.Keys) > 0 {
		stored, err := StoredCheckpoints(ctx, db)
		if err != nil {
			return Report{}, fmt.Errorf("audit verify: %w", err)
		}
		cps = append(stored, opts.Exported...)
		for _, c := range cps {
			if err := c.Check(opts.Keys); err != nil {
				return fail(rep, c.Seq, fmt.Sprintf("the checkpoint of entry %d is not signed by the audit key: checkpoints were forged or the key is not the one given", c.Seq)), nil
			}
		}
	}
	bySeq := checkpointIndex(cps)
	var headSeq int64
	var headHash string
	if err := db.R.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash); err != nil {
		return Report{}, fmt.Errorf("audit verify: head: %w", err)
	}
	rows, err := db.R.QueryContext(ctx, `SELECT seq, at, actor, action, subject, purpose, detail, prev_hash, hash FROM audit_log WHERE seq <= $1 ORDER BY seq`, headSeq)
	if err != nil {
		return Report{}, fmt.Errorf("audit verify: %w", err)
	}
	defer rows.Close()
	var prev string
	var want int64 = 1
	for rows.Next() {
		var e Entry
		var at string
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Subject, &e.Purpose, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return Report{}, fmt.Errorf("audit verify: %w", err)
		}
		e.At, err = time.Parse(time.RFC3339Nano, at)
		rep.Entries++
		switch {
		case e.Seq != want:
			return fail(rep, want, fmt.Sprintf("entry %d is missing (next present is %d)", want, e.Seq)), nil
		case err != nil:
			return fail(rep, e.Seq, "entry has an unreadable time"), nil
		case e.PrevHash != prev:
			return fail(rep, e.Seq, "entry does not link to the entry before it"), nil
		case e.hash() != e.Hash:
			return fail(rep, e.Seq, "entry was changed after it was written"), nil
		}
		for _, c := range bySeq[e.Seq] {
			if c.Hash != e.Hash {
				return fail(rep, e.Seq, fmt.Sprintf("entries up to %d differ from the checkpoint signed at %s: the log was rewritten", e.Seq, c.At.Format(time.RFC3339))), nil
			}
			rep.Checkpoints++
			rep.Signed = e.Seq
		}
		prev = e.Hash
		want++
	}
	if err := rows.Err(); err != nil {
		return Report{}, fmt.Errorf("audit verify: %w", err)
	}
	if headSeq != want-1 || headHash != prev {
		return fail(rep, want, fmt.Sprintf("the log ends at entry %d but its head records entry %d: entries were removed from the end", want-1, headSeq)), nil
	}
	for _, c := range cps {
		if c.Seq > headSeq {
			return fail(rep, headSeq+1, fmt.Sprintf("a checkpoint signed at %s records entry %d but the log ends at entry %d: entries were removed and the log rewritten", c.At.Format(time.RFC3339), c.Seq, headSeq)), nil
		}
	}
	if len(opts.Keys) > 0 && len(cps) == 0 && headSeq > 0 {
		return fail(rep, 1, "no signed checkpoint covers the log: it cannot be told from a rewrite (checkpoints deleted, or no server has run with the audit key yet)"), nil
	}
	rep.OK = true
	return rep, nil
}

func fail(r Report, seq int64, problem string) Report {
	r.BadSeq, r.Problem = seq, problem
	return r
}

// BySubject returns the newest entries about a subject, newest first, for the
// citizen's "who accessed my data" page: the log's read API, so that pages
// need not hold the audit database.
func (l *Log) BySubject(ctx context.Context, subject string, limit int) ([]Entry, error) {
	return BySubject(ctx, l.db, subject, limit)
}

// BySubject returns the newest entries about a subject in db, newest first.
func BySubject(ctx context.Context, db *storage.DB, subject string, limit int) ([]Entry, error) {
	// The live runs of the subject index and the entries after it, read in
	// one statement so that both come from one snapshot (index.go). CROSS
	// JOIN makes SQLite loop over the few runs and look the subject up in
	// each, instead of scanning the index for it.
	rows, err := db.R.QueryContext(ctx, `SELECT seq, at, actor, action, subject, purpose, detail FROM audit_log
		WHERE seq IN (
			SELECT s.seq FROM audit_subject_runs r CROSS JOIN audit_subject s WHERE r.state = 'live' AND s.run = r.id AND s.subject = $1
			UNION
			SELECT seq FROM audit_log WHERE subject = $1 AND seq > (SELECT upto FROM audit_index_head WHERE id = 1))
		ORDER BY seq DESC LIMIT $2`, subject, limit)
	if err != nil {
		return nil, fmt.Errorf("audit by subject: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at string
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Subject, &e.Purpose, &e.Detail); err != nil {
			return nil, fmt.Errorf("audit by subject: %w", err)
		}
		e.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, e)
	}
	return out, rows.Err()
}
