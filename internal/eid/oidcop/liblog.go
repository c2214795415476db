package oidcop

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"slices"
)

// The library (zitadel/oidc v3) logs its request errors with slog's
// package-level functions, that is through slog.Default(), whatever logger
// it is given (op.WithLogger is a no-op). Left alone, those lines bypass the
// platform's format and level and carry the redirect URL with its state and
// code ("auth request redirect" url=...), the whole authorization request
// (redirect_uri, state) and the error's state.
//
// So slog's default handler becomes a router (installed once, by New): a
// record logged in a request the provider serves goes to that provider's
// logger (put in the request context by Mount), with those attributes
// dropped and URLs in the remaining text replaced. Anything else logged
// through slog.Default (nothing in dancu; the standard log package's
// output) goes to standard error as before. The router holds no logger
// itself, so several providers in one process (tests) each get their own
// lines.

// libLogKey carries the provider's logger in a request's context.
type libLogKey struct{}

// withLibraryLog routes the library's log lines of requests to next to
// the provider's logger.
func (p *Provider) withLibraryLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), libLogKey{}, p.log.Handler())))
	})
}

// installLibraryLog makes slog's default handler the router, once.
func installLibraryLog() {
	if _, ok := slog.Default().Handler().(*libraryRouter); ok {
		return
	}
	// The fallback must not be slog's own default handler: that one writes
	// through the log package, which SetDefault points back at the router.
	slog.SetDefault(slog.New(&libraryRouter{fallback: slog.NewTextHandler(os.Stderr, nil)}))
}

// libraryRouter is slog's default handler; see above.
type libraryRouter struct {
	fallback slog.Handler
	attrs    []slog.Attr // from WithAttrs, redacted on use
	groups   []string
}

func (h *libraryRouter) target(ctx context.Context) (slog.Handler, bool) {
	if ctx != nil {
		if t, ok := ctx.Value(libLogKey{}).(slog.Handler); ok {
			return t, true
		}
	}
	return h.fallback, false
}

// Enabled asks the handler a record would go to, so the platform's level
// applies.
func (h *libraryRouter) Enabled(ctx context.Context, l slog.Level) bool {
	t, _ := h.target(ctx)
	return t.Enabled(ctx, l)
}

// Handle passes a redacted copy of r to its handler.
func (h *libraryRouter) Handle(ctx context.Context, r slog.Record) error {
	t, routed := h.target(ctx)
	if !routed {
		return h.with(t).Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(slog.String("component", "oidc-library"))
	r.Attrs(func(a slog.Attr) bool {
		if a, ok := redactAttr(a); ok {
			out.AddAttrs(a)
		}
		return true
	})
	return h.with(t).Handle(ctx, out)
}

func (h *libraryRouter) with(t slog.Handler) slog.Handler {
	if len(h.attrs) > 0 {
		var kept []slog.Attr
		for _, a := range h.attrs {
			if a, ok := redactAttr(a); ok {
				kept = append(kept, a)
			}
		}
		t = t.WithAttrs(kept)
	}
	for _, g := range h.groups {
		t = t.WithGroup(g)
	}
	return t
}

func (h *libraryRouter) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(slices.Clip(h.attrs), as...)
	return &c
}

func (h *libraryRouter) WithGroup(name string) slog.Handler {
	c := *h
	c.groups = append(slices.Clip(h.groups), name)
	return &c
}

// secretKeys are attributes the library logs that hold a redirect URI, a
// state or a whole request: dropped, whatever their value.
var secretKeys = []string{"auth_request", "url", "redirect_uri", "state", "session_state", "post_logout_redirect_uri", "code", "request_uri"}

// urlRE finds URLs in free text (error descriptions and causes).
var urlRE = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"']+`)

// redactAttr drops secret attributes and replaces URLs in text; false
// drops the attribute.
func redactAttr(a slog.Attr) (slog.Attr, bool) {
	if slices.Contains(secretKeys, a.Key) {
		return a, false
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		var kept []any
		for _, g := range v.Group() {
			if g, ok := redactAttr(g); ok {
				kept = append(kept, g)
			}
		}
		if len(kept) == 0 {
			return a, false
		}
		return slog.Group(a.Key, kept...), true
	case slog.KindString:
		return slog.String(a.Key, urlRE.ReplaceAllString(v.String(), "[url]")), true
	case slog.KindAny:
		// Errors and other values: their text, with URLs replaced.
		return slog.String(a.Key, urlRE.ReplaceAllString(fmt.Sprint(v.Any()), "[url]")), true
	}
	return slog.Attr{Key: a.Key, Value: v}, true
}
