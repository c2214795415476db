package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/pin"
)

// personSubjects are the register's subjects a partner can subscribe to.
var personSubjects = []events.Subject[events.LifeEvent]{events.PersonBorn, events.PersonDied, events.PersonMoved, events.PersonNameChanged, events.PersonTemporary}

// FanoutConsumer and FanoutCardConsumer are the durable consumers turning
// life events and card events into deliveries. Durable, so events published
// while no node runs wait for them. Two consumers, because a consumer
// filters on one subject family (NATS 2.9) and the card's events are not
// the register's.
var (
	FanoutConsumer = events.Consumer{Name: "delivery-fanout", AckWait: 60 * time.Second,
		Handles: []events.Topic{events.PersonBorn, events.PersonDied, events.PersonMoved, events.PersonNameChanged, events.PersonTemporary}}
	FanoutCardConsumer = events.Consumer{Name: "delivery-fanout-cards", AckWait: 60 * time.Second, Handles: []events.Topic{events.CardIssued}}
)

// vietnam is the time zone of the dates partners receive (UTC+7, no DST).
var vietnam = time.FixedZone("ICT", 7*3600)

// Auditor records disclosures in the citizen's access log;
// (*audit.Log).RecordAll satisfies it.
type Auditor interface {
	RecordAll(ctx context.Context, es []audit.Entry) error
}

// Fanout reads life events and queues one delivery per (event, subscription)
// for the partners subscribed to the event's type and linked to the person;
// a birth or a death also reaches the partners subscribed to it whose
// policy has the operation subscribe.unit and a scope covering the
// person's unit (Reaches), linked or not: a newborn is linked to nobody yet.
type Fanout struct {
	Store    *Store
	Audience Audience // nil: nobody is linked, nothing is queued
	// Policies give each partner's current policy, which decides the
	// event types and fields it receives (ForPolicy); nil: no partner
	// receives anything.
	Policies Policies
	Audit    Auditor // nil: not audited (tests of the queue only)
	Log      *slog.Logger
	Metrics  *Metrics                // may be nil
	Notify   func(partners []string) // wakes the senders; may be nil
	Batch    int                     // messages per transaction; default 200
}

// Message is one event read from JetStream.
type Message = events.Msg

// event is a message read for the fan-out: the payload partners receive
// and the unit of the person's permanent residence, which is not sent but
// decides the reach of a birth or a death (Reaches).
type event struct {
	Payload
	province, commune string
}

// parseEvent reads a message into the payload partners receive. It returns
// false for a message that redelivery would not mend (unknown subject, bad
// JSON, no id, bad PIN).
func parseEvent(m Message) (event, bool) {
	typ, ok := Subjects[m.Subject]
	if !ok {
		return event{}, false
	}
	var province, commune string
	// The register's life-event id when there is one (it is also in the
	// registrar's audit entry and the person's event list), otherwise the
	// outbox's message id (card events). Both are stable across redelivery.
	var id, who, effective string
	var when time.Time
	if typ == TypeCardIssued {
		ev, ok := events.Decode(events.CardIssued, m)
		if !ok {
			return event{}, false
		}
		id, who, when = m.ID, ev.PIN, ev.At
	} else {
		var ev events.LifeEvent
		for _, s := range personSubjects {
			if ev, ok = events.Decode(s, m); ok {
				break
			}
		}
		if !ok {
			return event{}, false
		}
		id, who, when, effective = ev.EventID, ev.PIN, ev.Recorded, ev.Effective
		province, commune = ev.Province, ev.Commune
		if id == "" {
			id = m.ID
		}
	}
	if id == "" || len(id) > 128 {
		return event{}, false
	}
	p, err := pin.Parse(who)
	if err != nil {
		return event{}, false
	}
	if when.IsZero() {
		return event{}, false
	}
	out := Payload{ID: id, Type: typ, OccurredOn: when.In(vietnam).Format(time.DateOnly), PIN: p.String()}
	if typ == TypeDied {
		d, err := time.Parse(time.DateOnly, effective)
		if err != nil {
			return event{}, false
		}
		out.DateOfDeath = d.Format(time.DateOnly)
	}
	return event{Payload: out, province: province, commune: commune}, true
}

