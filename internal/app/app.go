// Package app is the composition root: it opens the database and the event
// bus, builds every module with its dependencies and the HTTP handler. The
// dancu command and the end-to-end tests both start the platform through it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/bundle"
	"github.com/dancu-project/dancu/internal/card/pkistore"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/delivery"
	"github.com/dancu-project/dancu/internal/document"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/lease"
	"github.com/dancu-project/dancu/internal/match"
	"github.com/dancu-project/dancu/internal/notify"
	"github.com/dancu-project/dancu/internal/payment"
	"github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/reconcile"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/registry/cardproof"
	"github.com/dancu-project/dancu/internal/seed"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/stats"
	"github.com/dancu-project/dancu/internal/stay"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/throttle"
	"github.com/dancu-project/dancu/internal/web"
	"github.com/dancu-project/dancu/internal/web/api"
	"github.com/dancu-project/dancu/internal/web/partnerapi"
	"github.com/dancu-project/dancu/internal/web/portal"
	"github.com/dancu-project/dancu/internal/web/ui"
)

// Migrations lists the register's modules' tables, in dependency order.
func Migrations() []storage.Migrations {
	return []storage.Migrations{storage.OwnMigrations(), registry.Migrations(), staff.Migrations(), cardservice.Migrations(), eid.Migrations(), exchange.Migrations(), delivery.Migrations(), reconcile.Migrations(), document.Migrations(), payment.Migrations(), services.Migrations(), stats.Migrations(), stay.Migrations(), bundle.Migrations(), lease.Migrations(), pkistore.Migrations(), notify.Migrations()}
}

// OpenStores opens and migrates the register's database and the audit log's,
// which are one database on PostgreSQL and two files on SQLite (see
// platform.Config.AuditDSN).
func OpenStores(ctx context.Context, cfg platform.Config) (db, auditDB *storage.DB, err error) {
	if db, err = storage.Open(ctx, cfg.DSN()); err != nil {
		return nil, nil, err
	}
	auditDB = db
	if cfg.AuditDSN() != cfg.DSN() {
		if auditDB, err = storage.Open(ctx, cfg.AuditDSN()); err != nil {
			db.Close()
			return nil, nil, err
		}
	}
	err = db.Migrate(ctx, Migrations()...)
	if err == nil {
		err = auditDB.Migrate(ctx, audit.Migrations())
	}
	if err != nil {
		CloseStores(db, auditDB)
		return nil, nil, err
	}
	return db, auditDB, nil
}

// CloseStores closes what OpenStores opened.
func CloseStores(db, auditDB *storage.DB) {
	if auditDB != nil && auditDB != db {
		auditDB.Close()
	}
	if db != nil {
		db.Close()
	}
}

