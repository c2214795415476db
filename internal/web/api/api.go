// Package api is the JSON API under /api/v1: persons, households, residence,
// life events, administrative units and chip identity cards. Errors are RFC
// 9457 problem documents with stable codes; the OpenAPI 3.1 document at
// /api/openapi.json describes every route, which a test keeps true.
package api

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/stats"
	"github.com/dancu-project/dancu/internal/web/auth"
	"github.com/dancu-project/dancu/internal/web/problem"
)

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI document.
func OpenAPI() []byte { return openAPI }

// API holds the handlers' dependencies.
type API struct {
	Registry *registry.Service
	Cards    *cardservice.Service
	Staff    *staff.Store
	Units    *adminunit.Catalog
	// EID is the e-ID accounts' service: enrolment and the desk's acts
	// (routes in eid.go); nil: those routes answer eid.off.
	EID *eid.Service
	// Deliveries are the life-event subscriptions administrators manage
	// (routes in delivery.go).
	Deliveries Deliveries
	Log        *slog.Logger
	Now        func() time.Time

	// Stats are the leaders' indicators (routes in stats.go); nil: those
	// routes answer stats.off.
	Stats *stats.Service
}

// Route is one API operation.
type Route struct {
	Method, Path string // Path in OpenAPI form: /api/v1/persons/{pin}
	Public       bool   // needs no sign-in
	Handle       func(w http.ResponseWriter, r *http.Request) error
}

// Routes lists every operation; Mount registers them and the OpenAPI test
// compares them with the document.
func (a *API) Routes() []Route {
	rs := []Route{
		{"POST", "/api/v1/sessions", true, a.signIn},
		{"DELETE", "/api/v1/sessions", false, a.signOut},
		{"GET", "/api/v1/persons", false, a.searchPersons},
		{"GET", "/api/v1/persons/{pin}", false, a.getPerson},
		{"GET", "/api/v1/persons/{pin}/history", false, a.personHistory},
		{"GET", "/api/v1/persons/{pin}/residences", false, a.personResidences},
		{"GET", "/api/v1/persons/{pin}/events", false, a.personEvents},
		{"GET", "/api/v1/households/{id}", false, a.getHousehold},
		{"POST", "/api/v1/births", false, a.registerBirth},
		{"POST", "/api/v1/deaths", false, a.registerDeath},
		{"POST", "/api/v1/moves", false, a.registerMove},
		{"POST", "/api/v1/name-changes", false, a.changeName},
		{"POST", "/api/v1/temporary-residences", false, a.registerTemporary},
		{"POST", "/api/v1/marriages", false, a.registerMarriage},
		{"POST", "/api/v1/divorces", false, a.registerDivorce},
		{"GET", "/api/v1/persons/{pin}/marriages", false, a.personMarriages},
		{"GET", "/api/v1/departures", false, a.departures},
		{"GET", "/api/v1/pins/{pin}", true, a.checkPIN},
		{"GET", "/api/v1/units/provinces", true, a.provinces},
		{"GET", "/api/v1/units/provinces/{code}/communes", true, a.communes},
		{"GET", "/api/v1/units/communes/{code}", true, a.commune},
		{"GET", "/api/v1/units/search", true, a.searchUnits},
		{"POST", "/api/v1/persons/{pin}/cards", false, a.applyCard},
		{"GET", "/api/v1/persons/{pin}/cards", false, a.personCards},
		{"GET", "/api/v1/cards/{serial}", false, a.getCard},
		{"POST", "/api/v1/cards/{serial}/approve", false, a.approveCard},
		{"POST", "/api/v1/cards/{serial}/produce", false, a.produceCard},
		{"POST", "/api/v1/cards/{serial}/hand-over", false, a.handOverCard},
		{"POST", "/api/v1/cards/{serial}/report-lost", false, a.reportLostCard},
		{"POST", "/api/v1/cards/{serial}/revoke", false, a.revokeCard},
		{"POST", "/api/v1/cards/{serial}/cancel", false, a.cancelCard},
		{"POST", "/api/v1/cards/{serial}/reissue", false, a.reissueCard},
		{"GET", "/api/v1/cards/{serial}/chip", false, a.cardChip},
		{"GET", "/api/v1/cards/{serial}/qr.png", false, a.cardQR},
		{"GET", "/api/v1/cards/{serial}/front.png", false, a.cardFront},
		{"GET", "/api/v1/cards/{serial}/back.png", false, a.cardBack},
		{"GET", "/api/v1/cards/{serial}/preview.pdf", false, a.cardPreview},
		{"POST", "/api/v1/card/verify", true, a.verifyCard},
		{"GET", "/api/v1/card/pki/master-list", true, a.masterList},
		{"GET", "/api/v1/card/pki/crl", true, a.crl},
	}
	rs = append(rs, a.staffRoutes()...)
	rs = append(rs, a.eidRoutes()...)
	rs = append(rs, a.statsRoutes()...)
	return append(rs, a.deliveryRoutes()...)
}

// Mount registers the routes and the OpenAPI document on mux.
func (a *API) Mount(mux *http.ServeMux) {
	for _, rt := range a.Routes() {
		mux.Handle(rt.Method+" "+rt.Path, a.handler(rt))
	}
	mux.HandleFunc("GET /api/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
	})
	// Unknown API paths answer in problem JSON too, not with the HTML 404.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, a.Log, errNoRoute)
	})
}

var (
	errNoRoute = fault.New(fault.NotFound, "route.not_found", "Không có API này.", "No such API route.")
	errCSRF    = fault.New(fault.Forbidden, "auth.csrf", "Thiếu hoặc sai mã chống giả mạo (CSRF).", "Missing or wrong CSRF token.")
)

func (a *API) handler(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !rt.Public {
			var err error
			var sess staff.Session
			r, sess, err = auth.Load(r, a.Staff)
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="dancu"`)
				problem.Write(w, r, a.Log, err)
				return
			}
			if !auth.CSRFOK(r) {
				problem.Write(w, r, a.Log, errCSRF)
				return
			}
			// A password an administrator set must be changed before
			// anything else (staff.Account.MustChangePassword).
			if sess.Account.MustChangePassword && !passwordChangeAllowed(rt) {
				w.Header().Set("Link", "<"+PasswordPath+`>; rel="change-password"`)
				problem.Write(w, r, a.Log, staff.ErrPasswordChangeRequired)
				return
			}
		}
		if err := rt.Handle(w, r); err != nil {
			problem.Write(w, r, a.Log, err)
		}
	})
}

// maxBody bounds a JSON request; register forms are a few hundred bytes.
const maxBody = 64 << 10

// decode reads exactly one JSON object with no unknown fields.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeLimit(w, r, v, maxBody)
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func actorOf(ctx context.Context) staff.Account {
	s, _ := auth.From(ctx)
	return s.Account
}

func intParam(r *http.Request, name string) int {
	n, _ := strconv.Atoi(r.URL.Query().Get(name))
	return n
}
