package collector

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
)

// grCap is a peer's graceful restart capability for IPv4 unicast.
func grCap(flags uint8, seconds uint16, forwarding bool) bgpwire.Capability {
	f := bgpwire.GRFamily{Family: bgpwire.IPv4Unicast}
	if forwarding {
		f.Flags = grForwarding
	}
	return bgpwire.GracefulRestartCapability(bgpwire.GracefulRestart{Flags: flags, Time: seconds, Families: []bgpwire.GRFamily{f}})
}

// withdrawnBy returns the prefixes the events after seq withdrew, with
// each one's reason.
func withdrawnBy(rec *recorder, peer netip.Addr, after uint64) map[string]string {
	out := map[string]string{}
	for _, ev := range rec.snapshot() {
		if ev.Peer == peer && ev.Seq > after && ev.Type == schema.TypeUpdate {
			for _, p := range ev.Withdrawals {
				out[p.String()] = ev.Reason
			}
		}
	}
	return out
}

// TestGracefulRestartRawPeer: a peer with graceful restart closes its
// connection: its routes are kept ("restarting"); it comes back,
// announces some of them again and a new one, and sends its End-of-RIB:
// only the ones it did not announce again are withdrawn, and it is never
// down, not even when a connection from its address is refused for a
// wrong AS meanwhile. Then it goes away again with a restart time of
// 1 s: its routes are withdrawn when that runs out, and it is down.
func TestGracefulRestartRawPeer(t *testing.T) {
	rec := &recorder{}
	srv := startServerWith(t, rec, func(c *Config) {
		c.Peers = []PeerRule{{Prefix: netip.MustParsePrefix("127.0.0.41/32"), ASN: 65041}}
	})
	const local = "127.0.0.41"
	peer := netip.MustParseAddr(local)
	nh := netip.MustParseAddr("192.0.2.41")
	eor := []byte{0, 0, 0, 0}

	p := dialPeer(t, srv.Addr(), local, 65041, grCap(0, 60, false))
	var seq uint64
	rec.next(t, peer, schema.TypePeerState, &seq)
	for _, s := range []string{"198.51.100.0/24", "198.51.101.0/24", "198.51.102.0/24"} {
		p.sendUpdate(update(netip.MustParsePrefix(s), 65041, nh))
	}
	p.sendUpdate(eor)
	rec.wait(t, "End-of-RIB", func(ev *schema.Event) bool { return ev.Peer == peer && !ev.EndOfRIB.IsZero() })
	p.conn.Close()

	ev := rec.next(t, peer, schema.TypePeerState, &seq)
	if ev.State != schema.StateRestarting || !slices.Equal(ev.Routes, schema.RouteCounts{fc(v4, 3)}) {
		t.Fatalf("after the peer closed its connection: %+v", ev)
	}
	if !strings.Contains(ev.Reason, "graceful restart") {
		t.Errorf("restarting reason %q", ev.Reason)
	}
	restarting := ev.Seq

	// A connection from the restarting peer with a wrong AS is refused,
	// but the peer stays restarting: no down state.
	bad := dialRaw(t, local, srv.Addr())
	bad.expect("wrong AS", bgpwire.MsgOpen)
	bad.sendOpen(65999, "192.0.2.41")
	bad.expectNotification("wrong AS", bgpwire.CodeOpenMessage, bgpwire.SubcodeBadPeerAS)
	rec.wait(t, "the NOTIFICATION to the wrong AS", func(ev *schema.Event) bool {
		return ev.Peer == peer && ev.Type == schema.TypeNotification && ev.Seq > restarting
	})

	p = dialPeer(t, srv.Addr(), local, 65041, grCap(0x8, 1, true)) // R bit; restart time 1s from now on
	if ev := rec.next(t, peer, schema.TypePeerState, &seq); ev.State != schema.StateConnected {
		t.Fatalf("after the peer came back: %+v", ev)
	}
	p.sendUpdate(update(netip.MustParsePrefix("198.51.100.0/24"), 65041, nh))
	up := rec.next(t, peer, schema.TypeUpdate, &seq)
	if !slices.Equal(up.Routes, schema.RouteCounts{fc(v4, 3)}) {
		t.Errorf("UPDATE announcing a stale route again: routes %v, want 3 (1 fresh, 2 stale)", up.Routes)
	}
	p.sendUpdate(update(netip.MustParsePrefix("203.0.113.0/24"), 65041, nh))
	if up := rec.next(t, peer, schema.TypeUpdate, &seq); !slices.Equal(up.Routes, schema.RouteCounts{fc(v4, 4)}) {
		t.Errorf("UPDATE announcing a new route: routes %v, want 4", up.Routes)
	}
	p.sendUpdate(eor)
	rec.next(t, peer, schema.TypeUpdate, &seq) // the End-of-RIB
	rec.next(t, peer, schema.TypeUpdate, &seq) // the flush
	p.send(bgpwire.AppendKeepalive(nil))
	kept := rec.next(t, peer, schema.TypeKeepalive, &seq)
	if !slices.Equal(kept.Routes, schema.RouteCounts{fc(v4, 2)}) {
		t.Errorf("KEEPALIVE after the End-of-RIB: routes %v, want 2", kept.Routes)
	}
	got := withdrawnBy(rec, peer, restarting)
	want := map[string]string{
		"198.51.101.0/24": "graceful restart: not announced again before the End-of-RIB",
		"198.51.102.0/24": "graceful restart: not announced again before the End-of-RIB",
	}
	if !mapsEqual(got, want) {
		t.Errorf("withdrawn after the restart: %v, want %v", got, want)
	}

	p.conn.Close()
	if ev := rec.next(t, peer, schema.TypePeerState, &seq); ev.State != schema.StateRestarting {
		t.Fatalf("after the peer closed again: %+v", ev)
	}
	down := rec.next(t, peer, schema.TypePeerState, &seq)
	if down.State != schema.StateDown || !slices.Equal(down.Routes, schema.RouteCounts{fc(v4, 0)}) || !strings.Contains(down.Reason, "restart time") {
		t.Fatalf("after the restart time: %+v", down)
	}
	got = withdrawnBy(rec, peer, kept.Seq)
	want = map[string]string{
		"198.51.100.0/24": "graceful restart: the peer did not come back within its restart time",
		"203.0.113.0/24":  "graceful restart: the peer did not come back within its restart time",
	}
	if !mapsEqual(got, want) {
		t.Errorf("withdrawn when the restart time ran out: %v, want %v", got, want)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestGracefulRestartNotifications: with the N bit (RFC 8538) a
// NOTIFICATION starts a graceful restart, but a Cease / Hard Reset ends
// the session at once; without it, any NOTIFICATION does; a peer whose
// capability lists no family keeps nothing.
func TestGracefulRestartNotifications(t *testing.T) {
	rec := &recorder{}
	srv := startServerWith(t, rec, func(*Config) {})
	shutdown := bgpwire.Notification{Code: bgpwire.CodeCease, Subcode: bgpwire.SubcodeAdminShutdown}
	hard := bgpwire.Notification{Code: bgpwire.CodeCease, Subcode: bgpwire.SubcodeHardReset, Data: []byte{6, 2}}
	noFamilies := bgpwire.GracefulRestartCapability(bgpwire.GracefulRestart{Flags: grFlagNotification, Time: 60})
	for _, tc := range []struct {
		local string
		cap   bgpwire.Capability
		note  *bgpwire.Notification
		want  schema.PeerState
	}{
		{"127.0.0.42", grCap(grFlagNotification, 60, false), &shutdown, schema.StateRestarting},
		{"127.0.0.43", grCap(grFlagNotification, 60, false), &hard, schema.StateDown},
		{"127.0.0.44", grCap(0, 60, false), &shutdown, schema.StateDown},
		{"127.0.0.45", noFamilies, nil, schema.StateDown},
	} {
		peer := netip.MustParseAddr(tc.local)
		p := dialPeer(t, srv.Addr(), tc.local, 65042, tc.cap)
		var seq uint64
		rec.next(t, peer, schema.TypePeerState, &seq)
		p.sendUpdate(update(netip.MustParsePrefix("198.51.100.0/24"), 65042, netip.MustParseAddr("192.0.2.42")))
		rec.next(t, peer, schema.TypeUpdate, &seq)
		if tc.note != nil {
			p.send(tc.note.AppendWire(nil))
		}
		p.conn.Close()
		ev := rec.next(t, peer, schema.TypePeerState, &seq)
		if ev.State != tc.want {
			t.Errorf("%s: after %v: state %s (%s), want %s", tc.local, tc.note, ev.State, ev.Reason, tc.want)
		}
	}
}

// gobgpdGR is a gobgpd speaker with graceful restart for IPv4 unicast.
const gobgpdGR = `
[global.config]
  as = 65046
  router-id = "192.0.2.46"
  port = -1
  [global.apply-policy.config]
    export-policy-list = ["keep-nh"]
    default-export-policy = "accept-route"
[[policy-definitions]]
  name = "keep-nh"
  [[policy-definitions.statements]]
    name = "s1"
    [policy-definitions.statements.actions.bgp-actions]
      set-next-hop = "unchanged"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = 65000
    admin-down = ADMINDOWN
  [neighbors.transport.config]
    local-address = "127.0.0.46"
    remote-port = PORT
  [neighbors.timers.config]
    connect-retry = 1
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = GRTIME
    long-lived-enabled = LLGR
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
    [neighbors.afi-safis.long-lived-graceful-restart.config]
      enabled = LLGR
      restart-time = 120
`

// TestGracefulRestartGoBGP: gobgpd with graceful restart announces two
// routes and is killed (kill -9): the collector keeps them, "restarting".
// gobgpd starts again in restarting mode (-r) and announces one of them
// and a new one: at its End-of-RIB the other is withdrawn, the one it
// announced again never is, and the peer is never down. With long-lived
// graceful restart (RFC 9494) and a restart time of 1 s, gobgpd comes
// back in the long-lived phase, which a second "restarting" starts; a
// third route, with NO_LLGR, is withdrawn as that phase starts.
func TestGracefulRestartGoBGP(t *testing.T) {
	t.Run("graceful restart", func(t *testing.T) { goBGPRestart(t, false) })
	t.Run("long-lived", func(t *testing.T) { goBGPRestart(t, true) })
}

func goBGPRestart(t *testing.T, longLived bool) {
	gobgpd := testpeer.Need(t, "gobgpd", "gobgpd")
	gobgp := testpeer.Need(t, "gobgp", "gobgpd")
	rec := &recorder{}
	srv := startServerWith(t, rec, func(*Config) {})
	port := srv.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	api := fmt.Sprint(testpeer.FreePort(t))
	start := func(name, adminDown, flags string) *testpeer.Process {
		conf := filepath.Join(dir, name+".toml")
		grTime := "120"
		if longLived {
			grTime = "1"
		}
		text := strings.NewReplacer("PORT", fmt.Sprint(port), "ADMINDOWN", adminDown, "GRTIME", grTime, "LLGR", fmt.Sprint(longLived)).Replace(gobgpdGR)
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return testpeer.StartCommand(t, dir, name, gobgpd+" -f "+conf+" -l info --api-hosts=127.0.0.1:"+api+" --pprof-disable"+flags)
	}
	cli := func(p *testpeer.Process, args ...string) {
		t.Helper()
		var out []byte
		var err error
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if out, err = exec.Command(gobgp, append([]string{"-p", api}, args...)...).CombinedOutput(); err == nil {
				return
			}
			select {
			case <-p.Done():
				t.Fatalf("gobgpd exited: %v\n%s", p.Err(), p.Output())
			default:
			}
		}
		t.Fatalf("gobgp %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	add := func(p *testpeer.Process, prefix string) {
		cli(p, "global", "rib", "add", "-a", "ipv4", prefix, "nexthop", "192.0.2.46")
	}
	peer := netip.MustParseAddr("127.0.0.46")
	waitFor := func(what string, ok func(*schema.Event) bool) schema.Event {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			for _, ev := range rec.snapshot() {
				if ev.Peer == peer && ok(&ev) {
					return ev
				}
			}
		}
		t.Fatalf("no event: %s", what)
		return schema.Event{}
	}

	first := start("gobgpd1", "false", "")
	add(first, "10.46.1.0/24")
	add(first, "10.46.2.0/24")
	held := uint64(2) // routes held when gobgpd is killed
	if longLived {
		// A route with NO_LLGR (RFC 9494): withdrawn when the
		// long-lived phase starts.
		cli(first, "global", "rib", "add", "-a", "ipv4", "10.46.4.0/24", "nexthop", "192.0.2.46", "community", "65535:7")
		held = 3
	}
	waitFor("every route", func(ev *schema.Event) bool {
		return ev.Type == schema.TypeUpdate && slices.Equal(ev.Routes, schema.RouteCounts{fc(v4, held)})
	})
	if err := first.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.Done()
	restarting := waitFor("restarting", func(ev *schema.Event) bool {
		return ev.Type == schema.TypePeerState && ev.State != schema.StateConnected
	})
	if restarting.State != schema.StateRestarting || !slices.Equal(restarting.Routes, schema.RouteCounts{fc(v4, held)}) {
		t.Fatalf("after kill -9: %+v", restarting)
	}
	if longLived {
		first := restarting
		restarting = waitFor("restarting, long-lived", func(ev *schema.Event) bool {
			return ev.Type == schema.TypePeerState && ev.Seq > first.Seq
		})
		if restarting.State != schema.StateRestarting || !strings.Contains(restarting.Reason, "long-lived") || !slices.Equal(restarting.Routes, schema.RouteCounts{fc(v4, 2)}) {
			t.Fatalf("after the restart time of 1s: %+v", restarting)
		}
		want := map[string]string{"10.46.4.0/24": "long-lived graceful restart: the route carries NO_LLGR, so it is not kept long-lived (RFC 9494)"}
		if got := withdrawnBy(rec, peer, first.Seq); !mapsEqual(got, want) {
			t.Errorf("withdrawn as the long-lived phase started: %v, want %v", got, want)
		}
	}

	second := start("gobgpd2", "true", " -r")
	add(second, "10.46.1.0/24")
	add(second, "10.46.3.0/24")
	cli(second, "neighbor", "127.0.0.1", "enable")
	flush := waitFor("the flush", func(ev *schema.Event) bool {
		return ev.Type == schema.TypeUpdate && ev.Seq > restarting.Seq && len(ev.Withdrawals) > 0
	})
	if !strings.Contains(flush.Reason, "End-of-RIB") || !slices.Equal(flush.Routes, schema.RouteCounts{fc(v4, 2)}) {
		t.Errorf("flush event: %+v", flush)
	}
	waitFor("the new route", func(ev *schema.Event) bool { return announces(ev, "10.46.3.0/24") })
	for _, ev := range rec.snapshot() {
		if ev.Peer != peer || ev.Seq <= restarting.Seq {
			continue
		}
		if ev.Type == schema.TypePeerState && ev.State != schema.StateConnected {
			t.Errorf("state after the restart: %+v", ev)
		}
		for _, p := range ev.Withdrawals {
			if p.String() != "10.46.2.0/24" {
				t.Errorf("withdrawn after the restart: %s (%s)", p, ev.Reason)
			}
		}
	}
	again := waitFor("10.46.1.0/24 announced again", func(ev *schema.Event) bool { return ev.Seq > restarting.Seq && announces(ev, "10.46.1.0/24") })
	if again.Duplicates != 1 || again.ImplicitWithdrawals != 0 {
		t.Errorf("UPDATE announcing 10.46.1.0/24 again: duplicates %d, implicit withdrawals %d; want 1, 0 (the stale route, same path)", again.Duplicates, again.ImplicitWithdrawals)
	}
}

// TestLongLivedGracefulRestart: a peer with a restart time of 1 s and a
// long-lived stale time (RFC 9494) for IPv4 unicast closes its
// connection: "restarting", then, when the restart time runs out, a
// second "restarting" for the long-lived phase with the routes still
// there. One peer comes back in that phase and keeps what it announces
// again; the other does not, and its routes go when its 2 s long-lived
// stale time runs out.
func TestLongLivedGracefulRestart(t *testing.T) {
	rec := &recorder{}
	srv := startServerWith(t, rec, func(*Config) {})
	nh := netip.MustParseAddr("192.0.2.48")
	llgr := func(seconds uint32) bgpwire.Capability {
		return bgpwire.LLGRCapability(bgpwire.LLGRFamily{Family: bgpwire.IPv4Unicast, Flags: grForwarding, StaleTime: seconds})
	}
	open := func(local string, stale uint32) *testPeer {
		return dialPeer(t, srv.Addr(), local, 65048, grCap(grFlagNotification, 1, true), llgr(stale))
	}
	for _, tc := range []struct {
		local    string
		stale    uint32
		comeBack bool
	}{{"127.0.0.48", 2, false}, {"127.0.0.49", 60, true}} {
		peer := netip.MustParseAddr(tc.local)
		p := open(tc.local, tc.stale)
		var seq uint64
		rec.next(t, peer, schema.TypePeerState, &seq)
		p.sendUpdate(update(netip.MustParsePrefix("198.51.100.0/24"), 65048, nh))
		p.sendUpdate(update(netip.MustParsePrefix("198.51.101.0/24"), 65048, nh))
		rec.next(t, peer, schema.TypeUpdate, &seq)
		rec.next(t, peer, schema.TypeUpdate, &seq)
		p.conn.Close()
		if ev := rec.next(t, peer, schema.TypePeerState, &seq); ev.State != schema.StateRestarting || !strings.Contains(ev.Reason, "then long-lived") {
			t.Fatalf("%s: after the close: %+v", tc.local, ev)
		}
		ev := rec.next(t, peer, schema.TypePeerState, &seq)
		if ev.State != schema.StateRestarting || !strings.Contains(ev.Reason, "long-lived graceful restart") || !slices.Equal(ev.Routes, schema.RouteCounts{fc(v4, 2)}) {
			t.Fatalf("%s: after the restart time: %+v", tc.local, ev)
		}
		if got := withdrawnBy(rec, peer, 0); len(got) != 0 {
			t.Errorf("%s: withdrawn when the long-lived phase started: %v", tc.local, got)
		}
		llgrAt := ev.Seq
		if !tc.comeBack {
			down := rec.next(t, peer, schema.TypePeerState, &seq)
			if down.State != schema.StateDown {
				t.Fatalf("%s: after the long-lived stale time: %+v", tc.local, down)
			}
			want := map[string]string{
				"198.51.100.0/24": "long-lived graceful restart: the peer did not come back within its long-lived stale time",
				"198.51.101.0/24": "long-lived graceful restart: the peer did not come back within its long-lived stale time",
			}
			if got := withdrawnBy(rec, peer, llgrAt); !mapsEqual(got, want) {
				t.Errorf("%s: withdrawn %v, want %v", tc.local, got, want)
			}
			continue
		}
		p = open(tc.local, tc.stale)
		rec.next(t, peer, schema.TypePeerState, &seq)
		p.sendUpdate(update(netip.MustParsePrefix("198.51.100.0/24"), 65048, nh))
		p.sendUpdate([]byte{0, 0, 0, 0})
		rec.wait(t, "the flush", func(ev *schema.Event) bool { return ev.Peer == peer && ev.Seq > llgrAt && len(ev.Withdrawals) > 0 })
		want := map[string]string{"198.51.101.0/24": "graceful restart: not announced again before the End-of-RIB"}
		if got := withdrawnBy(rec, peer, llgrAt); !mapsEqual(got, want) {
			t.Errorf("%s: withdrawn %v, want %v", tc.local, got, want)
		}
	}
}

// TestGracefulRestartNewOpen: a peer with graceful restart opens a new
// session while its old one is up (it restarted and the old connection
// has not timed out yet): RFC 4724 4.2 has the old one closed, without a
// NOTIFICATION, its routes kept stale, and the new one come up.
func TestGracefulRestartNewOpen(t *testing.T) {
	rec := &recorder{}
	srv := startServerWith(t, rec, func(*Config) {})
	const local = "127.0.0.50"
	peer := netip.MustParseAddr(local)
	nh := netip.MustParseAddr("192.0.2.50")
	old := dialPeer(t, srv.Addr(), local, 65050, grCap(0, 60, true))
	var seq uint64
	rec.next(t, peer, schema.TypePeerState, &seq)
	old.sendUpdate(update(netip.MustParsePrefix("198.51.100.0/24"), 65050, nh))
	old.sendUpdate(update(netip.MustParsePrefix("198.51.101.0/24"), 65050, nh))
	rec.next(t, peer, schema.TypeUpdate, &seq)
	rec.next(t, peer, schema.TypeUpdate, &seq)

	fresh := dialPeer(t, srv.Addr(), local, 65050, grCap(0x8, 60, true))
	for {
		h, _, _, err := bgpwire.ReadMessage(old.r, nil, bgpwire.MaxMessageLen)
		if err != nil {
			break // closed
		}
		if h.Type == bgpwire.MsgNotification {
			t.Fatal("the old session got a NOTIFICATION")
		}
	}
	ev := rec.next(t, peer, schema.TypePeerState, &seq)
	if ev.State != schema.StateRestarting || !strings.Contains(ev.Reason, "the peer opened a new session") || !slices.Equal(ev.Routes, schema.RouteCounts{fc(v4, 2)}) {
		t.Fatalf("the old session's end: %+v", ev)
	}
	if ev := rec.next(t, peer, schema.TypePeerState, &seq); ev.State != schema.StateConnected {
		t.Fatalf("then: %+v", ev)
	}
	fresh.sendUpdate(update(netip.MustParsePrefix("198.51.100.0/24"), 65050, nh))
	fresh.sendUpdate([]byte{0, 0, 0, 0})
	rec.wait(t, "the flush", func(ev *schema.Event) bool { return ev.Peer == peer && len(ev.Withdrawals) > 0 })
	want := map[string]string{"198.51.101.0/24": "graceful restart: not announced again before the End-of-RIB"}
	if got := withdrawnBy(rec, peer, 0); !mapsEqual(got, want) {
		t.Errorf("withdrawn %v, want %v", got, want)
	}
}

// TestReloadEndsRestart: a reload that removes the neighbor of a
// restarting peer records it down at once.
func TestReloadEndsRestart(t *testing.T) {
	rec := &recorder{}
	srv := startServerWith(t, rec, func(*Config) {})
	const local = "127.0.0.53"
	peer := netip.MustParseAddr(local)
	p := dialPeer(t, srv.Addr(), local, 65053, grCap(0, 120, true))
	var seq uint64
	rec.next(t, peer, schema.TypePeerState, &seq)
	p.sendUpdate(update(netip.MustParsePrefix("198.51.100.0/24"), 65053, netip.MustParseAddr("192.0.2.53")))
	rec.next(t, peer, schema.TypeUpdate, &seq)
	p.conn.Close()
	if ev := rec.next(t, peer, schema.TypePeerState, &seq); ev.State != schema.StateRestarting {
		t.Fatalf("after the close: %+v", ev)
	}
	if err := srv.Reload([]PeerRule{{Prefix: netip.MustParsePrefix("127.0.0.54/32")}}); err != nil {
		t.Fatal(err)
	}
	ev := rec.next(t, peer, schema.TypePeerState, &seq)
	if ev.State != schema.StateDown || !strings.Contains(ev.Reason, "removed or disabled") || !slices.Equal(ev.Routes, schema.RouteCounts{fc(v4, 0)}) {
		t.Fatalf("after the reload: %+v", ev)
	}
}

// TestLongLivedGracefulRestartNoLLGR: a peer with a restart time of 1 s
// and long-lived stale times for IPv4 and IPv6 unicast announces routes,
// some with the NO_LLGR community (RFC 9494), among others or alone, one
// that loses it and one that gains it in a second announcement, and one
// with LLGR_STALE only; then it closes its connection. When the restart
// time runs out, the routes whose last path carries NO_LLGR are
// withdrawn, with their reason, and the long-lived "restarting" event
// counts the others, which the peer's next session takes as usual: at
// its End-of-RIBs those it did not announce again are withdrawn, and no
// route is withdrawn twice.
func TestLongLivedGracefulRestartNoLLGR(t *testing.T) {
	rec := &recorder{}
	srv := startServerWith(t, rec, func(*Config) {})
	const local, asn = "127.0.0.83", 65083
	peer := netip.MustParseAddr(local)
	gr := bgpwire.GracefulRestartCapability(bgpwire.GracefulRestart{Flags: grFlagNotification, Time: 1, Families: []bgpwire.GRFamily{
		{Family: bgpwire.IPv4Unicast, Flags: grForwarding}, {Family: bgpwire.IPv6Unicast, Flags: grForwarding}}})
	llgr := bgpwire.LLGRCapability(bgpwire.LLGRFamily{Family: bgpwire.IPv4Unicast, Flags: grForwarding, StaleTime: 60},
		bgpwire.LLGRFamily{Family: bgpwire.IPv6Unicast, Flags: grForwarding, StaleTime: 60})
	open := func() *testPeer {
		p := dialPeer(t, srv.Addr(), local, asn, bgpwire.MultiprotocolCapability(bgpwire.IPv6Unicast), gr, llgr)
		t.Cleanup(func() { p.conn.Close() })
		return p
	}
	const (
		noLLGR    = 0xffff0007
		llgrStale = 0xffff0006
		other     = 65000<<16 | 1
	)
	announce := func(p *testPeer, prefix string, communities ...uint32) {
		var u bgpwire.Update
		a := &u.Attrs
		a.ASPath = bgpwire.ASPath{{Type: bgpwire.SegSequence, ASNs: []uint32{asn}}}
		a.Communities = communities
		a.Set(bgpwire.AttrOrigin)
		a.Set(bgpwire.AttrASPath)
		if len(communities) > 0 {
			a.Set(bgpwire.AttrCommunities)
		}
		pf := netip.MustParsePrefix(prefix)
		if pf.Addr().Is4() {
			u.NLRI = []bgpwire.NLRI{{Prefix: pf}}
			a.NextHop = netip.MustParseAddr("192.0.2.83")
			a.Set(bgpwire.AttrNextHop)
		} else {
			a.MPReach = bgpwire.MPReach{Family: bgpwire.IPv6Unicast, NextHop: netip.MustParseAddr("2001:db8::83"), NLRI: []bgpwire.NLRI{{Prefix: pf}}}
			a.Set(bgpwire.AttrMPReach)
		}
		p.sendUpdate(u.AppendBody(nil, &bgpwire.DecodeOptions{ASN4: true}))
	}
	endOfRIB := func(p *testPeer, f bgpwire.Family) {
		var u bgpwire.Update
		if f != bgpwire.IPv4Unicast {
			u.Attrs.MPUnreach = bgpwire.MPUnreach{Family: f}
			u.Attrs.Set(bgpwire.AttrMPUnreach)
		}
		p.sendUpdate(u.AppendBody(nil, &bgpwire.DecodeOptions{ASN4: true}))
	}

	p := open()
	var seq uint64
	rec.next(t, peer, schema.TypePeerState, &seq)
	for _, r := range []struct {
		prefix      string
		communities []uint32
	}{
		{"198.51.100.0/24", nil},
		{"198.51.101.0/24", []uint32{other, noLLGR}},
		{"198.51.102.0/24", []uint32{noLLGR}},
		{"198.51.103.0/24", []uint32{llgrStale}},
		{"198.51.104.0/24", []uint32{noLLGR}},
		{"198.51.104.0/24", []uint32{other}}, // loses NO_LLGR
		{"198.51.105.0/24", []uint32{other}},
		{"198.51.105.0/24", []uint32{other, noLLGR}}, // gains it
		{"2001:db8:1::/48", nil},
		{"2001:db8:2::/48", []uint32{noLLGR}},
	} {
		announce(p, r.prefix, r.communities...)
		if ev := rec.next(t, peer, schema.TypeUpdate, &seq); !announces(&ev, r.prefix) {
			t.Fatalf("announcing %s: %+v", r.prefix, ev)
		}
	}
	p.conn.Close()
	ev := rec.next(t, peer, schema.TypePeerState, &seq)
	if ev.State != schema.StateRestarting || !slices.Equal(ev.Routes, schema.RouteCounts{fc(v4, 6), fc(v6, 2)}) {
		t.Fatalf("after the close: %+v", ev)
	}
	closed := ev.Seq

	long := rec.next(t, peer, schema.TypePeerState, &seq)
	if long.State != schema.StateRestarting || !strings.Contains(long.Reason, "long-lived graceful restart") || !slices.Equal(long.Routes, schema.RouteCounts{fc(v4, 3), fc(v6, 1)}) {
		t.Fatalf("the long-lived phase: %+v; want 3 IPv4 and 1 IPv6 routes kept", long)
	}
	const gone = "long-lived graceful restart: the route carries NO_LLGR, so it is not kept long-lived (RFC 9494)"
	want := map[string]string{"198.51.101.0/24": gone, "198.51.102.0/24": gone, "198.51.105.0/24": gone, "2001:db8:2::/48": gone}
	if got := withdrawnBy(rec, peer, closed); !mapsEqual(got, want) {
		t.Errorf("withdrawn as the long-lived phase started: %v, want %v", got, want)
	}
	for _, ev := range rec.snapshot() {
		if ev.Peer == peer && ev.Seq > closed && ev.Seq < long.Seq {
			if ev.Type != schema.TypeUpdate {
				t.Errorf("before the long-lived restarting event: %+v", ev)
			}
			if fam := ev.Withdrawn[0].Family; !slices.Equal(ev.Routes, schema.RouteCounts{fc(fam, map[schema.Family]uint64{v4: 3, v6: 1}[fam])}) {
				t.Errorf("withdrawal of the NO_LLGR routes of %s: routes %v, want the long-lived ones", fam, ev.Routes)
			}
		}
	}

	// The peer comes back in the long-lived phase: the routes kept are
	// stale as after any restart.
	p = open()
	if ev := rec.next(t, peer, schema.TypePeerState, &seq); ev.State != schema.StateConnected {
		t.Fatalf("after the peer came back: %+v", ev)
	}
	announce(p, "198.51.100.0/24")
	if ev := rec.next(t, peer, schema.TypeUpdate, &seq); ev.Duplicates != 1 || !slices.Equal(ev.Routes, schema.RouteCounts{fc(v4, 3)}) {
		t.Errorf("announcing a long-lived stale route again: duplicates %d, routes %v; want 1, 3", ev.Duplicates, ev.Routes)
	}
	endOfRIB(p, bgpwire.IPv4Unicast)
	endOfRIB(p, bgpwire.IPv6Unicast)
	rec.wait(t, "the IPv6 flush", func(ev *schema.Event) bool {
		return ev.Peer == peer && ev.Seq > long.Seq && len(ev.Withdrawn) > 0 && ev.Withdrawn[0].Family == v6
	})
	const notAgain = "graceful restart: not announced again before the End-of-RIB"
	want = map[string]string{"198.51.103.0/24": notAgain, "198.51.104.0/24": notAgain, "2001:db8:1::/48": notAgain}
	if got := withdrawnBy(rec, peer, long.Seq); !mapsEqual(got, want) {
		t.Errorf("withdrawn at the End-of-RIBs: %v, want %v", got, want)
	}
	times := map[netip.Prefix]int{}
	for _, ev := range rec.snapshot() {
		if ev.Peer == peer {
			for _, p := range ev.Withdrawals {
				if times[p]++; times[p] > 1 {
					t.Errorf("%s withdrawn twice", p)
				}
			}
		}
	}
}
