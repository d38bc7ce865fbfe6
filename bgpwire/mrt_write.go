package bgpwire

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/packet/mrt"
)

// MRTWriter writes MRT records with gobgp's mrt package: TABLE_DUMP_V2
// (PEER_INDEX_TABLE and RIB records, the RFC 8050 ADD-PATH subtypes when
// path identifiers are present) and BGP4MP_ET messages and state
// changes. gobgp's writer has no microsecond field, so BGP4MP_ET records
// get their 12-byte header and microseconds from this writer around a
// body serialized by gobgp.
//
// Path attributes and BGP messages are written as given (raw bytes), so
// nothing is lost or re-encoded; RIB attributes must use 4-octet AS
// numbers (RFC 6396 section 4.3.4). A full MP_REACH_NLRI among RIB
// attributes is shortened to the next hop, as RFC 6396 specifies.
type MRTWriter struct {
	w   io.Writer
	hdr [16]byte
}

// NewMRTWriter returns a writer of MRT records to w.
func NewMRTWriter(w io.Writer) *MRTWriter { return &MRTWriter{w: w} }

func (w *MRTWriter) write(m *mrt.MRTMessage) error {
	b, err := m.Serialize()
	if err != nil {
		return fmt.Errorf("mrt: %w", err)
	}
	_, err = w.w.Write(b)
	return err
}

// WritePeerIndexTable writes a PEER_INDEX_TABLE.
func (w *MRTWriter) WritePeerIndexTable(ts uint32, collectorID netip.Addr, view string, peers []MRTPeer) error {
	ps := make([]*mrt.Peer, len(peers))
	for i, p := range peers {
		id := p.BGPID
		if !id.IsValid() {
			id = netip.IPv4Unspecified()
		}
		ps[i] = mrt.NewPeer(id.String(), p.Addr.String(), p.ASN, true)
	}
	if !collectorID.IsValid() {
		collectorID = netip.IPv4Unspecified()
	}
	m, err := mrt.NewMRTMessage(ts, mrt.TABLE_DUMPv2, mrt.PEER_INDEX_TABLE, mrt.NewPeerIndexTable(collectorID.String(), view, ps))
	if err != nil {
		return err
	}
	return w.write(m)
}

// RIB subtypes by family, without and with ADD-PATH.
func ribSubtype(f Family, addPath bool) (mrt.MRTSubTypeTableDumpv2, error) {
	var s mrt.MRTSubTypeTableDumpv2
	switch f {
	case IPv4Unicast:
		s = mrt.RIB_IPV4_UNICAST
	case Family{AFIIPv4, SAFIMulticast}:
		s = mrt.RIB_IPV4_MULTICAST
	case IPv6Unicast:
		s = mrt.RIB_IPV6_UNICAST
	case Family{AFIIPv6, SAFIMulticast}:
		s = mrt.RIB_IPV6_MULTICAST
	default:
		return 0, fmt.Errorf("mrt: RIB of family %s: %w", f, ErrMRTUnsupported)
	}
	if addPath {
		s += mrt.RIB_IPV4_UNICAST_ADDPATH - mrt.RIB_IPV4_UNICAST
	}
	return s, nil
}

// WriteRIB writes a RIB record of an IPv4 or IPv6 unicast or multicast
// prefix. The record is RIB_*_ADDPATH when any entry has a path
// identifier.
func (w *MRTWriter) WriteRIB(ts, seq uint32, f Family, prefix netip.Prefix, entries []RIBEntry) error {
	if len(entries) == 0 {
		return fmt.Errorf("mrt: RIB record of %s without entries", prefix)
	}
	addPath := false
	for _, e := range entries {
		addPath = addPath || e.PathID != 0
	}
	sub, err := ribSubtype(f, addPath)
	if err != nil {
		return err
	}
	var pfx bgp.AddrPrefixInterface
	prefix = prefix.Masked()
	if prefix.Addr().Is4() {
		pfx = bgp.NewIPAddrPrefix(uint8(prefix.Bits()), prefix.Addr().String())
	} else {
		pfx = bgp.NewIPv6AddrPrefix(uint8(prefix.Bits()), prefix.Addr().String())
	}
	es := make([]*mrt.RibEntry, len(entries))
	for i, e := range entries {
		attrs, err := rawAttributes(e.Attrs, f)
		if err != nil {
			return err
		}
		es[i] = mrt.NewRibEntry(e.PeerIndex, e.OriginatedTime, e.PathID, attrs, addPath)
	}
	m, err := mrt.NewMRTMessage(ts, mrt.TABLE_DUMPv2, sub, mrt.NewRib(seq, pfx, es))
	if err != nil {
		return err
	}
	return w.write(m)
}

