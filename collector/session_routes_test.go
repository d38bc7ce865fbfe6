package collector

import (
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
)

// next waits for the first event of peer of type typ after seq *after,
// and moves *after to it. A session's events are recorded in order, so
// this is the event of the message the test sent last.
func (r *recorder) next(t *testing.T, peer netip.Addr, typ schema.Type, after *uint64) schema.Event {
	t.Helper()
	ev := r.wait(t, peer.String()+" "+typ.String(), func(ev *schema.Event) bool {
		return ev.Peer == peer && ev.Seq > *after && ev.Type == typ
	})
	*after = ev.Seq
	return ev
}

// nlri makes routes of prefixes, with path ids when ids is not nil.
func nlri(ps []netip.Prefix, ids ...uint32) []bgpwire.NLRI {
	out := make([]bgpwire.NLRI, len(ps))
	for i, p := range ps {
		out[i].Prefix = p
		if ids != nil {
			out[i].PathID = ids[i]
		}
	}
	return out
}

// routesUpdate encodes an UPDATE that withdraws and announces routes:
// IPv4 ones in the withdrawn routes and NLRI fields, IPv6 ones in
// MP_UNREACH_NLRI and MP_REACH_NLRI.
func routesUpdate(opts *bgpwire.DecodeOptions, asn uint32, announce, withdraw []bgpwire.NLRI) []byte {
	var u bgpwire.Update
	var ann6, wd6 []bgpwire.NLRI
	for _, n := range withdraw {
		if n.Prefix.Addr().Is4() {
			u.Withdrawn = append(u.Withdrawn, n)
		} else {
			wd6 = append(wd6, n)
		}
	}
	for _, n := range announce {
		if n.Prefix.Addr().Is4() {
			u.NLRI = append(u.NLRI, n)
		} else {
			ann6 = append(ann6, n)
		}
	}
	a := &u.Attrs
	if len(announce) > 0 {
		a.Origin = 0
		a.ASPath = bgpwire.ASPath{{Type: bgpwire.SegSequence, ASNs: []uint32{asn}}}
		a.Set(bgpwire.AttrOrigin)
		a.Set(bgpwire.AttrASPath)
	}
	if len(u.NLRI) > 0 {
		a.NextHop = netip.MustParseAddr("192.0.2.1")
		a.Set(bgpwire.AttrNextHop)
	}
	if len(ann6) > 0 {
		a.MPReach = bgpwire.MPReach{Family: bgpwire.IPv6Unicast, NextHop: netip.MustParseAddr("2001:db8::1"), NLRI: ann6}
		a.Set(bgpwire.AttrMPReach)
	}
	if len(wd6) > 0 {
		a.MPUnreach = bgpwire.MPUnreach{Family: bgpwire.IPv6Unicast, NLRI: wd6}
		a.Set(bgpwire.AttrMPUnreach)
	}
	return u.AppendWire(nil, opts)
}

// v4s returns n IPv4 /24s from 10.0.0.0 on, after skipping from.
func v4s(from, n int) []netip.Prefix {
	out := make([]netip.Prefix, n)
	for i := range out {
		j := from + i
		out[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(j >> 8), byte(j), 0}), 24)
	}
	return out
}

// v6s returns n IPv6 /48s from 2001:db8::/48 on.
func v6s(from, n int) []netip.Prefix {
	out := make([]netip.Prefix, n)
	for i := range out {
		j := from + i
		out[i] = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(j >> 8), byte(j)}), 48)
	}
	return out
}

func wantRoutes(t *testing.T, what string, ev schema.Event, want ...schema.FamilyCount) {
	t.Helper()
	if len(want) == 0 {
		want = nil
	}
	if !reflect.DeepEqual(ev.Routes, schema.RouteCounts(want)) {
		t.Errorf("%s: %s event (seq %d) has routes %v, want %v", what, ev.Type, ev.Seq, ev.Routes, want)
	}
}

