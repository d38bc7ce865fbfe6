package bgpwire

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// RD is a route distinguisher (RFC 4364) as its 8 wire bytes.
type RD [8]byte

// IsZero reports whether the RD is all zero (also: absent).
func (rd RD) IsZero() bool { return rd == RD{} }

// String writes the RD as TYPE-specific text: ASN:N or IP:N.
func (rd RD) String() string {
	switch be16(rd[:2]) {
	case 0:
		return fmt.Sprintf("%d:%d", be16(rd[2:4]), be32(rd[4:8]))
	case 1:
		return fmt.Sprintf("%s:%d", netip.AddrFrom4([4]byte(rd[2:6])), be16(rd[6:8]))
	case 2:
		return fmt.Sprintf("%d:%d", be32(rd[2:6]), be16(rd[6:8]))
	}
	return fmt.Sprintf("0x%x", rd[:])
}

// ParseRD reads what RD.String writes. "ASN:N" is ambiguous between type
// 0 (2-octet ASN, 4-octet number) and type 2 (4-octet ASN, 2-octet
// number): it is type 0 when both fit, type 2 when only that fits.
func ParseRD(s string) (RD, error) {
	var rd RD
	bad := fmt.Errorf("route distinguisher %q: want ASN:N, IP:N or 0xHEX of 8 bytes", s)
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != 8 {
			return rd, bad
		}
		return RD(b), nil
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return rd, bad
	}
	admin, num := s[:i], s[i+1:]
	if a, err := netip.ParseAddr(admin); err == nil && a.Is4() {
		n, err := strconv.ParseUint(num, 10, 16)
		if err != nil {
			return rd, bad
		}
		rd[1] = 1
		copy(rd[2:6], a.AsSlice())
		binary.BigEndian.PutUint16(rd[6:], uint16(n))
		return rd, nil
	}
	asn, err1 := strconv.ParseUint(admin, 10, 32)
	n, err2 := strconv.ParseUint(num, 10, 32)
	switch {
	case err1 != nil || err2 != nil:
		return rd, bad
	case asn <= 0xffff:
		binary.BigEndian.PutUint16(rd[2:], uint16(asn))
		binary.BigEndian.PutUint32(rd[4:], uint32(n))
	case n <= 0xffff:
		rd[1] = 2
		binary.BigEndian.PutUint32(rd[2:], uint32(asn))
		binary.BigEndian.PutUint16(rd[6:], uint16(n))
	default:
		return rd, bad
	}
	return rd, nil
}

// maxLabels is the number of MPLS labels an NLRI carries inline.
const maxLabels = 4

// Labels is an MPLS label stack (RFC 3032 entries of 3 octets as carried
// in NLRI, RFC 8277): the 20-bit label, 3 traffic-class bits and the
// bottom-of-stack bit of each entry.
type Labels struct {
	n int8
	v [maxLabels]uint32
}

// Len returns the number of labels.
func (l *Labels) Len() int { return int(l.n) }

// At returns the i-th label value (20 bits).
func (l *Labels) At(i int) uint32 { return l.v[i] >> 4 }

// Entry returns the i-th label stack entry as its 24 wire bits.
func (l *Labels) Entry(i int) uint32 { return l.v[i] }

// Append adds a label value (its traffic class and bottom-of-stack bits
// zero; the encoder sets bottom-of-stack on the last label). Labels beyond
// the inline capacity are dropped.
func (l *Labels) Append(v uint32) { l.AppendEntry(v << 4) }

// AppendEntry adds a 24-bit label stack entry as it is on the wire.
func (l *Labels) AppendEntry(e uint32) {
	if int(l.n) < maxLabels {
		l.v[l.n] = e & 0xffffff
		l.n++
	}
}

// NLRI is one route of a network layer reachability field. IP-prefix
// families fill Prefix (and RD and Labels for VPN and labeled families);
// other families (FlowSpec, EVPN, VPLS, BGP-LS, unknown) keep the NLRI
// bytes in Raw, owned by the NLRI, and have typed decoders (DecodeFlowSpec,
// DecodeEVPN, DecodeVPLS, DecodeLS) and a canonical text form (Text).
type NLRI struct {
	PathID uint32 // ADD-PATH path identifier, 0 when not negotiated
	Prefix netip.Prefix
	RD     RD
	Labels Labels
	Raw    []byte
}

