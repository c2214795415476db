package exchange

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/dancu-project/dancu/internal/storage"
)

// Scheme is a kind of sector identifier and the partner that owns it.
type Scheme struct {
	Code    string `json:"code"` // "tax_code", "social_insurance_no", "health_insurance_card"
	Name    string `json:"name"` // Vietnamese
	OwnerID string `json:"owner_id"`
	// Pattern is the regular expression a value must match in full.
	Pattern string `json:"pattern,omitempty"`
}

// SectorID is one link between a PIN and a sector identifier.
type SectorID struct {
	Scheme    string    `json:"scheme"`
	Value     string    `json:"value"`
	PIN       string    `json:"pin"`
	WrittenBy string    `json:"written_by"`
	WrittenAt time.Time `json:"written_at"`
}

var schemeCode = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// AddScheme registers a sector identifier scheme owned by a partner.
func (s *Store) AddScheme(ctx context.Context, sc Scheme) error {
	if !schemeCode.MatchString(sc.Code) || strings.TrimSpace(sc.Name) == "" {
		return ErrPartnerInvalid.WithField("scheme")
	}
	if sc.Pattern != "" {
		if _, err := regexp.Compile("^(?:" + sc.Pattern + ")$"); err != nil {
			return ErrPartnerInvalid.WithField("pattern")
		}
	}
	if _, err := s.Partner(ctx, sc.OwnerID); err != nil {
		return err
	}
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO exchange_schemes (code, name, owner_id, pattern, created_at) VALUES ($1, $2, $3, $4, $5)`,
		sc.Code, sc.Name, sc.OwnerID, sc.Pattern, stamp(s.now()))
	if storage.IsUniqueViolation(err) {
		return ErrPartnerExists.WithField("scheme")
	}
	if err != nil {
		return fmt.Errorf("add scheme: %w", err)
	}
	return nil
}

// Scheme returns a scheme.
func (s *Store) Scheme(ctx context.Context, code string) (Scheme, error) {
	var sc Scheme
	err := s.db.R.QueryRowContext(ctx, `SELECT code, name, owner_id, pattern FROM exchange_schemes WHERE code = $1`, code).Scan(&sc.Code, &sc.Name, &sc.OwnerID, &sc.Pattern)
	if errors.Is(err, sql.ErrNoRows) {
		return Scheme{}, ErrSchemeNotFound
	}
	if err != nil {
		return Scheme{}, fmt.Errorf("load scheme: %w", err)
	}
	return sc, nil
}

// Schemes lists every scheme.
func (s *Store) Schemes(ctx context.Context) ([]Scheme, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT code, name, owner_id, pattern FROM exchange_schemes ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list schemes: %w", err)
	}
	defer rows.Close()
	var out []Scheme
	for rows.Next() {
		var sc Scheme
		if err := rows.Scan(&sc.Code, &sc.Name, &sc.OwnerID, &sc.Pattern); err != nil {
			return nil, fmt.Errorf("list schemes: %w", err)
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// putSectorID writes or replaces the person's identifier of a scheme. A
// value already linked to another person is refused. record writes the
// act's audit entry: it runs inside the transaction once nothing can refuse
// the link any more, so a refused write leaves no entry that says it was
// made, and a link whose entry cannot be written is not made. (The audit
// log is never this store's SQLite file, so waiting for its group commit
// here cannot deadlock on one writer.)
func (s *Store) putSectorID(ctx context.Context, id SectorID, record func() error) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT pin FROM exchange_sector_ids WHERE scheme = $1 AND value = $2`, id.Scheme, id.Value).Scan(&owner)
		switch {
		case err == nil && owner != id.PIN:
			return ErrSectorIDTaken.WithField("value")
		case err == nil:
			return record() // already so
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("write sector id: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM exchange_sector_ids WHERE pin = $1 AND scheme = $2`, id.PIN, id.Scheme); err != nil {
			return fmt.Errorf("write sector id: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO exchange_sector_ids (scheme, value, pin, written_by, written_at) VALUES ($1, $2, $3, $4, $5)`,
			id.Scheme, id.Value, id.PIN, id.WrittenBy, stamp(id.WrittenAt))
		if storage.IsUniqueViolation(err) {
			return ErrSectorIDTaken.WithField("value")
		}
		if err != nil {
			return fmt.Errorf("write sector id: %w", err)
		}
		return record()
	})
}

// sectorIDByValue finds the link of a scheme's value.
func (s *Store) sectorIDByValue(ctx context.Context, scheme, value string) (SectorID, error) {
	return s.scanSectorID(s.db.R.QueryRowContext(ctx, `SELECT scheme, value, pin, written_by, written_at FROM exchange_sector_ids WHERE scheme = $1 AND value = $2`, scheme, value))
}

// sectorIDByPIN finds a person's identifier of a scheme.
func (s *Store) sectorIDByPIN(ctx context.Context, scheme, pin string) (SectorID, error) {
	return s.scanSectorID(s.db.R.QueryRowContext(ctx, `SELECT scheme, value, pin, written_by, written_at FROM exchange_sector_ids WHERE scheme = $1 AND pin = $2`, scheme, pin))
}

