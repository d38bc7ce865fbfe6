package bgpwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// ErrMRTUnsupported is wrapped by errors about records of a kind this
// package does not decode (GEO_PEER_TABLE, BGP4MP_SNAPSHOT, the
// deprecated types other than type-5 BGP, OSPF, IS-IS).
var ErrMRTUnsupported = errors.New("unsupported MRT record kind")

func mrtErr(h MRTHeader, what string, err error) error {
	return fmt.Errorf("%s subtype %d: %s: %w", h.Type, h.Subtype, what, err)
}

// mrtAddPathFamilies are the families whose NLRI carry path identifiers
// in RFC 8050 *_ADDPATH records.
var mrtAddPathFamilies = []Family{
	IPv4Unicast, IPv6Unicast,
	{AFIIPv4, SAFIMulticast}, {AFIIPv6, SAFIMulticast},
	{AFIIPv4, SAFILabeled}, {AFIIPv6, SAFILabeled},
	{AFIIPv4, SAFIVPN}, {AFIIPv6, SAFIVPN},
}

// Static decode options for MRT records, so that choosing them does not
// allocate: [asn4][addpath].
var mrtOpts = [2][2]DecodeOptions{
	{{}, {AddPath: mrtAddPathFamilies}},
	{{ASN4: true}, {ASN4: true, AddPath: mrtAddPathFamilies}},
}

// MRTDecodeOptions returns the options to decode a BGP message carried in
// an MRT record with the given 4-octet-AS and ADD-PATH properties. The
// result is shared and must not be modified.
func MRTDecodeOptions(asn4, addPath bool) *DecodeOptions {
	a, p := 0, 0
	if asn4 {
		a = 1
	}
	if addPath {
		p = 1
	}
	return &mrtOpts[a][p]
}

// MRTPeer is one entry of a PEER_INDEX_TABLE.
type MRTPeer struct {
	BGPID netip.Addr
	Addr  netip.Addr
	ASN   uint32
	AS4   bool // the ASN was written in 4 octets
}

// PeerIndexTable is a TABLE_DUMP_V2 PEER_INDEX_TABLE. Decode copies what
// it keeps, so the table stays valid while later records are read.
type PeerIndexTable struct {
	CollectorID netip.Addr
	ViewName    string
	Peers       []MRTPeer
}

// Decode decodes a PEER_INDEX_TABLE body.
func (t *PeerIndexTable) Decode(body []byte) error {
	const op = "PEER_INDEX_TABLE"
	r := newReader(body, 0)
	var id []byte
	var name reader
	var count uint16
	var ok bool
	if id, ok = r.read(4); !ok || !r.lenPrefixed16(&name) || !r.u16(&count) {
		return fmt.Errorf("%s: header: %w", op, ErrTruncated)
	}
	t.CollectorID = netip.AddrFrom4([4]byte(id))
	if string(name.b) != t.ViewName {
		t.ViewName = string(name.b)
	}
	t.Peers = t.Peers[:0]
	for i := range int(count) {
		var typ uint8
		var bid, addr []byte
		p := MRTPeer{}
		if !r.u8(&typ) {
			return fmt.Errorf("%s: peer %d of %d: %w", op, i, count, ErrTruncated)
		}
		alen, aslen := 4, 2
		if typ&1 != 0 {
			alen = 16
		}
		if typ&2 != 0 {
			aslen = 4
			p.AS4 = true
		}
		if bid, ok = r.read(4); !ok {
			return fmt.Errorf("%s: peer %d of %d: %w", op, i, count, ErrTruncated)
		}
		if addr, ok = r.read(alen); !ok {
			return fmt.Errorf("%s: peer %d of %d: %w", op, i, count, ErrTruncated)
		}
		asn, ok := r.read(aslen)
		if !ok {
			return fmt.Errorf("%s: peer %d of %d: %w", op, i, count, ErrTruncated)
		}
		p.BGPID = netip.AddrFrom4([4]byte(bid))
		if alen == 4 {
			p.Addr = netip.AddrFrom4([4]byte(addr))
		} else {
			p.Addr = netip.AddrFrom16([16]byte(addr))
		}
		if aslen == 4 {
			p.ASN = be32(asn)
		} else {
			p.ASN = uint32(be16(asn))
		}
		t.Peers = append(t.Peers, p)
	}
	return nil
}

