package schema

import (
	"net/netip"
	"testing"
)

func TestSubject(t *testing.T) {
	for _, tc := range []struct {
		ev   Event
		want string
	}{
		{Event{Host: "rrc-local", Type: TypeUpdate, PeerASN: 65001, Peer: netip.MustParseAddr("192.0.2.1")}, "vantage.events.rrc-local.UPDATE.65001.192_0_2_1"},
		{Event{Host: "rrc.00 x", Type: TypePeerState, PeerASN: 4200000000, Peer: netip.MustParseAddr("2001:db8::1")}, "vantage.events.rrc_00_x.RIS_PEER_STATE.4200000000.2001:db8::1"},
		{Event{Type: TypeKeepalive}, "vantage.events._.KEEPALIVE.0._"},
	} {
		if got := Subject(&tc.ev); got != tc.want {
			t.Errorf("Subject = %q, want %q", got, tc.want)
		}
	}
	if got := SubjectFilter("rrc-local", "", "", netip.MustParseAddr("192.0.2.1")); got != "vantage.events.rrc-local.*.*.192_0_2_1" {
		t.Errorf("SubjectFilter = %q", got)
	}
	if got := SubjectFilter("", "UPDATE", "65001", netip.Addr{}); got != "vantage.events.*.UPDATE.65001.*" {
		t.Errorf("SubjectFilter = %q", got)
	}
	ev := Event{Host: "h", Type: TypeUpdate, PeerASN: 1, Peer: netip.MustParseAddr("192.0.2.1")}
	buf := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(100, func() { buf = AppendSubject(buf[:0], &ev) }); n != 0 {
		t.Errorf("AppendSubject allocates %v times", n)
	}
}
