package oidcop

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
)

// ClientInfo is a registered client as administrators see it: the
// registration (never the secret, only whether there is one), whether it
// is disabled and when it was registered.
type ClientInfo struct {
	Client
	Disabled bool
	Created  time.Time
}

// HasSecret reports whether the client authenticates with a shared secret.
func (c ClientInfo) HasSecret() bool { return c.SecretHash != "" }

// ScopeInfo is a scope a client may be registered for, with the data it
// releases as the consent page words it.
type ScopeInfo struct {
	Scope  string
	Claims []string
}

// RegistrableScopes lists the scopes a client may be registered for, in a
// stable order for forms.
func RegistrableScopes() []ScopeInfo {
	order := []string{ScopeProfile, ScopeAddress, ScopePIN, ScopeOrg, oidc.ScopeOfflineAccess}
	out := make([]ScopeInfo, 0, len(order))
	for _, s := range order {
		out = append(out, ScopeInfo{Scope: s, Claims: scopeClaims[s]})
	}
	return out
}

// Grants lists the grant types a client may be registered for.
var Grants = []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials}

var (
	clientIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)
	// A private-use URI scheme of a native app is a reversed domain name
	// (RFC 8252 section 7.1), e.g. vn.gov.vneid:/callback.
	privateScheme = regexp.MustCompile(`^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$`)
)

// ValidateClient checks a registration as Register and Update do and names
// every field at fault, in Vietnamese and English, so a form can show them
// all at once. hasSecret says whether the client will hold a secret
// (c.Secret given, or a stored one kept).
func ValidateClient(c Client, hasSecret bool) error {
	var l fault.List
	bad := func(field, vi, en string, args ...any) {
		l = append(l, fault.Invalidf(field, ErrClientInvalid.Code, vi, en, args...))
	}
	if !clientIDPattern.MatchString(c.ID) {
		bad("id", "Mã ứng dụng gồm 3–64 chữ thường, chữ số, dấu chấm, gạch dưới hoặc gạch nối, bắt đầu bằng chữ hoặc số.",
			"The client id has 3–64 lower-case letters, digits, dots, underscores or hyphens, starting with a letter or digit.")
	}
	if n := strings.TrimSpace(c.Name); n == "" || len(n) > 200 {
		bad("name", "Nhập tên ứng dụng hiển thị cho công dân (tối đa 200 ký tự).", "Enter the name citizens see (at most 200 characters).")
	}
	if p := strings.TrimSpace(c.Purpose); p == "" || len(p) > 500 {
		bad("purpose", "Nhập mục đích sử dụng dữ liệu, hiển thị trên màn hình xin đồng ý (tối đa 500 ký tự).",
			"Enter the purpose shown on the consent screen (at most 500 characters).")
	}
	confidential := hasSecret || c.Secret != "" || c.JWKS != ""
	if len(c.GrantTypes) == 0 {
		bad("grant_types", "Chọn ít nhất một kiểu cấp quyền.", "Choose at least one grant type.")
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains(Grants, g) {
			bad("grant_types", "Kiểu cấp quyền không tồn tại: %q.", "Unknown grant type %q.", g)
		}
	}
	code := slices.Contains(c.GrantTypes, GrantAuthorizationCode)
	if slices.Contains(c.GrantTypes, GrantRefreshToken) && !code {
		bad("grant_types", "Mã làm mới (refresh_token) chỉ dùng cùng với mã cấp quyền (authorization_code).",
			"refresh_token is only granted together with authorization_code.")
	}
	if slices.Contains(c.GrantTypes, GrantClientCredentials) && !confidential {
		bad("grant_types", "Ứng dụng công khai (không có khóa bí mật hay bộ khóa công khai) không được dùng client_credentials.",
			"A public client (no secret, no key set) cannot use client_credentials.")
	}
	if code && len(c.RedirectURIs) == 0 {
		bad("redirect_uris", "Ứng dụng đăng nhập công dân (authorization_code) cần ít nhất một địa chỉ chuyển hướng.",
			"A client signing citizens in (authorization_code) needs at least one redirect URI.")
	}
	for _, u := range c.RedirectURIs {
		if msgVI, msgEN := checkRedirect(u, c.DevMode, confidential); msgVI != "" {
			l = append(l, &fault.Error{Kind: fault.Invalid, Code: ErrClientInvalid.Code, Field: "redirect_uris", Message: msgVI, English: msgEN})
		}
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if msgVI, msgEN := checkRedirect(u, c.DevMode, confidential); msgVI != "" {
			l = append(l, &fault.Error{Kind: fault.Invalid, Code: ErrClientInvalid.Code, Field: "post_logout_redirect_uris", Message: msgVI, English: msgEN})
		}
	}
	for _, s := range c.Scopes {
		if _, ok := scopeClaims[s]; !ok {
			bad("scopes", "Phạm vi dữ liệu không tồn tại: %q.", "Unknown scope %q.", s)
		}
	}
	for _, s := range c.OptionalScopes {
		if !slices.Contains(c.Scopes, s) {
			bad("optional_scopes", "Phạm vi tuỳ chọn %q phải nằm trong các phạm vi của ứng dụng.", "The optional scope %q must be one of the client's scopes.", s)
		}
	}
	if u := c.BackchannelLogoutURI; u != "" {
		if pu, err := url.Parse(u); err != nil || pu.Host == "" || pu.Fragment != "" || !(pu.Scheme == "https" || (pu.Scheme == "http" && c.DevMode)) {
			bad("backchannel_logout_uri", "Địa chỉ đăng xuất kênh sau phải là URL https tuyệt đối, không có phần #.",
				"The back-channel logout URI must be an absolute https URL without a fragment.")
		}
	}
	if c.MinLevel != eid.Level1 && c.MinLevel != eid.Level2 {
		bad("min_level", "Mức định danh tối thiểu là 1 hoặc 2.", "The minimum level is 1 or 2.")
	}
	if c.Secret != "" && len(c.Secret) < 32 {
		bad("secret", "Khóa bí mật phải dài ít nhất 32 ký tự.", "The secret must be at least 32 characters long.")
	}
	if c.JWKS != "" {
		if err := checkJWKS(c.JWKS); err != nil {
			bad("jwks", "Bộ khóa công khai (JWKS) không hợp lệ: cần một JSON {\"keys\": [...]} chỉ gồm khóa công khai.",
				"The JWK Set is not valid: a JSON {\"keys\": [...]} of public keys only is needed.")
		}
	}
	if c.RequirePAR && !code {
		bad("require_par", "Yêu cầu PAR chỉ áp dụng cho ứng dụng đăng nhập công dân (authorization_code).",
			"Requiring PAR only applies to clients using authorization_code.")
	}
	return l.Err()
}

