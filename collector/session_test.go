package collector

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/schema"
)

// recorder is a sink that keeps what it is given, for assertions.
type recorder struct {
	mu     sync.Mutex
	events []schema.Event
}

func (r *recorder) Write(_ context.Context, evs []schema.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, evs...)
	return nil
}

// wait polls until some recorded event satisfies ok.
func (r *recorder) wait(t *testing.T, what string, ok func(*schema.Event) bool) schema.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for i := range r.events {
			if ok(&r.events[i]) {
				ev := r.events[i]
				r.mu.Unlock()
				return ev
			}
		}
		r.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no event: %s", what)
	return schema.Event{}
}

// testPeer is a minimal BGP speaker on a raw TCP connection, so that the
// test can send exactly the bytes it wants, malformed ones included.
type testPeer struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialPeer(t *testing.T, collector net.Addr, local string, asn uint32, caps ...bgpwire.Capability) *testPeer {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", collector.String())
	if err != nil {
		t.Fatal(err)
	}
	p := &testPeer{t: t, conn: conn, r: bufio.NewReader(conn)}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	open := &bgpwire.Open{Version: 4, MyAS: uint16(asn), HoldTime: 90, RouterID: netip.MustParseAddr(local),
		Capabilities: []bgpwire.Capability{
			bgpwire.MultiprotocolCapability(bgpwire.IPv4Unicast),
			bgpwire.FourOctetASCapability(asn),
		}}
	open.Capabilities = append(open.Capabilities, caps...)
	p.send(open.AppendWire(nil))
	if h := p.expect(bgpwire.MsgOpen); h == nil {
		t.Fatal("no OPEN from collector")
	}
	p.send(bgpwire.AppendKeepalive(nil))
	p.expect(bgpwire.MsgKeepalive)
	return p
}

func (p *testPeer) send(b []byte) {
	p.t.Helper()
	if _, err := p.conn.Write(b); err != nil {
		p.t.Fatal(err)
	}
}

func (p *testPeer) sendUpdate(body []byte) {
	p.send(append(bgpwire.AppendHeader(nil, bgpwire.MsgUpdate, len(body)), body...))
}

// expect reads messages until one of type t arrives and returns its body.
func (p *testPeer) expect(t bgpwire.MessageType) []byte {
	p.t.Helper()
	for {
		h, body, _, err := bgpwire.ReadMessage(p.r, nil, bgpwire.MaxMessageLen)
		if err != nil {
			p.t.Fatalf("waiting for %s: %v", t, err)
		}
		if h.Type == t {
			return body
		}
	}
}

// update builds an UPDATE body announcing prefix with AS_PATH asn.
func update(prefix netip.Prefix, asn uint32, nextHop netip.Addr) []byte {
	attrs := []byte{0x40, 0x01, 0x01, 0x00} // ORIGIN IGP
	attrs = append(attrs, 0x40, 0x02, 0x06, 0x02, 0x01)
	attrs = append(attrs, byte(asn>>24), byte(asn>>16), byte(asn>>8), byte(asn))
	nh := nextHop.As4()
	attrs = append(attrs, 0x40, 0x03, 0x04, nh[0], nh[1], nh[2], nh[3])
	b := []byte{0, 0, 0, byte(len(attrs))}
	b = append(b, attrs...)
	a := prefix.Addr().As4()
	b = append(b, byte(prefix.Bits()))
	return append(b, a[:(prefix.Bits()+7)/8]...)
}

func announces(ev *schema.Event, p string) bool {
	for _, a := range ev.Announcements {
		for _, x := range a.Prefixes {
			if x.String() == p {
				return true
			}
		}
	}
	return false
}

// startServer runs a collector with the default config on a free
// loopback port, delivering to rec. cancel stops it; done then yields
// Run's error once every event reached rec.
func startServer(t *testing.T, rec *recorder) (srv *Server, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	srv, err := New(cfg, nil, NamedSink{Name: "recorder", Sink: rec})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- srv.Run(ctx) }()
	return srv, cancel, ch
}

