package main

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/schema"
)

// defaultRIBs are the shared RIB dumps (relative to the shared data
// directory) whose prefixes, prefix lengths and path attributes the data
// set is made of: RIS and RouteViews tables from 2002 to 2016, IPv4 and
// IPv6.
var defaultRIBs = []string{
	"mrt/bgpdump/test_data/bview.20020722.2337.gz",
	"mrt/pyasn/data/rib.20080501.0644_firstMB.bz2",
	"mrt/pyasn/data/rib.20140523.0600_firstMB.bz2",
	"mrt/pyasn/data/rib6.20151101.0600_firstMB.bz2",
	"mrt/fgbgp/mrt/rib.20030503.1429.bz2",
	"mrt/vast/libvast_test/artifacts/logs/mrt/bview.20161024.0800",
}

// view is one RIB peer's announcement of a prefix: the attributes a
// generated route copies.
type view struct {
	peerASN uint32
	ev      schema.Event // Path and the other attributes; no NLRI
}

// template is a real prefix and every RIB peer's view of it.
type template struct {
	prefix netip.Prefix
	views  []int32 // into pool.views
}

// ribPeer is a peer of the RIB dumps, with its number of routes.
type ribPeer struct {
	addr   netip.Addr
	asn    uint32
	routes int
}

// pool holds what the shared RIBs offer: real prefixes with their views,
// and the RIB peers.
type pool struct {
	views     []view
	templates []template // in the order first seen
	peers     []ribPeer  // most routes first
	entries   int
}