// RIBEntry is one route of a TABLE_DUMP_V2 RIB record. Attrs holds the
// path attributes as written (decode them with Update.DecodeAttributes
// and RIB.DecodeOptions); it aliases the record body.
type RIBEntry struct {
	PeerIndex      uint16
	OriginatedTime uint32
	PathID         uint32
	Attrs          []byte
}

// RIB is a TABLE_DUMP_V2 RIB record (any of the RIB_* subtypes). Decode
// into the same value again and again; Entries is reused.
type RIB struct {
	Subtype uint16
	Seq     uint32
	Family  Family
	AddPath bool
	// NLRI is the route: Prefix for IP families (with RD and Labels for
	// VPN and labeled ones), Raw for the others.
	NLRI    NLRI
	Entries []RIBEntry

	nlri []NLRI
	opts DecodeOptions
}

// ribFamily returns the family of a RIB subtype other than the generic
// ones, and whether the subtype carries path identifiers.
func ribFamily(sub uint16) (Family, bool) {
	switch sub {
	case TD2RIBIPv4Unicast:
		return IPv4Unicast, false
	case TD2RIBIPv4Multicast:
		return Family{AFIIPv4, SAFIMulticast}, false
	case TD2RIBIPv6Unicast:
		return IPv6Unicast, false
	case TD2RIBIPv6Multicast:
		return Family{AFIIPv6, SAFIMulticast}, false
	case TD2RIBIPv4UnicastAddPath:
		return IPv4Unicast, true
	case TD2RIBIPv4MulticastAddPath:
		return Family{AFIIPv4, SAFIMulticast}, true
	case TD2RIBIPv6UnicastAddPath:
		return IPv6Unicast, true
	case TD2RIBIPv6MulticastAddPath:
		return Family{AFIIPv6, SAFIMulticast}, true
	case TD2RIBGenericAddPath:
		return Family{}, true
	}
	return Family{}, false
}

// IsRIBSubtype reports whether a TABLE_DUMP_V2 subtype is a RIB record.
func IsRIBSubtype(sub uint16) bool {
	return (sub >= TD2RIBIPv4Unicast && sub <= TD2RIBGeneric) || (sub >= TD2RIBIPv4UnicastAddPath && sub <= TD2RIBGenericAddPath)
}

// DecodeOptions returns the options for the entries' attributes: 4-octet
// AS numbers (RFC 6396 section 4.3.4) and the RIB family, so that the
// abbreviated MP_REACH_NLRI is understood. The result is valid until the
// next Decode.
func (rib *RIB) DecodeOptions() *DecodeOptions {
	rib.opts = DecodeOptions{ASN4: true, RIBFamily: rib.Family}
	return &rib.opts
}

// Decode decodes a RIB record body of the given TABLE_DUMP_V2 subtype.
func (rib *RIB) Decode(subtype uint16, body []byte) error {
	h := MRTHeader{Type: MRTTableDump2, Subtype: subtype}
	rib.Subtype = subtype
	rib.Entries = rib.Entries[:0]
	rib.NLRI = NLRI{}
	if !IsRIBSubtype(subtype) {
		return mrtErr(h, "not a RIB record", ErrMRTUnsupported)
	}
	rib.Family, rib.AddPath = ribFamily(subtype)
	r := newReader(body, 0)
	if !r.u32(&rib.Seq) {
		return mrtErr(h, "sequence number", ErrTruncated)
	}
	if subtype == TD2RIBGeneric || subtype == TD2RIBGenericAddPath {
		var afi uint16
		var safi uint8
		if !r.u16(&afi) || !r.u8(&safi) {
			return mrtErr(h, "AFI/SAFI", ErrTruncated)
		}
		rib.Family = Family{AFI(afi), SAFI(safi)}
	}
	n, err := nlriLen(r.b, rib.Family)
	if err != nil {
		return mrtErr(h, "prefix", err)
	}
	nb, _ := r.read(n)
	var derr *Error
	rib.nlri, derr = decodeNLRIs(rib.nlri[:0], newReader(nb, 0), rib.Family, false, "prefix")
	if derr != nil {
		return mrtErr(h, "prefix", derr)
	}
	if len(rib.nlri) != 1 {
		return mrtErr(h, "prefix", ErrTruncated)
	}
	rib.NLRI = rib.nlri[0]
	var count uint16
	if !r.u16(&count) {
		return mrtErr(h, "entry count", ErrTruncated)
	}
	// Each entry: peer index (2), originated time (4), path identifier
	// (4, ADD-PATH subtypes only), attribute length (2), attributes.
	head := 8
	if rib.AddPath {
		head = 12
	}
	b := r.b
	for i := range int(count) {
		if len(b) < head {
			return mrtErr(h, fmt.Sprintf("entry %d of %d", i, count), ErrTruncated)
		}
		n := int(be16(b[head-2:]))
		if len(b) < head+n {
			return mrtErr(h, fmt.Sprintf("entry %d of %d: attributes", i, count), ErrTruncated)
		}
		e := extend(&rib.Entries)
		e.PeerIndex, e.OriginatedTime, e.PathID = be16(b), be32(b[2:]), 0
		if rib.AddPath {
			e.PathID = be32(b[6:])
		}
		e.Attrs = b[head : head+n]
		b = b[head+n:]
	}
	return nil
}

