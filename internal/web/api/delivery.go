package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/delivery"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
)

// National administrators manage every partner's life-event subscriptions,
// read the delivery queue and log and replay dead letters here, under
// DeliveryPrefix; a partner does the same for itself through the partner
// API (internal/web/partnerapi). The delivery package holds the domain:
// these handlers only check the administrator and map requests.

// DeliveryPrefix is where the administrators' delivery routes live.
const DeliveryPrefix = "/api/v1/admin"

// Deliveries are the delivery module's parts the administrators' routes
// use.
type Deliveries struct {
	Store *delivery.Store
	// Partners give a partner's policy, which bounds the subscriptions an
	// administrator makes for it (*exchange.Store).
	Partners delivery.Policies
	// Notify wakes the senders after a replay; may be nil.
	Notify func(partners []string)
	// Audit records subscription changes and replays (*audit.Log); may
	// be nil.
	Audit interface {
		RecordAll(ctx context.Context, es []audit.Entry) error
	}
}

func (a *API) deliveryRoutes() []Route {
	return []Route{
		{"GET", DeliveryPrefix + "/subscriptions", false, a.adminOnly(a.listSubscriptions)},
		{"POST", DeliveryPrefix + "/subscriptions", false, a.adminOnly(a.subscribe)},
		{"DELETE", DeliveryPrefix + "/subscriptions/{id}", false, a.adminOnly(a.unsubscribe)},
		{"POST", DeliveryPrefix + "/subscriptions/{id}/secret", false, a.adminOnly(a.rotateSecret)},
		{"GET", DeliveryPrefix + "/deliveries", false, a.adminOnly(a.deliveries)},
		{"POST", DeliveryPrefix + "/deliveries/replay", false, a.adminOnly(a.replay)},
		{"GET", DeliveryPrefix + "/delivery-log", false, a.adminOnly(a.deliveryLog)},
	}
}

// adminOnly lets national administrators through (signed in and CSRF
// checked by handler).
func (a *API) adminOnly(h func(w http.ResponseWriter, r *http.Request, by string) error) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		ac := actorOf(r.Context()).Actor()
		if ac.Role != actor.Admin || ac.Unit != "" {
			return fault.ErrForbidden
		}
		return h(w, r, ac.ID)
	}
}

// recordDelivery writes an administrator's act to the audit chain.
// Subjects are partners and subscriptions, never people.
func (a *API) recordDelivery(r *http.Request, by, action, subject, detail string) error {
	if a.Deliveries.Audit == nil {
		return nil
	}
	return a.Deliveries.Audit.RecordAll(r.Context(), []audit.Entry{{Actor: by, Action: action, Subject: subject,
		Purpose: "partner administration", Detail: detail}})
}

func (a *API) listSubscriptions(w http.ResponseWriter, r *http.Request, _ string) error {
	subs, err := a.Deliveries.Store.Subscriptions(r.Context(), r.URL.Query().Get("partner"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"subscriptions": nonNil(subs)})
}

// subscribe subscribes the partner the body names, within that partner's
// policy: an administrator cannot give a partner events its policy
// withholds.
func (a *API) subscribe(w http.ResponseWriter, r *http.Request, by string) error {
	var in delivery.SubscribeInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if !delivery.ValidPartnerID(in.PartnerID) {
		return fault.List{delivery.ErrPartnerID.WithField("partner_id")}.Err()
	}
	p, err := a.Deliveries.Partners.Partner(r.Context(), in.PartnerID)
	if err != nil {
		return err
	}
	sub, err := a.Deliveries.Store.Subscribe(r.Context(), by, p.Policy, in)
	if err != nil {
		return err
	}
	if err := a.recordDelivery(r, by, "delivery.subscribe", "partner:"+sub.PartnerID, "subscription="+sub.ID+" mode="+sub.Mode+" types="+strings.Join(sub.Types, ",")); err != nil {
		return err
	}
	a.Log.Info("delivery subscription created", "code", "delivery.subscribed", "partner", sub.PartnerID, "subscription", sub.ID, "mode", sub.Mode)
	return jsonbody.Write(w, http.StatusCreated, sub)
}

func (a *API) unsubscribe(w http.ResponseWriter, r *http.Request, by string) error {
	id := r.PathValue("id")
	if err := a.Deliveries.Store.Unsubscribe(r.Context(), "", id); err != nil {
		return err
	}
	if err := a.recordDelivery(r, by, "delivery.unsubscribe", "subscription:"+id, ""); err != nil {
		return err
	}
	a.Log.Info("delivery subscription ended", "code", "delivery.unsubscribed", "subscription", id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) rotateSecret(w http.ResponseWriter, r *http.Request, by string) error {
	id := r.PathValue("id")
	secret, err := a.Deliveries.Store.RotateSecret(r.Context(), "", id)
	if err != nil {
		return err
	}
	if err := a.recordDelivery(r, by, "delivery.rotate_secret", "subscription:"+id, ""); err != nil {
		return err
	}
	a.Log.Info("delivery secret rotated", "code", "delivery.secret_rotated", "subscription", id)
	return jsonbody.Write(w, http.StatusOK, map[string]string{"id": id, "secret": secret})
}

func (a *API) deliveries(w http.ResponseWriter, r *http.Request, _ string) error {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	f := delivery.Filter{Partner: q.Get("partner"), Status: q.Get("status"), EventID: q.Get("event_id"), Limit: limit}
	ds, err := a.Deliveries.Store.Deliveries(r.Context(), f)
	if err != nil {
		return err
	}
	counts, err := a.Deliveries.Store.Counts(r.Context(), f.Partner)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"deliveries": nonNil(ds), "counts": counts})
}

// replayRequest names the dead letters to send again, of one partner or
// (no partner_id, with event ids) of any.
type replayRequest struct {
	PartnerID string   `json:"partner_id"`
	EventIDs  []string `json:"event_ids"`
	All       bool     `json:"all"`
}

func (a *API) replay(w http.ResponseWriter, r *http.Request, by string) error {
	var in replayRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	n, err := a.Deliveries.Store.Replay(r.Context(), in.PartnerID, in.EventIDs, in.All)
	if err != nil {
		return err
	}
	if err := a.recordDelivery(r, by, "delivery.replay", "partner:"+in.PartnerID, "requeued="+strconv.Itoa(n)); err != nil {
		return err
	}
	a.Log.Info("dead letters replayed", "code", "delivery.replayed", "partner", in.PartnerID, "deliveries", n, "by", by)
	if a.Deliveries.Notify != nil && in.PartnerID != "" {
		a.Deliveries.Notify([]string{in.PartnerID})
	}
	return jsonbody.Write(w, http.StatusOK, map[string]int{"requeued": n})
}

func (a *API) deliveryLog(w http.ResponseWriter, r *http.Request, _ string) error {
	q := r.URL.Query()
	partner := q.Get("partner")
	if partner == "" {
		return delivery.ErrPartnerID.WithField("partner")
	}
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	log, err := a.Deliveries.Store.Log(r.Context(), partner, before, limit)
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
