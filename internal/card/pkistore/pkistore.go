// Package pkistore keeps the card PKI's directory (internal/card/pki: the
// CSCA, document and results signers with their sealed keys, the revoked
// list, CRL and master list) in the database, so several nodes share one
// PKI. The pki package keeps working on files: each node's <data>/pki is a
// cache of the database's rows. A change (first start, a signer rotation)
// runs under a lease: pull what the database has, change the files, push
// every file that differs. Every node polls the rows' version and writes
// newer files into its directory, so a rotation on one node is used by the
// others within a poll period. A directory made before the mirror existed
// is uploaded at the first start against an empty database.
package pkistore

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/dancu-project/dancu/internal/lease"
	"github.com/dancu-project/dancu/internal/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the pki_files table.
func Migrations() storage.Migrations {
	return storage.Migrations{Module: "pkistore", FS: storage.Sub(migrationFS, "migrations")}
}

// leaseName is the lease every change of the PKI runs under.
const leaseName = "card-pki"

// ErrOtherPKI is returned when the directory holds a CSCA other than the
// database's: two PKIs would mix, so the node refuses to start.
var ErrOtherPKI = errors.New("card/pkistore: the data directory's card PKI (csca.pem) is not the database's; move the directory away so the node takes the database's")

// Mirror keeps Dir and the database in step.
type Mirror struct {
	DB     *storage.DB
	Dir    string
	Leases *lease.Leases

	mu   sync.Mutex
	seen int64 // highest version written into Dir
}

// pathRE names the files a PKI directory holds (pki.go, results.go).
var pathRE = regexp.MustCompile(`^(results/|ds/)?[a-z0-9][a-z0-9._-]*$`)

// Change runs fn under the PKI lease between a pull and a push, so one
// node at a time changes the PKI and every change reaches the database.
func (m *Mirror) Change(ctx context.Context, fn func() error) error {
	wait, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := m.Leases.Wait(wait, leaseName, 2*time.Minute, 200*time.Millisecond); err != nil {
		return fmt.Errorf("card/pkistore: %w", err)
	}
	defer m.Leases.Release(context.WithoutCancel(ctx), leaseName)
	if _, err := m.Pull(ctx); err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	_, err := m.Push(ctx)
	return err
}

// Pull writes into Dir every row newer than the last pulled and reports
// how many. The first pull refuses a directory whose CSCA is another's.
func (m *Mirror) Pull(ctx context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rows, err := m.DB.R.QueryContext(ctx, `SELECT path, content, version FROM pki_files WHERE version > $1 ORDER BY version`, m.seen)
	if err != nil {
		return 0, fmt.Errorf("card/pkistore: read: %w", err)
	}
	defer rows.Close()
	type file struct {
		path    string
		content []byte
		version int64
	}
	var files []file
	for rows.Next() {
		var f file
		if err := rows.Scan(&f.path, &f.content, &f.version); err != nil {
			return 0, fmt.Errorf("card/pkistore: read: %w", err)
		}
		if !pathRE.MatchString(f.path) {
			return 0, fmt.Errorf("card/pkistore: %q is not a PKI file name", f.path)
		}
		files = append(files, f)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("card/pkistore: read: %w", err)
	}
	if m.seen == 0 {
		for _, f := range files {
			if f.path != "csca.pem" {
				continue
			}
			local, err := os.ReadFile(filepath.Join(m.Dir, "csca.pem"))
			if err == nil && !bytes.Equal(local, f.content) {
				return 0, ErrOtherPKI
			}
		}
	}
	// Certificates and keys before the "current" pointers that name them
	// (rows come in version order, and a change pushes pointers last).
	for _, f := range files {
		if err := writeFile(filepath.Join(m.Dir, filepath.FromSlash(f.path)), f.content); err != nil {
			return 0, err
		}
		m.seen = max(m.seen, f.version)
	}
	return len(files), nil
}

// Push stores every file of Dir that the database lacks or holds
// otherwise, pointers ("current") last, and reports how many. A private
// key in the clear is refused: keys leave the node sealed only.
func (m *Mirror) Push(ctx context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	local, err := m.list()
	if err != nil {
		return 0, err
	}
	n := 0
	err = m.DB.Tx(ctx, func(tx *sql.Tx) error {
		stored := map[string][]byte{}
		rows, err := tx.QueryContext(ctx, `SELECT path, content FROM pki_files`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var p string
			var c []byte
			if err := rows.Scan(&p, &c); err != nil {
				rows.Close()
				return err
			}
			stored[p] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var version int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM pki_files`).Scan(&version); err != nil {
			return err
		}
		for _, p := range local {
			b, err := os.ReadFile(filepath.Join(m.Dir, filepath.FromSlash(p)))
			if err != nil {
				return err
			}
			if old, ok := stored[p]; ok && bytes.Equal(old, b) {
				continue
			}
			if strings.HasSuffix(p, ".key") && bytes.Contains(b, []byte("-----BEGIN PRIVATE KEY-----")) {
				return fmt.Errorf("%s is a private key in the clear; the PKI key (--pki-key) must seal it first", p)
			}
			version++
			if _, err := tx.ExecContext(ctx, `INSERT INTO pki_files (path, content, version) VALUES ($1, $2, $3)
				ON CONFLICT (path) DO UPDATE SET content = excluded.content, version = excluded.version`, p, b, version); err != nil {
				return err
			}
			n++
		}
		m.seen = max(m.seen, version)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("card/pkistore: store: %w", err)
	}
	return n, nil
}

// list returns Dir's PKI files, slash-separated, "current" pointers last.
func (m *Mirror) list() ([]string, error) {
	var files, pointers []string
	err := filepath.WalkDir(m.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(m.Dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !pathRE.MatchString(rel) {
			return nil // temporary files, anything not the PKI's
		}
		if filepath.Base(rel) == "current" {
			pointers = append(pointers, rel)
		} else {
			files = append(files, rel)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("card/pkistore: list %s: %w", m.Dir, err)
	}
	return append(files, pointers...), nil
}

// Follow pulls newer rows every period until ctx ends, so a change made
// on another node (a rotated signer) is used here within a period.
func (m *Mirror) Follow(ctx context.Context, period time.Duration, log *slog.Logger) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := m.Pull(ctx); err != nil && ctx.Err() == nil {
			log.Warn("card PKI: follow the database", "err", err)
		} else if n > 0 {
			log.Info("card PKI: files updated from the database", "files", n)
		}
	}
}

// writeFile writes atomically (temp file and rename), 0600 in a 0700
// directory, as the pki package writes.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("card/pkistore: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("card/pkistore: write %s: %w", filepath.Base(path), err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("card/pkistore: write %s: %w", filepath.Base(path), err)
	}
	return nil
}
