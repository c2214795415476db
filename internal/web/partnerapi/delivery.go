package partnerapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/delivery"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
)

// A partner manages its own life-event subscriptions and reads its own
// delivery queue and log here, behind the authentication, policy check,
// rate limit and daily quota of every partner route (handler); the
// subscriptions, the queue and what a delivery carries are the delivery
// package's.

// Deliveries are the delivery module's parts the routes use.
type Deliveries struct {
	Store *delivery.Store
	// Notify wakes the senders after a replay ((*delivery.Sender).Notify);
	// may be nil.
	Notify func(partners []string)
	// Audit records subscription changes and replays (*audit.Log); may
	// be nil.
	Audit interface {
		RecordAll(ctx context.Context, es []audit.Entry) error
	}
}

func (a *API) deliveryRoutes() []Route {
	return []Route{
		{"GET", Prefix + "/subscriptions", exchange.OpSubscribe, a.listSubscriptions},
		{"POST", Prefix + "/subscriptions", exchange.OpSubscribe, a.subscribe},
		{"DELETE", Prefix + "/subscriptions/{id}", exchange.OpSubscribe, a.unsubscribe},
		{"POST", Prefix + "/subscriptions/{id}/secret", exchange.OpSubscribe, a.rotateSecret},
		{"GET", Prefix + "/deliveries", exchange.OpSubscribe, a.deliveries},
		{"POST", Prefix + "/deliveries/replay", exchange.OpSubscribe, a.replay},
		{"GET", Prefix + "/delivery-log", exchange.OpSubscribe, a.deliveryLog},
	}
}

// recordDelivery writes the partner's own act on its subscriptions to the
// audit chain. Subjects are partners and subscriptions, never people.
func (a *API) recordDelivery(r *http.Request, p exchange.Partner, action, subject, detail string) error {
	if a.Deliveries.Audit == nil {
		return nil
	}
	return a.Deliveries.Audit.RecordAll(r.Context(), []audit.Entry{{Actor: p.Actor(), Action: action, Subject: subject,
		Purpose: "partner administration", Detail: detail}})
}

func (a *API) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	p, _ := PartnerFrom(r.Context())
	subs, err := a.Deliveries.Store.Subscriptions(r.Context(), p.ID)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"subscriptions": nonNil(subs)})
}

// subscribe subscribes the calling partner, whatever partner_id the body
// names, to event types its policy allows (delivery.Store.Subscribe).
func (a *API) subscribe(w http.ResponseWriter, r *http.Request) error {
	var in delivery.SubscribeInput
	if err := Decode(w, r, &in, maxBody); err != nil {
		return err
	}
	p, _ := PartnerFrom(r.Context())
	in.PartnerID = p.ID
	sub, err := a.Deliveries.Store.Subscribe(r.Context(), p.Actor(), p.Policy, in)
	if err != nil {
		return err
	}
	if err := a.recordDelivery(r, p, "delivery.subscribe", "partner:"+p.ID, "subscription="+sub.ID+" mode="+sub.Mode+" types="+strings.Join(sub.Types, ",")); err != nil {
		return err
	}
	a.Log.Info("delivery subscription created", "code", "delivery.subscribed", "partner", p.ID, "subscription", sub.ID, "mode", sub.Mode)
	return jsonbody.Write(w, http.StatusCreated, sub)
}

func (a *API) unsubscribe(w http.ResponseWriter, r *http.Request) error {
	p, _ := PartnerFrom(r.Context())
	id := r.PathValue("id")
	if err := a.Deliveries.Store.Unsubscribe(r.Context(), p.ID, id); err != nil {
		return err
	}
	if err := a.recordDelivery(r, p, "delivery.unsubscribe", "subscription:"+id, ""); err != nil {
		return err
	}
	a.Log.Info("delivery subscription ended", "code", "delivery.unsubscribed", "subscription", id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) rotateSecret(w http.ResponseWriter, r *http.Request) error {
	p, _ := PartnerFrom(r.Context())
	id := r.PathValue("id")
	secret, err := a.Deliveries.Store.RotateSecret(r.Context(), p.ID, id)
	if err != nil {
		return err
	}
	if err := a.recordDelivery(r, p, "delivery.rotate_secret", "subscription:"+id, ""); err != nil {
		return err
	}
	a.Log.Info("delivery secret rotated", "code", "delivery.secret_rotated", "subscription", id)
	return jsonbody.Write(w, http.StatusOK, map[string]string{"id": id, "secret": secret})
}

func (a *API) deliveries(w http.ResponseWriter, r *http.Request) error {
	p, _ := PartnerFrom(r.Context())
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	f := delivery.Filter{Partner: p.ID, Status: q.Get("status"), EventID: q.Get("event_id"), Limit: limit}
	ds, err := a.Deliveries.Store.Deliveries(r.Context(), f)
	if err != nil {
		return err
	}
	counts, err := a.Deliveries.Store.Counts(r.Context(), p.ID)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"deliveries": nonNil(ds), "counts": counts})
}

// ReplayRequest names the dead letters to send again; partner_id, when
// given, is ignored: a partner replays its own.
type ReplayRequest struct {
	PartnerID string   `json:"partner_id"`
	EventIDs  []string `json:"event_ids"`
	All       bool     `json:"all"`
}

func (a *API) replay(w http.ResponseWriter, r *http.Request) error {
	var in ReplayRequest
	if err := Decode(w, r, &in, maxBody); err != nil {
		return err
	}
	p, _ := PartnerFrom(r.Context())
	n, err := a.Deliveries.Store.Replay(r.Context(), p.ID, in.EventIDs, in.All)
	if err != nil {
		return err
	}
	if err := a.recordDelivery(r, p, "delivery.replay", "partner:"+p.ID, "requeued="+strconv.Itoa(n)); err != nil {
		return err
	}
	a.Log.Info("dead letters replayed", "code", "delivery.replayed", "partner", p.ID, "deliveries", n, "by", p.Actor())
	if a.Deliveries.Notify != nil {
		a.Deliveries.Notify([]string{p.ID})
	}
	return jsonbody.Write(w, http.StatusOK, map[string]int{"requeued": n})
}

func (a *API) deliveryLog(w http.ResponseWriter, r *http.Request) error {
	p, _ := PartnerFrom(r.Context())
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	log, err := a.Deliveries.Store.Log(r.Context(), p.ID, before, limit)
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