func checkJWKS(raw string) error {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(raw), &set); err != nil {
		return err
	}
	if len(set.Keys) == 0 {
		return errors.New("no keys")
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || !k.Valid() {
			return errors.New("a key is private or invalid")
		}
	}
	return nil
}

// checkRedirect returns why a redirect URI is refused, or "".
func checkRedirect(raw string, dev, confidential bool) (vi, en string) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Fragment != "" || strings.ContainsAny(raw, " \t\r\n") {
		return fmt.Sprintf("Địa chỉ %q không phải là URL tuyệt đối hợp lệ (không có phần #).", raw),
			fmt.Sprintf("%q is not a valid absolute URL (without a #fragment).", raw)
	}
	loopback := u.Hostname() == "127.0.0.1" || u.Hostname() == "[::1]" || u.Hostname() == "::1" || u.Hostname() == "localhost"
	switch {
	case u.Scheme == "https" && u.Host != "":
		return "", ""
	case u.Scheme == "http" && u.Host != "" && (dev || (loopback && !confidential)):
		return "", ""
	case u.Scheme == "http":
		return fmt.Sprintf("Địa chỉ %q phải dùng https (http chỉ dùng cho thử nghiệm hoặc ứng dụng cài trên máy qua 127.0.0.1).", raw),
			fmt.Sprintf("%q must use https (http only for trials, or native apps on 127.0.0.1).", raw)
	case !confidential && privateScheme.MatchString(u.Scheme):
		return "", ""
	}
	return fmt.Sprintf("Địa chỉ %q phải dùng https, hoặc với ứng dụng di động là lược đồ riêng theo tên miền đảo ngược (ví dụ vn.gov.app:/callback).", raw),
		fmt.Sprintf("%q must use https, or for a mobile app a reversed-domain private scheme (e.g. vn.gov.app:/callback).", raw)
}

// Register validates a new client fully (ValidateClient) and adds it.
func (cs *Clients) Register(ctx context.Context, c Client) error {
	if err := ValidateClient(c, false); err != nil {
		return err
	}
	if err := cs.Add(ctx, c); err != nil {
		if errors.Is(err, ErrClientExists) {
			return ErrClientExists.WithField("id")
		}
		return err
	}
	return nil
}

const clientInfoColumns = `id, secret_hash, name, purpose, redirect_uris, post_logout_uris, grant_types, scopes, min_level, dev_mode, jwks, require_par, require_dpop, disabled, created_at, backchannel_logout_uri, optional_scopes`

