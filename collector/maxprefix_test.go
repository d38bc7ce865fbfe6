package collector

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
)

// TestNeighborHoldTimeAndMaxPrefix: BIRD peers twice with the collector.
// The neighbor 127.0.0.52 has hold_time 30s: the collector's OPEN
// proposes 30, and BIRD's session runs with it. The neighbor 127.0.0.51
// has max_prefix 3 and max_prefix_restart 2s: BIRD's 5 routes end its
// session with a Cease 6/1, and the address is refused until the 2 s
// have passed.
func TestNeighborHoldTimeAndMaxPrefix(t *testing.T) {
	testpeer.Need(t, "bird", "bird2")
	rec := &recorder{}
	srv := startServerWith(t, rec, func(c *Config) {
		c.Peers = []PeerRule{
			{Prefix: netip.MustParsePrefix("127.0.0.51/32"), MaxPrefix: 3, MaxPrefixRestart: 2 * time.Second},
			{Prefix: netip.MustParsePrefix("127.0.0.52/32"), HoldTime: 30 * time.Second},
		}
	})
	var statics strings.Builder
	for i := range 5 {
		fmt.Fprintf(&statics, "  route 198.51.%d.0/24 blackhole;\n", 100+i)
	}
	port := srv.Addr().(*net.TCPAddr).Port
	bgp := func(name, local string) string {
		return fmt.Sprintf(`protocol bgp %s {
  local %s port %d as 65051;
  strict bind on;
  neighbor 127.0.0.1 port %d as 65000;
  multihop;
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 2;
  ipv4 { import none; export where source = RTS_STATIC; next hop address 192.0.2.51; };
}
`, name, local, testpeer.FreePort(t), port)
	}
	bird := testpeer.StartBIRD(t, fmt.Sprintf("log \"DIR/bird.log\" all;\nrouter id 192.0.2.51;\nprotocol device { }\nprotocol static { ipv4;\n%s}\n%s%s",
		statics.String(), bgp("limited", "127.0.0.51"), bgp("held", "127.0.0.52")))

	held := netip.MustParseAddr("127.0.0.52")
	open := rec.wait(t, "the OPEN sent to 127.0.0.52", func(ev *schema.Event) bool {
		return ev.Peer == held && ev.Type == schema.TypeOpen && ev.Open.Sent
	})
	if open.Open.HoldTime != 30 {
		t.Errorf("the collector's OPEN to 127.0.0.52: hold time %d, want 30", open.Open.HoldTime)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, _ := bird.Ctl("show", "protocols", "all", "held")
		if strings.Contains(out, "Established") && strings.Contains(out, "/30") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("BIRD's session with 127.0.0.52 is not established with hold time 30:\n%s", out)
		}
	}

	limited := netip.MustParseAddr("127.0.0.51")
	var seq uint64
	note := rec.wait(t, "NOTIFICATION 6/1", func(ev *schema.Event) bool {
		return ev.Peer == limited && ev.Type == schema.TypeNotification && ev.Notification.Sent
	})
	if note.Notification.Code != 6 || note.Notification.Subcode != 1 || note.Notification.Data != "000101"+"00000003" {
		t.Errorf("NOTIFICATION sent: %+v", note.Notification)
	}
	seq = note.Seq
	down := rec.next(t, limited, schema.TypePeerState, &seq)
	if down.State != schema.StateDown || !strings.Contains(down.Reason, "routes, more than the neighbor's limit of 3") {
		t.Errorf("after the NOTIFICATION: %+v", down)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, _ := bird.Ctl("show", "protocols", "all", "limited")
		if strings.Contains(out, "Received: Maximum number of prefixes reached") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("BIRD does not show the Cease 6/1:\n%s", out)
		}
	}
	// BIRD stays idle after a Cease 6/1; a bare connection from its
	// address shows the refusal and its end.
	c, ok := dialFrom(t, "127.0.0.51", srv.Addr())
	c.Close()
	if ok {
		t.Error("127.0.0.51 got an OPEN right after it exceeded its max_prefix")
	}
	rec.wait(t, "the refusal", func(ev *schema.Event) bool {
		return ev.Peer == limited && ev.Seq > down.Seq && strings.HasPrefix(ev.Reason, "rejected: it exceeded its max_prefix")
	})
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		c, ok := dialFrom(t, "127.0.0.51", srv.Addr())
		c.Close()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("127.0.0.51 still refused long after max_prefix_restart (2s)")
		}
	}
}
