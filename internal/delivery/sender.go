package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/dancu-project/dancu/internal/events"
)

// Outcomes of an attempt, as the delivery log shows them.
const (
	outcomeDelivered = "delivered"
	outcomeRetry     = "retry"
	outcomeDead      = "dead"
)

// Sender delivers queued events. Each partner has its own lane with at most
// PerPartner attempts in flight, so a receiver that hangs or fails holds only
// its own lane; a single recorder writes outcomes in batches.
type Sender struct {
	Store   *Store
	Bus     *events.Bus  // for JetStream-mode subscriptions
	Client  *http.Client // default: NewClient(10 s, PerPartner, the store's egress)
	Log     *slog.Logger
	Metrics *Metrics // may be nil
	Now     func() time.Time

	PerPartner  int           // attempts in flight per partner; default 4
	MaxAttempts int           // attempts before the dead-letter list; default 12
	BaseDelay   time.Duration // first retry delay; default 2 s, doubled each time
	MaxDelay    time.Duration // retry delay cap; default 1 h
	Poll        time.Duration // how often a lane looks for due retries; default 1 s
	Retention   time.Duration // delivered rows and log lines kept; default 30 days

	mu      sync.Mutex
	lanes   map[string]*lane
	results chan done
	laneWG  sync.WaitGroup
	sendWG  sync.WaitGroup
	ctx     context.Context
	cut     []key // attempts cut short by the shutdown
}

type lane struct {
	partner  string
	wake     chan struct{}
	mu       sync.Mutex
	inflight map[key]bool
}

type done struct {
	r result
	l *lane
}

func (s *Sender) defaults() {
	if s.PerPartner <= 0 {
		s.PerPartner = 4
	}
	if s.MaxAttempts <= 0 {
		s.MaxAttempts = 12
	}
	if s.BaseDelay <= 0 {
		s.BaseDelay = 2 * time.Second
	}
	if s.MaxDelay <= 0 {
		s.MaxDelay = time.Hour
	}
	if s.Poll <= 0 {
		s.Poll = time.Second
	}
	if s.Retention <= 0 {
		s.Retention = 30 * 24 * time.Hour
	}
	if s.Client == nil {
		s.Client = NewClient(10*time.Second, s.PerPartner, s.Store.egress)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
}

// Start runs the lanes and the recorder until ctx ends; the returned channel
// closes when every attempt in flight has been recorded. Attempts cut short
// by the shutdown are not recorded: they are sent again after a restart.
func (s *Sender) Start(ctx context.Context) <-chan struct{} {
	s.defaults()
	s.mu.Lock()
	s.ctx = ctx
	s.lanes = map[string]*lane{}
	s.results = make(chan done, 1024)
	s.mu.Unlock()
	recorded := make(chan struct{})
	go s.record(recorded)
	s.laneWG.Add(1)
	go s.supervise(ctx)
	stopped := make(chan struct{})
	go func() {
		<-ctx.Done()
		// Any lane() that saw ctx alive has added itself to laneWG once
		// the lock is free; later ones see ctx done.
		s.mu.Lock()
		s.mu.Unlock()
		s.laneWG.Wait()
		s.sendWG.Wait()
		close(s.results)
		<-recorded
		if len(s.cut) > 0 {
			rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := s.Store.release(rctx, s.cut, s.Now()); err != nil {
				s.Log.Warn("claims not released; sent after their lease", "code", "delivery.release_failed", "err", err)
			}
			cancel()
		}
		close(stopped)
	}()
	return stopped
}

// Notify wakes the lanes of partners with new deliveries, starting lanes
// not yet running.
func (s *Sender) Notify(partners []string) {
	for _, p := range partners {
		if l := s.lane(p); l != nil {
			l.poke()
		}
	}
}

func (l *lane) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (s *Sender) lane(partner string) *lane {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil || s.ctx.Err() != nil {
		return nil
	}
	l, ok := s.lanes[partner]
	if !ok {
		l = &lane{partner: partner, wake: make(chan struct{}, 1), inflight: map[key]bool{}}
		s.lanes[partner] = l
		s.laneWG.Add(1)
		go s.runLane(s.ctx, l)
	}
	return l
}

// supervise starts a lane for every partner with an active subscription,
// now and then, so retries and replays made by another process are found.
func (s *Sender) supervise(ctx context.Context) {
	defer s.laneWG.Done()
	var purged time.Time
	for {
		if now := s.Now(); now.Sub(purged) > time.Hour {
			purged = now
			if _, err := s.Store.Purge(ctx, now.Add(-s.Retention)); err != nil && ctx.Err() == nil {
				s.Log.Warn("delivery purge", "code", "delivery.purge_failed", "err", err)
			}
		}
		partners, err := s.Store.activePartners(ctx)
		if err != nil && ctx.Err() == nil {
			s.Log.Warn("delivery partners", "code", "delivery.partners_failed", "err", err)
		}
		s.Notify(partners)
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * s.Poll):
		}
	}
}

