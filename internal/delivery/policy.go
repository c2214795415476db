package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
)

// Policies gives a partner with its current policy (*exchange.Store).
type Policies interface {
	Partner(ctx context.Context, id string) (exchange.Partner, error)
}

// typeField is the register field an event of each type tells a partner
// about: a death tells the person's status, a move their permanent
// address, and so on. A card produced tells about no field of the
// catalogue: the subscription operation is enough.
var typeField = map[string]string{
	TypeBorn:        "birth_date",
	TypeDied:        "status",
	TypeMoved:       "permanent_address",
	TypeNameChanged: "full_name",
	TypeTemporary:   "temporary_address",
	TypeCardIssued:  "",
}

// ErrTypeNotAllowed refuses a subscription to an event type the partner's
// policy does not allow (it tells about a field the policy withholds).
var ErrTypeNotAllowed = fault.New(fault.Forbidden, "policy.event_type_not_allowed",
	"Chính sách của đối tác không cho phép nhận loại sự kiện này.",
	"The partner's policy does not allow this event type.")

// TypeAllowed reports whether a policy lets its partner receive events of
// a type: subscriptions allowed, and the field the event tells about.
func TypeAllowed(pol exchange.Policy, typ string) bool {
	f, known := typeField[typ]
	return known && pol.Allows(exchange.OpSubscribe) && (f == "" || pol.AllowsField(f))
}

// AllowedTypes are the event types a policy lets its partner receive.
func AllowedTypes(pol exchange.Policy) []string {
	var out []string
	for _, t := range Types {
		if TypeAllowed(pol, t) {
			out = append(out, t)
		}
	}
	return out
}

// checkTypes refuses the first known type of a subscription the policy
// does not allow (unknown types are the validation's to refuse).
func checkTypes(pol exchange.Policy, types []string) error {
	if !pol.Allows(exchange.OpSubscribe) {
		return exchange.ErrOperation
	}
	for _, t := range types {
		t = strings.TrimSpace(t) // as the validation reads it
		if _, known := typeField[t]; known && !TypeAllowed(pol, t) {
			e := *ErrTypeNotAllowed
			e.Message += " (" + t + ")"
			e.English += " (" + t + ")"
			return &e
		}
	}
	return nil
}

// ForPolicy is the one filter of what a partner receives: the event as
// its policy allows it — no date of death without the field
// "death_date" — or false when the policy does not allow the event at all.
// The fan-out applies it to every delivery with the partner's current
// policy, so a subscription made before the policy narrowed, or by an
// administrator, carries no more than the policy allows.
func ForPolicy(pol exchange.Policy, p Payload) (Payload, bool) {
	if !TypeAllowed(pol, p.Type) {
		return Payload{}, false
	}
	if !pol.AllowsField("death_date") {
		p.DateOfDeath = ""
	}
	return p, true
}

// Reaches is the one rule of who hears of a person they are not linked
// to: a birth or a death reaches a partner whose policy allows the event
// type (TypeAllowed) and the operation subscribe.unit, and whose scope —
// the whole country, a province or a commune — covers the unit of the
// person's permanent residence. A newborn is linked to no partner yet, and
// the agencies that act on births and deaths (social insurance, labour and
// social affairs, a province's health service) serve a unit rather than a
// list of customers; a bank's policy, without the operation, keeps to the
// people it is linked with. Other event types reach linked partners only.
func Reaches(pol exchange.Policy, typ, province, commune string) bool {
	if typ != TypeBorn && typ != TypeDied {
		return false
	}
	if !pol.Allows(exchange.OpSubscribeUnit) || !TypeAllowed(pol, typ) {
		return false
	}
	// The scope's rule is the actors': a unit code of an unknown length
	// reaches nobody rather than everybody.
	return actor.Actor{Unit: pol.Scope}.Covers(province, commune)
}

// disclosedFields names the register fields a payload discloses, for the
// citizen's access log.
func disclosedFields(p Payload) []string {
	var out []string
	if f := typeField[p.Type]; f != "" {
		out = append(out, f)
	}
	if p.DateOfDeath != "" && !slices.Contains(out, "death_date") {
		out = append(out, "death_date")
	}
	return out
}

// policies caches partners' policies for one batch of events.
type policies struct {
	src  Policies
	seen map[string]*exchange.Policy // nil: no such partner, or disabled
}

func (c *policies) of(ctx context.Context, partner string) (*exchange.Policy, error) {
	if pol, ok := c.seen[partner]; ok {
		return pol, nil
	}
	if c.seen == nil {
		c.seen = map[string]*exchange.Policy{}
	}
	var pol *exchange.Policy
	if c.src != nil {
		p, err := c.src.Partner(ctx, partner)
		switch {
		case err == nil && !p.Disabled:
			pol = &p.Policy
		case err != nil && !errors.Is(err, exchange.ErrPartnerNotFound):
			return nil, fmt.Errorf("partner policy: %w", err)
		}
	}
	c.seen[partner] = pol
	return pol, nil
}
