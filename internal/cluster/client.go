package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Client speaks to the platform through the balancer as its users do: a
// registrar (births, the register API), a partner bank (verify, with a
// client-credentials token) and a citizen (dossiers, with a portal
// session). The fault test and the scaling figures drive it.
type Client struct {
	Base string // the balancer's URL
	HTTP *http.Client
}

// NewClient is a client of the platform at base.
func NewClient(base string) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 128
	return &Client{Base: base, HTTP: &http.Client{Timeout: 15 * time.Second, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Call sends a JSON body (nil for none) with the bearer token and the extra
// headers (name, value, ...), and decodes a 2xx answer into out when not
// nil. It returns the status, the raw answer and a transport error.
func (c *Client) Call(ctx context.Context, method, path, token string, body, out any, headers ...string) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, raw, err
	}
	if out != nil && res.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, out); err != nil {
			return res.StatusCode, raw, fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return res.StatusCode, raw, nil
}

// StaffToken signs a staff account in through the API.
func (c *Client) StaffToken(ctx context.Context, username, password string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	st, raw, err := c.Call(ctx, "POST", "/api/v1/sessions", "", map[string]string{"username": username, "password": password}, &out)
	if err != nil || st != 201 && st != 200 || out.Token == "" {
		return "", fmt.Errorf("staff sign-in %s: %d %s %v", username, st, raw, err)
	}
	return out.Token, nil
}

// PartnerToken is an access token of the client-credentials grant: one
// OpenID token issuance.
func (c *Client) PartnerToken(ctx context.Context, id, secret string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", c.Base+"/oidc/oauth/token", strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(id, secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.HTTP.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || json.Unmarshal(raw, &out) != nil || out.AccessToken == "" {
		return "", fmt.Errorf("token: %d %s", res.StatusCode, raw)
	}
	return out.AccessToken, nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// CitizenToken signs a citizen in on the portal (password, level 1) and
// returns the session, which the services API takes as a bearer token.
func (c *Client) CitizenToken(ctx context.Context, pin, password string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", c.Base+"/citizen/login", nil)
	res, err := c.HTTP.Do(req)
	if err != nil {
		return "", err
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		return "", fmt.Errorf("citizen login page: %d, no csrf field", res.StatusCode)
	}
	form := url.Values{"csrf": {string(m[1])}, "pin": {pin}, "password": {password}}
	req, _ = http.NewRequestWithContext(ctx, "POST", c.Base+"/citizen/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range res.Cookies() {
		req.AddCookie(ck)
	}
	res, err = c.HTTP.Do(req)
	if err != nil {
		return "", err
	}
	res.Body.Close()
	for _, ck := range res.Cookies() {
		if ck.Name == "citizen_session" && ck.Value != "" {
			return ck.Value, nil
		}
	}
	return "", fmt.Errorf("citizen sign-in %s: %d, no session", pin, res.StatusCode)
}
