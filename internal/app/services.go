package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/delivery"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/throttle"
)

// Services are the platform's stores for a command that does not serve
// (the dancu subcommands): the migrated databases, the audit log and the
// modules' stores, built as Open builds them, without the HTTP handler, the
// event bus or any background worker. The stores that need the e-ID secret
// are built on first use, so a command that needs none (migrate, audit
// verify) runs in production without --eid-secret.
type Services struct {
	Config  platform.Config
	Now     func() time.Time
	DB      *storage.DB
	AuditDB *storage.DB // the same as DB on PostgreSQL
	// Audit records what a command does, in the same chain as the server.
	Audit *audit.Log
	// Partners are the data-exchange partners and their systems.
	Partners *exchange.Store
	// Clients are the OpenID provider's relying parties.
	Clients *oidcop.Clients
}

// OpenServices opens and migrates the databases and builds the stores of
// Services. Close releases them.
func OpenServices(ctx context.Context, cfg platform.Config, log *slog.Logger, now func() time.Time) (*Services, error) {
	db, auditDB, err := OpenStores(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Services{Config: cfg, Now: now, DB: db, AuditDB: auditDB,
		Audit:    audit.NewLog(auditDB, now, log),
		Partners: exchange.NewStore(db, now),
		Clients:  oidcop.NewClients(db, now),
	}, nil
}

// Staff is the staff account store, keyed with the e-ID secret as the
// server keys it.
func (s *Services) Staff() (*staff.Store, error) {
	secret, err := s.Config.LoadEIDSecret()
	if err != nil {
		return nil, err
	}
	return newStaff(s.DB, secret, s.Audit, s.Now, nil, nil)
}

// Deliveries are the partners' subscriptions and deliveries, their
// secrets sealed with the e-ID secret and their webhooks bounded by the
// configured egress, as the server has them.
func (s *Services) Deliveries() (*delivery.Store, error) {
	secret, err := s.Config.LoadEIDSecret()
	if err != nil {
		return nil, err
	}
	return newDeliveries(s.Config, s.DB, secret, s.Now)
}

// Close stops the audit log (its entries are durable when Record returns)
// and closes the databases.
func (s *Services) Close() {
	s.Audit.Close()
	CloseStores(s.DB, s.AuditDB)
}

// newStaff builds the staff store: sign-in counters are keyed with the
// secret, so the table names no username or address; administrators'
// unlocks are audited; passwords bounds its password checks (nil: its
// own gate); units is the catalogue already loaded (nil: the store loads
// its own).
func newStaff(db *storage.DB, secret string, log *audit.Log, now func() time.Time, passwords *throttle.Gate, units staff.Units) (*staff.Store, error) {
	return staff.New(staff.Deps{DB: db, Now: now, Secret: []byte(secret), Audit: log, Passwords: passwords, Units: units})
}

// newDeliveries builds the delivery store with the egress rule the
// configuration names (production refuses private networks).
func newDeliveries(cfg platform.Config, db *storage.DB, secret string, now func() time.Time) (*delivery.Store, error) {
	egress, err := delivery.EgressFor(cfg.Production, cfg.WebhookNetworks)
	if err != nil {
		return nil, err
	}
	return delivery.NewStore(db, []byte(secret), now, egress)
}
