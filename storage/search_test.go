package storage

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/vantage-bgp/vantage/schema"
)

// TestRoutesFilter: routes by origin, AS path and community, judged on
// each route's current announcement (a later announcement with another
// origin, or a withdrawal, takes the route out), with or without a prefix.
func TestRoutesFilter(t *testing.T) {
	db := testDB(t)
	withComm := func(e schema.Event, c schema.Community, l schema.LargeCommunity) schema.Event {
		e.Community = []schema.Community{c}
		e.LargeCommunity = []schema.LargeCommunity{l}
		return e
	}
	err := db.Insert(t.Context(), []schema.Event{
		withComm(announce(1, peerA, 64500, []uint32{64500, 64496}, "10.0.0.0/8", "10.1.0.0/16"), schema.Community{64500, 100}, schema.LargeCommunity{64500, 1, 2}),
		announce(1, peerB, 64501, []uint32{64501, 64497, 64496}, "10.0.0.0/8", "2001:db8::/32"),
		// 10.1.0.0/16 now originated by 64499: no longer 64496's.
		announce(2, peerA, 64500, []uint32{64500, 64499}, "10.1.0.0/16"),
		// Withdrawn: gone.
		announce(1, peerA, 64500, []uint32{64500, 64496}, "10.9.0.0/16"),
		withdraw(3, peerA, 64500, "10.9.0.0/16"),
	})
	if err != nil {
		t.Fatal(err)
	}
	find := func(q RoutesQuery) []string {
		t.Helper()
		routes, err := db.Routes(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range routes {
			out = append(out, r.Peer.String()+" "+r.Prefix.String())
		}
		slices.Sort(out)
		return out
	}
	for name, tc := range map[string]struct {
		q    RoutesQuery
		want []string
	}{
		"origin":              {RoutesQuery{Filter: RouteFilter{OriginASN: 64496}}, []string{"192.0.2.1 10.0.0.0/8", "2001:db8::2 10.0.0.0/8", "2001:db8::2 2001:db8::/32"}},
		"origin, prefix":      {RoutesQuery{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Match: MatchMore, Filter: RouteFilter{OriginASN: 64499}}, []string{"192.0.2.1 10.1.0.0/16"}},
		"path through 64497":  {RoutesQuery{Filter: RouteFilter{ASPath: "_64497_"}}, []string{"2001:db8::2 10.0.0.0/8", "2001:db8::2 2001:db8::/32"}},
		"path from 64500":     {RoutesQuery{Filter: RouteFilter{ASPath: "^64500_"}}, []string{"192.0.2.1 10.0.0.0/8", "192.0.2.1 10.1.0.0/16"}},
		"community":           {RoutesQuery{Filter: RouteFilter{Community: &schema.Community{64500, 100}}}, []string{"192.0.2.1 10.0.0.0/8"}},
		"large community":     {RoutesQuery{Filter: RouteFilter{LargeCommunity: &schema.LargeCommunity{64500, 1, 2}}}, []string{"192.0.2.1 10.0.0.0/8"}},
		"no match":            {RoutesQuery{Filter: RouteFilter{OriginASN: 1}}, nil},
		"origin and path":     {RoutesQuery{Filter: RouteFilter{OriginASN: 64496, ASPath: "^64501_"}}, []string{"2001:db8::2 10.0.0.0/8", "2001:db8::2 2001:db8::/32"}},
		"withdrawn not found": {RoutesQuery{Prefix: netip.MustParsePrefix("10.9.0.0/16"), Filter: RouteFilter{OriginASN: 64496}}, nil},
	} {
		if got := find(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", name, got, tc.want)
		}
	}
	if _, err := db.Routes(t.Context(), RoutesQuery{}); err == nil {
		t.Error("a query with neither prefix nor filter was accepted")
	}
}
