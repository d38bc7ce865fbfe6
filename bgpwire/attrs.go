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
	AttrConnector          AttrCode = 20
	AttrASPathlimit        AttrCode = 21
	AttrPMSITunnel         AttrCode = 22
	AttrTunnelEncap        AttrCode = 23
	AttrTrafficEngineering AttrCode = 24
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
	AttrAS4Path: "AS4_PATH", AttrAS4Aggregator: "AS4_AGGREGATOR", AttrPMSITunnel: "PMSI_TUNNEL", AttrConnector: "CONNECTOR",
	AttrASPathlimit: "AS_PATHLIMIT", AttrTunnelEncap: "TUNNEL_ENCAPSULATION", AttrTrafficEngineering: "TRAFFIC_ENGINEERING",
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

// SegmentType is the type of an AS_PATH segment.
type SegmentType uint8

// AS_PATH segment types (RFC 4271, RFC 5065).
const (
	SegSet            SegmentType = 1
	SegSequence       SegmentType = 2
	SegConfedSequence SegmentType = 3
	SegConfedSet      SegmentType = 4
)

func (t SegmentType) String() string {
	switch t {
	case SegSet:
		return "AS_SET"
	case SegSequence:
		return "AS_SEQUENCE"
	case SegConfedSequence:
		return "AS_CONFED_SEQUENCE"
	case SegConfedSet:
		return "AS_CONFED_SET"
	}
	return fmt.Sprintf("segment type %d", uint8(t))
}

// Segment is one AS_PATH segment.
type Segment struct {
	Type SegmentType
	ASNs []uint32
}

// ASPath is a sequence of segments.
type ASPath []Segment

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
	// Reserved is the reserved octet after the next hop (RFC 4760; it was
	// the SNPA count in RFC 2858).
	Reserved uint8
	NLRI     []NLRI

	abbreviated bool // decoded from the RFC 6396 RIB entry form
}

// clear empties m, keeping its storage. Field by field: a composite
// literal of this size is built on the stack and copied.
func (m *MPReach) clear() {
	m.Family = Family{}
	m.NextHop, m.LinkLocal = netip.Addr{}, netip.Addr{}
	m.NextHopRD = RD{}
	m.NextHopRaw = m.NextHopRaw[:0]
	m.Reserved = 0
	m.NLRI = m.NLRI[:0]
	m.abbreviated = false
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

	// wire lists the attributes decoded, in wire order, with their flags,
	// so that the encoder reproduces a decoded message byte for byte.
	wire []attrMeta
	// wirePath is AS_PATH as it was on the wire when AS4_PATH was merged
	// into ASPath (2-octet sessions).
	wirePath ASPath
	// wireAggregator is AGGREGATOR as it was on the wire when
	// AS4_AGGREGATOR was merged into Aggregator.
	wireAggregator Aggregator

	pathSegs  ASPath   // backing store of the decoded AS_PATH segments
	asnBuf    []uint32 // backing store of AS_PATH ASNs
	as4Buf    []uint32
	mergeSegs ASPath // backing store of the merged path
	mergeBuf  []uint32
}

// attrMeta is one attribute of the wire order.
type attrMeta struct {
	code  AttrCode
	flags uint8
}

// Has reports whether the attribute was present (and not discarded).
func (a *Attributes) Has(c AttrCode) bool { return a.present[c>>6]&(1<<(c&63)) != 0 }

// Set marks the attribute as present, for building attributes to encode:
// the encoder writes the attributes that are present.
func (a *Attributes) Set(c AttrCode) { a.set(c) }

// Clear marks the attribute as absent.
func (a *Attributes) Clear(c AttrCode) { a.unset(c) }

// Flags returns the flags the attribute had on the wire, or the flags the
// encoder writes for it by default.
func (a *Attributes) Flags(c AttrCode) uint8 {
	for _, m := range a.wire {
		if m.code == c {
			return m.flags
		}
	}
	return defaultFlags(c)
}

// Reset empties the attributes, keeping allocated storage.
func (a *Attributes) Reset() { a.reset() }

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
	// The MP attributes are large and mostly absent: clear them only
	// when a decode set them. A decode sets Family first, but the wire
	// may hold AFI 0 and SAFI 0: then what else it set shows in the
	// reserved octet or the next hop field (every next hop field is in
	// NextHopRaw) or the NLRI.
	if m := &a.MPReach; m.Family != (Family{}) || len(m.NLRI) != 0 || len(m.NextHopRaw) != 0 || m.Reserved != 0 {
		m.clear()
	}
	if a.MPUnreach.Family != (Family{}) || len(a.MPUnreach.NLRI) != 0 {
		a.MPUnreach = MPUnreach{NLRI: a.MPUnreach.NLRI[:0]}
	}
	a.Other = a.Other[:0]
	a.wire = a.wire[:0]
	a.wirePath = nil
	a.wireAggregator = Aggregator{}
}

// commonAttrs are the attributes of nearly every UPDATE and RIB entry,
// which resetCommon clears on their own.
const commonAttrs = 1<<AttrOrigin | 1<<AttrASPath | 1<<AttrNextHop | 1<<AttrMED | 1<<AttrLocalPref |
	1<<AttrAtomicAggregate | 1<<AttrAggregator | 1<<AttrCommunities | 1<<AttrMPReach

// resetCommon empties the fields of the common attributes, all that a
// decode set when the attributes on the wire (the bits of w) were common
// ones.
func (a *Attributes) resetCommon(w uint64) {
	a.present[0] = 0
	a.Origin, a.MED, a.LocalPref = 0, 0, 0
	a.ASPath = a.ASPath[:0]
	a.NextHop = netip.Addr{}
	if w&(1<<AttrAggregator) != 0 {
		a.Aggregator = Aggregator{}
	}
	a.Communities = a.Communities[:0]
	if w&(1<<AttrMPReach) != 0 {
		a.MPReach.clear()
	}
	a.wire = a.wire[:0]
}

// wantFlags returns the optional/transitive bits an attribute must have,
// and whether the code is one this package checks.
func wantFlags(c AttrCode) (uint8, bool) {
	w := wantFlagsTable[c]
	return w &^ flagUnchecked, w&flagUnchecked == 0
}

// flagUnchecked marks codes whose flags are not checked in
// wantFlagsTable (the low bits of a flags octet are never used there).
const flagUnchecked = 0x01

// wantFlagsTable is wantFlags as a table: the decoder looks it up for
// every attribute.
var wantFlagsTable = func() (t [256]uint8) {
	for c := range t {
		t[c] = flagUnchecked
	}
	for _, c := range []AttrCode{AttrOrigin, AttrASPath, AttrNextHop, AttrLocalPref, AttrAtomicAggregate} {
		t[c] = FlagTransitive
	}
	for _, c := range []AttrCode{AttrMED, AttrOriginatorID, AttrClusterList, AttrMPReach, AttrMPUnreach, AttrAIGP} {
		t[c] = FlagOptional
	}
	for _, c := range []AttrCode{AttrAggregator, AttrCommunities, AttrExtCommunities, AttrAS4Path, AttrAS4Aggregator,
		AttrIPv6ExtCommunities, AttrLargeCommunity, AttrOTC} {
		t[c] = FlagOptional | FlagTransitive
	}
	return t
}()

// defaultFlags returns the flags the encoder writes for an attribute that
// was not decoded from the wire.
func defaultFlags(c AttrCode) uint8 {
	if f, ok := wantFlags(c); ok {
		return f
	}
	return FlagOptional | FlagTransitive
}
