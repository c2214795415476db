// Package document keeps the citizen's documents — results the platform
// issued and signed, papers digitized at the desk — in the documents table
// it owns, and answers the public verification of a result.
//
// A result is issued by Issuer.Issue: laid out from its template
// (document/result), signed PAdES B-B (document/pades) under the platform's
// results signer (card/pki), and stored with a random id and a short
// verification code. The code is printed on the result and in its QR code
// (the address /verify/{id}?c={code}). The lookup compares the code's
// hash (verify_hash) in constant time; the code itself is part of the
// signed PDF and of the stored layout, since it is printed — so whoever
// reads a document's row can check it, as whoever holds the paper can
// (the 0001 migration's comment says the code is never stored: it means
// the column). Document.VerifyPath gives the owner's portal the address
// again. Verify
// answers a wrong code and an unknown id alike, and logs every check with
// its time only.
//
// Access: Get and ListByOwner check nothing; the caller (the dossier
// module's one scope rule) decides who may read a citizen's documents.
package document

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the documents tables (module "document").
func Migrations() storage.Migrations {
	return storage.Migrations{Module: "document", FS: storage.Sub(migrationFS, "migrations")}
}

// MaxSize caps a document's bytes while they live in the database.
const MaxSize = 10 << 20

// Document is one stored document.
type Document struct {
	ID        string
	OwnerPIN  pin.PIN
	Kind      string // a result.Kind, or a digitized paper's class
	Title     string
	SHA256    string // hex of Body
	Size      int64
	Body      []byte // nil in ListByOwner
	MediaType string // "application/pdf", "image/jpeg", …
	SignedBy  string // the signer certificate's SHA-256 fingerprint, '' when unsigned
	Unit      string // issuing unit
	Holder    string // the holder's full name, shown masked on verification
	IssueDate civildate.Date
	CreatedAt time.Time
	CreatedBy string // the staff or service that stored it
	// Layout is a result's template data as JSON, for bulk printing.
	Layout string
	// VerifyCode is write-only: given to Store, its hash is kept and the
	// document becomes publicly verifiable; never read back.
	VerifyCode string
}

// Faults. Their codes are part of the API.
var (
	ErrNotFound   = fault.New(fault.NotFound, "document.not_found", "Không tìm thấy giấy tờ.", "No such document.")
	ErrTooLarge   = fault.New(fault.TooLarge, "document.too_large", "Giấy tờ vượt quá dung lượng cho phép (10 MB).", "The document exceeds the size limit (10 MB).")
	ErrInvalid    = fault.New(fault.Invalid, "document.invalid", "Thông tin giấy tờ không hợp lệ (chủ sở hữu, loại, tiêu đề hoặc nội dung).", "The document's owner, kind, title or content is not valid.")
	ErrNotGenuine = fault.New(fault.NotFound, "document.not_genuine", "Không xác minh được giấy tờ: mã giấy tờ hoặc mã kiểm tra không đúng.", "The document could not be verified: the document id or the check code is wrong.")
)

// Store reads and writes documents.
type Store struct {
	db  *storage.DB
	now func() time.Time
}

// NewStore returns a store on db; now is the clock (time.Now when nil).
func NewStore(db *storage.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, now: now}
}

// codeAlphabet has 32 symbols without 0/O and 1/I, which are misread.
const codeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// random returns n symbols of codeAlphabet, 5 bits each.
func random(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	for i := range b {
		b[i] = codeAlphabet[b[i]&31]
	}
	return string(b)
}

// NewID is a document id: 16 symbols, 80 random bits.
func NewID() string { return random(16) }

// NewCode is a verification code: 8 symbols, 40 random bits; guessing is
// bounded by the verification page's rate limit.
func NewCode() string { return random(8) }

// NormalizeCode folds what a person typed to a code's form: capitals, no
// spaces or hyphens.
func NormalizeCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return unicode.ToUpper(r)
	}, s)
}

func codeHash(code string) string {
	h := sha256.Sum256([]byte("dancu document verification code\x00" + NormalizeCode(code)))
	return hex.EncodeToString(h[:])
}

