package collector

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
)

// exabgpFamilies is an ExaBGP 4.2 neighbor announcing a route of every
// family it can send besides unicast (4.2 cannot announce EVPN, and has
// no ipv6/multicast).
const exabgpFamilies = `
neighbor 127.0.0.1 {
	router-id 192.0.2.15;
	local-address 127.0.0.15;
	local-as 65015;
	peer-as 65000;
	connect PORT;
	hold-time 90;
	group-updates false;
	family {
		ipv4 multicast;
		ipv4 nlri-mpls;
		ipv6 nlri-mpls;
		ipv4 mpls-vpn;
		ipv6 mpls-vpn;
		ipv4 flow;
		ipv6 flow;
		l2vpn vpls;
	}
	announce {
		ipv4 {
			multicast 198.51.100.0/24 next-hop 192.0.2.15 origin igp as-path [ 64501 ] community [ 65015:1 ];
			nlri-mpls 198.51.101.0/24 label 200 next-hop 192.0.2.15 as-path [ 64502 ] med 20;
		}
		ipv6 {
			nlri-mpls 2001:db8:11::/48 label 300 next-hop 2001:db8::15 as-path [ 64505 ];
		}
		l2vpn {
			vpls rd 65015:9 endpoint 5 base 10702 offset 1 size 8 next-hop 192.0.2.15 origin igp as-path [ 64507 ] extended-community [ target:65015:9 l2info:19:0:1500:111 ];
		}
	}
	static {
		# ExaBGP 4.2's announce section takes mpls-vpn for SAFI unicast
		# (announce/vpn.py), so VPN routes are static routes with an rd.
		route 10.1.0.0/16 rd 65015:1 label 100 next-hop 192.0.2.15 as-path [ 64503 ] extended-community [ target:65015:1 ];
		route 2001:db8:12::/48 rd 192.0.2.15:7 label 400 next-hop 2001:db8::15 as-path [ 64506 ] med 60;
	}
	flow {
		route f4 {
			match {
				destination 203.0.113.0/24;
				protocol tcp;
				destination-port =80;
			}
			then {
				discard;
			}
		}
		route f6 {
			match {
				destination 2001:db8:20::/48/0;
			}
			then {
				rate-limit 9600;
			}
		}
	}
}
`

