package partnerapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
)

// Caller is the partner system behind a request.
type Caller struct {
	Partner exchange.Partner // with its policy
	System  exchange.System
	Token   oidcop.AccessToken
}

type callerKey struct{}

// PartnerFrom returns the authenticated partner, with its policy.
func PartnerFrom(ctx context.Context) (exchange.Partner, bool) {
	c, ok := CallerFrom(ctx)
	return c.Partner, ok
}

// CallerFrom returns the authenticated partner system and its token.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// WithCaller returns ctx carrying c (for handlers tested on their own).
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

var (
	errNoToken      = fault.New(fault.Unauthenticated, "auth.token_required", "Thiếu mã truy cập (Authorization: Bearer).", "An access token is required (Authorization: Bearer).")
	errCitizenToken = fault.New(fault.Unauthenticated, "auth.not_a_system_token", "Mã truy cập này cấp cho công dân, không phải cho hệ thống đối tác (dùng client_credentials).", "This access token was issued to a citizen's sign-in, not to a partner system (use client_credentials).")
)

// authenticate checks the bearer token, finds the partner system of its
// client and, when the system registered a certificate, the TLS client
// certificate; the caller goes into the request's context.
func (a *API) authenticate(r *http.Request) (*http.Request, error) {
	var token string
	if a.Binding != nil {
		// DPoP-bound tokens (FAPI 2.0 partners) prove possession of their key.
		if r.Header.Get("Authorization") == "" {
			return r, errNoToken
		}
		var err error
		if token, err = a.Binding.CheckResourceRequest(r.Context(), r, a.PublicURL+r.URL.Path); err != nil {
			return r, err
		}
	} else {
		scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || t == "" {
			return r, errNoToken
		}
		token = t
	}
	t, err := a.Tokens.VerifyAccessToken(r.Context(), strings.TrimSpace(token))
	if err != nil {
		return r, err
	}
	if t.Citizen() {
		return r, errCitizenToken
	}
	sys, p, err := a.Partners.System(r.Context(), t.ClientID)
	if err != nil {
		return r, err
	}
	if sys.Disabled || p.Disabled {
		return r, exchange.ErrPartnerDisabled
	}
	if sys.CertFingerprint != "" && !certMatches(r, sys.CertFingerprint) {
		return r, exchange.ErrCertRequired
	}
	return r.WithContext(WithCaller(r.Context(), Caller{Partner: p, System: sys, Token: t})), nil
}

// certMatches reports whether the TLS client certificate is the registered
// one. Behind a TLS-terminating proxy this check belongs to the proxy.
func certMatches(r *http.Request, fingerprint string) bool {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return false
	}
	sum := sha256.Sum256(r.TLS.PeerCertificates[0].Raw)
	return subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(strings.ToLower(fingerprint))) == 1
}