// nlriLen returns the length of the one NLRI at the start of b.
func nlriLen(b []byte, f Family) (int, error) {
	if _, _, ip := prefixFamily(f); ip {
		if len(b) < 1 {
			return 0, ErrTruncated
		}
		n := 1 + (int(b[0])+7)/8
		if n > len(b) {
			return 0, ErrTruncated
		}
		return n, nil
	}
	r := newReader(b, 0)
	v, err := nextOpaqueNLRI(&r, f)
	return len(v), err
}

// TableDumpEntry is one route of a TABLE_DUMP (version 1) record.
type TableDumpEntry struct {
	View       uint16
	Seq        uint16
	Prefix     netip.Prefix
	Status     uint8
	Originated uint32
	PeerAddr   netip.Addr
	PeerASN    uint32
	// Attrs aliases the record body.
	Attrs []byte
}

// TableDump is a TABLE_DUMP record. Records normally hold one entry;
// early RIS dumps batch several, and all are decoded.
type TableDump struct {
	Subtype uint16
	Entries []TableDumpEntry
}

// DecodeOptions returns the options for the entries' attributes: 2-octet
// AS numbers unless the subtype is one of bgpdump's 32-bit AS ones.
func (td *TableDump) DecodeOptions() *DecodeOptions {
	f := IPv4Unicast
	asn4 := td.Subtype == TableDumpIPv4AS4 || td.Subtype == TableDumpIPv6AS4
	if td.Subtype == TableDumpIPv6 || td.Subtype == TableDumpIPv6AS4 {
		f = IPv6Unicast
	}
	if asn4 {
		if f == IPv6Unicast {
			return &td1Opts[3]
		}
		return &td1Opts[2]
	}
	if f == IPv6Unicast {
		return &td1Opts[1]
	}
	return &td1Opts[0]
}

var td1Opts = [4]DecodeOptions{
	{RIBFamily: IPv4Unicast}, {RIBFamily: IPv6Unicast},
	{ASN4: true, RIBFamily: IPv4Unicast}, {ASN4: true, RIBFamily: IPv6Unicast},
}

