package simgateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/payment"
)

// Client is the platform's side of the simulator: a payment.Gateway.
type Client struct {
	GatewayName string       // the simulator's Config.Name; "sim" when empty
	BaseURL     string       // where the simulator is mounted, e.g. "http://127.0.0.1:8080/sim/pay"
	Secret      []byte       // the shared HMAC key
	HTTP        *http.Client // a client with a 10 s timeout when nil
	Now         func() time.Time
}

var _ payment.Gateway = (*Client)(nil)

// Name is the gateway's name.
func (c *Client) Name() string {
	if c.GatewayName == "" {
		return "sim"
	}
	return c.GatewayName
}

func (c *Client) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func (c *Client) http() *http.Client {
	if c.HTTP == nil {
		return &http.Client{Timeout: 10 * time.Second}
	}
	return c.HTTP
}

// call sends a signed request and decodes a 200 answer into out.
func (c *Client) call(ctx context.Context, method, path string, body []byte, out any) error {
	base := strings.TrimSuffix(c.BaseURL, "/")
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	msg := body
	if method == http.MethodGet {
		msg = []byte("GET " + req.URL.Path)
	}
	req.Header.Set("Content-Type", "application/json")
	setSigned(req.Header, c.Secret, c.now(), msg)
	resp, err := c.http().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("simgateway %s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(out)
}

// Create registers a payment.
func (c *Client) Create(ctx context.Context, p payment.CreateRequest) (payment.GatewayPayment, error) {
	body, _ := json.Marshal(createBody{IntentID: p.IntentID, Amount: p.Amount, Description: p.Description, ReturnURL: p.ReturnURL,
		CallbackURL: p.CallbackURL, ExpiresAt: p.ExpiresAt.UTC().Format(time.RFC3339Nano)})
	var out struct {
		Ref    string `json:"ref"`
		PayURL string `json:"pay_url"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/payments", body, &out); err != nil {
		return payment.GatewayPayment{}, err
	}
	return payment.GatewayPayment{Ref: out.Ref, PayURL: out.PayURL}, nil
}

// VerifyCallback checks and reads a callback (ParseCallback).
func (c *Client) VerifyCallback(header http.Header, body []byte, now time.Time) (payment.Callback, error) {
	return ParseCallback(header, body, c.Secret, now)
}

// Statement fetches the movements of a day.
func (c *Client) Statement(ctx context.Context, day civildate.Date) ([]payment.StatementLine, error) {
	var out []payment.StatementLine
	if err := c.call(ctx, http.MethodGet, "/api/statements/"+day.String(), nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Refund pays a payment back.
func (c *Client) Refund(ctx context.Context, r payment.RefundRequest) (payment.GatewayRefund, error) {
	body, _ := json.Marshal(refundBody{Ref: r.Ref, Amount: r.Amount, Reason: r.Reason})
	var out struct {
		Ref string `json:"ref"`
		At  string `json:"at"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/refunds", body, &out); err != nil {
		return payment.GatewayRefund{}, err
	}
	at, _ := time.Parse(time.RFC3339Nano, out.At)
	return payment.GatewayRefund{Ref: out.Ref, At: at}, nil
}
