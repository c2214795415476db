package oidcop_test

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/throttle"
)

// peakRSS is the process's peak resident set (VmHWM) in MiB, 0 where
// /proc is not there.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// TestSignInBurst fires a burst of concurrent password sign-ins (1,000;
// 100 with -short; DANCU_BURST sets it) at the provider's sign-in form,
// each on its own authorization request, through the password gate sized
// as in production (one slot per core). Every answer is a sign-in or a
// 429 auth.busy page with Retry-After — no failure of ours — and the
// process's peak RSS, the throughput and the share of 429s are logged.
// DANCU_BURST_UNBOUNDED=1 runs it with a gate as wide as the burst, for
// comparison.
func TestSignInBurst(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 100
	}
	if v, err := strconv.Atoi(os.Getenv("DANCU_BURST")); err == nil && v > 0 {
		n = v
	}
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		gate := throttle.NewGate(0, 0)
		if os.Getenv("DANCU_BURST_UNBOUNDED") == "1" {
			gate = throttle.NewGate(n, time.Minute)
		}
		e := startWith(t, db, gate)
		r := e.rp(t, "app")
		// One authorization request and browser per sign-in, prepared
		// before the burst.
		type attempt struct {
			b          *http.Client
			id, csrf   string
			status     int
			retryAfter string
			body       string
		}
		as := make([]*attempt, n)
		for i := range as {
			b := browser(t)
			resp, err := b.Get(r.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			if err != nil {
				t.Fatal(err)
			}
			o := read(t, resp)
			id, csrf := idRE.FindStringSubmatch(o.body), csrfRE.FindStringSubmatch(o.body)
			if id == nil || csrf == nil {
				t.Fatalf("no sign-in form: %d", o.status)
			}
			as[i] = &attempt{b: b, id: id[1], csrf: csrf[1]}
		}
		runtime.GC()
		before := peakRSS()
		start := time.Now()
		var wg sync.WaitGroup
		for i, a := range as {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pin := pinL1
				if i%2 == 1 {
					pin = pinL2 // the level-2 citizen signs in at level 1 too
				}
				resp, err := a.b.PostForm(e.issuer+"/login", url.Values{"authRequestID": {a.id}, "csrf": {a.csrf}, "pin": {pin}, "password": {password}})
				if err != nil {
					a.status = -1
					a.body = err.Error()
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				a.status, a.retryAfter, a.body = resp.StatusCode, resp.Header.Get("Retry-After"), string(body)
				if resp.Header.Get("Location") != "" && strings.HasPrefix(resp.Header.Get("Location"), redirect) {
					a.status = http.StatusFound
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		peak := peakRSS()
		ok, busy := 0, 0
		for _, a := range as {
			switch a.status {
			case http.StatusFound:
				ok++
			case http.StatusTooManyRequests:
				busy++
				if a.retryAfter == "" || !strings.Contains(a.body, "nhiều người đăng nhập") {
					t.Errorf("429 without Retry-After or without the busy message (Retry-After %q)", a.retryAfter)
				}
			default:
				t.Errorf("sign-in answered %d:\n%.300s", a.status, a.body)
			}
		}
		if ok == 0 {
			t.Fatal("no sign-in got through")
		}
		t.Logf("burst of %d sign-ins, gate %d slots, GOMAXPROCS %d: %d signed in, %d refused 429 (%.0f%%) in %v; %.1f sign-ins/s; peak RSS %.0f MiB (%.0f MiB before the burst)",
			n, gate.Size(), runtime.GOMAXPROCS(0), ok, busy, 100*float64(busy)/float64(n), elapsed.Round(time.Millisecond), float64(ok)/elapsed.Seconds(), peak, before)
	})
}
