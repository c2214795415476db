package service

import (
	"context"
	"fmt"

	"github.com/dancu-project/dancu/internal/storage"
)

// HoldsValidCard reports whether pin holds an issued card not ended: one
// Produced (dancu.card.issued is published then) or HandedOver, unaudited:
// for the statistics' card coverage, which discloses counts only.
func HoldsValidCard(ctx context.Context, db *storage.DB, pin string) (bool, error) {
	var n int
	if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM cards WHERE pin = $1 AND status IN ($2, $3)`, pin, Produced, HandedOver).Scan(&n); err != nil {
		return false, fmt.Errorf("valid card of a person: %w", err)
	}
	return n > 0, nil
}

// ScanValidCardHolders calls fn with the PIN of every holder of a valid
// card (as HoldsValidCard), unaudited, for rebuilding the statistics' card coverage.
func ScanValidCardHolders(ctx context.Context, db *storage.DB, fn func(pin string) error) error {
	rows, err := db.R.QueryContext(ctx, `SELECT DISTINCT pin FROM cards WHERE status IN ($1, $2)`, Produced, HandedOver)
	if err != nil {
		return fmt.Errorf("scan card holders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pin string
		if err := rows.Scan(&pin); err != nil {
			return fmt.Errorf("scan card holders: %w", err)
		}
		if err := fn(pin); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan card holders: %w", err)
	}
	return ctx.Err()
}