// Handle queues the deliveries of a batch of messages. It is idempotent: a
// message seen before queues nothing new and writes no second audit entry.
// An error means nothing may be acknowledged; a malformed message is counted
// and skipped, since redelivering it would not help.
func (f *Fanout) Handle(ctx context.Context, msgs []Message) error {
	targetsOf := map[string][]target{}
	var ds []Delivery
	var ids []string
	pins := map[string]string{} // event id → PIN, for the audit entries
	pols := &policies{src: f.Policies}
	for _, m := range msgs {
		ev, ok := parseEvent(m)
		if !ok {
			f.Log.Warn("life event malformed, skipped", "code", "delivery.event_malformed", "subject", m.Subject)
			f.Metrics.malformed()
			continue
		}
		p := ev.Payload
		ts, seen := targetsOf[p.Type]
		if !seen {
			var err error
			if ts, err = f.Store.targets(ctx, p.Type); err != nil {
				return err
			}
			targetsOf[p.Type] = ts
		}
		if len(ts) == 0 {
			continue
		}
		var linked []string
		if f.Audience != nil {
			var err error
			if linked, err = f.Audience.Linked(ctx, p.PIN); err != nil {
				return fmt.Errorf("partners linked to a person: %w", err)
			}
		}
		for _, t := range ts {
			pol, err := pols.of(ctx, t.partner)
			if err != nil {
				return err
			}
			if pol == nil {
				continue // no such partner any more, or disabled
			}
			isLinked := slices.Contains(linked, t.partner)
			if !isLinked && !Reaches(*pol, p.Type, ev.province, ev.commune) {
				continue
			}
			// What this partner may receive of the event, by its policy.
			out, ok := ForPolicy(*pol, p)
			if !ok {
				continue
			}
			if _, seen := pins[p.ID]; !seen {
				ids = append(ids, p.ID)
				pins[p.ID] = p.PIN
			}
			ds = append(ds, Delivery{EventID: p.ID, SubscriptionID: t.subscription, PartnerID: t.partner, Type: p.Type, body: encodePayload(out),
				fields: disclosedFields(out), byScope: !isLinked})
		}
	}
	if len(ds) == 0 {
		return nil
	}
	have, err := f.Store.existing(ctx, ids)
	if err != nil {
		return err
	}
	fresh := ds[:0:0]
	for _, d := range ds {
		if !have[key{d.EventID, d.SubscriptionID}] {
			fresh = append(fresh, d)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	// The disclosure is written to the citizen's access log ahead of the
	// queue: a delivery never exists without its entry.
	if f.Audit != nil {
		entries := make([]audit.Entry, len(fresh))
		for i, d := range fresh {
			detail := "event=" + d.EventID + " type=" + d.Type
			if len(d.fields) > 0 {
				detail += " fields=" + strings.Join(d.fields, ",")
			}
			purpose := "life-event subscription"
			if d.byScope {
				// Not linked: the policy's unit is why this partner is told.
				purpose = "life-event subscription (unit)"
			}
			entries[i] = audit.Entry{Actor: "partner:" + d.PartnerID, Action: "delivery.event", Subject: "person:" + pins[d.EventID],
				Purpose: purpose, Detail: detail}
		}
		if err := f.Audit.RecordAll(ctx, entries); err != nil {
			return fmt.Errorf("audit deliveries: %w", err)
		}
	}
	n, err := f.Store.enqueue(ctx, fresh)
	if err != nil {
		return err
	}
	f.Metrics.queued(n)
	if f.Notify != nil {
		var partners []string
		for _, d := range fresh {
			if !slices.Contains(partners, d.PartnerID) {
				partners = append(partners, d.PartnerID)
			}
		}
		f.Notify(partners)
	}
	return nil
}

// Start creates the durable consumers and reads from them until ctx ends.
// The returned channel closes when reading has stopped. A batch whose
// deliveries cannot be queued is tried again with events.Backoff.
func (f *Fanout) Start(ctx context.Context, bus *events.Bus) (<-chan struct{}, error) {
	batch := f.Batch
	if batch <= 0 {
		batch = 200
	}
	var dones []<-chan struct{}
	for _, c := range []events.Consumer{FanoutConsumer, FanoutCardConsumer} {
		c.Batch = batch
		done, err := events.Consume(ctx, bus, c, f.Log, f.Handle)
		if err != nil {
			return nil, fmt.Errorf("delivery fan-out: %w", err)
		}
		dones = append(dones, done)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, d := range dones {
			<-d
		}
	}()
	return done, nil
}
