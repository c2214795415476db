package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/payment"
	"github.com/dancu-project/dancu/internal/payment/simgateway"
	"github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/web"
)

// SimPayPrefix is where the payment gateway simulator is served outside
// production: its payment page, its signed API, and from there its signed
// callbacks to the platform.
const SimPayPrefix = "/sim/pay"

// simPayKey is the simulator's signing key, derived from the platform
// secret so that no key is written in code; the simulator and the client
// the platform pays through derive the same one.
func simPayKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("dancu payment gateway simulator"))
	return m.Sum(nil)
}

// devMounts are the development stand-ins the binary serves outside
// production: the payment gateway simulator at SimPayPrefix. Production
// serves none of them.
func devMounts(cfg platform.Config, secret string, now func() time.Time) ([]web.Mounter, error) {
	if cfg.Production {
		return nil, nil
	}
	// The journal keeps the simulator's statement across restarts, so the
	// daily reconciliation of a day with a restart in it makes sense.
	sim, err := simgateway.New(simgateway.Config{Secret: simPayKey(secret), Prefix: SimPayPrefix, Now: now,
		Journal: filepath.Join(cfg.DataDir, "simpay.journal")})
	if err != nil {
		return nil, err
	}
	return []web.Mounter{sim}, nil
}

// errNoGateway: production has no real payment gateway configured yet.
var errNoGateway = errors.New("payment: no payment gateway is configured for production (the simulator is for development only)")

// PaymentGateway is the gateway dossier fees are paid through: outside
// production, a client of the simulator devMounts serves at the public
// URL's SimPayPrefix; in production an error until a real gateway is
// configured.
func PaymentGateway(cfg platform.Config, secret string, now func() time.Time) (payment.Gateway, error) {
	if cfg.Production {
		return nil, errNoGateway
	}
	base := strings.TrimSuffix(strings.TrimSuffix(cfg.Issuer(), "/oidc"), "/")
	return &simgateway.Client{BaseURL: base + SimPayPrefix, Secret: simPayKey(secret), Now: now}, nil
}
