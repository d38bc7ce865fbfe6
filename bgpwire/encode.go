package bgpwire

import (
	"math/bits"
	"net/netip"
)

// AppendWire appends the whole UPDATE message, encoded for a session with
// the options opt (4-octet ASNs, ADD-PATH families). An UPDATE decoded
// with the same options is written back byte for byte, attributes in
// their wire order with their wire flags; attributes set by hand follow
// in type code order with their standard flags.
func (u *Update) AppendWire(dst []byte, opt *DecodeOptions) []byte {
	start := len(dst)
	dst = AppendHeader(dst, MsgUpdate, 0)
	dst = u.AppendBody(dst, opt)
	putU16(dst[start+16:], uint16(len(dst)-start))
	return dst
}

// AppendBody appends the UPDATE body (the message without its header).
func (u *Update) AppendBody(dst []byte, opt *DecodeOptions) []byte {
	at := len(dst)
	dst = append(dst, 0, 0)
	dst = appendNLRIs(dst, u.Withdrawn, IPv4Unicast, opt.addPath(IPv4Unicast))
	putU16(dst[at:], uint16(len(dst)-at-2))
	at = len(dst)
	dst = append(dst, 0, 0)
	dst = u.Attrs.AppendWire(dst, opt)
	putU16(dst[at:], uint16(len(dst)-at-2))
	return appendNLRIs(dst, u.NLRI, IPv4Unicast, opt.addPath(IPv4Unicast))
}

// AppendWire appends the path attributes section (without its length).
// With opt.RIBFamily set, MP_REACH_NLRI is written in the abbreviated form
// of MRT RIB entries (RFC 6396 section 4.3.4) when it was decoded so or
// carries no NLRI.
func (a *Attributes) AppendWire(dst []byte, opt *DecodeOptions) []byte {
	var done [4]uint64
	asn4 := opt.asn4()
	// On a 2-octet session, 4-octet ASNs travel in AS4_PATH and
	// AS4_AGGREGATOR (RFC 6793 section 4.2.2).
	genAS4Path := !asn4 && a.Has(AttrASPath) && !a.Has(AttrAS4Path) && a.wirePath == nil && a.ASPath.needsAS4()
	genAS4Agg := !asn4 && a.Has(AttrAggregator) && !a.Has(AttrAS4Aggregator) && a.Aggregator.ASN > 0xffff
	want := func(c AttrCode) bool {
		if done[c>>6]&(1<<(c&63)) != 0 {
			return false
		}
		switch {
		case a.Has(c):
			return true
		case c == AttrAS4Path:
			return genAS4Path
		case c == AttrAS4Aggregator:
			return genAS4Agg
		}
		_, ok := a.OtherAttr(c)
		return ok
	}
	for _, m := range a.wire {
		if want(m.code) {
			dst = a.appendAttr(dst, m.code, m.flags, opt)
			done[m.code>>6] |= 1 << (m.code & 63)
		}
	}
	// The rest in type code order: those present, the generated AS4
	// ones, and those of Other.
	cands := a.present
	mark := func(c AttrCode) { cands[c>>6] |= 1 << (c & 63) }
	if genAS4Path {
		mark(AttrAS4Path)
	}
	if genAS4Agg {
		mark(AttrAS4Aggregator)
	}
	for _, o := range a.Other {
		mark(o.Code)
	}
	for w, bitsLeft := range cands {
		for bitsLeft != 0 {
			c := AttrCode(w<<6 + bits.TrailingZeros64(bitsLeft))
			bitsLeft &= bitsLeft - 1
			if want(c) {
				dst = a.appendAttr(dst, c, defaultFlags(c), opt)
			}
		}
	}
	return dst
}

// appendAttr appends one attribute: header, then value, growing to the
// extended length form when the value needs it.
func (a *Attributes) appendAttr(dst []byte, c AttrCode, flags uint8, opt *DecodeOptions) []byte {
	start := len(dst)
	ext := flags&FlagExtLength != 0
	dst = append(dst, flags, byte(c), 0)
	if ext {
		dst = append(dst, 0)
	}
	vstart := len(dst)
	dst = a.appendValue(dst, c, opt)
	n := len(dst) - vstart
	switch {
	case ext:
		putU16(dst[vstart-2:], uint16(n))
	case n <= 255:
		dst[vstart-1] = byte(n)
	default:
		dst = append(dst, 0)
		copy(dst[vstart+1:], dst[vstart:vstart+n])
		dst[start] |= FlagExtLength
		putU16(dst[vstart-1:], uint16(n))
	}
	return dst
}

