package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dancu-project/dancu/internal/storage"
)

// Facts is what the statistics keep of a person: no name, no address
// detail, only what a count by unit, sex and age needs.
type Facts struct {
	BirthDate string // as registered: yyyy, yyyy-mm or yyyy-mm-dd
	Sex       string
	Commune   string // permanent residence
	Dead      bool
}

// PersonFacts reads pin's Facts, unaudited: for the statistics module's
// counters, which disclose counts, never a person. found is false for a
// PIN nobody has.
func PersonFacts(ctx context.Context, db *storage.DB, pin string) (f Facts, found bool, err error) {
	var status string
	err = db.R.QueryRowContext(ctx, `SELECT birth_date, sex, perm_commune, status FROM persons WHERE pin = $1`, pin).
		Scan(&f.BirthDate, &f.Sex, &f.Commune, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return Facts{}, false, nil
	}
	if err != nil {
		return Facts{}, false, fmt.Errorf("person facts: %w", err)
	}
	f.Dead = status == "dead"
	return f, true, nil
}
