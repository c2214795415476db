package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/eid/gateway"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/storage"
)

const productionPassword = "mật-khẩu-sản-xuất-thử"

// outsideService is the SMS gateway or the face-verification service as
// the README documents them: signed JSON POSTs, checked here.
type outsideService struct {
	secret string
	mu     sync.Mutex
	bad    int
	bodies []string
}

func (s *outsideService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := gateway.Verify(s.secret, r.Header, body, time.Now()); err != nil {
		s.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	s.bodies = append(s.bodies, string(body))
	io.WriteString(w, `{"match":false}`)
}

// productionEnv is everything serve --production needs, the outside
// services being httptest servers.
func productionEnv(t *testing.T, dir string) map[string]string {
	t.Helper()
	sms := httptest.NewServer(&outsideService{secret: strings.Repeat("m", 32)})
	face := httptest.NewServer(&outsideService{secret: strings.Repeat("f", 32)})
	t.Cleanup(sms.Close)
	t.Cleanup(face.Close)
	return map[string]string{
		"DANCU_DATA":               dir,
		"DANCU_PRODUCTION":         "true",
		"DANCU_BOOTSTRAP_PASSWORD": productionPassword,
		"DANCU_SMS_GATEWAY_URL":    sms.URL + "/sms",
		"DANCU_SMS_GATEWAY_SECRET": strings.Repeat("m", 32),
		"DANCU_FACE_VERIFY_URL":    face.URL + "/verify",
		"DANCU_FACE_VERIFY_SECRET": strings.Repeat("f", 32),
		"DANCU_EID_SECRET":         strings.Repeat("e", 32),
		"DANCU_PKI_KEY":            strings.Repeat("p", 32),
		"DANCU_AUDIT_KEY":          strings.Repeat("a1", 32),
		"DANCU_LOG_LEVEL":          "warn",
	}
}

// cli runs a dancu command in-process with env.
func cli(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut); err != nil {
		t.Fatalf("dancu %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

func adminToken(t *testing.T, url string) string {
	t.Helper()
	var signIn struct{ Token string }
	if st := call(t, "POST", url+"/api/v1/sessions", "", map[string]string{"username": "admin", "password": productionPassword}, &signIn); st != 201 || signIn.Token == "" {
		t.Fatalf("admin sign-in: %d", st)
	}
	return signIn.Token
}

// call sends a JSON request and decodes the answer into out.
func call(t *testing.T, method, url, token string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, body)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// TestServeProduction starts serve --production with what it requires (SMS
// gateway and face-verification service on httptest servers, the e-ID
// secret and the PKI key from the environment) on a register that already
// has people: it is ready, creates no sample citizen or partner, marks
// cookies Secure, keeps its files private, and refuses webhooks to
// addresses inside the platform's network when they are subscribed and,
// for a subscription that points there anyway, when they are dialled.
func TestServeProduction(t *testing.T) {
	dir := t.TempDir()
	env := productionEnv(t, dir)
	dev := map[string]string{"DANCU_DATA": dir, "DANCU_BOOTSTRAP_PASSWORD": productionPassword,
		"DANCU_EID_SECRET": env["DANCU_EID_SECRET"], "DANCU_PKI_KEY": env["DANCU_PKI_KEY"], "DANCU_AUDIT_KEY": env["DANCU_AUDIT_KEY"]}
	// People in the register (so a development start would make sample
	// citizens of them) and a partner that may receive name changes.
	cli(t, dev, "seed", "--persons", "40")
	cli(t, dev, "partner", "add", "--id", "hospital-x", "--name", "Bệnh viện X", "--kind", "hospital", "--operations", "verify,subscribe",
		"--fields", "pin,full_name", "--purpose", "kcb|law|Khám chữa bệnh|Luật Khám bệnh, chữa bệnh 2023")

	// What is missing is named, and nothing starts.
	for _, unset := range []string{"DANCU_SMS_GATEWAY_URL", "DANCU_FACE_VERIFY_URL", "DANCU_EID_SECRET", "DANCU_PKI_KEY"} {
		partial := map[string]string{}
		for k, v := range env {
			partial[k] = v
		}
		delete(partial, unset)
		delete(partial, strings.Replace(unset, "_URL", "_SECRET", 1))
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0"}, func(k string) string { return partial[k] }, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "production needs") {
			t.Fatalf("serve --production without %s: %v", unset, err)
		}
	}

	url, out, stop := startServe(t, env, "--production")
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	if st, body := get(t, url+"/readyz"); st != 200 || body != "ready\n" {
		t.Fatalf("readyz: %d %q", st, body)
	}
	if strings.Contains(out.String(), productionPassword) || !strings.Contains(out.String(), filepath.Join(dir, "first-start-credentials.txt")) {
		t.Fatalf("first start output:\n%s", out)
	}
	if creds := readCredentials(t, filepath.Join(dir, "first-start-credentials.txt")); !strings.Contains(creds, "admin") || strings.Contains(creds, "Sample") {
		t.Fatalf("production credentials file:\n%s", creds)
	}
	// --production implies Secure cookies.
	resp, err := http.Get(url + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(resp.Cookies()) == 0 {
		t.Fatal("the sign-in page set no cookie")
	}
	for _, c := range resp.Cookies() {
		if !c.Secure {
			t.Errorf("cookie %s is not Secure in production", c.Name)
		}
	}

	// Webhooks to this machine, its link-local metadata service or names
	// of this machine are refused when subscribed.
	token := adminToken(t, url)
	for _, hook := range []string{
		"https://127.0.0.1:8443/hook", "https://[::1]/hook", "https://169.254.169.254/latest/meta-data/",
		"https://localhost/hook", "https://partner.localhost/hook", "https://[::ffff:127.0.0.1]/hook", "https://10.0.0.8/hook",
	} {
		var problem struct {
			Errors []struct{ Field, Code string }
		}
		st := call(t, "POST", url+"/api/v1/admin/subscriptions", token,
			map[string]any{"partner_id": "hospital-x", "types": []string{"name_changed"}, "mode": "webhook", "url": hook}, &problem)
		if st != 422 || len(problem.Errors) != 1 || problem.Errors[0].Code != "delivery.url_internal" || problem.Errors[0].Field != "url" {
			t.Errorf("subscribe %s: %d %+v, want 422 delivery.url_internal on url", hook, st, problem.Errors)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	stop = nil

	// No sample citizen, organisation or partner was made, and nothing
	// in the data directory is readable by others.
	for query, want := range map[string]int{
		`SELECT count(*) FROM eid_accounts`:           0,
		`SELECT count(*) FROM eid_orgs`:               0,
		`SELECT count(*) FROM exchange_partners`:      1, // hospital-x
		`SELECT count(*) FROM delivery_subscriptions`: 0,
		`SELECT count(*) FROM persons`:                40,
	} {
		if got := countRows(t, dir, query); got != want {
			t.Errorf("%s: %d, want %d", query, got, want)
		}
	}
	checkPrivate(t, dir)

	// A subscription pointing at a name of this machine anyway (made in
	// development, or a name that resolved elsewhere when it was made):
	// production refuses the connection after DNS, and the receiver is
	// never reached.
	var reached atomic.Int64
	receiver := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	receiver.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			reached.Add(1)
		}
	}
	receiver.StartTLS()
	defer receiver.Close()
	hook := strings.Replace(receiver.URL, "127.0.0.1", "localhost", 1) + "/hook"
	devURL, _, devStop := startServe(t, dev, "--seed-persons", "0")
	devToken := adminToken(t, devURL)
	var sub struct{ ID string }
	if st := call(t, "POST", devURL+"/api/v1/admin/subscriptions", devToken,
		map[string]any{"partner_id": "hospital-x", "types": []string{"name_changed"}, "mode": "webhook", "url": hook}, &sub); st != 201 {
		t.Fatalf("development subscription to %s: %d", hook, st)
	}
	if err := devStop(); err != nil {
		t.Fatal(err)
	}
	pin := linkPerson(t, dir, "hospital-x")

	url, _, stop = startServe(t, env, "--production")
	token = adminToken(t, url)
	change := map[string]string{"pin": pin, "full_name": "Nguyễn Thị Sản Xuất", "date": time.Now().AddDate(0, 0, -1).Format(time.DateOnly), "reason": "Quyết định thay đổi họ tên"}
	if st := call(t, "POST", url+"/api/v1/name-changes", token, change, nil); st != 200 && st != 201 {
		t.Fatalf("name change: %d", st)
	}
	var deliveries struct {
		Deliveries []struct {
			Attempts  int    `json:"attempts"`
			LastError string `json:"last_error"`
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		call(t, "GET", url+"/api/v1/admin/deliveries?partner=hospital-x", token, nil, &deliveries)
		if len(deliveries.Deliveries) > 0 && deliveries.Deliveries[0].Attempts > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no delivery attempt in 30 s: %+v", deliveries)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if d := deliveries.Deliveries[0]; !strings.Contains(d.LastError, "not public") {
		t.Fatalf("the delivery to %s failed otherwise: %+v", hook, d)
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("the receiver on loopback was reached %d times", n)
	}
}

// linkPerson links a living person of the register to partner, as a
// matched verify would, and returns the PIN.
func linkPerson(t *testing.T, dir, partner string) string {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, platform.Config{DataDir: dir}.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pin string
	if err := db.R.QueryRowContext(ctx, `SELECT pin FROM persons WHERE status = 'alive' AND length(birth_date) = 10 ORDER BY pin LIMIT 1`).Scan(&pin); err != nil {
		t.Fatal(err)
	}
	if err := exchange.NewStore(db, time.Now).AddLinks(ctx, []exchange.Link{{PIN: pin, PartnerID: partner, Via: "verify"}}); err != nil {
		t.Fatal(err)
	}
	return pin
}

func countRows(t *testing.T, dir, query string) int {
	t.Helper()
	db, err := storage.Open(context.Background(), platform.Config{DataDir: dir}.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.R.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// checkPrivate fails unless every directory under dir is 0700 and every
// file 0600.
func checkPrivate(t *testing.T, dir string) {
	t.Helper()
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		want := os.FileMode(0o600)
		if info.IsDir() {
			want = 0o700
		} else if !info.Mode().IsRegular() {
			return nil
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, info.Mode().Perm(), want)
		}
		return nil
	})
}
