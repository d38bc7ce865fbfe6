package collector

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
)

// md5Failures is the kernel's TcpExtTCPMD5Failure: all that is visible of
// a wrong password, since the kernel drops its segments silently.
func md5Failures(t *testing.T) int64 {
	t.Helper()
	c, ok := ReadMD5Counters()
	if !ok {
		t.Fatal("no TCPMD5Failure in /proc/net/netstat")
	}
	return c.Failure
}

func birdMD5Protocol(name, local string, port, collectorPort int, asn uint32, password string) string {
	return fmt.Sprintf(`protocol bgp %s {
  local %s port %d as %d;
  strict bind on;
  neighbor 127.0.0.1 port %d as 65000;
  multihop;
  password "%s";
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 2;
  hold time 9;
  keepalive time 1;
  ipv4 { import none; export none; };
}
`, name, local, port, asn, collectorPort, password)
}

// TestMD5WithBIRD: BIRD sessions with TCP MD5 keys set on the listening
// socket, for one address and for a range; a wrong password keeps the
// session down (visible only as the kernel's TCPMD5Failure count); a
// reload closes the removed neighbor's session with Cease 6/3, resets the
// changed one, takes the new key of a third and leaves the rest alone.
func TestMD5WithBIRD(t *testing.T) {
	rec := &recorder{}
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.HoldTime = 9 * time.Second
	rules := []PeerRule{
		{Prefix: netip.MustParsePrefix("127.0.0.21/32"), ASN: 65021, Password: "s3cret"},
		{Prefix: netip.MustParsePrefix("127.0.0.22/32"), ASN: 65022, Password: "s3cret"},
		{Prefix: netip.MustParsePrefix("127.0.0.64/26"), Password: "r4nge", Description: "range"},
		{Prefix: netip.MustParsePrefix("127.0.0.23/32"), ASN: 65023, Password: "kept"},
	}
	cfg.Peers = rules
	srv, err := New(cfg, nil, NamedSink{Name: "recorder", Sink: rec})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	port := srv.Addr().String()
	_, ps, _ := strings.Cut(port, ":")
	cport, _ := strconv.Atoi(ps)

	failures := md5Failures(t)
	// One BIRD per neighbor: BIRD holds a lock per remote address and
	// port, so its protocols to the same collector would take turns.
	bird := func(name, local string, asn uint32, password string) *testpeer.BIRD {
		return testpeer.StartBIRD(t, `log "DIR/bird.log" all;
router id 192.0.2.21;
protocol device { }
`+birdMD5Protocol(name, local, testpeer.FreePort(t), cport, asn, password))
	}
	right := bird("right", "127.0.0.21", 65021, "s3cret")
	wrong := bird("wrong", "127.0.0.22", 65022, "wrong")
	bird("ranged", "127.0.0.70", 65070, "r4nge")
	bird("kept", "127.0.0.23", 65023, "kept")

	state := func(peer string, st schema.PeerState, after *uint64) schema.Event {
		t.Helper()
		p := netip.MustParseAddr(peer)
		ev := rec.wait(t, peer+" "+string(st), func(ev *schema.Event) bool {
			return ev.Peer == p && ev.Seq > *after && ev.Type == schema.TypePeerState && ev.State == st
		})
		*after = ev.Seq
		return ev
	}
	var s21, s22, s70, s23 uint64
	state("127.0.0.21", schema.StateConnected, &s21)
	state("127.0.0.70", schema.StateConnected, &s70)
	state("127.0.0.23", schema.StateConnected, &s23)
	time.Sleep(3 * time.Second) // BIRD has retried the wrong password
	for _, ev := range rec.snapshot() {
		if ev.Peer == netip.MustParseAddr("127.0.0.22") {
			t.Fatalf("an event of the peer with the wrong password: %+v", ev)
		}
	}
	if n := md5Failures(t); n <= failures {
		t.Errorf("TCPMD5Failure %d -> %d: the wrong password's segments were not counted", failures, n)
	}
	if out, _ := wrong.Ctl("show", "protocols", "wrong"); !strings.Contains(out, "Connect") && !strings.Contains(out, "Active") {
		t.Errorf("BIRD's protocol with the wrong password is not trying to connect:\n%s", out)
	}

	// Reload: .21 removed, the range changed, .22's key now the one BIRD
	// has, .23 unchanged.
	newRules := []PeerRule{
		{Prefix: netip.MustParsePrefix("127.0.0.22/32"), ASN: 65022, Password: "wrong"},
		{Prefix: netip.MustParsePrefix("127.0.0.64/26"), Password: "r4nge", Description: "range, renamed", MaxPrefix: 1000},
		{Prefix: netip.MustParsePrefix("127.0.0.23/32"), ASN: 65023, Password: "kept", Description: "renamed only"},
	}
	if err := srv.Reload(newRules); err != nil {
		t.Fatal(err)
	}
	down := state("127.0.0.21", schema.StateDown, &s21)
	if down.Notification == nil || down.Notification.Code != 6 || down.Notification.Subcode != 3 {
		t.Errorf("removed neighbor's down event: notification %+v, want Cease 6/3", down.Notification)
	}
	down = state("127.0.0.70", schema.StateDown, &s70)
	if down.Notification == nil || down.Notification.Code != 6 || down.Notification.Subcode != 6 {
		t.Errorf("changed neighbor's down event: notification %+v, want Cease 6/6", down.Notification)
	}
	state("127.0.0.22", schema.StateConnected, &s22)
	state("127.0.0.70", schema.StateConnected, &s70)
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, _ := right.Ctl("show", "protocols", "all", "right")
		if strings.Contains(out, "Peer de-configured") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("BIRD did not get Cease 6/3:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, ev := range rec.snapshot() {
		if ev.Peer == netip.MustParseAddr("127.0.0.23") && ev.Seq > s23 && ev.Type == schema.TypePeerState {
			t.Errorf("the unchanged neighbor's session changed: %+v", ev)
		}
	}
}

