package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestStaffUnlock locks a staff account through the running server's API,
// lifts the lock with "dancu staff unlock" and sees the server accept the
// account's attempts again; an unknown username is an error.
func TestStaffUnlock(t *testing.T) {
	env := map[string]string{"DANCU_DATA": t.TempDir()}
	getenv := func(k string) string { return env[k] }
	base, _, stop := startServe(t, env, "--seed-persons", "0")
	defer stop()
	signIn := func(password string) int {
		resp, err := http.Post(base+"/api/v1/sessions", "application/json", strings.NewReader(`{"username":"dangky.hanoi","password":"`+password+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 20 {
		signIn("sai mật khẩu")
	}
	if got := signIn("sai mật khẩu"); got != http.StatusForbidden {
		t.Fatalf("after 21 wrong passwords: %d, want 403 locked", got)
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"staff", "unlock", "dangky.hanoi"}, getenv, &out, &errOut); err != nil || !strings.Contains(out.String(), "dangky.hanoi unlocked") {
		t.Fatalf("unlock: %v\n%s%s", err, out.String(), errOut.String())
	}
	// The password is looked at again (401 for a wrong one, not 403).
	if got := signIn("sai mật khẩu"); got != http.StatusUnauthorized {
		t.Fatalf("sign-in after the unlock: %d", got)
	}
	if err := run(context.Background(), []string{"staff", "unlock", "không.có.ai"}, getenv, &out, &errOut); err == nil {
		t.Fatal("an unknown username was unlocked")
	}
	if err := run(context.Background(), []string{"staff", "unlock"}, getenv, &out, &errOut); err == nil {
		t.Fatal("no username given, no error")
	}
}
