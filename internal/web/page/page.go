// Package page is the kit every HTML page of dancu is built with: the staff
// pages (web/ui), the citizen portal (web/portal) and the OpenID provider's
// sign-in and consent pages (drawn by web/portal for eid/oidcop). It owns
// what must be the same on every page, so that a new page is written once,
// the same way:
//
//   - the security headers and the one Content-Security-Policy builder
//     (Policy, Secure);
//   - templates parsed once per language at start and rendered into a
//     buffer, so a template error is a clean 500, never half a page
//     (Templates, Kit.Render);
//   - the error page of a domain fault, with the HTTP status of
//     problem.Status (the API's, one mapping) and one logging rule: a 5xx
//     logs its fault code and wrapped cause as problem.Write does, a refusal
//     its code, a client that went away nothing but a debug line (Kit.Fail);
//   - the language (Vietnamese by default, English; Lang, Kit.SetLang) and
//     the one guard for local redirects (LocalPath);
//   - CSRF tokens (SameToken, FormToken);
//   - the message catalogue that modules register their texts into
//     (Catalogue).
//
// The kit never logs what a request carried: route patterns, statuses,
// fault codes and error chains only (an error chain holds driver text, no
// form values).
package page

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/web/problem"
)

// kitFS holds the templates every module's set starts with (page.start:
// the document's head, skip link and header bar).
//
//go:embed templates/*.html
var kitFS embed.FS

// Templates are a module's page templates, parsed once per language: each
// language's set has its own template functions (the message function "t"
// and "home", the module's home page, among them) and the kit's templates.
type Templates struct {
	byLang map[string]*template.Template
}

// Parse parses the templates of fsys matching patterns once for every
// language, with the functions funcs returns for that language and the
// kit's own (kitFuncs: dates, times and the names of coded values), which
// funcs may not redefine.
func Parse(fsys fs.FS, funcs func(lang string) template.FuncMap, patterns ...string) (*Templates, error) {
	t := &Templates{byLang: map[string]*template.Template{}}
	for _, l := range Languages {
		own, kit := funcs(l), kitFuncs(l)
		for name := range own {
			if _, taken := kit[name]; taken {
				return nil, fmt.Errorf("page: template function %q is the kit's (one date, time and name format on every page)", name)
			}
		}
		set, err := template.New("page").Funcs(kit).Funcs(own).ParseFS(kitFS, "templates/*.html")
		if err == nil {
			set, err = set.ParseFS(fsys, patterns...)
		}
		if err != nil {
			return nil, fmt.Errorf("page: parse templates (%s): %w", l, err)
		}
		t.byLang[l] = set
	}
	return t, nil
}

// Kit renders one module's pages and its errors.
type Kit struct {
	Templates *Templates
	Messages  *Catalogue
	Log       *slog.Logger
	// SignIn is where a request that needs a signed-in user is sent.
	SignIn string
	// SecureCookies marks the language cookie Secure (behind HTTPS).
	SecureCookies bool
	// ErrorPage draws the module's error page (in its own layout): the
	// status, the page's language, the title's message id and the text
	// shown.
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int, lang, titleID, text string)
}

// Render executes the template name of language lang with data into a
// buffer and sends it with status. A template error becomes a plain 500
// (logged) instead of half a page. A language asked for with ?lang= is
// remembered in the language cookie.
func (k *Kit) Render(w http.ResponseWriter, r *http.Request, status int, lang, name string, data any) {
	set := k.Templates.byLang[lang]
	if set == nil {
		lang, set = VI, k.Templates.byLang[VI]
	}
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, name, data); err != nil {
		k.Failed(r, http.StatusInternalServerError, "page.template", err)
		http.Error(w, k.Messages.T(lang, "err.internal.text"), http.StatusInternalServerError)
		return
	}
	k.rememberLang(w, r)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// Fail answers a request that a domain error stopped: a client that went
