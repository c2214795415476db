package reconcile

import (
	"context"

	"github.com/dancu-project/dancu/internal/match"
)

// PersonLookup finds a person in memory by PIN (*match.Index).
type PersonLookup interface {
	Lookup(pin string) (match.Person, bool)
}

// IndexPlaces locates candidates with the matching index, which already
// holds every person's unit: routing a review discloses nothing, so it
// needs no register read.
type IndexPlaces struct{ Index PersonLookup }

// Places returns the permanent residence unit of each PIN found.
func (p IndexPlaces) Places(_ context.Context, pins []string) (map[string][]Place, error) {
	out := make(map[string][]Place, len(pins))
	for _, pin := range pins {
		if per, ok := p.Index.Lookup(pin); ok {
			out[pin] = []Place{{Province: per.ProvinceCode, Commune: per.CommuneCode}}
		}
	}
	return out, nil
}
