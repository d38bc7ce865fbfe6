package main

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/vantage-bgp/vantage/schema"
)

// update is an UPDATE of peer announcing prefixes with the path (and OTC).
func update(peer string, path []uint32, otc *uint32, prefixes ...string) *schema.Event {
	ev := &schema.Event{Type: schema.TypeUpdate, Host: "rrc", Peer: netip.MustParseAddr(peer), ID: "e", OTC: otc,
		Path: schema.ASPath{{Type: schema.SegmentSequence, ASNs: path}}}
	var ps []netip.Prefix
	for _, p := range prefixes {
		ps = append(ps, netip.MustParsePrefix(p))
	}
	ev.Announcements = []schema.Announcement{{NLRISet: schema.NLRISet{Prefixes: ps}}}
	return ev
}

func kinds(rs []Report) []string {
	var out []string
	for _, r := range rs {
		out = append(out, summary(r))
	}
	return out
}

// The findings' edges: prepending is not an upstream, an OTC naming the
// peer itself is no leak and one naming an AS off the path is, a
// finding is reported once per peer until the route is withdrawn, and a
// session going down clears its routes from MOAS.
func TestDetectorEdges(t *testing.T) {
	u32 := func(v uint32) *uint32 { return &v }
	d := NewDetector([]Watch{
		{Prefix: netip.MustParsePrefix("203.0.113.0/24"), Origins: []uint32{64500}, Upstreams: []uint32{65001}, MaxLength: 25},
	})
	for _, c := range []struct {
		ev   *schema.Event
		want []string
	}{
		{update("192.0.2.1", []uint32{65001, 64500, 64500, 64500}, nil, "203.0.113.0/24"), nil},
		{update("192.0.2.1", []uint32{65001, 64500}, nil, "203.0.113.0/25"), nil}, // within max_length
		{update("192.0.2.1", []uint32{65001, 64500}, u32(65001), "203.0.113.0/24"), nil},
		{update("192.0.2.2", []uint32{65009, 65001, 64500}, u32(64999), "203.0.113.0/24"),
			[]string{"leak 203.0.113.0/24 origin 64500 otc 64999 leaker 0 peer 192.0.2.2"}},
		{update("192.0.2.2", []uint32{65009, 65001, 64500}, u32(64999), "203.0.113.0/24"), nil}, // once
		{update("192.0.2.3", []uint32{65003, 64666}, nil, "203.0.113.0/24"),
			[]string{"origin 203.0.113.0/24 origin 64666 moas [64500 64666] peer 192.0.2.3"}},
		{update("192.0.2.3", []uint32{65003, 64500}, nil, "203.0.113.0/26"),
			[]string{"more_specific 203.0.113.0/26 origin 64500 peer 192.0.2.3", "upstream 203.0.113.0/26 origin 64500 upstream 65003 peer 192.0.2.3"}},
		{&schema.Event{Type: schema.TypePeerState, State: schema.StateDown, Host: "rrc", Peer: netip.MustParseAddr("192.0.2.1")}, nil},
		{&schema.Event{Type: schema.TypePeerState, State: schema.StateDown, Host: "rrc", Peer: netip.MustParseAddr("192.0.2.2")}, nil},
		{update("192.0.2.3", []uint32{65003, 64666}, nil, "203.0.113.0/24"), nil}, // the same finding
		{update("192.0.2.4", []uint32{65004, 64777}, nil, "203.0.113.0/24"),
			[]string{"origin 203.0.113.0/24 origin 64777 moas [64666 64777] peer 192.0.2.4"}},
		{update("192.0.2.4", []uint32{65004, 64777}, nil, "198.51.100.0/24"), nil}, // not watched
	} {
		if got := kinds(d.Event(c.ev)); !slices.Equal(got, c.want) {
			t.Errorf("%s %v %v: %q, want %q", c.ev.Peer, c.ev.Path, c.ev.Announcements, got, c.want)
		}
	}
}