// loadPool reads the RIB dumps with the project's MRT reader and event
// builder (collector.ScanMRTFile and MRTConverter, as `collector mrt
// import` does).
func loadPool(paths []string) (*pool, error) {
	p := &pool{}
	byPrefix := map[netip.Prefix]int{}
	type peerKey struct {
		addr netip.Addr
		asn  uint32
	}
	peers := map[peerKey]int{}
	for _, path := range paths {
		conv := &collector.MRTConverter{Host: "rib", Source: filepath.Base(path)}
		n := 0
		err := collector.ScanMRTFile(path, 0, nil, nil, func(rec bgpwire.MRTRecord) error {
			// Records that cannot be converted (a truncated dump's last
			// one) are skipped, as the importer does.
			_ = conv.Convert(rec, func(ev *schema.Event) error {
				if ev.Type != schema.TypeUpdate || len(ev.Announcements) != 1 || len(ev.Announcements[0].Prefixes) != 1 {
					return nil
				}
				pfx := ev.Announcements[0].Prefixes[0].Masked()
				if ev.Announcements[0].Family.SAFI != 1 {
					return nil
				}
				n++
				// Convert builds every RIB event's slices afresh: they can
				// be kept. Only the attributes are.
				v := view{peerASN: ev.PeerASN, ev: *ev}
				v.ev.Announcements, v.ev.Raw, v.ev.ID, v.ev.Host = nil, "", "", ""
				p.views = append(p.views, v)
				i, ok := byPrefix[pfx]
				if !ok {
					i = len(p.templates)
					byPrefix[pfx] = i
					p.templates = append(p.templates, template{prefix: pfx})
				}
				p.templates[i].views = append(p.templates[i].views, int32(len(p.views)-1))
				peers[peerKey{ev.Peer, ev.PeerASN}]++
				return nil
			})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("RIB %s: %w", path, err)
		}
		if n == 0 {
			return nil, fmt.Errorf("RIB %s: no IPv4/IPv6 unicast RIB entries", path)
		}
		p.entries += n
	}
	for k, n := range peers {
		p.peers = append(p.peers, ribPeer{addr: k.addr, asn: k.asn, routes: n})
	}
	slices.SortFunc(p.peers, func(a, b ribPeer) int {
		if c := cmp.Compare(b.routes, a.routes); c != 0 {
			return c
		}
		return a.addr.Compare(b.addr)
	})
	return p, nil
}

// peer is one of the data set's peers.
type peer struct {
	addr netip.Addr
	asn  uint32
	nh4  netip.Addr // next hop of its IPv4 routes
	nh6  netip.Addr // and of its IPv6 routes
}

// slot is one prefix of the data set: a real prefix moved to other
// address space (variant > 0) or as it is (variant 0).
type slot struct {
	prefix  netip.Prefix
	tmpl    int32
	variant int32
	origin  uint32 // the origin AS of its routes (0: path ends in a set)
}

// dataset is the generated table: its peers and prefixes. It is a
// function of the RIBs and the seed, so a later run regenerates it
// instead of storing it.
type dataset struct {
	pool  *pool
	peers []peer
	slots []slot
	// origins are the distinct origin ASNs of the slots.
	origins []uint32
}

// genDataset picks the peers and the prefixes: prefixes of the RIBs, then
// copies of them moved to other /8s (IPv4) or other second 16-bit groups
// (IPv6) with their lengths, round after round over every template, so
// the length distribution and the nesting of more specifics are the
// RIBs'.
func genDataset(p *pool, nPeers, nPrefixes int, v6Share float64, seed uint64) (*dataset, error) {
	d := &dataset{pool: p}
	seen := map[uint32]bool{}
	for _, rp := range p.peers {
		if len(d.peers) == nPeers {
			break
		}
		if seen[rp.asn] || rp.asn == 0 || rp.asn == 23456 {
			continue
		}
		seen[rp.asn] = true
		d.peers = append(d.peers, peer{addr: rp.addr, asn: rp.asn})
	}
	for i := len(d.peers); i < nPeers; i++ { // more peers than the RIBs have
		d.peers = append(d.peers, peer{addr: netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i)}), asn: uint32(64512 + i)})
	}
	for i := range d.peers {
		pr := &d.peers[i]
		if pr.addr.Is4() {
			pr.nh4 = pr.addr
			pr.nh6 = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})
		} else {
			pr.nh6 = pr.addr
			pr.nh4 = netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + i)})
		}
	}

	var t4, t6 []int32
	for i, t := range p.templates {
		if t.prefix.Addr().Is4() {
			t4 = append(t4, int32(i))
		} else {
			t6 = append(t6, int32(i))
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x6c67))
	rng.Shuffle(len(t4), func(i, j int) { t4[i], t4[j] = t4[j], t4[i] })
	rng.Shuffle(len(t6), func(i, j int) { t6[i], t6[j] = t6[j], t6[i] })
	n6 := int(float64(nPrefixes)*v6Share + 0.5)
	if len(t6) == 0 {
		n6 = 0
	}
	taken := make(map[netip.Prefix]bool, nPrefixes)
	fill := func(ts []int32, want int, move func(netip.Prefix, int) (netip.Prefix, bool)) error {
		got := 0
		for variant := 0; got < want; variant++ {
			if variant > 1<<16 {
				return fmt.Errorf("only %d distinct prefixes could be made of %d templates", got, len(ts))
			}
			for _, ti := range ts {
				if got == want {
					break
				}
				q, ok := move(p.templates[ti].prefix, variant)
				if !ok || taken[q] {
					continue
				}
				taken[q] = true
				d.slots = append(d.slots, slot{prefix: q, tmpl: ti, variant: int32(variant)})
				got++
			}
		}
		return nil
	}
	if err := fill(t4, nPrefixes-n6, move4); err != nil {
		return nil, err
	}
	if err := fill(t6, n6, move6); err != nil {
		return nil, err
	}
	rng.Shuffle(len(d.slots), func(i, j int) { d.slots[i], d.slots[j] = d.slots[j], d.slots[i] })
	origins := map[uint32]bool{}
	for i := range d.slots {
		s := &d.slots[i]
		v := &p.views[p.templates[s.tmpl].views[0]]
		s.origin = remapOrigin(v.ev.Path.OriginASN(), s.variant)
		if s.origin != 0 {
			origins[s.origin] = true
		}
	}
	for a := range origins {
		d.origins = append(d.origins, a)
	}
	slices.Sort(d.origins)
	return d, nil
}

// move4 moves an IPv4 prefix of /8 or longer to another /8 that holds
// unicast space: variant v adds 37*v to the first octet modulo 224,
// skipping 0, 10 and 127.
func move4(p netip.Prefix, v int) (netip.Prefix, bool) {
	if v == 0 {
		return p, true
	}
	if p.Bits() < 8 || v >= 224 {
		return netip.Prefix{}, false
	}
	a := p.Addr().As4()
	o := (int(a[0]) + 37*v) % 224
	if o == 0 || o == 10 || o == 127 || o == int(a[0]) {
		return netip.Prefix{}, false
	}
	a[0] = byte(o)
	return netip.PrefixFrom(netip.AddrFrom4(a), p.Bits()), true
}

