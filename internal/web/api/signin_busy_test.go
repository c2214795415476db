package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/problem"
)

// TestSignInBusy: a burst of concurrent staff sign-ins with the right
// password against the real server (150 per core: more than the gate's
// one slot per core clears in its one-second wait at ~37 ms a check) goes
// through the platform's password gate: each answer is a session (201) or
// 429 auth.busy with Retry-After, never an error of ours; some get through.
func TestSignInBusy(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 0)
			n := 150 * runtime.GOMAXPROCS(0)
			body, _ := json.Marshal(map[string]string{"username": "dangky.hanoi", "password": apptest.Password})
			type answer struct {
				status int
				code   string
				retry  string
			}
			answers := make([]answer, n)
			var wg sync.WaitGroup
			for i := range answers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := http.Post(env.Server.URL+"/api/v1/sessions", "application/json", bytes.NewReader(body))
					if err != nil {
						answers[i].status = -1
						return
					}
					defer resp.Body.Close()
					var p problem.Problem
					json.NewDecoder(resp.Body).Decode(&p)
					answers[i] = answer{resp.StatusCode, p.Code, resp.Header.Get("Retry-After")}
				}()
			}
			wg.Wait()
			ok, busy := 0, 0
			for _, a := range answers {
				switch a.status {
				case http.StatusCreated:
					ok++
				case http.StatusTooManyRequests:
					busy++
					if secs, _ := strconv.Atoi(a.retry); a.code != "auth.busy" || secs < 1 {
						t.Errorf("429 %s with Retry-After %q, want auth.busy and a wait", a.code, a.retry)
					}
				default:
					t.Errorf("sign-in answered %d %s", a.status, a.code)
				}
			}
			if ok == 0 || busy == 0 {
				t.Fatalf("%d signed in, %d busy: want both under a burst of %d", ok, busy, n)
			}
			t.Logf("%d concurrent staff sign-ins: %d signed in, %d refused 429 auth.busy", n, ok, busy)
		})
	}
}
