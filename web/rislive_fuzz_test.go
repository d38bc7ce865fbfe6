package web

import (
	"net/netip"
	"testing"

	"github.com/vantage-bgp/vantage/schema"
)

// FuzzParseSubscribe: any ris_subscribe data is read without a panic, and
// a subscription it accepts matches events without one.
func FuzzParseSubscribe(f *testing.F) {
	for _, s := range []string{
		`{"prefix":"10.0.0.0/8","moreSpecific":false,"lessSpecific":true}`,
		`{"path":"!^3333,[1,2]$","type":"UPDATE","require":"withdrawals","peer":"192.0.2.1"}`,
		`{"prefix":["2001:db8::/32","10.1.1.1"],"community":["1:2","1:2:3"],"family":"ipv6/unicast"}`,
		`{"host":null,"socketOptions":{"includeRaw":true,"acknowledge":true},"since":"1700000000.5"}`,
		`{"afterId":"rrc-1-192.0.2.1-5","path":64496}`,
		`null`, `[]`, `{"path":"[1,2"}`, `{"prefix":[]}`,
	} {
		f.Add([]byte(s))
	}
	ev := liveEvent{ev: schema.Event{
		Type: schema.TypeUpdate, Host: "rrc00", Peer: netip.MustParseAddr("192.0.2.1"),
		Path:          schema.ASPath{{Type: schema.SegmentSequence, ASNs: []uint32{3333, 1}}, {Type: schema.SegmentSet, ASNs: []uint32{2, 1}}},
		Community:     []schema.Community{{1, 2}},
		Announcements: []schema.Announcement{{NLRISet: schema.NLRISet{Family: schema.IPv4Unicast, Prefixes: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}}},
		Withdrawals:   []netip.Prefix{netip.MustParsePrefix("2001:db8::/48")},
	}}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := parseSubscribe(data)
		if err != nil {
			return
		}
		x := newSubIndex()
		for _, s := range req.subs {
			s.match(&ev)
			x.add(subRef{s: s})
		}
		x.candidates(&ev, func(subRef) {})
	})
}
