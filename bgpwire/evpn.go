package bgpwire

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// EVPNRouteType is the route type of an EVPN NLRI.
type EVPNRouteType uint8

// EVPN route types (RFC 7432, RFC 9136).
const (
	EVPNEthernetAD  EVPNRouteType = 1
	EVPNMACIP       EVPNRouteType = 2
	EVPNMulticast   EVPNRouteType = 3
	EVPNEthernetSeg EVPNRouteType = 4
	EVPNIPPrefix    EVPNRouteType = 5
)

func (t EVPNRouteType) String() string {
	switch t {
	case EVPNEthernetAD:
		return "ethernet-ad"
	case EVPNMACIP:
		return "mac-ip"
	case EVPNMulticast:
		return "multicast"
	case EVPNEthernetSeg:
		return "ethernet-segment"
	case EVPNIPPrefix:
		return "ip-prefix"
	}
	return "type-" + strconv.Itoa(int(t))
}

// ESI is an Ethernet segment identifier (RFC 7432 section 5).
type ESI [10]byte

func (e ESI) String() string {
	if e == (ESI{}) {
		return "0"
	}
	var b strings.Builder
	for i, x := range e {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02x", x)
	}
	return b.String()
}

// MAC is a 48-bit MAC address.
type MAC [6]byte

func (m MAC) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// EVPN is a decoded EVPN NLRI. Which fields are meaningful depends on
// Type; Value holds the route's bytes for types this package does not
// decode.
type EVPN struct {
	Type        EVPNRouteType
	RD          RD
	ESI         ESI
	EthernetTag uint32
	MAC         MAC
	MACLen      uint8
	IP          netip.Addr   // MAC/IP address; originator router IP (types 3, 4)
	Prefix      netip.Prefix // IP prefix (type 5)
	Gateway     netip.Addr   // gateway IP (type 5)
	Labels      Labels
	Value       []byte // unknown route types
}

// ErrEVPN is wrapped by EVPN decoding errors.
var ErrEVPN = errors.New("malformed evpn route")

// DecodeEVPN decodes one EVPN NLRI (route type, length, value), as kept
// in NLRI.Raw.
func DecodeEVPN(raw []byte) (EVPN, error) {
	var e EVPN
	r := newReader(raw, 0)
	var t uint8
	var v reader
	if !r.u8(&t) || !r.lenPrefixed8(&v) || !r.empty() {
		return e, fmt.Errorf("%w: route length: %w", ErrEVPN, ErrTruncated)
	}
	e.Type = EVPNRouteType(t)
	bad := func(what string) (EVPN, error) {
		return e, fmt.Errorf("%w: %s route: %s", ErrEVPN, e.Type, what)
	}
	rd := func() bool {
		b, ok := v.read(8)
		if ok {
			e.RD = RD(b)
		}
		return ok
	}
	esi := func() bool {
		b, ok := v.read(10)
		if ok {
			e.ESI = ESI(b)
		}
		return ok
	}
	ip := func(dst *netip.Addr) bool {
		var bits uint8
		if !v.u8(&bits) {
			return false
		}
		switch bits {
		case 0:
			return true
		case 32, 128:
			b, ok := v.read(int(bits) / 8)
			if ok {
				*dst, _ = netip.AddrFromSlice(b)
			}
			return ok
		}
		return false
	}
	label := func() bool {
		b, ok := v.read(3)
		if ok {
			e.Labels.AppendEntry(uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]))
		}
		return ok
	}
	switch e.Type {
	case EVPNEthernetAD:
		if !rd() || !esi() || !v.u32(&e.EthernetTag) || !label() || !v.empty() {
			return bad("length")
		}
	case EVPNMACIP:
		if !rd() || !esi() || !v.u32(&e.EthernetTag) || !v.u8(&e.MACLen) {
			return bad("length")
		}
		m, ok := v.read(6)
		if !ok || e.MACLen != 48 {
			return bad("MAC address")
		}
		e.MAC = MAC(m)
		if !ip(&e.IP) || !label() {
			return bad("IP address or label")
		}
		if !v.empty() && !label() || !v.empty() {
			return bad("length")
		}
	case EVPNMulticast:
		if !rd() || !v.u32(&e.EthernetTag) || !ip(&e.IP) || !v.empty() {
			return bad("length")
		}
	case EVPNEthernetSeg:
		if !rd() || !esi() || !ip(&e.IP) || !v.empty() {
			return bad("length")
		}
	case EVPNIPPrefix:
		// RFC 9136: 34 octets for IPv4, 58 for IPv6.
		var bits uint8
		if !rd() || !esi() || !v.u32(&e.EthernetTag) || !v.u8(&bits) {
			return bad("length")
		}
		alen := 4
		if len(raw) == 2+58 {
			alen = 16
		} else if len(raw) != 2+34 {
			return bad("length")
		}
		if int(bits) > alen*8 {
			return bad("prefix length")
		}
		pb, _ := v.read(alen)
		gw, _ := v.read(alen)
		e.Prefix = makePrefix(pb, int(bits), alen == 4)
		e.Gateway, _ = netip.AddrFromSlice(gw)
		if !label() || !v.empty() {
			return bad("length")
		}
	default:
		e.Value = append([]byte(nil), v.b...)
	}
	return e, nil
}

// String writes the canonical text form: the route type name, then
// "key value" pairs (rd, esi, etag, mac, ip, prefix, gw, label).
func (e *EVPN) String() string {
	var b strings.Builder
	b.WriteString(e.Type.String())
	kv := func(k, v string) { b.WriteString(" " + k + " " + v) }
	labels := func() {
		for i := range e.Labels.Len() {
			kv("label", strconv.FormatUint(uint64(e.Labels.At(i)), 10))
		}
	}
	switch e.Type {
	case EVPNEthernetAD:
		kv("rd", e.RD.String())
		kv("esi", e.ESI.String())
		kv("etag", strconv.FormatUint(uint64(e.EthernetTag), 10))
		labels()
	case EVPNMACIP:
		kv("rd", e.RD.String())
		kv("esi", e.ESI.String())
		kv("etag", strconv.FormatUint(uint64(e.EthernetTag), 10))
		kv("mac", e.MAC.String())
		if e.IP.IsValid() {
			kv("ip", e.IP.String())
		}
		labels()
	case EVPNMulticast:
		kv("rd", e.RD.String())
		kv("etag", strconv.FormatUint(uint64(e.EthernetTag), 10))
		kv("ip", e.IP.String())
	case EVPNEthernetSeg:
		kv("rd", e.RD.String())
		kv("esi", e.ESI.String())
		kv("ip", e.IP.String())
	case EVPNIPPrefix:
		kv("rd", e.RD.String())
		kv("esi", e.ESI.String())
		kv("etag", strconv.FormatUint(uint64(e.EthernetTag), 10))
		kv("prefix", e.Prefix.String())
		kv("gw", e.Gateway.String())
		labels()
	default:
		kv("value", fmt.Sprintf("0x%x", e.Value))
	}
	return b.String()
}
