package delivery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestEgressAllows(t *testing.T) {
	wan := netip.MustParsePrefix("10.20.0.0/16")
	prod := Egress{Networks: []netip.Prefix{wan, netip.MustParsePrefix("127.0.0.0/8")}}
	for _, c := range []struct {
		addr string
		want bool
	}{
		{"8.8.8.8", true},
		{"2001:4860:4860::8888", true},
		{"10.20.3.4", true}, // the allowed network
		{"10.21.0.1", false},
		{"192.168.1.1", false},
		{"172.16.0.1", false},
		{"fd00::1", false},
		{"127.0.0.1", false}, // loopback stays refused though listed
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.20.0.1", true},
		{"169.254.169.254", false},
		{"fe80::1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"100.64.0.1", false},
		{"64:ff9b::7f00:1", false},
		{"224.0.0.1", false},
		{"255.255.255.255", false},
	} {
		if got := prod.Allows(netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("production: Allows(%s) = %v, want %v", c.addr, got, c.want)
		}
	}
	if !(Egress{Development: true}).Allows(netip.MustParseAddr("127.0.0.1")) {
		t.Error("development refuses loopback")
	}
}

// The address is checked when the connection is made, after DNS: a
// webhook that reaches this machine in production is never sent.
func TestProductionClientRefusesInternalAddresses(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	for _, target := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, target, nil)
		_, err := NewClient(time.Second, 1, Egress{}).Do(req)
		if err == nil || !strings.Contains(describe(err), "not public") {
			t.Errorf("production client to %s: err = %v, want a refusal", target, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the internal receiver got %d requests", hits.Load())
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, nil)
	resp, err := NewClient(time.Second, 1, Egress{Development: true}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hits.Load() != 1 {
		t.Fatalf("development client: receiver got %d requests, want 1", hits.Load())
	}
}

func TestParseNetworks(t *testing.T) {
	got, err := ParseNetworks(" 10.20.0.0/16, fd00:20::1/32 ,")
	if err != nil || len(got) != 2 || got[0].String() != "10.20.0.0/16" || got[1].String() != "fd00:20::/32" {
		t.Fatalf("ParseNetworks = %v, %v", got, err)
	}
	if _, err := ParseNetworks("10.20.0.0"); err == nil {
		t.Error("an address without a prefix length was accepted")
	}
	if _, err := EgressFor(true, "not-a-network"); err == nil {
		t.Error("EgressFor accepted a malformed network")
	}
}
