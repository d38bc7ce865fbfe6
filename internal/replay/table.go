// Package replay is a BGP speaker for tests, demos and benchmarks
// (`collector replay`): it connects to a BGP listener (the collector, BIRD,
// gobgpd, ...), announces a table of routes, one peer's routes from an MRT
// RIB dump or synthetic ones with realistic distributions, sends End-of-RIB
// and holds the session with KEEPALIVEs.
//
// A table is kept as path groups: the prefixes that share one set of path
// attributes, as full tables share them (about three prefixes per set), so
// that each group goes out in as few UPDATEs as fit.
package replay

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/collector"
)

// Group is a set of prefixes of one family that share their path
// attributes.
type Group struct {
	// Attrs are the path attributes as in an MRT RIB entry: 4-octet AS
	// numbers, and for IPv6 an MP_REACH_NLRI with the next hop only.
	Attrs    []byte
	Family   bgpwire.Family
	Prefixes []netip.Prefix
}

// Table is the routes a speaker announces.
type Table struct {
	Groups []*Group
}

// Routes is the number of prefixes in the table.
func (t *Table) Routes() int {
	n := 0
	for _, g := range t.Groups {
		n += len(g.Prefixes)
	}
	return n
}

// tableBuilder collects routes into groups by family and attribute bytes.
type tableBuilder struct {
	byAttrs map[groupKey]*Group
	seen    map[netip.Prefix]bool
	t       Table
}

type groupKey struct {
	family bgpwire.Family
	attrs  string
}

func newTableBuilder() *tableBuilder {
	return &tableBuilder{byAttrs: map[groupKey]*Group{}, seen: map[netip.Prefix]bool{}}
}

// add adds a route unless its prefix is already in the table (a peer's
// RIB has one best path per prefix; ADD-PATH entries beyond the first are
// left out).
func (b *tableBuilder) add(f bgpwire.Family, p netip.Prefix, attrs []byte) {
	if b.seen[p] {
		return
	}
	b.seen[p] = true
	k := groupKey{f, string(attrs)}
	g := b.byAttrs[k]
	if g == nil {
		g = &Group{Attrs: []byte(k.attrs), Family: f}
		b.byAttrs[k] = g
		b.t.Groups = append(b.t.Groups, g)
	}
	g.Prefixes = append(g.Prefixes, p)
}

// MRTPeer is a peer of an MRT RIB dump and the number of its routes.
type MRTPeer struct {
	Addr   netip.Addr
	ASN    uint32
	Routes int
}