// prefixFamily reports whether NLRI of the family are IP prefixes,
// optionally behind labels and an RD.
func prefixFamily(f Family) (labeled, vpn, ok bool) {
	if f.AFI != AFIIPv4 && f.AFI != AFIIPv6 {
		return false, false, false
	}
	switch f.SAFI {
	case SAFIUnicast, SAFIMulticast:
		return false, false, true
	case SAFILabeled:
		return true, false, true
	case SAFIVPN, SAFIVPNMulticast:
		return true, true, true
	}
	return false, false, false
}

// IsPrefixFamily reports whether the NLRI of f are IP prefixes (unicast,
// multicast, labeled, VPN), decoded into NLRI.Prefix.
func IsPrefixFamily(f Family) bool {
	_, _, ok := prefixFamily(f)
	return ok
}

// decodeNLRIs appends every NLRI of r (of family f) to dst. Errors are
// session-reset class (the NLRI cannot be delimited); the caller
// re-classifies for MP attributes.
func decodeNLRIs(dst []NLRI, r reader, f Family, addPath bool, op string) ([]NLRI, *Error) {
	return decodeNLRIsFrom(dst, r.b, 0, r.off, f, addPath, op)
}

// decodeNLRIsFrom is decodeNLRIs for the NLRI in b[start:], the first
// byte at message offset off. The bytes before start let the prefix
// decoder load whole words near the end of the field.
func decodeNLRIsFrom(dst []NLRI, b []byte, start, off int, f Family, addPath bool, op string) ([]NLRI, *Error) {
	if start >= len(b) {
		return dst, nil // an empty field (most withdrawn routes fields)
	}
	if alen := plainAddrLen(f, addPath); alen != 0 && slowPaths&fastNLRI == 0 {
		dst, i, ok := decodePrefixes(dst, b, start, alen)
		if !ok {
			return dst, prefixError(b, i, off-start, alen, op)
		}
		return dst, nil
	}
	return decodeNLRIsGeneral(dst, reader{b: b[start:], off: off}, f, addPath, op)
}

// plainAddrLen returns the address length of a family whose NLRI are
// plain prefixes (IPv4 or IPv6 unicast or multicast, without path
// identifiers), which decodePrefixes decodes, or 0.
func plainAddrLen(f Family, addPath bool) int {
	if addPath || (f.SAFI != SAFIUnicast && f.SAFI != SAFIMulticast) {
		return 0
	}
	return f.addrLen()
}

// decodeNLRIsGeneral is decodeNLRIs for every family but plain prefixes
// without path identifiers.
func decodeNLRIsGeneral(dst []NLRI, r reader, f Family, addPath bool, op string) ([]NLRI, *Error) {
	labeled, vpn, ipfam := prefixFamily(f)
	alen := f.addrLen()
	for !r.empty() {
		start := r.off
		n := extend(&dst) // reusing the slot's Raw capacity
		raw := n.Raw[:0]
		*n = NLRI{}
		if addPath && !r.u32(&n.PathID) {
			return dst[:len(dst)-1], newError(op+": path identifier", start, CodeUpdateMessage, SubcodeInvalidNetworkField, ActionSessionReset, ErrTruncated)
		}
		if !ipfam {
			b, err := nextOpaqueNLRI(&r, f)
			if err != nil {
				return dst[:len(dst)-1], newError(op+": nlri "+f.String(), start, CodeUpdateMessage, SubcodeInvalidNetworkField, ActionSessionReset, err)
			}
			n.Raw = append(raw, b...)
			continue
		}
		n.Raw = raw
		var bits uint8
		if !r.u8(&bits) {
			return dst[:len(dst)-1], newError(op+": prefix length", start, CodeUpdateMessage, SubcodeInvalidNetworkField, ActionSessionReset, ErrTruncated)
		}
		nbits := int(bits)
		if labeled {
			// Labels until the bottom-of-stack bit (RFC 8277); a withdrawal
			// may carry 0x800000 or 0x000000 as a single compatibility label.
			for {
				lb, ok := r.read(3)
				if !ok || nbits < 24 {
					return dst[:len(dst)-1], newError(op+": label", start, CodeUpdateMessage, SubcodeInvalidNetworkField, ActionSessionReset, ErrTruncated)
				}
				nbits -= 24
				v := uint32(lb[0])<<16 | uint32(lb[1])<<8 | uint32(lb[2])
				n.Labels.AppendEntry(v)
				if v&1 == 1 || v == 0x800000 || v == 0 {
					break
				}
			}
		}
		if vpn {
			rd, ok := r.read(8)
			if !ok || nbits < 64 {
				return dst[:len(dst)-1], newError(op+": route distinguisher", start, CodeUpdateMessage, SubcodeInvalidNetworkField, ActionSessionReset, ErrTruncated)
			}
			nbits -= 64
			n.RD = RD(rd)
		}
		if nbits > alen*8 {
			return dst[:len(dst)-1], errorf(op+": prefix", start, CodeUpdateMessage, SubcodeInvalidNetworkField, ActionSessionReset, "prefix length %d exceeds %d", nbits, alen*8)
		}
		pb, ok := r.read((nbits + 7) / 8)
		if !ok {
			return dst[:len(dst)-1], newError(op+": prefix", start, CodeUpdateMessage, SubcodeInvalidNetworkField, ActionSessionReset, ErrTruncated)
		}
		n.Prefix = makePrefix(pb, nbits, alen == 4)
	}
	return dst, nil
}

