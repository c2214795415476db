package service

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/dancu-project/dancu/internal/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the card tables (module "card").
func Migrations() storage.Migrations {
	return storage.Migrations{Module: "card", FS: storage.Sub(migrationFS, "migrations")}
}

// Card statuses, in lifecycle order.
const (
	Applied    = "applied"     // application taken at the desk
	Approved   = "approved"    // checked against the register and approved
	Produced   = "produced"    // chip personalised and signed
	HandedOver = "handed_over" // in the holder's hands: the valid card
	Lost       = "lost"        // reported lost by the holder
	Revoked    = "revoked"     // withdrawn (death, loss, replacement, error)
	Replaced   = "replaced"    // superseded by a reissued card
	Cancelled  = "cancelled"   // an application closed before production (Cancel)
)

// Card is one identity card of a person, from application to its end.
type Card struct {
	Serial         string    `json:"serial"`
	PIN            string    `json:"pin"` // also the card number
	Status         string    `json:"status"`
	AppliedAt      time.Time `json:"applied_at"`
	IssueDate      string    `json:"issue_date,omitempty"`  // yyyy-mm-dd
	ExpiryDate     string    `json:"expiry_date,omitempty"` // yyyy-mm-dd, empty for lifetime
	Lifetime       bool      `json:"lifetime,omitempty"`
	SignerSerial   string    `json:"signer_serial,omitempty"` // DS certificate serial, hex
	MRZ            string    `json:"mrz,omitempty"`
	QR             string    `json:"qr,omitempty"`
	PhotoRef       string    `json:"photo_ref,omitempty"`
	FingerprintRef string    `json:"fingerprint_ref,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	Replaces       string    `json:"replaces,omitempty"`
	Version        int       `json:"version"`
	UpdatedAt      time.Time `json:"updated_at"`
	UpdatedBy      string    `json:"updated_by"`

	sodHash string
	chip    []byte
}

// HistoryEntry is one status a card went through.
type HistoryEntry struct {
	Serial  string    `json:"serial"`
	Version int       `json:"version"`
	Status  string    `json:"status"`
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	Reason  string    `json:"reason,omitempty"`
}

const cardColumns = `serial, pin, status, applied_at, issue_date, expiry_date, lifetime, signer_serial, sod_hash, chip,
	mrz, qr, photo_ref, fingerprint_ref, reason, replaces, version, updated_at, updated_by`

type scanner interface{ Scan(dest ...any) error }

func scanCard(row scanner) (Card, error) {
	var c Card
	var applied, updated string
	var lifetime int
	err := row.Scan(&c.Serial, &c.PIN, &c.Status, &applied, &c.IssueDate, &c.ExpiryDate, &lifetime, &c.SignerSerial, &c.sodHash, &c.chip,
		&c.MRZ, &c.QR, &c.PhotoRef, &c.FingerprintRef, &c.Reason, &c.Replaces, &c.Version, &updated, &c.UpdatedBy)
	if err != nil {
		return c, err
	}
	c.Lifetime = lifetime != 0
	c.AppliedAt, _ = time.Parse(time.RFC3339Nano, applied)
	c.UpdatedAt, _ = time.Parse(time.RFC3339Nano, updated)
	return c, nil
}

func cardArgs(c *Card) []any {
	lifetime := 0
	if c.Lifetime {
		lifetime = 1
	}
	return []any{c.Serial, c.PIN, c.Status, c.AppliedAt.UTC().Format(time.RFC3339Nano), c.IssueDate, c.ExpiryDate, lifetime, c.SignerSerial, c.sodHash, c.chip,
		c.MRZ, c.QR, c.PhotoRef, c.FingerprintRef, c.Reason, c.Replaces, c.Version, c.UpdatedAt.UTC().Format(time.RFC3339Nano), c.UpdatedBy}
}

var errNoCard = errors.New("no such card")

type rowQuerier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

type rowsQuerier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

func loadCard(ctx context.Context, q rowQuerier, where, suffix string, args ...any) (Card, error) {
	c, err := scanCard(q.QueryRowContext(ctx, `SELECT `+cardColumns+` FROM cards WHERE `+where+` ORDER BY applied_at DESC LIMIT 1`+suffix, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return c, errNoCard
	}
	if err != nil {
		return c, fmt.Errorf("load card: %w", err)
	}
	return c, nil
}

func cardsOf(ctx context.Context, q rowsQuerier, pin string) ([]Card, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+cardColumns+` FROM cards WHERE pin = $1 ORDER BY applied_at DESC, serial`, pin)
	if err != nil {
		return nil, fmt.Errorf("list cards: %w", err)
	}
	defer rows.Close()
	var out []Card
	for rows.Next() {
		c, err := scanCard(rows)
		if err != nil {
			return nil, fmt.Errorf("list cards: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func insertCard(ctx context.Context, tx *sql.Tx, c *Card) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO cards (`+cardColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
		$11, $12, $13, $14, $15, $16, $17, $18, $19)`, cardArgs(c)...); err != nil {
		return fmt.Errorf("insert card: %w", err)
	}
	return insertHistory(ctx, tx, c)
}

// updateCard writes c as the version after prev, refusing when another
// writer got there first (optimistic lock on version).
func updateCard(ctx context.Context, tx *sql.Tx, c *Card, prev int) error {
	args := cardArgs(c)
	res, err := tx.ExecContext(ctx, `UPDATE cards SET pin = $2, status = $3, applied_at = $4, issue_date = $5, expiry_date = $6, lifetime = $7,
		signer_serial = $8, sod_hash = $9, chip = $10, mrz = $11, qr = $12, photo_ref = $13, fingerprint_ref = $14, reason = $15,
		replaces = $16, version = $17, updated_at = $18, updated_by = $19 WHERE serial = $1 AND version = $20`, append(args, prev)...)
	if err != nil {
		return fmt.Errorf("update card: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errStale
	}
	return insertHistory(ctx, tx, c)
}

func insertHistory(ctx context.Context, tx *sql.Tx, c *Card) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO card_history (serial, pin, version, status, at, by_actor, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		c.Serial, c.PIN, c.Version, c.Status, c.UpdatedAt.UTC().Format(time.RFC3339Nano), c.UpdatedBy, c.Reason); err != nil {
		return fmt.Errorf("card history: %w", err)
	}
	return nil
}

func historyOf(ctx context.Context, q rowsQuerier, pin string) ([]HistoryEntry, error) {
	rows, err := q.QueryContext(ctx, `SELECT serial, version, status, at, by_actor, reason FROM card_history WHERE pin = $1 ORDER BY id DESC`, pin)
	if err != nil {
		return nil, fmt.Errorf("card history: %w", err)
	}
	defer rows.Close()
	var out []HistoryEntry
	for rows.Next() {
		var h HistoryEntry
		var at string
		if err := rows.Scan(&h.Serial, &h.Version, &h.Status, &at, &h.By, &h.Reason); err != nil {
			return nil, fmt.Errorf("card history: %w", err)
		}
		h.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, h)
	}
	return out, rows.Err()
}

func putBiometric(ctx context.Context, tx *sql.Tx, ref, kind string, data []byte) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM card_biometrics WHERE ref = $1`, ref).Scan(&n); err != nil {
		return fmt.Errorf("biometric: %w", err)
	}
	if n > 0 { // content-addressed: the same bytes are already there
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO card_biometrics (ref, kind, data) VALUES ($1, $2, $3)`, ref, kind, data); err != nil {
		return fmt.Errorf("biometric: %w", err)
	}
	return nil
}