// Decode decodes a TABLE_DUMP body.
func (td *TableDump) Decode(subtype uint16, body []byte) error {
	h := MRTHeader{Type: MRTTableDump, Subtype: subtype}
	td.Subtype = subtype
	td.Entries = td.Entries[:0]
	alen, aslen := 4, 2
	switch subtype {
	case TableDumpIPv4:
	case TableDumpIPv6:
		alen = 16
	case TableDumpIPv4AS4:
		aslen = 4
	case TableDumpIPv6AS4:
		alen, aslen = 16, 4
	default:
		return mrtErr(h, "address family", ErrMRTUnsupported)
	}
	r := newReader(body, 0)
	for !r.empty() {
		var e TableDumpEntry
		var pfx, peer, asn []byte
		var bits uint8
		var ok bool
		if !r.u16(&e.View) || !r.u16(&e.Seq) {
			return mrtErr(h, "entry", ErrTruncated)
		}
		if pfx, ok = r.read(alen); !ok || !r.u8(&bits) || !r.u8(&e.Status) || !r.u32(&e.Originated) {
			return mrtErr(h, "entry", ErrTruncated)
		}
		if peer, ok = r.read(alen); !ok {
			return mrtErr(h, "peer", ErrTruncated)
		}
		if asn, ok = r.read(aslen); !ok {
			return mrtErr(h, "peer AS", ErrTruncated)
		}
		var attrs reader
		if !r.lenPrefixed16(&attrs) {
			return mrtErr(h, "attributes", ErrTruncated)
		}
		if int(bits) > alen*8 {
			return mrtErr(h, "prefix", fmt.Errorf("prefix length %d", bits))
		}
		e.Prefix = makePrefix(pfx, int(bits), alen == 4)
		if alen == 4 {
			e.PeerAddr = netip.AddrFrom4([4]byte(peer))
		} else {
			e.PeerAddr = netip.AddrFrom16([16]byte(peer))
		}
		if aslen == 4 {
			e.PeerASN = be32(asn)
		} else {
			e.PeerASN = uint32(be16(asn))
		}
		e.Attrs = attrs.b
		td.Entries = append(td.Entries, e)
	}
	return nil
}

// BGP4MP is a BGP4MP or BGP4MP_ET record, or a deprecated type-5 BGP
// record (which carries the same information). Decode into the same
// value again and again; slices alias the record body.
type BGP4MP struct {
	Type    MRTType
	Subtype uint16

	PeerASN   uint32
	LocalASN  uint32
	IfIndex   uint16
	AFI       AFI
	PeerAddr  netip.Addr
	LocalAddr netip.Addr

	AS4     bool // AS numbers of the record and message are 4 octets
	Local   bool // a message sent by the recording router (*_LOCAL)
	AddPath bool // NLRI carry path identifiers (*_ADDPATH)

	// Messages: the BGP message type and body (without the 19-byte
	// header, cut to the length the header gives), and the whole message
	// as recorded (Raw is nil for type-5 records, which have no header).
	IsMessage bool
	MsgType   MessageType
	MsgBody   []byte
	Raw       []byte
	// Cut is the number of bytes the message header declares beyond the
	// end of the record (a truncated message).
	Cut int

	// State changes.
	IsStateChange      bool
	OldState, NewState uint16

	// Entry is set for the obsolete BGP4MP_ENTRY records.
	IsEntry bool
	Entry   BGP4MPRoute
}

// BGP4MPRoute is the route of an obsolete BGP4MP_ENTRY record (written
// by OpenBGPD's "dump table-mp").
type BGP4MPRoute struct {
	View, Status   uint16
	OriginatedTime uint32
	Family         Family
	NextHop        []byte
	NLRI           NLRI
	Attrs          []byte
}

// DecodeOptions returns the options to decode the record's message.
func (m *BGP4MP) DecodeOptions() *DecodeOptions { return MRTDecodeOptions(m.AS4, m.AddPath) }

