package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Balancer spreads requests over the nodes (round robin) with Go's reverse
// proxy. A node is taken out when its /readyz fails (checked every
// CheckEvery) or when a connection to it is refused; a request whose
// connection was refused is sent to the next node, which is safe for any
// method since the node never saw it. A request a node accepted and then
// dropped (killed mid-request) is answered 502, not retried: it may have
// been applied.
type Balancer struct {
	// CheckEvery is how often each node's /readyz is read.
	CheckEvery time.Duration

	mu       sync.Mutex
	backends []*backend
	active   int // only the first active backends take requests
	next     atomic.Uint64
	proxy    *httputil.ReverseProxy
	client   *http.Client
	stop     chan struct{}
	stopped  sync.WaitGroup
	// Rerouted counts requests sent to another node after a refused
	// connection.
	Rerouted atomic.Int64
}

type backend struct {
	host    string // 127.0.0.1:port
	healthy atomic.Bool
	served  atomic.Int64
}

// maxRetryBody is the largest request body kept to resend to another node.
const maxRetryBody = 8 << 20

// NewBalancer balances over the nodes at hosts (host:port), all taking
// requests, each healthy until its first check says otherwise.
func NewBalancer(hosts []string) *Balancer {
	b := &Balancer{CheckEvery: 250 * time.Millisecond, active: len(hosts), stop: make(chan struct{})}
	for _, h := range hosts {
		be := &backend{host: h}
		be.healthy.Store(true)
		b.backends = append(b.backends, be)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	tr.DialContext = (&net.Dialer{Timeout: time.Second}).DialContext
	b.client = &http.Client{Timeout: time.Second, Transport: tr}
	b.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme = "http"
			r.Out.URL.Host = "balancer" // chosen per attempt in RoundTrip
			r.SetXForwarded()
			r.Out.Host = r.In.Host // the nodes see the public host
		},
		Transport: &retrying{b: b, base: tr},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "no node answered: %v\n", err)
		},
	}
	return b
}

// Start begins the health checks.
func (b *Balancer) Start() {
	b.stopped.Add(1)
	go func() {
		defer b.stopped.Done()
		t := time.NewTicker(b.CheckEvery)
		defer t.Stop()
		for {
			b.check()
			select {
			case <-b.stop:
				return
			case <-t.C:
			}
		}
	}()
}

// Close stops the health checks.
func (b *Balancer) Close() {
	close(b.stop)
	b.stopped.Wait()
}

func (b *Balancer) check() {
	var wg sync.WaitGroup
	for _, be := range b.backends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := b.client.Get("http://" + be.host + "/readyz")
			ok := err == nil && res.StatusCode == http.StatusOK
			if res != nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
			be.healthy.Store(ok)
		}()
	}
	wg.Wait()
}

// SetActive sends requests to the first n nodes only (the scaling figures
// of 1, 2 and 3 nodes on one cluster).
func (b *Balancer) SetActive(n int) {
	b.mu.Lock()
	b.active = min(max(n, 1), len(b.backends))
	b.mu.Unlock()
}

// Healthy lists which nodes the balancer sends requests to now.
func (b *Balancer) Healthy() []bool {
	out := make([]bool, len(b.backends))
	for i, be := range b.backends {
		out[i] = be.healthy.Load()
	}
	return out
}

// Served is how many requests each node answered.
func (b *Balancer) Served() []int64 {
	out := make([]int64, len(b.backends))
	for i, be := range b.backends {
		out[i] = be.served.Load()
	}
	return out
}

// pick returns the backends to try in order: the healthy active ones from
// the next in turn, then (all unhealthy) every active one.
func (b *Balancer) pick() []*backend {
	b.mu.Lock()
	act := b.backends[:b.active]
	b.mu.Unlock()
	start := int(b.next.Add(1)) % len(act)
	var healthy, rest []*backend
	for i := range act {
		be := act[(start+i)%len(act)]
		if be.healthy.Load() {
			healthy = append(healthy, be)
		} else {
			rest = append(rest, be)
		}
	}
	return append(healthy, rest...)
}

func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.proxy.ServeHTTP(w, r)
}

type retrying struct {
	b    *Balancer
	base http.RoundTripper
}

func (t *retrying) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(io.LimitReader(req.Body, maxRetryBody+1))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		if len(body) > maxRetryBody {
			return nil, errors.New("request body too large for the balancer")
		}
	}
	var lastErr error
	for i, be := range t.b.pick() {
		out := req.Clone(req.Context())
		out.URL.Host = be.host
		if body != nil {
			out.Body = io.NopCloser(bytes.NewReader(body))
			out.ContentLength = int64(len(body))
			// Replayable: the transport resends it itself when the node
			// closed an idle connection before reading the request.
			out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		res, err := t.base.RoundTrip(out)
		if err == nil {
			be.served.Add(1)
			if i > 0 {
				t.b.Rerouted.Add(1)
			}
			return res, nil
		}
		lastErr = err
		if !refused(err) || req.Context().Err() != nil {
			return nil, err
		}
		// The node is gone: out until its /readyz answers again.
		be.healthy.Store(false)
	}
	if lastErr == nil {
		lastErr = errors.New("no node")
	}
	return nil, lastErr
}

// refused reports whether err means the request never reached the node.
func refused(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// Serve listens on addr (port 0 picks one) and serves until ctx ends; the
// address is returned once listening.
func (b *Balancer) Serve(ctx context.Context, addr string) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("balancer: %w", err)
	}
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	b.Start()
	stop := func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(c)
		b.Close()
	}
	return ln.Addr().String(), stop, nil
}