// decodePrefixes is the fast path of decodeNLRIs for plain prefixes.
func decodePrefixes(dst []NLRI, b []byte, start, alen int) ([]NLRI, int, bool) {
	maxBits := alen * 8
	for i := start; i < len(b); {
		bits := int(b[i])
		nb := (bits + 7) >> 3
		if bits > maxBits || i+1+nb > len(b) {
			return dst, i, false
		}
		var p netip.Prefix
		if maxBits == 32 {
			// Four bytes loaded whatever the length, from after the
			// length octet or, near the end of b, ending with the prefix,
			// so that mixed prefix lengths cost no mispredicted branches;
			// the mask clears what is not the prefix. (Written here, not
			// in a function, because the compiler does not inline it.)
			var v uint32
			if i+5 <= len(b) {
				v = binary.BigEndian.Uint32(b[i+1 : i+5])
			} else if end := i + 1 + nb; end >= 4 {
				v = binary.BigEndian.Uint32(b[end-4:end]) << (8 * (4 - nb)) // a shift of 32 gives 0
			} else {
				v = prefix4Tail(b, i, bits)
			}
			v &= prefix4Masks[bits&63] // bits <= 32 here
			var a [4]byte
			binary.BigEndian.PutUint32(a[:], v)
			p = netip.PrefixFrom(netip.AddrFrom4(a), bits)
		} else {
			// The same for IPv6 with two 8-byte loads; near the end of b
			// the 16 bytes ending with the prefix, shifted into place.
			var hi, lo uint64
			if i+17 <= len(b) {
				w := b[i+1 : i+17] // one bounds check for both loads
				hi, lo = binary.BigEndian.Uint64(w), binary.BigEndian.Uint64(w[8:])
			} else if end := i + 1 + nb; end >= 16 {
				w := b[end-16 : end]
				hi, lo = binary.BigEndian.Uint64(w), binary.BigEndian.Uint64(w[8:])
				s := uint(16-nb) * 8 // the bytes before the prefix, in bits
				if s >= 64 {
					hi, lo = lo<<(s-64), 0 // a shift of 64 gives 0
				} else {
					hi, lo = hi<<s|lo>>(64-s), lo<<s
				}
			} else {
				p = makePrefix(b[i+1:i+1+nb], bits, false)
				goto store
			}
			if bits < 64 {
				hi &^= ^uint64(0) >> uint(bits)
				lo = 0
			} else {
				lo &^= ^uint64(0) >> uint(bits-64) // a shift of 64 gives 0
			}
			var a [16]byte
			binary.BigEndian.PutUint64(a[:], hi)
			binary.BigEndian.PutUint64(a[8:], lo)
			p = netip.PrefixFrom(netip.AddrFrom16(a), bits)
		}
	store:
		i += 1 + nb
		if len(dst) == cap(dst) {
			dst = append(dst, NLRI{})
		} else {
			dst = dst[:len(dst)+1]
		}
		n := &dst[len(dst)-1]
		// Field by field, and Raw only when it is not already empty: the
		// common case then stores one pointer (the prefix's zone). Labels
		// is cleared through its fields: a composite literal is built on
		// the stack and copied with overlapping loads that stall store
		// forwarding.
		n.PathID = 0
		n.Prefix = p
		n.RD = RD{}
		n.Labels.n = 0
		n.Labels.v = [maxLabels]uint32{}
		if len(n.Raw) != 0 {
			n.Raw = n.Raw[:0]
		}
	}
	return dst, 0, true
}

