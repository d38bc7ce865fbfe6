package schema

import "net/netip"

// AddrTo16 maps an address to the 16 bytes stored in ClickHouse's
// FixedString(16) columns: IPv6 as is, IPv4 as IPv4-mapped IPv6
// (::ffff:a.b.c.d). The invalid address maps to 16 zero bytes.
func AddrTo16(a netip.Addr) [16]byte {
	if !a.IsValid() {
		return [16]byte{}
	}
	return a.As16()
}

// AddrFrom16 is the inverse of AddrTo16: IPv4-mapped addresses come back
// as IPv4, all-zero bytes as the invalid address.
func AddrFrom16(b [16]byte) netip.Addr {
	if b == ([16]byte{}) {
		return netip.Addr{}
	}
	return netip.AddrFrom16(b).Unmap()
}

// PrefixTo16 returns the stored form of a prefix: its address as AddrTo16
// and its length as written (0-32 for IPv4, 0-128 for IPv6). The family
// follows from the address being IPv4-mapped.
func PrefixTo16(p netip.Prefix) ([16]byte, uint8) {
	return AddrTo16(p.Addr()), uint8(p.Bits())
}

// PrefixFrom16 is the inverse of PrefixTo16.
func PrefixFrom16(b [16]byte, bits uint8) netip.Prefix {
	a := netip.AddrFrom16(b)
	if a.Is4In6() {
		return netip.PrefixFrom(a.Unmap(), int(bits))
	}
	return netip.PrefixFrom(a, int(bits))
}