// TestExaBGPFamilies: ExaBGP announces VPN, labeled, multicast, FlowSpec
// and VPLS routes over a real session; each arrives as an UPDATE event of
// its family with its RD, labels, NLRI, next hop and attributes.
func TestExaBGPFamilies(t *testing.T) {
	exabgp := testpeer.Need(t, "exabgp", "exabgp")
	rec := &recorder{}
	srv, cancel, done := startServer(t, rec)
	defer func() { cancel(); <-done }()

	dir := t.TempDir()
	port := srv.Addr().(*net.TCPAddr).Port
	conf := filepath.Join(dir, "exabgp.conf")
	if err := os.WriteFile(conf, []byte(strings.ReplaceAll(exabgpFamilies, "PORT", fmt.Sprint(port))), 0o644); err != nil {
		t.Fatal(err)
	}
	p := testpeer.StartCommand(t, dir, "exabgp", "env exabgp.daemon.user=root exabgp.daemon.daemonize=false exabgp.daemon.pid="+dir+"/exabgp.pid "+
		"exabgp.log.destination=stdout exabgp.api.cli=false "+exabgp+" "+conf)

	const peer = "127.0.0.15"
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
	// ExaBGP takes a few seconds to start and connect.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if slices.ContainsFunc(recorded(rec), func(ev schema.Event) bool { return ev.Peer.String() == peer && ev.State == schema.StateConnected }) {
			break
		}
		select {
		case <-p.Done():
			t.Fatalf("ExaBGP exited: %v", p.Err())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("ExaBGP did not connect in 60 s")
		}
	}
	route := func(what string, f schema.Family, ok func(s *schema.NLRISet) bool) (*schema.Event, *schema.Announcement) {
		t.Helper()
		ev := rec.wait(t, what, func(ev *schema.Event) bool {
			if ev.Peer.String() != peer || ev.Type != schema.TypeUpdate {
				return false
			}
			for i := range ev.Announcements {
				if s := &ev.Announcements[i].NLRISet; s.Family == f && ok(s) {
					return true
				}
			}
			return false
		})
		for i := range ev.Announcements {
			if s := &ev.Announcements[i].NLRISet; s.Family == f && ok(s) {
				return &ev, &ev.Announcements[i]
			}
		}
		panic("unreachable")
	}
	prefix := func(p string) func(s *schema.NLRISet) bool {
		return func(s *schema.NLRISet) bool { return len(s.Prefixes) == 1 && s.Prefixes[0].String() == p }
	}
	check := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}

	// ExaBGP 4.2 puts IPv4 multicast routes in the UPDATE's NLRI field,
	// as IPv4 unicast (bgp/message/update/__init__.py: "Withdraws/NLRIS
	// (IPv4 unicast and multicast)"): on the wire it is ipv4/unicast.
	ev, a := route("ipv4/multicast (as sent: ipv4/unicast)", schema.Family{AFI: 1, SAFI: 1}, prefix("198.51.100.0/24"))
	check("ipv4/multicast next hop", a.NextHop, "192.0.2.15")
	check("ipv4/multicast path", ev.Path, "64501")
	check("ipv4/multicast community", ev.Community, "[65015:1]")
	check("ipv4/multicast origin", ev.Origin, "IGP")

	ev, a = route("ipv4/labeled", schema.Family{AFI: 1, SAFI: 4}, prefix("198.51.101.0/24"))
	check("ipv4/labeled labels", a.Labels, "[[200]]")
	check("ipv4/labeled RDs", a.RDs, "[]")
	check("ipv4/labeled next hop", a.NextHop, "192.0.2.15")
	check("ipv4/labeled path", ev.Path, "64502")
	check("ipv4/labeled med", deref(ev.MED), 20)

	ev, a = route("ipv4/vpn", schema.Family{AFI: 1, SAFI: 128}, prefix("10.1.0.0/16"))
	check("ipv4/vpn RD", a.RDs, "[65015:1]")
	check("ipv4/vpn labels", a.Labels, "[[100]]")
	check("ipv4/vpn next hop", a.NextHop, "192.0.2.15")
	check("ipv4/vpn path", ev.Path, "64503")
	check("ipv4/vpn ext community", ev.ExtCommunity, "[rt:65015:1]")

	ev, a = route("ipv6/labeled", schema.Family{AFI: 2, SAFI: 4}, prefix("2001:db8:11::/48"))
	check("ipv6/labeled labels", a.Labels, "[[300]]")
	check("ipv6/labeled next hop", a.NextHop, "2001:db8::15")
	check("ipv6/labeled path", ev.Path, "64505")

	ev, a = route("ipv6/vpn", schema.Family{AFI: 2, SAFI: 128}, prefix("2001:db8:12::/48"))
	check("ipv6/vpn RD", a.RDs, "[192.0.2.15:7]")
	check("ipv6/vpn labels", a.Labels, "[[400]]")
	check("ipv6/vpn next hop", a.NextHop, "2001:db8::15")
	check("ipv6/vpn path", ev.Path, "64506")
	check("ipv6/vpn med", deref(ev.MED), 60)

	text := func(want string) func(s *schema.NLRISet) bool {
		return func(s *schema.NLRISet) bool { return slices.Contains(s.NLRI, want) }
	}
	ev, a = route("l2vpn/vpls", schema.Family{AFI: 25, SAFI: 65}, text("rd 65015:9 ve-id 5 offset 1 size 8 label-base 10702"))
	check("l2vpn/vpls next hop", a.NextHop, "192.0.2.15")
	check("l2vpn/vpls path", ev.Path, "64507")
	check("l2vpn/vpls ext communities", ev.ExtCommunity, "[rt:65015:9 0x800a130005dc006f]")

	ev, a = route("ipv4/flowspec", schema.Family{AFI: 1, SAFI: 133}, func(s *schema.NLRISet) bool { return len(s.NLRI) == 1 })
	check("ipv4/flowspec NLRI", a.NLRI, "[destination 203.0.113.0/24 protocol =6 destination-port =80]")
	check("ipv4/flowspec next hop", a.NextHop.IsValid(), false)
	check("ipv4/flowspec discard (traffic-rate 0)", ev.ExtCommunity, "[0x8006000000000000]")

	ev, a = route("ipv6/flowspec", schema.Family{AFI: 2, SAFI: 133}, func(s *schema.NLRISet) bool { return len(s.NLRI) == 1 })
	check("ipv6/flowspec NLRI", a.NLRI, "[destination 2001:db8:20::/48]")
	check("ipv6/flowspec rate limit 9600", ev.ExtCommunity, "[0x8006000046160000]")
}

// recorded returns a copy of the events recorded so far.
func recorded(r *recorder) []schema.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