// Decode decodes a BGP4MP, BGP4MP_ET (its body after the microseconds)
// or type-5 BGP record.
func (m *BGP4MP) Decode(h MRTHeader, body []byte) error {
	if (h.Type == MRTBGP4MP || h.Type == MRTBGP4MPET) && slowPaths&fastBGP4MP == 0 && m.decodeMessage(h, body) {
		return nil
	}
	m.reset(h)
	if h.Type == MRTBGP {
		return m.decodeBGP(h, body)
	}
	if h.Type != MRTBGP4MP && h.Type != MRTBGP4MPET {
		return mrtErr(h, "not a BGP4MP record", ErrMRTUnsupported)
	}
	switch h.Subtype {
	case BGP4MPStateChange, BGP4MPMessage, BGP4MPMessageLocal, BGP4MPMessageAddPath, BGP4MPMessageLocalAddPath, BGP4MPEntry:
	case BGP4MPMessageAS4, BGP4MPStateChangeAS4, BGP4MPMessageAS4Local, BGP4MPMessageAS4AddPath, BGP4MPMessageAS4LocalAddPath:
		m.AS4 = true
	default:
		return mrtErr(h, "subtype", ErrMRTUnsupported)
	}
	switch h.Subtype {
	case BGP4MPMessageLocal, BGP4MPMessageAS4Local, BGP4MPMessageLocalAddPath, BGP4MPMessageAS4LocalAddPath:
		m.Local = true
	}
	switch h.Subtype {
	case BGP4MPMessageAddPath, BGP4MPMessageAS4AddPath, BGP4MPMessageLocalAddPath, BGP4MPMessageAS4LocalAddPath:
		m.AddPath = true
	}
	r := newReader(body, 0)
	aslen := 2
	if m.AS4 {
		aslen = 4
	}
	pa, ok1 := r.read(aslen)
	la, ok2 := r.read(aslen)
	var afi uint16
	if !ok1 || !ok2 {
		return mrtErr(h, "AS numbers", ErrTruncated)
	}
	if aslen == 4 {
		m.PeerASN, m.LocalASN = be32(pa), be32(la)
	} else {
		m.PeerASN, m.LocalASN = uint32(be16(pa)), uint32(be16(la))
	}
	isState := h.Subtype == BGP4MPStateChange || h.Subtype == BGP4MPStateChangeAS4
	if isState && r.len() == 4 {
		// Zebra wrote state changes without interface, AFI and addresses.
		m.IsStateChange = true
		m.AFI = AFIIPv4
		m.PeerAddr, m.LocalAddr = netip.IPv4Unspecified(), netip.IPv4Unspecified()
		r.u16(&m.OldState)
		r.u16(&m.NewState)
		return nil
	}
	if !r.u16(&m.IfIndex) || !r.u16(&afi) {
		return mrtErr(h, "interface and AFI", ErrTruncated)
	}
	m.AFI = AFI(afi)
	marker := 16
	switch m.AFI {
	case AFIIPv4, AFIIPv6:
		alen := 4
		if m.AFI == AFIIPv6 {
			alen = 16
		}
		p, ok1 := r.read(alen)
		l, ok2 := r.read(alen)
		if !ok1 || !ok2 {
			return mrtErr(h, "addresses", ErrTruncated)
		}
		if alen == 4 {
			m.PeerAddr, m.LocalAddr = netip.AddrFrom4([4]byte(p)), netip.AddrFrom4([4]byte(l))
		} else {
			m.PeerAddr, m.LocalAddr = netip.AddrFrom16([16]byte(p)), netip.AddrFrom16([16]byte(l))
		}
	case 0xffff:
		if m.IfIndex != 0xffff || isState {
			return mrtErr(h, "address family", fmt.Errorf("AFI %d", afi))
		}
		// Zebra wrote some OPENs without addresses and with 12 of the
		// 16 marker bytes.
		m.IfIndex, m.AFI = 0, AFIIPv4
		m.PeerAddr, m.LocalAddr = netip.IPv4Unspecified(), netip.IPv4Unspecified()
		marker = 12
	default:
		return mrtErr(h, "address family", fmt.Errorf("AFI %d", afi))
	}
	if isState {
		m.IsStateChange = true
		if !r.u16(&m.OldState) || !r.u16(&m.NewState) {
			return mrtErr(h, "states", ErrTruncated)
		}
		return nil
	}
	if h.Subtype == BGP4MPEntry {
		return m.decodeEntry(h, r)
	}
	m.IsMessage = true
	m.Raw = r.b
	mk, ok := r.read(marker)
	var size uint16
	var typ uint8
	if !ok || !r.u16(&size) || !r.u8(&typ) {
		return mrtErr(h, "BGP message header", ErrTruncated)
	}
	if !allOnes(mk) {
		return mrtErr(h, "BGP message header", errors.New("marker is not all ones"))
	}
	if int(size) < HeaderLen {
		return mrtErr(h, "BGP message header", fmt.Errorf("length %d", size))
	}
	m.MsgType = MessageType(typ)
	want := int(size) - HeaderLen
	if want > r.len() {
		m.Cut = want - r.len()
		want = r.len()
	}
	m.MsgBody = r.b[:want]
	if marker == 16 {
		m.Raw = m.Raw[:HeaderLen+want]
	} else {
		m.Raw = nil // not a whole message
	}
	return nil
}

// BGP4MP message subtypes as bits of bgp4mpMsgSubtypes: which subtypes
// are messages, and their properties.
const (
	mpMsg     = 1
	mpAS4     = 2
	mpLocal   = 4
	mpAddPath = 8
)

