package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/payment"
	"github.com/dancu-project/dancu/internal/platform"
)

// TestPaySimMount: outside production the simulator is served at
// SimPayPrefix and PaymentGateway reaches it with the derived key; in
// production neither exists.
func TestPaySimMount(t *testing.T) {
	const secret = "a-platform-secret-for-the-test"
	if m, err := devMounts(platform.Config{Production: true}, secret, time.Now); err != nil || len(m) != 0 {
		t.Errorf("production mounts %d stand-ins, %v", len(m), err)
	}
	if _, err := PaymentGateway(platform.Config{Production: true}, secret, time.Now); err == nil {
		t.Error("production got the simulator as its gateway")
	}
	mounts, err := devMounts(platform.Config{}, secret, time.Now)
	if err != nil || len(mounts) != 1 {
		t.Fatalf("development mounts: %d, %v", len(mounts), err)
	}
	mux := http.NewServeMux()
	mounts[0].Mount(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	gw, err := PaymentGateway(platform.Config{PublicURL: srv.URL + "/"}, secret, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	p, err := gw.Create(context.Background(), payment.CreateRequest{IntentID: "i1", Amount: 50000, Description: "Lệ phí",
		ReturnURL: srv.URL + "/back", CallbackURL: srv.URL + "/cb", ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.PayURL, srv.URL+SimPayPrefix+"/pay/") {
		t.Errorf("pay URL %s", p.PayURL)
	}
	resp, err := http.Get(p.PayURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "50.000 ₫") {
		t.Errorf("payment page: %d %s", resp.StatusCode, body)
	}
	other, _ := PaymentGateway(platform.Config{PublicURL: srv.URL}, "another-secret-entirely", time.Now)
	if _, err := other.Create(context.Background(), payment.CreateRequest{IntentID: "i2", Amount: 1, ReturnURL: srv.URL, CallbackURL: srv.URL}); err == nil {
		t.Error("a client with another key was served")
	}
}
