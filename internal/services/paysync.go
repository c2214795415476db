package services

import (
	"context"
	"fmt"
)

// SyncPayments moves the dossiers whose fee the payment module has
// received to received, as a read of each would (syncPayment), so that a
// paid dossier's clock starts and its filer is told even when nobody looks
// at it. A leased job runs it every minute; it returns how many moved. A
// dossier that fails is left for the next run.
func (s *Service) SyncPayments(ctx context.Context) (int, error) {
	if s.d.Payments == nil {
		return 0, nil
	}
	ds, err := s.list(ctx, `WHERE status = $1 ORDER BY submitted_at LIMIT 500`, string(AwaitingPayment))
	if err != nil {
		return 0, fmt.Errorf("services: payments to sync: %w", err)
	}
	n := 0
	var first error
	for _, d := range ds {
		got, err := s.syncPayment(ctx, d)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		if got.Status != AwaitingPayment {
			n++
		}
	}
	return n, first
}
