package storage

import (
	"context"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vantage-bgp/vantage/schema"
)

// t0 is the time of the first test event; the tests count from it.
var t0 = time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)

func ts(sec float64) float64 { return float64(t0.Unix()) + sec }

func at(sec float64) time.Time {
	return t0.Add(time.Duration(sec * float64(time.Second)))
}

func u32(v uint32) *uint32 { return &v }

var (
	peerA = netip.MustParseAddr("192.0.2.1")
	peerB = netip.MustParseAddr("2001:db8::2")
)

func announce(sec float64, peer netip.Addr, asn uint32, path []uint32, prefixes ...string) schema.Event {
	var ps []netip.Prefix
	for _, p := range prefixes {
		ps = append(ps, netip.MustParsePrefix(p))
	}
	nh := netip.MustParseAddr("192.0.2.254")
	if peer.Is6() {
		nh = netip.MustParseAddr("2001:db8::fe")
	}
	return schema.Event{
		Timestamp: ts(sec), Peer: peer, PeerASN: asn, Host: "rrc-test", Type: schema.TypeUpdate,
		Path:          schema.ASPath{{Type: schema.SegmentSequence, ASNs: path}},
		Origin:        schema.OriginIGP,
		Announcements: []schema.Announcement{{NextHop: nh, NLRISet: schema.NLRISet{Prefixes: ps}}},
	}
}

func withdraw(sec float64, peer netip.Addr, asn uint32, prefixes ...string) schema.Event {
	e := schema.Event{Timestamp: ts(sec), Peer: peer, PeerASN: asn, Host: "rrc-test", Type: schema.TypeUpdate}
	for _, p := range prefixes {
		e.Withdrawals = append(e.Withdrawals, netip.MustParsePrefix(p))
	}
	return e
}

func state(sec float64, peer netip.Addr, asn uint32, s schema.PeerState) schema.Event {
	return schema.Event{Timestamp: ts(sec), Peer: peer, PeerASN: asn, Host: "rrc-test", Type: schema.TypePeerState, State: s}
}