// App is a running platform.
type App struct {
	Config   platform.Config
	Log      *slog.Logger
	Now      func() time.Time
	DB       *storage.DB
	AuditDB  *storage.DB // the same as DB on PostgreSQL
	Bus      *events.Bus
	Units    *adminunit.Catalog
	Audit    *audit.Log
	Registry *registry.Service
	Staff    *staff.Store
	EID      *eid.Service
	OIDC     *oidcop.Provider
	Cards    *cardservice.Service
	Metrics  *prometheus.Registry
	Handler  http.Handler

	// Stats are the leaders' indicators, kept from events.
	Stats *stats.Service
	// Stay is the stay notification (thông báo lưu trú).
	Stay *stay.Service
	// Bundles are the inter-agency birth and death bundles (liên thông).
	Bundles *bundle.Service

	// Documents are the citizen's documents; Results issues signed
	// results into them (under the PKI's results signer).
	Documents *document.Store
	Results   *document.Issuer
	// Services are the online public services (procedures, dossiers);
	// Payments the dossier fees (nil without a gateway).
	Services *services.Service
	Payments *payment.Service
	Notify   *notify.Service // citizens' notifications of their dossiers (servicesjobs.go)

	// Partners are the data-exchange partners; Exchange answers their
	// calls under PartnerLimits.
	Partners      *exchange.Store
	Exchange      *exchange.Service
	PartnerLimits *exchange.Limits

	// Deliveries are the partners' life-event subscriptions and deliveries.
	Deliveries     *delivery.Store
	deliverySender *delivery.Sender

	// Reconcile runs partners' bulk data cleaning; its worker runs with
	// the app.
	Reconcile *reconcile.Service

	// Leases let one node at a time run a job (cluster.go); pkiMirror
	// keeps <data>/pki level with the database's card PKI.
	Leases    *lease.Leases
	pkiMirror *pkistore.Mirror

	// AuditCheckpoints signs the audit chain's head; its worker runs with
	// the app, and Close makes a last checkpoint.
	AuditCheckpoints *audit.Checkpointer

	// workersDone close when the background workers started with the relay
	// context (deliveries, reconciliation, register cache, audit index)
	// have stopped.
	workersDone []<-chan struct{}

	// ReadDB is the streaming replica lag-tolerant reads go to
	// (--postgres-read-url); nil when none is configured.
	ReadDB *storage.DB

	stopRelay      context.CancelFunc
	stopCheckpoint func()
	relayDone      chan struct{}
}

