package exchange

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
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

// linker records the links made by partners' calls in the background, in
// batches, skipping links it wrote recently: a bank verifying the same
// customer every day costs one insert. A link not yet written when the
// process dies is lost, but the call's audit entry (written before the
// answer) keeps the fact.
type linker struct {
	store *Store
	log   *slog.Logger
	in    chan Link
	done  chan struct{}

	mu   sync.Mutex
	seen map[Link]struct{}
}

func newLinker(store *Store, log *slog.Logger) *linker {
	l := &linker{store: store, log: log, in: make(chan Link, 8192), done: make(chan struct{}), seen: map[Link]struct{}{}}
	go l.run()
	return l
}

// add queues a link; when the queue is full the link is written by the
// next call about the person instead of blocking this one.
func (l *linker) add(k Link) {
	key := Link{PIN: k.PIN, PartnerID: k.PartnerID}
	l.mu.Lock()
	_, ok := l.seen[key]
	l.mu.Unlock()
	if ok {
		return
	}
	select {
	case l.in <- k:
	default:
	}
}

func (l *linker) run() {
	defer close(l.done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var batch []Link
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := l.store.AddLinks(context.Background(), batch); err != nil {
			l.log.Warn("partner links", "links", len(batch), "err", err)
		} else {
			l.mu.Lock()
			if len(l.seen) > 200_000 {
				clear(l.seen)
			}
			for _, k := range batch {
				l.seen[Link{PIN: k.PIN, PartnerID: k.PartnerID}] = struct{}{}
			}
			l.mu.Unlock()
		}
		batch = batch[:0]
	}
	for {
		select {
		case k, ok := <-l.in:
			if !ok {
				flush()
				return
			}
			batch = append(batch, k)
			if len(batch) >= 500 {
				flush()
			}
		case <-t.C:
			flush()
		}
	}
}

func (l *linker) close() {
	close(l.in)
	<-l.done
}