func (a *Attributes) appendValue(dst []byte, c AttrCode, opt *DecodeOptions) []byte {
	asn4 := opt.asn4()
	if o, ok := a.OtherAttr(c); ok {
		return append(dst, o.Value...)
	}
	switch c {
	case AttrOrigin:
		return append(dst, a.Origin)
	case AttrASPath:
		if a.wirePath != nil && !asn4 {
			return appendASPath(dst, a.wirePath, false)
		}
		return appendASPath(dst, a.ASPath, asn4)
	case AttrAS4Path:
		if a.Has(AttrAS4Path) {
			return appendASPath(dst, a.AS4Path, true)
		}
		return appendASPath(dst, a.ASPath, true)
	case AttrNextHop:
		return appendAddr4(dst, a.NextHop)
	case AttrMED:
		return appendU32(dst, a.MED)
	case AttrLocalPref:
		return appendU32(dst, a.LocalPref)
	case AttrOTC:
		return appendU32(dst, a.OTC)
	case AttrAtomicAggregate:
		return dst
	case AttrAggregator:
		ag := a.Aggregator
		if a.wireAggregator.Address.IsValid() && !asn4 {
			ag = a.wireAggregator
		}
		if asn4 {
			dst = appendU32(dst, ag.ASN)
		} else {
			asn := ag.ASN
			if asn > 0xffff {
				asn = ASTrans
			}
			dst = appendU16(dst, uint16(asn))
		}
		return appendAddr4(dst, ag.Address)
	case AttrAS4Aggregator:
		ag := a.AS4Aggregator
		if !a.Has(AttrAS4Aggregator) {
			ag = a.Aggregator
		}
		return appendAddr4(appendU32(dst, ag.ASN), ag.Address)
	case AttrCommunities:
		for _, v := range a.Communities {
			dst = appendU32(dst, v)
		}
		return dst
	case AttrOriginatorID:
		return appendAddr4(dst, a.OriginatorID)
	case AttrClusterList:
		for _, v := range a.ClusterList {
			dst = appendAddr4(dst, v)
		}
		return dst
	case AttrExtCommunities:
		for _, v := range a.ExtCommunities {
			dst = append(dst, v[:]...)
		}
		return dst
	case AttrIPv6ExtCommunities:
		for _, v := range a.IPv6ExtCommunities {
			dst = append(dst, v[:]...)
		}
		return dst
	case AttrLargeCommunity:
		for _, v := range a.LargeCommunities {
			dst = appendU32(appendU32(appendU32(dst, v[0]), v[1]), v[2])
		}
		return dst
	case AttrAIGP:
		dst = append(dst, 1, 0, 11)
		return appendU32(appendU32(dst, uint32(a.AIGP>>32)), uint32(a.AIGP))
	case AttrMPReach:
		m := &a.MPReach
		nh := m.appendNextHop(nil)
		if opt.ribFamily() != (Family{}) && (m.abbreviated || len(m.NLRI) == 0) {
			return append(append(dst, byte(len(nh))), nh...)
		}
		dst = appendU16(dst, uint16(m.Family.AFI))
		dst = append(dst, byte(m.Family.SAFI), byte(len(nh)))
		dst = append(dst, nh...)
		dst = append(dst, m.Reserved)
		return appendNLRIs(dst, m.NLRI, m.Family, opt.addPath(m.Family))
	case AttrMPUnreach:
		m := &a.MPUnreach
		dst = appendU16(dst, uint16(m.Family.AFI))
		dst = append(dst, byte(m.Family.SAFI))
		return appendNLRIs(dst, m.NLRI, m.Family, opt.addPath(m.Family))
	}
	return dst
}

func appendAddr4(dst []byte, a netip.Addr) []byte {
	if !a.Is4() {
		return append(dst, 0, 0, 0, 0)
	}
	b := a.As4()
	return append(dst, b[:]...)
}

func appendAddr(dst []byte, a netip.Addr, v6 bool) []byte {
	if v6 || a.Is6() {
		b := a.As16()
		return append(dst, b[:]...)
	}
	return appendAddr4(dst, a)
}

// appendNextHop appends the next hop field: NextHopRaw when it says what
// the typed fields say (so that odd encodings survive), else built from
// NextHop, LinkLocal and NextHopRD.
func (m *MPReach) appendNextHop(dst []byte) []byte {
	if len(m.NextHopRaw) > 0 || !m.NextHop.IsValid() {
		var t MPReach
		decodeNextHop(&t, m.NextHopRaw)
		if t.NextHop == m.NextHop && t.LinkLocal == m.LinkLocal && t.NextHopRD == m.NextHopRD {
			return append(dst, m.NextHopRaw...)
		}
	}
	if !m.NextHop.IsValid() {
		return dst
	}
	vpn := m.Family.SAFI == SAFIVPN || m.Family.SAFI == SAFIVPNMulticast || !m.NextHopRD.IsZero()
	v6 := m.NextHop.Is6() || m.LinkLocal.IsValid()
	if vpn {
		dst = append(dst, m.NextHopRD[:]...)
	}
	dst = appendAddr(dst, m.NextHop, v6)
	if m.LinkLocal.IsValid() {
		if vpn {
			dst = append(dst, make([]byte, 8)...)
		}
		dst = appendAddr(dst, m.LinkLocal, true)
	}
	return dst
}

// appendNLRIs appends NLRI of the family.
func appendNLRIs(dst []byte, nlri []NLRI, f Family, addPath bool) []byte {
	labeled, vpn, ipfam := prefixFamily(f)
	for i := range nlri {
		n := &nlri[i]
		if addPath {
			dst = appendU32(dst, n.PathID)
		}
		if !ipfam || !n.Prefix.IsValid() {
			dst = append(dst, n.Raw...)
			continue
		}
		bits := n.Prefix.Bits()
		nl := n.Labels.Len()
		if labeled {
			bits += 24 * max(nl, 1)
		}
		if vpn {
			bits += 64
		}
		dst = append(dst, byte(bits))
		if labeled {
			if nl == 0 {
				dst = append(dst, 0x80, 0, 0)
			}
			for j := range nl {
				e := n.Labels.Entry(j)
				if j == nl-1 && e != 0x800000 && e != 0 {
					e |= 1
				}
				dst = append(dst, byte(e>>16), byte(e>>8), byte(e))
			}
		}
		if vpn {
			dst = append(dst, n.RD[:]...)
		}
		pb := (n.Prefix.Bits() + 7) / 8
		if n.Prefix.Addr().Is4() {
			b := n.Prefix.Addr().As4()
			dst = append(dst, b[:pb]...)
		} else {
			b := n.Prefix.Addr().As16()
			dst = append(dst, b[:pb]...)
		}
	}
	return dst
}
