package delivery

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/web/auth"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
	"github.com/dancu-project/dancu/internal/web/problem"
)

// PartnerAuth identifies the partner system calling (for its operator's
// view of its own subscriptions and delivery log). The exchange module
// provides it from the partner's OAuth client credentials.
type PartnerAuth interface {
	Partner(r *http.Request) (string, error)
}

// PartnerAuthFunc adapts a function to PartnerAuth.
type PartnerAuthFunc func(r *http.Request) (string, error)

// Partner calls f.
func (f PartnerAuthFunc) Partner(r *http.Request) (string, error) { return f(r) }

// Handler is the delivery API: administrators manage every partner's
// subscriptions, read the delivery log and replay dead letters under
// /api/v1/admin/; a partner does the same for itself under /api/partner/v1/
// (beside the exchange API, with the same credentials).
// Answers carry ids, codes and timings, never personal data.
type Handler struct {
	Store    *Store
	Staff    auth.Sessions
	Partners PartnerAuth // nil: the partner routes answer 401
	Sender   *Sender     // woken after a replay; may be nil
	Audit    Auditor     // records subscription changes and replays; may be nil
	Log      *slog.Logger
}

// record writes an operator's act to the audit chain. Subjects are
// partners and subscriptions, never people.
func (h *Handler) record(r *http.Request, c who, action, subject, detail string) error {
	if h.Audit == nil {
		return nil
	}
	return h.Audit.RecordAll(r.Context(), []audit.Entry{{Actor: c.by, Action: action, Subject: subject, Purpose: "partner administration", Detail: detail}})
}

var (
	// An oversized body reads as malformed here (400, as the OpenAPI
	// document says), not as jsonbody.ErrTooLarge.
	errBadJSON = jsonbody.ErrMalformed
)

type who struct {
	partner string // empty for an administrator: every partner
	by      string // actor label for created_by
}

// Where the delivery API is mounted: administrators under AdminPrefix, a
// partner system for itself under PartnerPrefix (beside the exchange API).
const (
	AdminPrefix   = "/api/v1/admin"
	PartnerPrefix = "/api/partner/v1"
)

// Route is one operation of the delivery API. Path is relative to the
// prefix, in OpenAPI form (/subscriptions/{id}); every route is mounted
// under both AdminPrefix and PartnerPrefix.
type Route struct {
	Method, Path string
}

type route struct {
	Route
	fn func(w http.ResponseWriter, r *http.Request, c who) error
}

// routes is the one table of operations: Mount registers it and Routes
// publishes it for the OpenAPI documents' tests.
func (h *Handler) routes() []route {
	return []route{
		{Route{"GET", "/subscriptions"}, h.listSubscriptions},
		{Route{"POST", "/subscriptions"}, h.subscribe},
		{Route{"DELETE", "/subscriptions/{id}"}, h.unsubscribe},
		{Route{"POST", "/subscriptions/{id}/secret"}, h.rotate},
		{Route{"GET", "/deliveries"}, h.deliveries},
		{Route{"POST", "/deliveries/replay"}, h.replay},
		{Route{"GET", "/delivery-log"}, h.deliveryLog},
	}
}

// Routes lists the operations Mount registers under each prefix.
func Routes() []Route {
	var out []Route
	for _, rt := range (&Handler{}).routes() {
		out = append(out, rt.Route)
	}
	return out
}

// Mount registers the routes.
func (h *Handler) Mount(mux *http.ServeMux) {
	for _, scope := range []struct {
		prefix string
		auth   func(r *http.Request) (*http.Request, who, error)
	}{{AdminPrefix, h.admin}, {PartnerPrefix, h.partner}} {
		for _, rt := range h.routes() {
			mux.HandleFunc(rt.Method+" "+scope.prefix+rt.Path, func(w http.ResponseWriter, r *http.Request) {
				r, c, err := scope.auth(r)
				if err == nil {
					err = rt.fn(w, r, c)
				}
				if err != nil {
					problem.Write(w, r, h.Log, err)
				}
			})
		}
	}
}

// admin lets national administrators in.
func (h *Handler) admin(r *http.Request) (*http.Request, who, error) {
	r, sess, err := auth.Load(r, h.Staff)
	if err != nil {
		return r, who{}, err
	}
	a := sess.Account.Actor()
	if a.Role != actor.Admin || a.Unit != "" {
		return r, who{}, fault.ErrForbidden
	}
	if !auth.CSRFOK(r) {
		return r, who{}, fault.New(fault.Forbidden, "auth.csrf", "Thiếu hoặc sai mã chống giả mạo (CSRF).", "Missing or wrong CSRF token.")
	}
	return r, who{by: a.ID}, nil
}

