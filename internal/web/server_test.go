package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dancu-project/dancu/internal/web/problem"
)

type mountFunc func(mux *http.ServeMux)

func (f mountFunc) Mount(mux *http.ServeMux) { f(mux) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestClientGoneIsNotAServerFault: a client that disconnects while its
// request waits on the database is neither logged as a failure nor counted as
// a 500 — whether the store reports context.Canceled or its own error text —
// while a real failure still is.
func TestClientGoneIsNotAServerFault(t *testing.T) {
	cases := []struct {
		name       string
		err        error
		disconnect bool
		wantCode   string
		wantLogged bool
	}{
		{"canceled", context.Canceled, true, "499", false},
		{"driver error after the client left", errors.New("sqlite: interrupted (9)"), true, "499", false},
		{"real failure", errors.New("disk I/O error"), false, "500", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logs := &syncBuffer{}
			log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
			reg := prometheus.NewRegistry()
			handled := make(chan struct{})
			h := New(Config{Log: log, Metrics: reg, Modules: []Mounter{mountFunc(func(mux *http.ServeMux) {
				mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
					if c.disconnect {
						<-r.Context().Done()
					}
					problem.Write(w, r, log, c.err)
				})
			})}})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(handled)
				h.ServeHTTP(w, r)
			}))
			defer srv.Close()

			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/slow", nil)
			if c.disconnect {
				time.AfterFunc(50*time.Millisecond, cancel)
			}
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			cancel()
			select {
			case <-handled:
			case <-time.After(5 * time.Second):
				t.Fatal("the handler did not return")
			}
			got := requestsWithCode(t, reg, c.wantCode)
			if got != 1 {
				t.Errorf("requests counted with code %s = %v, want 1", c.wantCode, got)
			}
			logged := strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "level=WARN")
			if logged != c.wantLogged {
				t.Errorf("logged as a failure = %v, want %v; log:\n%s", logged, c.wantLogged, logs)
			}
		})
	}
}

// requestsWithCode reads dancu_http_requests_total for a status code.
func requestsWithCode(t *testing.T, reg *prometheus.Registry, code string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "dancu_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "code" && l.GetValue() == code {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}
