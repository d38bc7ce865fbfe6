package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
)

// frrConf is PEERS.md's FRR speaker: IPv4 with ADD-PATH and communities,
// IPv6 with a global next hop, towards the collector's port.
const frrConf = `
frr defaults traditional
hostname frr-speaker
log file DIR/bgpd.log informational
router bgp 65001
 bgp router-id 192.0.2.12
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 127.0.0.1 remote-as 65000
 neighbor 127.0.0.1 port COLLECTORPORT
 neighbor 127.0.0.1 update-source 127.0.0.12
 neighbor 127.0.0.1 disable-connected-check
 neighbor 127.0.0.1 timers connect 2
 address-family ipv4 unicast
  network 198.51.100.0/24 route-map ORIG4
  network 203.0.113.0/24
  neighbor 127.0.0.1 activate
  neighbor 127.0.0.1 addpath-tx-all-paths
  neighbor 127.0.0.1 route-map OUT4 out
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:300::/48 route-map ORIG6
  neighbor 127.0.0.1 activate
  neighbor 127.0.0.1 route-map OUT6 out
 exit-address-family
route-map ORIG4 permit 10
 set community 65001:300 65001:301
 set large-community 65001:3:3
 set as-path prepend 64512
route-map ORIG6 permit 10
 set community 65001:600
route-map OUT4 permit 10
 set ip next-hop 192.0.2.12
route-map OUT6 permit 10
 set ipv6 next-hop global 2001:db8::12
`

// FRR's bgpd peers with the collector; its routes, withdrawals and
// session end reach NATS as events.
func TestFRRToNATS(t *testing.T) {
	pub, got := startNATS(t)
	collectorPort, stopCollector := startCollector(t, "e2e-frr", collector.NamedSink{Name: "nats", Sink: pub})
	defer stopCollector()

	conf := strings.ReplaceAll(frrConf, "COLLECTORPORT", fmt.Sprint(collectorPort))
	frr := testpeer.StartFRR(t, conf)

	for _, p := range []string{"198.51.100.0/24", "203.0.113.0/24", "2001:db8:300::/48"} {
		eventually(t, "FRR's "+p+" on NATS", func() error {
			if _, ok := got.find(func(ev *schema.Event) bool { return hasPrefix(ev, p) }); !ok {
				return fmt.Errorf("no UPDATE announcing %s yet", p)
			}
			return nil
		})
	}
	ev, _ := got.find(func(ev *schema.Event) bool { return hasPrefix(ev, "198.51.100.0/24") })
	a := ev.Announcements[0]
	if ev.PeerASN != 65001 || ev.Peer.String() != "127.0.0.12" || ev.Path.String() != "65001 64512" ||
		a.NextHop.String() != "192.0.2.12" || fmt.Sprint(ev.Community) != "[65001:300 65001:301]" ||
		fmt.Sprint(ev.LargeCommunity) != "[65001:3:3]" || len(a.PathIDs) != len(a.Prefixes) || a.PathIDs[0] == 0 {
		t.Errorf("FRR's 198.51.100.0/24: %+v", ev)
	}
	ev6, _ := got.find(func(ev *schema.Event) bool { return hasPrefix(ev, "2001:db8:300::/48") })
	if ev6.Announcements[0].NextHop.String() != "2001:db8::12" || fmt.Sprint(ev6.Community) != "[65001:600]" {
		t.Errorf("FRR's 2001:db8:300::/48: %+v", ev6)
	}

	if _, err := frr.Vtysh("configure terminal", "router bgp 65001", "address-family ipv4 unicast", "no network 203.0.113.0/24"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "FRR's withdrawal on NATS", func() error {
		if _, ok := got.find(func(ev *schema.Event) bool {
			return len(ev.Withdrawals) == 1 && ev.Withdrawals[0].String() == "203.0.113.0/24"
		}); !ok {
			return fmt.Errorf("no UPDATE withdrawing 203.0.113.0/24")
		}
		return nil
	})

	frr.Stop()
	eventually(t, "peer down on NATS", func() error {
		if _, ok := got.find(func(ev *schema.Event) bool {
			return ev.Type == schema.TypePeerState && ev.State == schema.StateDown && ev.Peer.String() == "127.0.0.12"
		}); !ok {
			return fmt.Errorf("no RIS_PEER_STATE down event")
		}
		return nil
	})
}