// Open builds the platform from cfg. now is the clock (time.Now outside tests).
func Open(ctx context.Context, cfg platform.Config, log *slog.Logger, now func() time.Time) (*App, error) {
	if cfg.Production {
		cfg.SecureCookies = true // production is served over HTTPS
	}
	a := &App{Config: cfg, Log: log, Now: now}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	units, err := adminunit.Load()
	if err != nil {
		return nil, fmt.Errorf("load administrative units: %w", err)
	}
	a.Units = units
	if err := secureDataDir(cfg.DataDir, log, true); err != nil {
		return nil, err
	}
	if a.DB, a.AuditDB, err = OpenStores(ctx, cfg); err != nil {
		return nil, err
	}
	if a.Bus, err = events.Dial(ctx, events.Config{URL: cfg.NATSURL, DataDir: cfg.DataDir, Listen: cfg.NATSListen, Namespace: cfg.NATSNamespace, Replicas: cfg.NATSReplicas}); err != nil {
		return nil, err
	}
	a.Audit = audit.NewLog(a.AuditDB, now, log)
	if a.AuditDB != a.DB {
		// The audit file is written on every read of a person: checkpoint
		// it beside the group commits, not inside them, where a copy and
		// its fsync stall every request waiting on that commit.
		if a.stopCheckpoint, err = a.AuditDB.StartCheckpointer(100*time.Millisecond, 256<<20, log); err != nil {
			return nil, err
		}
	}
	a.Registry = registry.NewService(a.DB, units, a.Audit, now)
	// The card PKI lives in the database, mirrored in <data>/pki, its
	// private keys sealed; a fresh database gets a CSCA and a first
	// document signer so serve needs no extra step (cluster.go).
	a.Leases = &lease.Leases{DB: a.DB, Holder: lease.NewHolder()}
	pkiKeys, err := a.openSharedPKI(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	a.Cards = cardservice.NewWithKeys(a.DB, a.Registry, a.Audit, PKIDir(cfg), pkiKeys, cardBiometrics(cfg), now)
	// The dashboards read counters a few hundred milliseconds behind are
	// as good: on a replica when there is one; their writes (the event
	// handlers, the rebuild) go to the primary.
	statsDB := a.DB
	if cfg.DBRead != "" {
		if a.ReadDB, err = storage.Open(ctx, cfg.DBRead); err != nil {
			return nil, fmt.Errorf("read replica: %w", err)
		}
		statsDB = a.DB.ReadingFrom(a.ReadDB)
	}
	a.Stats = stats.New(statsDB, units, now)
	a.Stats.Leases = a.Leases // one node at a time rebuilds the counters
	a.Stay = stay.New(a.DB, a.Registry, a.Audit, now).WithAuditDB(a.AuditDB)
	verifyPage, err := a.openDocuments(cfg, pkiKeys, log, now)
	if err != nil {
		return nil, err
	}
	// A card read at the desk is evidence of a person's arrival in a unit.
	a.Registry.SetCards(cardproof.Checker{Cards: a.Cards})
	secret, err := cfg.LoadEIDSecret()
	if err != nil {
		return nil, err
	}
	// One bound on concurrent argon2id checks for citizens and staff alike
	// (throttle.Gate: one per core, 429 auth.busy past a short wait).
	passwords := throttle.NewGate(0, 0)
	if a.Staff, err = newStaff(a.DB, secret, a.Audit, now, passwords, units); err != nil {
		return nil, err
	}
	// Passkeys: the relying party is the public URL's host (localhost when
	// it is an IP address, which WebAuthn does not accept).
	passkeys, err := eid.PasskeyConfigFor(cfg.Issuer())
	if err != nil {
		return nil, err
	}
	sms, face := outsideServices(cfg)
	if a.EID, err = eid.NewService(eid.Deps{DB: a.DB, Register: a.Registry, Cards: a.Cards, SMS: sms, Face: face, Secret: []byte(secret), Log: log, Now: now, Production: cfg.Production,
		Audit: a.Audit, Passkeys: passkeys, Passwords: passwords}); err != nil {
		return nil, fmt.Errorf("e-ID: %w", err)
	}
	// The provider's sign-in and consent pages are drawn by the web layer
	// with the citizen portal's look (the provider imports no web package).
	signInPages, err := portal.NewSignInPages(log, cfg.SecureCookies)
	if err != nil {
		return nil, fmt.Errorf("OpenID provider pages: %w", err)
	}
	// Back-channel logout tokens go to addresses clients registered: the
	// webhooks' egress rule keeps them off the platform's own network.
	egress, err := delivery.EgressFor(cfg.Production, cfg.WebhookNetworks)
	if err != nil {
		return nil, err
	}
	if a.OIDC, err = oidcop.New(oidcop.Deps{DB: a.DB, Accounts: a.EID, Register: a.Registry, Pages: signInPages, Issuer: cfg.Issuer(),
		Secret: []byte(secret), Log: log, Now: now, SecureCookies: cfg.SecureCookies,
		LogoutClient: delivery.NewClient(5*time.Second, 1, egress)}); err != nil {
		return nil, fmt.Errorf("OpenID provider: %w", err)
	}
	a.Partners = exchange.NewStore(a.DB, now)
	a.PartnerLimits = exchange.NewLimits(a.DB, now)
	a.Exchange = exchange.NewService(exchange.Deps{Store: a.Partners, Register: a.Registry, Audit: a.Audit, Units: units, Log: log, Now: now})
	// The matching index is loaded when a reconciliation job first needs
	// it and refreshed every 10 minutes.
	matcher := &reconcile.IndexSource{MaxAge: 10 * time.Minute, Now: now, Load: func(ctx context.Context) (*match.Index, error) {
		return match.Load(ctx, a.DB, units, match.Options{Now: now()})
	}}
	if a.Reconcile, err = reconcile.New(reconcile.Deps{DB: a.DB, Audit: a.Audit, Places: matcher, Partners: a.Partners, Registry: a.Registry, Log: log, Now: now}); err != nil {
		return nil, err
	}
	a.Metrics = prometheus.NewRegistry()
	a.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	published := prometheus.NewCounter(prometheus.CounterOpts{Name: "dancu_events_published_total", Help: "Life events published from the outbox to JetStream."})
	a.Metrics.MustRegister(published)
	a.Metrics.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "dancu_register_cache_hits_total", Help: "Partner verifications answered from the in-memory register cores."},
			func() float64 { return float64(a.Registry.CoreCacheStats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "dancu_register_cache_misses_total", Help: "Partner verifications that read the person from the database."},
			func() float64 { return float64(a.Registry.CoreCacheStats().Misses) }))
	a.Metrics.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "dancu_audit_unindexed_entries",
		Help: "Audit entries not yet in the subject index (readers scan them); grows only if the indexer falls behind."},
		func() float64 {
			st, err := audit.ReadIndexState(context.Background(), a.AuditDB)
			if err != nil {
				return -1
			}
			return float64(st.Unindexed())
		}))
	if a.Deliveries, err = newDeliveries(cfg, a.DB, secret, now); err != nil {
		return nil, err
	}
	deliveryMetrics := delivery.NewMetrics(a.Metrics)
	a.deliverySender = &delivery.Sender{Store: a.Deliveries, Bus: a.Bus, Log: log, Metrics: deliveryMetrics, Now: now}

	pages, err := ui.New(ui.Deps{Registry: a.Registry, Cards: a.Cards, Staff: a.Staff, Units: units, Reconcile: a.Reconcile, Orgs: a.EID, EID: a.EID, Sectors: a.Exchange, Stats: a.Stats, Stay: a.Stay, Log: log, Now: now, SecureCookies: cfg.SecureCookies,
		Admin: ui.AdminDeps{Clients: a.OIDC.Clients(), Partners: a.Partners, Usage: a.PartnerLimits, Audit: a.Audit}})
	if err != nil {
		return nil, err
	}
	citizen, err := portal.New(portal.Deps{Accounts: a.EID, Provider: a.OIDC, Register: a.Registry, Cards: a.Cards, Stay: a.Stay,
		AccessLog: a.Audit, Log: log, Now: now, SecureCookies: cfg.SecureCookies, Partners: a.Partners})
	if err != nil {
		return nil, fmt.Errorf("citizen portal: %w", err)
	}
	partners := &partnerapi.API{Tokens: a.OIDC, Binding: a.OIDC, PublicURL: strings.TrimSuffix(cfg.Issuer(), "/oidc"), Partners: a.Partners,
		Limits: a.PartnerLimits, Exchange: a.Exchange, Reconcile: a.Reconcile, Stay: a.Stay, Log: log, Now: now,
		Deliveries: partnerapi.Deliveries{Store: a.Deliveries, Notify: a.deliverySender.Notify, Audit: a.Audit}}
	// Development stand-ins (the payment gateway simulator) outside production.
	stands, err := devMounts(cfg, secret, now)
	if err != nil {
		return nil, err
	}
	online, err := a.openServices(cfg, secret, units, log, now)
	if err != nil {
		return nil, fmt.Errorf("online services: %w", err)
	}
	stands = append(stands, online...)
	bundles, err := a.openBundles(cfg, log, now)
	if err != nil {
		return nil, fmt.Errorf("bundles: %w", err)
	}
	stands = append(stands, bundles...)
	partners.Bundles = a.Bundles
	// The dashboards name the procedures of the dossiers they list.
	a.Stats.ProcedureNames = func(ctx context.Context, code string) (string, string, error) {
		p, err := a.Services.Catalogue().Get(ctx, code)
		return p.Name.VI, p.Name.EN, err
	}
	a.Handler = web.New(web.Config{
		Log:     log,
		Metrics: a.Metrics,
		Ready: []web.Check{
			{Name: "database", Fn: a.DB.Ping},
			{Name: "nats", Fn: func(context.Context) error { return a.Bus.Ready() }},
		},
		Modules: append([]web.Mounter{
			&api.API{Registry: a.Registry, Cards: a.Cards, Staff: a.Staff, EID: a.EID, Units: units, Stats: a.Stats, Log: log, Now: now,
				Deliveries: api.Deliveries{Store: a.Deliveries, Partners: a.Partners, Notify: a.deliverySender.Notify, Audit: a.Audit}},
			pages,
			a.OIDC,
			citizen,
			partners,
			verifyPage,
		}, stands...),
	})

	relayCtx, cancel := context.WithCancel(context.Background())
	a.stopRelay, a.relayDone = cancel, make(chan struct{})
	relay := &events.Relay{DB: a.DB, Bus: a.Bus, Log: log, Published: func(n int) { published.Add(float64(n)) }}
	go func() {
		defer close(a.relayDone)
		relay.Run(relayCtx)
	}()
	// Cards and e-ID accounts of a person who died are revoked when
	// dancu.person.died arrives.
	if err := a.Cards.RevokeOnDeath(relayCtx, a.Bus, log); err != nil {
		return nil, err
	}
	if err := a.EID.RevokeOnDeath(relayCtx, a.Bus); err != nil {
		return nil, err
	}
	// The leaders' indicators follow the register's and the cards' events.
	statsDone, err := a.Stats.Start(relayCtx, a.Bus, log)
	if err != nil {
		return nil, err
	}
	a.workersDone = append(a.workersDone, statsDone...)
	a.startLeasedJobs(relayCtx) // purge, OpenID key rotation, PKI changes
	// Notifications, holiday overrides and the payment jobs.
	if err := a.startServices(relayCtx, cfg); err != nil {
		return nil, err
	}
	go a.PartnerLimits.Run(relayCtx, log)
	// Life events reach subscribed partners linked to the person.
	a.workersDone = append(a.workersDone, a.deliverySender.Start(relayCtx))
	fanout := &delivery.Fanout{Store: a.Deliveries, Audience: a.Partners, Policies: a.Partners, Audit: a.Audit, Log: log, Metrics: deliveryMetrics, Notify: a.deliverySender.Notify}
	fanoutDone, err := fanout.Start(relayCtx, a.Bus)
	if err != nil {
		return nil, err
	}
	a.workersDone = append(a.workersDone, fanoutDone)
	// The bundles' saga steps and the offers follow their events.
	if err := a.startBundles(relayCtx); err != nil {
		return nil, err
	}
	// Reconciliation jobs resume from their checkpoints after a restart.
	a.startWorker(func() { a.Reconcile.NewWorker(matcher, reconcile.WorkerOptions{ID: "app"}).Run(relayCtx) })
	// Partners' verify reads people's cores from memory, kept exact by
	// polling the register's changes.
	a.startWorker(func() { a.Registry.RunCache(relayCtx, log) })
	// The audit log's subject index is built behind the chain.
	a.startWorker(func() { audit.NewIndexer(a.AuditDB, log).Run(relayCtx) })
	// Signed checkpoints of the chain's head make a rewrite of the log
	// visible (auditcheckpoint.go).
	if err := a.startAuditCheckpoints(relayCtx); err != nil {
		return nil, err
	}
	// SQLite and JetStream made their files with their own modes.
	if err := secureDataDir(cfg.DataDir, log, false); err != nil {
		return nil, err
	}
	ok = true
	return a, nil
}

