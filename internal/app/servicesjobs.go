package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/notify"
	"github.com/dancu-project/dancu/internal/payment"
	"github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/web"
	"github.com/dancu-project/dancu/internal/web/servicesweb"
)

// Lease names of the payment jobs (one node at a time runs each).
const (
	leasePaymentExpire    = "payment-expire"
	leasePaymentReconcile = "payment-reconcile"
	leasePaymentSync      = "dossier-payments"
)

// paymentExpireEvery is how often stale payment intents are expired; the
// reconciliation job looks every minute whether its time has come.
const paymentExpireEvery = 5 * time.Minute

// openServicesExtras builds the citizens' notifications (a.Notify: copies
// by SMS through the configured gateway, else none in production; in
// development SMS and e-mail are written to <data>/outbox, since the real
// ones are outside the machine) and returns the rest of the services API
// (servicesweb.API) over the services handler among mounts.
func (a *App) openServicesExtras(cfg platform.Config, mounts []web.Mounter, log *slog.Logger, now func() time.Time) ([]web.Mounter, error) {
	var h *servicesweb.Handler
	for _, m := range mounts {
		if sh, ok := m.(*servicesweb.Handler); ok {
			h = sh
		}
	}
	if h == nil {
		return nil, fmt.Errorf("services extras: no services handler")
	}
	base := strings.TrimSuffix(strings.TrimSuffix(cfg.Issuer(), "/oidc"), "/")
	d := notify.Deps{DB: a.DB, Dossiers: a.Services, Contacts: a.EID, Log: log, Now: now, PortalURL: base + "/citizen/dossiers"}
	if cfg.Production {
		if sms, _ := outsideServices(cfg); sms != nil {
			d.SMS = sms
		}
		// No mail relay is configured for production yet: no e-mail copies.
	} else {
		out := notify.DevOutbox{Dir: filepath.Join(cfg.DataDir, "outbox"), Now: now}
		d.SMS, d.Mail = out, out
	}
	var err error
	if a.Notify, err = notify.New(d); err != nil {
		return nil, err
	}
	api := &servicesweb.API{Handler: h, Notices: a.Notify}
	if a.Payments != nil {
		api.Payments = a.Payments
	}
	return []web.Mounter{api}, nil
}

// startServices runs the online services' background work: notifications
// from the dossier events, the administrators' holiday overrides followed
// on this node, and the leased payment jobs (paid dossiers received every
// minute; expiry of stale intents; the daily reconciliation at
// cfg.PaymentReconcileAt, Vietnam time).
func (a *App) startServices(ctx context.Context, cfg platform.Config) error {
	if a.Services == nil {
		return nil
	}
	if a.Notify != nil {
		done, err := a.Notify.Start(ctx, a.Bus)
		if err != nil {
			return err
		}
		a.workersDone = append(a.workersDone, done)
	}
	a.startWorker(func() { a.Services.FollowHolidays(ctx, a.Log) })
	if a.Payments == nil {
		return nil
	}
	at := cfg.PaymentReconcileAt
	if at == "" {
		at = payment.DefaultReconcileAt
	}
	minute, err := payment.ParseClock(at)
	if err != nil {
		return fmt.Errorf("payment reconciliation time %q: %w", at, err)
	}
	a.startWorker(func() {
		a.Leases.Run(ctx, leasePaymentExpire, paymentExpireEvery, 3*paymentExpireEvery, func(ctx context.Context) {
			if n, err := a.Payments.RunExpire(ctx); err != nil {
				a.Log.Warn("payment expiry", "err", err)
			} else if n > 0 {
				a.Log.Info("stale payment intents expired", "expired", n)
			}
		})
	})
	a.startWorker(func() {
		// A paid fee moves its dossier to received within a minute, read
		// or not (the filer is told by the received event).
		a.Leases.Run(ctx, leasePaymentSync, time.Minute, 5*time.Minute, func(ctx context.Context) {
			if n, err := a.Services.SyncPayments(ctx); err != nil {
				a.Log.Warn("dossier payments", "err", err)
			} else if n > 0 {
				a.Log.Info("paid dossiers received", "dossiers", n)
			}
		})
	})
	started := time.Now()
	a.startWorker(func() {
		a.Leases.Run(ctx, leasePaymentReconcile, time.Minute, 10*time.Minute, func(ctx context.Context) {
			// Not in the first seconds: outside production the gateway is
			// the simulator this very process serves, not listening yet.
			if time.Since(started) < 30*time.Second {
				return
			}
			ran, rep, err := a.Payments.RunReconcile(ctx, minute)
			switch {
			case err != nil:
				a.Log.Warn("payment reconciliation", "err", err)
			case ran:
				a.Log.Info("payment reconciliation", "day", rep.Day.String(), "lines", rep.Lines, "mismatches", len(rep.Mismatches))
			}
		})
	})
	return nil
}