func TestMalformedUpdateResetsOnlyThatSession(t *testing.T) {
	defer goleak.VerifyNone(t)
	rec := &recorder{}
	srv, cancel, done := startServer(t, rec)
	addr := srv.Addr()

	nh := netip.MustParseAddr("192.0.2.1")
	a := dialPeer(t, addr, "127.0.0.2", 65002)
	b := dialPeer(t, addr, "127.0.0.3", 65003)
	a.sendUpdate(update(netip.MustParsePrefix("198.51.100.0/24"), 65002, nh))
	rec.wait(t, "first UPDATE of peer A", func(ev *schema.Event) bool { return announces(ev, "198.51.100.0/24") })

	// Treat-as-withdraw: ORIGIN value 9. The session stays up and the
	// route is reported withdrawn.
	bad := update(netip.MustParsePrefix("198.51.100.0/24"), 65002, nh)
	bad[7] = 9
	a.sendUpdate(bad)
	rec.wait(t, "treat-as-withdraw", func(ev *schema.Event) bool {
		return ev.Peer.String() == "127.0.0.2" && len(ev.Withdrawals) == 1 && ev.Withdrawals[0].String() == "198.51.100.0/24"
	})

	// Session reset: the withdrawn routes length runs past the message.
	a.sendUpdate([]byte{0x00, 0xff, 0x00, 0x00})
	n, err := bgpwire.DecodeNotification(a.expect(bgpwire.MsgNotification))
	if err != nil {
		t.Fatal(err)
	}
	if n.Code != bgpwire.CodeUpdateMessage || n.Subcode != bgpwire.SubcodeMalformedAttributeList {
		t.Errorf("NOTIFICATION %s, want UPDATE message error / malformed attribute list", n)
	}
	rec.wait(t, "peer A down", func(ev *schema.Event) bool {
		return ev.Peer.String() == "127.0.0.2" && ev.State == schema.StateDown && ev.Notification != nil && ev.Notification.Sent
	})

	// Peer B carries on.
	b.sendUpdate(update(netip.MustParsePrefix("203.0.113.0/24"), 65003, nh))
	ev := rec.wait(t, "UPDATE of peer B after A's reset", func(ev *schema.Event) bool { return announces(ev, "203.0.113.0/24") })
	if ev.PeerASN != 65003 || ev.Path.String() != "65003" || ev.Announcements[0].NextHop != nh {
		t.Errorf("peer B event %+v", ev)
	}

	// Shutdown sends Cease to the remaining peer and ends every goroutine.
	cancel()
	n, _ = bgpwire.DecodeNotification(b.expect(bgpwire.MsgNotification))
	if n.Code != bgpwire.CodeCease {
		t.Errorf("shutdown NOTIFICATION %s, want cease", n)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	a.conn.Close()
	b.conn.Close()

	// Sequence numbers per peer have no gaps.
	seqs := map[netip.Addr]uint64{}
	for _, ev := range rec.events {
		if ev.Seq != seqs[ev.Peer]+1 {
			t.Errorf("peer %s: seq %d after %d", ev.Peer, ev.Seq, seqs[ev.Peer])
		}
		seqs[ev.Peer] = ev.Seq
	}
}

// bigUpdate announces n /24s from 10.0.0.0 in one UPDATE (4 bytes each).
func bigUpdate(n int, asn uint32) []byte {
	b := update(netip.MustParsePrefix("10.0.0.0/24"), asn, netip.MustParseAddr("192.0.2.1"))
	b = b[:len(b)-4] // drop the one NLRI
	for i := range n {
		b = append(b, 24, 10, byte(i>>8), byte(i))
	}
	return b
}

// RFC 8654: with extended messages negotiated an UPDATE may exceed 4096
// bytes; without, it is a message header error.
func TestExtendedMessages(t *testing.T) {
	rec := &recorder{}
	srv, cancel, done := startServer(t, rec)
	defer func() { cancel(); <-done }()

	body := bigUpdate(2000, 65002) // about 8 KB
	ext := dialPeer(t, srv.Addr(), "127.0.0.4", 65002, bgpwire.EmptyCapability(bgpwire.CapExtendedMessage))
	defer ext.conn.Close()
	ext.sendUpdate(body)
	ev := rec.wait(t, "the 8 KB UPDATE", func(ev *schema.Event) bool {
		return ev.Peer.String() == "127.0.0.4" && ev.Type == schema.TypeUpdate
	})
	if n := len(ev.Announcements[0].Prefixes); n != 2000 {
		t.Errorf("%d prefixes, want 2000", n)
	}

	plain := dialPeer(t, srv.Addr(), "127.0.0.5", 65003)
	defer plain.conn.Close()
	plain.sendUpdate(body)
	n, err := bgpwire.DecodeNotification(plain.expect(bgpwire.MsgNotification))
	if err != nil {
		t.Fatal(err)
	}
	if n.Code != bgpwire.CodeMessageHeader || n.Subcode != bgpwire.SubcodeBadMessageLength {
		t.Errorf("NOTIFICATION %s, want message header error / bad message length", n)
	}
}
