package storage

import "io/fs"

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
