package registry

import (
	"context"

	"github.com/dancu-project/dancu/internal/actor"
)

// ReadUnaudited returns a person's record inside the actor's scope without
// writing to the audit log. It is for modules that audit the act themselves
// with their own action and detail (a partner's verification, an eKYC
// disclosure): the caller must record the entry before it discloses
// anything derived from the record, and must record it even when it
// discloses nothing.
func (s *Service) ReadUnaudited(ctx context.Context, a actor.Actor, pinText string) (Person, error) {
	return s.read(ctx, a, pinText)
}
