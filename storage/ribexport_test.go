package storage

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vantage-bgp/vantage/schema"
)

// ribReference is the RIB of q as DB.RIB read it before it sorted ranges
// itself: ClickHouse sorts every route event and keeps each route's
// latest (LIMIT 1 BY), scanned by scanRoute.
func ribReference(t *testing.T, db *DB, q RIBQuery) []Route {
	t.Helper()
	where, args, err := q.where()
	if err != nil {
		t.Fatal(err)
	}
	downs, err := db.lastDowns(t.Context(), q.At, netip.Addr{}, q.Host)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := db.snapshotAt(t.Context(), uint64(max(q.At.UnixMicro(), 0)), false)
	if err != nil {
		t.Fatal(err)
	}
	src, args := routeSource(snap, where, args)
	rows, err := db.conn.Query(t.Context(), `SELECT `+routeColumns()+` FROM `+src+` AS r
ORDER BY afi, safi, prefix, prefix_len, host, peer, rd, nlri, path_id, ts_us DESC, kind
LIMIT 1 BY host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id`, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []Route
	for rows.Next() {
		r, kind, err := scanRoute(rows)
		if err != nil {
			t.Fatal(err)
		}
		a := schema.AddrTo16(r.Peer)
		if down, ok := downs[r.Host+"|"+fmt.Sprintf("%X", a[:])]; kind != "announce" || ok && uint64(r.Time.UnixMicro()) <= down {
			continue
		}
		r.Seq, r.ID = 0, ""
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// clone copies r with slices of its own.
func clone(r *Route) Route {
	c := *r
	c.Path = nil
	for _, s := range r.Path {
		c.Path = append(c.Path, schema.Segment{Type: s.Type, ASNs: slices.Clone(s.ASNs)})
	}
	c.Community, c.LargeCommunity, c.ClusterList, c.OtherAttrs = slices.Clone(r.Community), slices.Clone(r.LargeCommunity), slices.Clone(r.ClusterList), slices.Clone(r.OtherAttrs)
	c.ExtCommunity = nil
	for _, e := range r.ExtCommunity {
		c.ExtCommunity = append(c.ExtCommunity, slices.Clone(e))
	}
	for _, p := range []**uint32{&c.MED, &c.LocalPref, &c.OTC} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	if c.AIGP != nil {
		v := *c.AIGP
		c.AIGP = &v
	}
	if c.Aggregator != nil {
		v := *c.Aggregator
		c.Aggregator = &v
	}
	return c
}

// TestRIBRanges: routes of IPv4 and IPv6 unicast and multicast across
// many /16s and /32s, with every kind of attribute, path identifiers,
// changes, withdrawals and a peer that went down; DB.RIB at several times,
// read in ranges of one /16 or /32 each and in one range, from the events
// and through a snapshot, hands out the routes the sorting query of
// ClickHouse (LIMIT 1 BY) finds, attribute for attribute, in the same
// order.
func TestRIBRanges(t *testing.T) {
	db := testDB(t)
	r := rand.New(rand.NewPCG(7, 7))
	peers := []netip.Addr{peerA, peerB, netip.MustParseAddr("192.0.2.9")}
	var events []schema.Event
	randPrefix := func(v6 bool) netip.Prefix {
		if v6 {
			return netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}), 48).Masked()
		}
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(1 + r.IntN(3)), byte(r.IntN(40)), byte(r.IntN(256)), 0}), 16+r.IntN(9)).Masked()
	}
	for i := range 300 {
		peer := peers[r.IntN(len(peers))]
		v6 := r.IntN(3) == 0
		e := announce(float64(10+i), peer, 64500+uint32(r.IntN(3)), []uint32{64500, uint32(1000 + r.IntN(50))})
		e.Host = []string{"rrc-test", "rrc-b"}[r.IntN(2)]
		fam := schema.Family{AFI: 1, SAFI: 1 + uint8(r.IntN(5)/4)}
		nh := netip.MustParseAddr("192.0.2.254")
		if v6 {
			fam.AFI, nh = 2, netip.MustParseAddr("2001:db8::fe")
		}
		set := schema.NLRISet{Family: fam}
		for range 1 + r.IntN(4) {
			set.Prefixes = append(set.Prefixes, randPrefix(v6))
			if r.IntN(4) == 0 {
				set.PathIDs = append(set.PathIDs, uint32(1+r.IntN(3)))
			}
		}
		if len(set.PathIDs) != len(set.Prefixes) {
			set.PathIDs = nil
		}
		e.Announcements = []schema.Announcement{{NextHop: nh, NLRISet: set}}
		switch r.IntN(4) {
		case 0:
			e.Path = schema.ASPath{{Type: schema.SegmentSequence, ASNs: []uint32{64500, 3}}, {Type: schema.SegmentSet, ASNs: []uint32{7, 8}},
				{Type: schema.SegmentConfedSequence, ASNs: []uint32{65001, 65002}}, {Type: schema.SegmentConfedSet, ASNs: []uint32{65003}}}
			e.MED, e.LocalPref, e.OTC = u32(uint32(r.IntN(100))), u32(200), u32(64500)
			aigp := uint64(1) << 40
			e.AIGP = &aigp
			e.Community = []schema.Community{{64500, 1}, {65535, 65281}}
			e.LargeCommunity = []schema.LargeCommunity{{64500, 1, 2}, {4200000000, 3, 4}}
			e.ExtCommunity = []schema.ExtCommunity{{0x00, 0x02, 0xfc, 0x00, 0, 0, 0, 7}, {0x80, 0x06, 0, 0, 0, 0, 0, 0}}
			e.AtomicAggregate = true
			e.Aggregator = &schema.Aggregator{ASN: 64501, Address: netip.MustParseAddr("192.0.2.77")}
			e.OriginatorID = netip.MustParseAddr("192.0.2.66")
			e.ClusterList = []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("10.0.0.1")}
			e.OtherAttrs = []schema.RawAttribute{{Flags: 0xc0, Code: 99, Value: "0102ff"}, {Flags: 0xc0, Code: 40, Value: ""}}
			e.Origin = schema.OriginIncomplete
		case 1:
			e.Origin = schema.OriginAbsent
			e.Path = nil
		}
		events = append(events, e)
		switch r.IntN(8) {
		case 0:
			events = append(events, withdraw(float64(10+i)+0.5, peer, e.PeerASN, set.Prefixes[0].String()))
			events[len(events)-1].Host = e.Host
			events[len(events)-1].Withdrawals = nil
			events[len(events)-1].Withdrawn = []schema.NLRISet{{Family: fam, Prefixes: set.Prefixes[:1], PathIDs: set.PathIDs[:min(1, len(set.PathIDs))]}}
		case 1:
			if i == 150 {
				events = append(events, schema.Event{Timestamp: ts(float64(10+i) + 0.5), Peer: peer, PeerASN: e.PeerASN, Host: e.Host, Type: schema.TypePeerState, State: schema.StateDown})
			}
		}
	}
	if err := db.Insert(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	read := func(q RIBQuery) []Route {
		t.Helper()
		var out []Route
		if err := db.RIB(t.Context(), q, func(r *Route) error {
			out = append(out, clone(r))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	defer func(n uint64) { ribChunkRows = n }(ribChunkRows)
	check := func(how string) {
		for _, sec := range []float64{50, 160.7, 400} {
			for _, host := range []string{"", "rrc-b"} {
				q := RIBQuery{At: at(sec), Host: host}
				want := ribReference(t, db, q)
				if len(want) < 10 {
					t.Fatalf("the reference has %d routes at %v", len(want), sec)
				}
				for _, chunk := range []uint64{1, 1 << 17} {
					ribChunkRows = chunk
					got := read(q)
					if !reflect.DeepEqual(got, want) {
						for i := range min(len(got), len(want)) {
							if !reflect.DeepEqual(got[i], want[i]) {
								t.Fatalf("%s: at %v, host %q, ranges of %d rows: route %d:\n got  %+v\n want %+v", how, sec, host, chunk, i, got[i], want[i])
							}
						}
						t.Fatalf("%s: at %v, host %q, ranges of %d rows: %d routes, want %d", how, sec, host, chunk, len(got), len(want))
					}
				}
			}
		}
	}
	check("from the events")
	if _, err := db.Snapshot(t.Context(), at(120)); err != nil {
		t.Fatal(err)
	}
	check("through a snapshot")
	// A callback's error ends the reading, ErrStop without an error.
	n := 0
	err := db.RIB(t.Context(), RIBQuery{At: at(400)}, func(*Route) error {
		n++
		if n == 3 {
			return ErrStop
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Errorf("stopped after %d routes, err %v; want 3, nil", n, err)
	}
	err = db.RIB(t.Context(), RIBQuery{At: at(400)}, func(*Route) error { return fmt.Errorf("full disk") })
	if err == nil || !strings.Contains(err.Error(), "full disk") {
		t.Errorf("callback error: got %v", err)
	}
}
