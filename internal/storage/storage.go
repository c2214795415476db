// Package storage opens the database behind every module: SQLite (pure Go,
// WAL) for the embedded default, PostgreSQL through pgx for production. It runs
// each module's embedded migrations, writes the few statements whose syntax
// differs between the two in one table, and offers bulk loading.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// Dialect names the database engine.
type Dialect string

// Dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database. Writes go through W; reads through R. On SQLite W
// holds a single connection, because SQLite has one writer at a time and
// queueing in Go is cheaper than retrying on SQLITE_BUSY; R is a pool of
// read-only connections that WAL lets run beside the writer. On PostgreSQL
// both are the same pool.
type DB struct {
	W, R    *sql.DB
	Dialect Dialect
	// URL is where the database is, with any password removed, for logs.
	URL string

	stmts  sync.Map // query text → *sql.Stmt on R, prepared once
	wstmts sync.Map // query text → *sql.Stmt on W, prepared once
}

// ReadStmt returns a prepared read statement for query, prepared on first
// use. Hot read paths use it: parsing the SQL costs more than running it.
func (db *DB) ReadStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	return prepareOnce(ctx, db.R, &db.stmts, query)
}

// prepareOnce returns query prepared on pool, from cache after the first
// time; two callers racing keep one statement.
func prepareOnce(ctx context.Context, pool *sql.DB, cache *sync.Map, query string) (*sql.Stmt, error) {
	if s, ok := cache.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if prev, loaded := cache.LoadOrStore(query, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// PrepareWrites prepares hot write statements once on W, outside any
// transaction (on SQLite W is one connection: preparing while a transaction
// holds it would wait forever). TxStmt then binds them to transactions.
func (db *DB) PrepareWrites(ctx context.Context, queries ...string) error {
	for _, q := range queries {
		if _, err := prepareOnce(ctx, db.W, &db.wstmts, q); err != nil {
			return err
		}
	}
	return nil
}

// TxStmt returns query bound to tx: the statement PrepareWrites prepared
// when there is one, else one prepared in tx for this transaction only. Hot
// writers (the audit log's group commit) run the same few statements
// thousands of times a second, and on SQLite parsing them costs more than
// running them.
func (db *DB) TxStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if s, ok := db.wstmts.Load(query); ok {
		return tx.StmtContext(ctx, s.(*sql.Stmt)), nil
	}
	s, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	return s, nil
}

// Open connects to dsn: a postgres:// URL, or a path to an SQLite file
// (created with its directory when missing).
func Open(ctx context.Context, dsn string) (*DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite://"))
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(4 * runtime.GOMAXPROCS(0))
	db.SetMaxIdleConns(4 * runtime.GOMAXPROCS(0))
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	return &DB{W: db, R: db, Dialect: Postgres, URL: redact(dsn)}, nil
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open sqlite: empty path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
	}
	// synchronous(NORMAL) in WAL mode loses no committed transaction on an
	// application crash, only possibly the last ones on power loss; the outbox
	// relay and audit chain tolerate that. _txlock=immediate takes the write
	// lock at BEGIN so two writers never deadlock upgrading read locks.
	base := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=cache_size(-8000)&_time_format=sqlite"
	// The single writer keeps a larger cache: the audit log's subject index
	// takes one random leaf page per entry.
	w, err := sql.Open("sqlite", base+"&_txlock=immediate&_pragma=cache_size(-65536)")
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// Readers map the file: a lookup that misses SQLite's own cache then reads
	// the kernel's page cache directly instead of making a system call, which
	// more than doubles lookups per second on a register larger than memory
	// given to SQLite. Mapped pages are shared, reclaimable file cache.
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)&_pragma=mmap_size(4294967296)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	n := 2 * runtime.GOMAXPROCS(0)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxLifetime(0)
	return &DB{W: w, R: r, Dialect: SQLite, URL: path}, nil
}

// ReadingFrom is db with its reads (R) going to replica's pool and its
// writes still to db's: for a module whose reads tolerate replication lag
// (the statistics dashboards on a streaming replica). Closing db and
// replica closes it; it is not closed itself.
func (db *DB) ReadingFrom(replica *DB) *DB {
	return &DB{W: db.W, R: replica.R, Dialect: db.Dialect, URL: db.URL}
}

// Close closes both pools.
func (db *DB) Close() error {
	for _, cache := range []*sync.Map{&db.stmts, &db.wstmts} {
		cache.Range(func(_, s any) bool {
			s.(*sql.Stmt).Close()
			return true
		})
	}
	err := db.W.Close()
	if db.R != db.W {
		err = errors.Join(err, db.R.Close())
	}
	return err
}

// Ping checks that the database answers, for readiness probes.
func (db *DB) Ping(ctx context.Context) error {
	return db.R.PingContext(ctx)
}

// Tx runs fn in a write transaction and commits when fn returns nil. Callers
// never carry a transaction across layers: the read-modify-write happens in fn.
func (db *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique-constraint failure on
// either engine.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// ForUpdate is the row-lock suffix for a SELECT: SQLite has none and needs none,
// because its write transactions are already exclusive.
func (db *DB) ForUpdate() string {
	if db.Dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

func redact(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return dsn[:scheme+3] + userinfo[:i] + ":***" + dsn[at:]
	}
	return dsn
}

// Values returns the VALUES list of a multi-row INSERT, "(?,?),(?,?)" on
// SQLite and "($1,$2),($3,$4)" on PostgreSQL. SQLite resolves a numbered
// "$N" by a linear search, which is quadratic over thousands of parameters,
// so it gets anonymous ones.
func (db *DB) Values(rows, cols int) string {
	var sb strings.Builder
	sb.Grow(rows * cols * 4)
	n := 1
	for r := 0; r < rows; r++ {
		if r > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				sb.WriteByte(',')
			}
			if db.Dialect == Postgres {
				sb.WriteByte('$')
				sb.WriteString(strconv.Itoa(n))
			} else {
				sb.WriteByte('?')
			}
			n++
		}
		sb.WriteByte(')')
	}
	return sb.String()
}
