package bgpwire

import (
	"fmt"
	"net/netip"
)

// AttrCode is a path attribute type code.
type AttrCode uint8

// Path attribute type codes (IANA).
const (
	AttrOrigin             AttrCode = 1
	AttrASPath             AttrCode = 2
	AttrNextHop            AttrCode = 3
	AttrMED                AttrCode = 4
	AttrLocalPref          AttrCode = 5
	AttrAtomicAggregate    AttrCode = 6
	AttrAggregator         AttrCode = 7
	AttrCommunities        AttrCode = 8
	AttrOriginatorID       AttrCode = 9
	AttrClusterList        AttrCode = 10
	AttrMPReach            AttrCode = 14
	AttrMPUnreach          AttrCode = 15
	AttrExtCommunities     AttrCode = 16
	AttrAS4Path            AttrCode = 17
	AttrAS4Aggregator      AttrCode = 18
	AttrPMSITunnel         AttrCode = 22
	AttrIPv6ExtCommunities AttrCode = 25
	AttrAIGP               AttrCode = 26
	AttrLS                 AttrCode = 29
	AttrLargeCommunity     AttrCode = 32
	AttrOTC                AttrCode = 35
	AttrPrefixSID          AttrCode = 40
	AttrSet                AttrCode = 128
)

var attrNames = map[AttrCode]string{
	AttrOrigin: "ORIGIN", AttrASPath: "AS_PATH", AttrNextHop: "NEXT_HOP", AttrMED: "MULTI_EXIT_DISC",
	AttrLocalPref: "LOCAL_PREF", AttrAtomicAggregate: "ATOMIC_AGGREGATE", AttrAggregator: "AGGREGATOR",
	AttrCommunities: "COMMUNITIES", AttrOriginatorID: "ORIGINATOR_ID", AttrClusterList: "CLUSTER_LIST",
	AttrMPReach: "MP_REACH_NLRI", AttrMPUnreach: "MP_UNREACH_NLRI", AttrExtCommunities: "EXTENDED_COMMUNITIES",
	AttrAS4Path: "AS4_PATH", AttrAS4Aggregator: "AS4_AGGREGATOR", AttrPMSITunnel: "PMSI_TUNNEL",
	AttrIPv6ExtCommunities: "IPV6_ADDRESS_SPECIFIC_EXTENDED_COMMUNITY", AttrAIGP: "AIGP", AttrLS: "BGP-LS",
	AttrLargeCommunity: "LARGE_COMMUNITY", AttrOTC: "OTC", AttrPrefixSID: "PREFIX_SID", AttrSet: "ATTR_SET",
}

func (c AttrCode) String() string {
	if n, ok := attrNames[c]; ok {
		return n
	}
	return fmt.Sprintf("attribute %d", uint8(c))
}

// Attribute flag bits.
const (
	FlagOptional   uint8 = 0x80
	FlagTransitive uint8 = 0x40
	FlagPartial    uint8 = 0x20
	FlagExtLength  uint8 = 0x10
)

// AS_PATH segment types.
const (
	SegSet            uint8 = 1
	SegSequence       uint8 = 2
	SegConfedSequence uint8 = 3
	SegConfedSet      uint8 = 4
)

// Segment is one AS_PATH segment.
type Segment struct {
	Type uint8
	ASNs []uint32
}

// ASPath is a sequence of segments.
type ASPath []Segment

// pathLen counts the path length as RFC 4271 does for the merge of
// RFC 6793: a set counts one, confederation segments nothing.
func (p ASPath) pathLen() int {
	n := 0
	for _, s := range p {
		switch s.Type {
		case SegSequence:
			n += len(s.ASNs)
		case SegSet:
			n++
		}
	}
	return n
}

// Aggregator is the AGGREGATOR or AS4_AGGREGATOR attribute.
type Aggregator struct {
	ASN     uint32
	Address netip.Addr
}

// RawAttribute is a path attribute kept as it was on the wire.
type RawAttribute struct {
	Flags uint8
	Code  AttrCode
	Value []byte
}

// MPReach is the MP_REACH_NLRI attribute.
type MPReach struct {
	Family    Family
	NextHop   netip.Addr
	LinkLocal netip.Addr // second IPv6 next hop, when sent
	// NextHopRD is the RD of a VPN next hop (normally zero).
	NextHopRD RD
	// NextHopRaw is the next hop field when it is not one or two plain
	// addresses (for example FlowSpec's empty next hop or EVPN's).
	NextHopRaw []byte
	NLRI       []NLRI
}

// MPUnreach is the MP_UNREACH_NLRI attribute.
type MPUnreach struct {
	Family Family
	NLRI   []NLRI
}

// Attributes holds the decoded path attributes of an UPDATE (or of an MRT
// RIB entry). Has tells which ones were present.
type Attributes struct {
	present [4]uint64

	Origin             uint8
	ASPath             ASPath // with AS4_PATH merged in when the session is 2-octet
	AS4Path            ASPath
	NextHop            netip.Addr
	MED                uint32
	LocalPref          uint32
	Aggregator         Aggregator // with AS4_AGGREGATOR merged in
	AS4Aggregator      Aggregator
	Communities        []uint32
	OriginatorID       netip.Addr
	ClusterList        []netip.Addr
	ExtCommunities     [][8]byte
	IPv6ExtCommunities [][20]byte
	LargeCommunities   [][3]uint32
	AIGP               uint64
	OTC                uint32
	MPReach            MPReach
	MPUnreach          MPUnreach
	// Other holds attributes without a field of their own (PREFIX_SID,
	// BGP-LS, ATTR_SET, unknown), raw with flags and type.
	Other []RawAttribute

	asnBuf []uint32 // backing store of ASPath segments
	as4Buf []uint32
}

