package collector

import (
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
)

// frrMulticast is an FRR bgpd announcing IPv4 and IPv6 multicast routes
// (in MP_REACH_NLRI with SAFI 2, which ExaBGP 4.2 does not do for IPv4
// and cannot do for IPv6).
const frrMulticast = `
frr defaults traditional
hostname frr-multicast
log file DIR/bgpd.log informational
router bgp 65017
 bgp router-id 192.0.2.17
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 127.0.0.1 remote-as 65000
 neighbor 127.0.0.1 port PORT
 neighbor 127.0.0.1 update-source 127.0.0.17
 neighbor 127.0.0.1 disable-connected-check
 neighbor 127.0.0.1 timers connect 1
 address-family ipv4 unicast
  no neighbor 127.0.0.1 activate
 exit-address-family
 address-family ipv4 multicast
  network 198.51.103.0/24 route-map ORIG
  neighbor 127.0.0.1 activate
  neighbor 127.0.0.1 route-map OUT4 out
 exit-address-family
 address-family ipv6 multicast
  network 2001:db8:17::/48
  neighbor 127.0.0.1 activate
  neighbor 127.0.0.1 route-map OUT6 out
 exit-address-family
route-map ORIG permit 10
 set community 65017:3
route-map OUT4 permit 10
 set ip next-hop 192.0.2.17
route-map OUT6 permit 10
 set ipv6 next-hop global 2001:db8::17
`

// TestFRRMulticast: FRR announces IPv4 and IPv6 multicast routes over a
// real session; each arrives as an UPDATE of its family with its prefix,
// next hop and attributes.
func TestFRRMulticast(t *testing.T) {
	rec := &recorder{}
	srv, cancel, done := startServer(t, rec)
	defer func() { cancel(); <-done }()
	port := srv.Addr().(*net.TCPAddr).Port
	testpeer.StartFRR(t, strings.ReplaceAll(frrMulticast, "PORT", fmt.Sprint(port)))

	const peer = "127.0.0.17"
	t.Cleanup(func() {
		if t.Failed() {
			for _, ev := range recorded(rec) {
				if ev.Peer.String() == peer {
					b, _ := json.Marshal(ev)
					t.Logf("event: %s", b)
				}
			}
		}
	})
	route := func(f schema.Family) (*schema.Event, *schema.Announcement) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			evs := recorded(rec)
			i := slices.IndexFunc(evs, func(ev schema.Event) bool {
				return ev.Peer.String() == peer && ev.Type == schema.TypeUpdate && len(ev.Announcements) > 0 && ev.Announcements[0].Family == f
			})
			if i >= 0 {
				return &evs[i], &evs[i].Announcements[0]
			}
		}
		t.Fatalf("no %d/%d route from FRR", f.AFI, f.SAFI)
		return nil, nil
	}
	check := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	ev, a := route(schema.Family{AFI: 1, SAFI: 2})
	check("ipv4/multicast prefixes", a.Prefixes, "[198.51.103.0/24]")
	check("ipv4/multicast next hop", a.NextHop, "192.0.2.17")
	check("ipv4/multicast community", ev.Community, "[65017:3]")
	check("ipv4/multicast path", ev.Path, "65017")

	ev, a = route(schema.Family{AFI: 2, SAFI: 2})
	check("ipv6/multicast prefixes", a.Prefixes, "[2001:db8:17::/48]")
	check("ipv6/multicast next hop", a.NextHop, "2001:db8::17")
	check("ipv6/multicast path", ev.Path, "65017")
}
