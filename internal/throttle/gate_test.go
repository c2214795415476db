package throttle

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestGateSize(t *testing.T) {
	for _, c := range []struct {
		name  string
		procs int
		limit int64
		want  int
	}{
		{"one per core", 2, math.MaxInt64, 2},
		{"no limit set", 8, math.MaxInt64, 8},
		{"memory caps it: a quarter of 200 MiB holds 2 checks", 8, 200 << 20, 2},
		{"never below one", 4, 10 << 20, 1},
		{"no cores reported", 0, math.MaxInt64, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := GateSize(c.procs, c.limit); got != c.want {
				t.Fatalf("GateSize(%d, %d) = %d, want %d", c.procs, c.limit, got, c.want)
			}
		})
	}
}

// TestGateBoundsAndRefuses: never more checks at once than slots; a check
// that finds every slot taken for the wait is refused with ErrBusy and a
// Retry-After, without running.
func TestGateBoundsAndRefuses(t *testing.T) {
	g := NewGate(2, 50*time.Millisecond)
	release := make(chan struct{})
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.Do(context.Background(), func() {
				n := running.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				<-release
				running.Add(-1)
			})
		}()
	}
	for running.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	ran := false
	err := g.Do(context.Background(), func() { ran = true })
	if !errors.Is(err, ErrBusy) || ran {
		t.Fatalf("third check with both slots held: err %v, ran %v; want ErrBusy, not run", err, ran)
	}
	if d, ok := RetryAfter(err); !ok || d < time.Second {
		t.Fatalf("RetryAfter = %v, %v; want at least 1s", d, ok)
	}
	close(release)
	wg.Wait()
	if peak.Load() != 2 {
		t.Fatalf("peak concurrency %d, want 2", peak.Load())
	}
	// A slot that frees within the wait is taken.
	if err := g.Do(context.Background(), func() { ran = true }); err != nil || !ran {
		t.Fatalf("free gate: err %v, ran %v", err, ran)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	hold := make(chan struct{})
	go g.Do(context.Background(), func() { <-hold })
	go g.Do(context.Background(), func() { <-hold })
	for len(g.slots) < 2 {
		time.Sleep(time.Millisecond)
	}
	if err := g.Do(ctx, func() {}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
	close(hold)
}