func (h *Handler) partner(r *http.Request) (*http.Request, who, error) {
	if h.Partners == nil {
		return r, who{}, fault.ErrUnauthorized
	}
	p, err := h.Partners.Partner(r)
	if err != nil {
		return r, who{}, err
	}
	return r, who{partner: p, by: "partner:" + p}, nil
}

// scopePartner is the partner a request is about: its own for a partner,
// the ?partner= (or body) value for an administrator.
func (c who) scopePartner(asked string) string {
	if c.partner != "" {
		return c.partner
	}
	return asked
}

func (h *Handler) listSubscriptions(w http.ResponseWriter, r *http.Request, c who) error {
	subs, err := h.Store.Subscriptions(r.Context(), c.scopePartner(r.URL.Query().Get("partner")))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"subscriptions": nonNil(subs)})
}

func (h *Handler) subscribe(w http.ResponseWriter, r *http.Request, c who) error {
	var in SubscribeInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	in.PartnerID = c.scopePartner(in.PartnerID)
	sub, err := h.Store.Subscribe(r.Context(), c.by, in)
	if err != nil {
		return err
	}
	if err := h.record(r, c, "delivery.subscribe", "partner:"+sub.PartnerID, "subscription="+sub.ID+" mode="+sub.Mode+" types="+strings.Join(sub.Types, ",")); err != nil {
		return err
	}
	h.Log.Info("delivery subscription created", "code", "delivery.subscribed", "partner", sub.PartnerID, "subscription", sub.ID, "mode", sub.Mode)
	return jsonbody.Write(w, http.StatusCreated, sub)
}

func (h *Handler) unsubscribe(w http.ResponseWriter, r *http.Request, c who) error {
	if err := h.Store.Unsubscribe(r.Context(), c.partner, r.PathValue("id")); err != nil {
		return err
	}
	if err := h.record(r, c, "delivery.unsubscribe", "subscription:"+r.PathValue("id"), ""); err != nil {
		return err
	}
	h.Log.Info("delivery subscription ended", "code", "delivery.unsubscribed", "subscription", r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) rotate(w http.ResponseWriter, r *http.Request, c who) error {
	secret, err := h.Store.RotateSecret(r.Context(), c.partner, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := h.record(r, c, "delivery.rotate_secret", "subscription:"+r.PathValue("id"), ""); err != nil {
		return err
	}
	h.Log.Info("delivery secret rotated", "code", "delivery.secret_rotated", "subscription", r.PathValue("id"))
	return jsonbody.Write(w, http.StatusOK, map[string]string{"id": r.PathValue("id"), "secret": secret})
}

func (h *Handler) deliveries(w http.ResponseWriter, r *http.Request, c who) error {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	f := Filter{Partner: c.scopePartner(q.Get("partner")), Status: q.Get("status"), EventID: q.Get("event_id"), Limit: limit}
	ds, err := h.Store.Deliveries(r.Context(), f)
	if err != nil {
		return err
	}
	counts, err := h.Store.Counts(r.Context(), f.Partner)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"deliveries": nonNil(ds), "counts": counts})
}

// ReplayRequest names the dead letters to send again.
type ReplayRequest struct {
	PartnerID string   `json:"partner_id"`
	EventIDs  []string `json:"event_ids"`
	All       bool     `json:"all"`
}

func (h *Handler) replay(w http.ResponseWriter, r *http.Request, c who) error {
	var in ReplayRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	partner := c.scopePartner(in.PartnerID)
	n, err := h.Store.Replay(r.Context(), partner, in.EventIDs, in.All)
	if err != nil {
		return err
	}
	if err := h.record(r, c, "delivery.replay", "partner:"+partner, "requeued="+strconv.Itoa(n)); err != nil {
		return err
	}
	h.Log.Info("dead letters replayed", "code", "delivery.replayed", "partner", partner, "deliveries", n, "by", c.by)
	if h.Sender != nil && partner != "" {
		h.Sender.Notify([]string{partner})
	}
	return jsonbody.Write(w, http.StatusOK, map[string]int{"requeued": n})
}

func (h *Handler) deliveryLog(w http.ResponseWriter, r *http.Request, c who) error {
	q := r.URL.Query()
	partner := c.scopePartner(q.Get("partner"))
	if partner == "" {
		return ErrPartnerID.WithField("partner")
	}
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	log, err := h.Store.Log(r.Context(), partner, before, limit)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"attempts": nonNil(log)})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errBadJSON.Wrap(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errBadJSON
	}
	return nil
}
