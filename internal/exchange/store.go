package exchange

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/dancu-project/dancu/internal/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the exchange's tables.
func Migrations() storage.Migrations {
	return storage.Migrations{Module: "exchange", FS: storage.Sub(migrationFS, "migrations")}
}

// Store keeps partners, their systems, sector identifiers and links.
// Partner systems are cached for a few seconds because every partner call
// looks its system up: a policy change reaches every node within
// SystemCacheTTL.
type Store struct {
	db  *storage.DB
	now func() time.Time

	mu      sync.Mutex
	systems map[string]cachedSystem
}

type cachedSystem struct {
	s  System
	p  Partner
	at time.Time
}

// SystemCacheTTL is how long a node keeps a partner system and its policy.
const SystemCacheTTL = 10 * time.Second

// NewStore returns the store.
func NewStore(db *storage.DB, now func() time.Time) *Store {
	return &Store{db: db, now: now, systems: map[string]cachedSystem{}}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseStamp(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

var partnerID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,39}$`)

// AddPartner registers a partner with its policy.
func (s *Store) AddPartner(ctx context.Context, p Partner) (Partner, error) {
	p.Name = strings.TrimSpace(p.Name)
	var errs faultList
	if !partnerID.MatchString(p.ID) {
		errs.add("id", ErrPartnerInvalid, "Mã đối tác gồm 2–40 chữ thường, chữ số hoặc dấu gạch nối.", "The partner id has 2–40 lower-case letters, digits or hyphens.")
	}
	if p.Name == "" || len(p.Name) > 200 {
		errs.add("name", ErrPartnerInvalid, "Nhập tên đối tác (tối đa 200 ký tự).", "Enter the partner's name (at most 200 characters).")
	}
	if !validKind(p.Kind) {
		errs.add("kind", ErrPartnerInvalid, "Loại đối tác không hợp lệ.", "Unknown partner kind.")
	}
	errs = append(errs, p.Policy.validate()...)
	if err := errs.err(); err != nil {
		return Partner{}, err
	}
	pol, _ := json.Marshal(p.Policy)
	now := s.now()
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO exchange_partners (id, name, kind, policy, version, disabled, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, 0, $5, $5)`,
		p.ID, p.Name, string(p.Kind), string(pol), stamp(now))
	if storage.IsUniqueViolation(err) {
		return Partner{}, ErrPartnerExists.WithField("id")
	}
	if err != nil {
		return Partner{}, fmt.Errorf("add partner: %w", err)
	}
	p.Version, p.Created = 1, now
	return p, nil
}

func validKind(k Kind) bool {
	for _, x := range Kinds {
		if x.Kind == k {
			return true
		}
	}
	return false
}

const partnerColumns = `id, name, kind, policy, version, disabled, created_at`

type scanner interface{ Scan(...any) error }

func scanPartner(r scanner) (Partner, error) {
	var p Partner
	var kind, pol, created string
	var disabled int
	if err := r.Scan(&p.ID, &p.Name, &kind, &pol, &p.Version, &disabled, &created); err != nil {
		return p, err
	}
	p.Kind, p.Disabled, p.Created = Kind(kind), disabled != 0, parseStamp(created)
	if err := json.Unmarshal([]byte(pol), &p.Policy); err != nil {
		return p, fmt.Errorf("partner %s policy: %w", p.ID, err)
	}
	return p, nil
}

