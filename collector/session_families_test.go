package collector

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/schema"
	"go.uber.org/goleak"
)

// The collector's OPEN offers every family bgpwire decodes; after the
// session is up it sends End-of-RIB for each family both sides offered,
// and only for those.
func TestOpenFamiliesAndEndOfRIB(t *testing.T) {
	defer goleak.VerifyNone(t)
	rec := &recorder{}
	srv, cancel, done := startServer(t, rec)
	defer func() { cancel(); <-done }()

	p := dialPeer(t, srv.Addr(), "127.0.0.6", 65006,
		bgpwire.MultiprotocolCapability(bgpwire.IPv4VPN),
		bgpwire.MultiprotocolCapability(bgpwire.L2VPNEVPN),
		bgpwire.MultiprotocolCapability(bgpwire.Family{AFI: bgpwire.AFIIPv4, SAFI: bgpwire.SAFIRTC}), // not ours
		bgpwire.AddPathCapability(bgpwire.AddPathFamily{Family: bgpwire.IPv4VPN, Mode: bgpwire.AddPathSend}))
	defer p.conn.Close()

	var eor []bgpwire.Family
	for len(eor) < 3 {
		body := p.expect(bgpwire.MsgUpdate)
		var u bgpwire.Update
		if err := u.Decode(body, &bgpwire.DecodeOptions{}); err != nil {
			t.Fatal(err)
		}
		f, ok := u.IsEndOfRIB()
		if !ok {
			t.Fatalf("UPDATE from the collector that is not End-of-RIB: %x", body)
		}
		eor = append(eor, f)
	}
	if want := []bgpwire.Family{bgpwire.IPv4Unicast, bgpwire.IPv4VPN, bgpwire.L2VPNEVPN}; !slices.Equal(eor, want) {
		t.Errorf("End-of-RIB for %v, want %v", eor, want)
	}

	open := rec.wait(t, "the collector's OPEN", func(ev *schema.Event) bool {
		return ev.Type == schema.TypeOpen && ev.Open.Sent && ev.Peer.String() == "127.0.0.6"
	})
	caps := strings.Join(open.Open.Capabilities, "\n")
	for _, f := range Families {
		if !strings.Contains(caps, "multiprotocol "+f.String()+"\n") {
			t.Errorf("collector's OPEN lacks %s:\n%s", f, caps)
		}
	}

	// ADD-PATH was negotiated for ipv4/vpn: a path id is read.
	rd := []byte{0, 0, 0xfd, 0xe8, 0, 0, 0, 1} // 65000:1
	nlri := append([]byte{0, 0, 0, 7, 24 + 64 + 24, 0x00, 0x06, 0x41}, rd...)
	nlri = append(nlri, 10, 1, 2)
	mp := append([]byte{0, 1, 128, 12, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1, 0}, nlri...)
	attrs := []byte{0x40, 1, 1, 0, 0x40, 2, 0}
	attrs = append(attrs, 0x80, 14, byte(len(mp)))
	attrs = append(attrs, mp...)
	p.sendUpdate(append([]byte{0, 0, 0, byte(len(attrs))}, attrs...))
	ev := rec.wait(t, "the VPN route", func(ev *schema.Event) bool {
		return ev.Peer.String() == "127.0.0.6" && ev.Type == schema.TypeUpdate && len(ev.Announcements) > 0
	})
	s := ev.Announcements[0].NLRISet
	if s.Family != (schema.Family{AFI: 1, SAFI: 128}) || len(s.Prefixes) != 1 || s.Prefixes[0].String() != "10.1.2.0/24" ||
		len(s.RDs) != 1 || s.RDs[0] != "65000:1" || len(s.PathIDs) != 1 || s.PathIDs[0] != 7 ||
		len(s.Labels) != 1 || !slices.Equal(s.Labels[0], []uint32{100}) {
		t.Errorf("VPN announcement %+v", s)
	}
}

// A peer with no family in common stays up, but says so in its state
// event.
func TestNoCommonFamily(t *testing.T) {
	rec := &recorder{}
	srv, cancel, done := startServer(t, rec)
	defer func() { cancel(); <-done }()

	conn, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.7")}}).Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	p := &testPeer{t: t, conn: conn, r: bufio.NewReader(conn)}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	open := &bgpwire.Open{Version: 4, MyAS: 65007, HoldTime: 90, RouterID: netip.MustParseAddr("127.0.0.7"),
		Capabilities: []bgpwire.Capability{bgpwire.MultiprotocolCapability(bgpwire.Family{AFI: bgpwire.AFIIPv4, SAFI: bgpwire.SAFIRTC})}}
	p.send(open.AppendWire(nil))
	p.expect(bgpwire.MsgOpen)
	p.send(bgpwire.AppendKeepalive(nil))
	p.expect(bgpwire.MsgKeepalive)
	ev := rec.wait(t, "the connected state", func(ev *schema.Event) bool {
		return ev.Peer.String() == "127.0.0.7" && ev.State == schema.StateConnected
	})
	if ev.Reason != "no common address family" {
		t.Errorf("connected reason %q", ev.Reason)
	}
}

// A peer refused for its AS gets a NOTIFICATION that is an event of its
// own, and a down state that says why.
func TestRejectedPeerEvents(t *testing.T) {
	defer goleak.VerifyNone(t)
	rec := &recorder{}
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Peers = []PeerRule{{Prefix: netip.MustParsePrefix("127.0.0.0/8"), ASN: 65001}}
	srv, err := New(cfg, nil, NamedSink{Name: "recorder", Sink: rec})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()

	conn, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.8")}}).Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	p := &testPeer{t: t, conn: conn, r: bufio.NewReader(conn)}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	open := &bgpwire.Open{Version: 4, MyAS: 65008, HoldTime: 90, RouterID: netip.MustParseAddr("127.0.0.8")}
	p.send(open.AppendWire(nil))
	n, err := bgpwire.DecodeNotification(p.expect(bgpwire.MsgNotification))
	if err != nil || n.Code != bgpwire.CodeOpenMessage || n.Subcode != bgpwire.SubcodeBadPeerAS {
		t.Fatalf("NOTIFICATION %s (%v), want bad peer AS", n, err)
	}
	rec.wait(t, "the NOTIFICATION sent", func(ev *schema.Event) bool {
		return ev.Peer.String() == "127.0.0.8" && ev.Type == schema.TypeNotification && ev.Notification.Sent &&
			ev.Notification.Subcode == bgpwire.SubcodeBadPeerAS
	})
	ev := rec.wait(t, "the down state", func(ev *schema.Event) bool {
		return ev.Peer.String() == "127.0.0.8" && ev.State == schema.StateDown
	})
	if ev.PeerASN != 65008 || !strings.Contains(ev.Reason, "peer AS 65008, configured 65001") || ev.Notification == nil {
		t.Errorf("down event %+v", ev)
	}
}
