package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunOffersTheRate(t *testing.T) {
	var got atomic.Int64
	var bodies bodyCount
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Key") != "k" {
			http.Error(w, "no key", http.StatusUnauthorized)
			return
		}
		bodies.add(string(b))
		got.Add(1)
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	r, err := Run(context.Background(), Config{
		URL: srv.URL + "/verify", Header: [][2]string{{"X-Key", "k"}},
		Bodies: [][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`)},
		Rate:   2000, Duration: 500 * time.Millisecond, Conns: 8,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Offered != 1000 || r.Done != 1000 || got.Load() != 1000 || r.Non2xx != 0 || r.Errors != 0 {
		t.Fatalf("offered %d, answered %d, server saw %d, non-2xx %d, errors %d; want 1000 of each, no faults",
			r.Offered, r.Done, got.Load(), r.Non2xx, r.Errors)
	}
	// Requests go out at the rate, not as fast as the server answers.
	if r.Elapsed < 490*time.Millisecond || r.Elapsed > 2*time.Second {
		t.Errorf("1,000 requests at 2,000/s took %s", r.Elapsed)
	}
	if a, b := bodies.count(`{"a":1}`), bodies.count(`{"b":2}`); a != 500 || b != 500 {
		t.Errorf("bodies sent %d and %d times, want 500 each (cycled)", a, b)
	}
	if p := r.Percentile(1); p <= 0 || p > time.Second {
		t.Errorf("slowest answer %s", p)
	}
}

// A server that takes longer than the interval between requests falls
// behind; requests are charged from when they were due, so the measured
// latency grows with the backlog instead of staying at the service time.
func TestRunChargesLatencyFromTheDueTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
	}))
	defer srv.Close()
	r, err := Run(context.Background(), Config{URL: srv.URL, Method: "GET", Rate: 200, Duration: 250 * time.Millisecond, Conns: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Done != 50 {
		t.Fatalf("answered %d, want 50", r.Done)
	}
	// 50 requests due within 250 ms, served one at a time in ≥ 20 ms each:
	// the last is answered ≥ 1 s after the first was due, ≥ 750 ms late.
	if p := r.Percentile(1); p < 700*time.Millisecond {
		t.Errorf("slowest answer %s from its due time, want ≥ 700 ms (the backlog)", p)
	}
	if p := r.Percentile(0); p < 20*time.Millisecond || p > 200*time.Millisecond {
		t.Errorf("fastest answer %s, want about the 20 ms service time", p)
	}
}

func TestRunCountsFaults(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.Write([]byte("a"))
			w.(http.Flusher).Flush() // no Content-Length: chunked
			w.Write([]byte("b"))
			return
		}
		http.Error(w, "busy", http.StatusTooManyRequests)
	}))
	defer srv.Close()
	r, err := Run(context.Background(), Config{URL: srv.URL + "/limited", Method: "GET", Rate: 1000, Duration: 100 * time.Millisecond, Conns: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r.Done != 100 || r.Non2xx != 100 || r.Errors != 0 {
		t.Errorf("429s: answered %d, non-2xx %d, errors %d; want 100, 100, 0", r.Done, r.Non2xx, r.Errors)
	}
	r, err = Run(context.Background(), Config{URL: srv.URL + "/chunked", Method: "GET", Rate: 1000, Duration: 100 * time.Millisecond, Conns: 2})
	if err != nil {
		t.Fatal(err)
	}
	// A malformed answer ends its connection; what it would have carried
	// is counted as failed, not silently dropped.
	if r.Done != 0 || r.Errors != 100 {
		t.Errorf("chunked answers: answered %d, errors %d; want 0 and 100", r.Done, r.Errors)
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no rate":    {URL: "http://127.0.0.1:1/", Duration: time.Second, Conns: 1},
		"no conns":   {URL: "http://127.0.0.1:1/", Rate: 1, Duration: time.Second},
		"https":      {URL: "https://127.0.0.1:1/", Rate: 1, Duration: time.Second, Conns: 1},
		"not an URL": {URL: "::", Rate: 1, Duration: time.Second, Conns: 1},
		"no server":  {URL: "http://127.0.0.1:1/", Rate: 1, Duration: time.Second, Conns: 1},
	} {
		if _, err := Run(context.Background(), cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestReadBodies(t *testing.T) {
	got, err := ReadBodies(strings.NewReader("{\"a\":1}\n\n  {\"b\":2}  \n"))
	if err != nil || len(got) != 2 || string(got[0]) != `{"a":1}` || string(got[1]) != `{"b":2}` {
		t.Fatalf("ReadBodies = %q, %v", got, err)
	}
	if _, err := ReadBodies(strings.NewReader("\n \n")); err != ErrShort {
		t.Errorf("empty file: %v, want ErrShort", err)
	}
}

// bodyCount counts the bodies a test server received.
type bodyCount struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *bodyCount) add(body string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[body]++
}

func (c *bodyCount) count(body string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[body]
}