// TestSessionRouteCounts drives sessions with a scripted BGP speaker and
// checks the route counts on their events: UPDATEs carry the counts of
// the families they touch, announcing a route again or withdrawing an
// unknown one changes nothing, KEEPALIVEs carry every family, and a
// session that goes down reports 0 for each of its families and starts
// the next session empty.
func TestSessionRouteCounts(t *testing.T) {
	rec := &recorder{}
	srv, cancel, done := startServer(t, rec)
	stop := sync.OnceValue(func() error { cancel(); return <-done })
	defer stop()

	peer := netip.MustParseAddr("127.0.0.2")
	opts := &bgpwire.DecodeOptions{ASN4: true}
	p := dialPeer(t, srv.Addr(), peer.String(), 65002, bgpwire.MultiprotocolCapability(bgpwire.IPv6Unicast))
	var seq uint64
	wantRoutes(t, "connected", rec.next(t, peer, schema.TypePeerState, &seq))

	// 1000 IPv4 routes in four UPDATEs of 250.
	for i := range 4 {
		p.send(routesUpdate(opts, 65002, nlri(v4s(250*i, 250)), nil))
		wantRoutes(t, "announce", rec.next(t, peer, schema.TypeUpdate, &seq), fc(v4, uint64(250*(i+1))))
	}
	// 100 IPv6 routes: the event counts IPv6 only.
	p.send(routesUpdate(opts, 65002, nlri(v6s(0, 100)), nil))
	wantRoutes(t, "announce IPv6", rec.next(t, peer, schema.TypeUpdate, &seq), fc(v6, 100))
	// Announced again, with another path: no new routes.
	p.send(routesUpdate(opts, 64999, nlri(v4s(0, 100)), nil))
	wantRoutes(t, "announce again", rec.next(t, peer, schema.TypeUpdate, &seq), fc(v4, 1000))
	// 200 known and 50 unknown withdrawn.
	p.send(routesUpdate(opts, 65002, nil, nlri(append(v4s(800, 200), v4s(3000, 50)...))))
	wantRoutes(t, "withdraw", rec.next(t, peer, schema.TypeUpdate, &seq), fc(v4, 800))
	p.send(routesUpdate(opts, 65002, nil, nlri(prefixes("192.0.2.0/24"))))
	wantRoutes(t, "withdraw unknown", rec.next(t, peer, schema.TypeUpdate, &seq), fc(v4, 800))
	// Both families in one UPDATE; one route withdrawn and announced again.
	p.send(routesUpdate(opts, 65002, nlri(append(v4s(1000, 5), v6s(0, 1)...)), nlri(v6s(0, 10))))
	wantRoutes(t, "both families", rec.next(t, peer, schema.TypeUpdate, &seq), fc(v4, 805), fc(v6, 91))
	// End-of-RIB markers: IPv4 (an empty UPDATE) and IPv6.
	p.sendUpdate([]byte{0, 0, 0, 0})
	wantRoutes(t, "End-of-RIB IPv4", rec.next(t, peer, schema.TypeUpdate, &seq), fc(v4, 805))
	eor6 := bgpwire.Update{}
	eor6.Attrs.MPUnreach = bgpwire.MPUnreach{Family: bgpwire.IPv6Unicast}
	eor6.Attrs.Set(bgpwire.AttrMPUnreach)
	p.send(eor6.AppendWire(nil, opts))
	wantRoutes(t, "End-of-RIB IPv6", rec.next(t, peer, schema.TypeUpdate, &seq), fc(v6, 91))
	// Treat-as-withdraw (ORIGIN 9): the announced route is withdrawn.
	bad := update(v4s(0, 1)[0], 65002, netip.MustParseAddr("192.0.2.1"))
	bad[7] = 9
	p.sendUpdate(bad)
	ev := rec.next(t, peer, schema.TypeUpdate, &seq)
	if len(ev.Withdrawals) != 1 {
		t.Fatalf("treat-as-withdraw: %+v", ev)
	}
	wantRoutes(t, "treat-as-withdraw", ev, fc(v4, 804))
	// A KEEPALIVE carries every family.
	p.send(bgpwire.AppendKeepalive(nil))
	wantRoutes(t, "keepalive", rec.next(t, peer, schema.TypeKeepalive, &seq), fc(v4, 804), fc(v6, 91))

	// The peer goes away: its families drop to 0.
	p.conn.Close()
	ev = rec.next(t, peer, schema.TypePeerState, &seq)
	if ev.State != schema.StateDown {
		t.Fatalf("after close: %+v", ev)
	}
	wantRoutes(t, "down", ev, fc(v4, 0), fc(v6, 0))

	// A new session starts empty.
	p = dialPeer(t, srv.Addr(), peer.String(), 65002, bgpwire.MultiprotocolCapability(bgpwire.IPv6Unicast))
	defer p.conn.Close()
	wantRoutes(t, "connected again", rec.next(t, peer, schema.TypePeerState, &seq))
	p.send(bgpwire.AppendKeepalive(nil))
	wantRoutes(t, "keepalive of an empty session", rec.next(t, peer, schema.TypeKeepalive, &seq))
	p.send(routesUpdate(opts, 65002, nlri(v4s(0, 3)), nil))
	wantRoutes(t, "first UPDATE of the new session", rec.next(t, peer, schema.TypeUpdate, &seq), fc(v4, 3))

	// The collector stops: the down event it records has the counts too.
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	ev = rec.next(t, peer, schema.TypePeerState, &seq)
	if ev.State != schema.StateDown || ev.Reason != "collector stopped" {
		t.Fatalf("at shutdown: %+v", ev)
	}
	wantRoutes(t, "down at shutdown", ev, fc(v4, 0))

	// Only UPDATEs, KEEPALIVEs and down events carry counts.
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, ev := range rec.events {
		carries := ev.Type == schema.TypeUpdate || ev.Type == schema.TypeKeepalive || ev.State == schema.StateDown
		if ev.Routes != nil && !carries {
			t.Errorf("%s event (seq %d) has routes %v", ev.Type, ev.Seq, ev.Routes)
		}
	}
}

