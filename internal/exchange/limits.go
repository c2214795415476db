package exchange

import (
	"errors"
	"time"

	"github.com/dancu-project/dancu/internal/fault"
)

// limitError is a refusal the partner may retry after a wait.
type limitError struct {
	f    *fault.Error
	wait time.Duration
}

func (e *limitError) Error() string { return e.f.Error() }
func (e *limitError) Unwrap() error { return e.f }

// RetryAfter returns how long a partner refused by its rate limit or quota
// should wait before retrying.
func RetryAfter(err error) (time.Duration, bool) {
	var le *limitError
	if errors.As(err, &le) {
		return le.wait, true
	}
	return 0, false
}