// rawAttributes wraps each attribute as gobgp's raw "unknown" attribute,
// which serializes flags, type and value unchanged, shortening a full
// MP_REACH_NLRI to its next hop.
func rawAttributes(b []byte, f Family) ([]bgp.PathAttributeInterface, error) {
	var out []bgp.PathAttributeInterface
	r := newReader(b, 0)
	for !r.empty() {
		var flags, code uint8
		var v reader
		if !r.u8(&flags) || !r.u8(&code) {
			return nil, fmt.Errorf("mrt: RIB attributes: %w", ErrTruncated)
		}
		ok := false
		if flags&FlagExtLength != 0 {
			ok = r.lenPrefixed16(&v)
		} else {
			ok = r.lenPrefixed8(&v)
		}
		if !ok {
			return nil, fmt.Errorf("mrt: RIB attribute %d: %w", code, ErrTruncated)
		}
		val := v.b
		if AttrCode(code) == AttrMPReach && len(val) >= 4 && !(int(val[0]) == len(val)-1) {
			// Full form: AFI, SAFI, next hop length, next hop, ...
			nhLen := int(val[3])
			if 4+nhLen <= len(val) {
				val = append([]byte{byte(nhLen)}, val[4:4+nhLen]...)
			}
		}
		out = append(out, bgp.NewPathAttributeUnknown(bgp.BGPAttrFlag(flags&^FlagExtLength), bgp.BGPAttrType(code), append([]byte(nil), val...)))
	}
	return out, nil
}

// BGP4MPInfo is the session context of a BGP4MP_ET record.
type BGP4MPInfo struct {
	Timestamp    uint32
	Microseconds uint32
	PeerASN      uint32
	LocalASN     uint32
	IfIndex      uint16
	PeerAddr     netip.Addr
	LocalAddr    netip.Addr
	// Local marks a message the recording router sent; AddPath one whose
	// NLRI carry path identifiers.
	Local, AddPath bool
	// TwoOctetAS marks a message of a session without 4-octet AS numbers
	// (its AS_PATH has 2-octet ASNs): the record is then MESSAGE rather
	// than MESSAGE_AS4, and its AS fields are 2 octets.
	TwoOctetAS bool
	// Seconds writes a BGP4MP record (type 16, no microseconds) instead of
	// BGP4MP_ET, as RIS's and RouteViews' updates files are.
	Seconds bool
}

func (i *BGP4MPInfo) addrs() (string, string, error) {
	p, l := i.PeerAddr, i.LocalAddr
	if !l.IsValid() {
		if p.Is4() {
			l = netip.IPv4Unspecified()
		} else {
			l = netip.IPv6Unspecified()
		}
	}
	if p.Is4() != l.Is4() {
		return "", "", fmt.Errorf("mrt: peer %s and local %s addresses of different families", p, l)
	}
	if p.Is4In6() || l.Is4In6() {
		return "", "", fmt.Errorf("mrt: IPv4-mapped addresses %s, %s", p, l)
	}
	return p.String(), l.String(), nil
}

