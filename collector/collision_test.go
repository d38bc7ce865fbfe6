package collector

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
)

// startServerWith runs a collector on a free loopback port with the
// default config changed by edit; it is stopped when the test ends.
func startServerWith(t *testing.T, rec *recorder, edit func(*Config)) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	edit(&cfg)
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
			t.Errorf("Run: %v", err)
		}
	})
	srv.Addr()
	return srv
}

// rawConn is a TCP connection to or from the collector that the test
// drives message by message.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func newRawConn(t *testing.T, c net.Conn) *rawConn {
	c.SetDeadline(time.Now().Add(60 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, conn: c, r: bufio.NewReader(c)}
}

func dialRaw(t *testing.T, from string, to net.Addr) *rawConn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", to.String())
	if err != nil {
		t.Fatal(err)
	}
	return newRawConn(t, c)
}

// read returns the next message's type and body; ok is false at the end
// of the connection.
func (c *rawConn) read() (bgpwire.MessageType, []byte, bool) {
	h, body, _, err := bgpwire.ReadMessage(c.r, nil, bgpwire.MaxMessageLen)
	if err != nil {
		return 0, nil, false
	}
	return h.Type, body, true
}

// expect reads until a message of type want, failing the test if the
// connection ends first.
func (c *rawConn) expect(what string, want bgpwire.MessageType) []byte {
	c.t.Helper()
	for {
		typ, body, ok := c.read()
		if !ok {
			c.t.Fatalf("%s: the connection ended before a %s", what, want)
		}
		if typ == want {
			return body
		}
	}
}

// expectNotification reads until a NOTIFICATION and checks its code.
func (c *rawConn) expectNotification(what string, code, subcode uint8) {
	c.t.Helper()
	n, err := bgpwire.DecodeNotification(c.expect(what, bgpwire.MsgNotification))
	if err != nil {
		c.t.Fatal(err)
	}
	if n.Code != code || n.Subcode != subcode {
		c.t.Fatalf("%s: NOTIFICATION %s, want %d/%d", what, n, code, subcode)
	}
	if _, _, ok := c.read(); ok {
		c.t.Fatalf("%s: the collector sent more after its NOTIFICATION", what)
	}
}

func (c *rawConn) sendOpen(asn uint32, id string, caps ...bgpwire.Capability) {
	c.t.Helper()
	o := &bgpwire.Open{Version: 4, MyAS: uint16(asn), HoldTime: 90, RouterID: netip.MustParseAddr(id),
		Capabilities: append([]bgpwire.Capability{bgpwire.MultiprotocolCapability(bgpwire.IPv4Unicast), bgpwire.FourOctetASCapability(asn)}, caps...)}
	c.send(o.AppendWire(nil))
}

