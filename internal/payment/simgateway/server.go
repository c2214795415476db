// Package simgateway is a payment gateway simulator standing in for banks
// and wallets in development and tests. It is a real HTTP server with the
// documented contract of a gateway: a signed API (create a payment, fetch a
// day's statement, refund), its own payment page the payer's browser is
// sent to, and HMAC-SHA256 signed callbacks posted to the platform — with
// configurable delays, forced failures and duplicate callbacks. Client is
// the platform's side (payment.Gateway).
//
// Run it with httptest in tests (httptest.NewServer(srv.Handler())), or
// mount it in the development binary at Prefix; production never mounts it.
// The simulator keeps its payments in memory, and with Config.Journal its
// statement, the payments taken and the refunds in a file across restarts
// (journal.go), so a day's reconciliation still makes sense after one.
package simgateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/payment"
)

// Config is how the simulator behaves.
type Config struct {
	Name       string        // the gateway's name in intents; "sim" when empty
	Secret     []byte        // the HMAC key shared with the platform (from configuration)
	Prefix     string        // the path it is mounted at, e.g. "/sim/pay"; "" at the root
	Delay      time.Duration // between the payer's decision and the first callback
	Duplicates int           // extra copies of each callback, with the same event id
	// Fail, when set, decides a payment's fate before the payer does: a
	// non-empty reason (e.g. "insufficient_funds") makes the payment fail.
	Fail   func(intentID string, amount int64) string
	Client *http.Client     // for callbacks; a client with a 10 s timeout when nil
	Now    func() time.Time // time.Now when nil
	// Journal is a file that keeps the statement, the payments taken and
	// the refunds across restarts (journal.go); "" keeps them in memory.
	Journal string
}

type pay struct {
	Ref, IntentID, Description, ReturnURL, CallbackURL, Token string
	Amount                                                    int64
	ExpiresAt                                                 time.Time
	Status                                                    string // "", paid, failed
	Method, Reason                                            string
	At                                                        time.Time
	EventID                                                   string
}

// Server is a running simulator.
type Server struct {
	cfg      Config
	page     *template.Template
	mu       sync.Mutex
	pays     map[string]*pay   // by ref
	byIntent map[string]string // intent id → ref
	refunds  map[string]payment.GatewayRefund
	lines    []payment.StatementLine
	wg       sync.WaitGroup
	stop     chan struct{}
	stopOnce sync.Once
	// journalErr is the last failure to append to the journal.
	journalErr error
}

// New builds a simulator.
func New(cfg Config) (*Server, error) {
	if len(cfg.Secret) < 16 {
		return nil, errors.New("simgateway: a secret of at least 16 bytes is required")
	}
	if cfg.Name == "" {
		cfg.Name = "sim"
	}
	cfg.Prefix = strings.TrimSuffix(cfg.Prefix, "/")
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	page, err := template.New("page").Parse(pageHTML)
	if err != nil {
		return nil, err
	}
	srv := &Server{cfg: cfg, page: page, pays: map[string]*pay{}, byIntent: map[string]string{}, refunds: map[string]payment.GatewayRefund{},
		stop: make(chan struct{})}
	if err := srv.replay(); err != nil {
		return nil, err
	}
	return srv, nil
}

// Name is the gateway's name.
func (s *Server) Name() string { return s.cfg.Name }

// Mount registers the simulator's routes under Prefix (web.Mounter).
func (s *Server) Mount(mux *http.ServeMux) {
	p := s.cfg.Prefix
	mux.HandleFunc("POST "+p+"/api/payments", s.create)
	mux.HandleFunc("GET "+p+"/api/statements/{day}", s.statement)
	mux.HandleFunc("POST "+p+"/api/refunds", s.refund)
	mux.HandleFunc("GET "+p+"/pay/{ref}", s.showPage)
	mux.HandleFunc("POST "+p+"/pay/{ref}", s.decide)
}

// Handler is a mux with only the simulator, for httptest.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.Mount(mux)
	return mux
}

// Wait returns when every callback scheduled so far has been delivered or
// given up, so a test can check what duplicates did without sleeping.
func (s *Server) Wait() { s.wg.Wait() }

// Close stops sending callbacks and waits for those under way.
func (s *Server) Close() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.wg.Wait()
}

