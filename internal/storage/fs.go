package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// mustSub is fs.Sub for embedded trees whose directory is known to exist.
func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // an embed directive names this directory; unreachable
	}
	return sub
}

// Sub is fs.Sub for a module's embedded migrations directory.
func Sub(fsys fs.FS, dir string) fs.FS { return mustSub(fsys, dir) }

// Modes of the data directory: only the platform's own user reads or
// writes it (the register, the audit log, JetStream's store, the card PKI
// and the secrets kept beside them in development).
const (
	DirMode  fs.FileMode = 0o700
	FileMode fs.FileMode = 0o600
)

// SecureDir makes dir (created if missing) and everything under it
// private: directories DirMode, files FileMode. Looser modes found are
// tightened rather than refused, so a data directory made by an older
// version keeps working; the paths tightened are returned (relative to
// dir) for the caller to log. Symbolic links are left alone and not
// followed: what they point at is the operator's to set.
func SecureDir(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	var tightened []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking (a temporary file)
			}
			return err
		}
		want := FileMode
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			return nil
		case d.IsDir():
			want = DirMode
		case !d.Type().IsRegular():
			return nil // a socket or pipe: not data
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		if info.Mode().Perm()&^want == 0 {
			return nil
		}
		if err := os.Chmod(path, info.Mode().Perm()&want); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		tightened = append(tightened, rel)
		return nil
	})
	if err != nil {
		return tightened, fmt.Errorf("data directory permissions: %w", err)
	}
	return tightened, nil
}
