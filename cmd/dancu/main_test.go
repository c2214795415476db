package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/storage"
)

// startServe runs "dancu serve" in the background and returns its URL once it
// printed it, and a function that stops it and returns run's error.
func startServe(t *testing.T, env map[string]string, args ...string) (string, *bytes.Buffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var out bytes.Buffer
	stderr := &bytes.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), func(k string) string { return env[k] }, pw, stderr)
		pw.Close()
	}()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				cancel()
				t.Fatalf("serve exited early: %v\n%s", <-done, stderr)
			}
			if url, found := strings.CutPrefix(l, "dancu is running at "); found {
				go func() {
					for range lines {
					}
				}()
				return url, &out, func() error { cancel(); return <-done }
			}
		case <-timeout:
			cancel()
			t.Fatalf("serve did not start:\n%s", stderr)
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeSeedsOnceAndShutsDownGracefully(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DANCU_DATA": dir, "DANCU_BOOTSTRAP_PASSWORD": "mật-khẩu-khởi-tạo"}
	url, out, stop := startServe(t, env, "--seed-persons", "300")
	// The credentials are in a 0600 file whose path is printed; the
	// password itself is neither printed nor logged.
	credFile := filepath.Join(dir, "first-start-credentials.txt")
	if !strings.Contains(out.String(), credFile) || strings.Contains(out.String(), "mật-khẩu-khởi-tạo") {
		t.Fatalf("first start does not point to the credentials file, or prints the password:\n%s", out)
	}
	creds := readCredentials(t, credFile)
	if !strings.Contains(creds, "dangky.hanoi") || !strings.Contains(creds, "password: mật-khẩu-khởi-tạo") || !strings.Contains(creds, "TOTP secret: ") {
		t.Fatalf("credentials file:\n%s", creds)
	}
	if st, body := get(t, url+"/readyz"); st != 200 || body != "ready\n" {
		t.Fatalf("readyz: %d %q", st, body)
	}
	if st, _ := get(t, url+"/healthz"); st != 200 {
		t.Fatalf("healthz: %d", st)
	}
	// The OpenID provider is mounted, with the listener's address as issuer.
	if st, body := get(t, url+"/oidc/.well-known/openid-configuration"); st != 200 || !strings.Contains(body, `"issuer":"`+url+`/oidc"`) {
		t.Fatalf("discovery: %d %.300s", st, body)
	}
	get(t, url+"/api/v1/units/provinces")
	if st, body := get(t, url+"/metrics"); st != 200 || !strings.Contains(body, `dancu_http_requests_total{code="200",method="GET",route="GET /api/v1/units/provinces"}`) {
		t.Fatalf("metrics: %d\n%.2000s", st, body)
	}
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	persons := countPersons(t, filepath.Join(dir, "dancu.db"))
	if persons != 300 {
		t.Fatalf("%d persons seeded, want 300", persons)
	}

	// A second start on the same data directory neither seeds nor writes
	// credentials again.
	url, out, stop = startServe(t, env, "--seed-persons", "300")
	if strings.Contains(out.String(), "password") || strings.Contains(out.String(), "credentials") {
		t.Fatalf("second start told of credentials:\n%s", out)
	}
	if again := readCredentials(t, credFile); again != creds {
		t.Fatal("the second start wrote to the credentials file")
	}
	if st, _ := get(t, url+"/readyz"); st != 200 {
		t.Fatal("not ready after restart")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := countPersons(t, filepath.Join(dir, "dancu.db")); n != 300 {
		t.Fatalf("restart changed the register to %d persons", n)
	}
}

// readCredentials reads the first-start credentials file, which must be
// 0600.
func readCredentials(t *testing.T, path string) string {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func countPersons(t *testing.T, path string) int {
	db, err := storage.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	db.R.QueryRow(`SELECT count(*) FROM persons`).Scan(&n)
	return n
}

func TestAuditVerifyDetectsTampering(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DANCU_DATA": dir}
	var out, errOut bytes.Buffer
	ctx := context.Background()
	if err := run(ctx, []string{"seed", "--persons", "50"}, func(k string) string { return env[k] }, &out, &errOut); err != nil {
		t.Fatal(err, errOut.String())
	}
	if !strings.Contains(out.String(), "seeded 50 persons") {
		t.Fatalf("seed output: %s", out.String())
	}
	// A second seed adds more with fresh PINs.
	if err := run(ctx, []string{"seed", "--persons", "50", "--seed", "2"}, func(k string) string { return env[k] }, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"audit", "verify"}, func(k string) string { return env[k] }, &out, &errOut); err != nil || !strings.Contains(out.String(), "intact: 4 entries") {
		t.Fatalf("verify: %v %s", err, out.String())
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit_log SET detail = 'persons=1' WHERE seq = 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out.Reset()
	err = run(ctx, []string{"audit", "verify"}, func(k string) string { return env[k] }, &out, &errOut)
	if err == nil || !strings.Contains(out.String(), "BROKEN at entry 1") {
		t.Fatalf("tampering not reported: %v %s", err, out.String())
	}
}

func TestCommandErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"audit"}, {"seed", "--persons", "0"}, {"serve", "--db", "mysql://x"}, {"serve", "stray"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, func(string) string { return "" }, &out, &errOut); err == nil {
			t.Errorf("%v succeeded", args)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "dancu ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
}

// TestShutdownFinishesRequestsInFlight starts a request whose body arrives
// slowly, stops the server while it is being read, and expects the request
// to be answered before serve returns.
func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	env := map[string]string{"DANCU_DATA": t.TempDir(), "DANCU_SEED_PERSONS": "0"}
	url, _, stop := startServe(t, env)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", url+"/api/v1/sessions", pr)
	req.Header.Set("Content-Type", "application/json")
	type result struct {
		status int
		err    error
	}
	answered := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- result{err: err}
			return
		}
		resp.Body.Close()
		answered <- result{status: resp.StatusCode}
	}()
	pw.Write([]byte(`{"username": "admin", `))
	time.Sleep(200 * time.Millisecond) // the handler is now reading the body
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-stopped:
		t.Fatalf("serve returned with a request in flight: %v", err)
	default:
	}
	pw.Write([]byte(`"password": "not the password"}`))
	pw.Close()
	r := <-answered
	if r.err != nil || r.status != http.StatusUnauthorized {
		t.Fatalf("request in flight got %d, %v; want 401", r.status, r.err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

func TestClientAdd(t *testing.T) {
	env := map[string]string{"DANCU_DATA": t.TempDir()}
	getenv := func(k string) string { return env[k] }
	var out, errOut bytes.Buffer
	ctx := context.Background()
	err := run(ctx, []string{"client", "add", "--id", "bank-a", "--name", "Ngân hàng A", "--purpose", "Xác minh khách hàng",
		"--grant", "client_credentials", "--scopes", "profile"}, getenv, &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "client bank-a added") || !strings.Contains(out.String(), "client secret (shown only now): ") {
		t.Fatalf("add: %v\n%s%s", err, out.String(), errOut.String())
	}
	secret := strings.TrimSpace(out.String()[strings.Index(out.String(), "now): ")+6:])

	// The secret works at the token endpoint of a server on the same data.
	url, _, stop := startServe(t, env, "--seed-persons", "0")
	defer stop()
	req, _ := http.NewRequest("POST", url+"/oidc/oauth/token", strings.NewReader("grant_type=client_credentials&scope=profile"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("bank-a", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"access_token"`) {
		t.Fatalf("token with the new client: %d %s", resp.StatusCode, body)
	}

	for _, bad := range [][]string{
		{"client", "add", "--id", "bank-a", "--purpose", "x", "--grant", "client_credentials"}, // duplicate
		{"client", "add", "--id", "web", "--purpose", "x", "--grant", "authorization_code"},    // no redirect URI
		{"client", "add", "--id", "web", "--purpose", "x", "--grant", "implicit", "--redirect-uri", "https://a/cb"},
		{"client", "add", "--id", "web", "--purpose", "x", "--level", "3", "--redirect-uri", "https://a/cb"},
		{"client"},
	} {
		out.Reset()
		if err := run(ctx, bad, getenv, &out, &errOut); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
