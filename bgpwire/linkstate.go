package bgpwire

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// LSNLRIType is the type of a BGP-LS NLRI (RFC 7752, RFC 9514).
type LSNLRIType uint16

// BGP-LS NLRI types.
const (
	LSNode       LSNLRIType = 1
	LSLink       LSNLRIType = 2
	LSIPv4Prefix LSNLRIType = 3
	LSIPv6Prefix LSNLRIType = 4
	LSSRv6SID    LSNLRIType = 6
)

func (t LSNLRIType) String() string {
	switch t {
	case LSNode:
		return "node"
	case LSLink:
		return "link"
	case LSIPv4Prefix:
		return "prefix-v4"
	case LSIPv6Prefix:
		return "prefix-v6"
	case LSSRv6SID:
		return "srv6-sid"
	}
	return "type-" + strconv.Itoa(int(t))
}

// LSProtocol is the BGP-LS protocol identifier.
type LSProtocol uint8

// BGP-LS protocol identifiers.
const (
	LSISISL1 LSProtocol = 1
	LSISISL2 LSProtocol = 2
	LSOSPFv2 LSProtocol = 3
	LSDirect LSProtocol = 4
	LSStatic LSProtocol = 5
	LSOSPFv3 LSProtocol = 6
	LSBGP    LSProtocol = 7
)

func (p LSProtocol) String() string {
	switch p {
	case LSISISL1:
		return "isis-l1"
	case LSISISL2:
		return "isis-l2"
	case LSOSPFv2:
		return "ospfv2"
	case LSDirect:
		return "direct"
	case LSStatic:
		return "static"
	case LSOSPFv3:
		return "ospfv3"
	case LSBGP:
		return "bgp"
	}
	return "protocol-" + strconv.Itoa(int(p))
}

// LSTLV is a BGP-LS TLV kept as it was on the wire.
type LSTLV struct {
	Type  uint16
	Value []byte
}

// LSNodeDescriptor is a local or remote node descriptor (TLV 256/257).
type LSNodeDescriptor struct {
	ASN         uint32 // TLV 512, 0 when absent
	BGPLSID     uint32 // TLV 513
	OSPFArea    uint32 // TLV 514
	HasOSPFArea bool
	IGPRouterID []byte     // TLV 515: 4 (OSPF), 6 (IS-IS), 7 or 8 octets (pseudonodes)
	BGPRouterID netip.Addr // TLV 516 (RFC 9086)
	MemberASN   uint32     // TLV 517
	TLVs        []LSTLV    // every sub-TLV
}

// LS is a decoded BGP-LS NLRI. Descriptors this package knows are typed;
// every TLV is kept in TLVs as well.
type LS struct {
	Type       LSNLRIType
	Protocol   LSProtocol
	Identifier uint64
	Local      LSNodeDescriptor
	Remote     LSNodeDescriptor // links only

	// Link descriptors (RFC 7752 section 3.2.2).
	LocalLinkID, RemoteLinkID uint32       // TLV 258
	InterfaceAddrs            []netip.Addr // TLV 259, 261
	NeighborAddrs             []netip.Addr // TLV 260, 262
	MultiTopology             []uint16     // TLV 263
	// Prefix descriptors (section 3.2.3).
	OSPFRouteType uint8        // TLV 264
	Prefix        netip.Prefix // TLV 265

	TLVs []LSTLV // every top-level TLV after the identifier
}

// ErrLS is wrapped by BGP-LS decoding errors.
var ErrLS = errors.New("malformed bgp-ls nlri")

// DecodeLS decodes one BGP-LS NLRI (type, length, value), as kept in
// NLRI.Raw.
func DecodeLS(raw []byte) (LS, error) {
	var ls LS
	r := newReader(raw, 0)
	var t uint16
	var v reader
	if !r.u16(&t) || !r.lenPrefixed16(&v) || !r.empty() {
		return ls, fmt.Errorf("%w: length: %w", ErrLS, ErrTruncated)
	}
	ls.Type = LSNLRIType(t)
	var proto uint8
	if !v.u8(&proto) || !v.u64(&ls.Identifier) {
		return ls, fmt.Errorf("%w: %s: protocol and identifier: %w", ErrLS, ls.Type, ErrTruncated)
	}
	ls.Protocol = LSProtocol(proto)
	for !v.empty() {
		var tt uint16
		var tv reader
		if !v.u16(&tt) || !v.lenPrefixed16(&tv) {
			return ls, fmt.Errorf("%w: %s: TLV at byte %d: %w", ErrLS, ls.Type, v.off, ErrTruncated)
		}
		ls.TLVs = append(ls.TLVs, LSTLV{Type: tt, Value: append([]byte(nil), tv.b...)})
		b := tv.b
		var err error
		switch tt {
		case 256:
			err = ls.Local.decode(tv)
		case 257:
			err = ls.Remote.decode(tv)
		case 258:
			if len(b) != 8 {
				err = fmt.Errorf("link identifiers of %d bytes", len(b))
			} else {
				ls.LocalLinkID, ls.RemoteLinkID = be32(b), be32(b[4:])
			}
		case 259, 260, 261, 262:
			a, ok := netip.AddrFromSlice(b)
			if !ok || (tt <= 260) != a.Is4() {
				err = fmt.Errorf("address TLV %d of %d bytes", tt, len(b))
				break
			}
			if tt == 259 || tt == 261 {
				ls.InterfaceAddrs = append(ls.InterfaceAddrs, a)
			} else {
				ls.NeighborAddrs = append(ls.NeighborAddrs, a)
			}
		case 263:
			if len(b)%2 != 0 {
				err = fmt.Errorf("multi-topology TLV of %d bytes", len(b))
			}
			for i := 0; i+1 < len(b); i += 2 {
				ls.MultiTopology = append(ls.MultiTopology, be16(b[i:])&0x0fff)
			}
		case 264:
			if len(b) != 1 {
				err = fmt.Errorf("OSPF route type TLV of %d bytes", len(b))
			} else {
				ls.OSPFRouteType = b[0]
			}
		case 265:
			alen := 4
			if ls.Type == LSIPv6Prefix {
				alen = 16
			}
			if len(b) < 1 || int(b[0]) > alen*8 || len(b) != 1+(int(b[0])+7)/8 {
				err = fmt.Errorf("IP reachability TLV of %d bytes", len(b))
			} else {
				ls.Prefix = makePrefix(b[1:], int(b[0]), alen == 4)
			}
		}
		if err != nil {
			return ls, fmt.Errorf("%w: %s: %w", ErrLS, ls.Type, err)
		}
	}
	return ls, nil
}

