package collector

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/vantage-bgp/vantage/bgpwire"
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

// TestNeighborFamiliesAndAddPath: a neighbor with families
// [ipv4/unicast] and no ADD-PATH is offered only that, without ADD-PATH,
// in the collector's OPEN: FRR, which would send IPv6 routes and every
// path, sends only its IPv4 routes, without path ids.
func TestNeighborFamiliesAndAddPath(t *testing.T) {
	rec := &recorder{}
	srv := startServerWith(t, rec, func(c *Config) {
		c.Peers = []PeerRule{{Prefix: netip.MustParsePrefix("127.0.0.65/32"), Families: []bgpwire.Family{bgpwire.IPv4Unicast}, NoAddPath: true}}
	})
	testpeer.StartFRR(t, strings.ReplaceAll(`
frr defaults traditional
hostname frr-families
log file DIR/bgpd.log informational
router bgp 65065
 bgp router-id 192.0.2.65
 no bgp ebgp-requires-policy
 neighbor 127.0.0.1 remote-as 65000
 neighbor 127.0.0.1 port PORT
 neighbor 127.0.0.1 update-source 127.0.0.65
 neighbor 127.0.0.1 disable-connected-check
 neighbor 127.0.0.1 timers 1 3
 neighbor 127.0.0.1 timers connect 1
 address-family ipv4 unicast
  network 198.51.100.0/24
  network 203.0.113.0/24
  neighbor 127.0.0.1 activate
  neighbor 127.0.0.1 addpath-tx-all-paths
  neighbor 127.0.0.1 route-map OUT4 out
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:65::/48
  neighbor 127.0.0.1 activate
  neighbor 127.0.0.1 route-map OUT6 out
 exit-address-family
route-map OUT4 permit 10
 set ip next-hop 192.0.2.65
route-map OUT6 permit 10
 set ipv6 next-hop global 2001:db8::65
`, "PORT", fmt.Sprint(srv.Addr().(*net.TCPAddr).Port)))
	peer := netip.MustParseAddr("127.0.0.65")
	mine := rec.wait(t, "the collector's OPEN", func(ev *schema.Event) bool { return ev.Peer == peer && ev.Type == schema.TypeOpen && ev.Open.Sent })
	for _, c := range mine.Open.Capabilities {
		if strings.HasPrefix(c, "add-path") || strings.HasPrefix(c, "multiprotocol") && c != "multiprotocol ipv4/unicast" {
			t.Errorf("the collector's OPEN offers %q", c)
		}
	}
	rec.wait(t, "a KEEPALIVE with FRR's 2 IPv4 routes", func(ev *schema.Event) bool {
		return ev.Peer == peer && ev.Type == schema.TypeKeepalive && slices.Equal(ev.Routes, schema.RouteCounts{fc(v4, 2)})
	})
	for _, ev := range rec.snapshot() {
		for _, a := range ev.Announcements {
			if ev.Peer == peer && (a.Family != v4 || len(a.PathIDs) > 0) {
				t.Errorf("announcement from FRR: %+v", a)
			}
		}
	}
}