func (c *rawConn) send(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// TestCollisionKeepsEstablishedSession: BIRD has a session up; a bare
// connection from its address gets NOTIFICATION 4/0 when the open timer
// runs out, and one that sends an OPEN gets Cease 6/7 (RFC 4271 6.8: the
// established session wins). BIRD's session stays up through both: no
// down event, and a route it announces afterwards arrives.
func TestCollisionKeepsEstablishedSession(t *testing.T) {
	testpeer.Need(t, "bird", "bird2")
	rec := &recorder{}
	srv := startServerWith(t, rec, func(c *Config) { c.OpenTimeout = time.Second })
	bird := testpeer.StartBIRD(t, fmt.Sprintf(`log "DIR/bird.log" all;
router id 192.0.2.31;
protocol device { }
protocol static initial { ipv4; route 198.51.100.0/24 blackhole; }
protocol static later { disabled; ipv4; route 203.0.113.0/24 blackhole; }
protocol bgp collector {
  local 127.0.0.31 port %d as 65031;
  strict bind on;
  neighbor 127.0.0.1 port %d as 65000;
  multihop;
  connect delay time 1;
  connect retry time 2;
  ipv4 { import none; export where source = RTS_STATIC; next hop address 192.0.2.31; };
}
`, testpeer.FreePort(t), srv.Addr().(*net.TCPAddr).Port))
	peer := netip.MustParseAddr("127.0.0.31")
	var seq uint64
	up := rec.next(t, peer, schema.TypePeerState, &seq)
	if up.State != schema.StateConnected {
		t.Fatalf("first state event: %+v", up)
	}
	rec.wait(t, "BIRD's first route", func(ev *schema.Event) bool { return ev.Peer == peer && announces(ev, "198.51.100.0/24") })

	silent := dialRaw(t, "127.0.0.31", srv.Addr())
	silent.expect("silent connection", bgpwire.MsgOpen)
	silent.expectNotification("silent connection", bgpwire.CodeHoldTimerExpired, 0)

	opener := dialRaw(t, "127.0.0.31", srv.Addr())
	opener.expect("second connection", bgpwire.MsgOpen)
	opener.sendOpen(65031, "192.0.2.31")
	opener.expectNotification("second connection", bgpwire.CodeCease, bgpwire.SubcodeCollisionResolution)

	if out, err := bird.Ctl("enable", "later"); err != nil {
		t.Fatalf("birdc enable later: %v: %s", err, out)
	}
	rec.wait(t, "BIRD's route announced after the collisions", func(ev *schema.Event) bool { return ev.Peer == peer && announces(ev, "203.0.113.0/24") })
	for _, ev := range rec.snapshot() {
		if ev.Peer == peer && ev.Type == schema.TypePeerState && ev.Seq > up.Seq {
			t.Errorf("peer state event after the session came up: %+v", ev)
		}
	}
	if out, _ := bird.Ctl("show", "protocols", "collector"); !strings.Contains(out, "Established") {
		t.Errorf("BIRD's session is not established:\n%s", out)
	}
	for _, want := range []string{"hold timer expired (4/0)", "connection collision resolution (6/7)"} {
		rec.wait(t, "NOTIFICATION event "+want, func(ev *schema.Event) bool {
			return ev.Peer == peer && ev.Type == schema.TypeNotification && ev.Notification.Sent && strings.Contains(ev.Notification.Reason, want)
		})
	}
}

// TestCollisionOpenConfirm: the collector connects to an active neighbor,
// which sends its OPEN (the collector's connection is in OpenConfirm)
// and then connects to the collector too. RFC 4271 6.8: the connection
// opened by the side with the lower BGP identifier is closed with Cease
// 6/7, and the other one comes up.
func TestCollisionOpenConfirm(t *testing.T) {
	for _, tc := range []struct {
		peer, id   string
		activeWins bool
	}{
		{"127.0.0.32", "192.0.2.200", false}, // the collector's id is lower: its own connection goes
		{"127.0.0.33", "192.0.2.50", true},   // the peer's is lower: the peer's connection goes
	} {
		t.Run(tc.id, func(t *testing.T) {
			ln, err := net.Listen("tcp", tc.peer+":0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			rec := &recorder{}
			srv := startServerWith(t, rec, func(c *Config) {
				c.RouterID = netip.MustParseAddr("192.0.2.100")
				c.Peers = []PeerRule{{Prefix: netip.MustParsePrefix(tc.peer + "/32"), Active: true, Port: ln.Addr().(*net.TCPAddr).Port}}
			})
			c, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			active := newRawConn(t, c)
			active.expect("the collector's connection", bgpwire.MsgOpen)
			active.sendOpen(65032, tc.id)
			active.expect("the collector's connection", bgpwire.MsgKeepalive)

			passive := dialRaw(t, tc.peer, srv.Addr())
			passive.expect("the peer's connection", bgpwire.MsgOpen)
			passive.sendOpen(65032, tc.id)
			win, lose := passive, active
			if tc.activeWins {
				win, lose = active, passive
			}
			lose.expectNotification("losing connection", bgpwire.CodeCease, bgpwire.SubcodeCollisionResolution)
			if !tc.activeWins {
				win.expect("winning connection", bgpwire.MsgKeepalive)
			}
			win.send(bgpwire.AppendKeepalive(nil))
			peer := netip.MustParseAddr(tc.peer)
			var seq uint64
			ev := rec.next(t, peer, schema.TypePeerState, &seq)
			if ev.State != schema.StateConnected {
				t.Fatalf("first state event: %+v", ev)
			}
		})
	}
}
