package main

import (
	"bytes"
	"context"
	"encoding/json"
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

// TestStaffCommands: the operator adds a desk officer with "dancu staff
// add" (temporary password printed once), the officer signs in through
// the running server and must change the password first (403
// staff.password_change_required); list shows the account, disable
// shuts it out, enable lets it in, reset gives a new temporary password;
// bad input is a clear error naming the field.
func TestStaffCommands(t *testing.T) {
	env := map[string]string{"DANCU_DATA": t.TempDir()}
	getenv := func(k string) string { return env[k] }
	base, _, stop := startServe(t, env, "--seed-persons", "0")
	defer stop()
	cmd := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"staff"}, args...), getenv, &out, &errOut)
		return out.String(), err
	}
	signIn := func(password string) (int, string) {
		resp, err := http.Post(base+"/api/v1/sessions", "application/json", strings.NewReader(`{"username":"motcua.badinh","password":"`+password+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Token string `json:"token"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Token
	}
	temporary := func(out string) string {
		_, after, ok := strings.Cut(out, "temporary password: ")
		if !ok {
			t.Fatalf("no temporary password in %q", out)
		}
		return strings.Fields(after)[0]
	}

	out, err := cmd("add", "--username", "motcua.badinh", "--name", "Trần Thị Bình", "--role", "desk", "--unit", "00004")
	if err != nil {
		t.Fatalf("add: %v", err)
	}
	pw := temporary(out)
	st, tok := signIn(pw)
	if st != http.StatusCreated {
		t.Fatalf("officer signs in: %d", st)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/persons?q=a", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Header.Get("Link"), "/api/v1/sessions/password") {
		t.Errorf("before the change: %d %q", resp.StatusCode, resp.Header.Get("Link"))
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "--username", "motcua.badinh", "--name", "Trần Thị Bình", "--role", "desk", "--unit", "00004"}, "username is taken"},
		{[]string{"add", "--username", "x", "--name", "Trần", "--role", "root", "--unit", "99999"}, "username: A username has"},
		{[]string{"add", "--username", "dangky.x", "--name", "Trần", "--role", "registrar"}, "unit: Unknown unit"},
		{[]string{"disable", "khong.co.ai"}, "not changed"},
		{[]string{"reset"}, "usage"},
		{[]string{"frobnicate"}, "usage"},
	} {
		if _, err := cmd(bad.args...); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("staff %v: %v, want %q", bad.args, err, bad.want)
		}
	}

	out, err = cmd("list")
	if err != nil || !strings.Contains(out, "motcua.badinh") || !strings.Contains(out, "quantri.hanoi") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "motcua.badinh") && (!strings.Contains(line, "desk") || !strings.Contains(line, "password change pending") || strings.Contains(line, "never")) {
			t.Errorf("list line: %q", line)
		}
	}
	if _, err := cmd("disable", "motcua.badinh"); err != nil {
		t.Fatal(err)
	}
	if st, _ := signIn(pw); st != http.StatusUnauthorized {
		t.Errorf("disabled officer signs in: %d", st)
	}
	if _, err := cmd("enable", "motcua.badinh"); err != nil {
		t.Fatal(err)
	}
	if st, _ := signIn(pw); st != http.StatusCreated {
		t.Errorf("enabled officer signs in: %d", st)
	}
	out, err = cmd("reset", "motcua.badinh")
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := signIn(pw); st != http.StatusUnauthorized {
		t.Errorf("old temporary password after the reset: %d", st)
	}
	if st, _ := signIn(temporary(out)); st != http.StatusCreated {
		t.Errorf("new temporary password: %d", st)
	}
}
