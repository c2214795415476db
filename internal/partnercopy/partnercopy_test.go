package partnercopy

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/fold"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/seed"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

var today = time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)

func TestDirt(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		p := "001090012345"
		m := mistypePIN(r, p)
		diff := 0
		for j := range p {
			if p[j] != m[j] {
				diff++
			}
		}
		if len(m) != 12 || diff < 1 || diff > 2 {
			t.Fatalf("mistypePIN(%s) = %s", p, m)
		}
		name := "Nguyễn Thị Hòa"
		ty := typo(r, name)
		if ty == name || len(fold.Words(ty)) != 3 {
			t.Fatalf("typo(%q) = %q changes nothing", name, ty)
		}
	}
	tests := []struct {
		fn       func(string) string
		in, want string
	}{
		{oldTones, "Lê Thị Hòa", "Lê Thị Hoà"},
		{oldTones, "Phạm Thúy Quỳnh", "Phạm Thuý Quỳnh"},
		{oldTones, "Trần Văn An", "Trần Văn An"},
		{stripDiacritics, "Đặng Thị Ánh Tuyết", "Dang Thi Anh Tuyet"},
		{stripDiacritics, "H'Hen Niê", "H'Hen Nie"},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("%q → %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := formatDate(r, 1948, 0, 0); got != "1948" {
		t.Errorf("year only: %q", got)
	}
	if got := formatDate(r, 1952, 3, 0); got != "03/1952" {
		t.Errorf("month and year: %q", got)
	}
}

type recorder struct{ entries []audit.Entry }

func (r *recorder) Record(_ context.Context, e audit.Entry) error {
	r.entries = append(r.entries, e)
	return nil
}

func TestGenerate(t *testing.T) {
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	storagetest.Run(t, []storage.Migrations{audit.Migrations(), registry.Migrations()}, func(t *testing.T, db *storage.DB) {
		generate(t, db, units)
	})
}

func generate(t *testing.T, db *storage.DB, units *adminunit.Catalog) {
	ctx := context.Background()
	log := audit.NewLog(db, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := seed.Run(ctx, db, log, units, seed.Options{Persons: 3000, Seed: 1, Today: today}); err != nil {
		t.Fatal(err)
	}
	log.Close()
	rows, truth, err := Generate(ctx, db, units, Options{Rows: 1000, Seed: 5, Now: today})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1000 || len(truth) != 1000 {
		t.Fatalf("%d rows, %d truths", len(rows), len(truth))
	}
	counts := map[string]int{}
	byRef := map[string]Row{}
	for i, tr := range truth {
		row := rows[i]
		if tr.Ref != row.Ref {
			t.Fatalf("truth %d is for %s, row is %s", i, tr.Ref, row.Ref)
		}
		byRef[row.Ref] = row
		for _, c := range tr.Corruptions {
			counts[c]++
		}
		var status string
		err := db.R.QueryRow(`SELECT status FROM persons WHERE pin = $1`, tr.TruePIN).Scan(&status)
		switch {
		case tr.TruePIN == "":
			if !slices.Contains(tr.Corruptions, NotInRegister) {
				t.Fatalf("row %s has no true PIN but is not marked not_in_register", tr.Ref)
			}
			if row.PIN != "" && db.R.QueryRow(`SELECT status FROM persons WHERE pin = $1`, row.PIN).Scan(&status) == nil && !slices.Contains(tr.Corruptions, PINTypo) {
				t.Fatalf("stranger %s carries the PIN of a registered person", tr.Ref)
			}
		case err != nil:
			t.Fatalf("true PIN of %s not in the register: %v", tr.Ref, err)
		case (status == "dead") != slices.Contains(tr.Corruptions, Dead):
			t.Fatalf("row %s: status %s, corruptions %v", tr.Ref, status, tr.Corruptions)
		}
		if tr.TruePIN != "" && !slices.Contains(tr.Corruptions, PINTypo) && !slices.Contains(tr.Corruptions, NoPIN) && row.PIN != tr.TruePIN {
			t.Fatalf("row %s: PIN %s, true %s, corruptions %v", tr.Ref, row.PIN, tr.TruePIN, tr.Corruptions)
		}
	}
	// Every kind of dirt is present in a 1,000-row copy.
	for _, c := range []string{NoDiacritics, UpperCase, NameTypo, TonePlacement, NameOrder, SwappedDate, PINTypo, NoPIN, OldAddress, Dead, NotInRegister, Duplicate} {
		if counts[c] == 0 {
			t.Errorf("no row with %s (counts %v)", c, counts)
		}
	}
	// The same seed gives the same copy.
	again, _, err := Generate(ctx, db, units, Options{Rows: 1000, Seed: 5, Now: today})
	if err != nil || !slices.Equal(again, rows) {
		t.Fatalf("same seed, different copy (%v)", err)
	}
	// Files: header, rows, truth read back, one audit entry.
	dir := t.TempDir()
	rec := &recorder{}
	s, err := Run(ctx, db, units, rec, dir+"/copy.csv", Options{Rows: 200, Seed: 5, Now: today})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.entries) != 1 || rec.entries[0].Actor != "system:partner-copy" {
		t.Fatalf("audit entries %v", rec.entries)
	}
	var buf bytes.Buffer
	b, _ := readFile(s.TruthFile)
	buf.Write(b)
	got, err := ReadTruth(&buf)
	if err != nil || len(got) != 200 || s.Rows != 200 {
		t.Fatalf("truth read back: %d entries, %v; summary %+v", len(got), err, s)
	}
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }
