package delivery

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/dancu-project/dancu/internal/fault"
)

// Egress says where webhooks may be sent. A partner chooses its webhook
// address, and the platform sends signed requests there from inside its own
// network: without a rule, a partner could make the platform call its
// database, its metrics or a cloud metadata service (server-side request
// forgery). In production only public addresses are reached, plus the
// private networks an operator names (a government network partners are
// connected through, say).
type Egress struct {
	// Development accepts http:// URLs and every address, so that a
	// partner's test receiver can run beside the platform.
	Development bool
	// Networks are private networks webhooks may reach in production.
	// Loopback, link-local and unspecified addresses are never reachable
	// outside development, whatever is listed.
	Networks []netip.Prefix
}

// EgressFor is the rule of a platform: development or production, and in
// production the private networks (comma-separated CIDR prefixes) partners
// may be reached on.
func EgressFor(production bool, networks string) (Egress, error) {
	nets, err := ParseNetworks(networks)
	return Egress{Development: !production, Networks: nets}, err
}

// ParseNetworks reads a comma-separated list of CIDR prefixes
// ("10.20.0.0/16, fd00:20::/32"); an empty list is none.
func ParseNetworks(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("webhook network %q: %w", s, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// ErrURLInternal refuses a webhook address inside the platform's network.
var ErrURLInternal = fault.New(fault.Invalid, "delivery.url_internal",
	"Địa chỉ webhook trỏ vào mạng nội bộ (localhost, địa chỉ riêng hoặc link-local); hãy dùng địa chỉ công khai hoặc mạng được quản trị viên cho phép.",
	"The webhook address points inside the platform's network (localhost, a private or link-local address); use a public address or a network the operator allows.")

// errAddressRefused is why a refused connection failed, in the delivery
// log (after the dialled IP address; never the URL, see describe).
var errAddressRefused = errors.New("webhook address is not public and not in an allowed network")

// reserved are ranges that are neither private nor public in netip's sense
// but must not be reached either.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT, often a cloud's internal range
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the broadcast address
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: an IPv4 address in disguise
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated
}

// Allows reports whether a webhook may be sent to a.
func (e Egress) Allows(a netip.Addr) bool {
	if e.Development {
		return true
	}
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsUnspecified() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() {
		return false
	}
	for _, p := range e.Networks {
		if p.Contains(a) {
			return true
		}
	}
	if a.IsPrivate() {
		return false
	}
	for _, p := range reserved {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// checkURL refuses, when a subscription is made, the addresses that can be
// told without asking DNS: literal IPs and names of this machine. A name
// that resolves inside is refused when a webhook is sent (dial).
func (e Egress) checkURL(u *url.URL) *fault.Error {
	if e.Development {
		return nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return ErrURLInternal
	}
	if a, err := netip.ParseAddr(host); err == nil && !e.Allows(a) {
		return ErrURLInternal
	}
	return nil
}

// control runs after DNS and before each connection: the address actually
// dialled is checked, so a name that changes its answer after the
// subscription (DNS rebinding) is refused too.
func (e Egress) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook dial %q: %w", address, err)
	}
	if !e.Allows(ap.Addr()) {
		return errAddressRefused
	}
	return nil
}

// NewClient returns the HTTP client webhooks are sent with: a whole-request
// timeout, no redirects (a signed request goes only where it was
// registered), enough idle connections for perPartner parallel attempts,
// and outside development only connections that egress allows and no
// proxy (a proxy would dial in the client's stead, unchecked).
func NewClient(timeout time.Duration, perPartner int, egress Egress) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 2 * max(perPartner, 1)
	t.ResponseHeaderTimeout = timeout
	if !egress.Development {
		d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: egress.control}
		t.DialContext = d.DialContext
		t.Proxy = nil
	}
	return &http.Client{
		Timeout:       timeout,
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
