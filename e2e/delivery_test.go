package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/delivery"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/storage"
)

// TestDeliveryAcrossKill is the small version of the event-delivery figure:
// 500 name changes made through the register API to 3 webhook partners, the
// server killed with SIGKILL halfway and started again on the same data.
// Every event must reach every partner; copies beyond the first are counted
// (an idempotent receiver drops them).
func TestDeliveryAcrossKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the dancu binary")
	}
	rep := runDeliveryFigure(t, figure{events: 500, partners: 3, persons: 500})
	t.Logf("%s", rep)
}

// TestDeliveryFigure is the full figure: 10,000 events to 10 partners across
// a kill -9. Set DANCU_DELIVERY_FIGURE=1 to run it (a few minutes on 2 cores).
func TestDeliveryFigure(t *testing.T) {
	if os.Getenv("DANCU_DELIVERY_FIGURE") == "" {
		t.Skip("set DANCU_DELIVERY_FIGURE=1 to run the 10,000 × 10 delivery figure")
	}
	rep := runDeliveryFigure(t, figure{events: 10000, partners: 10, persons: 2000})
	t.Logf("%s", rep)
}

type figure struct{ events, partners, persons int }

const figurePassword = "mật-khẩu-hình-thử-nghiệm"

// partnerEndpoint is an idempotent receiver: it verifies the signature and
// the replay window and processes each event id once, counting copies.
type partnerEndpoint struct {
	id     string
	secret atomic.Value // string
	srv    *httptest.Server
	mu     sync.Mutex
	seen   map[string]int
	bad    int
	gate   atomic.Pointer[chan struct{}]
	held   atomic.Int64
}

func (p *partnerEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if gate := p.gate.Load(); gate != nil {
		// Held while the server is killed: the request was sent, and is
		// processed here, but the sender never learns of it.
		p.held.Add(1)
		<-*gate
	}
	secret, _ := p.secret.Load().(string)
	if err := delivery.Verify(secret, r.Header, body, time.Now(), delivery.DefaultWindow); err != nil {
		p.mu.Lock()
		p.bad++
		p.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev delivery.Payload
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID != r.Header.Get(delivery.HeaderEventID) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.seen[ev.ID]++
	p.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// server is a dancu serve child process.
type server struct {
	cmd  *exec.Cmd
	url  string
	exit chan error
}

func buildDancu(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dancu")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/dancu-project/dancu/cmd/dancu").CombinedOutput()
	if err != nil {
		t.Skipf("cannot build the dancu binary (%v): %s", err, out)
	}
	return bin
}

var runningAt = regexp.MustCompile(`dancu is running at (http://\S+)`)

func startServer(t *testing.T, bin, dataDir string, persons int, logFile *os.File) *server {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", dataDir, "--seed-persons", strconv.Itoa(persons),
		"--bootstrap-password", figurePassword, "--log-level", "warn")
	cmd.Env = []string{"HOME=" + os.Getenv("HOME"), "PATH=" + os.Getenv("PATH")}
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, exit: make(chan error, 1)}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := runningAt.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	go func() { s.exit <- cmd.Wait() }()
	select {
	case s.url = <-urlc:
	case err := <-s.exit:
		t.Fatalf("dancu serve exited: %v (log in %s)", err, logFile.Name())
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("dancu serve did not start in 2 minutes")
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
	})
	return s
}

// kill sends SIGKILL: no shutdown code runs.
func (s *server) kill(t *testing.T) {
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.exit
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exit:
	case <-time.After(time.Minute):
		s.cmd.Process.Kill()
	}
}

func postJSON(client *http.Client, url, token string, in, out any) (int, error) {
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	} else {
		io.Copy(io.Discard, resp.Body)
	}
	return resp.StatusCode, nil
}

