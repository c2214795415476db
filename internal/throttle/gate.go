package throttle

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/dancu-project/dancu/internal/fault"
)

// ErrBusy refuses a sign-in because every password check slot stayed taken
// for the gate's wait: the server is saturated, not the account throttled.
// It reaches the caller as a Refusal, so the sign-in pages and APIs that set
// Retry-After for a block set it for this too (429 auth.busy).
var ErrBusy = fault.New(fault.Limited, "auth.busy",
	"Hệ thống đang có nhiều người đăng nhập. Vui lòng thử lại sau giây lát.",
	"Too many sign-ins at once. Please try again in a moment.")

// Gate bounds how many password checks run at once. An argon2id check with
// the platform's parameters holds 19 MiB and one core for 20–30 ms, so an
// unbounded burst of 1,000 sign-ins would ask for 19 GiB at once and finish
// none of them sooner: more checks than cores only queue in the scheduler,
// each holding its memory. Past the gate a check waits at most Wait for a
// slot and is then refused with ErrBusy.
//
// One Gate is shared by every password check of a process (citizens' and
// staff's): the composition root makes it and passes it to both.
type Gate struct {
	slots chan struct{}
	wait  time.Duration
	retry time.Duration
}

// Gate sizing defaults.
const (
	// CheckMemory is what one argon2id check holds (m = 19 MiB, plus its
	// block headers), for sizing from a memory limit.
	CheckMemory = 20 << 20
	// DefaultGateWait is how long a check waits for a slot: long enough
	// to smooth a burst over a few dozen checks per core, short enough
	// that a saturated server answers quickly.
	DefaultGateWait = time.Second
)

// GateSize is how many checks may run at once: one per usable core
// (GOMAXPROCS), because argon2id with one lane is single-threaded and more
// would only wait for a core while holding memory; and when a memory limit
// is set (GOMEMLIMIT, memLimit < MaxInt64), no more than a quarter of it
// spent on checks. At least one.
func GateSize(procs int, memLimit int64) int {
	n := max(procs, 1)
	if memLimit > 0 && memLimit < math.MaxInt64 {
		n = min(n, int(memLimit/4/CheckMemory))
	}
	return max(n, 1)
}

// NewGate returns a gate of n slots whose checks wait at most wait (0:
// DefaultGateWait). n ≤ 0 sizes it from this process: GateSize of
// GOMAXPROCS and the Go memory limit.
func NewGate(n int, wait time.Duration) *Gate {
	if n <= 0 {
		n = GateSize(runtime.GOMAXPROCS(0), debug.SetMemoryLimit(-1))
	}
	if wait <= 0 {
		wait = DefaultGateWait
	}
	return &Gate{slots: make(chan struct{}, n), wait: wait, retry: max(time.Second, wait)}
}

// Size is the number of slots.
func (g *Gate) Size() int { return cap(g.slots) }

// Do runs check in a slot. When no slot frees within the wait it returns a
// Refusal of ErrBusy carrying the wait for Retry-After, without running
// check; a cancelled context returns its error.
func (g *Gate) Do(ctx context.Context, check func()) error {
	select {
	case g.slots <- struct{}{}:
	default:
		t := time.NewTimer(g.wait)
		defer t.Stop()
		select {
		case g.slots <- struct{}{}:
		case <-t.C:
			return &Refusal{Err: ErrBusy, Wait: g.retry}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() { <-g.slots }()
	check()
	return nil
}