func (d *LSNodeDescriptor) decode(r reader) error {
	for !r.empty() {
		var t uint16
		var v reader
		if !r.u16(&t) || !r.lenPrefixed16(&v) {
			return fmt.Errorf("node descriptor sub-TLV: %w", ErrTruncated)
		}
		b := v.b
		d.TLVs = append(d.TLVs, LSTLV{Type: t, Value: append([]byte(nil), b...)})
		four := func(dst *uint32) error {
			if len(b) != 4 {
				return fmt.Errorf("node descriptor sub-TLV %d of %d bytes", t, len(b))
			}
			*dst = be32(b)
			return nil
		}
		var err error
		switch t {
		case 512:
			err = four(&d.ASN)
		case 513:
			err = four(&d.BGPLSID)
		case 514:
			err = four(&d.OSPFArea)
			d.HasOSPFArea = err == nil
		case 515:
			if len(b) < 4 || len(b) > 8 {
				err = fmt.Errorf("IGP router ID of %d bytes", len(b))
			}
			d.IGPRouterID = append([]byte(nil), b...)
		case 516:
			if len(b) != 4 {
				err = fmt.Errorf("BGP router ID of %d bytes", len(b))
			} else {
				d.BGPRouterID = netip.AddrFrom4([4]byte(b))
			}
		case 517:
			err = four(&d.MemberASN)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// String writes the descriptor as comma-separated key=value pairs.
func (d *LSNodeDescriptor) String() string {
	var parts []string
	for _, t := range d.TLVs {
		switch t.Type {
		case 512:
			parts = append(parts, "as="+strconv.FormatUint(uint64(d.ASN), 10))
		case 513:
			parts = append(parts, "bgp-ls-id="+strconv.FormatUint(uint64(d.BGPLSID), 10))
		case 514:
			parts = append(parts, "area="+netip.AddrFrom4([4]byte(appendU32(nil, d.OSPFArea))).String())
		case 515:
			parts = append(parts, "router="+igpRouterID(d.IGPRouterID))
		case 516:
			parts = append(parts, "bgp-router="+d.BGPRouterID.String())
		case 517:
			parts = append(parts, "member-as="+strconv.FormatUint(uint64(d.MemberASN), 10))
		default:
			parts = append(parts, fmt.Sprintf("tlv%d=0x%x", t.Type, t.Value))
		}
	}
	return strings.Join(parts, ",")
}

// igpRouterID writes an OSPF router ID as an address (with the DR's
// interface address for a pseudonode) and an IS-IS system ID (plus
// pseudonode ID) as hex.
func igpRouterID(b []byte) string {
	switch len(b) {
	case 4:
		return netip.AddrFrom4([4]byte(b)).String()
	case 8:
		return netip.AddrFrom4([4]byte(b)).String() + "/" + netip.AddrFrom4([4]byte(b[4:])).String()
	}
	return fmt.Sprintf("%x", b)
}

// String writes the canonical text form: type, protocol, identifier,
// then the descriptors.
func (ls *LS) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s protocol %s id %d", ls.Type, ls.Protocol, ls.Identifier)
	for _, t := range ls.TLVs {
		switch t.Type {
		case 256:
			b.WriteString(" local " + ls.Local.String())
		case 257:
			b.WriteString(" remote " + ls.Remote.String())
		case 258:
			fmt.Fprintf(&b, " link-id %d/%d", ls.LocalLinkID, ls.RemoteLinkID)
		case 259, 261:
			a, _ := netip.AddrFromSlice(t.Value)
			b.WriteString(" interface " + a.String())
		case 260, 262:
			a, _ := netip.AddrFromSlice(t.Value)
			b.WriteString(" neighbor " + a.String())
		case 263:
			for i := 0; i+1 < len(t.Value); i += 2 {
				fmt.Fprintf(&b, " mt %d", be16(t.Value[i:])&0x0fff)
			}
		case 264:
			fmt.Fprintf(&b, " ospf-route-type %d", ls.OSPFRouteType)
		case 265:
			b.WriteString(" prefix " + ls.Prefix.String())
		default:
			fmt.Fprintf(&b, " tlv%d 0x%x", t.Type, t.Value)
		}
	}
	return b.String()
}