// Partner returns a partner with its policy.
func (s *Store) Partner(ctx context.Context, id string) (Partner, error) {
	p, err := scanPartner(s.db.R.QueryRowContext(ctx, `SELECT `+partnerColumns+` FROM exchange_partners WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Partner{}, ErrPartnerNotFound
	}
	if err != nil {
		return Partner{}, fmt.Errorf("load partner: %w", err)
	}
	return p, nil
}

// Partners lists every partner by name.
func (s *Store) Partners(ctx context.Context) ([]Partner, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+partnerColumns+` FROM exchange_partners ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("list partners: %w", err)
	}
	defer rows.Close()
	var out []Partner
	for rows.Next() {
		p, err := scanPartner(rows)
		if err != nil {
			return nil, fmt.Errorf("list partners: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SetPolicy replaces a partner's policy and bumps its version. version is
// the one the editor saw; a concurrent change makes it stale.
func (s *Store) SetPolicy(ctx context.Context, id string, version int, pol Policy) (Partner, error) {
	if err := faultList(pol.validate()).err(); err != nil {
		return Partner{}, err
	}
	raw, _ := json.Marshal(pol)
	res, err := s.db.W.ExecContext(ctx, `UPDATE exchange_partners SET policy = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4`,
		string(raw), stamp(s.now()), id, version)
	if err != nil {
		return Partner{}, fmt.Errorf("set policy: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		if _, err := s.Partner(ctx, id); err != nil {
			return Partner{}, err
		}
		return Partner{}, staleVersion
	}
	s.forget()
	return s.Partner(ctx, id)
}

// SetPartnerDisabled stops (or resumes) every system of a partner.
func (s *Store) SetPartnerDisabled(ctx context.Context, id string, disabled bool) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE exchange_partners SET disabled = $1, updated_at = $2 WHERE id = $3`, boolInt(disabled), stamp(s.now()), id)
	if err != nil {
		return fmt.Errorf("disable partner: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrPartnerNotFound
	}
	s.forget()
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// forget drops this node's cache after a change made here; other nodes
// see it within SystemCacheTTL.
func (s *Store) forget() {
	s.mu.Lock()
	clear(s.systems)
	s.mu.Unlock()
}

// AddSystem records that an OAuth client (already registered with the
// provider) is a system of the partner.
func (s *Store) AddSystem(ctx context.Context, sys System) (System, error) {
	if _, err := s.Partner(ctx, sys.PartnerID); err != nil {
		return System{}, err
	}
	sys.CertFingerprint = normFingerprint(sys.CertFingerprint)
	if sys.CertFingerprint != "" && !fingerprint.MatchString(sys.CertFingerprint) {
		return System{}, ErrPartnerInvalid.WithField("cert_fingerprint")
	}
	if strings.TrimSpace(sys.Name) == "" {
		return System{}, ErrPartnerInvalid.WithField("name")
	}
	sys.Created = s.now()
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO exchange_systems (client_id, partner_id, name, cert_fingerprint, disabled, created_at) VALUES ($1, $2, $3, $4, 0, $5)`,
		sys.ClientID, sys.PartnerID, sys.Name, sys.CertFingerprint, stamp(sys.Created))
	if storage.IsUniqueViolation(err) {
		return System{}, ErrPartnerExists.WithField("client_id")
	}
	if err != nil {
		return System{}, fmt.Errorf("add system: %w", err)
	}
	return sys, nil
}

var fingerprint = regexp.MustCompile(`^[0-9a-f]{64}$`)

// normFingerprint writes a SHA-256 fingerprint as lower-case hex without
// colons, as certificate viewers show it either way.
func normFingerprint(s string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
}

// Systems lists a partner's systems.
func (s *Store) Systems(ctx context.Context, partnerID string) ([]System, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT client_id, partner_id, name, cert_fingerprint, disabled, created_at FROM exchange_systems WHERE partner_id = $1 ORDER BY created_at, client_id`, partnerID)
	if err != nil {
		return nil, fmt.Errorf("list systems: %w", err)
	}
	defer rows.Close()
	var out []System
	for rows.Next() {
		var sys System
		var disabled int
		var created string
		if err := rows.Scan(&sys.ClientID, &sys.PartnerID, &sys.Name, &sys.CertFingerprint, &disabled, &created); err != nil {
			return nil, fmt.Errorf("list systems: %w", err)
		}
		sys.Disabled, sys.Created = disabled != 0, parseStamp(created)
		out = append(out, sys)
	}
	return out, rows.Err()
}

// SetSystemDisabled stops (or resumes) one system.
func (s *Store) SetSystemDisabled(ctx context.Context, clientID string, disabled bool) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE exchange_systems SET disabled = $1 WHERE client_id = $2`, boolInt(disabled), clientID)
	if err != nil {
		return fmt.Errorf("disable system: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrSystemNotFound
	}
	s.forget()
	return nil
}

// System returns the partner system an OAuth client is, with its partner;
// cached for SystemCacheTTL.
func (s *Store) System(ctx context.Context, clientID string) (System, Partner, error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.systems[clientID]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < SystemCacheTTL {
		return c.s, c.p, nil
	}
	var sys System
	var disabled int
	var created string
	err := s.db.R.QueryRowContext(ctx, `SELECT client_id, partner_id, name, cert_fingerprint, disabled, created_at FROM exchange_systems WHERE client_id = $1`, clientID).
		Scan(&sys.ClientID, &sys.PartnerID, &sys.Name, &sys.CertFingerprint, &disabled, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return System{}, Partner{}, ErrSystemNotFound
	}
	if err != nil {
		return System{}, Partner{}, fmt.Errorf("load system: %w", err)
	}
	sys.Disabled, sys.Created = disabled != 0, parseStamp(created)
	p, err := s.Partner(ctx, sys.PartnerID)
	if err != nil {
		return System{}, Partner{}, err
	}
	s.mu.Lock()
	if len(s.systems) > 10000 {
		clear(s.systems)
	}
	s.systems[clientID] = cachedSystem{s: sys, p: p, at: now}
	s.mu.Unlock()
	return sys, p, nil
}
