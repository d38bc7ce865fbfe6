package collector

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
)

// TestFRRCapabilitiesInOpen: FRR's OPEN carries its hostname (FQDN
// capability), its BGP role (RFC 9234), extended message (RFC 8654),
// enhanced route refresh and graceful restart, and the OPEN event of the
// peer reports each; the collector's own OPEN event has the capabilities
// it sends.
func TestFRRCapabilitiesInOpen(t *testing.T) {
	rec := &recorder{}
	srv := startServerWith(t, rec, func(*Config) {})
	port := srv.Addr().(*net.TCPAddr).Port
	testpeer.StartFRR(t, strings.ReplaceAll(`
frr defaults traditional
hostname frr-caps
log file DIR/bgpd.log informational
router bgp 65064
 bgp router-id 192.0.2.64
 no bgp ebgp-requires-policy
 bgp graceful-restart
 neighbor 127.0.0.1 remote-as 65000
 neighbor 127.0.0.1 port PORT
 neighbor 127.0.0.1 update-source 127.0.0.64
 neighbor 127.0.0.1 disable-connected-check
 neighbor 127.0.0.1 timers connect 1
 neighbor 127.0.0.1 local-role customer
 address-family ipv4 unicast
  neighbor 127.0.0.1 activate
 exit-address-family
`, "PORT", fmt.Sprint(port)))
	peer := netip.MustParseAddr("127.0.0.64")
	theirs := rec.wait(t, "FRR's OPEN", func(ev *schema.Event) bool { return ev.Peer == peer && ev.Type == schema.TypeOpen && !ev.Open.Sent })
	mine := rec.wait(t, "the collector's OPEN", func(ev *schema.Event) bool { return ev.Peer == peer && ev.Type == schema.TypeOpen && ev.Open.Sent })
	has := func(who string, caps []string, prefix string) {
		t.Helper()
		if !slices.ContainsFunc(caps, func(c string) bool { return strings.HasPrefix(c, prefix) }) {
			t.Errorf("%s OPEN event: no capability %q in %q", who, prefix, caps)
		}
	}
	for _, c := range []string{`fqdn "frr-caps"`, "role customer", "extended-message", "enhanced-route-refresh", "graceful-restart time=120", "route-refresh"} {
		has("FRR's", theirs.Open.Capabilities, c)
	}
	for _, c := range []string{"extended-message", "enhanced-route-refresh", "graceful-restart time=120 flags=0x4 ipv4/unicast:0x00", "add-path", "asn4 65000"} {
		has("the collector's", mine.Open.Capabilities, c)
	}
	rec.wait(t, "FRR's session up", func(ev *schema.Event) bool { return ev.Peer == peer && ev.State == schema.StateConnected })
}

// TestOpenFitsOptionalParameters: the collector's OPEN keeps its
// optional parameters within the 255 bytes of RFC 4271's length field,
// as peers that do not read RFC 9072's extended form (gobgpd 3.10)
// refuse it.
func TestOpenFitsOptionalParameters(t *testing.T) {
	srv, err := New(DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := (&session{srv: srv}).openMessage().AppendWire(nil)
	const fixed = 19 + 10 // header; version, AS, hold time, BGP identifier, parameters length
	if n := len(msg) - fixed; n > 255 || int(msg[fixed-1]) != n {
		t.Errorf("the OPEN's optional parameters take %d bytes (length field %d): over 255, in RFC 9072's extended form", n, msg[fixed-1])
	}
}