var bgp4mpMsgSubtypes = [bgp4mpMaxSubtype + 1]uint8{
	BGP4MPMessage:                mpMsg,
	BGP4MPMessageAS4:             mpMsg | mpAS4,
	BGP4MPMessageLocal:           mpMsg | mpLocal,
	BGP4MPMessageAS4Local:        mpMsg | mpAS4 | mpLocal,
	BGP4MPMessageAddPath:         mpMsg | mpAddPath,
	BGP4MPMessageAS4AddPath:      mpMsg | mpAS4 | mpAddPath,
	BGP4MPMessageLocalAddPath:    mpMsg | mpLocal | mpAddPath,
	BGP4MPMessageAS4LocalAddPath: mpMsg | mpAS4 | mpLocal | mpAddPath,
}

// decodeMessage is the fast path of Decode for the common records: a
// BGP4MP(_ET) message record with IPv4 or IPv6 addresses and a whole
// message header. It reports false, having changed nothing, for any
// other record, which Decode then decodes the general way.
func (m *BGP4MP) decodeMessage(h MRTHeader, body []byte) bool {
	if h.Subtype > bgp4mpMaxSubtype {
		return false
	}
	f := bgp4mpMsgSubtypes[h.Subtype]
	if f&mpMsg == 0 {
		return false
	}
	aslen := 2
	if f&mpAS4 != 0 {
		aslen = 4
	}
	p := 2*aslen + 4 // AS numbers, interface, AFI
	if len(body) < p {
		return false
	}
	afi := AFI(be16(body[p-2 : p]))
	alen := 4
	switch afi {
	case AFIIPv4:
	case AFIIPv6:
		alen = 16
	default:
		return false
	}
	hdr := p + 2*alen
	if len(body) < hdr+HeaderLen {
		return false
	}
	msg := body[hdr:]
	// The message header, sliced once so that its fields need no more
	// bounds checks; first the marker.
	mh := msg[:HeaderLen:HeaderLen]
	if binary.LittleEndian.Uint64(mh)&binary.LittleEndian.Uint64(mh[8:]) != ^uint64(0) {
		return false
	}
	size := int(be16(mh[16:]))
	if size < HeaderLen {
		return false
	}
	if m.IsEntry {
		m.clearEntry()
	}
	m.Type, m.Subtype = h.Type, h.Subtype
	if aslen == 4 {
		as := body[:8:8]
		m.PeerASN, m.LocalASN = be32(as), be32(as[4:])
	} else {
		as := body[:4:4]
		m.PeerASN, m.LocalASN = uint32(be16(as)), uint32(be16(as[2:]))
	}
	m.IfIndex, m.AFI = be16(body[p-4:p-2]), afi
	if alen == 4 {
		a := body[p : p+8 : p+8]
		m.PeerAddr, m.LocalAddr = netip.AddrFrom4([4]byte(a)), netip.AddrFrom4([4]byte(a[4:]))
	} else {
		a := body[p : p+32 : p+32]
		m.PeerAddr, m.LocalAddr = netip.AddrFrom16([16]byte(a)), netip.AddrFrom16([16]byte(a[16:]))
	}
	m.AS4, m.Local, m.AddPath = f&mpAS4 != 0, f&mpLocal != 0, f&mpAddPath != 0
	m.IsStateChange, m.OldState, m.NewState = false, 0, 0
	m.IsMessage, m.MsgType = true, MessageType(mh[18])
	m.Cut = 0
	if size > len(msg) {
		m.Cut = size - len(msg)
		size = len(msg)
	}
	m.Raw = msg[:size]
	m.MsgBody = msg[HeaderLen:size]
	return true
}

// clearEntry forgets the BGP4MP_ENTRY route of an earlier record. It is
// out of line so that decodeMessage stays lean.
//
//go:noinline
func (m *BGP4MP) clearEntry() {
	m.Entry = BGP4MPRoute{}
	m.IsEntry = false
}

// allOnes reports whether a marker (16 or 12 bytes) is all ones, eight
// bytes at a time.
func allOnes(mk []byte) bool {
	for len(mk) >= 8 {
		if binary.LittleEndian.Uint64(mk) != ^uint64(0) {
			return false
		}
		mk = mk[8:]
	}
	for _, b := range mk {
		if b != 0xff {
			return false
		}
	}
	return true
}

