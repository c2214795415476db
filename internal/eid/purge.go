package eid

import (
	"context"
	"fmt"
	"time"
)

// Purge deletes enrolments past their lifetime and throttling counters whose
// window and block are over, and expired portal sessions. The composition root runs it periodically.
func (s *Service) Purge(ctx context.Context) error {
	now := s.now()
	if _, err := s.db.W.ExecContext(ctx, `DELETE FROM eid_enrolments WHERE expires_at < $1`, now.Add(-time.Hour).UTC().Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("purge enrolments: %w", err)
	}
	if err := s.throttle.Purge(ctx, now.Add(-s.policy.FailureWindow-s.policy.MaxBlock)); err != nil {
		return err
	}
	if _, err := s.db.W.ExecContext(ctx, `DELETE FROM eid_sessions WHERE expires_at < $1`, now.UTC().Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("purge sessions: %w", err)
	}
	if _, err := s.db.W.ExecContext(ctx, `DELETE FROM eid_webauthn_challenges WHERE expires_at < $1`, now.UTC().Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("purge passkey challenges: %w", err)
	}
	return nil
}
