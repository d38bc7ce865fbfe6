package collector

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
)

// TestEnhancedRouteRefreshRawPeer: between a peer's BoRR and EoRR for
// IPv4 unicast its routes are stale but counted; the one it sends again
// stays, the other is withdrawn at the EoRR. A peer without the
// capability gets no such treatment.
func TestEnhancedRouteRefreshRawPeer(t *testing.T) {
	rec := &recorder{}
	srv := startServerWith(t, rec, func(*Config) {})
	nh := netip.MustParseAddr("192.0.2.61")
	borr := bgpwire.RouteRefresh{Family: bgpwire.IPv4Unicast, Subtype: bgpwire.RouteRefreshBoRR}.AppendWire(nil)
	eorr := bgpwire.RouteRefresh{Family: bgpwire.IPv4Unicast, Subtype: bgpwire.RouteRefreshEoRR}.AppendWire(nil)
	for _, tc := range []struct {
		local    string
		enhanced bool
	}{{"127.0.0.61", true}, {"127.0.0.62", false}} {
		var caps []bgpwire.Capability
		if tc.enhanced {
			caps = append(caps, bgpwire.EmptyCapability(bgpwire.CapEnhancedRouteRefresh))
		}
		p := dialPeer(t, srv.Addr(), tc.local, 65061, caps...)
		peer := netip.MustParseAddr(tc.local)
		var seq uint64
		rec.next(t, peer, schema.TypePeerState, &seq)
		p.sendUpdate(update(netip.MustParsePrefix("198.51.100.0/24"), 65061, nh))
		p.sendUpdate(update(netip.MustParsePrefix("198.51.101.0/24"), 65061, nh))
		rec.next(t, peer, schema.TypeUpdate, &seq)
		rec.next(t, peer, schema.TypeUpdate, &seq)
		start := seq
		p.send(borr)
		if ev := rec.next(t, peer, schema.TypeRouteRefresh, &seq); ev.RouteRefresh.Subtype != "borr" {
			t.Fatalf("%s: ROUTE_REFRESH event %+v", tc.local, ev.RouteRefresh)
		}
		p.sendUpdate(update(netip.MustParsePrefix("198.51.100.0/24"), 65061, nh))
		if ev := rec.next(t, peer, schema.TypeUpdate, &seq); !slices.Equal(ev.Routes, schema.RouteCounts{fc(v4, 2)}) {
			t.Errorf("%s: UPDATE after the BoRR: routes %v, want 2", tc.local, ev.Routes)
		}
		p.send(eorr)
		rec.next(t, peer, schema.TypeRouteRefresh, &seq)
		p.send(bgpwire.AppendKeepalive(nil))
		ka := rec.next(t, peer, schema.TypeKeepalive, &seq)
		got := withdrawnBy(rec, peer, start)
		if tc.enhanced {
			want := map[string]string{"198.51.101.0/24": "enhanced route refresh: not announced again before the EoRR"}
			if !mapsEqual(got, want) || !slices.Equal(ka.Routes, schema.RouteCounts{fc(v4, 1)}) {
				t.Errorf("%s: withdrawn %v, routes %v; want %v, 1", tc.local, got, ka.Routes, want)
			}
		} else if len(got) != 0 || !slices.Equal(ka.Routes, schema.RouteCounts{fc(v4, 2)}) {
			t.Errorf("%s (no enhanced route refresh): withdrawn %v, routes %v; want none, 2", tc.local, got, ka.Routes)
		}
	}
}

