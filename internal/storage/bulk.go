package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Loader loads many rows into several tables fast, in one transaction: COPY on
// PostgreSQL, multi-row INSERTs on SQLite. It is for seeding and imports of
// rows already validated; nothing is visible until Commit, and a failure
// leaves nothing behind.
type Loader struct {
	db     *DB
	conn   *sql.Conn
	tx     *sql.Tx // SQLite only
	tables []*Table
	// indexes dropped by DeferIndexes, recreated at Commit.
	indexes []string
}

// Table queues rows for one table of a Loader.
type Table struct {
	l       *Loader
	name    string
	columns []string
	rows    [][]any
	batch   int
	stmt    *sql.Stmt // SQLite: prepared insert of batch rows
}

// NewLoader starts a bulk load.
func (db *DB) NewLoader(ctx context.Context) (*Loader, error) {
	l := &Loader{db: db}
	conn, err := db.W.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("bulk load: conn: %w", err)
	}
	l.conn = conn
	if db.Dialect == Postgres {
		if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
			conn.Close()
			return nil, fmt.Errorf("bulk load: begin: %w", err)
		}
		return l, nil
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("bulk load: begin: %w", err)
	}
	l.tx = tx
	return l, nil
}

// Table prepares loading into table with these columns.
func (l *Loader) Table(ctx context.Context, table string, columns ...string) (*Table, error) {
	t := &Table{l: l, name: table, columns: columns, batch: 20000}
	if l.db.Dialect == SQLite {
		// SQLite binds at most 32766 parameters per statement.
		t.batch = min(32000/len(columns), 500)
		stmt, err := l.tx.PrepareContext(ctx, t.insertSQL(t.batch))
		if err != nil {
			return nil, fmt.Errorf("bulk %s: prepare: %w", table, err)
		}
		t.stmt = stmt
	}
	l.tables = append(l.tables, t)
	return t, nil
}

func (t *Table) insertSQL(rows int) string {
	return "INSERT INTO " + t.name + " (" + strings.Join(t.columns, ", ") + ") VALUES " + t.l.db.Values(rows, len(t.columns))
}

// Add queues one row, values in column order.
func (t *Table) Add(ctx context.Context, values ...any) error {
	t.rows = append(t.rows, values)
	if len(t.rows) >= t.batch {
		return t.flush(ctx)
	}
	return nil
}

func (t *Table) flush(ctx context.Context) error {
	if len(t.rows) == 0 {
		return nil
	}
	defer func() { t.rows = t.rows[:0] }()
	if t.l.db.Dialect == Postgres {
		return t.l.conn.Raw(func(dc any) error {
			pc := dc.(*stdlib.Conn).Conn()
			if _, err := pc.CopyFrom(ctx, pgx.Identifier{t.name}, t.columns, pgx.CopyFromRows(t.rows)); err != nil {
				return fmt.Errorf("bulk %s: copy: %w", t.name, err)
			}
			return nil
		})
	}
	stmt := t.stmt
	if len(t.rows) != t.batch {
		var err error
		if stmt, err = t.l.tx.PrepareContext(ctx, t.insertSQL(len(t.rows))); err != nil {
			return fmt.Errorf("bulk %s: prepare: %w", t.name, err)
		}
		defer stmt.Close()
	}
	args := make([]any, 0, len(t.rows)*len(t.columns))
	for _, r := range t.rows {
		args = append(args, r...)
	}
	if _, err := stmt.ExecContext(ctx, args...); err != nil {
		return fmt.Errorf("bulk %s: insert: %w", t.name, err)
	}
	return nil
}

// Exec runs a statement inside the load's transaction (e.g. to update a
// counter table at the end).
func (l *Loader) Exec(ctx context.Context, query string, args ...any) error {
	var err error
	if l.tx != nil {
		_, err = l.tx.ExecContext(ctx, query, args...)
	} else {
		_, err = l.conn.ExecContext(ctx, query, args...)
	}
	return err
}

// DeferIndexes drops the secondary indexes of table for the rest of the load
// and rebuilds them at Commit, inside the same transaction. Building an index
// once over sorted data is several times faster than growing it row by row,
// so this pays off when the table starts empty or small.
func (l *Loader) DeferIndexes(ctx context.Context, table string) error {
	query := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL`
	if l.db.Dialect == Postgres {
		query = `SELECT i.indexname, i.indexdef FROM pg_indexes i
			WHERE i.schemaname = current_schema() AND i.tablename = $1
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`
	}
	var rows *sql.Rows
	var err error
	if l.tx != nil {
		rows, err = l.tx.QueryContext(ctx, query, table)
	} else {
		rows, err = l.conn.QueryContext(ctx, query, table)
	}
	if err != nil {
		return fmt.Errorf("bulk %s: list indexes: %w", table, err)
	}
	var names []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return fmt.Errorf("bulk %s: list indexes: %w", table, err)
		}
		names = append(names, name)
		l.indexes = append(l.indexes, def)
	}
	rows.Close()
	for _, name := range names {
		if err := l.Exec(ctx, "DROP INDEX "+name); err != nil {
			return fmt.Errorf("bulk %s: drop index %s: %w", table, name, err)
		}
	}
	return nil
}

// Commit writes the remaining rows and makes the whole load visible.
func (l *Loader) Commit(ctx context.Context) error {
	for _, t := range l.tables {
		if err := t.flush(ctx); err != nil {
			l.Rollback()
			return err
		}
	}
	for _, def := range l.indexes {
		if err := l.Exec(ctx, def); err != nil {
			l.Rollback()
			return fmt.Errorf("bulk load: rebuild index: %w", err)
		}
	}
	defer l.close()
	if l.tx != nil {
		if err := l.tx.Commit(); err != nil {
			return fmt.Errorf("bulk load: commit: %w", err)
		}
		return nil
	}
	if _, err := l.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("bulk load: commit: %w", err)
	}
	return nil
}

// Rollback abandons the load. It is safe after Commit.
func (l *Loader) Rollback() {
	if l.conn == nil {
		return
	}
	if l.tx != nil {
		l.tx.Rollback()
	} else {
		l.conn.ExecContext(context.Background(), "ROLLBACK")
	}
	l.close()
}

func (l *Loader) close() {
	for _, t := range l.tables {
		if t.stmt != nil {
			t.stmt.Close()
		}
	}
	l.conn.Close()
	l.conn = nil
}
