// Package verifypage is the public check of a signed result: the address
// in a result's QR code, /verify/{id}?c={code}, answers without sign-in
// whether the document is genuine and shows only its kind, issuing unit,
// date and the holder's masked name (document.Verify). The same address
// answers JSON to a client that asks for it (Accept: application/json).
//
// A wrong code and an unknown id get the same answer. Checks are limited
// per client address and per document id (failures only) in memory on
// each node; the address is used for counting and never logged or
// stored — document.Verify logs each check's time only.
package verifypage

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dancu-project/dancu/internal/document"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/web/page"
	"github.com/dancu-project/dancu/internal/web/problem"
)

//go:embed templates/*.html
var templateFS embed.FS

// Verifier checks a document id and code (document.Store).
type Verifier interface {
	Verify(ctx context.Context, id, code string) (document.Verification, error)
}

// ErrLimited refuses a client that checked too often.
var ErrLimited = fault.New(fault.Limited, "document.verify_limited", "Bạn đã kiểm tra quá nhiều lần; vui lòng thử lại sau ít phút.", "Too many checks; please try again in a few minutes.")

// Deps are what the page needs.
type Deps struct {
	Verifier      Verifier
	Log           *slog.Logger
	Now           func() time.Time
	SecureCookies bool
	// PerClient is the checks one client address may make per Window
	// (default 30); PerDocument the failed checks of one id per Window
	// (default 10), whoever makes them.
	PerClient, PerDocument int
	Window                 time.Duration // default 1 minute
}

// Page serves /verify.
type Page struct {
	d       Deps
	kit     *page.Kit
	clients *limiter
	ids     *limiter
}

// New parses the templates once.
func New(d Deps) (*Page, error) {
	if d.Verifier == nil {
		return nil, errors.New("verifypage: Verifier is required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.PerClient <= 0 {
		d.PerClient = 30
	}
	if d.PerDocument <= 0 {
		d.PerDocument = 10
	}
	if d.Window <= 0 {
		d.Window = time.Minute
	}
	msgs := page.NewCatalogue()
	if err := msgs.Register("verify page", messages); err != nil {
		return nil, err
	}
	tmpl, err := page.Parse(templateFS, func(l string) template.FuncMap {
		return template.FuncMap{
			"t":    func(id string) string { return msgs.T(l, id) },
			"home": func() string { return "/verify" },
			"kind": func(k string) string { return msgs.T(l, "kind."+k) },
		}
	}, "templates/*.html")
	if err != nil {
		return nil, err
	}
	k := &page.Kit{Templates: tmpl, Messages: msgs, Log: d.Log, SignIn: "/citizen/login", SecureCookies: d.SecureCookies}
	k.ErrorPage = func(w http.ResponseWriter, r *http.Request, status int, lang, titleID, text string) {
		k.Render(w, r, status, lang, "verify.html", &view{Lang: lang, Title: msgs.T(lang, titleID), Error: text, LangURL: langURL(r, lang)})
	}
	return &Page{d: d, kit: k, clients: newLimiter(d.PerClient, d.Window), ids: newLimiter(d.PerDocument, d.Window)}, nil
}

// Mount registers GET /verify (a form for a code typed from paper) and
// GET /verify/{id}.
func (p *Page) Mount(mux *http.ServeMux) {
	h := func(fn http.HandlerFunc) http.Handler {
		return page.Secure(page.Policy{}, 1<<10, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			fn(w, r)
		}))
	}
	mux.Handle("GET /verify", h(p.form))
	mux.Handle("GET /verify/{id}", h(p.check))
}

type view struct {
	Lang, Title, LangURL, Flash, Error string
	ID, Code                           string
	Result                             *document.Verification
}

func langURL(r *http.Request, l string) string {
	q := r.URL.Query()
	q.Set("lang", page.Other(l))
	return r.URL.Path + "?" + q.Encode()
}

// form shows the form, or sends a typed id and code to their check.
func (p *Page) form(w http.ResponseWriter, r *http.Request) {
	id, code := strings.TrimSpace(r.URL.Query().Get("id")), strings.TrimSpace(r.URL.Query().Get("c"))
	if id != "" {
		http.Redirect(w, r, document.VerifyPath(strings.ToUpper(id), code), http.StatusSeeOther)
		return
	}
	l := page.Lang(r)
	p.kit.Render(w, r, http.StatusOK, l, "verify.html", &view{Lang: l, Title: p.kit.Messages.T(l, "verify.title"), LangURL: langURL(r, l)})
}

func wantsJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "application/json") && !strings.Contains(a, "text/html")
}

func (p *Page) check(w http.ResponseWriter, r *http.Request) {
	id, code := r.PathValue("id"), r.URL.Query().Get("c")
	l := page.Lang(r)
	fail := func(err error) {
		if errors.Is(err, ErrLimited) {
			w.Header().Set("Retry-After", "60")
		}
		if wantsJSON(r) {
			problem.Write(w, r, p.d.Log, err)
			return
		}
		p.kit.Fail(w, r, err)
	}
	now := p.d.Now()
	if !p.clients.allow(clientAddr(r), now) || p.ids.full(id, now) {
		fail(ErrLimited)
		return
	}
	v, err := p.d.Verifier.Verify(r.Context(), id, code)
	if err != nil {
		if errors.Is(err, document.ErrNotGenuine) {
			p.ids.allow(id, now) // count the failure against the id
		}
		fail(err)
		return
	}
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(answer{Genuine: true, ID: v.ID, Kind: v.Kind, Title: v.Title, Unit: v.Unit,
			IssueDate: v.IssueDate.String(), Holder: v.Holder, SHA256: v.SHA256})
		return
	}
	p.kit.Render(w, r, http.StatusOK, l, "verify.html", &view{Lang: l, Title: p.kit.Messages.T(l, "verify.genuine"),
		LangURL: langURL(r, l), Result: &v})
}

// answer is the JSON of a genuine document.
type answer struct {
	Genuine   bool   `json:"genuine"`
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	Title     string `json:"title"`
	Unit      string `json:"issuing_unit"`
	IssueDate string `json:"issue_date"`
	Holder    string `json:"holder"`
	SHA256    string `json:"sha256"`
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limiter counts events per key in fixed windows, in memory. Keys are
// forgotten when their window has passed (swept as the map grows), so it
// holds no lasting record of who asked.
type limiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	seen   map[string]*count
}

type count struct {
	start time.Time
	n     int
}

func newLimiter(limit int, window time.Duration) *limiter {
	return &limiter{limit: limit, window: window, seen: map[string]*count{}}
}

// allow counts one event for key and reports whether it is within limit.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.current(key, now)
	if c.n >= l.limit {
		return false
	}
	c.n++
	return true
}

// full reports whether key has used its window's events, counting none.
func (l *limiter) full(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.seen[key]
	return ok && now.Sub(c.start) < l.window && c.n >= l.limit
}

func (l *limiter) current(key string, now time.Time) *count {
	if len(l.seen) > 10000 {
		for k, c := range l.seen {
			if now.Sub(c.start) >= l.window {
				delete(l.seen, k)
			}
		}
	}
	c, ok := l.seen[key]
	if !ok || now.Sub(c.start) >= l.window {
		c = &count{start: now}
		l.seen[key] = c
	}
	return c
}
