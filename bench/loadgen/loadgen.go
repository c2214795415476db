// Command loadgen offers HTTP/1.1 requests at a fixed rate (an open loop)
// and reports the latency of each from the moment it was due, not from the
// moment it was sent: a server that stalls is charged for every request that
// should have gone out meanwhile (the correction wrk2 makes for "coordinated
// omission"). A closed loop such as wrk's measures the most a fixed number of
// connections get, which at saturation makes latency a queue length; a
// latency target such as "p99 < 10 ms at 10,000 requests a second" is about
// a rate, so it is measured at that rate.
//
// It is written for a load generator that shares the machine with the server:
// requests are prepared once, connections speak HTTP/1.1 on plain sockets and
// a response is read by its Content-Length, so a request costs the generator
// little more than its two system calls.
//
//	go run ./bench/loadgen -url http://127.0.0.1:8080/api/partner/v1/verify \
//	    -rate 10000 -duration 20s -conns 64 -bodies bodies.txt \
//	    -H "Authorization: Bearer …" -H "Content-Type: application/json"
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Config is one run.
type Config struct {
	URL      string        // http://host:port/path
	Method   string        // POST by default
	Header   [][2]string   // extra request headers
	Bodies   [][]byte      // request bodies, cycled; none for a GET
	Rate     float64       // requests per second offered
	Duration time.Duration // how long requests are offered
	Conns    int           // connections; a connection carries one request at a time
	Timeout  time.Duration // a response slower than this ends its connection (10 s)
}

// Result is what a run measured.
type Result struct {
	Offered   int             // requests due during the run
	Done      int             // requests answered
	Non2xx    int             // answered with a status outside 200–299
	Errors    int             // connection faults, timeouts and malformed answers
	Elapsed   time.Duration   // first due time to last answer
	Latencies []time.Duration // sorted
	// Seconds holds, for each second of the run (by due time), the
	// slowest answer to a request due in it: where the tail came from.
	Seconds []time.Duration
}

// Rate is the answered requests per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Done) / r.Elapsed.Seconds()
}

// Percentile is the latency that q (0–1) of answered requests did not
// exceed; 0 when none were answered.
func (r Result) Percentile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(q * float64(len(r.Latencies)))
	return r.Latencies[min(i, len(r.Latencies)-1)]
}

// Run offers cfg.Rate requests a second for cfg.Duration. Request i is due
// at start + i/Rate and goes out on connection i mod Conns as soon as that
// connection is free; its latency runs from its due time. Enough connections
// that each waits Conns/Rate between requests keep the offered rate even
// when some answers are slow.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Rate <= 0 || cfg.Duration <= 0 || cfg.Conns <= 0 {
		return Result{}, errors.New("loadgen: rate, duration and connections must be positive")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	reqs, addr, err := prepare(cfg)
	if err != nil {
		return Result{}, err
	}
	total := int(cfg.Rate * cfg.Duration.Seconds())
	interval := float64(time.Second) / cfg.Rate
	conns := make([]*conn, cfg.Conns)
	for j := range conns {
		c, err := dial(ctx, addr)
		if err != nil {
			for _, c := range conns[:j] {
				c.nc.Close()
			}
			return Result{}, err
		}
		conns[j] = c
	}
	start := time.Now().Add(10 * time.Millisecond)
	results := make([]connResult, cfg.Conns)
	var wg sync.WaitGroup
	for j, c := range conns {
		wg.Go(func() {
			defer c.nc.Close()
			res := &results[j]
			res.lat = make([]time.Duration, 0, total/cfg.Conns+1)
			res.worst = make([]time.Duration, int(cfg.Duration/time.Second)+1)
			timer := time.NewTimer(time.Hour)
			defer timer.Stop()
			for i := j; i < total; i += cfg.Conns {
				due := start.Add(time.Duration(float64(i) * interval))
				if wait := time.Until(due); wait > 0 {
					timer.Reset(wait)
					select {
					case <-timer.C:
					case <-ctx.Done():
						return
					}
				}
				status, err := c.roundTrip(reqs[i%len(reqs)], cfg.Timeout)
				if err != nil {
					res.errors++
					// The rest of this connection's share is not offered:
					// count it as failed rather than pretend it was.
					res.errors += (total - 1 - i) / cfg.Conns
					return
				}
				lat := time.Since(due)
				res.lat = append(res.lat, lat)
				if sec := int(due.Sub(start) / time.Second); sec < len(res.worst) {
					res.worst[sec] = max(res.worst[sec], lat)
				}
				if status < 200 || status > 299 {
					res.non2xx++
				}
			}
		})
	}
	wg.Wait()
	r := Result{Offered: total, Elapsed: time.Since(start), Seconds: make([]time.Duration, int(cfg.Duration/time.Second)+1)}
	for _, res := range results {
		for sec, w := range res.worst {
			r.Seconds[sec] = max(r.Seconds[sec], w)
		}
		r.Latencies = append(r.Latencies, res.lat...)
		r.Non2xx += res.non2xx
		r.Errors += res.errors
	}
	r.Done = len(r.Latencies)
	slices.Sort(r.Latencies)
	return r, ctx.Err()
}

