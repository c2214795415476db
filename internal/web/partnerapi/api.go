// Package partnerapi is the API partner systems call under /api/partner/v1:
// banks, insurers, hospitals and ministries verify people, look them up with
// the citizen's consent, link and resolve sector identifiers and reconcile
// their data. A partner system authenticates with an access token the e-ID
// provider issued to it by the client-credentials grant (`Authorization:
// Bearer <token>`); the policy of the partner that owns the client decides
// what it may do. Errors are RFC 9457 problem documents with stable codes,
// and the OpenAPI 3.1 document at /api/partner/openapi.json, assembled from
// the fragments in openapi/, describes every route (a test keeps it true).
//
// Adding routes from another package's handlers: put them in a file of
// their own here returning []Route, add the dependency to API and the call to
// Routes, and the operations to a fragment openapi/<name>.json holding
// "paths" and "components.schemas"; fragments are merged by file name.
package partnerapi

import (
	"context"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/dancu-project/dancu/internal/bundle"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/reconcile"
	"github.com/dancu-project/dancu/internal/stay"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
	"github.com/dancu-project/dancu/internal/web/problem"
)

// Tokens verifies access tokens (*oidcop.Provider: a token seen before
// costs a memory lookup; a revocation counts on this node at once and on
// the others within about a second).
type Tokens interface {
	VerifyAccessToken(ctx context.Context, token string) (oidcop.AccessToken, error)
}

// Partners finds the partner system a client is (*exchange.Store).
type Partners interface {
	System(ctx context.Context, clientID string) (exchange.System, exchange.Partner, error)
}

// Limits admits a partner's call under its rate limit and daily quota
// (*exchange.Limits). A refusal that can be retried carries the wait
// (exchange.RetryAfter).
type Limits interface {
	Admit(ctx context.Context, p exchange.Partner) error
}

// Binding reads a request's access token and checks a DPoP proof when the
// token is bound to a key (*oidcop.Provider).
type Binding interface {
	CheckResourceRequest(ctx context.Context, r *http.Request, url string) (string, error)
}

// API holds the handlers' dependencies.
type API struct {
	Tokens Tokens
	// Binding, when set, accepts DPoP-bound tokens ("DPoP <token>" with a
	// proof) besides bearer tokens; PublicURL is the server's public base
	// URL the proofs name.
	Binding   Binding
	PublicURL string
	Partners  Partners
	Limits    Limits // nil: no rate limit or quota (tests of other parts)
	Exchange  *exchange.Service
	// Reconcile runs bulk data cleaning (routes in reconcile.go).
	Reconcile *reconcile.Service
	// Deliveries are the life-event subscriptions and deliveries (routes
	// in delivery.go).
	Deliveries Deliveries
	// Stay takes hotels' and hospitals' guest reports (routes in stay.go).
	Stay *stay.Service
	// Bundles take the partner agencies' answers to bundle steps (routes
	// in bundle.go).
	Bundles *bundle.Service
	Log     *slog.Logger
	Now     func() time.Time
}

// Route is one operation of the partner API.
type Route struct {
	Method, Path string // Path in OpenAPI form: /api/partner/v1/sector-ids/{scheme}
	// Operation the partner's policy must allow; "" for any partner.
	Operation exchange.Operation
	Handle    func(w http.ResponseWriter, r *http.Request) error
}

// Prefix is where the partner API lives.
const Prefix = "/api/partner/v1"

// Routes lists every operation; Mount registers them and the OpenAPI test
// compares them with the document.
func (a *API) Routes() []Route {
	var rs []Route
	rs = append(rs, a.exchangeRoutes()...)
	rs = append(rs, a.reconcileRoutes()...)
	rs = append(rs, a.deliveryRoutes()...)
	rs = append(rs, a.stayRoutes()...)
	rs = append(rs, a.bundleRoutes()...)
	return rs
}

// Mount registers the routes and the OpenAPI document on mux.
func (a *API) Mount(mux *http.ServeMux) {
	if a.Log == nil {
		a.Log = slog.New(slog.DiscardHandler)
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	for _, rt := range a.Routes() {
		mux.Handle(rt.Method+" "+rt.Path, a.handler(rt))
	}
	doc, err := OpenAPI()
	mux.HandleFunc("GET /api/partner/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		if err != nil {
			problem.Write(w, r, a.Log, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	})
	mux.HandleFunc("/api/partner/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, a.Log, errNoRoute)
	})
}

var (
	errNoRoute = fault.New(fault.NotFound, "route.not_found", "Không có API này.", "No such API route.")
)

func (a *API) handler(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, err := a.authenticate(r)
		if err == nil && rt.Operation != "" {
			c, _ := CallerFrom(r.Context())
			if !c.Partner.Policy.Allows(rt.Operation) {
				err = exchange.ErrOperation
			}
		}
		if err == nil && a.Limits != nil {
			c, _ := CallerFrom(r.Context())
			err = a.Limits.Admit(r.Context(), c.Partner)
		}
		if err == nil {
			err = rt.Handle(w, r)
		}
		if err != nil {
			a.fail(w, r, err)
		}
	})
}

// fail writes err as a problem document, with Retry-After on a limit and
// WWW-Authenticate on a refused token.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	if d, ok := exchange.RetryAfter(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	}
	if f := fault.As(err); f.Kind == fault.Unauthenticated {
		// Both schemes the API accepts (RFC 6750 §3, RFC 9449 §7.1); a
		// refused proof says so on the DPoP challenge.
		w.Header().Add("WWW-Authenticate", `Bearer realm="dancu-partner"`)
		dpop := `DPoP realm="dancu-partner", algs="ES256"`
		if f.Code == oidcop.ErrDPoPInvalid.Code {
			dpop += `, error="invalid_dpop_proof"`
		}
		w.Header().Add("WWW-Authenticate", dpop)
	}
	problem.Write(w, r, a.Log, err)
}

// maxBody bounds a JSON request of the interactive operations.
const maxBody = 64 << 10

// Decode reads exactly one JSON object with no unknown fields, at most limit
// bytes. Route files of other packages use it too.
func Decode(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return jsonbody.ErrContentType
	}
	return jsonbody.Decode(w, r, v, limit)
}
