package schema

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// FieldError reports a value that cannot be read into an event field.
type FieldError struct {
	Field  string
	Value  string
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Reason)
}

// Origin is the ORIGIN attribute. The zero value means absent.
type Origin uint8

// Origin values. The wire value is the constant minus one.
const (
	OriginAbsent Origin = iota
	OriginIGP
	OriginEGP
	OriginIncomplete
)

// OriginFromWire maps the ORIGIN attribute's wire value (0, 1, 2) to an
// Origin.
func OriginFromWire(v uint8) Origin {
	if v > 2 {
		return OriginAbsent
	}
	return Origin(v + 1)
}

func (o Origin) String() string {
	switch o {
	case OriginIGP:
		return "IGP"
	case OriginEGP:
		return "EGP"
	case OriginIncomplete:
		return "INCOMPLETE"
	}
	return ""
}

// IsZero reports whether the attribute is absent (for omitzero).
func (o Origin) IsZero() bool { return o == OriginAbsent }

// MarshalText writes IGP, EGP or INCOMPLETE.
func (o Origin) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText reads IGP, EGP or INCOMPLETE (any case).
func (o *Origin) UnmarshalText(b []byte) error {
	switch strings.ToUpper(string(b)) {
	case "IGP":
		*o = OriginIGP
	case "EGP":
		*o = OriginEGP
	case "INCOMPLETE":
		*o = OriginIncomplete
	case "":
		*o = OriginAbsent
	default:
		return &FieldError{Field: "origin", Value: string(b), Reason: "want IGP, EGP or INCOMPLETE"}
	}
	return nil
}

// Family is an address family: AFI and SAFI. The zero value means none.
type Family struct {
	AFI  uint16
	SAFI uint8
}

// Families with names (DESIGN.md: AFI/SAFI in lower case).
var (
	IPv4Unicast     = Family{1, 1}
	IPv6Unicast     = Family{2, 1}
	IPv4Multicast   = Family{1, 2}
	IPv6Multicast   = Family{2, 2}
	IPv4Labeled     = Family{1, 4}
	IPv6Labeled     = Family{2, 4}
	IPv4VPN         = Family{1, 128}
	IPv6VPN         = Family{2, 128}
	IPv4FlowSpec    = Family{1, 133}
	IPv6FlowSpec    = Family{2, 133}
	IPv4FlowSpecVPN = Family{1, 134}
	IPv6FlowSpecVPN = Family{2, 134}
	L2VPNEVPN       = Family{25, 70}
	L2VPNVPLS       = Family{25, 65}
	LinkState       = Family{16388, 71}
)

var familyNames = map[Family]string{
	IPv4Unicast:     "ipv4/unicast",
	IPv6Unicast:     "ipv6/unicast",
	IPv4Multicast:   "ipv4/multicast",
	IPv6Multicast:   "ipv6/multicast",
	IPv4Labeled:     "ipv4/labeled",
	IPv6Labeled:     "ipv6/labeled",
	IPv4VPN:         "ipv4/vpn",
	IPv6VPN:         "ipv6/vpn",
	IPv4FlowSpec:    "ipv4/flowspec",
	IPv6FlowSpec:    "ipv6/flowspec",
	IPv4FlowSpecVPN: "ipv4/flowspec-vpn",
	IPv6FlowSpecVPN: "ipv6/flowspec-vpn",
	L2VPNEVPN:       "l2vpn/evpn",
	L2VPNVPLS:       "l2vpn/vpls",
	LinkState:       "ls/ls",
}

// String returns the lower-case AFI/SAFI name, or "AFI/SAFI" numbers for
// families without a name.
func (f Family) String() string {
	if n, ok := familyNames[f]; ok {
		return n
	}
	return string(f.appendText(nil))
}

// appendText appends String's form. The unicast families, in nearly
// every event, skip the map.
func (f Family) appendText(b []byte) []byte {
	switch f {
	case IPv4Unicast:
		return append(b, "ipv4/unicast"...)
	case IPv6Unicast:
		return append(b, "ipv6/unicast"...)
	}
	if n, ok := familyNames[f]; ok {
		return append(b, n...)
	}
	b = strconv.AppendUint(b, uint64(f.AFI), 10)
	b = append(b, '/')
	return strconv.AppendUint(b, uint64(f.SAFI), 10)
}

// IsZero reports whether no family is set (for omitzero).
func (f Family) IsZero() bool { return f == Family{} }

// MarshalText writes the family name.
func (f Family) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText reads a family name.
func (f *Family) UnmarshalText(b []byte) error {
	p, err := ParseFamily(string(b))
	if err != nil {
		return err
	}
	*f = p
	return nil
}