// Store stores d in its own transaction; see StoreTx.
func (s *Store) Store(ctx context.Context, d Document) (Document, error) {
	var out Document
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.StoreTx(ctx, tx, d)
		return err
	})
	return out, err
}

// StoreTx stores d in the caller's transaction (a dossier's result is
// stored in the transaction that closes the dossier). It sets the id when
// empty, the hash, the size and the creation time, and returns the stored
// document without its verification code.
func (s *Store) StoreTx(ctx context.Context, tx *sql.Tx, d Document) (Document, error) {
	if len(d.Body) > MaxSize {
		return Document{}, ErrTooLarge
	}
	if _, err := pin.Parse(string(d.OwnerPIN)); err != nil || len(d.Body) == 0 || d.Kind == "" || d.MediaType == "" ||
		strings.TrimSpace(d.Title) == "" || !utf8.ValidString(d.Title+d.Holder+d.Unit) || d.CreatedBy == "" {
		return Document{}, ErrInvalid
	}
	if d.ID == "" {
		d.ID = NewID()
	}
	sum := sha256.Sum256(d.Body)
	d.SHA256, d.Size = hex.EncodeToString(sum[:]), int64(len(d.Body))
	d.CreatedAt = s.now().UTC().Truncate(time.Second)
	verify := ""
	if d.VerifyCode != "" {
		verify = codeHash(d.VerifyCode)
	}
	issue := ""
	if !d.IssueDate.IsZero() {
		issue = d.IssueDate.String()
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO documents (id, owner_pin, kind, title, sha256, size, body, media_type, signed_by,
		issuing_unit, holder_name, issue_date, verify_hash, layout, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		d.ID, string(d.OwnerPIN), d.Kind, d.Title, d.SHA256, d.Size, d.Body, d.MediaType, d.SignedBy,
		d.Unit, d.Holder, issue, verify, d.Layout, d.CreatedAt.Format(time.RFC3339), d.CreatedBy)
	if err != nil {
		return Document{}, fmt.Errorf("document: store: %w", err)
	}
	d.VerifyCode = ""
	return d, nil
}

const columns = `id, owner_pin, kind, title, sha256, size, media_type, signed_by, issuing_unit, holder_name, issue_date, layout, created_at, created_by`

func scan(row interface{ Scan(...any) error }, extra ...any) (Document, error) {
	var d Document
	var owner, issue, created string
	dest := append([]any{&d.ID, &owner, &d.Kind, &d.Title, &d.SHA256, &d.Size, &d.MediaType, &d.SignedBy, &d.Unit, &d.Holder,
		&issue, &d.Layout, &created, &d.CreatedBy}, extra...)
	if err := row.Scan(dest...); err != nil {
		return Document{}, err
	}
	d.OwnerPIN = pin.PIN(owner)
	if issue != "" {
		var err error
		if d.IssueDate, err = civildate.Parse(issue); err != nil {
			return Document{}, fmt.Errorf("document %s: issue date: %w", d.ID, err)
		}
	}
	t, err := time.Parse(time.RFC3339, created)
	if err != nil {
		return Document{}, fmt.Errorf("document %s: created_at: %w", d.ID, err)
	}
	d.CreatedAt = t
	return d, nil
}

// Get returns a document with its bytes. It checks no access: see the
// package doc.
func (s *Store) Get(ctx context.Context, id string) (Document, error) {
	st, err := s.db.ReadStmt(ctx, `SELECT `+columns+`, body FROM documents WHERE id = $1`)
	if err != nil {
		return Document{}, fmt.Errorf("document: get: %w", err)
	}
	var body []byte
	d, err := scan(st.QueryRowContext(ctx, id), &body)
	if errors.Is(err, sql.ErrNoRows) {
		return Document{}, ErrNotFound
	}
	if err != nil {
		return Document{}, fmt.Errorf("document: get: %w", err)
	}
	d.Body = body
	return d, nil
}

// ListByOwner returns the owner's documents, newest first, without bytes.
func (s *Store) ListByOwner(ctx context.Context, owner pin.PIN) ([]Document, error) {
	st, err := s.db.ReadStmt(ctx, `SELECT `+columns+` FROM documents WHERE owner_pin = $1 ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("document: list: %w", err)
	}
	rows, err := st.QueryContext(ctx, string(owner))
	if err != nil {
		return nil, fmt.Errorf("document: list: %w", err)
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		d, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("document: list: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("document: list: %w", err)
	}
	return out, nil
}

// Verification is what the public page shows of a genuine document: no
// more than its kind, issuer, date and the holder's masked name.
type Verification struct {
	ID        string
	Kind      string
	Title     string
	Unit      string
	IssueDate civildate.Date
	Holder    string // masked, e.g. "N***** V** Á**"
	SHA256    string // of the signed file, to compare with a copy in hand
}

// Verify checks a document id and its code, logs the check (time and
// outcome, not who) and returns the minimal data of a genuine document.
// A malformed id, an unknown id, a document without public verification
// and a wrong code all answer ErrNotGenuine, in comparable time.
func (s *Store) Verify(ctx context.Context, id, code string) (Verification, error) {
	var v Verification
	var want, issue string
	found := false
	if len(id) == 16 && strings.Trim(id, codeAlphabet) == "" {
		st, err := s.db.ReadStmt(ctx, `SELECT id, kind, title, issuing_unit, issue_date, holder_name, sha256, verify_hash FROM documents WHERE id = $1`)
		if err != nil {
			return v, fmt.Errorf("document: verify: %w", err)
		}
		err = st.QueryRowContext(ctx, id).Scan(&v.ID, &v.Kind, &v.Title, &v.Unit, &issue, &v.Holder, &v.SHA256, &want)
		switch {
		case err == nil:
			found = want != ""
		case !errors.Is(err, sql.ErrNoRows):
			return Verification{}, fmt.Errorf("document: verify: %w", err)
		}
	}
	got := codeHash(code)
	if !found {
		want = strings.Repeat("0", len(got)) // the same comparison on every path
	}
	genuine := subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 && found
	logged, flag := "", 0
	if genuine {
		logged, flag = v.ID, 1
	}
	if _, err := s.db.W.ExecContext(ctx, `INSERT INTO document_scans (document_id, scanned_at, genuine) VALUES ($1, $2, $3)`,
		logged, s.now().UTC().Format(time.RFC3339Nano), flag); err != nil {
		return Verification{}, fmt.Errorf("document: log scan: %w", err)
	}
	if !genuine {
		return Verification{}, ErrNotGenuine
	}
	if issue != "" {
		var err error
		if v.IssueDate, err = civildate.Parse(issue); err != nil {
			return Verification{}, fmt.Errorf("document %s: issue date: %w", v.ID, err)
		}
	}
	v.Holder = Mask(v.Holder)
	return v, nil
}

// Scan is one logged verification.
type Scan struct {
	At      time.Time
	Genuine bool
}

// Scans returns the logged checks of a document, oldest first (for its
// owner's view of who-checked-when, which holds no who).
func (s *Store) Scans(ctx context.Context, id string) ([]Scan, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT scanned_at, genuine FROM document_scans WHERE document_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("document: scans: %w", err)
	}
	defer rows.Close()
	var out []Scan
	for rows.Next() {
		var at string
		var genuine int
		var sc Scan
		if err := rows.Scan(&at, &genuine); err != nil {
			return nil, fmt.Errorf("document: scans: %w", err)
		}
		sc.Genuine = genuine == 1
		if sc.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("document: scans: %w", err)
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// Mask keeps the first letter of each word of a name and stars the rest:
// "Nguyễn Văn Ánh" → "N***** V** Á**".
func Mask(name string) string {
	words := strings.Fields(name)
	for i, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		words[i] = string(r) + strings.Repeat("*", utf8.RuneCountInString(w[n:]))
	}
	return strings.Join(words, " ")
}