// snapshot copies the events received so far.
func (r *recorder) snapshot() []schema.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]schema.Event(nil), r.events...)
}

// startMD5Server runs a collector on a free loopback port with rules; it
// is stopped when the test ends.
func startMD5Server(t *testing.T, rec *recorder, rules []PeerRule) (*Server, int) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.HoldTime = 9 * time.Second
	cfg.Peers = rules
	srv, err := New(cfg, nil, NamedSink{Name: "recorder", Sink: rec})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	_, ps, _ := strings.Cut(srv.Addr().String(), ":")
	port, _ := strconv.Atoi(ps)
	return srv, port
}

// TestMD5WithFRR: FRR's bgpd with the neighbor's password comes up; with
// a wrong one it does not, and the kernel counts the dropped segments.
func TestMD5WithFRR(t *testing.T) {
	rec := &recorder{}
	_, cport := startMD5Server(t, rec, []PeerRule{
		{Prefix: netip.MustParsePrefix("127.0.0.51/32"), ASN: 65051, Password: "fr0uter"},
		{Prefix: netip.MustParsePrefix("127.0.0.52/32"), ASN: 65052, Password: "fr0uter"},
	})
	frr := func(local string, asn uint32, password string) *testpeer.FRR {
		return testpeer.StartFRR(t, fmt.Sprintf(`
frr defaults traditional
hostname frr-md5
log file DIR/bgpd.log informational
router bgp %d
 bgp router-id 192.0.2.51
 no bgp ebgp-requires-policy
 neighbor 127.0.0.1 remote-as 65000
 neighbor 127.0.0.1 port %d
 neighbor 127.0.0.1 update-source %s
 neighbor 127.0.0.1 disable-connected-check
 neighbor 127.0.0.1 timers connect 1
 neighbor 127.0.0.1 password %s
`, asn, cport, local, password))
	}
	failures := md5Failures(t)
	frr("127.0.0.51", 65051, "fr0uter")
	wrong := frr("127.0.0.52", 65052, "wr0ng")
	p51 := netip.MustParseAddr("127.0.0.51")
	rec.wait(t, "FRR with the right password connected", func(ev *schema.Event) bool {
		return ev.Peer == p51 && ev.Type == schema.TypePeerState && ev.State == schema.StateConnected
	})
	time.Sleep(3 * time.Second)
	for _, ev := range rec.snapshot() {
		if ev.Peer == netip.MustParseAddr("127.0.0.52") {
			t.Fatalf("an event of the FRR with the wrong password: %+v", ev)
		}
	}
	if n := md5Failures(t); n <= failures {
		t.Errorf("TCPMD5Failure %d -> %d: the wrong password's segments were not counted", failures, n)
	}
	if out, _ := wrong.Vtysh("show bgp neighbors 127.0.0.1"); strings.Contains(out, "BGP state = Established") {
		t.Errorf("FRR with the wrong password is established:\n%s", out)
	}
}

// TestActiveMD5WithBIRD: the collector connects to a passive BIRD with
// the neighbor's password, and connects again when BIRD drops the session.
func TestActiveMD5WithBIRD(t *testing.T) {
	rec := &recorder{}
	birdPort := testpeer.FreePort(t)
	startMD5Server(t, rec, []PeerRule{
		{Prefix: netip.MustParsePrefix("127.0.0.61/32"), ASN: 65061, Password: "act1ve", Active: true, Port: birdPort},
	})
	bird := testpeer.StartBIRD(t, fmt.Sprintf(`log "DIR/bird.log" all;
router id 192.0.2.61;
protocol device { }
protocol bgp collector {
  local 127.0.0.61 port %d as 65061;
  strict bind on;
  neighbor 127.0.0.1 as 65000;
  multihop;
  passive on;
  password "act1ve";
  hold time 9;
  keepalive time 1;
  ipv4 { import none; export none; };
}
`, birdPort))
	p := netip.MustParseAddr("127.0.0.61")
	var seq uint64
	wait := func(st schema.PeerState) {
		t.Helper()
		ev := rec.wait(t, "127.0.0.61 state", func(ev *schema.Event) bool {
			return ev.Peer == p && ev.Seq > seq && ev.Type == schema.TypePeerState && ev.State == st
		})
		seq = ev.Seq
	}
	wait(schema.StateConnected)
	if out, err := bird.Ctl("restart", "collector"); err != nil {
		t.Fatalf("birdc restart: %v: %s", err, out)
	}
	wait(schema.StateDown)
	wait(schema.StateConnected)
}