// ParseFamily reads a family name such as "ipv6/unicast" or "1/128".
func ParseFamily(s string) (Family, error) {
	for f, n := range familyNames {
		if n == s {
			return f, nil
		}
	}
	a, b, ok := strings.Cut(s, "/")
	if ok {
		afi, err1 := strconv.ParseUint(a, 10, 16)
		safi, err2 := strconv.ParseUint(b, 10, 8)
		if err1 == nil && err2 == nil {
			return Family{uint16(afi), uint8(safi)}, nil
		}
	}
	return Family{}, &FieldError{Field: "family", Value: s, Reason: "want a name such as ipv4/unicast or AFI/SAFI numbers"}
}

// SegmentType is the type of an AS_PATH segment.
type SegmentType uint8

// AS_PATH segment types (RFC 4271, RFC 5065).
const (
	SegmentSet            SegmentType = 1
	SegmentSequence       SegmentType = 2
	SegmentConfedSequence SegmentType = 3
	SegmentConfedSet      SegmentType = 4
)

// Segment is one AS_PATH segment.
type Segment struct {
	Type SegmentType
	ASNs []uint32
}

// ASPath is an AS_PATH (with AS4_PATH merged in). Its JSON form is RIS
// Live's: a flat array of ASNs, with each AS_SET as a nested array.
// Confederation segments are written as objects {"confed_sequence": [...]}
// or {"confed_set": [...]} so that no information is lost.
type ASPath []Segment

// MarshalJSON writes the RIS Live form.
func (p ASPath) MarshalJSON() ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	return p.appendJSON(make([]byte, 0, 16+8*len(p))), nil
}

// UnmarshalJSON reads the RIS Live form.
func (p *ASPath) UnmarshalJSON(b []byte) error {
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return err
	}
	var out ASPath
	for _, it := range items {
		var asn uint32
		if err := json.Unmarshal(it, &asn); err == nil {
			if n := len(out); n > 0 && out[n-1].Type == SegmentSequence {
				out[n-1].ASNs = append(out[n-1].ASNs, asn)
			} else {
				out = append(out, Segment{Type: SegmentSequence, ASNs: []uint32{asn}})
			}
			continue
		}
		var set []uint32
		if err := json.Unmarshal(it, &set); err == nil {
			out = append(out, Segment{Type: SegmentSet, ASNs: set})
			continue
		}
		var confed struct {
			Seq []uint32 `json:"confed_sequence"`
			Set []uint32 `json:"confed_set"`
		}
		if err := json.Unmarshal(it, &confed); err != nil {
			return &FieldError{Field: "path", Value: string(it), Reason: "want an ASN, an array of ASNs or a confederation segment"}
		}
		if confed.Seq != nil {
			out = append(out, Segment{Type: SegmentConfedSequence, ASNs: confed.Seq})
		} else {
			out = append(out, Segment{Type: SegmentConfedSet, ASNs: confed.Set})
		}
	}
	*p = out
	return nil
}

// Flat returns the ASNs of the path in order, sets and confederation
// segments included, as bgpdump and most filters see them.
func (p ASPath) Flat() []uint32 {
	var out []uint32
	for _, s := range p {
		out = append(out, s.ASNs...)
	}
	return out
}

// OriginASN returns the last ASN of the path when the path ends in a
// sequence, and 0 otherwise.
func (p ASPath) OriginASN() uint32 {
	if len(p) == 0 {
		return 0
	}
	last := p[len(p)-1]
	if last.Type != SegmentSequence || len(last.ASNs) == 0 {
		return 0
	}
	return last.ASNs[len(last.ASNs)-1]
}

// String writes the path as bgpdump does: ASNs separated by spaces, sets
// in braces, confederation segments in parentheses or brackets.
func (p ASPath) String() string {
	var b strings.Builder
	for i, s := range p {
		if i > 0 {
			b.WriteByte(' ')
		}
		open, sep, close := "", " ", ""
		switch s.Type {
		case SegmentSet:
			open, sep, close = "{", ",", "}"
		case SegmentConfedSequence:
			open, close = "(", ")"
		case SegmentConfedSet:
			open, sep, close = "[", ",", "]"
		}
		b.WriteString(open)
		for j, a := range s.ASNs {
			if j > 0 {
				b.WriteString(sep)
			}
			b.WriteString(strconv.FormatUint(uint64(a), 10))
		}
		b.WriteString(close)
	}
	return b.String()
}

// Community is a standard community (RFC 1997): [ASN, value], written as
// a two-element array as RIS Live does.
type Community [2]uint16

// Uint32 returns the community as one 32-bit number.
func (c Community) Uint32() uint32 { return uint32(c[0])<<16 | uint32(c[1]) }

// CommunityFromUint32 splits a 32-bit community.
func CommunityFromUint32(v uint32) Community { return Community{uint16(v >> 16), uint16(v)} }

