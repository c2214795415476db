package eid

import (
	"context"

	"github.com/dancu-project/dancu/internal/staff"
)

// Passwords use the staff module's argon2id parameters and encoding, so one
// place decides how the platform hashes passwords.
func hashPassword(p string) (string, error) { return staff.HashPassword(p) }

// checkPassword checks p against hash in a slot of the password gate
// (throttle.Gate): a refusal (429 auth.busy) when the server is saturated.
func (s *Service) checkPassword(ctx context.Context, hash, p string) (bool, error) {
	ok := false
	err := s.gate.Do(ctx, func() {
		good, err := staff.CheckPassword(hash, p)
		ok = err == nil && good
	})
	return ok, err
}