// FromMRT reads the IPv4 and IPv6 unicast routes of one peer of an MRT
// RIB dump (TABLE_DUMP_V2 or TABLE_DUMP; plain, gzip or bzip2): the peer
// with address peer, or when peer is not valid the peer with the most
// routes. It returns the table and the peer. Damaged records are skipped
// and reported to warn.
func FromMRT(path string, peer netip.Addr, warn func(error)) (*Table, MRTPeer, error) {
	// First pass: count each peer's routes (and find the wanted peer).
	type peerKey struct {
		addr netip.Addr
		asn  uint32
	}
	counts := map[peerKey]int{}
	var index bgpwire.PeerIndexTable
	var rib bgpwire.RIB
	var td bgpwire.TableDump
	eachRoute := func(fn func(pk peerKey, f bgpwire.Family, p netip.Prefix, attrs []byte, opt *bgpwire.DecodeOptions)) error {
		return collector.ScanMRTFile(path, 0, nil, warn, func(rec bgpwire.MRTRecord) error {
			h := rec.Header
			switch {
			case h.Type == bgpwire.MRTTableDump2 && h.Subtype == bgpwire.TD2PeerIndexTable:
				if err := index.Decode(rec.Body); err != nil {
					warn(fmt.Errorf("record %d: peer index table: %w", rec.Index, err))
				}
			case h.Type == bgpwire.MRTTableDump2 && bgpwire.IsRIBSubtype(h.Subtype):
				if err := rib.Decode(h.Subtype, rec.Body); err != nil {
					warn(fmt.Errorf("record %d: %w", rec.Index, err))
					return nil
				}
				if rib.Family != bgpwire.IPv4Unicast && rib.Family != bgpwire.IPv6Unicast {
					return nil
				}
				for _, e := range rib.Entries {
					if int(e.PeerIndex) >= len(index.Peers) {
						continue
					}
					ip := index.Peers[e.PeerIndex]
					fn(peerKey{ip.Addr, ip.ASN}, rib.Family, rib.NLRI.Prefix, e.Attrs, rib.DecodeOptions())
				}
			case h.Type == bgpwire.MRTTableDump:
				if err := td.Decode(h.Subtype, rec.Body); err != nil {
					warn(fmt.Errorf("record %d: %w", rec.Index, err))
					return nil
				}
				for _, e := range td.Entries {
					f := bgpwire.IPv4Unicast
					if e.Prefix.Addr().Is6() {
						f = bgpwire.IPv6Unicast
					}
					fn(peerKey{e.PeerAddr, e.PeerASN}, f, e.Prefix, e.Attrs, td.DecodeOptions())
				}
			}
			return nil
		})
	}
	if warn == nil {
		warn = func(error) {}
	}
	err := eachRoute(func(pk peerKey, _ bgpwire.Family, _ netip.Prefix, _ []byte, _ *bgpwire.DecodeOptions) { counts[pk]++ })
	if err != nil {
		return nil, MRTPeer{}, fmt.Errorf("%s: %w", path, err)
	}
	var peers []MRTPeer
	for pk, n := range counts {
		peers = append(peers, MRTPeer{Addr: pk.addr, ASN: pk.asn, Routes: n})
	}
	if len(peers) == 0 {
		return nil, MRTPeer{}, fmt.Errorf("%s: no IPv4 or IPv6 unicast RIB entries", path)
	}
	sort.Slice(peers, func(i, j int) bool {
		if peers[i].Routes != peers[j].Routes {
			return peers[i].Routes > peers[j].Routes
		}
		return peers[i].Addr.Less(peers[j].Addr)
	})
	chosen := peers[0]
	if peer.IsValid() {
		found := false
		for _, p := range peers {
			if p.Addr == peer.Unmap() {
				chosen, found = p, true
				break
			}
		}
		if !found {
			return nil, MRTPeer{}, fmt.Errorf("%s: no routes of peer %s (peers: %s)", path, peer, peerList(peers))
		}
	}

	// Second pass: the chosen peer's routes, attributes in 4-octet form.
	b := newTableBuilder()
	var u bgpwire.Update
	as4 := map[bgpwire.Family]*bgpwire.DecodeOptions{
		bgpwire.IPv4Unicast: {ASN4: true, RIBFamily: bgpwire.IPv4Unicast},
		bgpwire.IPv6Unicast: {ASN4: true, RIBFamily: bgpwire.IPv6Unicast},
	}
	var buf []byte
	err = eachRoute(func(pk peerKey, f bgpwire.Family, p netip.Prefix, attrs []byte, opt *bgpwire.DecodeOptions) {
		if pk.addr != chosen.Addr || pk.asn != chosen.ASN {
			return
		}
		if !opt.ASN4 {
			// TABLE_DUMP's 2-octet paths: decoded and written again with
			// 4-octet ASNs, as the session negotiates.
			if err := u.DecodeAttributes(attrs, opt); err != nil {
				warn(fmt.Errorf("route %s of %s: %w", p, pk.addr, err))
				return
			}
			buf = u.Attrs.AppendWire(buf[:0], as4[f])
			attrs = buf
		}
		b.add(f, p.Masked(), attrs)
	})
	if err != nil {
		return nil, MRTPeer{}, fmt.Errorf("%s: %w", path, err)
	}
	chosen.Routes = b.t.Routes()
	return &b.t, chosen, nil
}

func peerList(peers []MRTPeer) string {
	s := ""
	for i, p := range peers {
		if i == 10 {
			return s + ", ..."
		}
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s (%d routes)", p.Addr, p.Routes)
	}
	return s
}
