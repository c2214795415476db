package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
)

// Faults of an act's idempotency key.
var (
	ErrRequestKey = fault.New(fault.Invalid, "request.idempotency_key",
		"Khóa chống gửi trùng (Idempotency-Key) phải dài 8–64 ký tự, chỉ gồm chữ, số, '-', '_' hoặc '.'.",
		"The Idempotency-Key must be 8–64 letters, digits, '-', '_' or '.'.")
	ErrRequestReused = fault.New(fault.Conflict, "request.idempotency_reused",
		"Khóa chống gửi trùng này đã được dùng cho một yêu cầu khác.",
		"This Idempotency-Key was used for another request.")
)

// RequestKeyTTL is how long an act's idempotency key is remembered: a client
// retries within minutes, and a day covers a desk that reconnects tomorrow
// morning.
const RequestKeyTTL = 24 * time.Hour

// request is the idempotency key an act's context carries; recordEvent
// writes it with the act's first event, in the act's transaction.
type request struct {
	actor, key, hash string
	tx               *sql.Tx // the transaction that wrote it, so a retried transaction writes it again
}

type requestCtx struct{}

// WithRequest makes the act run under ctx record its idempotency key: the
// actor's key and a hash of the request, so that the same key with another
// request is refused rather than answered with the wrong person.
func WithRequest(ctx context.Context, actorID, key, hash string) context.Context {
	return context.WithValue(ctx, requestCtx{}, &request{actor: actorID, key: key, hash: hash})
}

// Replayed returns the PIN of the person the act recorded under the actor's
// key, if one committed; a key recorded for another request is
// ErrRequestReused.
func (s *Service) Replayed(ctx context.Context, actorID, key, hash string) (string, bool, error) {
	var pin, h string
	err := s.db.W.QueryRowContext(ctx, `SELECT pin, request_hash FROM register_requests WHERE actor_id = $1 AND idem_key = $2`, actorID, key).Scan(&pin, &h)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("read request key: %w", err)
	case h != hash:
		return "", false, ErrRequestReused
	}
	return pin, true, nil
}

// recordRequest writes ctx's idempotency key, if any, once per transaction.
func recordRequest(ctx context.Context, tx *sql.Tx, pin string, now time.Time) error {
	r, ok := ctx.Value(requestCtx{}).(*request)
	if !ok || r.tx == tx {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO register_requests (actor_id, idem_key, request_hash, pin, created_at) VALUES ($1, $2, $3, $4, $5)`,
		r.actor, r.key, r.hash, pin, now.UTC().Format(time.RFC3339Nano)); err != nil {
		if storage.IsUniqueViolation(err) {
			// A concurrent request with the same key committed first: this
			// one rolls back and the caller answers with what that one made.
			return errRequestRace
		}
		return fmt.Errorf("record request key: %w", err)
	}
	r.tx = tx
	return nil
}

// errRequestRace is returned by an act that lost the race for its key.
var errRequestRace = fault.New(fault.Conflict, "request.in_progress",
	"Yêu cầu cùng khóa chống gửi trùng đang được xử lý; hãy thử lại sau giây lát.",
	"A request with the same Idempotency-Key is being processed; try again in a moment.")

// IsRequestRace reports whether err is an act that lost the race for its
// idempotency key to a concurrent request that committed.
func IsRequestRace(err error) bool { return errors.Is(err, errRequestRace) }

// PurgeRequests forgets idempotency keys older than RequestKeyTTL.
func (s *Service) PurgeRequests(ctx context.Context) (int64, error) {
	cut := s.now().Add(-RequestKeyTTL).UTC().Format(time.RFC3339Nano)
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM register_requests WHERE created_at < $1`, cut)
	if err != nil {
		return 0, fmt.Errorf("purge request keys: %w", err)
	}
	return res.RowsAffected()
}
