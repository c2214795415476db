package storage_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dancu-project/dancu/internal/storage"
)

func TestSecureDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// A data directory of an older version: readable by the group and
	// everyone, with a symbolic link to a file outside it.
	outside := filepath.Join(t.TempDir(), "outside.txt")
	for path, mode := range map[string]fs.FileMode{dir: 0o755, filepath.Join(dir, "jetstream"): 0o750, filepath.Join(dir, "pki"): 0o700} {
		if err := os.MkdirAll(path, mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, mode)
	}
	files := map[string]fs.FileMode{
		outside:                               0o644,
		filepath.Join(dir, "dancu.db"):        0o644,
		filepath.Join(dir, "dancu.db-wal"):    0o664,
		filepath.Join(dir, "jetstream", "x"):  0o640,
		filepath.Join(dir, "pki", "csca.pem"): 0o644,
		filepath.Join(dir, "eid.secret"):      0o600,
		filepath.Join(dir, "readonly"):        0o400,
	}
	for path, mode := range files {
		if err := os.WriteFile(path, []byte("x"), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, mode)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	tightened, err := storage.SecureDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tightened)
	want := []string{".", "dancu.db", "dancu.db-wal", "jetstream", "jetstream/x", "pki/csca.pem"}
	if !slices.Equal(tightened, want) {
		t.Fatalf("tightened %v, want %v", tightened, want)
	}
	for path, mode := range map[string]fs.FileMode{
		dir: 0o700, filepath.Join(dir, "jetstream"): 0o700, filepath.Join(dir, "dancu.db"): 0o600,
		filepath.Join(dir, "dancu.db-wal"): 0o600, filepath.Join(dir, "jetstream", "x"): 0o600,
		filepath.Join(dir, "pki", "csca.pem"): 0o600, filepath.Join(dir, "readonly"): 0o400,
		outside: 0o644, // not followed through the link
	} {
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: %v %v, want %v", path, st.Mode().Perm(), err, mode)
		}
	}
	// A second pass finds nothing to do; a missing directory is made 0700.
	if again, err := storage.SecureDir(dir); err != nil || len(again) != 0 {
		t.Fatalf("second pass: %v %v", again, err)
	}
	fresh := filepath.Join(t.TempDir(), "new", "data")
	if _, err := storage.SecureDir(fresh); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("fresh directory: %v %v", st, err)
	}
}