// TestSessionRouteCountsAddPath: with ADD-PATH each path of a prefix is a
// route of its own.
func TestSessionRouteCountsAddPath(t *testing.T) {
	rec := &recorder{}
	srv, cancel, done := startServer(t, rec)
	defer func() { cancel(); <-done }()

	peer := netip.MustParseAddr("127.0.0.3")
	opts := &bgpwire.DecodeOptions{ASN4: true, AddPath: []bgpwire.Family{bgpwire.IPv4Unicast}}
	p := dialPeer(t, srv.Addr(), peer.String(), 65003,
		bgpwire.AddPathCapability(bgpwire.AddPathFamily{Family: bgpwire.IPv4Unicast, Mode: bgpwire.AddPathSend}))
	defer p.conn.Close()
	var seq uint64
	rec.next(t, peer, schema.TypePeerState, &seq)

	same := prefixes("198.51.100.0/24", "198.51.100.0/24", "198.51.100.0/24", "203.0.113.0/24")
	p.send(routesUpdate(opts, 65003, nlri(same, 1, 2, 3, 1), nil))
	ev := rec.next(t, peer, schema.TypeUpdate, &seq)
	if ids := ev.Announcements[0].PathIDs; !reflect.DeepEqual(ids, []uint32{1, 2, 3, 1}) {
		t.Fatalf("path ids %v: ADD-PATH not negotiated?", ids)
	}
	wantRoutes(t, "four paths", ev, fc(v4, 4))
	p.send(routesUpdate(opts, 65003, nlri(same[:2], 2, 1), nil))
	wantRoutes(t, "the same paths again", rec.next(t, peer, schema.TypeUpdate, &seq), fc(v4, 4))
	p.send(routesUpdate(opts, 65003, nil, nlri(same[:2], 2, 9)))
	wantRoutes(t, "one path of two withdrawn", rec.next(t, peer, schema.TypeUpdate, &seq), fc(v4, 3))
	p.send(bgpwire.AppendKeepalive(nil))
	wantRoutes(t, "keepalive", rec.next(t, peer, schema.TypeKeepalive, &seq), fc(v4, 3))
}