type connResult struct {
	lat    []time.Duration
	worst  []time.Duration
	non2xx int
	errors int
}

// prepare writes every distinct request once.
func prepare(cfg Config) ([][]byte, string, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, "", fmt.Errorf("loadgen: %q is not an http:// URL", cfg.URL)
	}
	method := cfg.Method
	if method == "" {
		method = "POST"
	}
	bodies := cfg.Bodies
	if len(bodies) == 0 {
		bodies = [][]byte{nil}
	}
	reqs := make([][]byte, len(bodies))
	for i, body := range bodies {
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, u.RequestURI(), u.Host)
		for _, h := range cfg.Header {
			fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
		}
		if body != nil {
			fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
		}
		b.WriteString("\r\n")
		b.Write(body)
		reqs[i] = b.Bytes()
	}
	return reqs, u.Host, nil
}

type conn struct {
	nc net.Conn
	r  *bufio.Reader
}

func dial(ctx context.Context, addr string) (*conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	return &conn{nc: nc, r: bufio.NewReaderSize(nc, 16<<10)}, nil
}

// roundTrip sends one request and reads its answer: the status line, the
// headers and a body of Content-Length bytes. The servers measured here
// answer small bodies with a length; a chunked answer is an error.
func (c *conn) roundTrip(req []byte, timeout time.Duration) (int, error) {
	c.nc.SetDeadline(time.Now().Add(timeout))
	if _, err := c.nc.Write(req); err != nil {
		return 0, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("loadgen: malformed status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil || line[8] != ' ' || status < 100 {
		return 0, fmt.Errorf("loadgen: malformed status line %q", line)
	}
	length := -1
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, fmt.Errorf("loadgen: malformed header %q", h)
		}
		if bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, fmt.Errorf("loadgen: malformed Content-Length %q", value)
			}
		}
	}
	if length < 0 {
		return 0, errors.New("loadgen: answer without Content-Length")
	}
	if _, err := c.r.Discard(length); err != nil {
		return 0, fmt.Errorf("loadgen: body: %w", err)
	}
	return status, nil
}

// ErrShort is returned by ReadBodies for an empty file.
var ErrShort = errors.New("loadgen: no request bodies")

// ReadBodies reads one request body per non-empty line.
func ReadBodies(r io.Reader) ([][]byte, error) {
	var bodies [][]byte
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		if line := bytes.TrimSpace(s.Bytes()); len(line) > 0 {
			bodies = append(bodies, bytes.Clone(line))
		}
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("loadgen: bodies: %w", err)
	}
	if len(bodies) == 0 {
		return nil, ErrShort
	}
	return bodies, nil
}
