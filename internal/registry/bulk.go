package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dancu-project/dancu/internal/storage"
)

// The register's bulk reads: the few readers that need every person at once
// (the match index, partner copies) or a cheap fact about the table (is it
// empty, does a PIN exist) read through these functions, so that the
// persons table has one owner. None of them audits: the caller records its
// bulk use once (partnercopy.Run), or discloses nothing of a person (the
// match index answers its own audited callers).

// PersonRow is one person as a bulk scan sees it. Its slices are the
// driver's buffers (sql.RawBytes), valid only during the callback: a
// reader that keeps a value copies it (string(r.FullName)). The scan of
// millions of rows is the reason: a registry.Person per row would cost
// several times the memory and time.
type PersonRow struct {
	PIN, FullName, BirthDate, Sex, Commune, Detail, Status []byte
}

// Dead reports whether the row's person's death is registered.
func (r *PersonRow) Dead() bool { return string(r.Status) == "dead" }

// ScanPersons calls fn for every person of the register, in one streaming
// read; byPIN orders the scan by PIN (for a reproducible sample), at the
// cost of an ordered read on PostgreSQL. fn's error stops the scan and is
// returned.
func ScanPersons(ctx context.Context, db *storage.DB, byPIN bool, fn func(*PersonRow) error) error {
	q := `SELECT pin, full_name, birth_date, sex, perm_commune, perm_detail, status FROM persons`
	if byPIN {
		q += ` ORDER BY pin`
	}
	rows, err := db.R.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("scan persons: %w", err)
	}
	defer rows.Close()
	var r PersonRow
	for rows.Next() {
		if err := rows.Scan((*sql.RawBytes)(&r.PIN), (*sql.RawBytes)(&r.FullName), (*sql.RawBytes)(&r.BirthDate), (*sql.RawBytes)(&r.Sex),
			(*sql.RawBytes)(&r.Commune), (*sql.RawBytes)(&r.Detail), (*sql.RawBytes)(&r.Status)); err != nil {
			return fmt.Errorf("scan persons: %w", err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan persons: %w", err)
	}
	return ctx.Err()
}

// CountPersons is the number of people in the register, the dead included.
func CountPersons(ctx context.Context, db *storage.DB) (int, error) {
	var n int
	if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM persons`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count persons: %w", err)
	}
	return n, nil
}

// CountDead is the number of people whose death is registered.
func CountDead(ctx context.Context, db *storage.DB) (int, error) {
	var n int
	if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM persons WHERE status = 'dead'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the dead: %w", err)
	}
	return n, nil
}

// Empty reports whether the register holds nobody yet (a fresh platform is
// seeded only then).
func Empty(ctx context.Context, db *storage.DB) (bool, error) {
	var n int
	if err := db.R.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM persons LIMIT 1) AS any_person`).Scan(&n); err != nil {
		return false, fmt.Errorf("count persons: %w", err)
	}
	return n == 0, nil
}

// Exists reports whether a PIN belongs to someone in the register, unaudited:
// for inventing PINs nobody has (partner copies' strangers), never for
// answering anyone about a person.
func Exists(ctx context.Context, db *storage.DB, pin string) (bool, error) {
	var one int
	err := db.R.QueryRowContext(ctx, `SELECT 1 FROM persons WHERE pin = $1`, pin).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("person exists: %w", err)
	}
	return true, nil
}

// LivingBornBetween lists, in PIN order, up to n living people of a province
// (its two-digit code) with a full birth date in [from, before) (years,
// "1970"): the development platform's sample citizens.
func LivingBornBetween(ctx context.Context, db *storage.DB, province, from, before string, n int) ([]string, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT pin FROM persons WHERE perm_province = $1 AND status = 'alive'
		AND birth_date >= $2 AND birth_date < $3 AND length(birth_date) = 10 ORDER BY pin LIMIT $4`, province, from, before, n)
	if err != nil {
		return nil, fmt.Errorf("living persons born between: %w", err)
	}
	defer rows.Close()
	var pins []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("living persons born between: %w", err)
		}
		pins = append(pins, p)
	}
	return pins, rows.Err()
}