func (s *Store) scanSectorID(r *sql.Row) (SectorID, error) {
	var id SectorID
	var at string
	err := r.Scan(&id.Scheme, &id.Value, &id.PIN, &id.WrittenBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return SectorID{}, ErrSectorIDNotFound
	}
	if err != nil {
		return SectorID{}, fmt.Errorf("load sector id: %w", err)
	}
	id.WrittenAt = parseStamp(at)
	return id, nil
}

// SectorIDs lists a person's sector identifiers.
func (s *Store) SectorIDs(ctx context.Context, pin string) ([]SectorID, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT scheme, value, pin, written_by, written_at FROM exchange_sector_ids WHERE pin = $1 ORDER BY scheme`, pin)
	if err != nil {
		return nil, fmt.Errorf("list sector ids: %w", err)
	}
	defer rows.Close()
	var out []SectorID
	for rows.Next() {
		var id SectorID
		var at string
		if err := rows.Scan(&id.Scheme, &id.Value, &id.PIN, &id.WrittenBy, &at); err != nil {
			return nil, fmt.Errorf("list sector ids: %w", err)
		}
		id.WrittenAt = parseStamp(at)
		out = append(out, id)
	}
	return out, rows.Err()
}

// Linked returns the partners that deal with a person: those that hold a
// sector identifier scheme with a value for the person, or verified, looked
// up or reconciled the person. They may receive the person's life events.
func (s *Store) Linked(ctx context.Context, pin string) ([]string, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT partner_id FROM exchange_links WHERE pin = $1
		UNION SELECT sc.owner_id FROM exchange_sector_ids si JOIN exchange_schemes sc ON sc.code = si.scheme WHERE si.pin = $1
		ORDER BY 1`, pin)
	if err != nil {
		return nil, fmt.Errorf("linked partners: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("linked partners: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Link is a partner dealing with a person.
type Link struct {
	PIN, PartnerID string
	Via            string // "verify", "lookup", "reconcile", "sector_id"
}

// AddLinks records links now, in one statement; existing links stay as
// they were. Reconciliation writes its matches with it.
func (s *Store) AddLinks(ctx context.Context, links []Link) error {
	const chunk = 500
	now := stamp(s.now())
	for len(links) > 0 {
		n := min(chunk, len(links))
		args := make([]any, 0, n*4)
		for _, l := range links[:n] {
			args = append(args, l.PIN, l.PartnerID, l.Via, now)
		}
		if _, err := s.db.W.ExecContext(ctx, `INSERT INTO exchange_links (pin, partner_id, via, linked_at) VALUES `+s.db.Values(n, 4)+
			` ON CONFLICT (pin, partner_id) DO NOTHING`, args...); err != nil {
			return fmt.Errorf("record links: %w", err)
		}
		links = links[n:]
	}
	return nil
}

// linker records the links made by partners' calls before the calls are
// answered, so a crash (kill -9) right after an answer never loses a link
// that decides who receives the person's life events. Calls waiting at the
// same time share one insert (group commit), and links written once are
// remembered, so a bank verifying the same customer every day writes
// nothing. The links are in the register's database and the audit entry in
// the audit log's (its own SQLite file), so they cannot share a
// transaction: the audit entry is written first and the link before the
// answer; a crash between the two leaves an audited call with no link and
// no answer, which the partner retries.
type linker struct {
	store *Store

	mu      sync.Mutex
	seen    map[Link]struct{} // PIN and partner only
	pending []Link
	queued  uint64 // links queued so far

	writeMu sync.Mutex // held by the one writing
	written uint64     // queued when the last successful write started
}

func newLinker(store *Store) *linker {
	return &linker{store: store, seen: map[Link]struct{}{}}
}

// add returns once the link is in the database (at once when it was
// written before).
func (l *linker) add(ctx context.Context, k Link) error {
	key := Link{PIN: k.PIN, PartnerID: k.PartnerID}
	l.mu.Lock()
	if _, ok := l.seen[key]; ok {
		l.mu.Unlock()
		return nil
	}
	l.pending = append(l.pending, k)
	l.queued++
	mine := l.queued
	l.mu.Unlock()

	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if l.written >= mine {
		return nil
	}
	l.mu.Lock()
	batch, upto := l.pending, l.queued
	l.pending = nil
	l.mu.Unlock()
	if err := l.store.AddLinks(ctx, batch); err != nil {
		// Put them back: each waiting call writes its own or fails.
		l.mu.Lock()
		l.pending = append(batch, l.pending...)
		l.mu.Unlock()
		return err
	}
	l.written = upto
	l.mu.Lock()
	if len(l.seen) > 200_000 {
		clear(l.seen)
	}
	for _, k := range batch {
		l.seen[Link{PIN: k.PIN, PartnerID: k.PartnerID}] = struct{}{}
	}
	l.mu.Unlock()
	return nil
}