// reset empties m for a record with header h. It clears the fields one
// by one, and Entry (the bulk of the struct) only when the last record
// set it: zeroing the whole struct for every record shows in profiles.
func (m *BGP4MP) reset(h MRTHeader) {
	if m.IsEntry {
		m.Entry = BGP4MPRoute{}
	}
	m.Type, m.Subtype = h.Type, h.Subtype
	m.PeerASN, m.LocalASN, m.IfIndex, m.AFI = 0, 0, 0, 0
	m.PeerAddr, m.LocalAddr = netip.Addr{}, netip.Addr{}
	m.AS4, m.Local, m.AddPath = false, false, false
	m.IsMessage, m.MsgType, m.MsgBody, m.Raw, m.Cut = false, 0, nil, nil, 0
	m.IsStateChange, m.OldState, m.NewState = false, 0, 0
	m.IsEntry = false
}

func (m *BGP4MP) decodeEntry(h MRTHeader, r reader) error {
	e := &m.Entry
	m.IsEntry = true
	var afi uint16
	var safi uint8
	var nh reader
	if !r.u16(&e.View) || !r.u16(&e.Status) || !r.u32(&e.OriginatedTime) || !r.u16(&afi) || !r.u8(&safi) || !r.lenPrefixed8(&nh) {
		return mrtErr(h, "entry", ErrTruncated)
	}
	e.Family = Family{AFI(afi), SAFI(safi)}
	e.NextHop = nh.b
	n, err := nlriLen(r.b, e.Family)
	if err != nil {
		return mrtErr(h, "prefix", err)
	}
	nb, _ := r.read(n)
	var one [1]NLRI
	out, derr := decodeNLRIs(one[:0], newReader(nb, 0), e.Family, false, "prefix")
	if derr != nil || len(out) != 1 {
		return mrtErr(h, "prefix", ErrTruncated)
	}
	e.NLRI = out[0]
	var attrs reader
	if !r.lenPrefixed16(&attrs) {
		return mrtErr(h, "attributes", ErrTruncated)
	}
	e.Attrs = attrs.b
	return nil
}

// decodeBGP decodes a deprecated type-5 BGP record.
func (m *BGP4MP) decodeBGP(h MRTHeader, body []byte) error {
	r := newReader(body, 0)
	m.AFI = AFIIPv4
	var sas, das uint16
	switch h.Subtype {
	case mrtBGPSubtypeStateChange:
		var ip []byte
		var ok bool
		if !r.u16(&sas) {
			return mrtErr(h, "peer", ErrTruncated)
		}
		if ip, ok = r.read(4); !ok || !r.u16(&m.OldState) || !r.u16(&m.NewState) {
			return mrtErr(h, "state change", ErrTruncated)
		}
		m.IsStateChange = true
		m.PeerASN, m.PeerAddr, m.LocalAddr = uint32(sas), netip.AddrFrom4([4]byte(ip)), netip.IPv4Unspecified()
		return nil
	case mrtBGPSubtypeUpdate, mrtBGPSubtypeOpen, mrtBGPSubtypeNotify, mrtBGPSubtypeKeepalive:
	default:
		return mrtErr(h, "subtype", ErrMRTUnsupported)
	}
	var sip, dip []byte
	var ok bool
	if !r.u16(&sas) {
		return mrtErr(h, "source", ErrTruncated)
	}
	if sip, ok = r.read(4); !ok || !r.u16(&das) {
		return mrtErr(h, "source", ErrTruncated)
	}
	if dip, ok = r.read(4); !ok {
		return mrtErr(h, "destination", ErrTruncated)
	}
	m.PeerASN, m.LocalASN = uint32(sas), uint32(das)
	m.PeerAddr, m.LocalAddr = netip.AddrFrom4([4]byte(sip)), netip.AddrFrom4([4]byte(dip))
	m.IsMessage = true
	switch h.Subtype {
	case mrtBGPSubtypeUpdate:
		m.MsgType = MsgUpdate
	case mrtBGPSubtypeOpen:
		m.MsgType = MsgOpen
	case mrtBGPSubtypeNotify:
		m.MsgType = MsgNotification
	case mrtBGPSubtypeKeepalive:
		m.MsgType = MsgKeepalive
	}
	m.MsgBody = r.b
	return nil
}