// Has reports whether the attribute was present (and not discarded).
func (a *Attributes) Has(c AttrCode) bool { return a.present[c>>6]&(1<<(c&63)) != 0 }

func (a *Attributes) set(c AttrCode)   { a.present[c>>6] |= 1 << (c & 63) }
func (a *Attributes) unset(c AttrCode) { a.present[c>>6] &^= 1 << (c & 63) }

// reset empties the attributes, keeping allocated storage.
func (a *Attributes) reset() {
	a.present = [4]uint64{}
	a.Origin, a.MED, a.LocalPref, a.AIGP, a.OTC = 0, 0, 0, 0, 0
	a.ASPath, a.AS4Path = a.ASPath[:0], a.AS4Path[:0]
	a.NextHop, a.OriginatorID = netip.Addr{}, netip.Addr{}
	a.Aggregator, a.AS4Aggregator = Aggregator{}, Aggregator{}
	a.Communities = a.Communities[:0]
	a.ClusterList = a.ClusterList[:0]
	a.ExtCommunities = a.ExtCommunities[:0]
	a.IPv6ExtCommunities = a.IPv6ExtCommunities[:0]
	a.LargeCommunities = a.LargeCommunities[:0]
	a.MPReach = MPReach{NLRI: a.MPReach.NLRI[:0], NextHopRaw: a.MPReach.NextHopRaw[:0]}
	a.MPUnreach = MPUnreach{NLRI: a.MPUnreach.NLRI[:0]}
	a.Other = a.Other[:0]
}

// wantFlags returns the optional/transitive bits an attribute must have,
// and whether the code is one this package checks.
func wantFlags(c AttrCode) (uint8, bool) {
	switch c {
	case AttrOrigin, AttrASPath, AttrNextHop, AttrLocalPref, AttrAtomicAggregate:
		return FlagTransitive, true
	case AttrMED, AttrOriginatorID, AttrClusterList, AttrMPReach, AttrMPUnreach, AttrAIGP:
		return FlagOptional, true
	case AttrAggregator, AttrCommunities, AttrExtCommunities, AttrAS4Path, AttrAS4Aggregator,
		AttrIPv6ExtCommunities, AttrLargeCommunity, AttrOTC:
		return FlagOptional | FlagTransitive, true
	}
	return 0, false
}

// decodeASPath decodes AS_PATH/AS4_PATH segments into p using buf as
// backing store for the ASNs. Two passes: validate and count, then fill,
// so the segments never point into a reallocated buffer.
func decodeASPath(v []byte, asn4 bool, p ASPath, buf []uint32) (ASPath, []uint32, error) {
	w := 2
	if asn4 {
		w = 4
	}
	total := 0
	for i := 0; i < len(v); {
		if len(v)-i < 2 {
			return p, buf, fmt.Errorf("segment header at offset %d: %w", i, ErrTruncated)
		}
		t, n := v[i], int(v[i+1])
		if t < SegSet || t > SegConfedSet {
			return p, buf, fmt.Errorf("segment type %d at offset %d", t, i)
		}
		if n == 0 {
			return p, buf, fmt.Errorf("empty segment at offset %d", i)
		}
		i += 2 + n*w
		if i > len(v) {
			return p, buf, fmt.Errorf("segment of %d ASNs overruns the attribute: %w", n, ErrTruncated)
		}
		total += n
	}
	if cap(buf) < total {
		buf = make([]uint32, 0, total)
	}
	buf = buf[:0]
	p = p[:0]
	for i := 0; i < len(v); {
		t, n := v[i], int(v[i+1])
		i += 2
		start := len(buf)
		for range n {
			if w == 4 {
				buf = append(buf, be32(v[i:]))
			} else {
				buf = append(buf, uint32(be16(v[i:])))
			}
			i += w
		}
		p = append(p, Segment{Type: t, ASNs: buf[start:len(buf):len(buf)]})
	}
	return p, buf, nil
}

// mergeAS4Path applies RFC 6793 section 4.2.3: the leading ASNs of
// AS_PATH that AS4_PATH does not cover, then AS4_PATH.
func (a *Attributes) mergeAS4Path() {
	n, n4 := a.ASPath.pathLen(), a.AS4Path.pathLen()
	if n4 > n {
		return // AS4_PATH is ignored (RFC 6793)
	}
	keep := n - n4
	var merged ASPath
	var buf []uint32
	for _, s := range a.ASPath {
		if keep == 0 {
			break
		}
		switch s.Type {
		case SegSequence:
			k := min(keep, len(s.ASNs))
			buf = append(buf, s.ASNs[:k]...)
			merged = append(merged, Segment{Type: s.Type, ASNs: buf[len(buf)-k:]})
			keep -= k
		case SegSet:
			buf = append(buf, s.ASNs...)
			merged = append(merged, Segment{Type: s.Type, ASNs: buf[len(buf)-len(s.ASNs):]})
			keep--
		default:
			buf = append(buf, s.ASNs...)
			merged = append(merged, Segment{Type: s.Type, ASNs: buf[len(buf)-len(s.ASNs):]})
		}
	}
	merged = append(merged, a.AS4Path...)
	a.ASPath = merged
}
