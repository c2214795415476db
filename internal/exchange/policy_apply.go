package exchange

import (
	"slices"

	"github.com/dancu-project/dancu/internal/actor"
)

// This file exports the policy rules the exchange applies itself, so that
// the other paths a partner reaches people through (bulk reconciliation,
// life-event deliveries) apply the same rules rather than copies of them.

// DeclaredPurpose returns the purpose a partner names for a request:
// ErrPurposeRequired (422) when it names none, ErrPurpose (403) when its
// policy does not declare it. It is the check verify, lookup and sector
// identifiers make.
func (p Partner) DeclaredPurpose(code string) (Purpose, error) {
	return purpose(p, code)
}

// Reader is the partner as a register reader: a system actor scoped to
// its policy's unit. Its Covers is the partner's unit scope, the rule the
// register applies to the partner's reads.
func (p Partner) Reader() actor.Actor { return reader(p) }

// FieldsFor are the fields a disclosure for purpose pu may carry: the
// policy's fields, narrowed to the purpose's own list when it has one (as
// a lookup for that purpose is).
func (p Policy) FieldsFor(pu Purpose) []string {
	if len(pu.Fields) == 0 {
		return slices.Clone(p.Fields)
	}
	var out []string
	for _, f := range p.Fields {
		if slices.Contains(pu.Fields, f) {
			out = append(out, f)
		}
	}
	return out
}

// AllowsField reports whether the policy allows a field at all.
func (p Policy) AllowsField(name string) bool { return slices.Contains(p.Fields, name) }