// prefixError describes the malformed prefix at b[i] that decodePrefixes
// stopped at; off is the message offset of b[0].
func prefixError(b []byte, i, off, alen int, op string) *Error {
	if bits := int(b[i]); bits > alen*8 {
		return errorf(op+": prefix", off+i, CodeUpdateMessage, SubcodeInvalidNetworkField, ActionSessionReset, "prefix length %d exceeds %d", bits, alen*8)
	}
	return newError(op+": prefix", off+i, CodeUpdateMessage, SubcodeInvalidNetworkField, ActionSessionReset, ErrTruncated)
}

// prefix4Masks[n] keeps the first n bits of an IPv4 address.
var prefix4Masks = func() (m [64]uint32) {
	for n := 1; n <= 32; n++ {
		m[n] = ^uint32(0) << (32 - n)
	}
	return m
}()

// prefix4Tail loads the bytes of an IPv4 prefix one by one, for a field
// shorter than four bytes. It is kept out of line, as it is rare.
//
//go:noinline
func prefix4Tail(b []byte, i, bits int) uint32 {
	var v uint32
	for k, c := range b[i+1 : i+1+(bits+7)>>3] {
		v |= uint32(c) << (24 - 8*k)
	}
	return v
}

// makePrefix builds a masked prefix from its significant bytes (bits is
// at most the address length, and b holds (bits+7)/8 bytes or more).
func makePrefix(b []byte, bits int, v4 bool) netip.Prefix {
	if v4 {
		var v uint32
		for i := 0; i < 4 && i < len(b); i++ {
			v |= uint32(b[i]) << (24 - 8*i)
		}
		if bits < 32 {
			v &^= 0xffffffff >> bits
		}
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), bits)
	}
	var a [16]byte
	copy(a[:], b)
	if bits < 128 {
		k := bits / 8
		if bits%8 != 0 {
			a[k] &^= 0xff >> (bits % 8)
			k++
		}
		clear(a[k:])
	}
	return netip.PrefixFrom(netip.AddrFrom16(a), bits)
}

// nextOpaqueNLRI delimits one NLRI of a family whose NLRI are not plain
// prefixes, by that family's length rules.
func nextOpaqueNLRI(r *reader, f Family) ([]byte, error) {
	need := func(n int) ([]byte, error) {
		b, ok := r.read(n)
		if !ok {
			return nil, fmt.Errorf("nlri of %d bytes overruns the field: %w", n, ErrTruncated)
		}
		return b, nil
	}
	if r.len() < 1 {
		return nil, ErrTruncated
	}
	switch {
	case f.SAFI == SAFIFlowSpec || f.SAFI == SAFIFlowSpecVPN:
		// RFC 8955: 1 or 2 octet length (0xf0 marks the 2-octet form).
		l, hl := int(r.b[0]), 1
		if l >= 0xf0 {
			if r.len() < 2 {
				return nil, ErrTruncated
			}
			l, hl = int(be16(r.b)&0x0fff), 2
		}
		return need(hl + l)
	case f.AFI == AFIL2VPN && f.SAFI == SAFIEVPN, f.SAFI == SAFIMVPN:
		// RFC 7432, RFC 6514: route type, length, value.
		if r.len() < 2 {
			return nil, ErrTruncated
		}
		return need(2 + int(r.b[1]))
	case f.AFI == AFIL2VPN && f.SAFI == SAFIVPLS:
		// RFC 4761: 2-octet length in octets.
		if r.len() < 2 {
			return nil, ErrTruncated
		}
		return need(2 + int(be16(r.b)))
	case f.AFI == AFILS:
		// RFC 7752: NLRI type (2), length (2), value.
		if r.len() < 4 {
			return nil, ErrTruncated
		}
		return need(4 + int(be16(r.b[2:])))
	case f.SAFI == SAFISRPolicy, f.SAFI == SAFIRTC:
		// RFC 9830 SR Policy, RFC 4684 RT constraint: length in bits.
		return need(1 + (int(r.b[0])+7)/8)
	case f.SAFI == SAFIMUP:
		// draft-ietf-bess-mup-safi: architecture type (1), route type (2),
		// length (1), value.
		if r.len() < 4 {
			return nil, ErrTruncated
		}
		return need(4 + int(r.b[3]))
	}
	// Unknown family: the rest is one opaque NLRI.
	b, _ := r.read(r.len())
	return b, nil
}
