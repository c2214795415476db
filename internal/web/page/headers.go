package page

import (
	"net/http"
	"strings"
)

// Policy is what a page's security headers allow beyond the strict
// default: scripts, styles, images, fonts and connections from this site
// only, forms posted to this site only, never framed.
type Policy struct {
	// ImgData lets images be data: URIs (a QR code drawn into its page,
	// so what it encodes never travels in a URL).
	ImgData bool
	// FormTargets are origins a form may end up at besides this site.
	// Browsers apply form-action to the redirects that follow a form
	// post, so a sign-in that redirects back to a relying party needs
	// the relying party's origin here.
	FormTargets []string
	// NoReferrer sends no Referer at all, not even to this site (pages
	// whose URL names a sign-in in progress); otherwise same-origin.
	NoReferrer bool
}

// CSP is the Content-Security-Policy of p.
func (p Policy) CSP() string {
	var b strings.Builder
	b.WriteString("default-src 'self'; ")
	if p.ImgData {
		b.WriteString("img-src 'self' data:; ")
	}
	b.WriteString("form-action 'self'")
	for _, t := range p.FormTargets {
		b.WriteString(" " + t)
	}
	b.WriteString("; frame-ancestors 'none'")
	return b.String()
}

// Set puts p's security headers on h.
func (p Policy) Set(h http.Header) {
	h.Set("Content-Security-Policy", p.CSP())
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	if p.NoReferrer {
		h.Set("Referrer-Policy", "no-referrer")
	} else {
		h.Set("Referrer-Policy", "same-origin")
	}
}

// Secure sets p's security headers on every response of next and bounds
// the body of a POST to maxBody bytes.
func Secure(p Policy, maxBody int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Set(w.Header())
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		next.ServeHTTP(w, r)
	})
}