func (s *Sender) runLane(ctx context.Context, l *lane) {
	defer s.laneWG.Done()
	for {
		l.mu.Lock()
		busy := len(l.inflight)
		l.mu.Unlock()
		if free := s.PerPartner - busy; free > 0 && ctx.Err() == nil {
			now := s.Now()
			jobs, err := s.Store.claim(ctx, l.partner, now, now.Add(s.lease()), free)
			if err != nil && ctx.Err() == nil {
				s.Log.Warn("due deliveries", "code", "delivery.due_failed", "partner", l.partner, "err", err)
			}
			l.mu.Lock()
			for _, j := range jobs {
				if l.inflight[j.key()] {
					continue // a lease that ran out under a slow attempt
				}
				l.inflight[j.key()] = true
				s.sendWG.Add(1)
				go s.attempt(ctx, l, j)
			}
			l.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		case <-time.After(s.Poll):
		}
	}
}

func (j job) key() key { return key{j.EventID, j.SubscriptionID} }

// attempt makes one delivery attempt and hands its outcome to the recorder.
func (s *Sender) attempt(ctx context.Context, l *lane, j job) {
	defer s.sendWG.Done()
	n := j.Attempts + 1
	start := s.Now()
	status, err := s.send(ctx, j, n, start)
	took := time.Since(start)
	if err != nil && ctx.Err() != nil {
		// Cut short by the shutdown: not an attempt to count; the claim is
		// released on the way out, so the next start sends it at once.
		l.mu.Lock()
		delete(l.inflight, j.key())
		l.mu.Unlock()
		s.mu.Lock()
		s.cut = append(s.cut, j.key())
		s.mu.Unlock()
		return
	}
	r := result{key: j.key(), partner: j.PartnerID, attempt: n, at: start, status: status, latency: took}
	switch {
	case err == nil:
		r.outcome, r.queueStat, r.nextAt = outcomeDelivered, StatusDelivered, start
	case n >= s.MaxAttempts:
		r.outcome, r.queueStat, r.nextAt, r.err = outcomeDead, StatusDead, start, err.Error()
		s.Log.Warn("delivery dead-lettered", "code", "delivery.dead_letter", "partner", j.PartnerID, "event_id", j.EventID, "attempts", n, "status", status)
	default:
		r.outcome, r.queueStat, r.err = outcomeRetry, StatusPending, err.Error()
		r.nextAt = start.Add(s.backoff(n))
		s.Log.Debug("delivery attempt failed", "code", "delivery.retry", "partner", j.PartnerID, "event_id", j.EventID, "attempt", n, "status", status)
	}
	s.Metrics.attempt(j.PartnerID, r.outcome, took)
	s.results <- done{r: r, l: l}
}

// lease is how long a claimed delivery stays with this node: long enough
// for an attempt and its recording, short enough that a node's crash
// delays its deliveries by seconds, not minutes.
func (s *Sender) lease() time.Duration {
	t := s.Client.Timeout
	if t <= 0 {
		t = 30 * time.Second
	}
	return t + 5*time.Second
}

// backoff is the delay after the n-th failed attempt: BaseDelay doubled each
// time up to MaxDelay, with "equal jitter" (half fixed, half random) so
// partners recovering from an outage are not hit by every retry at once.
func (s *Sender) backoff(n int) time.Duration {
	d := s.MaxDelay
	if n-1 < 40 {
		if e := s.BaseDelay << (n - 1); e > 0 && e < d {
			d = e
		}
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// send delivers j once: a signed POST, or a publish on the partner's subject.
func (s *Sender) send(ctx context.Context, j job, attempt int, now time.Time) (int, error) {
	body := []byte(j.body)
	if j.mode == ModeJetStream {
		if s.Bus == nil {
			return 0, errors.New("no JetStream connection")
		}
		var p Payload
		if err := json.Unmarshal(body, &p); err != nil {
			return 0, fmt.Errorf("queued body: %w", err)
		}
		pctx, cancel := context.WithTimeout(ctx, s.lease()/3)
		defer cancel()
		// The message id is unique per partner, so JetStream drops a
		// re-sent copy.
		if err := events.Publish(pctx, s.Bus, Events, events.PartnerDelivery(j.PartnerID, j.Type), j.EventID+"."+j.PartnerID, p,
			map[string]string{HeaderEventID: j.EventID, HeaderEventType: j.Type}); err != nil {
			return 0, err
		}
		return 0, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "dancu-delivery/1")
	Sign(req.Header, j.secret, j.EventID, j.Type, attempt, body, now)
	resp, err := s.Client.Do(req)
	if err != nil {
		return 0, errors.New(describe(err))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// describe names a transport failure without the URL (it may carry a
// partner's token in its query).
func describe(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// record writes outcomes in batches and frees their lanes' slots. A batch
// that cannot be written leaves its rows claimed: they are sent again when
// the lease runs out (at least once).
func (s *Sender) record(stopped chan<- struct{}) {
	defer close(stopped)
	var batch []done
	for first := range s.results {
		batch = append(batch[:0], first)
	drain:
		for len(batch) < 500 {
			select {
			case d, ok := <-s.results:
				if !ok {
					break drain
				}
				batch = append(batch, d)
			default:
				break drain
			}
		}
		rs := make([]result, len(batch))
		for i, d := range batch {
			rs[i] = d.r
		}
		// Background context: an outcome reached during shutdown is still
		// written, so a delivered event is not sent again needlessly.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := s.Store.record(ctx, rs); err != nil {
			s.Log.Error("delivery outcomes not recorded", "code", "delivery.record_failed", "outcomes", len(rs), "err", err)
		}
		cancel()
		for _, d := range batch {
			d.l.mu.Lock()
			delete(d.l.inflight, d.r.key)
			d.l.mu.Unlock()
			d.l.poke()
		}
	}
}