// TestSessionRouteCountsBIRD counts the routes of a real BGP speaker: a
// BIRD 2 daemon exports 1000 IPv4 and 100 IPv6 static routes to the
// collector, withdraws 200, sends its whole table again, and shuts the
// session down.
func TestSessionRouteCountsBIRD(t *testing.T) {
	testpeer.Need(t, "bird", "bird2")
	rec := &recorder{}
	srv, cancel, done := startServer(t, rec)
	defer func() { cancel(); <-done }()
	bgpPort := srv.Addr().(*net.TCPAddr).Port

	var statics strings.Builder
	static := func(name, af string, ps []netip.Prefix) {
		fmt.Fprintf(&statics, "protocol static %s {\n  %s;\n", name, af)
		for _, p := range ps {
			fmt.Fprintf(&statics, "  route %s blackhole;\n", p)
		}
		statics.WriteString("}\n")
	}
	static("kept4", "ipv4", v4s(0, 800))
	static("gone4", "ipv4", v4s(800, 200))
	static("kept6", "ipv6", v6s(0, 100))
	bird := testpeer.StartBIRD(t, fmt.Sprintf(`log "DIR/bird.log" all;
router id 192.0.2.12;
protocol device { }
%s
protocol bgp collector {
  local 127.0.0.12 port %d as 65012;
  strict bind on;
  neighbor 127.0.0.1 port %d as 65000;
  multihop;
  connect delay time 1;
  connect retry time 2;
  hold time 9;
  keepalive time 1;
  ipv4 { import none; export where source = RTS_STATIC; next hop address 192.0.2.12; };
  ipv6 { import none; export where source = RTS_STATIC; next hop address 2001:db8::12; };
}
`, statics.String(), testpeer.FreePort(t), bgpPort))
	peer := netip.MustParseAddr("127.0.0.12")

	// keepalive waits for a KEEPALIVE (BIRD sends one a second) with the
	// counts want, after seq *after.
	keepalive := func(what string, after *uint64, want ...schema.FamilyCount) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		var last schema.Event
		for time.Now().Before(deadline) {
			last = rec.next(t, peer, schema.TypeKeepalive, after)
			if reflect.DeepEqual(last.Routes, schema.RouteCounts(want)) {
				return
			}
		}
		t.Fatalf("%s: no KEEPALIVE with routes %v; the last had %v", what, want, last.Routes)
	}
	var seq uint64
	keepalive("table sent", &seq, fc(v4, 1000), fc(v6, 100))

	if out, err := bird.Ctl("disable", "gone4"); err != nil {
		t.Fatalf("birdc disable gone4: %v: %s", err, out)
	}
	keepalive("200 withdrawn", &seq, fc(v4, 800), fc(v6, 100))

	// BIRD sends every route again: the counts stay.
	before := seq
	if out, err := bird.Ctl("reload", "out", "collector"); err != nil {
		t.Fatalf("birdc reload out: %v: %s", err, out)
	}
	again := 0
	for again < 900 {
		ev := rec.next(t, peer, schema.TypeUpdate, &seq)
		for _, a := range ev.Announcements {
			again += len(a.Prefixes)
		}
		for _, c := range ev.Routes {
			if want := map[schema.Family]uint64{v4: 800, v6: 100}[c.Family]; c.Routes != want {
				t.Fatalf("UPDATE (seq %d) after reload: %s has %d routes, want %d", ev.Seq, c.Family, c.Routes, want)
			}
		}
	}
	seq = before
	keepalive("after the table sent again", &seq, fc(v4, 800), fc(v6, 100))

	if out, err := bird.Ctl("disable", "collector"); err != nil {
		t.Fatalf("birdc disable collector: %v: %s", err, out)
	}
	ev := rec.next(t, peer, schema.TypePeerState, &seq)
	if ev.State != schema.StateDown {
		t.Fatalf("after birdc disable: %+v", ev)
	}
	wantRoutes(t, "down", ev, fc(v4, 0), fc(v6, 0))
}
