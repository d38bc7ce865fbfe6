package bgpwire

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"

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
	buf []byte
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
//
// It is encoded here rather than by gobgp (whose encoding of a RIB record
// allocates per attribute and took a sixth of a RIB export's time), to
// the same bytes: the attributes as given, each with the extended length
// flag exactly when its value is longer than 255 bytes.
func (w *MRTWriter) WriteRIB(ts, seq uint32, f Family, prefix netip.Prefix, entries []RIBEntry) error {
	if len(entries) == 0 {
		return fmt.Errorf("mrt: RIB record of %s without entries", prefix)
	}
	if len(entries) > 0xffff {
		return fmt.Errorf("mrt: RIB record of %s with %d entries (at most 65535)", prefix, len(entries))
	}
	addPath := false
	for _, e := range entries {
		addPath = addPath || e.PathID != 0
	}
	sub, err := ribSubtype(f, addPath)
	if err != nil {
		return err
	}
	prefix = prefix.Masked()
	if !prefix.IsValid() || prefix.Addr().Is4() != (f.AFI == AFIIPv4) {
		return fmt.Errorf("mrt: RIB record of family %s: prefix %s", f, prefix)
	}
	b := append(w.buf[:0], make([]byte, 12)...)
	b = binary.BigEndian.AppendUint32(b, seq)
	bits := prefix.Bits()
	b = append(b, byte(bits))
	if prefix.Addr().Is4() {
		a := prefix.Addr().As4()
		b = append(b, a[:(bits+7)/8]...)
	} else {
		a := prefix.Addr().As16()
		b = append(b, a[:(bits+7)/8]...)
	}
	return w.finishRIB(b, ts, uint16(sub), prefix.String(), entries, addPath)
}

// WriteRIBGeneric writes a RIB_GENERIC record (RIB_GENERIC_ADDPATH when
// any entry has a path identifier) of n, an NLRI of family f as
// MP_REACH_NLRI carries it: a labeled or VPN prefix (Prefix, Labels, RD)
// or the bytes of another family's NLRI (Raw).
func (w *MRTWriter) WriteRIBGeneric(ts, seq uint32, f Family, n NLRI, entries []RIBEntry) error {
	if len(entries) == 0 {
		return fmt.Errorf("mrt: RIB_GENERIC record of %s without entries", n.Text(f))
	}
	if len(entries) > 0xffff {
		return fmt.Errorf("mrt: RIB_GENERIC record of %s with %d entries (at most 65535)", n.Text(f), len(entries))
	}
	addPath := false
	for _, e := range entries {
		addPath = addPath || e.PathID != 0
	}
	sub := TD2RIBGeneric
	if addPath {
		sub = TD2RIBGenericAddPath
	}
	if _, _, ipfam := prefixFamily(f); ipfam && !n.Prefix.IsValid() || !ipfam && len(n.Raw) == 0 {
		return fmt.Errorf("mrt: RIB_GENERIC record of family %s without its NLRI", f)
	}
	n.PathID = 0
	n.Prefix = n.Prefix.Masked()
	b := append(w.buf[:0], make([]byte, 12)...)
	b = binary.BigEndian.AppendUint32(b, seq)
	b = binary.BigEndian.AppendUint16(b, uint16(f.AFI))
	b = append(b, byte(f.SAFI))
	b = appendNLRIs(b, []NLRI{n}, f, false)
	return w.finishRIB(b, ts, sub, n.Text(f), entries, addPath)
}

// finishRIB appends a RIB record's entries to b, which holds the record
// up to them after a 12-byte space for the MRT header, fills in the
// header and writes the record.
func (w *MRTWriter) finishRIB(b []byte, ts uint32, sub uint16, what string, entries []RIBEntry, addPath bool) error {
	var err error
	b = binary.BigEndian.AppendUint16(b, uint16(len(entries)))
	for _, e := range entries {
		b = binary.BigEndian.AppendUint16(b, e.PeerIndex)
		b = binary.BigEndian.AppendUint32(b, e.OriginatedTime)
		if addPath {
			b = binary.BigEndian.AppendUint32(b, e.PathID)
		}
		at := len(b)
		b = append(b, 0, 0)
		if b, err = appendRIBEntryAttrs(b, e.Attrs); err != nil {
			return err
		}
		n := len(b) - at - 2
		if n > 0xffff {
			return fmt.Errorf("mrt: RIB entry of %s: %d bytes of attributes (at most 65535)", what, n)
		}
		binary.BigEndian.PutUint16(b[at:], uint16(n))
	}
	binary.BigEndian.PutUint32(b, ts)
	binary.BigEndian.PutUint16(b[4:], uint16(13)) // TABLE_DUMP_V2
	binary.BigEndian.PutUint16(b[6:], sub)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	w.buf = b
	_, err = w.w.Write(b)
	return err
}

// appendRIBEntryAttrs appends the attributes b (flags, type, length,
// value each) as a RIB entry has them: a full MP_REACH_NLRI shortened to
// its next hop, the extended length flag set exactly on values longer
// than 255 bytes.
func appendRIBEntryAttrs(dst, b []byte) ([]byte, error) {
	r := newReader(b, 0)
	for !r.empty() {
		var flags, code uint8
		var v reader
		if !r.u8(&flags) || !r.u8(&code) {
			return dst, fmt.Errorf("mrt: RIB attributes: %w", ErrTruncated)
		}
		ok := false
		if flags&FlagExtLength != 0 {
			ok = r.lenPrefixed16(&v)
		} else {
			ok = r.lenPrefixed8(&v)
		}
		if !ok {
			return dst, fmt.Errorf("mrt: RIB attribute %d: %w", code, ErrTruncated)
		}
		val := v.b
		var nh []byte
		if AttrCode(code) == AttrMPReach && len(val) >= 4 && !(int(val[0]) == len(val)-1) {
			// Full form: AFI, SAFI, next hop length, next hop, ...
			if n := int(val[3]); 4+n <= len(val) {
				nh, val = val[3:4+n], nil
			}
		}
		n := len(val) + len(nh)
		flags &^= FlagExtLength
		if n > 255 {
			dst = append(dst, flags|FlagExtLength, code, byte(n>>8), byte(n))
		} else {
			dst = append(dst, flags, code, byte(n))
		}
		dst = append(append(dst, nh...), val...)
	}
	return dst, nil
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