// away gets 499 and no page; an unauthenticated request goes to SignIn;
// any other fault gets the module's error page with problem.Status's
// status. A 5xx shows a generic text (its own may hold SQL or driver text)
// and logs its fault code and cause; a refusal (403) logs its code. hints
// are languages the page should rather be in (Lang).
func (k *Kit) Fail(w http.ResponseWriter, r *http.Request, err error, hints ...string) {
	f, status := k.outcome(w, r, err)
	l := Lang(r, hints...)
	switch {
	case status == problem.StatusClientClosed:
	case f.Kind == fault.Unauthenticated:
		http.Redirect(w, r, k.SignIn, http.StatusSeeOther)
	case status >= 500:
		k.ErrorPage(w, r, status, l, "err.internal.title", k.Messages.T(l, "err.internal.text"))
	case f.Kind == fault.Forbidden:
		k.ErrorPage(w, r, status, l, "err.forbidden.title", FaultText(l, f))
	case f.Kind == fault.NotFound:
		k.ErrorPage(w, r, status, l, "err.notfound.title", FaultText(l, f))
	default:
		k.ErrorPage(w, r, status, l, "err.invalid.title", FaultText(l, f))
	}
}

// ScriptFail answers a page script's call (JSON) that err stopped, the
// way Fail answers a page: {"error": message, "code": code} with
// problem.Status's status and the fault's message in the page's language;
// a 5xx with a generic message.
func (k *Kit) ScriptFail(w http.ResponseWriter, r *http.Request, err error, hints ...string) {
	f, status := k.outcome(w, r, err)
	if status == problem.StatusClientClosed {
		return
	}
	l := Lang(r, hints...)
	body := map[string]string{"error": FaultText(l, f), "code": f.Code}
	if status >= 500 {
		body = map[string]string{"error": k.Messages.T(l, "err.internal.text"), "code": "internal"}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// outcome is the one rule for a request err stopped: the deciding fault
// and problem.Status's status; a client that went away is 499, answered
// here with the bare status and a debug line (whatever failed after it
// left is its leaving, not a server fault); a 5xx is logged with its cause,
// a refusal (403) with its code.
func (k *Kit) outcome(w http.ResponseWriter, r *http.Request, err error) (*fault.Error, int) {
	f := Worst(fault.Faults(err))
	status := problem.Status(f.Kind)
	switch {
	case problem.ClientGone(r):
		// A query cut short by the client's leaving fails with the
		// driver's own error: it is still the client's leaving.
		k.log().DebugContext(r.Context(), "client closed the request", "route", r.Pattern)
		w.WriteHeader(problem.StatusClientClosed)
		return fault.As(context.Canceled), problem.StatusClientClosed
	case status >= 500:
		k.Failed(r, status, f.Code, err)
	case f.Kind == fault.Forbidden:
		k.Refused(r, status, f.Code)
	}
	return f, status
}

// Refused logs a refused request (a forbidden read, a CSRF token that does
// not match): route, status and code, never what the request carried.
func (k *Kit) Refused(r *http.Request, status int, code string) {
	k.log().WarnContext(r.Context(), "page request refused", "route", r.Pattern, "status", status, "code", code)
}

// Failed logs a request that failed on the server's side as problem.Write
// does: route, status, fault code and the wrapped cause (driver or SQL
// text, which is why it is logged and never sent).
func (k *Kit) Failed(r *http.Request, status int, code string, err error) {
	k.log().ErrorContext(r.Context(), "page request failed", "route", r.Pattern, "status", status, "code", code, "err", err)
}

func (k *Kit) log() *slog.Logger {
	if k.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return k.Log
}

// Worst picks the fault that decides the page among those err carries: an
// internal one first, then a refusal, else the first.
func Worst(fs []*fault.Error) *fault.Error {
	for _, k := range []fault.Kind{fault.Internal, fault.Forbidden, fault.Unauthenticated} {
		for _, f := range fs {
			if f.Kind == k {
				return f
			}
		}
	}
	return fs[0]
}

// FaultText is a fault's message in language l.
func FaultText(l string, f *fault.Error) string {
	if l == EN && f.English != "" {
		return f.English
	}
	return f.Message
}

// ErrText is the message of err's deciding fault in language l.
func ErrText(l string, err error) string {
	if err == nil {
		return ""
	}
	return FaultText(l, Worst(fault.Faults(err)))
}
