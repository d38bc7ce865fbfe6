package collector

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
)

// TestTTLSecurityWithBIRD: with ttl_security 1 (GTSM, RFC 5082), a BIRD
// with "ttl security on" (it sends with TTL 255) comes up, and one
// without (TTL 64) never does: the kernel drops its segments.
func TestTTLSecurityWithBIRD(t *testing.T) {
	rec := &recorder{}
	_, cport := startMD5Server(t, rec, []PeerRule{
		{Prefix: netip.MustParsePrefix("127.0.0.81/32"), ASN: 65081, TTLSecurity: 1},
		{Prefix: netip.MustParsePrefix("127.0.0.82/32"), ASN: 65082, TTLSecurity: 1},
	})
	bird := func(local string, asn uint32, ttl string) {
		testpeer.StartBIRD(t, fmt.Sprintf(`log "DIR/bird.log" all;
router id 192.0.2.81;
protocol device { }
protocol bgp collector {
  local %s port %d as %d;
  strict bind on;
  neighbor 127.0.0.1 port %d as 65000;
  %s
  connect delay time 1;
  connect retry time 1;
  hold time 9;
  keepalive time 1;
  ipv4 { import none; export none; };
}
`, local, testpeer.FreePort(t), asn, cport, ttl))
	}
	bird("127.0.0.81", 65081, "multihop 2; ttl security on;")
	bird("127.0.0.82", 65082, "multihop;")
	p81 := netip.MustParseAddr("127.0.0.81")
	rec.wait(t, "the GTSM BIRD connected", func(ev *schema.Event) bool {
		return ev.Peer == p81 && ev.Type == schema.TypePeerState && ev.State == schema.StateConnected
	})
	time.Sleep(3 * time.Second)
	for _, ev := range rec.snapshot() {
		if ev.Peer == netip.MustParseAddr("127.0.0.82") && ev.Type == schema.TypePeerState && ev.State == schema.StateConnected {
			t.Fatalf("the BIRD sending with TTL 64 came up under ttl_security 1: %+v", ev)
		}
	}
}
