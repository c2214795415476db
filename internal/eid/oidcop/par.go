package oidcop

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/dancu-project/dancu/internal/fault"
)

// Pushed authorization requests (RFC 9126): the client sends the
// authorization request's parameters straight to the provider, with client
// authentication, and gets a short-lived reference (request_uri) to send
// the citizen's browser with. The parameters never pass through the
// browser, so they cannot be read or altered there. The library has no
// such endpoint: ours stores the parameters and, at the authorization
// endpoint, puts them back in place of the reference before the library
// reads the request.

const (
	// RequestURIPrefix starts every request_uri the provider hands out.
	RequestURIPrefix = "urn:ietf:params:oauth:request_uri:"
	// parTTL is how long a pushed request may wait for the browser.
	parTTL = 60 * time.Second
	// maxPushedBody bounds a pushed request's body.
	maxPushedBody = 64 << 10
)

// The authorization endpoint's refusals, shown to the citizen.
var (
	errPushedUnknownPage = fault.New(fault.Malformed, "eid.par_unknown",
		"Yêu cầu đăng nhập không tồn tại, đã được dùng hoặc đã hết hạn. Vui lòng quay lại ứng dụng và thử lại.",
		"The sign-in request is unknown, already used or expired. Please go back to the application and try again.")
	errPushedRequiredPage = fault.New(fault.Malformed, "eid.par_required",
		"Ứng dụng này phải gửi yêu cầu đăng nhập trước qua kênh an toàn (PAR). Vui lòng quay lại ứng dụng.",
		"This application must push its sign-in requests first (PAR). Please go back to the application.")
)

// pushAuthorization is the pushed authorization request endpoint.
func (p *Provider) pushAuthorization(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxPushedBody)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the request body is not a form")
		return
	}
	c, err := p.authenticateClient(r, p.issuer+"/par")
	if err != nil {
		p.log.Info("pushed request: client refused", "code", "eid.par_client_refused", "reason", err.Error())
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	params, err := pushedParams(r.PostForm, c)
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	ref := make([]byte, 32)
	rand.Read(ref)
	uri := RequestURIPrefix + base64.RawURLEncoding.EncodeToString(ref)
	if _, err := p.store.db.W.ExecContext(r.Context(), `INSERT INTO eid_oidc_par (hash, client_id, params, expires_at) VALUES ($1, $2, $3, $4)`,
		hashToken(uri), c.ID, params.Encode(), p.now().Add(parTTL).Unix()); err != nil {
		p.log.Error("pushed request", "code", "eid.par_store", "err", err)
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"request_uri": uri, "expires_in": int(parTTL.Seconds())})
}

// pushedParams checks a pushed request as the authorization endpoint would
// (RFC 9126 §2.1) and returns the parameters to keep: without the client's
// credentials, with its client_id. Errors are OAuth error descriptions.
func pushedParams(form url.Values, c Client) (url.Values, error) {
	params := url.Values{}
	for k, v := range form {
		switch k {
		case "client_secret", "client_assertion", "client_assertion_type":
			continue
		case "request_uri":
			return nil, errors.New("request_uri must not be pushed")
		case "request":
			return nil, errors.New("request objects are not supported")
		}
		if len(v) != 1 {
			return nil, fmt.Errorf("parameter %s given more than once", k)
		}
		params[k] = v
	}
	if id := params.Get("client_id"); id != "" && id != c.ID {
		return nil, errors.New("client_id differs from the authenticated client")
	}
	params.Set("client_id", c.ID)
	if !c.Allows(GrantAuthorizationCode) {
		return nil, errors.New("the client is not registered for the authorization code flow")
	}
	if params.Get("response_type") != string(oidc.ResponseTypeCode) {
		return nil, errors.New("response_type must be code")
	}
	if !slices.Contains(c.RedirectURIs, params.Get("redirect_uri")) {
		return nil, errors.New("redirect_uri is not registered for the client")
	}
	if params.Get("code_challenge") == "" || params.Get("code_challenge_method") != string(oidc.CodeChallengeMethodS256) {
		return nil, errors.New("PKCE with code_challenge_method=S256 is required")
	}
	return params, nil
}

var (
	errPushedUnknown = errors.New("request_uri unknown, used or of another client")
	errPushedExpired = errors.New("request_uri expired")
)

// takePushed returns a pushed request's parameters and deletes it: a
// request_uri is good once, for the client it was pushed by, for parTTL.
// Another client presenting it does not spend it.
func (p *Provider) takePushed(ctx context.Context, uri, clientID string) (url.Values, error) {
	if !strings.HasPrefix(uri, RequestURIPrefix) || clientID == "" {
		return nil, errPushedUnknown
	}
	var params string
	var expires int64
	err := p.store.db.W.QueryRowContext(ctx, `DELETE FROM eid_oidc_par WHERE hash = $1 AND client_id = $2 RETURNING params, expires_at`,
		hashToken(uri), clientID).Scan(&params, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errPushedUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("take pushed request: %w", err)
	}
	if p.now().Unix() >= expires {
		return nil, errPushedExpired
	}
	v, err := url.ParseQuery(params)
	if err != nil {
		return nil, fmt.Errorf("take pushed request: %w", err)
	}
	return v, nil
}

// authorizeGate stands in front of the library's authorization endpoint: a
// request with request_uri is replaced by the parameters pushed for it (any
// other parameter is ignored, RFC 9126 §4); a plain request of a client
// registered as requiring pushed requests is refused.
func (p *Provider) authorizeGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			p.badRequest(w, r)
			return
		}
		clientID := r.Form.Get("client_id")
		if uri := r.Form.Get("request_uri"); uri != "" {
			params, err := p.takePushed(r.Context(), uri, clientID)
			if err != nil {
				p.log.Info("authorize: request_uri refused", "code", "eid.par_refused", "reason", err.Error())
				p.pages.Fail(w, r, errPushedUnknownPage, Page{Prefix: p.prefix})
				return
			}
			r2 := r.Clone(r.Context())
			r2.URL.RawQuery = params.Encode()
			// Empty, non-nil PostForm: the library's ParseForm reads only
			// the query now, not a body already consumed.
			r2.Form, r2.PostForm = nil, url.Values{}
			next.ServeHTTP(w, r2)
			return
		}
		if c, err := p.clients.Get(r.Context(), clientID); err == nil && c.RequirePAR {
			p.log.Info("authorize: plain request of a PAR client", "code", "eid.par_required")
			p.pages.Fail(w, r, errPushedRequiredPage, Page{Prefix: p.prefix})
			return
		}
		next.ServeHTTP(w, r)
	})
}
