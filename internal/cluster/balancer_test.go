package cluster

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestBalancerRoutesAroundADeadNode: three backends, one closed (its port
// refuses connections): every request, POSTs with bodies included, is
// answered by a live one, the dead one is marked unhealthy at once and
// by the health check, and it takes requests again once it answers.
func TestBalancerRoutesAroundADeadNode(t *testing.T) {
	var got [3]atomic.Int64
	ready := [3]atomic.Bool{}
	var srvs []*httptest.Server
	var hosts []string
	for i := range 3 {
		ready[i].Store(true)
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/readyz" {
				if !ready[i].Load() {
					w.WriteHeader(http.StatusServiceUnavailable)
				}
				return
			}
			b, _ := io.ReadAll(r.Body)
			got[i].Add(1)
			w.Write(append([]byte("echo:"), b...))
		}))
		defer s.Close()
		srvs = append(srvs, s)
		hosts = append(hosts, strings.TrimPrefix(s.URL, "http://"))
	}
	b := NewBalancer(hosts)
	b.CheckEvery = 20 * time.Millisecond
	addr, stop, err := b.Serve(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	post := func() string {
		t.Helper()
		res, err := http.Post("http://"+addr+"/x", "text/plain", strings.NewReader("body"))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("status %d: %s", res.StatusCode, out)
		}
		return string(out)
	}
	for range 30 {
		post()
	}
	for i := range 3 {
		if got[i].Load() == 0 {
			t.Fatalf("backend %d got no request of 30: %v", i, b.Served())
		}
	}
	// Backend 1 dies: its port refuses connections.
	srvs[1].Close()
	before := got[1].Load()
	for range 60 {
		if out := post(); out != "echo:body" {
			t.Fatalf("answer %q: the body was not resent whole", out)
		}
	}
	if got[1].Load() != before {
		t.Fatal("a closed backend answered")
	}
	if b.Rerouted.Load() == 0 {
		t.Fatal("no request was rerouted after the refused connection")
	}
	if h := b.Healthy(); h[1] || !h[0] || !h[2] {
		t.Fatalf("healthy %v, want [true false true]", h)
	}
	// Backend 2 says it is not ready: the health check takes it out.
	ready[2].Store(false)
	time.Sleep(100 * time.Millisecond)
	n2 := got[2].Load()
	for range 20 {
		post()
	}
	if got[2].Load() != n2 {
		t.Fatal("a backend whose /readyz fails still got requests")
	}
	ready[2].Store(true)
	time.Sleep(100 * time.Millisecond)
	for range 20 {
		post()
	}
	if got[2].Load() == n2 {
		t.Fatal("a backend ready again got no request")
	}
	// SetActive(1): only the first backend.
	b.SetActive(1)
	n0 := got[0].Load()
	for range 10 {
		post()
	}
	if got[0].Load() != n0+10 {
		t.Fatalf("SetActive(1): backend 0 got %d of 10", got[0].Load()-n0)
	}
}
