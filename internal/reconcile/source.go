package reconcile

import (
	"context"
	"sync"
	"time"

	"github.com/dancu-project/dancu/internal/match"
)

// IndexSource is the matcher and locator of a running platform: it loads
// the matching index when a job first needs it and reloads it once it is
// older than MaxAge, between batches, so long-running nodes see births,
// deaths and moves. Nodes that never reconcile never hold the index.
type IndexSource struct {
	Load   func(ctx context.Context) (*match.Index, error)
	MaxAge time.Duration
	Now    func() time.Time

	mu sync.Mutex
	ix *match.Index
	at time.Time
}

func (s *IndexSource) index(ctx context.Context) (*match.Index, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if s.ix != nil && now().Sub(s.at) < s.MaxAge {
		return s.ix, nil
	}
	ix, err := s.Load(ctx)
	if err != nil {
		return nil, err
	}
	s.ix, s.at = ix, now()
	return ix, nil
}

// Match matches with the current index.
func (s *IndexSource) Match(ctx context.Context, recs []match.Record) ([]match.Result, error) {
	ix, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	return ix.Match(ctx, recs)
}

// Places locates PINs with the current index.
func (s *IndexSource) Places(ctx context.Context, pins []string) (map[string][]Place, error) {
	ix, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	return IndexPlaces{Index: ix}.Places(ctx, pins)
}