// store writes events through a Writer and flushes.
func store(t *testing.T, db *DB, events ...schema.Event) {
	t.Helper()
	w := db.NewWriter(WriterConfig{}, nil)
	defer w.Close()
	if err := w.Write(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestDDLApplies(t *testing.T) {
	db := testDB(t)
	for _, table := range []string{"route_events", "peer_events"} {
		var n uint64
		if err := db.conn.QueryRow(t.Context(), "SELECT count() FROM system.tables WHERE database = ? AND name = ?", db.database, table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("table %s.%s missing", db.database, table)
		}
	}
	// Opening again (the next start) runs nothing more.
	before := migrationSteps(t, db)
	again, err := open(t.Context(), testOptions(), db.database)
	if err != nil {
		t.Fatal(err)
	}
	again.Close()
	if after := migrationSteps(t, db); after != before {
		t.Errorf("opening again ran %d more migration steps", after-before)
	}
}

// TestWriterRoundTrip stores an UPDATE carrying every attribute and reads
// it back through Routes.
func TestWriterRoundTrip(t *testing.T) {
	db := testDB(t)
	e := schema.Event{
		Timestamp: ts(0.123456), Peer: peerA, PeerASN: 64500, Host: "rrc-test", Type: schema.TypeUpdate,
		Seq: 7, ID: "peer-7",
		Path: schema.ASPath{
			{Type: schema.SegmentConfedSequence, ASNs: []uint32{64512}},
			{Type: schema.SegmentSequence, ASNs: []uint32{64500, 3333}},
			{Type: schema.SegmentSet, ASNs: []uint32{1, 4200000000}},
		},
		Community:       []schema.Community{{64500, 1}, {65535, 65281}},
		Origin:          schema.OriginIncomplete,
		MED:             u32(10),
		LocalPref:       u32(200),
		Aggregator:      &schema.Aggregator{ASN: 3333, Address: netip.MustParseAddr("10.0.0.1")},
		AtomicAggregate: true,
		LargeCommunity:  []schema.LargeCommunity{{4200000000, 1, 2}},
		ExtCommunity:    []schema.ExtCommunity{{0x00, 0x02, 0xfc, 0x00, 0, 0, 0, 100}},
		OriginatorID:    netip.MustParseAddr("10.9.9.9"),
		ClusterList:     []netip.Addr{netip.MustParseAddr("10.1.1.1"), netip.MustParseAddr("10.2.2.2")},
		OTC:             u32(64500),
		OtherAttrs:      []schema.RawAttribute{{Flags: 0xc0, Code: 99, Value: "0102"}},
		Announcements: []schema.Announcement{{
			NextHop: netip.MustParseAddr("192.0.2.254"),
			NLRISet: schema.NLRISet{Family: schema.IPv4Unicast,
				Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("198.51.100.0/24")},
				PathIDs:  []uint32{1, 2}},
		}},
		Raw: "ffff",
	}
	store(t, db, e)
	got, err := db.Routes(t.Context(), RoutesQuery{Prefix: netip.MustParsePrefix("198.51.100.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d routes, want 2 (one per path ID): %+v", len(got), got)
	}
	for i, r := range got {
		want := Route{
			Host: "rrc-test", Peer: peerA, PeerASN: 64500, Family: schema.IPv4Unicast,
			Prefix: netip.MustParsePrefix("198.51.100.0/24"), PathID: uint32(i + 1),
			NextHop: netip.MustParseAddr("192.0.2.254"), Path: e.Path, Origin: e.Origin,
			MED: e.MED, LocalPref: e.LocalPref, Community: e.Community, LargeCommunity: e.LargeCommunity,
			ExtCommunity: e.ExtCommunity, AtomicAggregate: true, Aggregator: e.Aggregator,
			OriginatorID: e.OriginatorID, ClusterList: e.ClusterList, OTC: e.OTC, OtherAttrs: e.OtherAttrs,
			Time: time.Date(2024, 5, 14, 12, 0, 0, 123456000, time.UTC), Seq: 7, ID: "peer-7",
		}
		if !reflect.DeepEqual(r, want) {
			t.Errorf("route %d:\n got %+v\nwant %+v", i, r, want)
		}
	}
	// The raw message is kept once per event.
	var raws uint64
	if err := db.conn.QueryRow(t.Context(), "SELECT countIf(raw != '') FROM route_events").Scan(&raws); err != nil {
		t.Fatal(err)
	}
	if raws != 1 {
		t.Errorf("%d rows carry the raw message, want 1", raws)
	}
}

// TestWriterFlushesOnAge checks that rows become visible without Flush or
// Close once FlushInterval has passed.
func TestWriterFlushesOnAge(t *testing.T) {
	db := testDB(t)
	w := db.NewWriter(WriterConfig{FlushInterval: 50 * time.Millisecond}, nil)
	defer w.Close()
	if err := w.Write(t.Context(), []schema.Event{announce(0, peerA, 64500, []uint32{64500}, "203.0.113.0/24")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool {
		var n uint64
		err := db.conn.QueryRow(t.Context(), "SELECT count() FROM route_events").Scan(&n)
		return err == nil && n == 1
	})
}

// TestWriterFlushesOnSize checks that a full batch is sent at once.
func TestWriterFlushesOnSize(t *testing.T) {
	db := testDB(t)
	w := db.NewWriter(WriterConfig{BatchSize: 3, FlushInterval: time.Hour}, nil)
	defer w.Close()
	err := w.Write(t.Context(), []schema.Event{announce(0, peerA, 64500, []uint32{64500}, "203.0.113.0/24", "203.0.113.0/25", "203.0.113.128/25")})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool {
		var n uint64
		err := db.conn.QueryRow(t.Context(), "SELECT count() FROM route_events").Scan(&n)
		return err == nil && n == 3
	})
}

func TestWriterCloseFlushes(t *testing.T) {
	db := testDB(t)
	if err := db.Ping(t.Context()); err != nil { // the pool's goroutines start
		t.Fatal(err)
	}
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	w := db.NewWriter(WriterConfig{FlushInterval: time.Hour}, nil)
	if err := w.Write(t.Context(), []schema.Event{
		state(0, peerA, 64500, schema.StateConnected),
		{Timestamp: ts(0), Peer: peerA, Host: "rrc-test", Type: schema.TypeKeepalive},
		announce(1, peerA, 64500, []uint32{64500}, "203.0.113.0/24"),
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := w.Write(t.Context(), []schema.Event{announce(2, peerA, 64500, nil, "203.0.113.0/24")}); err != ErrWriterClosed {
		t.Errorf("Write after Close = %v, want ErrWriterClosed", err)
	}
	var routes, peers uint64
	if err := db.conn.QueryRow(t.Context(), "SELECT (SELECT count() FROM route_events), (SELECT count() FROM peer_events)").Scan(&routes, &peers); err != nil {
		t.Fatal(err)
	}
	if routes != 1 || peers != 1 {
		t.Errorf("stored %d route rows and %d peer rows, want 1 and 1 (keepalives are not stored)", routes, peers)
	}
}

// TestWriterOrdersEqualTimes checks that events of one peer with equal or
// decreasing timestamps keep their order.
func TestWriterOrdersEqualTimes(t *testing.T) {
	db := testDB(t)
	store(t, db,
		announce(5, peerA, 64500, []uint32{64500, 1}, "203.0.113.0/24"),
		withdraw(5, peerA, 64500, "203.0.113.0/24"),
		announce(4, peerA, 64500, []uint32{64500, 2}, "203.0.113.0/24"), // clock stepped back
	)
	got, err := db.Routes(t.Context(), RoutesQuery{Prefix: netip.MustParsePrefix("203.0.113.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Path.String() != "64500 2" {
		t.Fatalf("got %+v, want the last announcement (path 64500 2)", got)
	}
	if want := at(5).Add(2 * time.Microsecond); !got[0].Time.Equal(want) {
		t.Errorf("time %v, want %v (bumped past the earlier events)", got[0].Time, want)
	}
}

func TestRoutesMatch(t *testing.T) {
	db := testDB(t)
	store(t, db,
		announce(0, peerA, 64500, []uint32{64500, 1}, "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.2.0.0/16", "11.0.0.0/8"),
		announce(0, peerB, 64501, []uint32{64501, 2}, "2001:db8::/32", "2001:db8:1::/48", "2001:db9::/32"),
		announce(1, peerB, 64501, []uint32{64501, 3}, "10.1.0.0/16"),
		// Stored but withdrawn: a longest match falls back to 10.0.0.0/8.
		announce(0, peerA, 64500, []uint32{64500, 1}, "10.3.128.0/17"),
		withdraw(2, peerA, 64500, "10.3.128.0/17"),
	)
	tests := []struct {
		prefix string
		match  Match
		want   []string // "peer prefix"
	}{
		{"10.1.0.0/16", MatchExact, []string{"192.0.2.1 10.1.0.0/16", "2001:db8::2 10.1.0.0/16"}},
		{"10.1.0.0/17", MatchExact, nil},
		{"10.1.2.3/32", MatchLongest, []string{"192.0.2.1 10.1.2.0/24"}},
		{"10.1.3.0/24", MatchLongest, []string{"192.0.2.1 10.1.0.0/16", "2001:db8::2 10.1.0.0/16"}},
		{"10.3.0.0/16", MatchLongest, []string{"192.0.2.1 10.0.0.0/8"}},
		{"10.3.200.1/32", MatchLongest, []string{"192.0.2.1 10.0.0.0/8"}},
		{"12.0.0.0/8", MatchLongest, nil},
		{"10.0.0.0/8", MatchMore, []string{"192.0.2.1 10.0.0.0/8", "192.0.2.1 10.1.0.0/16", "2001:db8::2 10.1.0.0/16", "192.0.2.1 10.1.2.0/24", "192.0.2.1 10.2.0.0/16"}},
		{"10.1.0.0/16", MatchMore, []string{"192.0.2.1 10.1.0.0/16", "2001:db8::2 10.1.0.0/16", "192.0.2.1 10.1.2.0/24"}},
		{"10.1.2.0/24", MatchLess, []string{"192.0.2.1 10.0.0.0/8", "192.0.2.1 10.1.0.0/16", "2001:db8::2 10.1.0.0/16", "192.0.2.1 10.1.2.0/24"}},
		{"0.0.0.0/0", MatchMore, []string{"192.0.2.1 10.0.0.0/8", "192.0.2.1 10.1.0.0/16", "2001:db8::2 10.1.0.0/16", "192.0.2.1 10.1.2.0/24", "192.0.2.1 10.2.0.0/16", "192.0.2.1 11.0.0.0/8"}},
		{"2001:db8:1:2::/64", MatchLongest, []string{"2001:db8::2 2001:db8:1::/48"}},
		{"2001:db8::/32", MatchMore, []string{"2001:db8::2 2001:db8::/32", "2001:db8::2 2001:db8:1::/48"}},
		{"2001:db8:1::/48", MatchLess, []string{"2001:db8::2 2001:db8::/32", "2001:db8::2 2001:db8:1::/48"}},
		{"::/0", MatchMore, []string{"2001:db8::2 2001:db8::/32", "2001:db8::2 2001:db8:1::/48", "2001:db8::2 2001:db9::/32"}},
	}
	for _, tt := range tests {
		t.Run(tt.match.String()+"/"+tt.prefix, func(t *testing.T) {
			got, err := db.Routes(t.Context(), RoutesQuery{Prefix: netip.MustParsePrefix(tt.prefix), Match: tt.match})
			if err != nil {
				t.Fatal(err)
			}
			if s := summary(got); !reflect.DeepEqual(s, tt.want) {
				t.Errorf("got %q, want %q", s, tt.want)
			}
		})
	}
	t.Run("peer filter", func(t *testing.T) {
		got, err := db.Routes(t.Context(), RoutesQuery{Prefix: netip.MustParsePrefix("10.1.0.0/16"), Peer: peerB})
		if err != nil {
			t.Fatal(err)
		}
		if s := summary(got); !reflect.DeepEqual(s, []string{"2001:db8::2 10.1.0.0/16"}) {
			t.Errorf("got %q", s)
		}
	})
	t.Run("host filter", func(t *testing.T) {
		got, err := db.Routes(t.Context(), RoutesQuery{Prefix: netip.MustParsePrefix("10.1.0.0/16"), Host: "rrc-other"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Errorf("got %q, want none", summary(got))
		}
	})
	t.Run("limit", func(t *testing.T) {
		got, err := db.Routes(t.Context(), RoutesQuery{Prefix: netip.MustParsePrefix("0.0.0.0/0"), Match: MatchMore, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Errorf("got %d routes, want 2", len(got))
		}
	})
}

// TestRoutesHistory checks withdrawals, peer-down and At in the past.
func TestRoutesHistory(t *testing.T) {
	db := testDB(t)
	store(t, db,
		state(0, peerA, 64500, schema.StateConnected),
		state(0, peerB, 64501, schema.StateConnected),
		announce(10, peerA, 64500, []uint32{64500, 1}, "10.0.0.0/8"),
		announce(10, peerB, 64501, []uint32{64501, 1}, "10.0.0.0/8"),
		announce(20, peerA, 64500, []uint32{64500, 2}, "10.0.0.0/8"), // implicit withdraw: replaces
		withdraw(30, peerB, 64501, "10.0.0.0/8"),
		state(40, peerA, 64500, schema.StateDown),
		state(50, peerA, 64500, schema.StateConnected),
		announce(60, peerA, 64500, []uint32{64500, 3}, "10.0.0.0/8"),
	)
	tests := []struct {
		at   float64 // seconds after t0; <0: now
		want []string
	}{
		{5, nil},
		{10, []string{"192.0.2.1 64500 1", "2001:db8::2 64501 1"}},
		{15, []string{"192.0.2.1 64500 1", "2001:db8::2 64501 1"}},
		{25, []string{"192.0.2.1 64500 2", "2001:db8::2 64501 1"}},
		{35, []string{"192.0.2.1 64500 2"}},
		{45, nil}, // peer A down: its routes are gone
		{55, nil},
		{65, []string{"192.0.2.1 64500 3"}},
		{5e9, []string{"192.0.2.1 64500 3"}}, // beyond DateTime's range
		{-1, []string{"192.0.2.1 64500 3"}},
	}
	for _, tt := range tests {
		q := RoutesQuery{Prefix: netip.MustParsePrefix("10.0.0.0/8")}
		if tt.at >= 0 {
			q.At = at(tt.at)
		}
		got, err := db.Routes(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, r := range got {
			s = append(s, r.Peer.String()+" "+r.Path.String())
		}
		if !reflect.DeepEqual(s, tt.want) {
			t.Errorf("at %v: got %q, want %q", tt.at, s, tt.want)
		}
	}
}

func TestWithdrawnGroups(t *testing.T) {
	db := testDB(t)
	a := announce(0, peerA, 64500, []uint32{64500}, "10.0.0.0/8")
	a.Announcements[0].PathIDs = []uint32{1}
	b := announce(0, peerA, 64500, []uint32{64500}, "10.0.0.0/8")
	b.Announcements[0].PathIDs = []uint32{2}
	w := schema.Event{Timestamp: ts(1), Peer: peerA, PeerASN: 64500, Host: "rrc-test", Type: schema.TypeUpdate,
		Withdrawals: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Withdrawn:   []schema.NLRISet{{Family: schema.IPv4Unicast, Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, PathIDs: []uint32{1}}},
	}
	store(t, db, a, b, w)
	got, err := db.Routes(t.Context(), RoutesQuery{Prefix: netip.MustParsePrefix("10.0.0.0/8")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].PathID != 2 {
		t.Errorf("got %+v, want path ID 2 only", got)
	}
}

// counted sets the route counts a live session puts on its events.
func counted(e schema.Event, counts ...schema.FamilyCount) schema.Event {
	e.Routes = counts
	return e
}

func TestPeers(t *testing.T) {
	db := testDB(t)
	v4 := func(n uint64) schema.FamilyCount { return schema.FamilyCount{Family: schema.IPv4Unicast, Routes: n} }
	v6 := func(n uint64) schema.FamilyCount { return schema.FamilyCount{Family: schema.IPv6Unicast, Routes: n} }
	peerC := netip.MustParseAddr("192.0.2.3")
	seq := uint64(0)
	numbered := func(e schema.Event) schema.Event { seq++; e.Seq = seq; return e }
	store(t, db,
		numbered(state(0, peerA, 64500, schema.StateConnected)),
		numbered(counted(announce(1, peerA, 64500, []uint32{64500}, "10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32"), v4(2), v6(1))),
		numbered(counted(withdraw(2, peerA, 64500, "10.1.0.0/16"), v4(1))),
		numbered(state(0, peerB, 64501, schema.StateConnected)),
		numbered(counted(announce(1, peerB, 64501, []uint32{64501}, "10.0.0.0/8"), v4(1))),
		numbered(counted(state(3, peerB, 64501, schema.StateDown), v4(0))),
		// A session lost in a collector crash ("collector restart", no
		// counts) and up again: its counts from before are not current.
		numbered(state(0, peerC, 64503, schema.StateConnected)),
		numbered(counted(announce(1, peerC, 64503, []uint32{64503}, "10.0.0.0/8"), v4(1))),
		numbered(state(5, peerC, 64503, schema.StateDown)),
		numbered(state(6, peerC, 64503, schema.StateConnected)),
		// A peer known only from its routes (as after an MRT import).
		func() schema.Event {
			e := announce(4, netip.MustParseAddr("198.51.100.9"), 64502, []uint32{64502}, "10.0.0.0/8")
			e.Host = "rrc-import"
			e.Imported = true
			return e
		}(),
	)
	if err := db.RecountPeers(t.Context(), "rrc-import"); err != nil {
		t.Fatal(err)
	}
	got, err := db.Peers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []Peer{
		{Host: "rrc-import", Address: netip.MustParseAddr("198.51.100.9"), ASN: 64502, LastUpdate: at(4), IPv4Routes: 1, Routes: schema.RouteCounts{v4(1)}},
		{Host: "rrc-test", Address: peerA, ASN: 64500, State: schema.StateConnected, Since: at(0), LastUpdate: at(2), IPv4Routes: 1, IPv6Routes: 1,
			Routes: schema.RouteCounts{v4(1), v6(1)}},
		{Host: "rrc-test", Address: peerC, ASN: 64503, State: schema.StateConnected, Since: at(6), LastUpdate: at(1)},
		{Host: "rrc-test", Address: peerB, ASN: 64501, State: schema.StateDown, Since: at(3), LastUpdate: at(1)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Peers:\n got %+v\nwant %+v", got, want)
	}
}

func TestRoutesBadQuery(t *testing.T) {
	db := testDB(t)
	if _, err := db.Routes(t.Context(), RoutesQuery{}); err == nil || !strings.Contains(err.Error(), "prefix") {
		t.Errorf("Routes without prefix: %v", err)
	}
}

func summary(routes []Route) []string {
	var s []string
	for _, r := range routes {
		s = append(s, r.Peer.String()+" "+r.Prefix.String())
	}
	return s
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("condition not met within %v", limit)
		case <-tick.C:
		}
	}
}

// TestFamiliesAndPeerEvents stores VPN, labeled and FlowSpec routes and
// OPEN/NOTIFICATION events, and checks that the writer copies what it
// keeps (the caller may reuse its events).
func TestFamiliesAndPeerEvents(t *testing.T) {
	db := testDB(t)
	vpn := announce(0, peerB, 64501, []uint32{64501}, "2001:db8:5::/48")
	vpn.Announcements[0].Family = schema.IPv6VPN
	vpn.Announcements[0].RDs = []string{"64501:7"}
	vpn.Announcements[0].Labels = [][]uint32{{1000, 1001}}
	flow := schema.Event{Timestamp: ts(0), Peer: peerB, PeerASN: 64501, Host: "rrc-test", Type: schema.TypeUpdate,
		Announcements: []schema.Announcement{{NLRISet: schema.NLRISet{Family: schema.IPv6FlowSpec, NLRI: []string{"dst 2001:db8::/32"}}}}}
	open := schema.Event{Timestamp: ts(0), Peer: peerB, PeerASN: 64501, Host: "rrc-test", Type: schema.TypeOpen,
		Open: &schema.Open{Version: 4, ASN: 64501, HoldTime: 90, RouterID: netip.MustParseAddr("10.0.0.2"), Capabilities: []string{"asn4", "addpath"}}}
	notif := schema.Event{Timestamp: ts(1), Peer: peerB, PeerASN: 64501, Host: "rrc-test", Type: schema.TypeNotification,
		Notification: &schema.Notification{Code: 6, Subcode: 2, Data: "00", Sent: true}}
	events := []schema.Event{vpn, flow, open, notif}

	w := db.NewWriter(WriterConfig{}, nil)
	defer w.Close()
	if err := w.Write(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	// The caller reuses its buffers before the writer has sent anything.
	vpn.Announcements[0].Labels[0][0] = 9
	open.Open.Capabilities[0] = "clobbered"
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}

	got, err := db.Routes(t.Context(), RoutesQuery{Prefix: netip.MustParsePrefix("::/0"), Match: MatchMore})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Family != schema.IPv6VPN || got[0].RD != "64501:7" || !reflect.DeepEqual(got[0].Labels, []uint32{1000, 1001}) {
		t.Errorf("::/0 more: got %+v, want the VPN route only (labels 1000 1001)", got)
	}
	var nlri string
	if err := db.conn.QueryRow(t.Context(), "SELECT nlri FROM route_events WHERE safi = 133").Scan(&nlri); err != nil || nlri != "dst 2001:db8::/32" {
		t.Errorf("flowspec row: %q, %v", nlri, err)
	}

	var (
		typ, state, reason string
		code, sent         uint8
		holdTime           uint16
		caps               []string
	)
	if err := db.conn.QueryRow(t.Context(), "SELECT type, hold_time, capabilities FROM peer_events WHERE type = 'OPEN'").Scan(&typ, &holdTime, &caps); err != nil {
		t.Fatal(err)
	}
	if holdTime != 90 || !reflect.DeepEqual(caps, []string{"asn4", "addpath"}) {
		t.Errorf("OPEN row: hold time %d, capabilities %q", holdTime, caps)
	}
	if err := db.conn.QueryRow(t.Context(), "SELECT state, reason, notification_code, sent FROM peer_events WHERE type = 'NOTIFICATION'").Scan(&state, &reason, &code, &sent); err != nil {
		t.Fatal(err)
	}
	if state != "none" || reason != "notification 6/2" || code != 6 || sent != 1 {
		t.Errorf("NOTIFICATION row: state %q reason %q code %d sent %d", state, reason, code, sent)
	}
}

// TestWriterConcurrentClose writes from several goroutines while Close
// runs: every Write that returned nil is stored, the others say the writer
// is closed.
func TestWriterConcurrentClose(t *testing.T) {
	db := testDB(t)
	w := db.NewWriter(WriterConfig{FlushInterval: time.Millisecond, BatchSize: 7}, nil)
	var stored atomic.Int64
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			peer := netip.AddrFrom4([4]byte{192, 0, 2, byte(g)})
			for i := 0; ; i++ {
				err := w.Write(t.Context(), []schema.Event{announce(float64(i), peer, 64500, []uint32{64500}, "10.0.0.0/8")})
				if err == ErrWriterClosed {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				stored.Add(1)
			}
		})
	}
	// Enough writes to have Close race with them; a deadline, not a rate.
	waitFor(t, time.Minute, func() bool { return stored.Load() > 50 })
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	var n uint64
	if err := db.conn.QueryRow(t.Context(), "SELECT count() FROM route_events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if int64(n) != stored.Load() {
		t.Errorf("%d rows stored, %d writes accepted", n, stored.Load())
	}
}

// TestPeersStale: a session last seen connected but silent for longer than
// its hold time (its collector died) is stale, not up; one whose
// KEEPALIVEs arrive is up; one with no hold time says nothing by silence.
func TestPeersStale(t *testing.T) {
	db := testDB(t)
	now := time.Now()
	ago := func(d time.Duration) float64 { return float64(now.Add(-d).UnixMicro()) / 1e6 }
	peerC := netip.MustParseAddr("192.0.2.3")
	ev := func(typ schema.Type, peer netip.Addr, d time.Duration) schema.Event {
		e := schema.Event{Host: "rrc-test", Type: typ, Peer: peer, PeerASN: 64500, Timestamp: ago(d)}
		switch typ {
		case schema.TypePeerState:
			e.State = schema.StateConnected
		case schema.TypeOpen:
			e.Open = &schema.Open{Version: 4, ASN: 64500, HoldTime: 90}
		}
		return e
	}
	open := func(peer netip.Addr, d time.Duration, sent bool) schema.Event {
		e := ev(schema.TypeOpen, peer, d)
		e.Open.Sent = sent
		return e
	}
	events := []schema.Event{
		open(peerA, 10*time.Minute, false), open(peerA, 10*time.Minute, true), ev(schema.TypePeerState, peerA, 10*time.Minute),
		ev(schema.TypeKeepalive, peerA, 9*time.Minute),
		open(peerB, 10*time.Minute, false), open(peerB, 10*time.Minute, true), ev(schema.TypePeerState, peerB, 10*time.Minute),
		ev(schema.TypeKeepalive, peerB, 10*time.Second),
		ev(schema.TypePeerState, peerC, 10*time.Minute),
	}
	if err := db.Insert(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	peers, err := db.Peers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	stale := map[netip.Addr]bool{}
	for _, p := range peers {
		stale[p.Address] = p.Stale
		if p.Address == peerA && now.Sub(p.LastSeen) < 9*time.Minute-time.Second {
			t.Errorf("peer A last seen %v ago, want 9m", now.Sub(p.LastSeen))
		}
	}
	if len(peers) != 3 || !stale[peerA] || stale[peerB] || stale[peerC] {
		t.Errorf("stale: %v; want only %s (silent for 9 minutes with a 90 s hold time)", stale, peerA)
	}
}

// migrationSteps counts the steps recorded in schema_migrations.
func migrationSteps(t *testing.T, db *DB) uint64 {
	t.Helper()
	var n uint64
	if err := db.conn.QueryRow(t.Context(), "SELECT count() FROM (SELECT DISTINCT version, step FROM schema_migrations)").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