func (c Community) String() string {
	return strconv.Itoa(int(c[0])) + ":" + strconv.Itoa(int(c[1]))
}

// LargeCommunity is a large community (RFC 8092): [global, local1, local2].
type LargeCommunity [3]uint32

func (c LargeCommunity) String() string {
	return fmt.Sprintf("%d:%d:%d", c[0], c[1], c[2])
}

// ExtCommunity is an extended community (RFC 4360) or an IPv6
// address-specific extended community (RFC 5701), as its wire bytes
// (8 or 20). Its JSON form is a readable string (see String).
type ExtCommunity []byte

// String writes well-known kinds readably (rt:ASN:N, soo:ASN:N,
// rt:IP:N, ...) and anything else as 0xHEX.
func (c ExtCommunity) String() string { return string(c.appendText(nil)) }

// appendText appends String's form.
func (c ExtCommunity) appendText(b []byte) []byte {
	kind := func(sub byte) string {
		switch sub {
		case 0x02:
			return "rt"
		case 0x03:
			return "soo"
		}
		return ""
	}
	if len(c) == 8 {
		if k := kind(c[1]); k != "" {
			switch c[0] & 0x3f {
			case 0x00: // 2-octet AS specific
				b = append(b, k...)
				b = append(b, ':')
				b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint16(c[2:])), 10)
				b = append(b, ':')
				return strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(c[4:])), 10)
			case 0x01: // IPv4 address specific
				b = append(b, k...)
				b = append(b, ':')
				b = netip.AddrFrom4([4]byte(c[2:6])).AppendTo(b)
				b = append(b, ':')
				return strconv.AppendUint(b, uint64(binary.BigEndian.Uint16(c[6:])), 10)
			case 0x02: // 4-octet AS specific
				b = append(b, k...)
				b = append(b, ':')
				b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(c[2:])), 10)
				b = append(b, ':')
				return strconv.AppendUint(b, uint64(binary.BigEndian.Uint16(c[6:])), 10)
			}
		}
	}
	if len(c) == 20 && c[0]&0x3f == 0x00 {
		if k := kind(c[1]); k != "" { // IPv6 address specific
			b = append(b, k...)
			b = append(b, ':')
			b = netip.AddrFrom16([16]byte(c[2:18])).AppendTo(b)
			b = append(b, ':')
			return strconv.AppendUint(b, uint64(binary.BigEndian.Uint16(c[18:])), 10)
		}
	}
	b = append(b, "0x"...)
	return hex.AppendEncode(b, c)
}

// MarshalText writes String.
func (c ExtCommunity) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads what MarshalText writes.
func (c *ExtCommunity) UnmarshalText(b []byte) error {
	s := string(b)
	bad := &FieldError{Field: "ext_community", Value: s, Reason: "want rt:ASN:N, rt:IP:N, soo:..., or 0xHEX of 8 or 20 bytes"}
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		v, err := hexDecode(h)
		if err != nil || (len(v) != 8 && len(v) != 20) {
			return bad
		}
		*c = v
		return nil
	}
	kind, rest, ok := strings.Cut(s, ":")
	var sub byte
	switch kind {
	case "rt":
		sub = 0x02
	case "soo":
		sub = 0x03
	default:
		return bad
	}
	i := strings.LastIndexByte(rest, ':')
	if !ok || i < 0 {
		return bad
	}
	global, local := rest[:i], rest[i+1:]
	if a, err := netip.ParseAddr(global); err == nil {
		n, err := strconv.ParseUint(local, 10, 16)
		if err != nil {
			return bad
		}
		if a.Is4() {
			v := a.As4()
			*c = ExtCommunity{0x01, sub, v[0], v[1], v[2], v[3], byte(n >> 8), byte(n)}
		} else {
			v := a.As16()
			out := append([]byte{0x00, sub}, v[:]...)
			*c = append(out, byte(n>>8), byte(n))
		}
		return nil
	}
	asn, err := strconv.ParseUint(global, 10, 32)
	if err != nil {
		return bad
	}
	if asn <= 0xffff {
		n, err := strconv.ParseUint(local, 10, 32)
		if err != nil {
			return bad
		}
		*c = ExtCommunity{0x00, sub, byte(asn >> 8), byte(asn), byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
		return nil
	}
	n, err := strconv.ParseUint(local, 10, 16)
	if err != nil {
		return bad
	}
	*c = ExtCommunity{0x02, sub, byte(asn >> 24), byte(asn >> 16), byte(asn >> 8), byte(asn), byte(n >> 8), byte(n)}
	return nil
}

func hexDecode(s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, fmt.Errorf("odd length")
	}
	out := make([]byte, len(s)/2)
	for i := range out {
		v, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, err
		}
		out[i] = byte(v)
	}
	return out, nil
}
