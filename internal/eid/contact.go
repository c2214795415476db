package eid

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Contact returns the citizen's own mobile number (opened from its sealed
// form) and e-mail address, for telling them about their own dossiers;
// "" and "" when they hold no active account. Callers never log them.
func (s *Service) Contact(ctx context.Context, pin string) (phone, email string, err error) {
	var sealed, status string
	err = s.db.R.QueryRowContext(ctx, `SELECT phone_sealed, email, status FROM eid_accounts WHERE pin = $1`, pin).Scan(&sealed, &email, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("contact: %w", err)
	}
	if status != StatusActive {
		return "", "", nil
	}
	if sealed != "" {
		if phone, err = s.seal.Open(sealed, pin); err != nil {
			return "", "", fmt.Errorf("contact: %w", err)
		}
	}
	return phone, email, nil
}
