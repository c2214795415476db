package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/problem"
)

// TestSignInThrottle: 30 wrong passwords in a row for one account get 401,
// then 429 with Retry-After, then 403 account_locked, the right password
// included; an unknown username gets exactly the same answers; an
// administrator's unlock opens the account again.
func TestSignInThrottle(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 0)
			signIn := func(user, password string) (int, string, string) {
				body, _ := json.Marshal(map[string]string{"username": user, "password": password})
				resp, err := http.Post(env.Server.URL+"/api/v1/sessions", "application/json", bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var p problem.Problem
				json.NewDecoder(resp.Body).Decode(&p)
				return resp.StatusCode, p.Code, resp.Header.Get("Retry-After")
			}
			// want is the answer to the n-th wrong password (from 1): four
			// failures, the fifth starts a block, refused attempts count
			// towards the lock at the twentieth.
			want := func(n int) (int, string) {
				switch {
				case n < 5:
					return http.StatusUnauthorized, "auth.bad_credentials"
				case n < 20:
					return http.StatusTooManyRequests, "auth.throttled"
				}
				return http.StatusForbidden, "auth.account_locked"
			}
			for _, user := range []string{"dangky.hanoi", "không.có.ai"} {
				for n := 1; n <= 30; n++ {
					status, code, retry := signIn(user, "sai mật khẩu "+strconv.Itoa(n))
					ws, wc := want(n)
					if status != ws || code != wc {
						t.Fatalf("%s, wrong password %d: %d %s, want %d %s", user, n, status, code, ws, wc)
					}
					secs, _ := strconv.Atoi(retry)
					if (status == http.StatusTooManyRequests) != (secs > 0) || secs > 3600 {
						t.Fatalf("%s, wrong password %d: %d with Retry-After %q", user, n, status, retry)
					}
				}
				// The right password is not even looked at.
				if status, code, _ := signIn(user, apptest.Password); status != http.StatusForbidden || code != "auth.account_locked" {
					t.Fatalf("%s, right password while locked: %d %s", user, status, code)
				}
			}
			// Another account from the same address is not locked.
			if status, _, _ := signIn("dangky.badinh", apptest.Password); status != http.StatusCreated {
				t.Fatalf("another account: %d", status)
			}
			if _, err := env.App.Staff.Unlock(context.Background(), actor.Actor{ID: "staff:admin", Role: actor.Admin}, "dangky.hanoi"); err != nil {
				t.Fatal(err)
			}
			if status, code, _ := signIn("dangky.hanoi", apptest.Password); status != http.StatusCreated {
				t.Fatalf("after the unlock: %d %s", status, code)
			}
		})
	}
}
