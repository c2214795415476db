package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/payment"
	"github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/web"
	"github.com/dancu-project/dancu/internal/web/problem"
	"github.com/dancu-project/dancu/internal/web/servicesweb"
	"github.com/dancu-project/dancu/internal/workday"
)

// openServices builds the online public services (a.Services) with the
// dossier fees' payments (a.Payments, when a gateway is configured: the
// simulator outside production) and returns their routes: the services
// API and public pages, and the gateway's callback.
func (a *App) openServices(cfg platform.Config, secret string, units *adminunit.Catalog, log *slog.Logger, now func() time.Time) ([]web.Mounter, error) {
	base := strings.TrimSuffix(strings.TrimSuffix(cfg.Issuer(), "/oidc"), "/")
	var mounts []web.Mounter
	var pays services.Payments
	if gw, err := PaymentGateway(cfg, secret, now); err == nil {
		if a.Payments, err = payment.New(payment.Deps{DB: a.DB, Gateway: gw, Audit: a.Audit, Now: now, CallbackURL: base + PaymentCallbackPath}); err != nil {
			return nil, fmt.Errorf("payments: %w", err)
		}
		pays = a.Payments
		mounts = append(mounts, callbackRoute{pay: a.Payments, log: log})
	} else {
		log.Warn("dossier fees cannot be paid", "err", err)
	}
	cal, err := workday.Default()
	if err != nil {
		return nil, fmt.Errorf("working-day calendar: %w", err)
	}
	cat, err := services.NewCatalogue(a.DB, a.Audit, now)
	if err != nil {
		return nil, err
	}
	// The check codes' key is derived from the platform secret, so none is
	// written in code.
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("dancu dossier check codes"))
	if a.Services, err = services.New(services.Deps{DB: a.DB, Catalogue: cat, Register: a.Registry, Documents: a.Documents, Results: a.Results,
		Payments: pays, Calendar: cal, Units: units, Audit: a.Audit, Secret: m.Sum(nil), Now: now, ReturnURL: base + "/citizen/dossiers/",
		Orgs: serviceOrgs{eid: a.EID}}); err != nil {
		return nil, err
	}
	mounts = append(mounts, &servicesweb.Handler{Services: a.Services, Citizens: a.EID, Staff: a.Staff, Log: log, BaseURL: base, Now: now,
		Units: units, SecureCookies: cfg.SecureCookies})
	desk, err := a.openDesk(base, cfg.SecureCookies, units, log, now)
	if err != nil {
		return nil, err
	}
	mounts = append(mounts, desk)
	extras, err := a.openServicesExtras(cfg, mounts, log, now) // servicesjobs.go
	if err != nil {
		return nil, err
	}
	mounts = append(mounts, extras...)
	return mounts, nil
}

// PaymentCallbackPath is where the gateway posts its signed callbacks: no
// session, no CSRF, the signature is the proof.
const PaymentCallbackPath = "/api/v1/payments/callback"

type callbackRoute struct {
	pay *payment.Service
	log *slog.Logger
}

func (c callbackRoute) Mount(mux *http.ServeMux) {
	mux.HandleFunc("POST "+PaymentCallbackPath, func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		if _, err := c.pay.HandleCallback(r.Context(), r.Header, body); err != nil {
			problem.Write(w, r, c.log, err)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