func newRef(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

type createBody struct {
	IntentID    string `json:"intent_id"`
	Amount      int64  `json:"amount"`
	Description string `json:"description"`
	ReturnURL   string `json:"return_url"`
	CallbackURL string `json:"callback_url"`
	ExpiresAt   string `json:"expires_at"`
}

// readSigned reads a signed API body.
func (s *Server) readSigned(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		http.Error(w, "bad body", http.StatusBadRequest)
		return nil, false
	}
	if err := verify(r.Header, s.cfg.Secret, s.cfg.Now(), body); err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readSigned(w, r)
	if !ok {
		return
	}
	var c createBody
	if err := json.Unmarshal(body, &c); err != nil || !id(c.IntentID) || c.Amount <= 0 || c.Amount > payment.MaxAmount || !absURL(c.ReturnURL) || !absURL(c.CallbackURL) {
		http.Error(w, "bad payment", http.StatusBadRequest)
		return
	}
	exp, _ := time.Parse(time.RFC3339Nano, c.ExpiresAt)
	s.mu.Lock()
	ref, seen := s.byIntent[c.IntentID]
	if !seen { // the intent id is the idempotency key
		ref = newRef("SIM")
		s.pays[ref] = &pay{Ref: ref, IntentID: c.IntentID, Amount: c.Amount, Description: c.Description, ReturnURL: c.ReturnURL,
			CallbackURL: c.CallbackURL, ExpiresAt: exp, Token: newRef("")}
		s.byIntent[c.IntentID] = ref
	}
	s.mu.Unlock()
	writeJSON(w, map[string]string{"ref": ref, "pay_url": s.base(r) + "/pay/" + ref})
}

func absURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// base is the simulator's address as the caller reached it.
func (s *Server) base(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + s.cfg.Prefix
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (s *Server) statement(w http.ResponseWriter, r *http.Request) {
	if err := verify(r.Header, s.cfg.Secret, s.cfg.Now(), []byte("GET "+r.URL.Path)); err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	day, err := civildate.Parse(r.PathValue("day"))
	if err != nil || day.Partial() {
		http.Error(w, "bad day", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	out := []payment.StatementLine{}
	for _, l := range s.lines {
		if civildate.Of(l.At) == day {
			out = append(out, l)
		}
	}
	s.mu.Unlock()
	writeJSON(w, out)
}

type refundBody struct {
	Ref    string `json:"ref"`
	Amount int64  `json:"amount"`
	Reason string `json:"reason"`
}

func (s *Server) refund(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readSigned(w, r)
	if !ok {
		return
	}
	var b refundBody
	if err := json.Unmarshal(body, &b); err != nil {
		http.Error(w, "bad refund", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pays[b.Ref]
	if p == nil || p.Status != payment.CallbackPaid || b.Amount != p.Amount {
		http.Error(w, "no such paid payment", http.StatusConflict)
		return
	}
	rf, done := s.refunds[b.Ref]
	if !done { // the payment's reference is the idempotency key
		rf = payment.GatewayRefund{Ref: newRef("RF"), At: s.cfg.Now().UTC()}
		s.refunds[b.Ref] = rf
		l := payment.StatementLine{Kind: payment.LineRefund, Ref: b.Ref, IntentID: p.IntentID, Amount: p.Amount, At: rf.At}
		s.lines = append(s.lines, l)
		s.journal(journalEntry{Line: &l, Refund: &refundEntry{PaymentRef: b.Ref, Refund: rf}})
	}
	writeJSON(w, map[string]string{"ref": rf.Ref, "at": rf.At.Format(time.RFC3339Nano)})
}

func (s *Server) showPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.pays[r.PathValue("ref")]
	var view pay
	if p != nil {
		view = *p
	}
	s.mu.Unlock()
	if p == nil {
		http.Error(w, "Không tìm thấy giao dịch.", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.Header().Set("X-Frame-Options", "DENY")
	s.page.Execute(w, map[string]any{"P": view, "Amount": vnd(view.Amount), "Methods": methods(), "Action": s.cfg.Prefix + "/pay/" + view.Ref})
}

// decide is the payer's choice on the page: pay with a method, or cancel.
// The browser then goes back to the return URL given at creation, never
// to one from the form.
func (s *Server) decide(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	ref := r.PathValue("ref")
	s.mu.Lock()
	p := s.pays[ref]
	if p == nil || subtle.ConstantTimeCompare([]byte(r.PostFormValue("token")), []byte(p.Token)) != 1 {
		s.mu.Unlock()
		http.Error(w, "Giao dịch không hợp lệ.", http.StatusForbidden)
		return
	}
	ret := p.ReturnURL
	s.mu.Unlock()
	var err error
	if r.PostFormValue("action") == "pay" {
		err = s.Pay(ref, r.PostFormValue("method"))
	} else {
		err = s.Decline(ref, "cancelled_by_payer")
	}
	if err != nil {
		http.Error(w, "Giao dịch đã kết thúc.", http.StatusConflict)
		return
	}
	u, _ := url.Parse(ret)
	q := u.Query()
	q.Set("payment", p.IntentID)
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// ErrDecided is returned for a payment already paid or failed.
var ErrDecided = errors.New("simgateway: payment already decided")

// Pay settles a payment as the page's pay button does (Fail may turn it
// into a failure) and schedules its callback.
func (s *Server) Pay(ref, method string) error {
	if !knownMethod(method) {
		method = "card"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pays[ref]
	if p == nil || p.Status != "" {
		return ErrDecided
	}
	p.At = s.cfg.Now().UTC()
	p.Method = method
	if s.cfg.Fail != nil {
		if why := s.cfg.Fail(p.IntentID, p.Amount); why != "" {
			p.Status, p.Reason = payment.CallbackFailed, why
		}
	}
	if p.Status == "" {
		p.Status = payment.CallbackPaid
		l := payment.StatementLine{Kind: payment.LinePayment, Ref: ref, IntentID: p.IntentID, Amount: p.Amount, At: p.At}
		s.lines = append(s.lines, l)
		paid := *p
		s.journal(journalEntry{Line: &l, Paid: &paid})
	}
	s.schedule(p)
	return nil
}

// Decline fails a payment (the payer cancelled, the bank refused) and
// schedules its callback.
func (s *Server) Decline(ref, why string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pays[ref]
	if p == nil || p.Status != "" {
		return ErrDecided
	}
	p.At, p.Status, p.Reason = s.cfg.Now().UTC(), payment.CallbackFailed, why
	s.schedule(p)
	return nil
}

// schedule sends p's callback after Delay, 1+Duplicates times, each
// retried until the platform answers 2xx (five attempts). Called with mu held.
func (s *Server) schedule(p *pay) {
	p.EventID = newRef("EV")
	body, _ := json.Marshal(callback{EventID: p.EventID, Ref: p.Ref, IntentID: p.IntentID, Status: p.Status, Amount: p.Amount,
		Method: p.Method, Reason: p.Reason, At: p.At.Format(time.RFC3339Nano)})
	copies := 1 + s.cfg.Duplicates
	target := p.CallbackURL
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if !s.sleep(s.cfg.Delay) {
			return
		}
		for range copies {
			s.deliver(target, body)
		}
	}()
}

func (s *Server) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.stop:
		return false
	}
}

func (s *Server) deliver(target string, body []byte) {
	back := 50 * time.Millisecond
	for range 5 {
		if s.post(target, body) {
			return
		}
		if !s.sleep(back) {
			return
		}
		back *= 2
	}
}

func (s *Server) post(target string, body []byte) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return true // a target that cannot be asked will not get better
	}
	req.Header.Set("Content-Type", "application/json")
	setSigned(req.Header, s.cfg.Secret, s.cfg.Now(), body)
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}

// Resend posts a decided payment's callback again with the same event id,
// as a gateway that did not see the platform's answer does.
func (s *Server) Resend(ref string) error {
	s.mu.Lock()
	p := s.pays[ref]
	if p == nil || p.Status == "" {
		s.mu.Unlock()
		return ErrDecided
	}
	body, _ := json.Marshal(callback{EventID: p.EventID, Ref: p.Ref, IntentID: p.IntentID, Status: p.Status, Amount: p.Amount,
		Method: p.Method, Reason: p.Reason, At: p.At.Format(time.RFC3339Nano)})
	target := p.CallbackURL
	s.mu.Unlock()
	if !s.post(target, body) {
		return errors.New("simgateway: callback not accepted")
	}
	return nil
}

// AddStatementLine adds a movement to the statements, as a gateway that
// booked something the platform never heard of: for reconciliation drills.
func (s *Server) AddStatementLine(l payment.StatementLine) {
	s.mu.Lock()
	s.lines = append(s.lines, l)
	s.journal(journalEntry{Line: &l})
	s.mu.Unlock()
}

// EditStatement changes the statement's lines in place (drop one, change
// an amount), for reconciliation drills.
func (s *Server) EditStatement(fn func([]payment.StatementLine) []payment.StatementLine) {
	s.mu.Lock()
	s.lines = fn(s.lines)
	s.mu.Unlock()
}

// vnd formats an amount the Vietnamese way: 1.250.000 ₫.
func vnd(n int64) string {
	s := []byte{}
	d := []byte(strings.TrimPrefix(itoa(n), "-"))
	for i, c := range d {
		if i > 0 && (len(d)-i)%3 == 0 {
			s = append(s, '.')
		}
		s = append(s, c)
	}
	return string(s) + " ₫"
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

const pageHTML = `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cổng thanh toán mô phỏng</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}dt{font-weight:bold}button{padding:.6rem 1.2rem;margin:.3rem}</style>
</head><body>
<h1>Cổng thanh toán mô phỏng</h1>
<p><em>Môi trường thử nghiệm — không có giao dịch thật.</em></p>
<dl><dt>Mã giao dịch</dt><dd id="ref">{{.P.Ref}}</dd>
<dt>Nội dung</dt><dd id="description">{{.P.Description}}</dd>
<dt>Số tiền</dt><dd id="amount">{{.Amount}}</dd></dl>
{{if .P.Status}}<p id="status">Giao dịch đã kết thúc ({{.P.Status}}).</p>{{else}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="token" value="{{.P.Token}}">
<fieldset><legend>Phương thức</legend>
{{range .Methods}}<label><input type="radio" name="method" value="{{.Key}}"{{if eq .Key "card"}} checked{{end}}> {{.Label}}</label><br>{{end}}
</fieldset>
<button type="submit" name="action" value="pay" id="pay">Thanh toán</button>
<button type="submit" name="action" value="cancel" id="cancel">Huỷ</button>
</form>{{end}}
</body></html>`
