package replay

import (
	"math/rand/v2"
	"net/netip"

	"github.com/vantage-bgp/vantage/bgpwire"
)

// Synthetic returns n routes (distinct prefixes) as a full-table peer
// sends them, made from seed: prefix lengths as in RIS's and RouteViews'
// RIBs (IPv4: /24 55%, /23 9%, /22 7%, /21 5%, /20 7%, /19 6%, ...;
// IPv6: /48 55%, /32 15%, ...), a v6Share of IPv6 prefixes, AS paths of 2
// to 8 ASNs through a few thousand transit ASNs to tens of thousands of
// origins (all below 64496: no private or documentation ASN a receiver
// may use itself), communities on half the paths, and about three prefixes per
// set of path attributes. The same arguments give the same table.
func Synthetic(n int, v6Share float64, seed uint64) *Table {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := newTableBuilder()
	// The group being filled per family, and how many prefixes it is to
	// get still.
	var group [2]*Group
	var left [2]int
	for b.t.Routes() < n {
		i, f := 0, bgpwire.IPv4Unicast
		if r.Float64() < v6Share {
			i, f = 1, bgpwire.IPv6Unicast
		}
		if left[i] == 0 {
			group[i] = &Group{Attrs: syntheticAttrs(r, i == 1), Family: f}
			left[i] = 1 + int(r.ExpFloat64()*2.5)
		}
		before := b.t.Routes()
		b.add(f, syntheticPrefix(r, i == 1), group[i].Attrs)
		if b.t.Routes() > before {
			left[i]--
		}
	}
	return &b.t
}

// Prefix length shares (per mille) of IPv4 and IPv6 full tables.
var (
	v4Lengths = []struct{ bits, share int }{
		{24, 553}, {23, 88}, {22, 73}, {21, 52}, {20, 65}, {19, 64},
		{18, 30}, {17, 20}, {16, 40}, {15, 5}, {14, 4}, {13, 3}, {12, 2}, {11, 1}, {10, 1},
	}
	v6Lengths = []struct{ bits, share int }{
		{48, 553}, {32, 150}, {44, 60}, {40, 35}, {36, 30}, {46, 30}, {47, 25},
		{64, 46}, {29, 30}, {33, 15}, {34, 10}, {45, 16},
	}
)

func pickLength(r *rand.Rand, table []struct{ bits, share int }) int {
	total := 0
	for _, l := range table {
		total += l.share
	}
	x := r.IntN(total)
	for _, l := range table {
		if x < l.share {
			return l.bits
		}
		x -= l.share
	}
	return table[0].bits
}

// syntheticPrefix is a random unicast prefix: IPv4 in 1.0.0.0-223.255.255.255
// outside 10/8, 127/8 and 172.16/12; IPv6 in 2000::/3.
func syntheticPrefix(r *rand.Rand, v6 bool) netip.Prefix {
	if v6 {
		var a [16]byte
		for i := range a {
			a[i] = byte(r.Uint32())
		}
		a[0] = 0x20 | a[0]&0x1f
		return netip.PrefixFrom(netip.AddrFrom16(a), pickLength(r, v6Lengths)).Masked()
	}
	for {
		var a [4]byte
		u := r.Uint32()
		a[0], a[1], a[2], a[3] = byte(u>>24), byte(u>>16), byte(u>>8), byte(u)
		if a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 || a[0] == 172 && a[1]&0xf0 == 16 {
			continue
		}
		return netip.PrefixFrom(netip.AddrFrom4(a), pickLength(r, v4Lengths)).Masked()
	}
}

// syntheticAttrs returns the path attributes of a synthetic route in RIB
// entry form (4-octet ASNs; MP_REACH_NLRI with the next hop only for
// IPv6). The first ASN is a neighbor's, which the speaker replaces or
// prepends its own to (see Config.ASN).
func syntheticAttrs(r *rand.Rand, v6 bool) []byte {
	var a bgpwire.Attributes
	// IGP mostly, INCOMPLETE for a fifth, as in real tables.
	if r.IntN(5) == 0 {
		a.Origin = 2
	}
	a.Set(bgpwire.AttrOrigin)
	hops := 2 + min(r.IntN(4)+r.IntN(4), 6)
	path := make([]uint32, hops)
	for i := range path {
		switch {
		case i == hops-1:
			path[i] = 1000 + uint32(r.IntN(60_000)) // origins (below the private range)
		default:
			path[i] = 100 + uint32(r.IntN(3_000)) // transit
		}
	}
	a.ASPath = bgpwire.ASPath{{Type: bgpwire.SegSequence, ASNs: path}}
	a.Set(bgpwire.AttrASPath)
	opt := &bgpwire.DecodeOptions{ASN4: true, RIBFamily: bgpwire.IPv4Unicast}
	if v6 {
		opt.RIBFamily = bgpwire.IPv6Unicast
		a.MPReach = bgpwire.MPReach{Family: bgpwire.IPv6Unicast, NextHop: netip.MustParseAddr("2001:db8::1")}
		a.Set(bgpwire.AttrMPReach)
	} else {
		a.NextHop = netip.MustParseAddr("192.0.2.1")
		a.Set(bgpwire.AttrNextHop)
	}
	if r.IntN(2) == 0 {
		for range 1 + r.IntN(6) {
			a.Communities = append(a.Communities, path[0]<<16|uint32(r.IntN(1000)))
		}
		a.Set(bgpwire.AttrCommunities)
	}
	if r.IntN(5) == 0 {
		a.MED = uint32(r.IntN(1000))
		a.Set(bgpwire.AttrMED)
	}
	return a.AppendWire(nil, opt)
}