func scanClientInfo(r interface{ Scan(...any) error }) (ClientInfo, error) {
	var c ClientInfo
	var redirects, logouts, grants, scopes, created, optional string
	var level, dev, par, dpop, disabled int
	if err := r.Scan(&c.ID, &c.SecretHash, &c.Name, &c.Purpose, &redirects, &logouts, &grants, &scopes, &level, &dev, &c.JWKS, &par, &dpop, &disabled, &created,
		&c.BackchannelLogoutURI, &optional); err != nil {
		return c, err
	}
	c.MinLevel, c.DevMode, c.RequirePAR, c.RequireDPoP, c.Disabled = eid.Level(level), dev != 0, par != 0, dpop != 0, disabled != 0
	c.Created, _ = time.Parse(time.RFC3339, created)
	for _, p := range []struct {
		s string
		v *[]string
	}{{redirects, &c.RedirectURIs}, {logouts, &c.PostLogoutRedirectURIs}, {grants, &c.GrantTypes}, {scopes, &c.Scopes}, {optional, &c.OptionalScopes}} {
		if err := json.Unmarshal([]byte(p.s), p.v); err != nil {
			return c, fmt.Errorf("client %s: %w", c.ID, err)
		}
	}
	return c, nil
}

// List returns every client, disabled ones too, by id.
func (cs *Clients) List(ctx context.Context) ([]ClientInfo, error) {
	rows, err := cs.db.R.QueryContext(ctx, `SELECT `+clientInfoColumns+` FROM eid_oidc_clients ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	defer rows.Close()
	var out []ClientInfo
	for rows.Next() {
		c, err := scanClientInfo(rows)
		if err != nil {
			return nil, fmt.Errorf("list clients: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Lookup returns a client, disabled or not, uncached.
func (cs *Clients) Lookup(ctx context.Context, id string) (ClientInfo, error) {
	c, err := scanClientInfo(cs.db.R.QueryRowContext(ctx, `SELECT `+clientInfoColumns+` FROM eid_oidc_clients WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return ClientInfo{}, ErrClientNotFound
	}
	if err != nil {
		return ClientInfo{}, fmt.Errorf("load client: %w", err)
	}
	return c, nil
}

// Update replaces a client's registration (everything but its id). With
// keepSecret the stored secret stays; otherwise the secret becomes
// c.Secret (hashed), or none when c.Secret is empty. Other nodes see the
// change within the client cache's lifetime (30 s), this one at once.
func (cs *Clients) Update(ctx context.Context, c Client, keepSecret bool) error {
	cur, err := cs.Lookup(ctx, c.ID)
	if err != nil {
		return err
	}
	hash := ""
	switch {
	case c.Secret != "":
		hash = hashSecret(c.Secret)
	case keepSecret:
		hash = cur.SecretHash
	}
	if err := ValidateClient(c, hash != ""); err != nil {
		return err
	}
	js := func(v []string) string {
		if v == nil {
			v = []string{}
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	_, err = cs.db.W.ExecContext(ctx, `UPDATE eid_oidc_clients SET secret_hash = $1, name = $2, purpose = $3, redirect_uris = $4, post_logout_uris = $5,
		grant_types = $6, scopes = $7, min_level = $8, dev_mode = $9, jwks = $10, require_par = $11, require_dpop = $12,
		backchannel_logout_uri = $13, optional_scopes = $14 WHERE id = $15`,
		hash, strings.TrimSpace(c.Name), strings.TrimSpace(c.Purpose), js(c.RedirectURIs), js(c.PostLogoutRedirectURIs), js(c.GrantTypes), js(c.Scopes),
		int(c.MinLevel), boolInt(c.DevMode), c.JWKS, boolInt(c.RequirePAR), boolInt(c.RequireDPoP), c.BackchannelLogoutURI, js(c.OptionalScopes), c.ID)
	if err != nil {
		return fmt.Errorf("update client: %w", err)
	}
	cs.forget(c.ID)
	return nil
}

// SetDisabled stops (or resumes) a client: a disabled client gets no
// token, no sign-in and no refresh (Get no longer finds it); access tokens
// it already holds run out on their own.
func (cs *Clients) SetDisabled(ctx context.Context, id string, disabled bool) error {
	res, err := cs.db.W.ExecContext(ctx, `UPDATE eid_oidc_clients SET disabled = $1 WHERE id = $2`, boolInt(disabled), id)
	if err != nil {
		return fmt.Errorf("disable client: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrClientNotFound
	}
	cs.forget(id)
	return nil
}

// forget drops a client from this node's cache after a change made here.
func (cs *Clients) forget(id string) {
	cs.mu.Lock()
	delete(cs.cache, id)
	cs.mu.Unlock()
}