func runDeliveryFigure(t *testing.T, f figure) string {
	ctx := context.Background()
	bin := buildDancu(t)
	dataDir := t.TempDir()
	logFile, err := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	srv := startServer(t, bin, dataDir, f.persons, logFile)
	client := &http.Client{Timeout: 30 * time.Second}

	var signIn struct{ Token string }
	if code, err := postJSON(client, srv.url+"/api/v1/sessions", "", map[string]string{"username": "admin", "password": figurePassword}, &signIn); err != nil || code != 201 {
		t.Fatalf("admin sign-in: %d %v", code, err)
	}
	token := signIn.Token

	// The people, and their links with every partner: written through the
	// exchange store on the same database, as verify calls would.
	cfg := platform.Config{DataDir: dataDir}
	db, err := storage.Open(ctx, cfg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.R.QueryContext(ctx, `SELECT pin FROM persons WHERE status = 'alive' ORDER BY pin LIMIT $1`, f.persons)
	if err != nil {
		t.Fatal(err)
	}
	var pins []string
	for rows.Next() {
		var p string
		rows.Scan(&p)
		pins = append(pins, p)
	}
	rows.Close()
	if len(pins) < f.persons/2 {
		t.Fatalf("only %d living persons", len(pins))
	}
	partners := make([]*partnerEndpoint, f.partners)
	var links []exchange.Link
	for i := range partners {
		p := &partnerEndpoint{id: fmt.Sprintf("partner-%02d", i+1), seen: map[string]int{}}
		p.srv = httptest.NewServer(p)
		defer p.srv.Close()
		partners[i] = p
		for _, pin := range pins {
			links = append(links, exchange.Link{PIN: pin, PartnerID: p.id, Via: "verify"})
		}
		// A partner whose policy allows both event types it subscribes to.
		if _, err := exchange.NewStore(db, time.Now).AddPartner(ctx, exchange.Partner{ID: p.id, Name: p.id, Kind: exchange.KindOther,
			Policy: exchange.Policy{Operations: []exchange.Operation{exchange.OpSubscribe}, Fields: []string{"full_name", "status", "death_date"}}}); err != nil {
			t.Fatal(err)
		}
		var sub delivery.Subscription
		code, err := postJSON(client, srv.url+"/api/v1/admin/subscriptions", token,
			delivery.SubscribeInput{PartnerID: p.id, Types: []string{delivery.TypeNameChanged, delivery.TypeDied}, Mode: delivery.ModeWebhook, URL: p.srv.URL + "/dancu"}, &sub)
		if err != nil || code != 201 || sub.Secret == "" {
			t.Fatalf("subscribe %s: %d %v", p.id, code, err)
		}
		p.secret.Store(sub.Secret)
	}
	if err := exchange.NewStore(db, time.Now).AddLinks(ctx, links); err != nil {
		t.Fatal(err)
	}

	// Events: name changes through the register API, 4 at a time. Halfway
	// the server is killed; requests then fail until it is back, and are
	// made again ("name unchanged" means the first one had committed).
	start := time.Now()
	var url atomic.Value
	url.Store(srv.url)
	var made atomic.Int64
	var down sync.RWMutex // held for writing while the server is down
	names := [2]string{"Nguyễn Thị Hình Thử", "Trần Văn Hình Thử"}
	jobs := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				in := map[string]string{"pin": pins[i%len(pins)], "full_name": names[(i/len(pins))%2], "date": time.Now().AddDate(0, 0, -1).Format(time.DateOnly), "reason": "Hình thử nghiệm giao sự kiện"}
				for try := 0; ; try++ {
					down.RLock()
					code, err := postJSON(client, url.Load().(string)+"/api/v1/name-changes", token, in, nil)
					down.RUnlock()
					if err == nil && (code == 200 || code == 201 || (code == 422 && try > 0)) {
						break
					}
					if try > 50 {
						failed.Store(fmt.Sprintf("event %d: %d %v", i, code, err))
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				made.Add(1)
			}
		}()
	}
	killed := false
	inFlight := 0
	var killAt, backAt time.Time
	for i := 0; i < f.events; i++ {
		if !killed && i == f.events/2 {
			killed = true
			// Killed while requests, the outbox relay, the fan-out and the
			// senders are all at work, with deliveries in flight: each
			// partner holds the requests it receives from now on.
			gate := make(chan struct{})
			for _, p := range partners {
				p.gate.Store(&gate)
			}
			for _, p := range partners {
				for hold := time.Now(); p.held.Load() == 0 && time.Since(hold) < 10*time.Second; {
					jobs <- i
					i++
				}
			}
			killAt = time.Now()
			srv.kill(t)
			for _, p := range partners {
				inFlight += int(p.held.Load())
				p.gate.Store(nil)
			}
			close(gate)
			down.Lock() // the failed requests wait for the restart
			srv = startServer(t, bin, dataDir, f.persons, logFile)
			url.Store(srv.url)
			backAt = time.Now()
			down.Unlock()
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if v := failed.Load(); v != nil {
		t.Fatalf("the register refused an event: %v", v)
	}
	produced := time.Since(start)

	// What the register committed is the truth: every name change must
	// reach every partner.
	var want []string
	rows, err = db.R.QueryContext(ctx, `SELECT id FROM life_events WHERE kind = 'name_change'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		want = append(want, id)
	}
	rows.Close()
	if len(want) != f.events {
		t.Fatalf("%d name changes in the register, want %d", len(want), f.events)
	}
	deadline := time.Now().Add(time.Duration(f.events*f.partners/50+120) * time.Second)
	missing := func() int {
		n := 0
		for _, p := range partners {
			p.mu.Lock()
			for _, id := range want {
				if p.seen[id] == 0 {
					n++
				}
			}
			p.mu.Unlock()
		}
		return n
	}
	for missing() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries missing after %s (log in %s)", missing(), time.Since(start), logFile.Name())
		}
		time.Sleep(100 * time.Millisecond)
	}
	delivered := time.Since(start)
	// Deliveries that were in flight at the kill are sent again once their
	// claim's lease (webhook timeout + 5 s) runs out: wait for the queue to
	// settle, so every copy the receivers get is counted.
	var pending, dead int
	for {
		db.R.QueryRowContext(ctx, `SELECT count(*) FROM delivery_queue WHERE status = 'pending'`).Scan(&pending)
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries still pending (log in %s)", pending, logFile.Name())
		}
		time.Sleep(100 * time.Millisecond)
	}
	settled := time.Since(start)
	duplicates, extra, bad := 0, 0, 0
	wantSet := map[string]bool{}
	for _, id := range want {
		wantSet[id] = true
	}
	for _, p := range partners {
		p.mu.Lock()
		for id, n := range p.seen {
			duplicates += n - 1
			if !wantSet[id] {
				extra++
			}
		}
		bad += p.bad
		p.mu.Unlock()
	}
	if extra > 0 || bad > 0 {
		t.Fatalf("%d events no one registered, %d bad signatures", extra, bad)
	}
	db.R.QueryRowContext(ctx, `SELECT count(*) FROM delivery_queue WHERE status = 'dead'`).Scan(&dead)
	if dead > 0 {
		t.Fatalf("%d dead letters", dead)
	}
	srv.stop()
	return fmt.Sprintf("%d events × %d partners: %d deliveries, none lost; %d copies beyond the first (dropped by the idempotent receivers); "+
		"killed after %d events with %d deliveries in flight, down %s; events made in %s, all delivered %s after the first event, queue settled after %s",
		f.events, f.partners, f.events*f.partners, duplicates, f.events/2, inFlight, backAt.Sub(killAt).Round(time.Millisecond),
		produced.Round(time.Millisecond), delivered.Round(time.Millisecond), settled.Round(time.Millisecond))
}