// startWorker runs work in the background; Close waits for it to return
// (work must stop when the relay context ends).
func (a *App) startWorker(work func()) {
	done := make(chan struct{})
	a.workersDone = append(a.workersDone, done)
	go func() {
		defer close(done)
		work()
	}()
}

// purgeOnce removes expired e-ID rows (codes, sessions, tokens) and the
// register acts' idempotency keys past their day; one node
// at a time runs it (startLeasedJobs).
func (a *App) purgeOnce(ctx context.Context) {
	if err := a.EID.Purge(ctx); err != nil {
		a.Log.Warn("e-ID purge", "err", err)
	}
	if err := a.OIDC.Purge(ctx); err != nil {
		a.Log.Warn("OpenID purge", "err", err)
	}
	if _, err := a.Registry.PurgeRequests(ctx); err != nil {
		a.Log.Warn("register request keys purge", "err", err)
	}
}

// PKIDir is where the card PKI (CSCA, document signers, CRL, master list)
// lives: <data>/pki.
func PKIDir(cfg platform.Config) string { return filepath.Join(cfg.DataDir, "pki") }

// Close stops the relay and closes everything, in reverse order of opening.
func (a *App) Close() {
	if a.stopRelay != nil {
		a.stopRelay()
		<-a.relayDone
		for _, done := range a.workersDone {
			<-done
		}
	}
	if a.Exchange != nil {
		a.Exchange.Close()
	}
	if a.Audit != nil {
		a.Audit.Close()
	}
	a.finalAuditCheckpoint()
	if a.stopCheckpoint != nil {
		a.stopCheckpoint()
	}
	if a.Bus != nil {
		a.Bus.Close()
	}
	CloseStores(a.DB, a.AuditDB)
	if a.ReadDB != nil {
		a.ReadDB.Close()
	}
}

