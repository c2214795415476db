// Package web assembles the HTTP server: the JSON API, the registrar pages,
// health and readiness probes, Prometheus metrics, and the middleware every
// request passes (panic recovery, security headers, metrics, an access log
// that records route patterns — never paths, which hold PINs).
package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/web/problem"
)

// Mounter registers a module's routes.
type Mounter interface{ Mount(mux *http.ServeMux) }

// Check is a readiness check of one dependency.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Config is what the server is built from.
type Config struct {
	Log     *slog.Logger
	Metrics *prometheus.Registry
	Ready   []Check
	Modules []Mounter
}

// New returns the whole platform's handler.
func New(cfg Config) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for _, c := range cfg.Ready {
			if err := c.Fn(ctx); err != nil {
				cfg.Log.Warn("not ready", "check", c.Name, "err", err)
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte(c.Name + ": not ready\n"))
				return
			}
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Metrics, promhttp.HandlerOpts{}))
	for _, m := range cfg.Modules {
		m.Mount(mux)
	}
	return middleware(mux, cfg.Log, newHTTPMetrics(cfg.Metrics))
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) httpMetrics {
	m := httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dancu_http_requests_total", Help: "HTTP requests by route pattern, method and status."},
			[]string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dancu_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

var errPanic = fault.New(fault.Internal, "internal", "Lỗi hệ thống, vui lòng thử lại sau.", "Internal error, please try again later.")

func middleware(mux *http.ServeMux, log *slog.Logger, m httpMetrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		defer func() {
			// ServeMux sets the matched pattern on the request it was given.
			pattern := r.Pattern
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("panic in handler", "route", pattern, "panic", v)
				if rec.status == 0 {
					problem.Write(rec, r, log, errPanic)
				}
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			if status >= 500 && problem.ClientGone(r) {
				// Whatever failed after the client left is not a server fault.
				status = problem.StatusClientClosed
			}
			if pattern == "" {
				pattern = "unmatched"
			}
			d := time.Since(start)
			m.requests.WithLabelValues(pattern, r.Method, strconv.Itoa(status)).Inc()
			m.duration.WithLabelValues(pattern).Observe(d.Seconds())
			if status >= 500 {
				log.Warn("request", "method", r.Method, "route", pattern, "status", status, "ms", d.Milliseconds())
			} else {
				log.Debug("request", "method", r.Method, "route", pattern, "status", status, "us", d.Microseconds())
			}
		}()
		mux.ServeHTTP(rec, r)
	})
}