// move6 moves an IPv6 prefix of /32 or longer to another /32 of its /16:
// variant v changes the second 16-bit group.
func move6(p netip.Prefix, v int) (netip.Prefix, bool) {
	if v == 0 {
		return p, true
	}
	if p.Bits() < 32 || v >= 1<<16 {
		return netip.Prefix{}, false
	}
	a := p.Addr().As16()
	g := uint16(a[2])<<8 | uint16(a[3])
	g ^= uint16(v * 40503)
	a[2], a[3] = byte(g>>8), byte(g)
	return netip.PrefixFrom(netip.AddrFrom16(a), p.Bits()), true
}

// remapOrigin gives a moved prefix (variant > 0) an origin AS of its own,
// so that origins keep the RIBs' prefix counts instead of multiplying
// them: a public 16- or 32-bit ASN derived from the real one.
func remapOrigin(asn uint32, variant int32) uint32 {
	if asn == 0 || variant == 0 {
		return asn
	}
	h := (uint64(asn)*2654435761 + uint64(variant)*40503) % 400_000
	a := uint32(h) + 1
	if a >= 64_496 && a <= 131_071 { // documentation, private, reserved
		a += 131_072 - 64_496
	}
	if a == 23456 {
		a++
	}
	return a
}

// route returns the announcement of slot s by peer k as an UPDATE event
// (without time, seq, ID and host): the view of the RIB peer k maps to,
// its first AS replaced by (or, when the path does not start with the
// RIB peer's AS, prefixed with) peer k's, and for a moved prefix the
// origin replaced by the slot's. alt picks another view (churn).
func (d *dataset) route(ev *schema.Event, s *slot, k, alt int) {
	t := &d.pool.templates[s.tmpl]
	v := &d.pool.views[t.views[(k+int(s.variant)+alt)%len(t.views)]]
	pr := &d.peers[k]
	*ev = v.ev
	ev.Type = schema.TypeUpdate
	ev.Peer, ev.PeerASN = pr.addr, pr.asn
	ev.Path = adaptPath(v.ev.Path, v.peerASN, pr.asn, s.origin)
	nh, fam := pr.nh4, schema.IPv4Unicast
	if s.prefix.Addr().Is6() {
		nh, fam = pr.nh6, schema.IPv6Unicast
	}
	ev.Announcements = []schema.Announcement{{NextHop: nh, NLRISet: schema.NLRISet{Family: fam, Prefixes: []netip.Prefix{s.prefix}}}}
}

// adaptPath returns a copy of path as peer asn would send it, ending in
// origin when origin is set.
func adaptPath(path schema.ASPath, ribPeer, asn, origin uint32) schema.ASPath {
	out := make(schema.ASPath, len(path))
	for i, s := range path {
		out[i] = schema.Segment{Type: s.Type, ASNs: slices.Clone(s.ASNs)}
	}
	if len(out) > 0 && out[0].Type == schema.SegmentSequence && len(out[0].ASNs) > 0 && out[0].ASNs[0] == ribPeer {
		out[0].ASNs[0] = asn
	} else if len(out) > 0 && out[0].Type == schema.SegmentSequence {
		out[0].ASNs = append([]uint32{asn}, out[0].ASNs...)
	} else {
		out = append(schema.ASPath{{Type: schema.SegmentSequence, ASNs: []uint32{asn}}}, out...)
	}
	if origin != 0 {
		last := &out[len(out)-1]
		if last.Type == schema.SegmentSequence && len(last.ASNs) > 1 {
			last.ASNs[len(last.ASNs)-1] = origin
		}
	}
	return out
}

// lengthShares returns the share of the slots per prefix length, for the
// report: the most common lengths of each family.
func (d *dataset) lengthShares() (v4, v6 map[int]float64, n4, n6 int) {
	c4, c6 := map[int]int{}, map[int]int{}
	for _, s := range d.slots {
		if s.prefix.Addr().Is4() {
			c4[s.prefix.Bits()]++
			n4++
		} else {
			c6[s.prefix.Bits()]++
			n6++
		}
	}
	v4, v6 = map[int]float64{}, map[int]float64{}
	for l, c := range c4 {
		v4[l] = float64(c) / float64(max(n4, 1))
	}
	for l, c := range c6 {
		v6[l] = float64(c) / float64(max(n6, 1))
	}
	return v4, v6, n4, n6
}
