// Package partnersim is a partner agency standing in for the real one in
// the inter-agency bundles (liên thông): a real HTTP server that takes
// the signed step webhooks (the social-insurance agency's card step, the
// labour agency's funeral allowance), answers each after a delay through
// the partner API with its own client credentials, and refuses or repeats
// a configurable share of its answers. `dancu partner simulate` runs it;
// the saga tests and the end-to-end test use it as their partner.
package partnersim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/bundle"
	"github.com/dancu-project/dancu/internal/delivery"
)

// Config is how the simulated partner behaves.
type Config struct {
	// Server is the platform's public base URL (the OpenID issuer is
	// Server + "/oidc", the partner API Server + "/api/partner/v1").
	Server string
	// ClientID and Secret are the partner system's client credentials.
	ClientID, Secret string
	// Delay is how long the partner takes before it answers a step.
	Delay time.Duration
	// RefuseRate and DuplicateRate are the shares (0 to 1) of steps it
	// refuses, and of answers it sends twice.
	RefuseRate, DuplicateRate float64
	// Seed makes the refusals and duplicates repeatable.
	Seed uint64
	Log  *slog.Logger
}

// Simulator is a running simulated partner. It is an http.Handler: serve
// it, then Register its address.
type Simulator struct {
	cfg      Config
	client   *http.Client
	tokenURL string
	secret   atomic.Value // string: the webhook signing secret
	mu       sync.Mutex
	rnd      *rand.Rand
	seen     map[string]bool
	wg       sync.WaitGroup
	ctx      context.Context
	stop     context.CancelFunc

	// Received, Repeated, Answered, Refused and Duplicated count the
	// steps received, the resends received, the answers sent, the
	// refusals among them and the answers sent twice.
	Received, Repeated, Answered, Refused, Duplicated atomic.Int64
}

// New builds a simulator; Close stops its pending answers.
func New(cfg Config) *Simulator {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimSuffix(cfg.Server, "/")
	cc := clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: cfg.Secret, TokenURL: base + "/oidc/oauth/token"}
	ctx, stop := context.WithCancel(context.Background())
	s := &Simulator{cfg: cfg, rnd: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), seen: map[string]bool{}, ctx: ctx, stop: stop, tokenURL: cc.TokenURL}
	s.setClient(cc.Client(ctx))
	s.secret.Store("")
	return s
}

// TokenURL sets the token endpoint (discovered by the caller when the
// platform's is not the default).
func (s *Simulator) TokenURL(u string) {
	cc := clientcredentials.Config{ClientID: s.cfg.ClientID, ClientSecret: s.cfg.Secret, TokenURL: u}
	s.mu.Lock()
	s.tokenURL = u
	s.mu.Unlock()
	s.setClient(cc.Client(s.ctx))
}

func (s *Simulator) setClient(c *http.Client) {
	c.Timeout = 15 * time.Second
	s.mu.Lock()
	s.client = c
	s.mu.Unlock()
}

func (s *Simulator) http() *http.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.client
}

// Discover reads the token endpoint from the platform's OpenID
// configuration.
func (s *Simulator) Discover(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(s.cfg.Server, "/")+"/oidc/.well-known/openid-configuration", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("partnersim: discovery: %w", err)
	}
	defer resp.Body.Close()
	var d struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || d.TokenEndpoint == "" {
		return fmt.Errorf("partnersim: discovery: %d %v", resp.StatusCode, err)
	}
	s.TokenURL(d.TokenEndpoint)
	return nil
}

// Register tells the platform where the partner takes its steps (its
// address as the platform reaches it) and keeps the signing secret.
func (s *Simulator) Register(ctx context.Context, publicURL string) error {
	body, _ := json.Marshal(map[string]string{"url": publicURL})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, strings.TrimSuffix(s.cfg.Server, "/")+"/api/partner/v1/bundles/endpoint", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http().Do(req)
	if err != nil {
		return fmt.Errorf("partnersim: register: %w", err)
	}
	defer resp.Body.Close()
	var e bundle.Endpoint
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &e) != nil || e.Secret == "" {
		return fmt.Errorf("partnersim: register: %d %s", resp.StatusCode, raw)
	}
	s.secret.Store(e.Secret)
	return nil
}

// ServeHTTP takes a step: the signature is checked (a forged or stale
// request is 401), a step seen before is acknowledged and not answered
// again, a new one is answered after the delay.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "unreadable", http.StatusBadRequest)
		return
	}
	if err := delivery.Verify(s.secret.Load().(string), r.Header, body, time.Now(), delivery.DefaultWindow); err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var m bundle.StepMessage
	if err := json.Unmarshal(body, &m); err != nil || m.AnswerURL == "" {
		http.Error(w, "bad step", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	dup := s.seen[m.ID]
	s.seen[m.ID] = true
	refuse := s.rnd.Float64() < s.cfg.RefuseRate
	twice := s.rnd.Float64() < s.cfg.DuplicateRate
	s.mu.Unlock()
	if dup {
		s.Repeated.Add(1)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	s.Received.Add(1)
	w.WriteHeader(http.StatusAccepted)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-time.After(s.cfg.Delay):
		case <-s.ctx.Done():
			return
		}
		a := answerFor(m, refuse)
		n := 1
		if twice {
			n = 2
			s.Duplicated.Add(1)
		}
		if refuse {
			s.Refused.Add(1)
		}
		for i := 0; i < n; i++ {
			if err := s.answer(m.AnswerURL, a); err != nil {
				s.cfg.Log.Warn("partner simulator: answer not sent", "step", m.ID, "err", err)
			}
		}
		s.Answered.Add(1)
	}()
}

// answerFor is the partner's answer: a refusal with a reason, or the
// health-insurance card number (TE, the children's code, and 13 digits
// from the PIN) or a funeral allowance decision number.
func answerFor(m bundle.StepMessage, refuse bool) bundle.Answer {
	if refuse {
		return bundle.Answer{Outcome: bundle.AnswerRefused, Reason: "Hồ sơ chưa đủ điều kiện theo cơ quan tiếp nhận (giả lập)"}
	}
	sum := sha256.Sum256([]byte(m.PIN))
	if m.Step == bundle.StepFuneral {
		return bundle.Answer{Outcome: bundle.Accepted, Value: fmt.Sprintf("%d/QD-LDTBXH", 1000+int(sum[0])<<4|int(sum[1]>>4))}
	}
	return bundle.Answer{Outcome: bundle.Accepted, Value: "TE1" + m.PIN}
}

func (s *Simulator) answer(url string, a bundle.Answer) error {
	body, _ := json.Marshal(a)
	for attempt := 0; ; attempt++ {
		req, _ := http.NewRequestWithContext(s.ctx, http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.http().Do(req)
		if err == nil {
			raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("answer %d: %s", resp.StatusCode, raw)
			switch {
			case resp.StatusCode == http.StatusUnauthorized:
				// The platform restarted or the token was revoked: a new one.
				s.mu.Lock()
				u := s.tokenURL
				s.mu.Unlock()
				s.TokenURL(u)
			case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests:
				return err
			}
		}
		if attempt >= 8 || errors.Is(s.ctx.Err(), context.Canceled) {
			return err
		}
		time.Sleep(time.Duration(100<<attempt) * time.Millisecond)
	}
}

// Wait waits for the pending answers.
func (s *Simulator) Wait() { s.wg.Wait() }

// Close drops the pending answers.
func (s *Simulator) Close() {
	s.stop()
	s.wg.Wait()
}