// Credential is a bootstrap account to tell the operator about.
type Credential struct {
	Username, Password, Role, Unit string
}

// Bootstrap creates the first staff accounts when there are none: a national
// administrator, a registrar, a leader and a province administrator for Hà
// Nội, and a registrar of one commune (Phường Ba Đình). Each gets its own random password, or all the
// given one (tests and demonstrations).
func (a *App) Bootstrap(ctx context.Context, password string) ([]Credential, error) {
	n, err := a.Staff.Count(ctx)
	if err != nil || n > 0 {
		return nil, err
	}
	accounts := []staff.Account{
		{Username: "admin", DisplayName: "Quản trị hệ thống", Role: actor.Admin},
		{Username: "dangky.hanoi", DisplayName: "Cán bộ đăng ký Hà Nội", Role: actor.Registrar, Unit: "01", Province: "01"},
		{Username: "dangky.badinh", DisplayName: "Cán bộ đăng ký phường Ba Đình", Role: actor.Registrar, Unit: "00004", Province: "01"},
		{Username: "lanhdao.hanoi", DisplayName: "Lãnh đạo Hà Nội", Role: actor.Leader, Unit: "01", Province: "01"},
		{Username: "quantri.hanoi", DisplayName: "Quản trị Hà Nội", Role: actor.Admin, Unit: "01", Province: "01"},
	}
	var out []Credential
	for _, acc := range accounts {
		password := password
		if password == "" {
			password = staff.RandomPassword()
		}
		if err := a.Staff.Create(ctx, acc, password); err != nil {
			return nil, fmt.Errorf("bootstrap %s: %w", acc.Username, err)
		}
		unit := "toàn quốc"
		if acc.Unit != "" {
			if u, err := a.Units.Commune(acc.Unit, a.Now()); err == nil {
				unit = u.Name
			} else if u, err := a.Units.Province(acc.Unit, a.Now()); err == nil {
				unit = u.Name
			}
		}
		out = append(out, Credential{Username: acc.Username, Password: password, Role: string(acc.Role), Unit: unit})
	}
	return out, nil
}

// ErrNotEmpty means the register already has people.
var ErrNotEmpty = errors.New("the register is not empty")

// SeedIfEmpty loads a synthetic population when the register is empty.
func (a *App) SeedIfEmpty(ctx context.Context, persons int, seedValue int64, progress func(done, total int)) (int, error) {
	empty, err := registry.Empty(ctx, a.DB)
	if err != nil {
		return 0, err
	}
	if !empty || persons == 0 {
		return 0, nil
	}
	n, err := seed.Run(ctx, a.DB, a.Audit, a.Units, seed.Options{Persons: persons, Seed: seedValue, Today: a.Now(), Progress: progress})
	if err != nil {
		return n, err
	}
	// The seed loads the register in bulk, without events: the indicators
	// are recomputed from it.
	return n, a.Stats.Rebuild(ctx)
}