// WriteBGP4MPMessage writes a BGP4MP_ET MESSAGE_AS4 record (or its LOCAL
// and ADDPATH variants) holding msg, a whole BGP message with its header,
// as given.
func (w *MRTWriter) WriteBGP4MPMessage(info BGP4MPInfo, msg []byte) error {
	peer, local, err := info.addrs()
	if err != nil {
		return err
	}
	var body *mrt.BGP4MPMessage
	var sub mrt.MRTSubTypeBGP4MP
	as4 := !info.TwoOctetAS
	switch {
	case info.Local && info.AddPath:
		body, sub = mrt.NewBGP4MPMessageLocalAddPath(info.PeerASN, info.LocalASN, info.IfIndex, peer, local, as4, nil), mrt.MESSAGE_AS4_LOCAL_ADDPATH
	case info.Local:
		body, sub = mrt.NewBGP4MPMessageLocal(info.PeerASN, info.LocalASN, info.IfIndex, peer, local, as4, nil), mrt.MESSAGE_AS4_LOCAL
	case info.AddPath:
		body, sub = mrt.NewBGP4MPMessageAddPath(info.PeerASN, info.LocalASN, info.IfIndex, peer, local, as4, nil), mrt.MESSAGE_AS4_ADDPATH
	default:
		body, sub = mrt.NewBGP4MPMessage(info.PeerASN, info.LocalASN, info.IfIndex, peer, local, as4, nil), mrt.MESSAGE_AS4
	}
	if !as4 {
		// The non-AS4 subtypes: MESSAGE 1, LOCAL 6, ADDPATH 8, LOCAL_ADDPATH 10.
		sub = map[mrt.MRTSubTypeBGP4MP]mrt.MRTSubTypeBGP4MP{
			mrt.MESSAGE_AS4: mrt.MESSAGE, mrt.MESSAGE_AS4_LOCAL: mrt.MESSAGE_LOCAL,
			mrt.MESSAGE_AS4_ADDPATH: mrt.MESSAGE_ADDPATH, mrt.MESSAGE_AS4_LOCAL_ADDPATH: mrt.MESSAGE_LOCAL_ADDPATH,
		}[sub]
	}
	body.BGPMessagePayload = msg
	b, err := body.Serialize()
	if err != nil {
		return fmt.Errorf("mrt: %w", err)
	}
	return w.writeET(info, uint16(sub), b)
}

// WriteBGP4MPStateChange writes a BGP4MP_ET STATE_CHANGE_AS4 record.
func (w *MRTWriter) WriteBGP4MPStateChange(info BGP4MPInfo, oldState, newState uint16) error {
	peer, local, err := info.addrs()
	if err != nil {
		return err
	}
	body := mrt.NewBGP4MPStateChange(info.PeerASN, info.LocalASN, info.IfIndex, peer, local, !info.TwoOctetAS, mrt.BGPState(oldState), mrt.BGPState(newState))
	b, err := body.Serialize()
	if err != nil {
		return fmt.Errorf("mrt: %w", err)
	}
	sub := mrt.STATE_CHANGE_AS4
	if info.TwoOctetAS {
		sub = mrt.STATE_CHANGE
	}
	return w.writeET(info, uint16(sub), b)
}

// writeET writes a BGP4MP_ET header (length = body + 4), the
// microseconds and the body; with info.Seconds, a BGP4MP header and the
// body.
func (w *MRTWriter) writeET(info BGP4MPInfo, sub uint16, body []byte) error {
	if info.Seconds {
		h := w.hdr[:12]
		binary.BigEndian.PutUint32(h[0:], info.Timestamp)
		binary.BigEndian.PutUint16(h[4:], uint16(MRTBGP4MP))
		binary.BigEndian.PutUint16(h[6:], sub)
		binary.BigEndian.PutUint32(h[8:], uint32(len(body)))
		if _, err := w.w.Write(h); err != nil {
			return err
		}
		_, err := w.w.Write(body)
		return err
	}
	h := w.hdr[:]
	binary.BigEndian.PutUint32(h[0:], info.Timestamp)
	binary.BigEndian.PutUint16(h[4:], uint16(MRTBGP4MPET))
	binary.BigEndian.PutUint16(h[6:], sub)
	binary.BigEndian.PutUint32(h[8:], uint32(len(body)+mrtETHeaderLen))
	binary.BigEndian.PutUint32(h[12:], info.Microseconds)
	if _, err := w.w.Write(h); err != nil {
		return err
	}
	_, err := w.w.Write(body)
	return err
}