// TestEnhancedRouteRefreshBIRD: BIRD (enhanced route refresh on by
// default) sends its table again after `birdc reload out`, between a
// BoRR and an EoRR: both are events, no route is withdrawn, the count
// stays, and the routes sent again are duplicates. Then a route that
// BIRD sends again with a community is an implicit withdrawal.
func TestEnhancedRouteRefreshBIRD(t *testing.T) {
	testpeer.Need(t, "bird", "bird2")
	rec := &recorder{}
	srv := startServerWith(t, rec, func(*Config) {})
	conf := `log "DIR/bird.log" all;
router id 192.0.2.63;
protocol device { }
protocol static { ipv4; route 198.51.100.0/24 blackhole; route 198.51.101.0/24 blackhole; route 198.51.102.0/24 blackhole; }
protocol bgp collector {
  local 127.0.0.63 port %d as 65063;
  strict bind on;
  neighbor 127.0.0.1 port %d as 65000;
  multihop;
  connect delay time 1;
  hold time 9;
  keepalive time 1;
  ipv4 { import none; export where source = RTS_STATIC; next hop address 192.0.2.63; };
}
`
	conf = fmt.Sprintf(conf, testpeer.FreePort(t), srv.Addr().(*net.TCPAddr).Port)
	bird := testpeer.StartBIRD(t, conf)
	peer := netip.MustParseAddr("127.0.0.63")
	open := rec.wait(t, "BIRD's OPEN", func(ev *schema.Event) bool { return ev.Peer == peer && ev.Type == schema.TypeOpen && !ev.Open.Sent })
	if !slices.Contains(open.Open.Capabilities, "enhanced-route-refresh") {
		t.Fatalf("BIRD's OPEN has no enhanced route refresh: %v", open.Open.Capabilities)
	}
	first := rec.wait(t, "BIRD's routes", func(ev *schema.Event) bool {
		return ev.Peer == peer && ev.Type == schema.TypeUpdate && slices.Equal(ev.Routes, schema.RouteCounts{fc(v4, 3)})
	})
	if out, err := bird.Ctl("reload", "out", "collector"); err != nil {
		t.Fatalf("birdc reload out: %v: %s", err, out)
	}
	var seq uint64 = first.Seq
	borr := rec.next(t, peer, schema.TypeRouteRefresh, &seq)
	eorr := rec.next(t, peer, schema.TypeRouteRefresh, &seq)
	if borr.RouteRefresh.Subtype != "borr" || eorr.RouteRefresh.Subtype != "eorr" {
		t.Fatalf("ROUTE_REFRESH events %+v, %+v; want borr, eorr", borr.RouteRefresh, eorr.RouteRefresh)
	}
	resent := 0
	for _, ev := range rec.snapshot() {
		if ev.Peer != peer || ev.Seq <= first.Seq || ev.Type != schema.TypeUpdate {
			continue
		}
		if len(ev.Withdrawals) > 0 {
			t.Errorf("withdrawn around the refresh: %v (%s)", ev.Withdrawals, ev.Reason)
		}
		if ev.Seq > borr.Seq && ev.Seq < eorr.Seq {
			for _, a := range ev.Announcements {
				resent += len(a.Prefixes)
			}
		}
		for _, c := range ev.Routes {
			if c.Routes != 3 {
				t.Errorf("UPDATE (seq %d) around the refresh: %s has %d routes, want 3", ev.Seq, c.Family, c.Routes)
			}
		}
	}
	if resent != 3 {
		t.Errorf("%d routes sent between the BoRR and the EoRR, want 3", resent)
	}
	dups := 0
	for _, ev := range rec.snapshot() {
		if ev.Peer == peer && ev.Seq > borr.Seq && ev.Seq < eorr.Seq {
			dups += int(ev.Duplicates)
			if ev.ImplicitWithdrawals != 0 {
				t.Errorf("UPDATE (seq %d) of the refresh: %d implicit withdrawals, want 0", ev.Seq, ev.ImplicitWithdrawals)
			}
		}
	}
	if dups != 3 {
		t.Errorf("%d duplicates among the routes sent again, want 3", dups)
	}

	// A community on one route: BIRD sends it again with it, which
	// replaces the path the collector had.
	changed := strings.Replace(conf, "route 198.51.101.0/24 blackhole;", "route 198.51.101.0/24 blackhole { bgp_community.add((65063,1)); };", 1)
	path := filepath.Join(bird.Dir, "changed.conf")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(changed, "DIR", bird.Dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := bird.Ctl("configure", `"`+path+`"`); err != nil {
		t.Fatalf("birdc configure: %v: %s", err, out)
	}
	ev := rec.wait(t, "198.51.101.0/24 with the community", func(ev *schema.Event) bool {
		return ev.Peer == peer && ev.Seq > eorr.Seq && announces(ev, "198.51.101.0/24")
	})
	if ev.ImplicitWithdrawals != 1 || ev.Duplicates != 0 || fmt.Sprint(ev.Community) != "[65063:1]" {
		t.Errorf("UPDATE with the changed route: implicit withdrawals %d, duplicates %d, community %v; want 1, 0, [65063:1]",
			ev.ImplicitWithdrawals, ev.Duplicates, ev.Community)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !slices.Equal(rec.next(t, peer, schema.TypeKeepalive, &seq).Routes, schema.RouteCounts{fc(v4, 3)}) {
		if time.Now().After(deadline) {
			t.Fatal("no KEEPALIVE with 3 routes after the refresh")
		}
	}
}
