package collector

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

// dialFrom connects to the collector from a loopback address and says
// whether the collector sent anything (its OPEN) before closing.
func dialFrom(t *testing.T, from string, to net.Addr) (net.Conn, bool) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", to.String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 19)
	_, err = c.Read(buf)
	return c, err == nil
}

func TestNeighborsDisabledAndMaxSessions(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Peers = []PeerRule{
		{Prefix: netip.MustParsePrefix("127.0.0.9/32"), Disabled: true},
		{Prefix: netip.MustParsePrefix("127.0.0.0/8"), MaxSessions: 1},
	}
	rec := &recorder{}
	srv, err := New(cfg, nil, NamedSink{Name: "recorder", Sink: rec})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()

	if c, ok := dialFrom(t, "127.0.0.9", srv.Addr()); ok {
		t.Error("a disabled neighbor got an OPEN")
	} else {
		c.Close()
	}
	first, ok := dialFrom(t, "127.0.0.2", srv.Addr())
	if !ok {
		t.Fatal("the range's first session got no OPEN")
	}
	defer first.Close()
	if c, ok := dialFrom(t, "127.0.0.3", srv.Addr()); ok {
		t.Error("a second session of a range with max_sessions 1 got an OPEN")
	} else {
		c.Close()
	}
	if n := srv.Stats().Refused.Load(); n != 2 {
		t.Errorf("Refused = %d, want 2", n)
	}
	for peer, reason := range map[string]string{
		"127.0.0.9": "rejected: the neighbor is disabled",
		"127.0.0.3": "rejected: the range has its 1 sessions (max_sessions)",
	} {
		p := netip.MustParseAddr(peer)
		rec.wait(t, peer+" "+reason, func(ev *schema.Event) bool {
			return ev.Peer == p && ev.Type == schema.TypePeerState && ev.State == schema.StateDown && ev.Reason == reason
		})
	}
}

// TestPrefixLimitHold: a peer over its max_prefix is refused until
// max_prefix_restart has passed, and one held until a reload is let in by
// the reload.
func TestPrefixLimitHold(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	timed := PeerRule{Prefix: netip.MustParsePrefix("127.0.0.5/32"), MaxPrefix: 10, MaxPrefixRestart: 500 * time.Millisecond}
	untilReload := PeerRule{Prefix: netip.MustParsePrefix("127.0.0.6/32"), MaxPrefix: 10}
	cfg.Peers = []PeerRule{timed, untilReload}
	srv, err := New(cfg, nil, NamedSink{Name: "recorder", Sink: &recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()
	srv.Addr()

	srv.PrefixLimitHit(netip.MustParseAddr("127.0.0.5"), timed)
	srv.PrefixLimitHit(netip.MustParseAddr("127.0.0.6"), untilReload)
	for _, from := range []string{"127.0.0.5", "127.0.0.6"} {
		c, ok := dialFrom(t, from, srv.Addr())
		c.Close()
		if ok {
			t.Errorf("%s got an OPEN though over its max_prefix", from)
		}
	}
	time.Sleep(600 * time.Millisecond)
	c, ok := dialFrom(t, "127.0.0.5", srv.Addr())
	c.Close()
	if !ok {
		t.Error("127.0.0.5 still refused after max_prefix_restart")
	}
	c, ok = dialFrom(t, "127.0.0.6", srv.Addr())
	c.Close()
	if ok {
		t.Error("127.0.0.6 let in before a reload")
	}
	if err := srv.Reload(cfg.Peers); err != nil {
		t.Fatal(err)
	}
	c, ok = dialFrom(t, "127.0.0.6", srv.Addr())
	c.Close()
	if !ok {
		t.Error("127.0.0.6 still refused after a reload")
	}
}

// TestMaxPending: past MaxPending connections that have not completed the
// OPEN exchange, a new one is closed at once; when one goes, a new one is
// taken again.
func TestMaxPending(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	srv, err := New(cfg, nil, NamedSink{Name: "recorder", Sink: &recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()

	var open []net.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for i := range MaxPending {
		c, ok := dialFrom(t, fmt.Sprintf("127.0.%d.%d", 1+i/250, 1+i%250), srv.Addr())
		open = append(open, c)
		if !ok {
			t.Fatalf("connection %d got no OPEN", i+1)
		}
	}
	c, ok := dialFrom(t, "127.0.9.1", srv.Addr())
	c.Close()
	if ok {
		t.Fatalf("connection %d got an OPEN past MaxPending", MaxPending+1)
	}
	open[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, ok := dialFrom(t, "127.0.9.2", srv.Addr())
		if ok {
			open = append(open, c)
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("no connection taken after one of the opening ones closed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
