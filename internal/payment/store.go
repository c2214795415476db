package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// stampLayout has a fixed width so that stored times compare as text.
const stampLayout = "2006-01-02T15:04:05.000000000Z"

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(stampLayout)
}

func parseStamp(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(stampLayout, s)
	return t
}

const intentColumns = `id, dossier, amount, payer, description, state, gateway, gateway_ref, pay_url, method, fail_reason, receipt_no, refund_ref, refund_reason, created_at, updated_at, expires_at, paid_at, refunded_at`

type scanner interface{ Scan(dest ...any) error }

func scanIntent(row scanner) (Intent, error) {
	var in Intent
	var state, created, updated, expires, paid, refunded string
	err := row.Scan(&in.ID, &in.Dossier, &in.Amount, &in.Payer, &in.Description, &state, &in.Gateway, &in.GatewayRef, &in.PayURL, &in.Method,
		&in.FailReason, &in.ReceiptNo, &in.RefundRef, &in.RefundReason, &created, &updated, &expires, &paid, &refunded)
	if errors.Is(err, sql.ErrNoRows) {
		return Intent{}, ErrNotFound
	}
	if err != nil {
		return Intent{}, fmt.Errorf("payment: read intent: %w", err)
	}
	in.State = State(state)
	in.CreatedAt, in.UpdatedAt, in.ExpiresAt = parseStamp(created), parseStamp(updated), parseStamp(expires)
	in.PaidAt, in.RefundedAt = parseStamp(paid), parseStamp(refunded)
	return in, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Service) intentTx(ctx context.Context, q querier, id string, lock bool) (Intent, error) {
	query := `SELECT ` + intentColumns + ` FROM payment_intents WHERE id = $1`
	if lock {
		query += s.db.ForUpdate()
	}
	return scanIntent(q.QueryRowContext(ctx, query, id))
}

// liveTx is the dossier's live intent (created, pending, paid, refunded), if any.
func (s *Service) liveTx(ctx context.Context, q querier, dossier string) (Intent, bool, error) {
	in, err := scanIntent(q.QueryRowContext(ctx, `SELECT `+intentColumns+` FROM payment_intents
		WHERE dossier = $1 AND state IN ('created', 'pending', 'paid', 'refunded')`+s.db.ForUpdate(), dossier))
	if errors.Is(err, ErrNotFound) {
		return Intent{}, false, nil
	}
	return in, err == nil, err
}

func (s *Service) list(ctx context.Context, where string, args ...any) ([]Intent, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+intentColumns+` FROM payment_intents WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("payment: list intents: %w", err)
	}
	defer rows.Close()
	var out []Intent
	for rows.Next() {
		in, err := scanIntent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("payment: list intents: %w", err)
	}
	return out, nil
}

// update writes the fields a transition changes.
func (s *Service) update(ctx context.Context, tx *sql.Tx, in Intent) error {
	_, err := tx.ExecContext(ctx, `UPDATE payment_intents SET state = $1, gateway_ref = $2, pay_url = $3, method = $4, fail_reason = $5,
		receipt_no = $6, refund_ref = $7, refund_reason = $8, updated_at = $9, paid_at = $10, refunded_at = $11 WHERE id = $12`,
		string(in.State), in.GatewayRef, in.PayURL, in.Method, in.FailReason, in.ReceiptNo, in.RefundRef, in.RefundReason,
		stamp(in.UpdatedAt), stamp(in.PaidAt), stamp(in.RefundedAt), in.ID)
	if err != nil {
		return fmt.Errorf("payment: update intent: %w", err)
	}
	return nil
}

// nextReceipt numbers receipts per day of payment in Vietnam:
// BL-YYYYMMDD-NNNNNN. The counter row is created without a conflict and
// bumped in one statement, so two payments at once get two numbers.
func (s *Service) nextReceipt(ctx context.Context, tx *sql.Tx, day string) (string, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO payment_receipt_numbers (day, last) VALUES ($1, 0) ON CONFLICT (day) DO NOTHING`, day); err != nil {
		return "", fmt.Errorf("payment: receipt number: %w", err)
	}
	var last int64
	if err := tx.QueryRowContext(ctx, `UPDATE payment_receipt_numbers SET last = last + 1 WHERE day = $1 RETURNING last`, day).Scan(&last); err != nil {
		return "", fmt.Errorf("payment: receipt number: %w", err)
	}
	return fmt.Sprintf("BL-%s-%06d", strings.ReplaceAll(day, "-", ""), last), nil
}
