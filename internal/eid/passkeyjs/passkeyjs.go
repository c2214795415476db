// Package passkeyjs serves the small script that connects the passkey
// buttons of the e-ID pages (OpenID login, citizen portal) to
// navigator.credentials: base64url to ArrayBuffer and back, the two fetch
// calls of a ceremony, and the page's status line. It is written by hand and
// served by the binary (no CDN), from the pages' own origin, so their
// Content-Security-Policy stays "script-src 'self'". It belongs to e-ID (the
// passkey ceremonies it drives are eid's), so both the provider and the
// web layer may serve it.
package passkeyjs

import (
	_ "embed"
	"net/http"
)

//go:embed webauthn.js
var script []byte

// Handler serves the script.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("X-Content-Type-Options", "nosniff")
		w.Write(script)
	})
}
